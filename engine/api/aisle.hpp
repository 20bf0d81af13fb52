#pragma once
// Aisle's embedding API: run the engine inside your own program (a POS webhook receiver, a batch
// job). Open an engine on a rules folder and a data folder, push canonical events (INTERFACES.md)
// as JSON, receive emissions through a callback, close cleanly. State survives restarts in the
// data folder. This header is the whole public surface; it includes nothing of the engine.
//
// Thread-safety: one thread at a time may call an AisleEngine; the callback runs on that thread.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace aisle {

// An emission (alert or task), with its JSON line in the emission format of INTERFACES.md.
struct Emission {
  std::string id;        // deterministic: receivers can drop duplicates by id
  std::string kind;      // "alert" | "task"
  std::string rule;
  std::string severity;  // "info" | "warning" | "critical"
  std::string store;
  std::string channel;
  std::string message;
  std::string json;  // the whole emission, one line
};

struct EngineConfig {
  std::string rules;       // rule file or folder
  std::string data;        // state folder (created if missing)
  std::string tables;      // where `table` files resolve; empty: beside the rule files
  std::function<void(const Emission&)> on_emission;
};

class AisleEngine {
 public:
  // Compiles the rules and restores state. On failure returns null and sets `error` (compile
  // diagnostics included, rendered as `aisle check` shows them).
  static std::unique_ptr<AisleEngine> Open(const EngineConfig& config, std::string& error);
  ~AisleEngine();  // checkpoints, like Close(false)

  // Pushes one canonical event (a JSON object). False, with `error`, when it is malformed; a
  // duplicate event id is accepted and counted once.
  bool Push(std::string_view event_json, std::string& error);
  // Makes all state durable now (also done every few hundred thousand events).
  bool Checkpoint(std::string& error);
  // Ends the input: with `final`, closes every open window (their rules fire); then checkpoints.
  bool Close(bool final, std::string& error);

 private:
  struct Impl;
  explicit AisleEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aisle
