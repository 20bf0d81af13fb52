#pragma once
// Idempotent ingestion: remembers the ids of events seen (64-bit hashes) so a retried delivery is
// counted once. Ids are bucketed by the hour of their event time; buckets older than the retention
// (in event time behind the newest event) are forgotten. At a checkpoint each bucket's new ids go
// to the `dedup` column family as one packed value, and forgotten buckets are range-deleted, so the
// store holds a few keys per hour rather than one per event.
//
// Forgetting is decided when an id is offered, against the newest event time before it, not
// when a checkpoint purges the old buckets: whether an event counts depends on the events alone,
// never on when checkpoints (or crashes) happened.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aisle::engine {

class WriteBatch;
class StateStore;

class DedupFilter {
 public:
  explicit DedupFilter(int64_t retention_us) : retention_(retention_us) {}

  // True the first time an id is offered, and again once the hour it was seen in is past the
  // retention behind `newest` (the newest event time before this one); false for a duplicate.
  bool FirstSeen(std::string_view id, int64_t ts, int64_t newest);
  size_t size() const { return seen_.size(); }

  // Writes the ids added since the last save and forgets buckets past the retention.
  void Save(WriteBatch& batch, int64_t newest_ts);
  bool Load(StateStore& store, std::string& error);

 private:
  // The oldest hour still remembered when `newest` is the newest event time.
  int64_t Horizon(int64_t newest) const;

  int64_t retention_;
  std::unordered_map<uint64_t, int64_t> seen_;        // id -> the hour it was last seen in
  std::map<int64_t, std::vector<uint64_t>> buckets_;  // hour -> ids, for forgetting
  std::map<int64_t, std::vector<uint64_t>> pending_;  // hour -> ids not yet saved
  uint32_t sequence_ = 0;                             // makes each saved block's key unique
};

}  // namespace aisle::engine
