#include "engine/engine.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include <xxhash.h>

#include "engine/runtime/dedup.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/pipeline.hpp"
#include "engine/runtime/shard.hpp"
#include "engine/runtime/shard_plan.hpp"
#include "engine/runtime/sink_worker.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
constexpr std::string_view kMaxTsKey = "max_event_time";  // per shard namespace
constexpr std::string_view kRulesetKey = "ruleset";
constexpr std::string_view kShardsKey = "shards";        // the shard layout of the state
constexpr std::string_view kPositionPrefix = "position/";  // + source name

// Where shard `shard` of `count` keeps its keys, in every family. One shard keeps them bare,
// as a lone pipeline always did. Engine keys (meta: ruleset, shards, positions; the dedup
// family) never start with 0xff, so they never fall under a shard's namespace.
std::string Namespace(int shard, int count) {
  if (count <= 1) return {};
  std::string ns = "\xff" "S";
  ns.push_back(static_cast<char>((shard >> 8) & 0xff));
  ns.push_back(static_cast<char>(shard & 0xff));
  return ns;
}
// Every shard namespace: [kNamespacesBegin, kNamespacesEnd).
constexpr std::string_view kNamespacesBegin = "\xff" "S";
constexpr std::string_view kNamespacesEnd = "\xff" "T";
constexpr Family kAllFamilies[] = {Family::kWindows, Family::kMeta,  Family::kOutbox,
                                   Family::kAudit,   Family::kApprovals};
}  // namespace

Engine::Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                             const OperatorRegistry& registry) {
  std::unique_ptr<Engine> engine(new Engine());
  engine->options_ = options;
  engine->rules_ = CompileRules(options.rules, registry, options.tables_dir);
  if (!engine->rules_->ok()) return Error{engine->rules_->Render()};
  auto store = StateStore::Open(options.data_dir);
  if (!store) return store.error();
  engine->store_ = std::move(store).value();

  // The shard layout the state was written in: the key, or one shard for state written before
  // shards existed, or none for a fresh folder.
  int stored = 0;
  std::string value;
  bool found = false;
  Status s = engine->store_->Get(Family::kMeta, kShardsKey, value, found);
  if (!s.ok()) return Error{s.message()};
  if (found && value.size() == 4) {
    stored = static_cast<int>(GetU32(value.data()));
  } else {
    s = engine->store_->Get(Family::kMeta, kRulesetKey, value, found);
    if (!s.ok()) return Error{s.message()};
    if (found) stored = 1;
  }

  const auto& plan = engine->rules_->plan;
  engine->shard_blocker_ = ShardBlocker(plan);
  int wanted = options.shards > 0 ? options.shards
                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (!engine->shard_blocker_.empty()) wanted = 1;
  int shards = wanted;
  if (stored > 0 && stored != wanted) {
    if (wanted == 1) {
      engine->migrate_ = true;  // the shards' state merges into one pipeline (stores are disjoint)
    } else {
      // A store's state lives in the shard its hash chose; another count would move stores.
      shards = stored;
      engine->notice_ = "the state in '" + options.data_dir + "' was written by " +
                        std::to_string(stored) + " shard" + (stored == 1 ? "" : "s") +
                        ": running on " + (stored == 1 ? "one" : "as many") +
                        " (replay into a new folder to use " + std::to_string(wanted) + ")";
    }
  }
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (int i = 0; i < shards; ++i) {
    pipelines.push_back(std::make_unique<Pipeline>(plan, *engine->rules_->graph, registry));
    engine->pipelines_.push_back(pipelines.back().get());
  }
  engine->dedup_ = std::make_unique<DedupFilter>(options.dedup_retention_us);
  s = engine->Restore(stored);
  if (!s.ok()) return Error{"cannot restore state from '" + options.data_dir + "': " + s.message()};

  if (shards == 1) {
    engine->pipeline_ = std::move(pipelines.front());
    return engine;
  }
  engine->sink_worker_ = std::make_unique<SinkWorker>([e = engine.get()](Emission&& emission) {
    for (Sink* sink : e->sinks_) sink->Emit(emission);
  });
  for (auto& p : pipelines)
    engine->shards_.push_back(std::make_unique<Shard>(std::move(p), engine->sink_worker_->queue()));
  return engine;
}

Status Engine::Restore(int stored) {
  std::string error, value;
  bool found = false;
  const int shards = static_cast<int>(pipelines_.size());
  // Each pipeline reads its own namespace; merging, the one pipeline reads every shard's.
  const int sources = migrate_ ? stored : shards;
  for (int i = 0; i < sources; ++i) {
    Pipeline& pipeline = *pipelines_[migrate_ ? 0 : static_cast<size_t>(i)];
    store_->set_namespace(Namespace(i, sources));
    bool ok = pipeline.Load(*store_, error);
    Status s = ok ? store_->Get(Family::kMeta, kMaxTsKey, value, found) : Status::Ok();
    store_->set_namespace({});
    if (!ok) return Error{error};
    if (!s.ok()) return s;
    if (found && value.size() == 8)
      pipeline.set_max_event_time(std::max(pipeline.max_event_time(), GetI64Ordered(value.data())));
    max_ts_ = std::max(max_ts_, pipeline.max_event_time());
  }
  if (!dedup_->Load(*store_, error)) return Error{error};
  return store_->Scan(Family::kMeta, kPositionPrefix, [&](std::string_view key, std::string_view v) {
    positions_.emplace_back(std::string(key.substr(kPositionPrefix.size())), std::string(v));
    return true;
  });
}

Engine::~Engine() {
  shards_.clear();       // each shard finishes what it was sent
  sink_worker_.reset();  // then every emission reaches the sinks
}

void Engine::SetLateHandler(LateHandler handler) {
  if (shards_.empty()) {
    pipelines_[0]->set_late_handler(std::move(handler));
    return;
  }
  // Shards report late events from their own threads: one at a time. Late events are rare.
  auto mutex = std::make_shared<std::mutex>();
  auto shared = std::make_shared<LateHandler>(std::move(handler));
  PauseAll();
  for (auto& p : pipelines_)
    p->set_late_handler([mutex, shared](const LateEvent& e) {
      std::lock_guard<std::mutex> lock(*mutex);
      (*shared)(e);
    });
  ResumeAll();
}

void Engine::Deliver(Emission&& emission) {
  ++stats_.emissions;
  for (Sink* sink : sinks_) sink->Emit(emission);
}

bool Engine::Accept(const Event& event) {
  if (!dedup_->FirstSeen(event.id(), event.ts(), max_ts_)) {
    ++stats_.duplicates;
    return false;
  }
  ++stats_.accepted;
  max_ts_ = std::max(max_ts_, event.ts());
  return true;
}

size_t Engine::ShardOf(const Event& event) const {
  const std::string_view store = event.store();
  return static_cast<size_t>(XXH3_64bits(store.data(), store.size()) % shards_.size());
}

void Engine::Push(const Event& event) {
  if (!Accept(event)) return;
  if (shards_.empty()) pipelines_[0]->Process(event, [this](Emission&& e) { Deliver(std::move(e)); });
  else shards_[ShardOf(event)]->Push(event);
  MaybeCheckpoint();
}

bool Engine::TryPush(const Event& event) {
  if (!shards_.empty() && !shards_[ShardOf(event)]->Reserve()) return false;
  Push(event);  // the shard has a batch with room: Push does not wait
  return true;
}

void Engine::Flush() {
  for (auto& shard : shards_) shard->Flush();
}

void Engine::MaybeCheckpoint() {
  if (options_.checkpoint_every > 0 && ++since_checkpoint_ >= options_.checkpoint_every) {
    // A failed periodic checkpoint is retried at the next one and reported by Finish.
    (void)Checkpoint();
  }
}

void Engine::PauseAll() {
  for (auto& shard : shards_) shard->Pause();
}

void Engine::ResumeAll() {
  for (auto& shard : shards_) shard->Resume();
}

Status Engine::Finish(bool final) {
  PauseAll();
  if (final) {
    if (shards_.empty()) {
      pipelines_[0]->FireAll([this](Emission&& e) { Deliver(std::move(e)); });
    } else {
      for (auto& shard : shards_) shard->pipeline().FireAll(shard->emit());
    }
  }
  Status s = CheckpointPaused();
  ResumeAll();
  return s;
}

Status Engine::Checkpoint() {
  PauseAll();
  Status s = CheckpointPaused();
  ResumeAll();
  return s;
}

Status Engine::CheckpointPaused() {
  since_checkpoint_ = 0;
  // Everything emitted before the cut reaches the sinks and is flushed before the cut is
  // written: after a crash, replay from the cut emits again only what came after it (with the
  // same ids), so each emission is delivered at least once and its effect counted once.
  if (sink_worker_) {
    int64_t emitted = 0;
    for (const auto& shard : shards_) emitted += shard->emitted();
    sink_worker_->WaitDelivered(emitted);
  }
  std::string error;
  for (Sink* sink : sinks_)
    if (!sink->Flush(error)) return Error{"sink: " + error};
  for (const auto& hook : checkpoint_hooks_) {
    Status s = hook();
    if (!s.ok()) return s;
  }

  WriteBatch batch(*store_);
  const int shards = static_cast<int>(pipelines_.size());
  if (migrate_) {
    // Read from another layout: clear every shard namespace; everything is written anew below.
    for (Family f : kAllFamilies) batch.DeleteRange(f, kNamespacesBegin, kNamespacesEnd);
    for (auto& p : pipelines_) p->MarkAllUnsaved();
  }
  std::string value;
  for (int i = 0; i < shards; ++i) {
    const Pipeline& p = *pipelines_[static_cast<size_t>(i)];
    batch.set_namespace(Namespace(i, shards));
    p.Save(batch);
    value.clear();
    PutI64Ordered(value, p.max_event_time());
    batch.Put(Family::kMeta, kMaxTsKey, value);
  }
  batch.set_namespace({});
  dedup_->Save(batch, max_ts_);
  batch.Put(Family::kMeta, kRulesetKey, rules_->plan.ruleset_hash);
  value.clear();
  PutU32(value, static_cast<uint32_t>(shards));
  batch.Put(Family::kMeta, kShardsKey, value);
  for (const auto& [source, position] : positions_)
    batch.Put(Family::kMeta, std::string(kPositionPrefix) + source, position);
  Status s = store_->Write(batch);
  if (s.ok()) migrate_ = false;
  return s;
}

void Engine::SetSourcePosition(std::string_view source, std::string_view position) {
  for (auto& [name, at] : positions_) {
    if (name == source) {
      at.assign(position);
      return;
    }
  }
  positions_.emplace_back(std::string(source), std::string(position));
}

std::string Engine::SourcePosition(std::string_view source) const {
  for (const auto& [name, at] : positions_)
    if (name == source) return at;
  return {};
}

EngineStats Engine::stats() {
  EngineStats s = stats_;
  PauseAll();
  for (const auto& p : pipelines_) {
    const PipelineStats ps = p->stats();
    s.late += ps.late;
    s.corrections += ps.corrections;
    s.suppressed += ps.suppressed;
    s.deduped += ps.deduped;
    s.throttled += ps.throttled;
    s.held += ps.held;
    s.open_windows += p->open_windows();
  }
  if (sink_worker_) {
    int64_t emitted = 0;
    for (const auto& shard : shards_) emitted += shard->emitted();
    s.emissions = emitted;
  }
  ResumeAll();
  s.shards = static_cast<int>(pipelines_.size());
  return s;
}

}  // namespace aisle::engine
