// Sliding and session windows of a MetricOperator: windows that follow each group's records
// rather than the clock. See metric_operator.hpp for what they compute and when they fire.

#include <algorithm>

#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/metric_operator.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
using Kind = dsl::plan::Metric::WindowKind;

int64_t SaturatingAdd(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }
int64_t SaturatingSub(int64_t a, int64_t b) { return a < INT64_MIN + b ? INT64_MIN : a - b; }
}  // namespace

bool MetricOperator::AddToTrail(Partition& p, const Input& in) {
  if (!in.pass) return true;
  // Older than the watermark: the windows it belongs to have fired, or fire without it.
  if (in.time < p.watermark) return false;
  key_scratch_.clear();
  for (int k : plan_.keys) EncodeValue(in.projected[static_cast<size_t>(k)], key_scratch_);
  auto trail_it = p.trails.find(std::string_view(key_scratch_));
  if (trail_it == p.trails.end()) trail_it = p.trails.emplace(key_scratch_, Trail{}).first;
  Trail& trail = trail_it->second;
  // Keep what the aggregates read, not the record: the event (for attr()) is gone at firing.
  std::string args;
  for (const auto& agg : plan_.aggregates)
    EncodeValue(agg.argument ? evaluator_.Eval(*agg.argument, in.projected, in.event, in.store)
                             : Value::Bool(true),
                args);
  trail.records.emplace(in.time, std::move(args));
  p.unsaved_trails.insert(key_scratch_);
  Touch(p);

  const int64_t size = plan_.window_size;
  Pending due;
  if (plan_.window_kind == Kind::kSliding) {
    // (t - size, t] is complete once the watermark passes t.
    due = {SaturatingAdd(in.time, 1), key_scratch_, SaturatingSub(in.time, size)};
  } else {
    // The session the record falls in, or a new one; it may join the next session too.
    int64_t first = in.time, last = in.time;
    auto next = trail.sessions.upper_bound(in.time);
    if (next != trail.sessions.begin()) {
      auto prev = std::prev(next);
      if (in.time < SaturatingAdd(prev->second, size)) {
        first = prev->first;
        last = std::max(prev->second, in.time);
        p.pending.erase(Pending{SaturatingAdd(prev->second, size), key_scratch_, prev->first});
        trail.sessions.erase(prev);
      }
    }
    while (next != trail.sessions.end() && next->first < SaturatingAdd(last, size)) {
      last = std::max(last, next->second);
      p.pending.erase(Pending{SaturatingAdd(next->second, size), key_scratch_, next->first});
      next = trail.sessions.erase(next);
    }
    trail.sessions.emplace(first, last);
    due = {SaturatingAdd(last, size), key_scratch_, first};
  }
  p.next_due = std::min(p.next_due, std::get<0>(due));
  p.pending.insert(std::move(due));
  return true;
}

void MetricOperator::EmitTrail(int64_t start, int64_t end, std::string_view key,
                               const Trail& trail, int64_t from, int64_t to,
                               const RecordHandler& emit) {
  // Aggregates over the records with time in [from, to], computed afresh.
  std::unique_ptr<unsigned char[]> states = NewStates();
  for (auto it = trail.records.lower_bound(from); it != trail.records.end() && it->first <= to; ++it) {
    input_.clear();
    if (!DecodeValues(it->second, input_) || input_.size() != aggs_.size()) continue;
    for (size_t i = 0; i < aggs_.size(); ++i) Fold(states.get(), i, input_[i]);
  }
  std::vector<Value>& record = record_;
  record.resize(plan_.output.size());
  keys_.clear();
  DecodeValues(key, keys_);
  size_t f = 0;
  for (const Value& k : keys_) record[f++] = k;
  for (size_t i = 0; i < aggs_.size(); ++i) record[f++] = Result(states.get(), i);
  record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
  record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
  emit(record, key, start, false);  // before the states go: string results point into them
  DestroyStates(states.get());
}

void MetricOperator::FireTrails(Partition& p, int64_t watermark, const RecordHandler& emit) {
  const int64_t size = plan_.window_size;
  const bool sliding = plan_.window_kind == Kind::kSliding;
  // Oldest first, groups of one instant in key order, so output does not depend on hashing.
  while (!p.pending.empty() && std::get<0>(*p.pending.begin()) <= watermark) {
    auto node = p.pending.extract(p.pending.begin());
    const auto& [due, key, start] = node.value();
    // Its pending windows are saved with its trail, so the trail is saved again even if gone.
    p.unsaved_trails.insert(key);
    Touch(p);
    auto trail_it = p.trails.find(key);
    if (trail_it == p.trails.end()) continue;
    Trail& trail = trail_it->second;
    if (sliding) {
      const int64_t t = due == INT64_MAX ? INT64_MAX : due - 1;
      EmitTrail(start, t, key, trail, start == INT64_MIN ? INT64_MIN : start + 1, t, emit);
      // Later windows of the group end after t: what is not after t - size is out of reach.
      trail.records.erase(trail.records.begin(), trail.records.upper_bound(start));
    } else {
      auto session = trail.sessions.find(start);
      if (session == trail.sessions.end()) continue;
      const int64_t last = session->second;
      EmitTrail(start, due, key, trail, start, last, emit);
      trail.records.erase(trail.records.lower_bound(start), trail.records.upper_bound(last));
      trail.sessions.erase(session);
    }
    if (trail.records.empty()) p.trails.erase(trail_it);
  }
  if (!sliding || watermark < p.next_sweep) return;
  // Windows still to come end at the watermark or later: drop records no such window holds, in
  // every group, once per window length of event time.
  const int64_t reach = SaturatingSub(watermark, size);
  for (auto it = p.trails.begin(); it != p.trails.end();) {
    Trail& trail = it->second;
    auto last = trail.records.upper_bound(reach);
    if (last != trail.records.begin()) {
      trail.records.erase(trail.records.begin(), last);
      p.unsaved_trails.insert(it->first);
      Touch(p);
    }
    it = trail.records.empty() ? p.trails.erase(it) : std::next(it);
  }
  p.next_sweep = SaturatingAdd(watermark, size);
}

}  // namespace aisle::engine
