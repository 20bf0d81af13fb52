#pragma once
// An engine instance: compiled rules, the pipelines that run them, durable state in a data
// folder, and the sinks emissions go to. It owns these parts and sequences them; the work is
// theirs (dsl: compile; graph: lower; runtime: run; state: persist; sinks: deliver).
//
// One thread calls the engine (it pushes events: it is the router). With one shard, events run
// on that thread and sinks are called on it. With N shards (engine/runtime/shard.hpp) each store
// belongs to one shard thread, chosen by a hash of the store; sinks are called on one sink
// thread, in each shard's order. A checkpoint pauses every shard at a barrier, waits until the
// sinks have everything emitted before it, and writes every shard's state, the dedup ids and the
// source positions in one atomic batch: a consistent cut.

#include <cstdint>
#include <functional>
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
class Shard;
class SinkWorker;

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
  int shards = 1;  // shards the stores are spread over
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
  // Called at every checkpoint on the pushing thread, after the sinks' Flush and before the state
  // is written, while no shard runs: for outputs that are not sinks (the reject and late-events
  // files) to make what they were given durable. An error fails the checkpoint.
  void AddCheckpointHook(std::function<Status()> hook) {
    checkpoint_hooks_.push_back(std::move(hook));
  }

  // Runs one event (a duplicate id is dropped). With shards, waits while the event's shard has
  // its queue full (backpressure); TryPush returns false instead, and the event is not taken.
  void Push(const Event& event);
  bool TryPush(const Event& event);
  // Sends events still gathered into batches on to their shards: call when the input pauses.
  void Flush();
  // End of input: with `final`, every open window fires; then a checkpoint.
  Status Finish(bool final);
  // Writes all state (windows, rule state, dedup, watermarks, source positions) in one atomic
  // batch, after every sink has flushed what was emitted before and every checkpoint hook ran.
  Status Checkpoint();

  // Where a source has read up to (e.g. a file's byte offset after the last line pushed), saved
  // with the next checkpoint: set it before pushing the events it covers. A restarted source
  // reads SourcePosition (empty when none was saved) and resumes from there.
  void SetSourcePosition(std::string_view source, std::string_view position);
  std::string SourcePosition(std::string_view source) const;

  // Statistics; with shards this pauses them for a moment.
  EngineStats stats();
  const CompiledRules& rules() const { return *rules_; }
  int shards() const { return static_cast<int>(pipelines_.size()); }
  // Why the rules run on one shard ("" when they can be sharded), and anything else about how
  // the engine opened that its user should know (e.g. a data folder kept its shard count).
  const std::string& shard_blocker() const { return shard_blocker_; }
  const std::string& notice() const { return notice_; }

 private:
  Engine();
  Status Restore(int stored_shards);
  void Deliver(Emission&& emission);
  bool Accept(const Event& event);
  size_t ShardOf(const Event& event) const;
  // Pauses every shard; emissions made before are then with the sinks. Resume lets them go.
  void PauseAll();
  void ResumeAll();
  void MaybeCheckpoint();
  Status CheckpointPaused();

  std::unique_ptr<CompiledRules> rules_;
  std::unique_ptr<StateStore> store_;
  std::vector<Pipeline*> pipelines_;            // one per shard
  std::unique_ptr<Pipeline> pipeline_;          // the pipeline, with one shard
  std::unique_ptr<SinkWorker> sink_worker_;     // with shards only; declared before them, so
  std::vector<std::unique_ptr<Shard>> shards_;  // the shards stop first; empty with one shard
  std::unique_ptr<DedupFilter> dedup_;
  std::vector<Sink*> sinks_;
  std::vector<std::function<Status()>> checkpoint_hooks_;
  EngineOptions options_;
  EngineStats stats_;
  int64_t since_checkpoint_ = 0;
  int64_t max_ts_ = INT64_MIN;  // newest event time pushed: the dedup ids' clock
  bool migrate_ = false;        // state was read from another shard layout: rewrite it all
  std::vector<std::pair<std::string, std::string>> positions_;
  std::string shard_blocker_, notice_;
};

}  // namespace aisle::engine
