#include "engine/runtime/output_stages.hpp"

#include <algorithm>

#include "engine/runtime/key_codec.hpp"

namespace aisle::engine {

using dsl::Type;
using dsl::Value;

namespace {

// Whether `a` ranks before `b`: larger first, nulls last.
bool RanksBefore(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return !a.is_null() && b.is_null();
  const bool fa = a.type == Type::kDecimal || a.type == Type::kPercent;
  const bool fb = b.type == Type::kDecimal || b.type == Type::kPercent;
  if (fa || fb) {
    const double x = fa ? a.d : static_cast<double>(a.i);
    const double y = fb ? b.d : static_cast<double>(b.i);
    return x > y;
  }
  return a.i > b.i;
}

}  // namespace

OutputStages::OutputStages(const dsl::plan::Metric& plan, const OperatorRegistry& registry)
    : plan_(plan), evaluator_(registry), stages_(plan.post.size()) {
  for (size_t i = 0; i < plan_.post.size(); ++i)
    if (plan_.post[i].kind == dsl::plan::PostStage::Kind::kSelect)
      stages_[i].scratch.resize(plan_.post[i].fields.size());
}

void OutputStages::Push(std::span<const Value> record, std::string_view key, int64_t time,
                        const PlainRecordHandler& next) {
  Run(0, record, key, time, next);
}

void OutputStages::Run(size_t i, std::span<const Value> record, std::string_view key, int64_t time,
                       const PlainRecordHandler& next) {
  if (i == stages_.size()) {
    next(record, key, time);
    return;
  }
  const dsl::plan::PostStage& post = plan_.post[i];
  Stage& stage = stages_[i];
  if (post.kind == dsl::plan::PostStage::Kind::kSelect) {
    for (size_t f = 0; f < post.select.size(); ++f)
      stage.scratch[f] = evaluator_.Eval(post.select[f], record);
    Run(i + 1, stage.scratch, key, time, next);
    return;
  }
  if (stage.used > 0 && stage.time != time) FlushTop(i, next);  // the previous window is whole
  if (stage.used == stage.held.size()) stage.held.emplace_back();
  Held& h = stage.held[stage.used++];
  stage.time = time;
  h.record.clear();
  for (const Value& v : record) EncodeValue(v, h.record);
  h.key.assign(key);
  h.per.clear();
  for (int f : post.top_per) EncodeValue(record[static_cast<size_t>(f)], h.per);
  h.score = evaluator_.Eval(*post.top_by, record);
}

void OutputStages::FlushTop(size_t i, const PlainRecordHandler& next) {
  Stage& stage = stages_[i];
  const size_t n = stage.used;
  stage.used = 0;  // records pushed while passing these on belong to later stages
  stage.order.resize(n);
  for (size_t k = 0; k < n; ++k) stage.order[k] = k;
  // Held in key order; a stable sort keeps it among equal scores.
  std::stable_sort(stage.order.begin(), stage.order.end(), [&](size_t a, size_t b) {
    const Held& x = stage.held[a];
    const Held& y = stage.held[b];
    if (x.per != y.per) return x.per < y.per;
    return RanksBefore(x.score, y.score);
  });
  const int64_t k_max = plan_.post[i].top_count;
  int64_t kept = 0;
  const std::string* group = nullptr;
  for (size_t k = 0; k < n; ++k) {
    const Held& h = stage.held[stage.order[k]];
    if (!group || h.per != *group) {
      group = &h.per;
      kept = 0;
    }
    if (kept++ >= k_max) continue;
    stage.scratch.clear();
    if (!DecodeValues(h.record, stage.scratch)) continue;
    Run(i + 1, stage.scratch, h.key, stage.time, next);
  }
}

void OutputStages::Flush(const PlainRecordHandler& next) {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (plan_.post[i].kind == dsl::plan::PostStage::Kind::kTop && stages_[i].used > 0)
      FlushTop(i, next);
}

}  // namespace aisle::engine
