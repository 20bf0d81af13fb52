#include "engine/graph/operator_graph.hpp"

#include <algorithm>

#include <sstream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <fmt/format.h>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include "dsl/time.hpp"

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
  std::vector<int> schedule_node(plan.schedules.size()), digest_node(plan.digests.size());
  for (size_t i = 0; i < plan.schedules.size(); ++i) {
    schedule_node[i] = static_cast<int>(out.nodes_.size());
    out.nodes_.push_back({OperatorNode::Kind::kSchedule, static_cast<int>(i), plan.schedules[i].name});
  }
  for (size_t i = 0; i < plan.digests.size(); ++i) {
    digest_node[i] = static_cast<int>(out.nodes_.size());
    out.nodes_.push_back({OperatorNode::Kind::kDigest, static_cast<int>(i), "digest " + plan.digests[i].channel});
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
  for (size_t i = 0; i < plan.metrics.size(); ++i) {
    connect(input_node(plan.metrics[i].input), metric_node[i]);
    if (const auto& join = plan.metrics[i].join)  // a join has a second input
      connect(metric_node[static_cast<size_t>(join->right)], metric_node[i]);
  }
  for (size_t i = 0; i < plan.rules.size(); ++i) connect(input_node(plan.rules[i].input), rule_node[i]);
  for (size_t i = 0; i < plan.schedules.size(); ++i)
    connect(metric_node[static_cast<size_t>(plan.schedules[i].metric)], schedule_node[i]);
  for (size_t i = 0; i < plan.rules.size(); ++i)
    if (plan.rules[i].digest >= 0) connect(rule_node[i], digest_node[static_cast<size_t>(plan.rules[i].digest)]);
  for (size_t i = 0; i < plan.schedules.size(); ++i)
    if (plan.schedules[i].digest >= 0)
      connect(schedule_node[i], digest_node[static_cast<size_t>(plan.schedules[i].digest)]);

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

namespace {

std::string DurationText(int64_t us) { return dsl::FormatDuration(us); }

// "  select [..]  distinct [..]": what a metric does to its input records before the key.
std::string PreStages(const dsl::plan::Metric& m) {
  std::string out;
  const auto& fields = m.projected.empty() ? m.input_fields : m.projected;
  if (!m.project.empty()) {
    std::string names;
    for (const auto& f : m.projected) names += (names.empty() ? "" : ", ") + f.name;
    out += "  select [" + names + "]";
  }
  if (m.attribute_within > 0) out += "  attribute to sale within " + DurationText(m.attribute_within);
  if (!m.distinct.empty()) {
    std::string names;
    for (int f : m.distinct) names += (names.empty() ? "" : ", ") + fields[static_cast<size_t>(f)].name;
    out += "  distinct [" + names + "]";
  }
  return out;
}

// "  then select [..]  then top K per [..]": the stages after agg (or after a join).
std::string PostStages(const dsl::plan::Metric& m) {
  std::string out;
  const std::vector<dsl::plan::Field>* layout = &m.output;
  for (const auto& p : m.post) {
    if (p.kind == dsl::plan::PostStage::Kind::kSelect) {
      std::string names;
      for (size_t i = 0; i + 2 < p.fields.size(); ++i) names += (names.empty() ? "" : ", ") + p.fields[i].name;
      out += "  then select [" + names + "]";
    } else {
      std::string per;
      for (int f : p.top_per) per += (per.empty() ? "" : ", ") + (*layout)[static_cast<size_t>(f)].name;
      out += fmt::format("  then top {}{}", p.top_count, per.empty() ? "" : " per [" + per + "]");
    }
    layout = &p.fields;
  }
  return out;
}

// One line of detail per operator: fingerprint, key, window, inputs.
std::string Describe(const OperatorNode& node, const dsl::plan::Plan& plan) {
  auto input_name = [&](const dsl::plan::Input& in) {
    return in.is_stream ? std::string(dsl::Schema(in.stream).name)
                        : plan.metrics[static_cast<size_t>(in.metric)].name;
  };
  switch (node.kind) {
    case OperatorNode::Kind::kSource: {
      const auto& stream = plan.streams[static_cast<size_t>(node.index)];
      return fmt::format("source {}  delay {}  lateness {}", node.name,
                         stream.delay ? DurationText(stream.delay) : "0",
                         stream.lateness ? DurationText(stream.lateness) : "0");
    }
    case OperatorNode::Kind::kMetric: {
      const auto& m = plan.metrics[static_cast<size_t>(node.index)];
      std::string keys;
      for (const auto& k : m.key_names) keys += (keys.empty() ? "" : ", ") + k;
      std::string aggs;
      for (const auto& a : m.aggregates) aggs += (aggs.empty() ? "" : ", ") + a.name;
      if (m.affinity) aggs = "affinity (one record per association rule)";
      if (m.segments)
        aggs = "segments k " + std::to_string(m.segments->k) +
               (m.segments->per_customer ? " (one record per customer)" : " (one record per segment)");
      std::string window;
      switch (m.window_kind) {
        case dsl::plan::Metric::WindowKind::kDay: window = "day (each store's time zone)"; break;
        case dsl::plan::Metric::WindowKind::kWeek: {
          static constexpr const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                                  "thursday", "friday", "saturday"};
          window = fmt::format("week starting {} (each store's time zone)",
                               kDays[(m.week_start % 7 + 7) % 7]);
          break;
        }
        case dsl::plan::Metric::WindowKind::kMonth: window = "month (each store's time zone)"; break;
        case dsl::plan::Metric::WindowKind::kFiscal:
          window = fmt::format("fiscal {}-{}-{} (each store's time zone)", m.fiscal_pattern[0],
                               m.fiscal_pattern[1], m.fiscal_pattern[2]);
          break;
        case dsl::plan::Metric::WindowKind::kHopping:
          window = "hopping " + DurationText(m.window_size) + " every " + DurationText(m.window_step);
          break;
        case dsl::plan::Metric::WindowKind::kSliding:
          window = "sliding " + DurationText(m.window_size) + " (per record, each key)";
          break;
        case dsl::plan::Metric::WindowKind::kSession:
          window = "session gap " + DurationText(m.window_size) + " (each key)";
          break;
        case dsl::plan::Metric::WindowKind::kTumbling:
          window = "tumbling " + DurationText(m.window_size) +
                   (m.window_offset ? " offset " + DurationText(m.window_offset) : "");
          break;
      }
      if (m.during_open_hours) window += "  during open_hours";
      if (m.join) {
        return fmt::format("metric {}  fp {:016x}  {}join on [{}]  window {}{}  <- {}, {}", m.name,
                           m.fingerprint, m.join->outer ? "left " : "", keys, window, PostStages(m),
                           plan.metrics[static_cast<size_t>(m.join->left)].name,
                           plan.metrics[static_cast<size_t>(m.join->right)].name);
      }
      return fmt::format("metric {}  fp {:016x}{}  key [{}]  window {}  agg [{}]{}  <- {}", m.name,
                         m.fingerprint, PreStages(m), keys, window, aggs, PostStages(m),
                         input_name(m.input));
    }
    case OperatorNode::Kind::kRule: {
      const auto& r = plan.rules[static_cast<size_t>(node.index)];
      std::string control;
      for (const auto& s : r.suppressions) {
        std::string fields;
        for (int f : s.fields) fields += (fields.empty() ? "" : ", ") + r.fields[static_cast<size_t>(f)].name;
        control += fmt::format("  suppressed while {} per [{}] for {}",
                               plan.rules[static_cast<size_t>(s.rule)].name, fields, DurationText(s.period));
      }
      if (r.dedupe_period > 0) {
        std::string fields;
        for (int f : r.dedupe_keys) fields += (fields.empty() ? "" : ", ") + r.fields[static_cast<size_t>(f)].name;
        control += fmt::format("  dedupe per [{}] within {}", fields.empty() ? "store, message" : fields,
                               DurationText(r.dedupe_period));
      }
      if (r.throttle_count > 0)
        control += fmt::format("  throttle {} per {}", r.throttle_count, DurationText(r.throttle_period));
      if (!r.policy.empty()) control += "  policy " + r.policy;
      return fmt::format("rule {}  fp {:016x}  emits {} to \"{}\"{}  <- {}", r.name, r.fingerprint,
                         r.kind == dsl::plan::EmitKind::kAlert ? "alert" : "task", r.channel, control,
                         input_name(r.input));
    }
    case OperatorNode::Kind::kSchedule: {
      const auto& s = plan.schedules[static_cast<size_t>(node.index)];
      std::string when;
      if (s.local || (s.period == 86'400'000'000LL && s.offset > 0)) {
        const int64_t minutes = s.offset / 60'000'000LL;
        when = fmt::format("every day at {:02}:{:02} {}", minutes / 60, minutes % 60,
                           s.local ? "(each store's time zone)" : "UTC");
      } else {
        when = "every " + DurationText(s.period) + (s.offset ? " offset " + DurationText(s.offset) : "");
      }
      return fmt::format("schedule {}  fp {:016x}  {}  emits report to \"{}\"  <- {}", s.name,
                         s.fingerprint, when, s.channel,
                         plan.metrics[static_cast<size_t>(s.metric)].name);
    }
    case OperatorNode::Kind::kDigest: {
      const auto& d = plan.digests[static_cast<size_t>(node.index)];
      return fmt::format("digest \"{}\"  fp {:016x}  every {}  one report per interval", d.channel,
                         d.fingerprint, DurationText(d.period));
    }
  }
  return node.name;
}

}  // namespace

std::string OperatorGraph::ExplainText(const dsl::plan::Plan& plan) const {
  std::string out;
  // Depth first from each source that feeds anything; a node reached twice is printed twice.
  auto visit = [&](auto&& self, int node, int depth) -> void {
    out += std::string(static_cast<size_t>(depth) * 2, ' ');
    out += Describe(nodes_[static_cast<size_t>(node)], plan);
    out += '\n';
    for (int c : consumers_[static_cast<size_t>(node)]) self(self, c, depth + 1);
  };
  for (size_t n = 0; n < nodes_.size(); ++n)
    if (nodes_[n].kind == OperatorNode::Kind::kSource && !consumers_[n].empty())
      visit(visit, static_cast<int>(n), 0);
  return out;
}

// GCC 12 at -O2 reports a false -Wmaybe-uninitialized inside Boost's edge iterator (an
// boost::optional it reads only when set) when write_graphviz is instantiated.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
std::string OperatorGraph::ExplainDot(const dsl::plan::Plan& plan) const {
  Graph g(nodes_.size());
  for (size_t from = 0; from < consumers_.size(); ++from)
    for (int to : consumers_[from]) boost::add_edge(from, static_cast<Vertex>(to), g);
  std::vector<std::string> labels;
  for (const auto& node : nodes_) labels.push_back(Describe(node, plan));
  std::ostringstream out;
  boost::write_graphviz(
      out, g,
      [&](std::ostream& os, Vertex v) {
        const auto& node = nodes_[v];
        const char* shape = node.kind == OperatorNode::Kind::kSource     ? "cds"
                            : node.kind == OperatorNode::Kind::kMetric   ? "box"
                            : node.kind == OperatorNode::Kind::kSchedule ? "hexagon"
                            : node.kind == OperatorNode::Kind::kDigest   ? "folder"
                                                                         : "ellipse";
        std::string label = labels[v];
        for (size_t p = 0; (p = label.find("  ", p)) != std::string::npos;) label.replace(p, 2, "\\n");
        std::string escaped;
        for (char c : label) {
          if (c == '"') escaped += "\\\"";
          else escaped += c;
        }
        os << "[shape=" << shape << ", label=\"" << escaped << "\"]";
      });
  return out.str();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace aisle::engine
