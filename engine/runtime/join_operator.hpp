#pragma once
// `metric M = LEFT [left] join RIGHT on KEYS`: pairs the records two metrics fire for the same
// window and key. Fired records of both inputs are buffered by window start, then by join key;
// once both inputs' watermarks have passed a window's end, the window fires: in key order, one
// joined record (keys, the left's fields, the right's, window bounds) per key that both inputs
// gave, plus, for a left join, one per key only the left gave (the right's fields null). What
// only one side gave is otherwise dropped, so the buffer never holds more than the windows still
// open on one side. The buffer is saved at checkpoints like metric windows. Not thread-safe.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/runtime/metric_operator.hpp"

namespace aisle::engine {

class WriteBatch;
class StateStore;

class JoinOperator {
 public:
  // `plan` is the join metric (plan.join set); it must outlive the operator.
  explicit JoinOperator(const dsl::plan::Metric& plan);

  // A record metric `input` fired for the window starting at `time`. False when that window has
  // already fired here (it is dropped).
  bool Add(int input, std::span<const dsl::Value> record, int64_t time);
  // Whether a buffered window ends at or before `watermark`.
  bool HasDue(int64_t watermark) const;
  // Fires every buffered window that ends at or before `watermark` (the lower of the inputs').
  void Fire(int64_t watermark, const PlainRecordHandler& emit);

  size_t open_windows() const { return windows_.size(); }
  size_t buffered() const;
  const dsl::plan::Metric& plan() const { return plan_; }

  // Checkpoint: every buffered record and the fired-through mark, under the join's fingerprint.
  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);

 private:
  struct Pair {
    std::string side[2];  // the copied fields, encoded
    bool has[2] = {false, false};
  };
  struct Window {
    int64_t end = INT64_MIN;
    std::map<std::string, Pair, std::less<>> by_key;  // encoded join key -> what each side gave
  };

  std::string Prefix() const;

  const dsl::plan::Metric& plan_;
  const dsl::plan::Join& join_;
  size_t copied_[2];
  std::map<int64_t, Window> windows_;  // by window start
  int64_t fired_through_ = INT64_MIN;
  std::string key_scratch_;
  std::vector<dsl::Value> record_, decoded_;
};

}  // namespace aisle::engine
