#include "dsl/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace aisle::dsl {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus the transposition of two adjacent characters,
  // the commonest typo ("sael" for "sale" is one edit, not two).
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), row(m + 1);
  std::iota(prev.begin(), prev.end(), size_t{0});
  for (size_t i = 1; i <= n; ++i) {
    row[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, row);
  }
  return prev[m];
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
