#include "dsl/csv.hpp"

namespace aisle::dsl {

bool ParseCsv(std::string_view text, CsvTable& table, std::string& error) {
  std::vector<std::string> row;
  std::string field;
  size_t line = 1, row_line = 1;
  bool quoted = false, any = false;
  auto end_row = [&]() -> bool {
    row.push_back(std::move(field));
    field.clear();
    bool blank = row.size() == 1 && row[0].empty();
    if (!blank) {
      if (table.columns.empty()) {
        table.columns = std::move(row);
      } else if (row.size() != table.columns.size()) {
        error = "line " + std::to_string(row_line) + ": " + std::to_string(row.size()) +
                " fields, the header has " + std::to_string(table.columns.size());
        return false;
      } else {
        table.rows.push_back(std::move(row));
        table.row_lines.push_back(row_line);
      }
    }
    row.clear();
    any = false;
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (!any) row_line = line;
    any = true;
    if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      if (!end_row()) return false;
      ++line;
    } else {
      field.push_back(c);
    }
  }
  if (quoted) {
    error = "line " + std::to_string(row_line) + ": unterminated quoted field";
    return false;
  }
  if (any) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    if (!end_row()) return false;
  }
  if (table.columns.empty()) {
    error = "no header row";
    return false;
  }
  return true;
}

bool CsvRecordReader::Fetch() {
  if (!next_line_(line_)) return false;
  ++line_no_;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

bool CsvRecordReader::Next(std::vector<std::string>& fields, int64_t& start_line, std::string& error) {
  fields.clear();
  error.clear();
  if (!Fetch()) return false;
  start_line = line_no_;
  std::string field;
  bool quoted = false, after_quote = false;
  size_t i = 0;
  while (true) {
    if (i == line_.size()) {
      if (quoted) {  // the quoted field goes on past the line end
        if (!Fetch()) {
          error = "unterminated quote";
          return true;
        }
        field.push_back('\n');
        i = 0;
        continue;
      }
      fields.push_back(std::move(field));
      return true;
    }
    const char c = line_[i++];
    if (quoted) {
      if (c != '"') field.push_back(c);
      else if (i < line_.size() && line_[i] == '"') field.push_back('"'), ++i;
      else quoted = false, after_quote = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (after_quote) {
      error = "text after a closing quote";
      return true;
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else {
      field.push_back(c);
    }
  }
}

}  // namespace aisle::dsl
