#include "engine/runtime/sale_index.hpp"

#include <xxhash.h>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
constexpr std::string_view kPrefix = "sale-index/";

// Keys: "sale-index/" [big-endian hour bucket][u32 sequence] -> packed (u64 hash, i64 time).
std::string BlockKey(int64_t bucket, uint32_t sequence) {
  std::string key(kPrefix);
  PutI64Ordered(key, bucket);
  PutU32(key, sequence);
  return key;
}
}  // namespace

uint64_t SaleIndex::Hash(std::string_view store, std::string_view order) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::string len;
  PutU32(len, static_cast<uint32_t>(store.size()));
  XXH3_64bits_update(st, len.data(), len.size());
  XXH3_64bits_update(st, store.data(), store.size());
  XXH3_64bits_update(st, order.data(), order.size());
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

int64_t SaleIndex::OldestHour() const {
  if (newest_ == INT64_MIN) return INT64_MIN;
  return dsl::FloorDiv(newest_ - horizon_, dsl::kMicrosPerHour);
}

void SaleIndex::Record(std::string_view store, std::string_view order, int64_t ts) {
  if (order.empty()) return;
  newest_ = std::max(newest_, ts);
  const uint64_t h = Hash(store, order);
  auto [it, fresh] = sold_.try_emplace(h, ts);
  if (!fresh) {
    if (it->second >= ts) return;
    it->second = ts;
  }
  const int64_t bucket = dsl::FloorDiv(ts, dsl::kMicrosPerHour);
  buckets_[bucket].push_back(h);
  pending_[bucket].emplace_back(h, ts);
}

std::optional<int64_t> SaleIndex::Find(std::string_view store, std::string_view order, int64_t ts,
                                       int64_t within) const {
  if (order.empty()) return std::nullopt;
  auto it = sold_.find(Hash(store, order));
  if (it == sold_.end() || it->second > ts || ts - it->second > within) return std::nullopt;
  if (dsl::FloorDiv(it->second, dsl::kMicrosPerHour) < OldestHour()) return std::nullopt;
  return it->second;
}

void SaleIndex::Save(WriteBatch& batch) {
  std::string value;
  for (const auto& [bucket, sales] : pending_) {
    value.clear();
    for (const auto& [h, ts] : sales) {
      PutU64BE(value, h);
      PutI64Ordered(value, ts);
    }
    batch.Put(Family::kMeta, BlockKey(bucket, sequence_++), value);
  }
  pending_.clear();
  if (newest_ == INT64_MIN) return;
  const int64_t horizon = OldestHour();
  if (buckets_.empty() || buckets_.begin()->first >= horizon) return;
  for (auto it = buckets_.begin(); it != buckets_.end() && it->first < horizon;) {
    for (uint64_t h : it->second) {
      // Only if that sale time is the one in this bucket (a later sale of the order stays).
      auto s = sold_.find(h);
      if (s != sold_.end() && dsl::FloorDiv(s->second, dsl::kMicrosPerHour) == it->first) sold_.erase(s);
    }
    it = buckets_.erase(it);
  }
  batch.DeleteRange(Family::kMeta, BlockKey(INT64_MIN, 0), BlockKey(horizon, 0));
}

bool SaleIndex::Load(StateStore& store, std::string& error) {
  bool ok = true;
  Status s = store.Scan(Family::kMeta, kPrefix, [&](std::string_view key, std::string_view value) {
    if (key.size() != kPrefix.size() + 12 || value.size() % 16 != 0) return ok = false;
    const int64_t bucket = GetI64Ordered(key.data() + kPrefix.size());
    sequence_ = std::max(sequence_, GetU32(key.data() + kPrefix.size() + 8) + 1);
    auto& hashes = buckets_[bucket];
    for (size_t i = 0; i < value.size(); i += 16) {
      const uint64_t h = GetU64BE(value.data() + i);
      const int64_t ts = GetI64Ordered(value.data() + i + 8);
      auto [it, fresh] = sold_.try_emplace(h, ts);
      if (!fresh && it->second < ts) it->second = ts;
      hashes.push_back(h);
      newest_ = std::max(newest_, ts);
    }
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "unreadable refund-attribution state";
  return ok;
}

}  // namespace aisle::engine
