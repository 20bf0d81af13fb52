#pragma once
// Helpers shared by affinity.cpp and affinity_pairs.cpp; not part of the public API.

#include "stdlib/affinity.hpp"

namespace aisle::stdlib::internal {

// Unsigned 128-bit integer, for exact products of two 64-bit counts.
__extension__ typedef unsigned __int128 U128;

// Sign (-1, 0, 1) of p/q - r/s, exactly; a zero denominator counts as the largest value.
int CompareFractions(U128 p, U128 q, U128 r, U128 s);

// MineRules' order: by length, then antecedent lexicographically, then consequent.
bool RuleOrder(const Rule& a, const Rule& b);

}  // namespace aisle::stdlib::internal
