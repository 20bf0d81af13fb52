#pragma once
// A reference table typed for `lookup(TABLE, KEY).COLUMN`: every cell a Value of its column's
// declared type, and a hash index from key text to row, built once when the rules are checked.
// Immutable once built and shared (std::shared_ptr) by the plan and every expression that reads
// it; its string values point into its own storage. Finding a row allocates nothing.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/csv.hpp"
#include "dsl/value.hpp"

namespace aisle::dsl {

class LookupTable {
 public:
  // A cell that does not parse as its column's type: the first such cell of a column.
  struct BadCell {
    size_t line;  // 1-based line of the CSV file
    std::string column;
    std::string text;
    std::string why;
  };
  // A key that appears on more than one row: lookups use the first.
  struct DuplicateKey {
    std::string key;
    size_t first_line;
    size_t line;
  };

  // Types the cells of `csv` (types[c] for column c: string, int, decimal, money, percent or
  // bool; an empty cell is null) and indexes rows by `key_column`. A money cell takes the row's
  // `currency` column when the table has one, else currency 0 ("the record's").
  static std::shared_ptr<const LookupTable> Build(const CsvTable& csv,
                                                  const std::vector<Type>& types, size_t key_column,
                                                  std::vector<BadCell>& bad,
                                                  std::vector<DuplicateKey>& duplicates);

  // The row whose key equals `key` (a string, or an int matched by its decimal text), or -1.
  int64_t Find(const Value& key) const;
  const Value& Cell(size_t row, size_t column) const {
    return cells_[row * columns_.size() + column];
  }

  const std::vector<std::string>& columns() const { return columns_; }
  Type type(size_t column) const { return types_[column]; }
  // Whether money cells carry their row's currency (the table has a `currency` column).
  bool has_currency() const { return has_currency_; }
  size_t rows() const { return columns_.empty() ? 0 : cells_.size() / columns_.size(); }

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  std::vector<std::string> columns_;
  std::vector<Type> types_;
  std::vector<std::string> text_;  // every cell's text, row by row; never resized once built
  std::vector<Value> cells_;       // typed, row by row; strings point into text_
  std::unordered_map<std::string_view, uint32_t, SvHash, std::equal_to<>> index_;  // into text_
  bool has_currency_ = false;
};

// The column types a table declaration may name, and the name of each.
std::vector<std::string_view> ColumnTypeNames();
// kString, kInt, ... for "string", "int", ...; kNull for an unknown name.
Type ColumnTypeFromName(std::string_view name);

}  // namespace aisle::dsl
