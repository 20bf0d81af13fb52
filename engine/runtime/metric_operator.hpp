#pragma once
// A metric: filter -> key -> event-time tumbling window -> aggregates. Open windows live in memory
// (grouped by window start, then by encoded key); a window fires once the metric's watermark
// passes its end, groups in key order, and its output records go downstream.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/calendar.hpp"
#include "engine/runtime/distinct_filter.hpp"
#include "engine/runtime/evaluator.hpp"
#include "engine/runtime/projection.hpp"

namespace aisle::engine {

class WriteBatch;
class StateStore;

// A fired group: the output record (keys, aggregates, window bounds) and its encoded key.
using RecordHandler =
    std::function<void(std::span<const dsl::Value> record, std::string_view key, int64_t time)>;

class MetricOperator {
 public:
  MetricOperator(const dsl::plan::Metric& plan, const OperatorRegistry& registry);
  ~MetricOperator();
  MetricOperator(const MetricOperator&) = delete;
  MetricOperator& operator=(const MetricOperator&) = delete;

  // Adds one input record with event time `time`. Returns false when it is late (its window has
  // already fired) and was not counted.
  bool Add(std::span<const dsl::Value> record, int64_t time, const Event* event = nullptr);
  // Fires every window that ends at or before `watermark`, in time order.
  void Fire(int64_t watermark, const RecordHandler& emit);

  // Whether a window ends at or before `watermark` (cheap: call before Fire).
  bool HasDue(int64_t watermark) const { return min_end_ <= watermark; }
  int64_t fired_through() const { return fired_through_; }
  size_t open_windows() const { return windows_.size(); }
  const dsl::plan::Metric& plan() const { return plan_; }

  // Checkpoint: every open window and the fired-through mark. Replaces what was saved before.
  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);

 private:
  struct Group {
    std::unique_ptr<unsigned char[]> state;
    std::vector<dsl::Currency> currency;  // per aggregate, first money currency seen
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Groups = std::unordered_map<std::string, Group, SvHash, std::equal_to<>>;
  struct Window {
    int64_t end = 0;  // tumbling: start + size; calendar days vary with clock changes
    Groups groups;
  };

  // Folds the record into one window; false when that window has already fired.
  bool AddTo(std::span<const dsl::Value> record, int64_t start, int64_t end, const Event* event);
  Group NewGroup() const;
  void DestroyGroup(Group& g) const;
  std::string Prefix() const;

  const dsl::plan::Metric& plan_;
  Evaluator evaluator_;
  std::vector<const AggregateImpl*> aggs_;
  std::vector<size_t> offsets_;
  size_t state_bytes_ = 0;
  std::map<int64_t, Window> windows_;  // by window start
  int64_t min_end_ = INT64_MAX;       // earliest end among open windows
  std::unique_ptr<CalendarDays> calendar_;  // `window day` only
  std::unique_ptr<Projection> projection_;  // `select` before agg only
  std::unique_ptr<DistinctFilter> distinct_;  // `distinct` only
  int64_t fired_through_ = INT64_MIN;
  std::string key_scratch_;
  std::vector<dsl::Value> record_, keys_;  // scratch for Fire
};

}  // namespace aisle::engine
