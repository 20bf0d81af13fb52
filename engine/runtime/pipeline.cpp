#include "engine/runtime/pipeline.hpp"

#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

Pipeline::Pipeline(const dsl::plan::Plan& plan, const OperatorGraph& graph,
                   const OperatorRegistry& registry)
    : plan_(plan),
      stream_metrics_(dsl::kStreamKindCount),
      stream_rules_(dsl::kStreamKindCount),
      metric_metrics_(plan.metrics.size()),
      metric_rules_(plan.metrics.size()),
      stream_schedules_(dsl::kStreamKindCount),
      metric_schedules_(plan.metrics.size()) {
  int64_t attribution = 0;  // the longest `attribute to sale within`
  for (const auto& m : plan_.metrics) attribution = std::max(attribution, m.attribute_within);
  if (attribution > 0) sales_ = std::make_unique<SaleIndex>(attribution);
  for (const auto& m : plan_.metrics) {
    metrics_.push_back(m.join ? nullptr
                              : std::make_unique<MetricOperator>(m, registry, TimeOf(m),
                                                                 &plan_.policies, sales_.get()));
    joins_.push_back(m.join ? std::make_unique<JoinOperator>(m) : nullptr);
    stages_.push_back(m.post.empty() ? nullptr : std::make_unique<OutputStages>(m, registry));
    int store = -1;
    const auto& fields = m.result.empty() ? m.output : m.result;  // what consumers see
    for (size_t f = 0; f < fields.size(); ++f)
      if (fields[f].name == "store") store = static_cast<int>(f);
    metric_store_field_.push_back(store);
  }
  for (const auto& r : plan_.rules)
    rules_.push_back(
        std::make_unique<RuleOperator>(r, registry, plan_.ruleset_hash, &plan_.policies));
  for (const auto& d : plan_.digests)
    digests_.push_back(std::make_unique<DigestOperator>(d, plan_.ruleset_hash));
  for (size_t i = 0; i < plan_.schedules.size(); ++i) {
    const auto& s = plan_.schedules[i];
    const auto& m = plan_.metrics[static_cast<size_t>(s.metric)];
    schedules_.push_back(std::make_unique<ScheduleOperator>(s, m, registry, plan_.ruleset_hash));
    metric_schedules_[static_cast<size_t>(s.metric)].push_back(static_cast<int>(i));
    const dsl::plan::Metric* root = &m;
    while (!root->input.is_stream) root = &plan_.metrics[static_cast<size_t>(root->input.metric)];
    stream_schedules_[static_cast<size_t>(root->input.stream)].push_back(static_cast<int>(i));
  }
  // Where emissions go: held by their channel's digest, or out through the current handler.
  auto route = [this](int digest) -> EmissionHandler {
    if (digest >= 0)
      return [this, digest](Emission&& e) { digests_[static_cast<size_t>(digest)]->Hold(e); };
    return [this](Emission&& e) { (*emit_)(std::move(e)); };
  };
  for (const auto& r : plan_.rules) rule_emit_.push_back(route(r.digest));
  for (const auto& s : plan_.schedules) schedule_emit_.push_back(route(s.digest));
  // `suppress while`: the suppressing rule's emissions are recorded for the suppressed rule.
  for (size_t x = 0; x < plan_.rules.size(); ++x) {
    const auto& suppressions = plan_.rules[x].suppressions;
    for (size_t i = 0; i < suppressions.size(); ++i)
      rules_[static_cast<size_t>(suppressions[i].rule)]->AddListener(
          &rules_[x]->activity(i), &suppressions[i].other_fields, &pending_activity_);
  }
  metric_order_ = graph.MetricOrder();
  for (size_t i = 0; i < plan_.metrics.size(); ++i) {
    const auto& in = plan_.metrics[i].input;
    (in.is_stream ? stream_metrics_[static_cast<size_t>(in.stream)]
                  : metric_metrics_[static_cast<size_t>(in.metric)])
        .push_back(static_cast<int>(i));
    if (const auto& join = plan_.metrics[i].join)  // a join reads a second metric
      metric_metrics_[static_cast<size_t>(join->right)].push_back(static_cast<int>(i));
  }
  watermarks_.assign(plan_.metrics.size(), INT64_MIN);
  pending_watermarks_.resize(plan_.metrics.size());
  staged_correction_.assign(plan_.metrics.size(), 0);
  for (size_t i = 0; i < plan_.rules.size(); ++i) {
    const auto& in = plan_.rules[i].input;
    (in.is_stream ? stream_rules_[static_cast<size_t>(in.stream)]
                  : metric_rules_[static_cast<size_t>(in.metric)])
        .push_back(static_cast<int>(i));
  }
  record_.resize(dsl::kMaxSlots);
  for (size_t m = 0; m < plan_.metrics.size(); ++m) {
    const int64_t size = plan_.metrics[m].window_size;
    on_record_.emplace_back([this, m, size](std::span<const Value> record, std::string_view key,
                                            int64_t time, bool correction) {
      if (correction) ++stats_.corrections;
      const int store = StoreIndex(record, metric_store_field_[m]);
      for (int d : metric_metrics_[m]) {
        if (JoinOperator* j = joins_[static_cast<size_t>(d)].get()) {
          if (!j->Add(static_cast<int>(m), record, time)) ++stats_.late;
        } else if (metrics_[static_cast<size_t>(d)]->Add(record, time, nullptr, key, correction,
                                                          store) == MetricOperator::AddResult::kLate) {
          ++stats_.late;
        }
      }
      for (int r : metric_rules_[m])
        rules_[static_cast<size_t>(r)]->Process(record, key, time, size, nullptr,
                                                rule_emit_[static_cast<size_t>(r)], store, correction);
      for (int s : metric_schedules_[m]) schedules_[static_cast<size_t>(s)]->Record(record, key, time);
    });
    on_watermark_.emplace_back([this, m](std::string_view partition, int64_t watermark) {
      if (stages_[m]) {  // `top` may still hold records of this watermark: pass it on after them
        pending_watermarks_[m].emplace_back(partition, watermark);
        return;
      }
      for (int d : metric_metrics_[m])
        if (MetricOperator* op = metrics_[static_cast<size_t>(d)].get()) op->AdvanceTo(partition, watermark);
    });
    on_staged_.emplace_back([this, m](std::span<const Value> record, std::string_view key, int64_t time) {
      on_record_[m](record, key, time, staged_correction_[m] != 0);
    });
    if (stages_[m]) {
      on_fire_.emplace_back([this, m](std::span<const Value> record, std::string_view key,
                                      int64_t time, bool correction) {
        staged_correction_[m] = correction;
        stages_[m]->Push(record, key, time, on_staged_[m]);
      });
    } else {
      on_fire_.push_back(on_record_[m]);
    }
  }
}

EventTime Pipeline::TimeOf(const dsl::plan::Metric& metric) const {
  const dsl::plan::Metric* root = &metric;
  while (!root->input.is_stream) root = &plan_.metrics[static_cast<size_t>(root->input.metric)];
  const auto& stream = plan_.streams[static_cast<size_t>(root->input.stream)];
  EventTime t;
  // Refunds attributed to their sale may correct a window up to the attribution's length later.
  t.lateness = std::max(stream.lateness, metric.attribute_within);
  // A metric over a metric waits for nothing more than its input did.
  t.delay = root == &metric ? stream.delay : 0;
  t.idle = stream.idle;
  return t;
}

void Pipeline::Process(const Event& event, const EmissionHandler& emit) {
  ++stats_.events;
  emit_ = &emit;
  const auto kind = static_cast<size_t>(event.kind());
  const size_t n = event.schema().fields.size();
  for (size_t i = 0; i < n; ++i) record_[i] = event.Get(static_cast<int>(i));
  const std::span<const Value> record(record_.data(), n);
  const int64_t ts = event.ts();
  const int store = StoreIndex(record, dsl::kSlotStore);
  if (sales_ && event.kind() == dsl::StreamKind::kSale) {
    static const int order = *dsl::Schema(dsl::StreamKind::kSale).Slot("order");
    const Value& o = record[static_cast<size_t>(order)];
    if (o.type == dsl::Type::kString) sales_->Record(event.store(), o.str(), ts);
  }
  for (int m : stream_metrics_[kind]) {
    MetricOperator& op = *metrics_[static_cast<size_t>(m)];
    if (op.Add(record, ts, &event, {}, false, store) == MetricOperator::AddResult::kLate) {
      ++stats_.late;
      if (late_)
        late_(LateEvent{event, op.plan().name, plan_.streams[kind].lateness});
    }
  }
  if (!stream_rules_[kind].empty()) {
    key_scratch_.clear();
    EncodeValue(record[dsl::kSlotStore], key_scratch_);
    for (int r : stream_rules_[kind])
      rules_[static_cast<size_t>(r)]->Process(record, key_scratch_, ts, 0, &event,
                                              rule_emit_[static_cast<size_t>(r)], store);
  }
  max_ts_ = std::max(max_ts_, ts);
  for (int m : stream_metrics_[kind])
    if (metrics_[static_cast<size_t>(m)]->HasDue()) FireMetric(static_cast<size_t>(m), emit);
  if (!stream_schedules_[kind].empty()) {
    // The event moved its store's watermarks: report the instants they reached.
    store_key_.clear();
    EncodeValue(record[dsl::kSlotStore], store_key_);
    for (int s : stream_schedules_[kind]) {
      const auto i = static_cast<size_t>(s);
      const auto mi = static_cast<size_t>(plan_.schedules[i].metric);
      const int64_t watermark = metrics_[mi] ? metrics_[mi]->WatermarkOf(store_key_) : watermarks_[mi];
      schedules_[i]->Advance(store_key_, watermark, schedule_emit_[i]);
    }
  }
  Settle(/*final=*/false);
  emit_ = nullptr;
}

void Pipeline::Settle(bool final) {
  for (PendingActivity& a : pending_activity_) a.table->Record(a.key, a.time);
  pending_activity_.clear();
  for (auto& d : digests_) {
    if (final) d->FireAll(*emit_);
    else if (d->Due(max_ts_)) d->Advance(max_ts_, *emit_);
  }
}

void Pipeline::FireMetric(size_t m, const EmissionHandler& emit) {
  emit_ = &emit;
  metrics_[m]->Fire(on_fire_[m], on_watermark_[m]);
  FlushStages(m);
  Route(m, emit);
}

void Pipeline::FlushStages(size_t m) {
  if (!stages_[m]) return;
  stages_[m]->Flush(on_staged_[m]);
  for (const auto& [partition, watermark] : pending_watermarks_[m])
    for (int d : metric_metrics_[m])
      if (MetricOperator* op = metrics_[static_cast<size_t>(d)].get()) op->AdvanceTo(partition, watermark);
  pending_watermarks_[m].clear();
}

int64_t Pipeline::LowWatermark(size_t m) const {
  return metrics_[m] ? metrics_[m]->low_watermark() : watermarks_[m];
}

void Pipeline::FireJoin(size_t m, const EmissionHandler& emit) {
  const auto& join = *plan_.metrics[m].join;
  // An input with windows still to fire has a watermark past records it has not sent yet (an
  // event reaches every metric of its stream before any fires): wait for them, or the join would
  // close the window without them. Its firing routes here again.
  for (int input : {join.left, join.right})
    if (const MetricOperator* op = metrics_[static_cast<size_t>(input)].get(); op && op->HasDue())
      return;
  const int64_t watermark = std::min(LowWatermark(static_cast<size_t>(join.left)),
                                     LowWatermark(static_cast<size_t>(join.right)));
  if (watermark <= watermarks_[m]) return;
  watermarks_[m] = watermark;
  emit_ = &emit;
  JoinOperator& j = *joins_[m];
  if (j.HasDue(watermark)) {
    j.Fire(watermark, [this, m](std::span<const Value> record, std::string_view key, int64_t time) {
      on_fire_[m](record, key, time, false);
    });
    FlushStages(m);
  }
  for (int d : metric_metrics_[m])
    if (MetricOperator* op = metrics_[static_cast<size_t>(d)].get()) op->AdvanceAll(watermark);
  Route(m, emit);
}

void Pipeline::Route(size_t m, const EmissionHandler& emit) {
  // Metrics built on this one received its records and watermarks: fire what that made due.
  for (int d : metric_metrics_[m]) {
    const auto i = static_cast<size_t>(d);
    if (joins_[i]) FireJoin(i, emit);
    else if (metrics_[i]->HasDue()) FireMetric(i, emit);
  }
}

void Pipeline::FireAll(const EmissionHandler& emit) {
  emit_ = &emit;
  for (int m : metric_order_) {
    const auto i = static_cast<size_t>(m);
    if (joins_[i]) {
      watermarks_[i] = INT64_MAX;
      joins_[i]->Fire(INT64_MAX, [this, i](std::span<const Value> record, std::string_view key,
                                           int64_t time) { on_fire_[i](record, key, time, false); });
      FlushStages(i);
      for (int d : metric_metrics_[i])
        if (MetricOperator* op = metrics_[static_cast<size_t>(d)].get()) op->AdvanceAll(INT64_MAX);
    } else {
      metrics_[i]->FireAll(on_fire_[i], on_watermark_[i]);
      FlushStages(i);
    }
  }
  Settle(/*final=*/true);
  emit_ = nullptr;
}

int Pipeline::StoreIndex(std::span<const Value> record, int field) const {
  if (!plan_.policies.by_store || field < 0) return -1;
  const Value& store = record[static_cast<size_t>(field)];
  if (store.type != dsl::Type::kString) return -1;
  return plan_.policies.StoreIndex(store.str());
}

PipelineStats Pipeline::stats() const {
  PipelineStats s = stats_;
  for (const auto& r : rules_) {
    s.suppressed += r->suppressed();
    s.deduped += r->deduped();
    s.throttled += r->throttled();
  }
  for (const auto& d : digests_) s.held += d->held();
  return s;
}

size_t Pipeline::open_windows() const {
  size_t n = 0;
  for (const auto& m : metrics_)
    if (m) n += m->open_windows();
  for (const auto& j : joins_)
    if (j) n += j->open_windows();
  return n;
}

void Pipeline::Save(WriteBatch& batch) const {
  for (const auto& m : metrics_)
    if (m) m->Save(batch);
  for (const auto& j : joins_)
    if (j) j->Save(batch);
  for (const auto& r : rules_) r->Save(batch);
  if (sales_) sales_->Save(batch);
  for (const auto& s : schedules_) s->Save(batch);
  // Every digest's outbox entries are rewritten: those of digests no longer declared go.
  batch.DeleteRange(Family::kOutbox, std::string(1, DigestOperator::kOutboxTag),
                    std::string(1, DigestOperator::kOutboxTag + 1));
  for (const auto& d : digests_) d->Save(batch);
}

void Pipeline::MarkSaved() {
  for (auto& m : metrics_)
    if (m) m->MarkSaved();
}

void Pipeline::MarkAllUnsaved() {
  // Metrics write only what changed; every other operator rewrites its whole state anyway.
  for (auto& m : metrics_)
    if (m) m->MarkAllUnsaved();
}

bool Pipeline::Load(StateStore& store, std::string& error) {
  for (auto& m : metrics_)
    if (m && !m->Load(store, error)) return false;
  for (auto& j : joins_)
    if (j && !j->Load(store, error)) return false;
  for (auto& r : rules_)
    if (!r->Load(store, error)) return false;
  if (sales_ && !sales_->Load(store, error)) return false;
  for (auto& s : schedules_)
    if (!s->Load(store, error)) return false;
  for (auto& d : digests_)
    if (!d->Load(store, error)) return false;
  return true;
}

}  // namespace aisle::engine
