// simdjson On-Demand over every line. Built into aisle_bench with the project's flags and into
// aisle_bench_simd for this CPU's SIMD, so this file includes nothing of the engine but the
// LineReader framing (parse_pass.cpp).

#include <simdjson.h>

#include <algorithm>
#include <vector>

#include "tests/bench/parse_pass.hpp"

namespace aisle::bench {

namespace {

namespace ondemand = simdjson::ondemand;

// Every field of an object: its key, and its value read as its own type. Nested values (which
// canonical events do not have) are skipped by moving to the next field.
bool VisitFields(ondemand::object& object, int64_t& checksum) {
  for (auto result : object) {
    ondemand::field field;
    std::string_view key;
    ondemand::json_type type;
    if (std::move(result).get(field) || field.unescaped_key().get(key)) return false;
    ondemand::value value = field.value();
    if (value.type().get(type)) return false;
    checksum += static_cast<int64_t>(key.size());
    switch (type) {
      case ondemand::json_type::string: {
        std::string_view text;
        if (value.get_string().get(text)) return false;
        checksum += static_cast<int64_t>(text.size());
        break;
      }
      case ondemand::json_type::number: {
        double d = 0;
        if (value.get_double().get(d)) return false;
        checksum += static_cast<int64_t>(d);
        break;
      }
      case ondemand::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b)) return false;
        checksum += b ? 1 : 0;
        break;
      }
      case ondemand::json_type::null:
        if (!value.is_null()) return false;
        break;
      case ondemand::json_type::object:
      case ondemand::json_type::array:
        break;
    }
  }
  return true;
}

#define AISLE_STRINGIFY2(x) #x
#define AISLE_STRINGIFY(x) AISLE_STRINGIFY2(x)

}  // namespace

const char* SimdjsonKernel() {
  return AISLE_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

Result<Pass> SimdjsonPass(const std::string& path) {
  ondemand::parser parser;
  std::vector<char> padded;
  return EachLine(path, [&](std::string_view line, int64_t& checksum) {
    // The line plus simdjson's padding, copied as EventParser does.
    const size_t capacity = line.size() + simdjson::SIMDJSON_PADDING;
    if (padded.size() < capacity) padded.resize(capacity);
    std::copy(line.begin(), line.end(), padded.begin());
    std::fill_n(padded.begin() + static_cast<std::ptrdiff_t>(line.size()),
                simdjson::SIMDJSON_PADDING, '\0');
    ondemand::document doc;
    ondemand::object object;
    if (parser.iterate(padded.data(), line.size(), padded.size()).get(doc) ||
        doc.get_object().get(object))
      return false;
    return VisitFields(object, checksum);
  });
}

}  // namespace aisle::bench
