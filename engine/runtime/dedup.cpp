#include "engine/runtime/dedup.hpp"

#include <xxhash.h>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
// Keys: [big-endian hour bucket][u32 sequence] -> packed big-endian u64 id hashes.
std::string BlockKey(int64_t bucket, uint32_t sequence) {
  std::string key;
  PutI64Ordered(key, bucket);
  PutU32(key, sequence);
  return key;
}
}  // namespace

int64_t DedupFilter::Horizon(int64_t newest) const {
  if (newest == INT64_MIN) return INT64_MIN;
  return dsl::FloorDiv(newest - retention_, dsl::kMicrosPerHour);
}

bool DedupFilter::FirstSeen(std::string_view id, int64_t ts, int64_t newest) {
  uint64_t h = XXH3_64bits(id.data(), id.size());
  const int64_t bucket = dsl::FloorDiv(ts, dsl::kMicrosPerHour);
  auto [it, fresh] = seen_.try_emplace(h, bucket);
  if (!fresh) {
    // Seen in an hour the retention has passed: forgotten, even if no checkpoint purged it yet.
    if (it->second >= Horizon(newest)) return false;
    it->second = bucket;
  }
  buckets_[bucket].push_back(h);
  pending_[bucket].push_back(h);
  return true;
}

void DedupFilter::Save(WriteBatch& batch, int64_t newest_ts) {
  std::string value;
  for (const auto& [bucket, ids] : pending_) {
    value.clear();
    for (uint64_t h : ids) PutU64BE(value, h);
    batch.Put(Family::kDedup, BlockKey(bucket, sequence_++), value);
  }
  pending_.clear();
  if (newest_ts == INT64_MIN) return;
  const int64_t horizon = Horizon(newest_ts);
  if (buckets_.empty() || buckets_.begin()->first >= horizon) return;
  for (auto it = buckets_.begin(); it != buckets_.end() && it->first < horizon;) {
    for (uint64_t h : it->second) {
      // Unless the id was seen again since, in a later hour.
      auto s = seen_.find(h);
      if (s != seen_.end() && s->second == it->first) seen_.erase(s);
    }
    it = buckets_.erase(it);
  }
  batch.DeleteRange(Family::kDedup, BlockKey(INT64_MIN, 0), BlockKey(horizon, 0));
}

bool DedupFilter::Load(StateStore& store, std::string& error) {
  bool ok = true;
  Status s = store.Scan(Family::kDedup, {}, [&](std::string_view key, std::string_view value) {
    if (key.size() != 12 || value.size() % 8 != 0) return ok = false;
    int64_t bucket = GetI64Ordered(key.data());
    sequence_ = std::max(sequence_, GetU32(key.data() + 8) + 1);
    auto& ids = buckets_[bucket];
    for (size_t i = 0; i < value.size(); i += 8) {
      uint64_t h = GetU64BE(value.data() + i);
      auto [it, fresh] = seen_.try_emplace(h, bucket);
      if (!fresh && it->second < bucket) it->second = bucket;  // seen again, after it was forgotten
      ids.push_back(h);
    }
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "unreadable dedup state";
  return ok;
}

}  // namespace aisle::engine
