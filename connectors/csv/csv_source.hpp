#pragma once
// CSV files as an event source, for backfills from exports (a POS's sales report, a door
// counter's CSV): each row becomes one canonical event through a column mapping, a JSON file:
//
//   {
//     "type": "sale",                       // the canonical event type every row becomes
//     "source": "pos-export",               // optional, default "file"
//     "fields": {
//       "id":       {"column": "Receipt", "prefix": "lsx-"},
//       "store":    {"column": "Outlet"},
//       "ts":       {"column": "Date", "format": "%d/%m/%Y %H:%M", "timezone": "Europe/London"},
//       "total":    "Total",                // shorthand for {"column": "Total"}
//       "currency": {"value": "GBP"},       // a constant
//       "status":   {"value": "completed"}
//     }
//   }
//
// Field names are the type's canonical fields (INTERFACES.md); any other name becomes an extra
// field, readable from rules as text. `ts` without a format must be RFC 3339; with a `format`
// (strftime-style, as date::parse reads it) it is local time in `timezone` (UTC when left out;
// a time a clock change skips or repeats takes the earlier instant). Without an `id` mapping the
// id is "csv:" + the SHA-256 of the row's fields, so a row read twice is dropped as a duplicate.
// Empty cells leave a field out. Values are checked by the canonical event parser: a bad row
// goes to the reject file with its line number and the reason, and reading goes on.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ndjson/file_source.hpp"
#include "connectors/ndjson/reject_writer.hpp"
#include "dsl/schema.hpp"
#include "engine/core/result.hpp"
#include "engine/engine.hpp"

namespace date {
class time_zone;
}

namespace aisle::connectors {

struct CsvFieldMapping {
  std::string field;     // canonical (or extra) field name
  std::string column;    // header name; empty for a constant
  std::string constant;  // used when `column` is empty
  std::string prefix;    // put before the cell's text
  std::string format;    // ts only: date::parse format of local time
  const date::time_zone* zone = nullptr;  // ts with a format; null: UTC
};

struct CsvMapping {
  dsl::StreamKind kind = dsl::StreamKind::kSale;
  std::string source = "file";
  std::vector<CsvFieldMapping> fields;
};

// Parses a mapping file's JSON; errors name the offending key.
Result<CsvMapping> ParseCsvMapping(std::string_view json);
Result<CsvMapping> LoadCsvMapping(const std::string& path);

// A mapping bound to a file's header: turns rows into canonical event lines.
class CsvRowMapper {
 public:
  // Errors: a mapped column the header lacks.
  static Result<CsvRowMapper> Bind(const CsvMapping& mapping, const std::vector<std::string>& header);
  // The row as one canonical JSON line, or false with `reason` (wrong field count, bad time).
  bool Map(const std::vector<std::string>& row, std::string& line, std::string& reason) const;

 private:
  CsvMapping mapping_;
  std::vector<int> columns_;  // per mapped field: its column index, or -1 for a constant
  size_t header_size_ = 0;
  bool has_id_ = false;
};

// Replays a CSV file (header row first) into an engine through `mapping`, with the same
// resumable positions and reject handling as ReplayNdjson.
Result<ReplayReport> ReplayCsv(const std::string& path, const CsvMapping& mapping, engine::Engine& engine,
                               RejectWriter& rejects, const ReplayOptions& options = {});

}  // namespace aisle::connectors
