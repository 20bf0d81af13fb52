#include "dsl/plan.hpp"

#include <algorithm>

namespace aisle::dsl::plan {

const std::string* Table::Find(std::string_view key, std::string_view column) const {
  auto row = index.find(std::string(key));
  if (row == index.end()) return nullptr;
  auto col = std::find(columns.begin(), columns.end(), column);
  if (col == columns.end()) return nullptr;
  return &rows[row->second][static_cast<size_t>(col - columns.begin())];
}

}  // namespace aisle::dsl::plan
