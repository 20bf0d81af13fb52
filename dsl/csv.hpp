#pragma once
// Reference tables (INTERFACES.md, "Reference tables"): CSV with a header row, RFC 4180 quoting.

#include <string>
#include <string_view>
#include <vector>

namespace aisle::dsl {

struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> row_lines;  // the 1-based line each row starts on
};

// Parses CSV text. On a malformed row (an unterminated quote, a row whose field count differs
// from the header's) returns false with `error` naming the 1-based line.
bool ParseCsv(std::string_view text, CsvTable& table, std::string& error);

}  // namespace aisle::dsl
