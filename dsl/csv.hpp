#pragma once
// Reference tables (INTERFACES.md, "Reference tables"): CSV with a header row, RFC 4180 quoting.

#include <cstdint>
#include <functional>
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

// One RFC 4180 record at a time from physical lines (a quoted field may run over line ends; a
// "\r" before a line end is dropped), for files too large to hold: a bad record is reported and
// reading goes on with the next line.
class CsvRecordReader {
 public:
  // `next_line` sets its argument to the next physical line (without "\n") and returns true, or
  // returns false at the end of input.
  explicit CsvRecordReader(std::function<bool(std::string&)> next_line)
      : next_line_(std::move(next_line)) {}

  // False at the end of input. On a malformed record, true with a non-empty `error` (the record's
  // fields are then unspecified). `start_line` is the 1-based physical line the record starts on.
  bool Next(std::vector<std::string>& fields, int64_t& start_line, std::string& error);
  // Physical lines consumed so far.
  int64_t lines() const { return line_no_; }

 private:
  bool Fetch();
  std::function<bool(std::string&)> next_line_;
  std::string line_;
  int64_t line_no_ = 0;
};

}  // namespace aisle::dsl
