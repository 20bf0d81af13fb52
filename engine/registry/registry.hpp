#pragma once
// The one extension point: a registry of functions (aggregates, scalar functions, stateful
// analytics operators), each a descriptor with documentation, a parameter schema for the checker
// and an implementation for the runtime. Owned by whoever builds an engine; no global instance.
// Registration happens before any thread starts; afterwards the registry is read-only and may be
// shared between threads.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/catalog.hpp"
#include "dsl/value.hpp"

namespace aisle::engine {

// An aggregate folds one window's values into a fixed-size state block.
struct AggregateImpl {
  size_t state_size = 0;  // bytes, suitably aligned for int64/double
  void (*init)(void* state) = nullptr;
  // Adds one value (nulls are passed too; most aggregates skip them).
  void (*add)(void* state, const dsl::Value& value) = nullptr;
  // The aggregate's value; `argument` is the argument's type (money sums stay money).
  dsl::Value (*result)(const void* state, dsl::Type argument, dsl::Currency currency) = nullptr;
  // Optional, for states that own memory: release it.
  void (*destroy)(void* state) = nullptr;
  // Serialize / restore for checkpoints; plain-old-data states may leave both null (bytes copied).
  void (*save)(const void* state, std::string& out) = nullptr;
  bool (*load)(void* state, std::string_view in) = nullptr;
};

// Settings of an `affinity` stage (dsl::plan::Affinity): exact, inclusive thresholds.
struct MinerSettings {
  uint64_t min_support_numerator = 1, min_support_denominator = 100;
  uint64_t min_confidence_numerator = 1, min_confidence_denominator = 2;
  int64_t max_items = 2;
};

// One association rule X => {y} a miner found. `antecedent` holds X's items joined by ", ".
struct MinedRule {
  std::string antecedent;
  std::string consequent;
  int64_t items = 0;    // |X| + 1
  int64_t baskets = 0;  // baskets holding X and y
  double support = 0, confidence = 0, lift = 0;
  double conviction = 0;
  bool conviction_infinite = false;  // confidence exactly 1
};

// A miner (FunctionKind::kMiner): a window group's state block that collects (basket, item)
// pairs and, when the window fires, yields the group's association rules, in output order.
// `state` gives the block's size, init, destroy, save and load (its `add` is unused). Functions
// never throw.
struct MinerImpl {
  AggregateImpl state;
  void (*add)(void* state, const dsl::Value& basket, const dsl::Value& item) = nullptr;
  // Replaces `out` with the rules of the baskets in `state`; false (and `out` empty) when out of
  // memory.
  bool (*mine)(const void* state, const MinerSettings& settings, std::vector<MinedRule>& out) = nullptr;
};

// Settings of a `segments` stage (dsl::plan::Segments).
struct SegmenterSettings {
  int64_t k = 4;              // segments wanted; fewer when the window has fewer distinct customers
  bool per_customer = false;  // one row per customer instead of one per segment
};

// One output row of a segmenter: a segment's profile, or (per customer) one customer's segment.
// Money fields are in units of 1/10,000 of the group's currency.
struct SegmentRow {
  int64_t segment = 0;  // 0 .. k-1, by descending mean monetary (see stdlib/segments_stage.cpp)
  std::string label;
  std::string customer;         // per customer only
  int64_t customers = 0;        // per segment: members
  double recency_days = 0;      // per segment: mean; per customer: the customer's
  double frequency = 0;         // per segment: mean purchases; per customer: purchases
  int64_t monetary = 0;         // per segment: mean spend per member; per customer: spend
  int64_t total_spend = 0;      // per segment
  double share = 0;             // per segment: members / customers, a fraction
  std::string top_category;     // per segment, with `mix`
  bool has_top_category = false;
};

// A segmenter (FunctionKind::kMiner, `segments`): a window group's state block of customer
// states (purchases, exact spend, last time, spend per category) that, when the window fires, fits
// k-means segments at the window's end and yields rows in output order. `state` gives the block's
// size, init, destroy, save and load (its `add` is unused). Functions never throw.
struct SegmenterImpl {
  AggregateImpl state;
  // Folds one purchase: `spend` in money units (one currency per group: the caller checks),
  // `time` in microseconds, `category` the `mix` field's value or null. A null or empty customer
  // is not a customer: the purchase is skipped.
  void (*add)(void* state, const dsl::Value& customer, int64_t spend, int64_t time,
              const dsl::Value& category) = nullptr;
  // Replaces `out` with the rows of the customers in `state` at `as_of`; false (and `out` empty)
  // when out of memory or the fit failed.
  bool (*fit)(const void* state, const SegmenterSettings& settings, int64_t as_of,
              std::vector<SegmentRow>& out) = nullptr;
};

using ScalarFn = dsl::Value (*)(std::span<const dsl::Value> args);

// Where a stateful operator is called: the record's time and its window, when it has one.
struct CallContext {
  int64_t time = 0;         // window start, or event time for stream rules
  int64_t window_size = 0;  // 0 for stream rules
  // The store's local time minus UTC at `time`, microseconds, for functions whose spec sets
  // `local_time` in rules on records with a store and a rule set with the stores' time zones;
  // 0 (UTC) otherwise.
  int64_t utc_offset = 0;
};

// Per-key state of a stateful operator; saved into checkpoints.
class OperatorState {
 public:
  virtual ~OperatorState() = default;
  virtual void Save(std::string& out) const = 0;
  virtual bool Load(std::string_view in) = 0;
};

// One call site of a stateful operator, configured with its constant arguments.
class StatefulOperator {
 public:
  virtual ~StatefulOperator() = default;
  virtual std::unique_ptr<OperatorState> NewState() const = 0;
  // Feeds one record's arguments into `state` and returns the function's value for it. `details`
  // has one entry per FunctionSpec::details, null on entry; the operator fills those it can.
  virtual dsl::Value Apply(OperatorState& state, std::span<const dsl::Value> args,
                           const CallContext& context, std::span<dsl::Value> details) const = 0;
};

// Builds a call site from the call's constant arguments (non-constant ones arrive as null).
using StatefulFactory =
    std::unique_ptr<StatefulOperator> (*)(std::span<const dsl::Value> constant_args);

struct FunctionDescriptor {
  dsl::FunctionSpec spec;
  AggregateImpl aggregate;            // kAggregate
  ScalarFn scalar = nullptr;          // kScalar
  StatefulFactory stateful = nullptr;  // kStateful
  MinerImpl miner;                     // kMiner `affinity`
  SegmenterImpl segmenter;             // kMiner `segments`
};

class OperatorRegistry final : public dsl::Catalog {
 public:
  // Adds a function; a second registration of the same name replaces nothing and returns false.
  bool Register(FunctionDescriptor descriptor);

  int Find(std::string_view name) const override;
  const dsl::FunctionSpec& Spec(int index) const override;
  std::vector<std::string_view> Names(dsl::FunctionKind kind) const override;

  const FunctionDescriptor& Get(int index) const { return functions_[static_cast<size_t>(index)]; }
  size_t size() const { return functions_.size(); }

 private:
  std::vector<FunctionDescriptor> functions_;
};

}  // namespace aisle::engine
