#pragma once
// What a checked expression is worth before any record is seen: enough to tell a rule that can
// never fire (`when false`, `when enabled and ...` with `param enabled = false`, a comparison of
// two constants). Params are folded into constants by the checker, so they count as constants.

#include <optional>

#include "dsl/plan.hpp"

namespace aisle::dsl {

// true or false when `e` has that truth value for every record (null counts as false, as in a
// `when`); nullopt when it depends on the record.
std::optional<bool> ConstantTruth(const plan::Expr& e);

}  // namespace aisle::dsl
