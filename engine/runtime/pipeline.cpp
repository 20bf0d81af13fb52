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
    metrics_.push_back(m.join ? nullptr : std::make_unique<MetricOperator>(m, registry));
    joins_.push_back(m.join ? std::make_unique<JoinOperator>(m) : nullptr);
    stages_.push_back(m.post.empty() ? nullptr : std::make_unique<OutputStages>(m, registry));
  }
  watermarks_.assign(plan_.metrics.size(), INT64_MIN);
  for (const auto& r : plan_.rules)
    rules_.push_back(std::make_unique<RuleOperator>(r, registry, plan_.ruleset_hash));
  metric_order_ = graph.MetricOrder();
  for (size_t i = 0; i < plan_.metrics.size(); ++i) {
    const auto& in = plan_.metrics[i].input;
    (in.is_stream ? stream_metrics_[static_cast<size_t>(in.stream)]
                  : metric_metrics_[static_cast<size_t>(in.metric)])
        .push_back(static_cast<int>(i));
    if (const auto& join = plan_.metrics[i].join)  // a join reads a second metric
      metric_metrics_[static_cast<size_t>(join->right)].push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < plan_.rules.size(); ++i) {
    const auto& in = plan_.rules[i].input;
    (in.is_stream ? stream_rules_[static_cast<size_t>(in.stream)]
                  : metric_rules_[static_cast<size_t>(in.metric)])
        .push_back(static_cast<int>(i));
  }
  record_.resize(dsl::kMaxSlots);
}

void Pipeline::Process(const Event& event, const EmissionHandler& emit) {
  ++stats_.events;
  const auto kind = static_cast<size_t>(event.kind());
  const size_t n = event.schema().fields.size();
  for (size_t i = 0; i < n; ++i) record_[i] = event.Get(static_cast<int>(i));
  const std::span<const Value> record(record_.data(), n);
  const int64_t ts = event.ts();
  for (int m : stream_metrics_[kind])
    if (!metrics_[static_cast<size_t>(m)]->Add(record, ts, &event)) ++stats_.late;
  if (!stream_rules_[kind].empty()) {
    key_scratch_.clear();
    EncodeValue(record[dsl::kSlotStore], key_scratch_);
    for (int r : stream_rules_[kind])
      rules_[static_cast<size_t>(r)]->Process(record, key_scratch_, ts, 0, &event, emit);
  }
  if (ts > max_ts_) Advance(ts, emit);
}

void Pipeline::Advance(int64_t max_ts, const EmissionHandler& emit) {
  max_ts_ = max_ts;
  for (int m : metric_order_) {
    const auto& in = plan_.metrics[static_cast<size_t>(m)].input;
    if (!in.is_stream) continue;  // fired by its input, below
    int64_t lateness = plan_.streams[static_cast<size_t>(in.stream)].lateness;
    FireMetric(static_cast<size_t>(m), max_ts_ - lateness, emit);
  }
}

void Pipeline::FireMetric(size_t m, int64_t watermark, const EmissionHandler& emit) {
  if (const auto& join = plan_.metrics[m].join)  // a join has passed what both inputs have
    watermark = std::min(watermarks_[static_cast<size_t>(join->left)],
                         watermarks_[static_cast<size_t>(join->right)]);
  if (watermark <= watermarks_[m]) return;
  watermarks_[m] = watermark;
  MetricOperator* op = metrics_[m].get();
  JoinOperator* joined = joins_[m].get();
  if (op ? op->HasDue(watermark) : joined->HasDue(watermark)) {
    const int64_t size = plan_.metrics[m].window_size;
    const RecordHandler deliver = [&](std::span<const Value> record, std::string_view key, int64_t time) {
      for (int d : metric_metrics_[m]) {
        if (JoinOperator* j = joins_[static_cast<size_t>(d)].get()) {
          if (!j->Add(static_cast<int>(m), record, time)) ++stats_.late;
        } else if (!metrics_[static_cast<size_t>(d)]->Add(record, time)) {
          ++stats_.late;
        }
      }
      for (int r : metric_rules_[m])
        rules_[static_cast<size_t>(r)]->Process(record, key, time, size, nullptr, emit);
    };
    OutputStages* stages = stages_[m].get();
    const RecordHandler staged = [&](std::span<const Value> record, std::string_view key, int64_t time) {
      stages->Push(record, key, time, deliver);
    };
    if (op) op->Fire(watermark, stages ? staged : deliver);
    else joined->Fire(watermark, stages ? staged : deliver);
    if (stages) stages->Flush(deliver);
  }
  // Downstream metrics follow their input's watermark (after receiving what it just fired), even
  // when nothing closed here: a join needs both of its inputs' watermarks.
  for (int d : metric_metrics_[m]) FireMetric(static_cast<size_t>(d), watermark, emit);
}

void Pipeline::FireAll(const EmissionHandler& emit) {
  for (int m : metric_order_) {
    if (!plan_.metrics[static_cast<size_t>(m)].input.is_stream) continue;
    FireMetric(static_cast<size_t>(m), INT64_MAX, emit);
  }
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
}

bool Pipeline::Load(StateStore& store, std::string& error) {
  for (auto& m : metrics_)
    if (m && !m->Load(store, error)) return false;
  for (auto& j : joins_)
    if (j && !j->Load(store, error)) return false;
  for (auto& r : rules_)
    if (!r->Load(store, error)) return false;
  return true;
}

}  // namespace aisle::engine
