#include "dsl/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace aisle::dsl {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Nearest(std::string_view name, const std::vector<std::string_view>& candidates) {
  size_t limit = std::max<size_t>(1, name.size() / 3);
  size_t best = limit + 1;
  std::string_view best_name;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best || (d == best && c < best_name)) {
      best = d;
      best_name = c;
    }
  }
  return best <= limit ? std::string(best_name) : std::string();
}

std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string near = Nearest(name, candidates);
  return near.empty() ? std::string() : "did you mean '" + near + "'?";
}

}  // namespace aisle::dsl
