// The metric operator's checkpoints: how its state is laid out in RocksDB, what a checkpoint
// writes (only what changed since the last one) and how state is restored, including state saved
// by earlier versions.
//
// Keys, all in the windows family under the operator's fingerprint [u64 BE]:
//   [fp]['V'][u32 length][partition][ordered i64 window start][group key]
//       -> [4][ordered i64 window end][flags][payload]
//   [fp]['S'][u32 length][partition][ordered i64 window start][u32 length][group key][fields]
//       -> empty: what a `distinct` window has seen
//   [fp]['R'][u32 length][partition][group key] -> a sliding or session group (SaveTrails)
//   [fp]['P'][partition] -> the partition's watermark
// The partition is the encoded store, or empty for a metric not keyed by store. One partition's
// window is one key range in 'V' and in 'S', deleted as a whole when the window closes for good.
// Payload over a stream: per aggregate [currency u32][len u32][state]; over a metric:
// [count u32] then per input record [len u32][identity][len u32][encoded record].
//
// Earlier versions wrote [fp]['W'][u32 length][group key][ordered window start] -> version 3
// (as 4) or version 2 ([2][window end][states], no flags); [fp]['F'] -> one watermark for the
// whole metric; [fp]['D'][window start][entry] and [fp]['T'][group key] without the partition.
// They are read, and deleted by the next checkpoint, which writes everything in the new layout.

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/metric_operator.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
constexpr char kStateVersion = 4;
constexpr char kWindowTag = 'V';
constexpr char kSeenTag = 'S';
constexpr char kTrailTag = 'R';
constexpr char kWatermarkTag = 'P';
constexpr char kTrailVersion = 1;
// Earlier layouts.
constexpr char kLegacyWindowTag = 'W';
constexpr char kLegacyMarkTag = 'F';
constexpr char kLegacyDistinctTag = 'D';
constexpr char kLegacyTrailTag = 'T';
constexpr unsigned char kFiredFlag = 1, kEmittedFlag = 2, kDirtyFlag = 4;

// [prefix][start] .. [prefix][start + 1]: every key of window `start` under `prefix`.
void DeleteWindow(const std::string& prefix, int64_t start, WriteBatch& batch) {
  std::string begin = prefix, end = prefix;
  PutI64Ordered(begin, start);
  if (start < INT64_MAX) {
    PutI64Ordered(end, start + 1);
  } else {
    // No start follows: the end is the first key after every key under `prefix`.
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  }
  batch.DeleteRange(Family::kWindows, begin, end);
}
}  // namespace

std::string MetricOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  return p;
}

std::string MetricOperator::PartitionPrefix(char tag, std::string_view partition) const {
  std::string p = Prefix();
  p.push_back(tag);
  PutU32(p, static_cast<uint32_t>(partition.size()));
  p += partition;
  return p;
}

void MetricOperator::Save(WriteBatch& batch) const {
  const std::string prefix = Prefix();
  if (legacy_) {
    // Loaded from an earlier layout, and all marked unsaved: it is written anew below.
    for (char tag : {kLegacyWindowTag, kLegacyDistinctTag, kLegacyTrailTag})
      batch.DeleteRange(Family::kWindows, prefix + tag, prefix + static_cast<char>(tag + 1));
    batch.Delete(Family::kWindows, prefix + kLegacyMarkTag);
  }
  for (const auto* entry : touched_) SavePartition(entry->first, entry->second, batch);
}

void MetricOperator::SavePartition(std::string_view partition, const Partition& p,
                                   WriteBatch& batch) const {
  // Deletions first: a batch applies in order, so nothing written below is lost to them.
  const std::string windows = PartitionPrefix(kWindowTag, partition);
  const std::string seen = p.distinct ? PartitionPrefix(kSeenTag, partition) : std::string();
  for (int64_t start : p.closed) {
    DeleteWindow(windows, start, batch);
    if (p.distinct) DeleteWindow(seen, start, batch);
  }
  std::string key, value;
  if (p.watermark_unsaved) {
    key = Prefix();
    key.push_back(kWatermarkTag);
    key += partition;
    PutI64Ordered(value, p.watermark);
    batch.Put(Family::kWindows, key, value);
  }
  for (const auto& [start, w] : p.windows) {
    if (w.unsaved.empty()) continue;
    key = windows;
    PutI64Ordered(key, start);
    const size_t base = key.size();
    for (const auto* group : w.unsaved) {
      key.resize(base);
      key += group->first;
      EncodeGroup(w, group->second, value);
      batch.Put(Family::kWindows, key, value);
    }
  }
  if (p.distinct) p.distinct->Save(seen, batch);
  if (record_windows_) SaveTrails(partition, p, batch);
}

void MetricOperator::EncodeGroup(const Window& w, const Group& g, std::string& value) const {
  value.assign(1, kStateVersion);
  PutI64Ordered(value, w.end);
  value.push_back(static_cast<char>((w.fired ? kFiredFlag : 0) | (g.emitted ? kEmittedFlag : 0) |
                                    (g.dirty ? kDirtyFlag : 0)));
  if (over_metric_) {
    PutU32(value, static_cast<uint32_t>(g.inputs->size()));
    for (const auto& [identity, encoded] : *g.inputs) {
      PutU32(value, static_cast<uint32_t>(identity.size()));
      value += identity;
      PutU32(value, static_cast<uint32_t>(encoded.size()));
      value += encoded;
    }
    return;
  }
  std::string blob;
  for (size_t i = 0; i < aggs_.size(); ++i) {
    PutU32(value, CurrencyOf(g.state.get(), i));
    const unsigned char* s = g.state.get() + offsets_[i];
    if (aggs_[i]->save) {
      blob.clear();
      aggs_[i]->save(s, blob);
    } else {
      blob.assign(reinterpret_cast<const char*>(s), aggs_[i]->state_size);
    }
    PutU32(value, static_cast<uint32_t>(blob.size()));
    value += blob;
  }
}

void MetricOperator::MarkSaved() {
  for (auto* entry : touched_) {
    Partition& p = entry->second;
    p.unsaved = p.watermark_unsaved = false;
    p.closed.clear();
    p.unsaved_trails.clear();
    if (p.distinct) p.distinct->MarkSaved();
    for (auto& [start, w] : p.windows) {
      for (auto* group : w.unsaved) group->second.unsaved = false;
      std::vector<Groups::value_type*>().swap(w.unsaved);  // its memory too: windows can be huge
    }
  }
  touched_.clear();
  legacy_ = false;
}

void MetricOperator::MarkAllUnsaved() {
  for (auto& entry : partitions_) {
    Partition& p = entry.second;
    p.watermark_unsaved = true;
    Touch(p);
    for (auto& [start, w] : p.windows)
      for (auto& group : w.groups) MarkUnsaved(p, w, group);
    if (p.distinct) p.distinct->MarkAllUnsaved();
    for (const auto& [group, trail] : p.trails) p.unsaved_trails.insert(group);
  }
}

size_t MetricOperator::unsaved_groups() const {
  size_t n = 0;
  for (const auto* entry : touched_)
    for (const auto& [start, w] : entry->second.windows) n += w.unsaved.size();
  return n;
}

bool MetricOperator::PartitionOfGroup(std::string_view group_key, std::string& out) const {
  out.clear();
  // Where the store sits among the group key's values.
  int partition_index = -1;
  for (size_t i = 0; i < plan_.keys.size(); ++i)
    if (plan_.keys[i] == partition_key_) partition_index = static_cast<int>(i);
  if (partition_index < 0) return true;
  std::vector<Value> keys;
  if (!DecodeValues(group_key, keys) || keys.size() != plan_.keys.size()) return false;
  EncodeValue(keys[static_cast<size_t>(partition_index)], out);
  return true;
}

bool MetricOperator::Load(StateStore& store, std::string& error) {
  const std::string prefix = Prefix();
  bool ok = true;
  Status s =
      store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
        return ok = LoadKey(key.substr(prefix.size()), value);
      });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) {
    error = "metric '" + plan_.name + "': unreadable saved window state";
    return false;
  }
  for (auto& entry : partitions_) {
    UpdateNextDue(entry.second);
    bool dirty = false;
    for (const auto& [start, w] : entry.second.windows) dirty |= w.dirty;
    if (entry.second.next_due <= entry.second.watermark || dirty) Queue(entry.second);
  }
  // What was loaded is on disk, unless it is in an earlier layout, which the next Save replaces.
  if (legacy_)
    MarkAllUnsaved();
  else
    MarkSaved();
  return true;
}

bool MetricOperator::LoadKey(std::string_view rest, std::string_view value) {
  if (rest.empty()) return false;
  const char tag = rest[0];
  rest.remove_prefix(1);
  std::string partition;
  switch (tag) {
    case kWindowTag:
    case kSeenTag:
    case kTrailTag: {
      if (rest.size() < 4 || GetU32(rest.data()) > rest.size() - 4) return false;
      partition.assign(rest.substr(4, GetU32(rest.data())));
      rest.remove_prefix(4 + partition.size());
      Partition& p = PartitionFor(partition);
      if (tag == kSeenTag) return p.distinct && p.distinct->Load(rest);
      if (tag == kTrailTag) return LoadTrail(p, rest, value);
      if (rest.size() < 8) return false;
      return LoadGroup(partition, GetI64Ordered(rest.data()), rest.substr(8), value, false);
    }
    case kWatermarkTag: {
      if (value.size() != 8) return false;
      Partition& p = PartitionFor(rest);
      p.watermark = std::max(p.watermark, GetI64Ordered(value.data()));
      return true;
    }
    case kLegacyWindowTag: {
      legacy_ = true;
      if (rest.size() < 12) return false;
      const uint32_t n = GetU32(rest.data());
      if (rest.size() != 4 + uint64_t{n} + 8) return false;
      const std::string_view group_key = rest.substr(4, n);
      if (!PartitionOfGroup(group_key, partition)) return false;
      return LoadGroup(partition, GetI64Ordered(rest.data() + 4 + n), group_key, value, true);
    }
    case kLegacyMarkTag: {  // one watermark for the whole metric
      legacy_ = true;
      if (!rest.empty() || value.size() != 8) return false;
      floor_ = GetI64Ordered(value.data());
      for (auto& [pk, p] : partitions_) p.watermark = std::max(p.watermark, floor_);
      return true;
    }
    case kLegacyDistinctTag: {  // [window start][u32 length][group key][fields]
      legacy_ = true;
      if (rest.size() < 12 || GetU32(rest.data() + 8) > rest.size() - 12) return false;
      if (!PartitionOfGroup(rest.substr(12, GetU32(rest.data() + 8)), partition)) return false;
      Partition& p = PartitionFor(partition);
      return p.distinct && p.distinct->Load(rest);
    }
    case kLegacyTrailTag: {
      legacy_ = true;
      return PartitionOfGroup(rest, partition) && LoadTrail(PartitionFor(partition), rest, value);
    }
    default:
      return false;
  }
}

bool MetricOperator::LoadGroup(std::string_view partition, int64_t start,
                               std::string_view group_key, std::string_view value, bool legacy) {
  if (value.size() < 9) return false;
  const char version = value[0];
  if (legacy ? version != 3 && version != 2 : version != kStateVersion) return false;
  const int64_t end = GetI64Ordered(value.data() + 1);
  unsigned char flags = 0;
  size_t pos = 9;
  if (version != 2) {
    if (value.size() < 10) return false;
    flags = static_cast<unsigned char>(value[9]);
    pos = 10;
  } else if (over_metric_) {
    return false;  // version 2 kept no input records
  }
  Group g = NewGroup();
  g.emitted = (flags & kEmittedFlag) != 0;
  g.dirty = (flags & kDirtyFlag) != 0;
  Window& window = PartitionFor(partition).windows[start];
  bool inserted = DecodeGroup(value.substr(pos), g);
  if (inserted) inserted = window.groups.try_emplace(std::string(group_key), std::move(g)).second;
  if (!inserted) {
    DestroyGroup(g);  // corrupt, or a key seen twice; g still owns its states
    return false;
  }
  window.end = end;
  window.fired = (flags & kFiredFlag) != 0;
  window.dirty = window.dirty || (flags & kDirtyFlag) != 0;
  return true;
}

bool MetricOperator::DecodeGroup(std::string_view payload, Group& g) const {
  size_t pos = 0;
  auto take = [&](std::string_view& out) {
    if (pos + 4 > payload.size()) return false;
    const uint32_t len = GetU32(payload.data() + pos);
    pos += 4;
    if (len > payload.size() - pos) return false;
    out = payload.substr(pos, len);
    pos += len;
    return true;
  };
  if (over_metric_) {
    if (pos + 4 > payload.size()) return false;
    const uint32_t count = GetU32(payload.data());
    pos += 4;
    for (uint32_t r = 0; r < count; ++r) {
      std::string_view identity, record;
      if (!take(identity) || !take(record)) return false;
      g.inputs->emplace(std::string(identity), std::string(record));
    }
    return true;
  }
  for (size_t i = 0; i < aggs_.size(); ++i) {
    if (pos + 4 > payload.size()) return false;
    SetCurrency(g.state.get(), i, GetU32(payload.data() + pos));
    pos += 4;
    std::string_view blob;
    if (!take(blob)) return false;
    unsigned char* s = g.state.get() + offsets_[i];
    if (aggs_[i]->load) {
      if (!aggs_[i]->load(s, blob)) return false;
    } else {
      if (blob.size() != aggs_[i]->state_size) return false;
      std::memcpy(s, blob.data(), blob.size());
    }
  }
  return true;
}

// Keys: [fingerprint]['R'][u32 length][partition][group key] -> [1][count u32] per record
// [time][len u32][arguments], [count u32] per session [first][last], [count u32] per window to
// fire [due][start]. Earlier versions: [fingerprint]['T'][group key], the same value.
// Writes the groups changed since the last checkpoint, deleting those that are gone.
void MetricOperator::SaveTrails(std::string_view partition, const Partition& p,
                                WriteBatch& batch) const {
  // Sliding: only the records a window still to come can hold are saved (after the watermark
  // less the window length, and after the start of the oldest window still to fire), and when
  // the watermark moved every trail of the partition is written again. What is saved then
  // depends on the records and the watermark alone, not on when the last sweep ran (a restart
  // sweeps at once) nor on when checkpoints came.
  const bool sliding = plan_.window_kind == dsl::plan::Metric::WindowKind::kSliding;
  const bool all = sliding && p.watermark_unsaved;
  if (p.unsaved_trails.empty() && !all) return;
  int64_t reach = INT64_MIN;
  if (sliding) {
    const int64_t size = plan_.window_size;
    reach = p.watermark < INT64_MIN + size ? INT64_MIN : p.watermark - size;
    if (!p.pending.empty()) reach = std::min(reach, std::get<2>(*p.pending.begin()));
  }
  std::set<std::string_view> groups(p.unsaved_trails.begin(), p.unsaved_trails.end());
  if (all)
    for (const auto& [group, trail] : p.trails) groups.insert(group);
  // The windows to fire are ordered by due time, not group: finding the changed groups' costs a
  // pass over the partition's, which are about as many as its open sliding or session windows.
  std::map<std::string_view, std::vector<std::pair<int64_t, int64_t>>> pending;
  for (const auto& [due, group, start] : p.pending)
    if (groups.count(group)) pending[group].emplace_back(due, start);
  const std::string prefix = PartitionPrefix(kTrailTag, partition);
  std::string key, value;
  for (std::string_view group : groups) {
    key = prefix;
    key += group;
    auto it = p.trails.find(group);
    auto due = pending.find(group);
    const size_t n = due == pending.end() ? 0 : due->second.size();
    if (it == p.trails.end()) {
      batch.Delete(Family::kWindows, key);
      continue;
    }
    const Trail& trail = it->second;
    const auto first = sliding ? trail.records.upper_bound(reach) : trail.records.begin();
    const auto kept = static_cast<size_t>(std::distance(first, trail.records.end()));
    if (kept == 0 && trail.sessions.empty() && n == 0) {  // all out of reach
      batch.Delete(Family::kWindows, key);
      continue;
    }
    value.assign(1, kTrailVersion);
    PutU32(value, static_cast<uint32_t>(kept));
    for (auto r = first; r != trail.records.end(); ++r) {
      PutI64Ordered(value, r->first);
      PutU32(value, static_cast<uint32_t>(r->second.size()));
      value += r->second;
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

bool MetricOperator::LoadTrail(Partition& p, std::string_view group_key, std::string_view value) {
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
  for (const auto& [at, start] : due) p.pending.emplace(at, std::string(group_key), start);
  p.trails.insert_or_assign(std::string(group_key), std::move(trail));
  return true;
}

}  // namespace aisle::engine
