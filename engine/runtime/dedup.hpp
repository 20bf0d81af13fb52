#pragma once
// Idempotent ingestion: remembers the ids of events seen (64-bit hashes) so a retried delivery is
// counted once. Ids are bucketed by the hour of their event time; buckets older than the retention
// (in event time behind the newest event) are forgotten. At a checkpoint each bucket's new ids go
// to the `dedup` column family as one packed value, and forgotten buckets are range-deleted, so the
// store holds a few keys per hour rather than one per event.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_set.h>

namespace aisle::engine {

class WriteBatch;
class StateStore;

class DedupFilter {
 public:
  explicit DedupFilter(int64_t retention_us) : retention_(retention_us) {}

  // True the first time an id is offered; false for a duplicate.
  bool FirstSeen(std::string_view id, int64_t ts);
  size_t size() const { return seen_.size(); }

  // The next Save writes every id remembered (after they were read from elsewhere).
  void MarkAllUnsaved() { pending_ = buckets_; last_ids_ = nullptr; }
  // Writes the ids added since the last save and forgets buckets past the retention.
  void Save(WriteBatch& batch, int64_t newest_ts);
  bool Load(StateStore& store, std::string& error);

 private:
  int64_t retention_;
  absl::flat_hash_set<uint64_t> seen_;  // open addressing: one probe, no node per id
  std::map<int64_t, std::vector<uint64_t>> buckets_;  // hour -> ids, for forgetting
  std::map<int64_t, std::vector<uint64_t>> pending_;  // hour -> ids not yet saved
  uint32_t sequence_ = 0;                             // makes each saved block's key unique
  // The bucket the last id went to, and its lists (null: look them up again).
  int64_t last_bucket_ = 0;
  std::vector<uint64_t>* last_ids_ = nullptr;
  std::vector<uint64_t>* last_pending_ = nullptr;
};

}  // namespace aisle::engine
