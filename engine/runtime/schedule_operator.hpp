#pragma once
// A schedule (`schedule NAME every ... from METRIC ... emit report ...`): per store, at each
// scheduled instant of event time, a report built from the newest record of the metric (keyed by
// store) whose window ended by that instant. An instant fires when the metric's watermark for the
// store reaches it, once; a store with no record yet reports nothing. The instant each store
// fires next and the records it may still need are checkpointed, so a restart neither repeats
// nor skips an instant.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/calendar.hpp"
#include "engine/runtime/evaluator.hpp"
#include "engine/runtime/rule_operator.hpp"

namespace aisle::engine {

class WriteBatch;
class StateStore;

class ScheduleOperator {
 public:
  ScheduleOperator(const dsl::plan::Schedule& plan, const dsl::plan::Metric& metric,
                   const OperatorRegistry& registry, std::string ruleset);

  // A record the metric fired (or corrected) for the store encoded in `key`; `start` is its
  // window's start.
  void Record(std::span<const dsl::Value> record, std::string_view key, int64_t start);
  // The metric's watermark for the store encoded in `key` is `watermark`: reports each instant
  // it reached, oldest first.
  void Advance(std::string_view key, int64_t watermark, const EmissionHandler& emit);

  const dsl::plan::Schedule& plan() const { return plan_; }
  int64_t fired() const { return fired_; }

  // Keys: [fingerprint]['K'][store key] -> [version][next instant][last instant][u32 n] then per
  // record [window start][window end][u32 length][encoded record].
  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);

 private:
  struct Kept {
    int64_t start = 0, end = 0;
    std::string encoded;  // the record's values (key_codec)
  };
  struct Store {
    std::string name;           // the store, decoded (for its time zone)
    std::vector<Kept> records;  // by window start
    int64_t last = INT64_MIN;   // the last instant fired
    int64_t next = INT64_MAX;   // the next instant to fire
  };
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  // The first scheduled instant after `after` for a store.
  int64_t NextInstant(const Store& store, int64_t after) const;
  // Drops records no instant from `next` on can use (a newer one ended by then).
  static void Prune(Store& store);
  Store& StoreFor(std::string_view key);
  void Fire(std::string_view key, int64_t instant, const Kept& kept, const EmissionHandler& emit);
  std::string Prefix() const;

  const dsl::plan::Schedule& plan_;
  const dsl::plan::Metric& metric_;
  Evaluator evaluator_;
  std::string ruleset_;
  std::unique_ptr<Calendar> calendar_;  // local times only
  std::unordered_map<std::string, Store, SvHash, std::equal_to<>> stores_;
  std::vector<dsl::Value> record_;
  int64_t fired_ = 0;
};

}  // namespace aisle::engine
