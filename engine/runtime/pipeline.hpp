#pragma once
// The operators of one plan wired in topological order, run on one thread: events in, emissions
// out. It owns the state of every partition it sees (today all of them; with shards, those its
// router sends it). Watermarks: a metric over a stream fires windows that end at or before the
// latest event time seen minus the stream's allowed lateness; a metric over a metric follows its
// input. An event whose window has already fired is late: counted, not added.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/core/event.hpp"
#include "engine/graph/operator_graph.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/join_operator.hpp"
#include "engine/runtime/metric_operator.hpp"
#include "engine/runtime/output_stages.hpp"
#include "engine/runtime/rule_operator.hpp"

namespace aisle::engine {

struct PipelineStats {
  int64_t events = 0;     // events processed
  int64_t late = 0;       // events whose window had fired (one per metric that refused them)
};

class Pipeline {
 public:
  Pipeline(const dsl::plan::Plan& plan, const OperatorGraph& graph, const OperatorRegistry& registry);

  // Runs one event through every operator that reads its stream, then fires what the new
  // watermark closes.
  void Process(const Event& event, const EmissionHandler& emit);
  // End of input with --final: fires every open window.
  void FireAll(const EmissionHandler& emit);

  int64_t max_event_time() const { return max_ts_; }
  void set_max_event_time(int64_t ts) { max_ts_ = ts; }
  const PipelineStats& stats() const { return stats_; }
  size_t open_windows() const;

  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);

 private:
  void Advance(int64_t max_ts, const EmissionHandler& emit);
  void FireMetric(size_t metric, int64_t watermark, const EmissionHandler& emit);

  const dsl::plan::Plan& plan_;
  std::vector<std::unique_ptr<MetricOperator>> metrics_;  // null for a join
  std::vector<std::unique_ptr<JoinOperator>> joins_;      // per metric: set for a join
  std::vector<std::unique_ptr<OutputStages>> stages_;     // per metric: select/top after agg
  std::vector<int64_t> watermarks_;                        // per metric: the latest it was given
  std::vector<std::unique_ptr<RuleOperator>> rules_;
  std::vector<int> metric_order_;
  // Consumers per stream and per metric.
  std::vector<std::vector<int>> stream_metrics_, stream_rules_;
  std::vector<std::vector<int>> metric_metrics_, metric_rules_;
  std::vector<dsl::Value> record_;
  std::string key_scratch_;
  int64_t max_ts_ = INT64_MIN;
  PipelineStats stats_;
};

}  // namespace aisle::engine
