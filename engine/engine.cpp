#include "engine/engine.hpp"

#include "engine/runtime/dedup.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/pipeline.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
constexpr std::string_view kMaxTsKey = "max_event_time";
constexpr std::string_view kRulesetKey = "ruleset";
}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                             const OperatorRegistry& registry) {
  std::unique_ptr<Engine> engine(new Engine());
  engine->options_ = options;
  engine->rules_ = CompileRules(options.rules, registry, options.tables_dir);
  if (!engine->rules_->ok()) return Error{engine->rules_->Render()};

  auto store = StateStore::Open(options.data_dir);
  if (!store) return store.error();
  engine->store_ = std::move(store).value();
  engine->pipeline_ = std::make_unique<Pipeline>(engine->rules_->plan, *engine->rules_->graph, registry);
  engine->dedup_ = std::make_unique<DedupFilter>(options.dedup_retention_us);

  std::string error;
  if (!engine->pipeline_->Load(*engine->store_, error) || !engine->dedup_->Load(*engine->store_, error))
    return Error{"cannot restore state from '" + options.data_dir + "': " + error};
  std::string value;
  bool found = false;
  Status s = engine->store_->Get(Family::kMeta, kMaxTsKey, value, found);
  if (!s.ok()) return Error{s.message()};
  if (found && value.size() == 8) engine->pipeline_->set_max_event_time(GetI64Ordered(value.data()));
  return engine;
}

Engine::~Engine() = default;

void Engine::SetLateHandler(LateHandler handler) { pipeline_->set_late_handler(std::move(handler)); }

void Engine::Deliver(Emission&& emission) {
  ++stats_.emissions;
  for (Sink* sink : sinks_) sink->Emit(emission);
}

void Engine::Push(const Event& event) {
  if (!dedup_->FirstSeen(event.id(), event.ts())) {
    ++stats_.duplicates;
    return;
  }
  ++stats_.accepted;
  pipeline_->Process(event, [this](Emission&& e) { Deliver(std::move(e)); });
  if (options_.checkpoint_every > 0 && ++since_checkpoint_ >= options_.checkpoint_every) {
    // A failed periodic checkpoint is retried at the next one and reported by Finish.
    (void)Checkpoint();
  }
}

Status Engine::Finish(bool final) {
  if (final) pipeline_->FireAll([this](Emission&& e) { Deliver(std::move(e)); });
  std::string error;
  for (Sink* sink : sinks_)
    if (!sink->Flush(error)) return Error{"sink: " + error};
  return Checkpoint();
}

Status Engine::Checkpoint() {
  since_checkpoint_ = 0;
  WriteBatch batch(*store_);
  pipeline_->Save(batch);
  dedup_->Save(batch, pipeline_->max_event_time());
  std::string value;
  PutI64Ordered(value, pipeline_->max_event_time());
  batch.Put(Family::kMeta, kMaxTsKey, value);
  batch.Put(Family::kMeta, kRulesetKey, rules_->plan.ruleset_hash);
  Status s = store_->Write(batch);
  // After a failed write, what changed stays marked, and the next checkpoint writes it again.
  if (s.ok()) pipeline_->MarkSaved();
  return s;
}

EngineStats Engine::stats() const {
  EngineStats s = stats_;
  const PipelineStats p = pipeline_->stats();
  s.late = p.late;
  s.corrections = p.corrections;
  s.suppressed = p.suppressed;
  s.deduped = p.deduped;
  s.throttled = p.throttled;
  s.held = p.held;
  s.open_windows = pipeline_->open_windows();
  return s;
}

}  // namespace aisle::engine
