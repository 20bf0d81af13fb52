#pragma once
// An engine instance: compiled rules, the pipeline that runs them, durable state in a data
// folder, and the sinks emissions go to. It owns these parts and sequences them; the work is
// theirs (dsl: compile; graph: lower; runtime: run; state: persist; sinks: deliver).
// Not thread-safe: one thread pushes events.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/compile.hpp"
#include "engine/core/event.hpp"
#include "engine/core/late_event.hpp"
#include "engine/core/result.hpp"
#include "engine/emit/emission.hpp"
#include "engine/registry/registry.hpp"

namespace aisle::engine {

class Pipeline;
class StateStore;
class DedupFilter;

struct EngineOptions {
  std::vector<std::string> rules;  // rule files or folders
  std::string data_dir;            // RocksDB folder (created if missing)
  std::string tables_dir;          // where table files resolve; empty: beside the rule file
  int64_t dedup_retention_us = 7LL * 24 * 3600 * 1'000'000;  // event-time memory of event ids
  int64_t checkpoint_every = 500'000;  // events between automatic checkpoints; 0: never
  // Shard threads the stores are spread over; 0: one per core. 1 runs every event on the
  // calling thread. A plan with state across stores runs on one shard whatever this says.
  int shards = 1;
};

struct EngineStats {
  int64_t accepted = 0;    // events run through the rules
  int64_t duplicates = 0;  // events whose id was seen before
  int64_t late = 0;        // events that arrived after their window closed (beyond lateness)
  int64_t corrections = 0; // window results fired again because a late event changed them
  int64_t emissions = 0;
  int64_t suppressed = 0;  // emissions dropped by `suppress while`
  int64_t deduped = 0;     // emissions dropped by `dedupe`
  int64_t throttled = 0;   // emissions dropped by `throttle`
  int64_t held = 0;        // emissions held for a digest (each digest counts once in `emissions`)
  size_t open_windows = 0;
};

class Engine {
 public:
  // Compiles the rules and restores state from the data folder. On compile errors the Error
  // carries every diagnostic, rendered.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                              const OperatorRegistry& registry);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Emissions go to every sink added, in order. Sinks are not owned and must outlive the engine.
  void AddSink(Sink* sink) { sinks_.push_back(sink); }
  // Events that come after their window closed for good are counted and also passed here, once
  // per metric that refused them. The handler must outlive the engine.
  void SetLateHandler(LateHandler handler);

  // Runs one event (a duplicate id is dropped).
  void Push(const Event& event);
  // End of input: with `final`, every open window fires; then a checkpoint.
  Status Finish(bool final);
  // Writes all state (windows, rule state, dedup, watermark) in one atomic batch.
  Status Checkpoint();

  EngineStats stats() const;
  const CompiledRules& rules() const { return *rules_; }

 private:
  Engine() = default;
  void Deliver(Emission&& emission);

  std::unique_ptr<CompiledRules> rules_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<DedupFilter> dedup_;
  std::vector<Sink*> sinks_;
  EngineOptions options_;
  EngineStats stats_;
  int64_t since_checkpoint_ = 0;
};

}  // namespace aisle::engine
