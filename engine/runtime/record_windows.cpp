// Sliding and session windows of a MetricOperator: windows that follow each group's records
// rather than the clock. See metric_operator.hpp for what they compute and when they fire.

#include <algorithm>

#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/metric_operator.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
using Kind = dsl::plan::Metric::WindowKind;
constexpr char kTrailVersion = 1;
constexpr char kTrailTag = 'T';

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
  Group scratch;
  scratch.currency.assign(aggs_.size(), 0);
  scratch.state = std::make_unique<unsigned char[]>(std::max<size_t>(state_bytes_, 1));
  for (size_t i = 0; i < aggs_.size(); ++i) aggs_[i]->init(scratch.state.get() + offsets_[i]);
  for (auto it = trail.records.lower_bound(from); it != trail.records.end() && it->first <= to; ++it) {
    input_.clear();
    if (!DecodeValues(it->second, input_) || input_.size() != aggs_.size()) continue;
    for (size_t i = 0; i < aggs_.size(); ++i) {
      const Value& v = input_[i];
      if (v.type == dsl::Type::kMoney) {
        if (scratch.currency[i] == 0) scratch.currency[i] = v.currency;
        else if (scratch.currency[i] != v.currency) continue;  // never add up two currencies
      }
      aggs_[i]->add(scratch.state.get() + offsets_[i], v);
    }
  }
  std::vector<Value>& record = record_;
  record.resize(plan_.output.size());
  keys_.clear();
  DecodeValues(key, keys_);
  size_t f = 0;
  for (const Value& k : keys_) record[f++] = k;
  for (size_t i = 0; i < aggs_.size(); ++i)
    record[f++] = aggs_[i]->result(scratch.state.get() + offsets_[i],
                                   plan_.aggregates[i].argument_type, scratch.currency[i]);
  record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
  record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
  emit(record, key, start, false);  // before the states go: string results point into them
  DestroyGroup(scratch);
}

void MetricOperator::FireTrails(Partition& p, int64_t watermark, const RecordHandler& emit) {
  const int64_t size = plan_.window_size;
  const bool sliding = plan_.window_kind == Kind::kSliding;
  // Oldest first, groups of one instant in key order, so output does not depend on hashing.
  while (!p.pending.empty() && std::get<0>(*p.pending.begin()) <= watermark) {
    auto node = p.pending.extract(p.pending.begin());
    const auto& [due, key, start] = node.value();
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
    trail.records.erase(trail.records.begin(), trail.records.upper_bound(reach));
    it = trail.records.empty() ? p.trails.erase(it) : std::next(it);
  }
  p.next_sweep = SaturatingAdd(watermark, size);
}

// Keys: [fingerprint]['T'][group key] -> [1][count u32] per record [time][len u32][arguments],
// [count u32] per session [first][last], [count u32] per window to fire [due][start].
void MetricOperator::SaveTrails(const std::string& prefix, WriteBatch& batch) const {
  const bool sliding = plan_.window_kind == Kind::kSliding;
  std::string key, value;
  for (const auto& [pk, p] : partitions_) {
    std::map<std::string_view, std::vector<std::pair<int64_t, int64_t>>> pending;
    for (const auto& [due, group, start] : p.pending) pending[group].emplace_back(due, start);
    // Sliding: only the records a window still to come can hold (after the watermark less the
    // window length, and after the start of the oldest window still to fire). Those the sweep has
    // not dropped yet are left out, so what is saved does not depend on when the last sweep ran
    // (a restart sweeps at once: the state after a crash would differ from an uninterrupted run's).
    int64_t reach = sliding ? SaturatingSub(p.watermark, plan_.window_size) : INT64_MIN;
    if (sliding && !p.pending.empty()) reach = std::min(reach, std::get<2>(*p.pending.begin()));
    for (const auto& [group, trail] : p.trails) {
      const auto first = sliding ? trail.records.upper_bound(reach) : trail.records.begin();
      auto due = pending.find(group);
      const size_t n = due == pending.end() ? 0 : due->second.size();
      const auto kept = static_cast<size_t>(std::distance(first, trail.records.end()));
      if (kept == 0 && trail.sessions.empty() && n == 0) continue;  // all out of reach
      key = prefix;
      key.push_back(kTrailTag);
      key += group;
      value.assign(1, kTrailVersion);
      PutU32(value, static_cast<uint32_t>(kept));
      for (auto it = first; it != trail.records.end(); ++it) {
        PutI64Ordered(value, it->first);
        PutU32(value, static_cast<uint32_t>(it->second.size()));
        value += it->second;
      }
      PutU32(value, static_cast<uint32_t>(trail.sessions.size()));
      for (const auto& [first_time, last_time] : trail.sessions) {
        PutI64Ordered(value, first_time);
        PutI64Ordered(value, last_time);
      }
      PutU32(value, static_cast<uint32_t>(n));
      for (size_t i = 0; i < n; ++i) {
        PutI64Ordered(value, due->second[i].first);
        PutI64Ordered(value, due->second[i].second);
      }
      batch.Put(Family::kWindows, key, value);
    }
  }
}

bool MetricOperator::LoadTrail(std::string_view group_key, std::string_view value) {
  if (value.empty() || value[0] != kTrailVersion) return false;
  size_t pos = 1;
  auto u32 = [&](uint32_t& out) {
    if (pos + 4 > value.size()) return false;
    out = GetU32(value.data() + pos);
    pos += 4;
    return true;
  };
  auto i64 = [&](int64_t& out) {
    if (pos + 8 > value.size()) return false;
    out = GetI64Ordered(value.data() + pos);
    pos += 8;
    return true;
  };
  Trail trail;
  uint32_t n = 0;
  if (!u32(n)) return false;
  for (uint32_t r = 0; r < n; ++r) {
    int64_t time;
    uint32_t len;
    if (!i64(time) || !u32(len) || pos + len > value.size()) return false;
    trail.records.emplace(time, std::string(value.substr(pos, len)));
    pos += len;
  }
  if (!u32(n)) return false;
  for (uint32_t s = 0; s < n; ++s) {
    int64_t first, last;
    if (!i64(first) || !i64(last)) return false;
    trail.sessions.emplace(first, last);
  }
  std::vector<std::pair<int64_t, int64_t>> due;
  if (!u32(n)) return false;
  for (uint32_t d = 0; d < n; ++d) {
    int64_t at, start;
    if (!i64(at) || !i64(start)) return false;
    due.emplace_back(at, start);
  }
  if (pos != value.size()) return false;
  std::string partition;
  if (!PartitionOfGroup(group_key, partition)) return false;
  Partition& p = PartitionFor(partition);
  for (const auto& [at, start] : due) p.pending.emplace(at, std::string(group_key), start);
  p.trails.insert_or_assign(std::string(group_key), std::move(trail));
  return true;
}

}  // namespace aisle::engine
