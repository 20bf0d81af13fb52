#pragma once
// A rule: evaluates its lets and stateful calls in order, then its condition, on each input
// record (an event of a stream, or a fired metric group); when the condition holds it builds an
// emission. Stateful calls keep one state per key (the metric's group key, or the store).
// Emission control, in this order: `suppress while` (another rule emitted lately), `dedupe` (this
// rule emitted the same lately), `throttle` (too many lately); each counts what it drops.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/emit/emission.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/calendar.hpp"
#include "engine/runtime/evaluator.hpp"
#include "engine/runtime/recent_emissions.hpp"

namespace aisle::engine {

class WriteBatch;
class StateStore;

using EmissionHandler = std::function<void(Emission&&)>;

// An emission of a rule, for another rule's `suppress while` to see: the pipeline records it in
// `table` once the event being processed is done, so rules see each other's emissions alike
// whatever order they run in.
struct PendingActivity {
  RecentEmissions* table = nullptr;
  std::string key;
  int64_t time = 0;
};

class RuleOperator {
 public:
  // `policies` (may be null) gives the values of params that vary by store.
  RuleOperator(const dsl::plan::Rule& plan, const OperatorRegistry& registry, std::string ruleset,
               const dsl::plan::Policies* policies = nullptr);

  // One input record. `key` identifies the group (stateful state and emission id); `time` is the
  // window start or the event time; `event` is set for stream input; `store` is the record's
  // store index (dsl::plan::Policies::StoreIndex, -1 for none): a rule declared in a district or
  // store policy skips records of stores outside it. `correction`: the record corrects a window
  // result given before (a late event inside the stream's lateness).
  void Process(std::span<const dsl::Value> input, std::string_view key, int64_t time,
               int64_t window_size, const Event* event, const EmissionHandler& emit,
               int store = -1, bool correction = false);

  const dsl::plan::Rule& plan() const { return plan_; }
  int64_t fired() const { return fired_; }
  int64_t throttled() const { return throttled_; }
  int64_t deduped() const { return deduped_; }
  int64_t suppressed() const { return suppressed_; }

  // What the rule of this rule's suppression `i` (plan order) emitted, by the suppression's fields.
  RecentEmissions& activity(size_t i) { return activity_[i]; }
  // From now on, each emission of this rule goes to `pending` for `table`, keyed by the values of
  // `fields` (of this rule's record). The vectors must outlive the operator.
  void AddListener(RecentEmissions* table, const std::vector<int>* fields,
                   std::vector<PendingActivity>* pending);

  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);

 private:
  struct Call {
    std::unique_ptr<StatefulOperator> op;
    std::map<std::string, std::unique_ptr<OperatorState>, std::less<>> states;
  };
  void AddEmitValues(Emission& e) const;
  Emission Build(std::string_view key, std::string_view event_id, int64_t time,
                 int64_t window_size, bool correction) const;
  std::string Prefix() const;

  const dsl::plan::Rule& plan_;
  Evaluator evaluator_;
  std::string ruleset_;
  std::vector<std::optional<Call>> calls_;  // per step
  // The stores' zones, for calls that read CallContext::utc_offset (plan_.local_offsets); null
  // otherwise, so other rules pay nothing.
  std::unique_ptr<Calendar> calendar_;
  // Whether the throttle lets an emission at `time` through (and records it if so).
  bool Admit(std::string_view group_key, int64_t time);

  std::vector<dsl::Value> record_;
  std::vector<dsl::Value> emit_values_;  // the `with` values of the record being emitted
  int64_t fired_ = 0;
  int64_t throttled_ = 0;
  // Throttle key -> event times of the emissions let through within the period, oldest first.
  std::map<std::string, std::deque<int64_t>, std::less<>> recent_;
  std::string throttle_scratch_;

  // Whether a rule this one is suppressed by emitted, for this record's fields, lately.
  bool Suppressed(int64_t time);
  void AppendKey(const std::vector<int>& fields, std::string& out) const;
  struct Listener {
    RecentEmissions* table;
    const std::vector<int>* fields;
    std::vector<PendingActivity>* pending;
  };
  std::vector<RecentEmissions> activity_;  // per suppression
  std::vector<Listener> listeners_;
  RecentEmissions dedupe_;
  int64_t deduped_ = 0;
  int64_t suppressed_ = 0;
  std::string dedupe_scratch_, suppress_scratch_;
};

}  // namespace aisle::engine
