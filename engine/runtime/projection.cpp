#include "engine/runtime/projection.hpp"

namespace aisle::engine {

Projection::Projection(const dsl::plan::Metric& plan, const OperatorRegistry& registry)
    : plan_(plan), evaluator_(registry), out_(plan.projected.size()) {}

bool Projection::Apply(std::span<const dsl::Value>& record, const Event* event) {
  for (size_t i = 0; i < plan_.project.size(); ++i)
    out_[i] = evaluator_.Eval(plan_.project[i], record, event);
  record = std::span<const dsl::Value>(out_.data(), out_.size());
  for (const auto& f : plan_.projected_filters)
    if (!evaluator_.Holds(f, record, event)) return false;
  return true;
}

}  // namespace aisle::engine
