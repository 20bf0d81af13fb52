#pragma once
// "Did you mean" suggestions: the nearest known name by edit distance.

#include <string>
#include <string_view>
#include <vector>

namespace aisle::dsl {

// Edit distance (case-sensitive, on bytes): insertions, deletions, substitutions and swaps of
// two adjacent characters each cost one.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `name` when close enough (distance <= max(1, size/3)), else "".
std::string Nearest(std::string_view name, const std::vector<std::string_view>& candidates);

// "did you mean 'x'?" or "" when nothing is near.
std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace aisle::dsl
