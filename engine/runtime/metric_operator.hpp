#pragma once
// A metric: filter -> key -> event-time window -> aggregates.
//
// Event time is tracked per partition: the store, when the metric is keyed by store, else one
// partition for the whole metric. A partition's watermark is the newest event time its input has
// shown minus the stream's `delay` (for a metric over a metric: the input partition's
// watermark), so one store whose registers sync hours late holds back no other store. A window
// fires, groups in key order, once its partition's watermark passes its end. It then stays for
// the stream's `lateness`: a record that arrives in that time updates its group, which fires
// again as a correction; a record whose window ended more than `lateness` before the watermark
// is late, reported and not counted.
//
// Sliding and session windows (stream input only) follow each group's records instead of the
// clock. A group keeps the aggregate arguments of its recent records, by event time, and the
// windows still to fire: sliding, one per record time t, the window (t - size, t], fired once the
// watermark passes t; session, one per run of records less than the gap apart, [first, last +
// gap), fired once the watermark reaches last + gap. They fire once, never as corrections: a
// record older than its partition's watermark is late, whatever the stream's `lateness`.
//
// `segments` keeps, per group, its customers' states (purchases, spend, last time) the same way;
// a firing fits them into segments as of the window's end.
//
// `affinity` keeps, per group, the baskets of its window (basket -> distinct items) in one owning
// state block beside where aggregates would be; a firing mines them into one record per rule.
//
// Over a stream, groups fold records into aggregate states as they come. Over a metric, a group
// keeps the input records it holds, one per input group and window, so a corrected input record
// replaces the one it corrects instead of being counted twice; aggregates are computed on firing.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
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
class SaleIndex;

// A fired group: the output record (keys, aggregates, window bounds), its encoded key, the
// window start, and whether it corrects a result fired before.
using RecordHandler = std::function<void(std::span<const dsl::Value> record, std::string_view key,
                                         int64_t time, bool correction)>;
// The same without the correction flag: what joins and the stages after `agg` pass records on with.
using PlainRecordHandler =
    std::function<void(std::span<const dsl::Value> record, std::string_view key, int64_t time)>;
// A partition's watermark moved: `partition` is the encoded store ("" for a whole metric).
using WatermarkHandler = std::function<void(std::string_view partition, int64_t watermark)>;

struct EventTime {
  int64_t delay = 0;     // how far the watermark trails the newest event time
  int64_t lateness = 0;  // how long a fired window still takes corrections
  int64_t idle = 0;      // a partition this far behind the highest stops holding back low_watermark
};

class MetricOperator {
 public:
  // `policies` (may be null) gives the values of params that vary by store.
  // `sales` (may be null) tells when an order was sold, for `attribute to sale`.
  MetricOperator(const dsl::plan::Metric& plan, const OperatorRegistry& registry, EventTime time,
                 const dsl::plan::Policies* policies = nullptr, const SaleIndex* sales = nullptr);
  ~MetricOperator();
  MetricOperator(const MetricOperator&) = delete;
  MetricOperator& operator=(const MetricOperator&) = delete;

  enum class AddResult { kFiltered, kAdded, kLate };
  // Adds one input record with event time `time` (for input from a metric: the input window's
  // start; `source_key` is then the input group's key). For stream input the record also moves
  // its partition's watermark. kLate: its window had closed for good; nothing was counted.
  // `correction`: the input record corrects one given before (same source key and time).
  // `store`: the record's store index (dsl::plan::Policies::StoreIndex, -1 for none).
  AddResult Add(std::span<const dsl::Value> record, int64_t time, const Event* event = nullptr,
                std::string_view source_key = {}, bool correction = false, int store = -1);
  // Input from a metric: that input's partition `partition` has reached `watermark`.
  void AdvanceTo(std::string_view partition, int64_t watermark);
  // Input from a join (one watermark for every store): every partition reaches `watermark`.
  void AdvanceAll(int64_t watermark);
  // The lowest watermark of any partition seen (INT64_MIN before any input): what a join over
  // this metric may fire up to without losing a lagging store's records. With an `idle` time, a
  // partition more than that behind the highest is left out: an idle store (closed, offline)
  // stops holding back every other; its records for what fired meanwhile come late.
  int64_t low_watermark() const;

  // Whether some partition has a window to fire, a correction to send or a window to drop.
  bool HasDue() const { return !due_.empty(); }
  // Fires what is due in every partition, oldest window first, and reports each partition's
  // watermark afterwards.
  void Fire(const RecordHandler& emit, const WatermarkHandler& advanced);
  // End of input: fires every window not fired yet and every pending correction.
  void FireAll(const RecordHandler& emit, const WatermarkHandler& advanced);

  size_t open_windows() const;
  int64_t corrections() const { return corrections_; }
  bool partitioned() const { return partition_key_ >= 0; }
  const dsl::plan::Metric& plan() const { return plan_; }

  // The watermark of a partition (the encoded store, or "" for a metric not keyed by store).
  int64_t WatermarkOf(std::string_view partition) const;

  // The partition of a record of this metric's input (the encoded store, or "").
  void PartitionOf(std::span<const dsl::Value> record, std::string& out) const;

  // Checkpoint: writes what changed since the last checkpoint that reached the disk (groups
  // added or changed, watermarks that moved) and deletes the windows closed for good since, each
  // by its own key range. Never deletes the operator's whole key range, so operators of several
  // shards may write into one batch. The first checkpoint after loading state saved by an
  // earlier version deletes that layout and writes everything anew.
  void Save(WriteBatch& batch) const;
  // The batch of the last Save was written: what it carried is on disk now. Call it after a
  // successful write, with no change in between; without it the next Save writes it again.
  void MarkSaved();
  // The next Save writes everything: after loading an earlier version's layout, or state that
  // another shard layout wrote (the engine merging shards).
  void MarkAllUnsaved();
  // Restores a checkpoint (or one in the layout of earlier versions).
  bool Load(StateStore& store, std::string& error);
  // Window groups that the next Save writes.
  size_t unsaved_groups() const;

 private:
  // Input group key + input window start -> the encoded input record.
  using Inputs = std::map<std::string, std::string, std::less<>>;
  // Kept small, as there may be millions: one block for the states and currencies, and the
  // input records only over a metric.
  struct Group {
    // Over a stream: the aggregate states, then per aggregate the first money currency seen
    // (see CurrencyOf()). Null over a metric, whose states are built when the group fires.
    std::unique_ptr<unsigned char[]> state;
    std::unique_ptr<Inputs> inputs;  // over a metric only
    bool emitted = false;  // fired at least once
    bool dirty = false;    // changed since it last fired
    bool unsaved = false;  // changed since the last checkpoint: in its window's `unsaved`
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Groups = std::unordered_map<std::string, Group, SvHash, std::equal_to<>>;
  struct Window {
    int64_t end = 0;  // tumbling: start + size; calendar days vary with clock changes
    bool fired = false;
    bool dirty = false;  // fired, and some group changed since
    Groups groups;
    // Groups changed since the last checkpoint (map entries keep their address on rehash).
    std::vector<Groups::value_type*> unsaved;
  };
  // Sliding and session windows: one group's records (time -> encoded aggregate arguments) and,
  // session only, its open sessions (first record time -> last record time).
  struct Trail {
    std::multimap<int64_t, std::string> records;
    std::map<int64_t, int64_t> sessions;
  };
  // A sliding or session window still to fire: (watermark it fires at, group key, window start).
  using Pending = std::tuple<int64_t, std::string, int64_t>;
  struct Partition {
    std::map<int64_t, Window> windows;  // by window start
    std::map<std::string, Trail, std::less<>> trails;  // sliding and session windows, by group
    std::set<Pending> pending;                          // sliding and session windows
    int64_t next_sweep = INT64_MIN;  // sliding: when to drop records no window can reach
    int64_t watermark = INT64_MIN;
    int64_t next_due = INT64_MAX;  // earliest watermark at which a window fires or expires
    bool queued = false;          // in due_
    std::pair<const std::string, Partition>* self = nullptr;  // its map entry
    std::unique_ptr<DistinctFilter> distinct;  // `distinct` only
    // Since the last checkpoint: whether anything changed (then it is in touched_), whether the
    // watermark moved, the windows closed for good, the sliding or session groups changed.
    bool unsaved = false;
    bool watermark_unsaved = false;
    std::vector<int64_t> closed;
    std::set<std::string, std::less<>> unsaved_trails;
  };
  using Partitions = std::unordered_map<std::string, Partition, SvHash, std::equal_to<>>;

  Partition& PartitionFor(std::string_view key);
  void Raise(Partition& p, int64_t watermark);
  void Queue(Partition& p);
  // Checkpoint bookkeeping: the partition changed; one of its window's groups changed.
  void Touch(Partition& p);
  void MarkUnsaved(Partition& p, Window& w, Groups::value_type& group);
  struct Input {
    std::span<const dsl::Value> record;     // as it came (kept, over a metric)
    std::span<const dsl::Value> projected;  // after a `select`: what keys and aggregates read
    const Event* event;
    std::string_view source_key;
    int64_t time;
    bool pass;        // passed the filters (else only withdraws what it corrects)
    bool correction;  // replaces an input record given before
    int store;        // store index, for params that vary by store
  };
  // Folds the record into one window; false when that window has closed for good.
  bool AddTo(Partition& p, const Input& in, int64_t start, int64_t end);
  void FirePartition(Partition& p, int64_t watermark, const RecordHandler& emit);
  // Sliding and session windows (record_windows.cpp).
  bool AddToTrail(Partition& p, const Input& in);
  void FireTrails(Partition& p, int64_t watermark, const RecordHandler& emit);
  void EmitTrail(int64_t start, int64_t end, std::string_view key, const Trail& trail,
                 int64_t from, int64_t to, const RecordHandler& emit);
  void SaveTrails(std::string_view partition, const Partition& p, WriteBatch& batch) const;
  bool LoadTrail(Partition& p, std::string_view group_key, std::string_view value);
  bool PartitionOfGroup(std::string_view group_key, std::string& out) const;
  void FireGroup(int64_t start, int64_t end, std::string_view key, Group& g,
                 const RecordHandler& emit);
  // `affinity`: the group's rules, one record each; the keys are in record_[0, first).
  void FireRules(int64_t start, int64_t end, std::string_view key, Group& g, size_t first,
                 const RecordHandler& emit);
  // `segments`: folds one purchase into the group's customers.
  void AddPurchase(unsigned char* states, const Input& in);
  // `segments`: the group's segments (or customers), one record each; keys in record_[0, first).
  void FireSegments(int64_t start, int64_t end, std::string_view key, Group& g, size_t first,
                    const RecordHandler& emit);
  void UpdateNextDue(Partition& p) const;
  Group NewGroup() const;
  void DestroyGroup(Group& g) const;
  // Aggregate states with their currencies (NewStates: initialised, no currency yet).
  std::unique_ptr<unsigned char[]> NewStates() const;
  void DestroyStates(unsigned char* states) const;
  dsl::Currency CurrencyOf(const unsigned char* states, size_t agg) const;
  void SetCurrency(unsigned char* states, size_t agg, dsl::Currency currency) const;
  // Adds `v` to aggregate `agg`, unless it is money in another currency than the first seen.
  void Fold(unsigned char* states, size_t agg, const dsl::Value& v) const;
  dsl::Value Result(const unsigned char* states, size_t agg) const;
  // State encoding (metric_checkpoint.cpp).
  std::string Prefix() const;
  std::string PartitionPrefix(char tag, std::string_view partition) const;
  void SavePartition(std::string_view partition, const Partition& p, WriteBatch& batch) const;
  void EncodeGroup(const Window& w, const Group& g, std::string& value) const;
  bool DecodeGroup(std::string_view payload, Group& g) const;
  bool LoadKey(std::string_view rest, std::string_view value);
  bool LoadGroup(std::string_view partition, int64_t start, std::string_view group_key,
                 std::string_view value, bool legacy);

  const dsl::plan::Metric& plan_;
  const EventTime time_;
  const bool over_metric_;
  const bool record_windows_;  // sliding or session
  const dsl::plan::Policies* policies_;
  const SaleIndex* sales_;
  int input_store_field_ = -1;  // the input's `store` field, if any
  int partition_key_ = -1;  // input field of the store when the metric is keyed by it
  Evaluator evaluator_;
  // The aggregates' implementations; with `affinity`, the one baskets block (miner_->state).
  std::vector<const AggregateImpl*> aggs_;
  const MinerImpl* miner_ = nullptr;  // `affinity` only
  MinerSettings miner_settings_;
  std::vector<MinedRule> rules_;      // scratch for firing: the records' strings point into it
  const SegmenterImpl* segmenter_ = nullptr;  // `segments` only
  SegmenterSettings segmenter_settings_;
  std::vector<SegmentRow> segment_rows_;  // scratch for firing, like rules_
  std::string rule_key_;
  std::vector<size_t> offsets_;
  size_t state_bytes_ = 0;     // the aggregate states, then their currencies
  size_t currency_offset_ = 0;
  Partitions partitions_;
  std::vector<Partitions::value_type*> due_;
  std::vector<Partitions::value_type*> touched_;  // partitions changed since the last checkpoint
  bool legacy_ = false;  // state loaded from an earlier layout, to delete at the next Save
  int64_t floor_ = INT64_MIN;  // watermark of a partition not seen yet (restored old state)
  int64_t corrections_ = 0;
  std::unique_ptr<Calendar> calendar_;  // calendar windows and opening hours
  std::unique_ptr<Projection> projection_;    // `select` before agg only
  std::string key_scratch_, partition_scratch_, identity_;
  std::vector<dsl::Value> record_, keys_, input_;  // scratch for firing
};

}  // namespace aisle::engine
