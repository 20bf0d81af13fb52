#pragma once
// Policies: `policy chain|district "NAME"|store "ID" { param ... rule ... }`. Checks the policy
// blocks of a rule set and resolves, for every store of the `stores` table, which declaration
// sets each param (store > district > chain > default). The rules inside policies are checked by
// the checker like any other rule, with the scope computed here.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/loader.hpp"
#include "dsl/plan.hpp"

namespace aisle::dsl {

// A top-level param as the checker resolved it.
struct ParamDeclaration {
  const ast::Param* decl = nullptr;
  plan::Expr value;  // a constant, or of type kAny when it is not one (already reported)
};

// Turns an override's value into a constant; reports E022 itself and returns nothing when the
// value is not one.
using ConstantFn = std::function<std::optional<plan::Expr>(const ast::Expr&)>;

// Checks every policy of the rule set (E060, E062-E065, W010) and returns the params with their
// overrides, resolved per store. `params` come in the order the result keeps (by name). The
// stores table is the table named `stores`, keyed by `store`.
plan::Policies CheckPolicies(const RuleSet& rules, const std::vector<ParamDeclaration>& params,
                             const std::vector<plan::Table>& tables, const ConstantFn& constant,
                             Diagnostics& diagnostics);

// The level a policy header names, or nothing when the header is not well formed (E060).
std::optional<plan::ParamLevel> PolicyLevel(const ast::Policy& policy);
// How a policy is shown: `chain`, `district "north-east"`, `store "S012"`.
std::string PolicyName(const ast::Policy& policy);
// Per store index (plan::Policies), 1 when the policy covers that store's records.
std::vector<uint8_t> PolicyScope(const ast::Policy& policy, const plan::Policies& policies);

// `aisle explain --params store ID`: every param with the value it takes for the store and where
// that value is set, then the policy rules that apply to the store. False, with the reason in
// `out`, when the store is not in the stores table.
bool ExplainStoreParams(const plan::Plan& plan, const SourceManager& sources,
                        std::string_view store, std::string& out);

}  // namespace aisle::dsl
