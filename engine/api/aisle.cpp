#include "engine/api/aisle.hpp"

#include "connectors/ndjson/event_parser.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle {

namespace {
// Forwards engine emissions to the integrator's callback in the public shape.
class CallbackSink final : public engine::Sink {
 public:
  explicit CallbackSink(std::function<void(const Emission&)> fn) : fn_(std::move(fn)) {}
  void Emit(const engine::Emission& e) override {
    if (!fn_) return;
    Emission out;
    out.id = e.id;
    out.kind = std::string(engine::KindName(e.kind));
    out.rule = e.rule;
    out.severity = std::string(engine::SeverityName(e.severity));
    out.store = e.store;
    out.channel = e.channel;
    out.message = e.message;
    out.json = engine::ToJson(e);
    fn_(out);
  }
  bool Flush(std::string&) override { return true; }

 private:
  std::function<void(const Emission&)> fn_;
};
}  // namespace

struct AisleEngine::Impl {
  engine::OperatorRegistry registry;
  std::unique_ptr<CallbackSink> sink;
  std::unique_ptr<engine::Engine> engine;
  connectors::EventParser parser;
  engine::Event event;
  bool closed = false;
};

AisleEngine::AisleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<AisleEngine> AisleEngine::Open(const EngineConfig& config, std::string& error) {
  auto impl = std::make_unique<Impl>();
  stdlib::RegisterStdlib(impl->registry);
  engine::EngineOptions options;
  options.rules = {config.rules};
  options.data_dir = config.data;
  options.tables_dir = config.tables;
  auto opened = engine::Engine::Open(options, impl->registry);
  if (!opened) {
    error = opened.error().message;
    return nullptr;
  }
  impl->engine = std::move(opened).value();
  impl->sink = std::make_unique<CallbackSink>(config.on_emission);
  impl->engine->AddSink(impl->sink.get());
  return std::unique_ptr<AisleEngine>(new AisleEngine(std::move(impl)));
}

AisleEngine::~AisleEngine() {
  if (impl_ && !impl_->closed) {
    std::string ignored;
    Close(false, ignored);
  }
}

bool AisleEngine::Push(std::string_view event_json, std::string& error) {
  if (impl_->closed) {
    error = "engine is closed";
    return false;
  }
  if (!impl_->parser.Parse(event_json, impl_->event, error)) return false;
  impl_->engine->Push(impl_->event);
  return true;
}

bool AisleEngine::Checkpoint(std::string& error) {
  Status s = impl_->engine->Checkpoint();
  if (!s.ok()) error = s.message();
  return s.ok();
}

bool AisleEngine::Close(bool final, std::string& error) {
  if (impl_->closed) return true;
  impl_->closed = true;
  Status s = impl_->engine->Finish(final);
  if (!s.ok()) error = s.message();
  return s.ok();
}

}  // namespace aisle
