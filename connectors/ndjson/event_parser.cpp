#include "connectors/ndjson/event_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <vector>

#include "connectors/json/json_text.hpp"
#include "dsl/money.hpp"
#include "dsl/schema.hpp"
#include "dsl/time.hpp"
#include "dsl/value.hpp"

namespace aisle::connectors {

namespace ondemand = simdjson::ondemand;

namespace {

using json::AppendPrintable;
using json::FindControlCharacter;
using json::IsJsonNumber;
using json::TrimLeft;
using json::TrimRight;

std::string_view DescribeError(simdjson::error_code error) {
  return json::DescribeSimdjsonError(static_cast<int>(error));
}

// Nested values only occur in extras, which canonical events rarely have; a bound keeps the
// validating walk's recursion shallow on any thread's stack.
constexpr int kMaxNesting = 64;
// Above this many keys, duplicate detection sorts instead of comparing every pair.
constexpr size_t kLinearDuplicateScan = 32;

enum class JsonKind : uint8_t { kString, kNumber, kBool, kNull, kObject, kArray };

// One key/value of the event object, collected before the stream (and so the schema) is known.
// Views point into the padded line or the simdjson string buffer: valid until the next Parse.
struct Pair {
  std::string_view key;   // unescaped
  std::string_view raw;   // the value's JSON text, without surrounding whitespace
  std::string_view text;  // unescaped for strings, the JSON text otherwise
  JsonKind kind = JsonKind::kNull;
  bool flag = false;  // the value of a kBool
};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
// Field name -> slot of one stream by open addressing: one string compare per lookup instead of
// one per field (dsl::StreamSchema::Slot), which matters at a million lines a second.
class SlotIndex {
 public:
  SlotIndex() { entries_.fill(-1); }
  explicit SlotIndex(const dsl::StreamSchema& schema) : schema_(&schema) {
    entries_.fill(-1);
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      size_t h = Hash(schema.fields[i].name);
      while (entries_[h] >= 0) h = (h + 1) & kMask;
      entries_[h] = static_cast<int8_t>(i);
    }
  }
  // The slot of `key`, or -1.
  int Find(std::string_view key) const {
    if (key.empty() || schema_ == nullptr) return -1;
    for (size_t h = Hash(key);; h = (h + 1) & kMask) {
      int slot = entries_[h];
      if (slot < 0 || schema_->fields[static_cast<size_t>(slot)].name == key) return slot;
    }
  }

 private:
  static constexpr size_t kSize = 64;  // > 2 * kMaxSlots: probing always meets an empty entry
  static constexpr size_t kMask = kSize - 1;
  static_assert(kSize > 2 * dsl::kMaxSlots);
  static size_t Hash(std::string_view s) {
    return (s.size() * 31 + static_cast<unsigned char>(s.front()) * 7 +
            static_cast<unsigned char>(s.back())) &
           kMask;
  }
  const dsl::StreamSchema* schema_ = nullptr;
  std::array<int8_t, kSize> entries_{};
};

// Skips a run of digits from `i`; returns how many there were.
size_t SkipDigits(std::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i - start;
}

// The decimal text dsl::ParseScaled accepts: [+-]?digits[.digits]([eE][+-]?digits)?, with digits
// on at least one side of the point. Used to tell "not a number" from "out of range".
bool IsDecimalText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = SkipDigits(s, i);
  if (i < s.size() && s[i] == '.') {
    ++i;
    digits += SkipDigits(s, i);
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (SkipDigits(s, i) == 0) return false;
  }
  return i == s.size();
}

// "field 'name': <what>, got <raw>"; returns false for `return FieldError(...)`.
bool FieldError(std::string& reason, std::string_view key, std::string_view what,
                std::string_view raw) {
  reason = "field '";
  AppendPrintable(reason, key);
  reason += "': ";
  reason += what;
  reason += ", got ";
  AppendPrintable(reason, raw);
  return false;
}

bool DuplicateKey(std::string_view key, std::string& reason) {
  reason = "duplicate key '";
  AppendPrintable(reason, key);
  reason += "'";
  return false;
}

bool MissingField(std::string& reason, std::string_view key, std::string_view note = {}) {
  reason = "missing required field '";
  reason += key;
  reason += "'";
  reason += note;
  return false;
}

bool TrailingContent(std::string_view rest, std::string& reason) {
  reason = "trailing content after the object: ";
  AppendPrintable(reason, rest);
  return false;
}

// The offset just past the first complete JSON value of `s` that starts with '{' or '[' (brackets
// counted outside strings), or npos when it never closes. Only used to explain an error.
size_t EndOfFirstValue(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth <= 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

bool LiteralError(std::string_view raw, std::string& reason) {
  reason = "invalid JSON: invalid literal ";
  AppendPrintable(reason, raw);
  reason += " (true, false or null expected)";
  return false;
}

enum class NumberStatus : uint8_t { kOk, kMalformed, kOutOfRange };

// An integer from "-?[0-9]+" text.
NumberStatus ParseIntText(std::string_view s, int64_t& out) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (SkipDigits(s, i) == 0 || i != s.size()) return NumberStatus::kMalformed;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) return NumberStatus::kOutOfRange;
  if (ec != std::errc() || ptr != s.data() + s.size()) return NumberStatus::kMalformed;
  return NumberStatus::kOk;
}

// A finite double from decimal text (never "inf", "nan" or hex, which from_chars would take).
NumberStatus ParseDecimalText(std::string_view s, double& out) {
  if (!IsDecimalText(s)) return NumberStatus::kMalformed;
  if (s[0] == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) return NumberStatus::kOutOfRange;
  if (ec != std::errc() || ptr != s.data() + s.size()) return NumberStatus::kMalformed;
  if (!std::isfinite(out)) return NumberStatus::kOutOfRange;
  return NumberStatus::kOk;
}

}  // namespace

struct EventParser::Impl {
  Impl();

  ondemand::parser parser;
  ondemand::document doc;
  std::vector<char> padded;      // the line plus simdjson's padding; grows, never shrinks
  std::vector<Pair> pairs;       // the object's members in order
  std::vector<uint32_t> extras;  // indexes into `pairs` of keys the schema does not name
  std::array<SlotIndex, dsl::kStreamKindCount> slot_index;
  const char* base = nullptr;  // start of the padded line
  size_t length = 0;

  bool Collect(std::string_view line, std::string& reason);
  bool ReadValue(ondemand::value& value, Pair& pair, std::string& reason);
  bool Walk(ondemand::value& value, int depth, std::string& reason);
  bool CheckDuplicateExtras(std::string& reason);
  bool Build(engine::Event& event, std::string& reason);
  bool JsonError(simdjson::error_code error, std::string& reason);
  bool ObjectError(simdjson::error_code error, std::string_view line, std::string& reason);
};

bool EventParser::Impl::JsonError(simdjson::error_code error, std::string& reason) {
  reason = "invalid JSON: ";
  reason += DescribeError(error);
  const char* location = nullptr;
  // Where an unclosed object was noticed (its start, or the end of the line) helps nobody.
  if (base != nullptr && error != simdjson::INCOMPLETE_ARRAY_OR_OBJECT &&
      !doc.current_location().get(location) && location >= base && location <= base + length) {
    reason += " near byte ";
    reason += std::to_string(location - base + 1);
  }
  return false;
}

bool EventParser::Impl::Collect(std::string_view line, std::string& reason) {
  pairs.clear();
  base = nullptr;
  length = line.size();
  // On-Demand does not check for raw control characters (a NUL inside a string would pass); JSON
  // allows none outside its whitespace.
  if (size_t at = FindControlCharacter(line); at != std::string_view::npos) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "invalid JSON: control character 0x%02x at byte %zu",
                  static_cast<unsigned char>(line[at]), at + 1);
    reason = buf;
    return false;
  }
  if (TrimLeft(line).empty()) {
    reason = "empty line";
    return false;
  }
  size_t capacity = line.size() + simdjson::SIMDJSON_PADDING;
  if (padded.size() < capacity) padded.resize(capacity);
  std::copy(line.begin(), line.end(), padded.begin());
  // Stale bytes of a longer earlier line in the padding could read as a closing brace.
  std::fill_n(padded.begin() + static_cast<std::ptrdiff_t>(line.size()), simdjson::SIMDJSON_PADDING,
              '\0');
  if (auto error = parser.iterate(padded.data(), line.size(), padded.size()).get(doc)) {
    return JsonError(error, reason);
  }
  base = padded.data();

  ondemand::object object;
  if (auto error = doc.get_object().get(object)) {
    if (error != simdjson::INCORRECT_TYPE) return ObjectError(error, line, reason);
    reason = "not a JSON object: ";
    AppendPrintable(reason, TrimRight(TrimLeft(line)));
    return false;
  }
  for (auto member : object) {
    // Working on the simdjson_result avoids moving each field out of it.
    Pair& pair = pairs.emplace_back();
    if (auto error = member.unescaped_key().get(pair.key)) return ObjectError(error, line, reason);
    ondemand::value value;
    if (auto error = member.value().get(value)) return JsonError(error, reason);
    if (!ReadValue(value, pair, reason)) return false;
  }
  // current_location() is OUT_OF_BOUNDS exactly when the object was the last token.
  const char* location = nullptr;
  if (auto error = doc.current_location().get(location); error != simdjson::OUT_OF_BOUNDS) {
    std::string_view rest;
    if (!error && location >= base && location <= base + length) {
      rest = std::string_view(location, static_cast<size_t>(base + length - location));
    }
    return TrailingContent(rest, reason);
  }
  return true;
}

bool EventParser::Impl::ObjectError(simdjson::error_code error, std::string_view line,
                                    std::string& reason) {
  // On-Demand reports "{...} x" as an unclosed object (its last token is not '}'); tell the two
  // apart by finding where the first object closes.
  if (error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
    size_t end = EndOfFirstValue(line);
    if (end != std::string_view::npos && !TrimLeft(line.substr(end)).empty()) {
      return TrailingContent(TrimRight(TrimLeft(line.substr(end))), reason);
    }
  }
  return JsonError(error, reason);
}

bool EventParser::Impl::ReadValue(ondemand::value& value, Pair& pair, std::string& reason) {
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return JsonError(error, reason);
  std::string_view token = value.raw_json_token();
  switch (type) {
    case ondemand::json_type::string:
      pair.kind = JsonKind::kString;
      pair.raw = TrimRight(token);
      if (auto error = value.get_string().get(pair.text)) return JsonError(error, reason);
      return true;
    case ondemand::json_type::number:
      pair.kind = JsonKind::kNumber;
      pair.raw = pair.text = TrimRight(token);
      if (!IsJsonNumber(pair.raw)) {
        reason = "invalid JSON: malformed number ";
        AppendPrintable(reason, pair.raw);
        return false;
      }
      return true;
    case ondemand::json_type::boolean:
      pair.kind = JsonKind::kBool;
      pair.raw = pair.text = TrimRight(token);
      if (value.get_bool().get(pair.flag)) return LiteralError(pair.raw, reason);
      return true;
    case ondemand::json_type::null: {
      pair.kind = JsonKind::kNull;
      pair.raw = pair.text = TrimRight(token);
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) return LiteralError(pair.raw, reason);
      return true;
    }
    case ondemand::json_type::object:
    case ondemand::json_type::array: {
      pair.kind = type == ondemand::json_type::object ? JsonKind::kObject : JsonKind::kArray;
      const char* start = token.data();
      if (!Walk(value, 1, reason)) return false;
      // The walk leaves the iterator on the token after the value (',' or '}' of the event).
      const char* end = nullptr;
      if (auto error = doc.current_location().get(end)) {
        // Past the end: the nested value closed but the event object never did.
        return JsonError(
            error == simdjson::OUT_OF_BOUNDS ? simdjson::INCOMPLETE_ARRAY_OR_OBJECT : error,
            reason);
      }
      if (end < start || end > base + length) return JsonError(simdjson::TAPE_ERROR, reason);
      pair.raw = pair.text = TrimRight(std::string_view(start, static_cast<size_t>(end - start)));
      return true;
    }
  }
  return JsonError(simdjson::TAPE_ERROR, reason);
}

bool EventParser::Impl::Walk(ondemand::value& value, int depth, std::string& reason) {
  // Skipping a nested value would not validate it; extras keep their text, so it must be JSON.
  if (depth > kMaxNesting) {
    reason = "invalid JSON: nested deeper than " + std::to_string(kMaxNesting) + " levels";
    return false;
  }
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return JsonError(error, reason);
  switch (type) {
    case ondemand::json_type::object: {
      ondemand::object object;
      if (auto error = value.get_object().get(object)) return JsonError(error, reason);
      for (auto member : object) {
        ondemand::field field;
        if (auto error = std::move(member).get(field)) return JsonError(error, reason);
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return JsonError(error, reason);
        if (!Walk(field.value(), depth + 1, reason)) return false;
      }
      return true;
    }
    case ondemand::json_type::array: {
      ondemand::array array;
      if (auto error = value.get_array().get(array)) return JsonError(error, reason);
      for (auto element : array) {
        ondemand::value child;
        if (auto error = std::move(element).get(child)) return JsonError(error, reason);
        if (!Walk(child, depth + 1, reason)) return false;
      }
      return true;
    }
    case ondemand::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return JsonError(error, reason);
      return true;
    }
    case ondemand::json_type::number: {
      std::string_view raw = TrimRight(value.raw_json_token());
      if (!IsJsonNumber(raw)) {
        reason = "invalid JSON: malformed number ";
        AppendPrintable(reason, raw);
        return false;
      }
      return true;
    }
    case ondemand::json_type::boolean: {
      std::string_view raw = TrimRight(value.raw_json_token());
      bool flag = false;
      if (value.get_bool().get(flag)) return LiteralError(raw, reason);
      return true;
    }
    case ondemand::json_type::null: {
      std::string_view raw = TrimRight(value.raw_json_token());
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) return LiteralError(raw, reason);
      return true;
    }
  }
  return JsonError(simdjson::TAPE_ERROR, reason);
}

bool EventParser::Impl::CheckDuplicateExtras(std::string& reason) {
  // Schema keys are checked by slot as they are mapped; only the extras remain (usually none).
  auto key = [&](uint32_t index) { return pairs[index].key; };
  if (extras.size() <= kLinearDuplicateScan) {
    for (size_t i = 1; i < extras.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (key(extras[i]) == key(extras[j])) return DuplicateKey(key(extras[i]), reason);
    return true;
  }
  std::sort(extras.begin(), extras.end(),
            [&](uint32_t a, uint32_t b) { return key(a) != key(b) ? key(a) < key(b) : a < b; });
  for (size_t i = 1; i < extras.size(); ++i)
    if (key(extras[i]) == key(extras[i - 1])) return DuplicateKey(key(extras[i]), reason);
  return true;
}

bool EventParser::Impl::Build(engine::Event& event, std::string& reason) {
  const Pair* type_pair = nullptr;
  for (const Pair& pair : pairs) {
    if (pair.key == "type") {
      if (type_pair != nullptr) return DuplicateKey(pair.key, reason);
      type_pair = &pair;
    }
  }
  if (type_pair == nullptr || type_pair->kind == JsonKind::kNull) {
    return MissingField(reason, "type");
  }
  if (type_pair->kind != JsonKind::kString) {
    return FieldError(reason, "type", "expected string", type_pair->raw);
  }
  const dsl::StreamSchema* stream = dsl::FindStream(type_pair->text);
  if (stream == nullptr) {
    reason = "unknown type ";
    AppendPrintable(reason, type_pair->raw);
    reason += " (expected sale, line_item, refund, inventory, shift or traffic)";
    return false;
  }
  event.Reset(stream->kind);

  // Money waits for the currency, which may come later in the object.
  struct PendingMoney {
    int slot;
    int64_t units;
  };
  std::array<PendingMoney, dsl::kMaxSlots> money{};
  size_t money_count = 0;
  dsl::Currency currency = 0;
  uint32_t seen = 0;  // slots named so far
  static_assert(dsl::kMaxSlots <= 32);
  const SlotIndex& index = slot_index[static_cast<size_t>(stream->kind)];
  extras.clear();

  for (const Pair& pair : pairs) {
    if (&pair == type_pair) continue;
    const int slot = index.Find(pair.key);
    if (slot < 0) {
      extras.push_back(static_cast<uint32_t>(&pair - pairs.data()));
      event.AddExtra(pair.key, pair.text);
      continue;
    }
    if ((seen & (1U << slot)) != 0) return DuplicateKey(pair.key, reason);
    seen |= 1U << slot;
    if (pair.kind == JsonKind::kNull) continue;  // null is absent
    const dsl::FieldDef& def = stream->fields[static_cast<size_t>(slot)];
    switch (def.type) {
      case dsl::Type::kString: {
        if (pair.kind != JsonKind::kString) {
          return FieldError(reason, pair.key, "expected string", pair.raw);
        }
        if ((slot == dsl::kSlotId || slot == dsl::kSlotStore) && pair.text.empty()) {
          return FieldError(reason, pair.key, "expected non-empty string", pair.raw);
        }
        if (slot == dsl::kSlotCurrency) {
          currency = dsl::PackCurrency(pair.text);
          if (currency == 0) {
            return FieldError(reason, pair.key, "expected a 3-letter upper-case ISO 4217 code",
                              pair.raw);
          }
        }
        event.SetString(slot, pair.text);
        break;
      }
      case dsl::Type::kInt: {
        int64_t v = 0;
        NumberStatus status = NumberStatus::kMalformed;
        if (pair.kind == JsonKind::kNumber || pair.kind == JsonKind::kString) {
          status = ParseIntText(pair.text, v);
        }
        if (status == NumberStatus::kOutOfRange) {
          return FieldError(reason, pair.key, "int out of range", pair.raw);
        }
        if (status != NumberStatus::kOk) {
          return FieldError(reason, pair.key, "expected int", pair.raw);
        }
        event.Set(slot, dsl::Value::Int(v));
        break;
      }
      case dsl::Type::kDecimal: {
        double v = 0;
        NumberStatus status = NumberStatus::kMalformed;
        if (pair.kind == JsonKind::kNumber || pair.kind == JsonKind::kString) {
          status = ParseDecimalText(pair.text, v);
        }
        if (status == NumberStatus::kOutOfRange) {
          return FieldError(reason, pair.key, "decimal out of range", pair.raw);
        }
        if (status != NumberStatus::kOk) {
          return FieldError(reason, pair.key, "expected decimal", pair.raw);
        }
        event.Set(slot, dsl::Value::Decimal(v));
        break;
      }
      case dsl::Type::kMoney: {
        std::optional<int64_t> units;
        if (pair.kind == JsonKind::kNumber || pair.kind == JsonKind::kString) {
          units = dsl::ParseMoneyUnits(pair.text);
        }
        if (!units) {
          bool numeric = (pair.kind == JsonKind::kNumber || pair.kind == JsonKind::kString) &&
                         IsDecimalText(pair.text);
          return FieldError(reason, pair.key, numeric ? "money out of range" : "expected money",
                            pair.raw);
        }
        money[money_count++] = PendingMoney{slot, *units};
        break;
      }
      case dsl::Type::kTimestamp: {
        std::optional<int64_t> micros;
        if (pair.kind == JsonKind::kString) micros = dsl::ParseTimestamp(pair.text);
        if (!micros) {
          return FieldError(reason, pair.key, "expected RFC 3339 timestamp", pair.raw);
        }
        event.Set(slot, dsl::Value::Timestamp(*micros));
        break;
      }
      case dsl::Type::kBool: {
        if (pair.kind != JsonKind::kBool) {
          return FieldError(reason, pair.key, "expected bool (true or false)", pair.raw);
        }
        event.Set(slot, dsl::Value::Bool(pair.flag));
        break;
      }
      default:
        return FieldError(reason, pair.key, "unsupported field type", pair.raw);
    }
  }

  if (!CheckDuplicateExtras(reason)) return false;
  if (event.Get(dsl::kSlotId).is_null()) return MissingField(reason, "id");
  if (event.Get(dsl::kSlotStore).is_null()) return MissingField(reason, "store");
  if (event.Get(dsl::kSlotTs).is_null()) return MissingField(reason, "ts");
  if (money_count > 0 && currency == 0) {
    return MissingField(reason, "currency", " (the event has money fields)");
  }
  for (size_t i = 0; i < money_count; ++i) {
    event.Set(money[i].slot, dsl::Value::Money(money[i].units, currency));
  }
  return true;
}

EventParser::Impl::Impl() {
  for (const dsl::StreamSchema& stream : dsl::AllStreams()) {
    slot_index[static_cast<size_t>(stream.kind)] = SlotIndex(stream);
  }
}

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;
EventParser::EventParser(EventParser&&) noexcept = default;
EventParser& EventParser::operator=(EventParser&&) noexcept = default;

bool EventParser::Parse(std::string_view line, engine::Event& event, std::string& reason) {
  try {
    if (!impl_) impl_ = std::make_unique<Impl>();  // a moved-from parser stays usable
    return impl_->Collect(line, reason) && impl_->Build(event, reason);
  } catch (const std::exception& e) {
    try {
      reason = "internal error: ";
      reason += e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      reason = "internal error";
    } catch (...) {
    }
  }
  return false;
}

}  // namespace aisle::connectors
