#pragma once
// The operator graph of a plan: sources (one per stream), metrics, rules, schedules and digests as
// vertices, an edge from each operator to every operator that consumes its output (a digest
// consumes the emissions of the rules and schedules that emit to its channel). Held in Boost.Graph (behind this
// header); gives the topological order the runtime fires in, and names a cycle if there is one.

#include <memory>
#include <string>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/core/result.hpp"

namespace aisle::engine {

struct OperatorNode {
  enum class Kind { kSource, kMetric, kRule, kSchedule, kDigest } kind;
  int index;  // stream kind, or metric, rule, schedule or digest index in the plan
  std::string name;
};

class OperatorGraph {
 public:
  // Lowers a checked plan. Fails, naming the cycle, if operators feed each other in a loop.
  static Result<OperatorGraph> Build(const dsl::plan::Plan& plan);

  const std::vector<OperatorNode>& nodes() const { return nodes_; }
  // Node indexes, every producer before its consumers.
  const std::vector<int>& order() const { return order_; }
  // Consumers of a node.
  const std::vector<int>& consumers(int node) const { return consumers_[static_cast<size_t>(node)]; }
  // Metric indexes in topological order.
  std::vector<int> MetricOrder() const;

  // The graph for people (`aisle explain`): a tree from each source, one operator a line with its
  // fingerprint, key, window and inputs; or Graphviz DOT (Boost.Graph's writer).
  std::string ExplainText(const dsl::plan::Plan& plan) const;
  std::string ExplainDot(const dsl::plan::Plan& plan) const;

 private:
  std::vector<OperatorNode> nodes_;
  std::vector<std::vector<int>> consumers_;
  std::vector<int> order_;
};

}  // namespace aisle::engine
