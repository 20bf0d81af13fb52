#pragma once
// A digest (`digest "CHANNEL" every DURATION`): the emissions to its channel are held, by the
// interval [k * period, (k + 1) * period) of their event time, and each interval goes out as one
// emission of kind `report` (rule "digest") once the newest event time reaches its end, or at the
// end of input with --final. An emission whose interval went out already joins the first one that
// has not. Held emissions are kept in the `outbox` column family, so they survive a restart.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/runtime/rule_operator.hpp"

namespace aisle::engine {

class WriteBatch;
class StateStore;

class DigestOperator {
 public:
  // How many held messages a digest lists; it counts the rest.
  static constexpr size_t kListed = 20;

  DigestOperator(const dsl::plan::Digest& plan, std::string ruleset);

  // Holds an emission to the digest's channel.
  void Hold(const Emission& e);
  // Whether an interval ends at or before `now`.
  bool Due(int64_t now) const { return !intervals_.empty() && intervals_.begin()->first + plan_.period <= now; }
  // Delivers, oldest first, every interval that ends at or before `now`.
  void Advance(int64_t now, const EmissionHandler& emit);
  // End of input: delivers every interval held.
  void FireAll(const EmissionHandler& emit) { Advance(INT64_MAX, emit); }

  const dsl::plan::Digest& plan() const { return plan_; }
  int64_t held() const { return held_; }  // emissions held so far (this run)

  // Outbox keys: ['G'][fingerprint]['H'][interval start][u32 sequence] -> a held emission;
  // ['G'][fingerprint]['F'] -> the end of the last interval delivered. The caller deletes every
  // 'G' key first, so digests no longer declared leave nothing behind.
  void Save(WriteBatch& batch) const;
  bool Load(StateStore& store, std::string& error);
  static constexpr char kOutboxTag = 'G';

 private:
  struct Held {
    std::string rule, store, message;
    dsl::plan::Severity severity;
  };
  Emission Build(int64_t start, const std::vector<Held>& held) const;
  std::string Prefix() const;

  const dsl::plan::Digest& plan_;
  std::string ruleset_;
  std::map<int64_t, std::vector<Held>> intervals_;  // by start
  int64_t delivered_through_ = INT64_MIN;           // end of the last interval delivered
  int64_t held_ = 0;
};

}  // namespace aisle::engine
