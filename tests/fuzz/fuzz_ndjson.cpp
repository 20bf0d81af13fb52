// libFuzzer target for canonical NDJSON parsing: splits the input into lines, parses each, and
// reads back every field of every parsed event, checking the parser's promises.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/ndjson/event_parser.hpp"
#include "dsl/schema.hpp"
#include "dsl/value.hpp"
#include "engine/core/event.hpp"

namespace {

// Touches every byte so the sanitizers see any read out of bounds.
uint64_t Consume(std::string_view bytes) {
  uint64_t sum = 0;
  for (char c : bytes) sum = sum * 31 + static_cast<unsigned char>(c);
  return sum;
}

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

uint64_t ReadBack(const aisle::engine::Event& event) {
  uint64_t sum = 0;
  const auto& schema = event.schema();
  Check(schema.kind == event.kind());
  for (size_t slot = 0; slot < schema.fields.size(); ++slot) {
    aisle::dsl::Value v = event.Get(static_cast<int>(slot));
    // A field is absent or has its schema type.
    Check(v.is_null() || v.type == schema.fields[slot].type);
    switch (v.type) {
      case aisle::dsl::Type::kString:
        sum += Consume(v.str());
        break;
      case aisle::dsl::Type::kMoney:
        Check(v.currency != 0);
        sum += static_cast<uint64_t>(v.i) + v.currency;
        break;
      case aisle::dsl::Type::kDecimal:
        sum += static_cast<uint64_t>(v.d != 0.0);
        break;
      case aisle::dsl::Type::kBool:
        sum += v.b ? 1 : 0;
        break;
      case aisle::dsl::Type::kNull:
        break;
      default:
        sum += static_cast<uint64_t>(v.i);
    }
  }
  Check(!event.id().empty() && !event.store().empty());
  Check(event.Get(aisle::dsl::kSlotTs).type == aisle::dsl::Type::kTimestamp);
  for (size_t i = 0; i < event.extra_count(); ++i) {
    sum += Consume(event.extra_name(i)) + Consume(event.extra_text(i));
    std::string_view text;
    Check(event.FindExtra(event.extra_name(i), text));
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static aisle::connectors::EventParser parser;  // reused, as a reader would
  static aisle::engine::Event event;
  std::string reason;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  volatile uint64_t sink = 0;
  while (!input.empty()) {
    size_t newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    reason.clear();
    if (parser.Parse(line, event, reason)) {
      sink = sink + ReadBack(event);
    } else {
      Check(!reason.empty() && reason.find('\n') == std::string::npos);
    }
  }
  return 0;
}
