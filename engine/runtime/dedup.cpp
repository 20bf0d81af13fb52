#include "engine/runtime/dedup.hpp"

#include <xxhash.h>

#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

bool DedupFilter::FirstSeen(std::string_view id, int64_t ts) {
  uint64_t h = XXH3_64bits(id.data(), id.size());
  auto [it, fresh] = seen_.emplace(h, ts);
  if (fresh) added_.push_back(h);
  return fresh;
}

void DedupFilter::Save(WriteBatch& batch, int64_t newest_ts) {
  std::string key, value;
  for (uint64_t h : added_) {
    auto it = seen_.find(h);
    if (it == seen_.end()) continue;
    key.clear();
    PutU64BE(key, h);
    value.clear();
    PutI64Ordered(value, it->second);
    batch.Put(Family::kDedup, key, value);
  }
  added_.clear();
  if (newest_ts == INT64_MIN) return;
  const int64_t horizon = newest_ts - retention_;
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (it->second < horizon) {
      key.clear();
      PutU64BE(key, it->first);
      batch.Delete(Family::kDedup, key);
      it = seen_.erase(it);
    } else {
      ++it;
    }
  }
}

bool DedupFilter::Load(StateStore& store, std::string& error) {
  bool ok = true;
  Status s = store.Scan(Family::kDedup, {}, [&](std::string_view key, std::string_view value) {
    if (key.size() != 8 || value.size() != 8) return ok = false;
    seen_.emplace(GetU64BE(key.data()), GetI64Ordered(value.data()));
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
