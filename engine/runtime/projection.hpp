#pragma once
// `select` before `agg`: computes, from a metric's input record, the record its later stages see
// (keys, distinct, aggregates), then applies the `where`s written after the select. Owns its
// scratch record, so projecting allocates nothing. One per metric operator; not thread-safe.

#include <span>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/core/event.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/evaluator.hpp"

namespace aisle::engine {

class Projection {
 public:
  Projection(const dsl::plan::Metric& plan, const OperatorRegistry& registry);

  // Points `record` at the projected record (valid until the next call); false when a `where`
  // after the select does not hold.
  bool Apply(std::span<const dsl::Value>& record, const Event* event);

 private:
  const dsl::plan::Metric& plan_;
  Evaluator evaluator_;
  std::vector<dsl::Value> out_;
};

}  // namespace aisle::engine
