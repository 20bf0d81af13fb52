#pragma once
// The operators of one plan wired in topological order, run on one thread: events in, emissions
// out. It owns the state of every partition it sees (today all of them; with shards, those its
// router sends it). Event time is per store (engine/runtime/metric_operator.hpp): a metric over a
// stream fires a store's window once that store's newest event time, minus the stream's delay,
// passes its end; a metric over a metric follows its input store by store. An event inside the
// stream's lateness corrects a fired window; one beyond it is late: counted, reported, not added.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/core/event.hpp"
#include "engine/core/late_event.hpp"
#include "engine/graph/operator_graph.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/join_operator.hpp"
#include "engine/runtime/digest_operator.hpp"
#include "engine/runtime/metric_operator.hpp"
#include "engine/runtime/output_stages.hpp"
#include "engine/runtime/rule_operator.hpp"
#include "engine/runtime/sale_index.hpp"
#include "engine/runtime/schedule_operator.hpp"

namespace aisle::engine {

struct PipelineStats {
  int64_t events = 0;       // events processed
  int64_t late = 0;         // events whose window had closed (one per metric that refused them)
  int64_t corrections = 0;  // window results fired again because a late event changed them
  int64_t suppressed = 0;   // emissions dropped by `suppress while`
  int64_t deduped = 0;      // emissions dropped by `dedupe`
  int64_t throttled = 0;    // emissions dropped by `throttle`
  int64_t held = 0;         // emissions held for a digest (delivered inside its report)
};


class Pipeline {
 public:
  Pipeline(const dsl::plan::Plan& plan, const OperatorGraph& graph, const OperatorRegistry& registry);

  // Late events go here too (besides being counted). Optional.
  void set_late_handler(LateHandler handler) { late_ = std::move(handler); }

  // Runs one event through every operator that reads its stream, then fires what the new
  // watermark closes.
  void Process(const Event& event, const EmissionHandler& emit);
  // End of input with --final: fires every open window.
  void FireAll(const EmissionHandler& emit);

  int64_t max_event_time() const { return max_ts_; }
  void set_max_event_time(int64_t ts) { max_ts_ = ts; }
  PipelineStats stats() const;
  size_t open_windows() const;

  // Checkpoint. Metrics write only what changed since the last checkpoint that reached the disk:
  // call MarkSaved once the batch is written.
  void Save(WriteBatch& batch) const;
  void MarkSaved();
  // The next Save writes all state, not only what changed (after it was read from elsewhere).
  void MarkAllUnsaved();
  bool Load(StateStore& store, std::string& error);

 private:
  // After an event, or at the end of input: records the emissions rules made for other rules'
  // `suppress while`, then delivers the digests whose interval the newest event time closed.
  void Settle(bool final);
  // Fires what metric `m` has due, feeding its output and watermarks to what reads it.
  void FireMetric(size_t m, const EmissionHandler& emit);
  // A join fires up to the lower of its inputs' lowest store watermarks, so a lagging store loses
  // nothing; what reads it follows that one watermark.
  void FireJoin(size_t m, const EmissionHandler& emit);
  void Route(size_t m, const EmissionHandler& emit);
  // After metric `m` fired: what `top` held goes on.
  void FlushStages(size_t m);
  int64_t LowWatermark(size_t m) const;
  // The store index of a record's store field (-1 when the plan has nothing per store, or the
  // record has no store field): looked up once per record, for every operator it reaches.
  int StoreIndex(std::span<const dsl::Value> record, int field) const;
  // The event time settings of a metric: its stream's, or its input metric's stream's.
  EventTime TimeOf(const dsl::plan::Metric& metric) const;

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
  std::vector<int> metric_store_field_;  // per metric: its output's `store` field, or -1
  std::vector<dsl::Value> record_;
  std::string key_scratch_;
  int64_t max_ts_ = INT64_MIN;
  PipelineStats stats_;
  LateHandler late_;
  std::unique_ptr<SaleIndex> sales_;  // when some metric attributes refunds to their sale
  // Per metric: what its records and watermarks do downstream (built once).
  std::vector<RecordHandler> on_record_;
  std::vector<WatermarkHandler> on_watermark_;
  std::vector<RecordHandler> on_fire_;           // per metric: through its stages, if any
  std::vector<PlainRecordHandler> on_staged_;    // per metric: what its stages pass on
  std::vector<char> staged_correction_;          // per metric: the record in the stages is one
  // Per metric with stages: watermarks to pass on once `top` has let its records go.
  std::vector<std::vector<std::pair<std::string, int64_t>>> pending_watermarks_;
  const EmissionHandler* emit_ = nullptr;  // the handler of the event being processed
  // Digests and schedules; per rule and schedule, where its emissions go (a digest, or out).
  std::vector<std::unique_ptr<DigestOperator>> digests_;
  std::vector<std::unique_ptr<ScheduleOperator>> schedules_;
  std::vector<EmissionHandler> rule_emit_, schedule_emit_;
  // Schedules per stream (the stream their metric's watermarks follow) and per metric.
  std::vector<std::vector<int>> stream_schedules_, metric_schedules_;
  std::vector<PendingActivity> pending_activity_;
  std::string store_key_;
};

}  // namespace aisle::engine
