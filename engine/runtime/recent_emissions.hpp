#pragma once
// The event time of the latest emission per key: what `dedupe` and `suppress while` look back on.
// A key is forgotten once the newest time recorded is more than `horizon` past its time. Forgetting
// runs when the newest time enters a later UTC day, so what is remembered depends only on what was
// recorded, never on when checkpoints happened: a restart changes nothing. Not thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace aisle::engine {

class WriteBatch;
class StateStore;

class RecentEmissions {
 public:
  // `horizon`: how far behind the newest time a key is still remembered (positive).
  explicit RecentEmissions(int64_t horizon) : horizon_(horizon) {}

  // Whether `key` has an emission less than `period` before `time`, or at or after it.
  bool Within(std::string_view key, int64_t time, int64_t period) const;
  // Records an emission at `time`; the key keeps its latest time.
  void Record(std::string_view key, int64_t time);
  size_t size() const { return latest_.size(); }

  // Checkpoint in the windows family: [prefix][key] -> [version][big-endian time]. The caller
  // deletes what was saved under `prefix` before.
  void Save(WriteBatch& batch, std::string_view prefix) const;
  // Restores what Save wrote under `prefix`; false on unreadable state or a store error.
  bool Load(StateStore& store, std::string_view prefix, std::string& error);

 private:
  std::map<std::string, int64_t, std::less<>> latest_;
  int64_t horizon_;
  int64_t newest_ = INT64_MIN;
};

}  // namespace aisle::engine
