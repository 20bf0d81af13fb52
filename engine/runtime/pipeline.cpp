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
      metric_rules_(plan.metrics.size()) {
  for (const auto& m : plan_.metrics) {
    metrics_.push_back(std::make_unique<MetricOperator>(m, registry, TimeOf(m), &plan_.policies));
    int store = -1;
    for (size_t f = 0; f < m.output.size(); ++f)
      if (m.output[f].name == "store") store = static_cast<int>(f);
    metric_store_field_.push_back(store);
  }
  for (const auto& r : plan_.rules)
    rules_.push_back(
        std::make_unique<RuleOperator>(r, registry, plan_.ruleset_hash, &plan_.policies));
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
      const int store = StoreIndex(record, metric_store_field_[m]);
      for (int d : metric_metrics_[m])
        if (metrics_[static_cast<size_t>(d)]->Add(record, time, nullptr, key, correction, store) ==
            MetricOperator::AddResult::kLate)
          ++stats_.late;
      for (int r : metric_rules_[m])
        rules_[static_cast<size_t>(r)]->Process(record, key, time, size, nullptr, *emit_, store,
                                                correction);
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
  const int store = StoreIndex(record, dsl::kSlotStore);
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
      rules_[static_cast<size_t>(r)]->Process(record, key_scratch_, ts, 0, &event, emit, store);
  }
  max_ts_ = std::max(max_ts_, ts);
  for (int m : stream_metrics_[kind])
    if (metrics_[static_cast<size_t>(m)]->HasDue()) FireMetric(static_cast<size_t>(m), emit);
  emit_ = nullptr;
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
  emit_ = nullptr;
}

int Pipeline::StoreIndex(std::span<const Value> record, int field) const {
  if (!plan_.policies.by_store || field < 0) return -1;
  const Value& store = record[static_cast<size_t>(field)];
  if (store.type != dsl::Type::kString) return -1;
  return plan_.policies.StoreIndex(store.str());
}

PipelineStats Pipeline::stats() const { return stats_; }

size_t Pipeline::open_windows() const {
  size_t n = 0;
  for (const auto& m : metrics_) n += m->open_windows();
  return n;
}

void Pipeline::Save(WriteBatch& batch) const {
  for (const auto& m : metrics_) m->Save(batch);
  for (const auto& r : rules_) r->Save(batch);
}

bool Pipeline::Load(StateStore& store, std::string& error) {
  for (auto& m : metrics_)
    if (!m->Load(store, error)) return false;
  for (auto& r : rules_)
    if (!r->Load(store, error)) return false;
  return true;
}

}  // namespace aisle::engine
