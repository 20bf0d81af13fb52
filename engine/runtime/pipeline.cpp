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
  for (const auto& m : plan_.metrics)
    metrics_.push_back(std::make_unique<MetricOperator>(m, registry, TimeOf(m)));
  for (const auto& r : plan_.rules)
    rules_.push_back(std::make_unique<RuleOperator>(r, registry, plan_.ruleset_hash));
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
  }
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
      for (int d : metric_metrics_[m])
        if (metrics_[static_cast<size_t>(d)]->Add(record, time, nullptr, key, correction) ==
            MetricOperator::AddResult::kLate)
          ++stats_.late;
      for (int r : metric_rules_[m])
        rules_[static_cast<size_t>(r)]->Process(record, key, time, size, nullptr,
                                                rule_emit_[static_cast<size_t>(r)], correction);
      for (int s : metric_schedules_[m]) schedules_[static_cast<size_t>(s)]->Record(record, key, time);
    });
    on_watermark_.emplace_back([this, m](std::string_view partition, int64_t watermark) {
      for (int d : metric_metrics_[m]) metrics_[static_cast<size_t>(d)]->AdvanceTo(partition, watermark);
    });
  }
}

EventTime Pipeline::TimeOf(const dsl::plan::Metric& metric) const {
  const dsl::plan::Metric* root = &metric;
  while (!root->input.is_stream) root = &plan_.metrics[static_cast<size_t>(root->input.metric)];
  const auto& stream = plan_.streams[static_cast<size_t>(root->input.stream)];
  EventTime t;
  t.lateness = stream.lateness;
  // A metric over a metric waits for nothing more than its input did.
  t.delay = root == &metric ? stream.delay : 0;
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
  for (int m : stream_metrics_[kind]) {
    MetricOperator& op = *metrics_[static_cast<size_t>(m)];
    if (op.Add(record, ts, &event) == MetricOperator::AddResult::kLate) {
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
                                              rule_emit_[static_cast<size_t>(r)]);
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
      const auto& metric = *metrics_[static_cast<size_t>(plan_.schedules[i].metric)];
      schedules_[i]->Advance(store_key_, metric.WatermarkOf(store_key_), schedule_emit_[i]);
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
  metrics_[m]->Fire(on_record_[m], on_watermark_[m]);
  Route(m, emit);
}

void Pipeline::Route(size_t m, const EmissionHandler& emit) {
  // Metrics built on this one received its records and watermarks: fire what that made due.
  for (int d : metric_metrics_[m])
    if (metrics_[static_cast<size_t>(d)]->HasDue()) FireMetric(static_cast<size_t>(d), emit);
}

void Pipeline::FireAll(const EmissionHandler& emit) {
  emit_ = &emit;
  for (int m : metric_order_) {
    const auto i = static_cast<size_t>(m);
    metrics_[i]->FireAll(on_record_[i], on_watermark_[i]);
  }
  Settle(/*final=*/true);
  emit_ = nullptr;
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
  for (const auto& m : metrics_) n += m->open_windows();
  return n;
}

void Pipeline::Save(WriteBatch& batch) const {
  for (const auto& m : metrics_) m->Save(batch);
  for (const auto& r : rules_) r->Save(batch);
  for (const auto& s : schedules_) s->Save(batch);
  // Every digest's outbox entries are rewritten: those of digests no longer declared go.
  batch.DeleteRange(Family::kOutbox, std::string(1, DigestOperator::kOutboxTag),
                    std::string(1, DigestOperator::kOutboxTag + 1));
  for (const auto& d : digests_) d->Save(batch);
}

bool Pipeline::Load(StateStore& store, std::string& error) {
  for (auto& m : metrics_)
    if (!m->Load(store, error)) return false;
  for (auto& r : rules_)
    if (!r->Load(store, error)) return false;
  for (auto& s : schedules_)
    if (!s->Load(store, error)) return false;
  for (auto& d : digests_)
    if (!d->Load(store, error)) return false;
  return true;
}

}  // namespace aisle::engine
