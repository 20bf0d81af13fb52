// libFuzzer target for CSV backfills: the input is a CSV file (header first) read record by
// record through a fixed column mapping into canonical lines, each parsed as an event. Checks
// that nothing crashes and that every line the mapper makes is JSON the event parser reads
// without throwing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/csv/csv_source.hpp"
#include "connectors/ndjson/event_parser.hpp"
#include "dsl/csv.hpp"

namespace {

constexpr const char* kMapping = R"({
  "type": "line_item",
  "fields": {
    "id": {"column": "id", "prefix": "f-"},
    "store": "store",
    "ts": {"column": "ts", "format": "%d/%m/%Y %H:%M", "timezone": "America/New_York"},
    "qty": "qty",
    "price": "price",
    "currency": {"value": "USD"},
    "note": "note"
  }
})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto mapping = aisle::connectors::ParseCsvMapping(kMapping);
  if (!mapping) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  aisle::dsl::CsvRecordReader records([&text](std::string& line) {
    if (text.empty()) return false;
    const size_t nl = text.find('\n');
    line.assign(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    return true;
  });
  std::vector<std::string> fields;
  int64_t line_number = 0;
  std::string error;
  if (!records.Next(fields, line_number, error) || !error.empty()) return 0;
  auto mapper = aisle::connectors::CsvRowMapper::Bind(mapping.value(), fields);
  aisle::connectors::EventParser parser;
  aisle::engine::Event event;
  std::string line, reason;
  while (records.Next(fields, line_number, error)) {
    if (line_number <= 0) __builtin_trap();
    if (!error.empty() || !mapper) continue;
    if (mapper->Map(fields, line, reason)) (void)parser.Parse(line, event, reason);
  }
  return 0;
}
