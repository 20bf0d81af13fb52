#include "engine/graph/operator_graph.hpp"

#include <algorithm>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

namespace aisle::engine {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// Records the first back edge a depth-first search meets, and the path that leads to it.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<Vertex>* cycle;
  std::vector<Vertex>* path;
  void discover_vertex(Vertex v, const Graph&) { path->push_back(v); }
  void finish_vertex(Vertex, const Graph&) { path->pop_back(); }
  void back_edge(Edge e, const Graph& g) {
    if (!cycle->empty()) return;
    Vertex target = boost::target(e, g);
    auto from = std::find(path->begin(), path->end(), target);
    cycle->assign(from, path->end());
    cycle->push_back(target);
  }
};

}  // namespace

Result<OperatorGraph> OperatorGraph::Build(const dsl::plan::Plan& plan) {
  OperatorGraph out;
  std::vector<int> stream_node(dsl::kStreamKindCount), metric_node(plan.metrics.size());
  for (const auto& s : dsl::AllStreams()) {
    stream_node[static_cast<size_t>(s.kind)] = static_cast<int>(out.nodes_.size());
    out.nodes_.push_back({OperatorNode::Kind::kSource, static_cast<int>(s.kind), std::string(s.name)});
  }
  for (size_t i = 0; i < plan.metrics.size(); ++i) {
    metric_node[i] = static_cast<int>(out.nodes_.size());
    out.nodes_.push_back({OperatorNode::Kind::kMetric, static_cast<int>(i), plan.metrics[i].name});
  }
  std::vector<int> rule_node(plan.rules.size());
  for (size_t i = 0; i < plan.rules.size(); ++i) {
    rule_node[i] = static_cast<int>(out.nodes_.size());
    out.nodes_.push_back({OperatorNode::Kind::kRule, static_cast<int>(i), plan.rules[i].name});
  }
  Graph g(out.nodes_.size());
  out.consumers_.resize(out.nodes_.size());
  auto input_node = [&](const dsl::plan::Input& in) {
    return in.is_stream ? stream_node[static_cast<size_t>(in.stream)]
                        : metric_node[static_cast<size_t>(in.metric)];
  };
  auto connect = [&](int from, int to) {
    boost::add_edge(static_cast<Vertex>(from), static_cast<Vertex>(to), g);
    out.consumers_[static_cast<size_t>(from)].push_back(to);
  };
  for (size_t i = 0; i < plan.metrics.size(); ++i) connect(input_node(plan.metrics[i].input), metric_node[i]);
  for (size_t i = 0; i < plan.rules.size(); ++i) connect(input_node(plan.rules[i].input), rule_node[i]);

  std::vector<Vertex> cycle, path;
  CycleFinder finder;
  finder.cycle = &cycle;
  finder.path = &path;
  boost::depth_first_search(g, boost::visitor(finder));
  if (!cycle.empty()) {
    std::string names;
    for (size_t i = 0; i < cycle.size(); ++i) {
      if (i) names += " -> ";
      names += out.nodes_[cycle[i]].name;
    }
    return Error{"operators form a cycle: " + names};
  }
  std::vector<Vertex> reversed;
  boost::topological_sort(g, std::back_inserter(reversed));
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) out.order_.push_back(static_cast<int>(*it));
  return out;
}

std::vector<int> OperatorGraph::MetricOrder() const {
  std::vector<int> out;
  for (int n : order_)
    if (nodes_[static_cast<size_t>(n)].kind == OperatorNode::Kind::kMetric)
      out.push_back(nodes_[static_cast<size_t>(n)].index);
  return out;
}

}  // namespace aisle::engine
