#pragma once
// Idempotent ingestion: remembers the ids of events seen (64-bit hashes with their event time) so
// a retried delivery is counted once. Entries older than the retention, measured in event time
// behind the newest event, are forgotten; new and forgotten entries reach the `dedup` column
// family at each checkpoint.

#include <cstdint>
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

  // True the first time an id is offered; false for a duplicate.
  bool FirstSeen(std::string_view id, int64_t ts);
  size_t size() const { return seen_.size(); }

  // Writes what changed since the last save and forgets entries past the retention.
  void Save(WriteBatch& batch, int64_t newest_ts);
  bool Load(StateStore& store, std::string& error);

 private:
  int64_t retention_;
  std::unordered_map<uint64_t, int64_t> seen_;
  std::vector<uint64_t> added_;
};

}  // namespace aisle::engine
