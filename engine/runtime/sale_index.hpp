#pragma once
// Refund attribution (`attribute to sale within D`): remembers when each order was sold, per
// store, so a refund can be counted in its sale's window. Orders are bucketed by the hour of the
// sale; buckets older than the horizon (in event time behind the newest sale) are forgotten. At
// a checkpoint each bucket's new orders go to the `meta` family under one key, and forgotten
// buckets are range-deleted, like the dedup filter's ids. Find treats a sale past the horizon as
// forgotten whether a checkpoint purged it yet or not, so what a refund finds depends on the
// events alone, never on when checkpoints happened.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aisle::engine {

class WriteBatch;
class StateStore;

class SaleIndex {
 public:
  explicit SaleIndex(int64_t horizon_us) : horizon_(horizon_us) {}

  // A sale of `order` at `store` at `ts` (the latest sale of an order wins).
  void Record(std::string_view store, std::string_view order, int64_t ts);
  // When `order` was sold at `store`, if that was within `within` before `ts` (and not after it).
  std::optional<int64_t> Find(std::string_view store, std::string_view order, int64_t ts,
                              int64_t within) const;
  size_t size() const { return sold_.size(); }

  void Save(WriteBatch& batch);
  bool Load(StateStore& store, std::string& error);

 private:
  static uint64_t Hash(std::string_view store, std::string_view order);
  // The oldest hour still remembered.
  int64_t OldestHour() const;

  int64_t horizon_;
  int64_t newest_ = INT64_MIN;  // the newest sale recorded
  std::unordered_map<uint64_t, int64_t> sold_;                      // order hash -> sale time
  std::map<int64_t, std::vector<uint64_t>> buckets_;                // hour -> order hashes
  std::map<int64_t, std::vector<std::pair<uint64_t, int64_t>>> pending_;  // not saved yet
  uint32_t sequence_ = 0;
};

}  // namespace aisle::engine
