#pragma once
// Evaluates checked expressions (dsl/plan.hpp) over a record of values. No allocation, no
// exceptions: null propagates through arithmetic, division by zero and overflow give null, and a
// comparison with null is false (LANGUAGE.md).

#include <span>

#include "dsl/plan.hpp"
#include "dsl/value.hpp"
#include "engine/core/event.hpp"
#include "engine/registry/registry.hpp"

namespace aisle::engine {

class Evaluator {
 public:
  // `policies` resolves params that vary by store (ExprOp::kParam); it must outlive the
  // evaluator, and may be null when the plan has none.
  explicit Evaluator(const OperatorRegistry& registry,
                     const dsl::plan::Policies* policies = nullptr)
      : registry_(&registry), policies_(policies) {}

  // `event` is the event the record came from, when it came from one (for attr()); `store` is
  // the record's store index (dsl::plan::Policies::StoreIndex), -1 for none.
  dsl::Value Eval(const dsl::plan::Expr& expr, std::span<const dsl::Value> record,
                  const Event* event = nullptr, int store = -1) const;
  // True only for a bool true (null and false are both "does not hold").
  bool Holds(const dsl::plan::Expr& expr, std::span<const dsl::Value> record,
             const Event* event = nullptr, int store = -1) const {
    dsl::Value v = Eval(expr, record, event, store);
    return v.type == dsl::Type::kBool && v.b;
  }

 private:
  const OperatorRegistry* registry_;
  const dsl::plan::Policies* policies_;
};

// Arithmetic and comparison on values, shared with aggregates and tests.
dsl::Value Arithmetic(dsl::ast::BinaryOp op, const dsl::Value& l, const dsl::Value& r,
                      dsl::Type result);
// -1, 0, 1, or 2 when the values are not comparable (null, other currency, other type).
int Compare(const dsl::Value& l, const dsl::Value& r);

// Money times a factor, exact: the factor is taken to nine decimals, the product rounds half even.
dsl::Value MoneyTimes(const dsl::Value& money, double factor);

}  // namespace aisle::engine
