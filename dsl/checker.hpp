#pragma once
// Syntax tree -> checked plan: resolves names (streams, metrics, fields, params, functions),
// types every expression, validates function calls against the catalog, and reports every
// problem it finds with its span (it never stops at the first).

#include <string>

#include "dsl/catalog.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/loader.hpp"
#include "dsl/plan.hpp"

namespace aisle::dsl {

struct CheckOptions {
  // Where `table ... from "file.csv"` paths resolve; empty: the folder of the declaring file.
  std::string tables_dir;
};

// Checks a loaded rule set. The plan is meaningful only when `diagnostics` has no errors.
plan::Plan Check(const RuleSet& rules, const Catalog& catalog, const CheckOptions& options,
                 Diagnostics& diagnostics);

}  // namespace aisle::dsl
