#pragma once
// Runs rule text over canonical event lines with a real engine and a real RocksDB folder, and
// collects what it emits. For tests only.

#include <string>
#include <vector>

#include "connectors/ndjson/event_parser.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::testing {

class CollectingSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission& e) override {
    emissions.push_back(e);
    emitted_after.push_back(position);
  }
  bool Flush(std::string&) override { return true; }
  std::vector<engine::Emission> emissions;
  std::vector<size_t> emitted_after;
  size_t position = 0;  // input lines pushed so far
};

struct RunResult {
  std::string error;  // compile or state error; empty on success
  std::vector<engine::Emission> emissions;
  // Per emission: the 1-based input line whose push it came from (lines.size() + 1: the end of
  // input, with `final`).
  std::vector<size_t> emitted_after;
  // Late events, as "event id metric".
  std::vector<std::string> late;
  engine::EngineStats stats;
};

// Opens an engine on `rules_path` and `data_dir`, pushes each line, ends the input (closing every
// window when `final`), and closes the engine. `checkpoint_every` as in EngineOptions.
inline RunResult RunLines(const std::string& rules_path, const std::string& data_dir,
                          const std::vector<std::string>& lines, bool final,
                          const std::string& tables_dir = {},
                          int64_t checkpoint_every = engine::EngineOptions().checkpoint_every) {
  RunResult result;
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules_path};
  options.data_dir = data_dir;
  options.tables_dir = tables_dir;
  options.checkpoint_every = checkpoint_every;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    result.error = opened.error().message;
    return result;
  }
  CollectingSink sink;
  (*opened)->AddSink(&sink);
  (*opened)->SetLateHandler([&result](const engine::LateEvent& late) {
    result.late.push_back(std::string(late.event.id()) + " " + std::string(late.metric));
  });
  connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  for (const auto& line : lines) {
    if (!parser.Parse(line, event, reason)) {
      result.error = "bad test event: " + reason + ": " + line;
      return result;
    }
    ++sink.position;
    (*opened)->Push(event);
  }
  ++sink.position;
  Status s = (*opened)->Finish(final);
  if (!s.ok()) result.error = s.message();
  result.stats = (*opened)->stats();
  result.emissions = std::move(sink.emissions);
  result.emitted_after = std::move(sink.emitted_after);
  return result;
}

// A restart after line `split`: the lines before it in one run (without `final`), the rest in a
// second run over the same data folder. The result holds both runs' emissions, in order (and
// `emitted_after` counts lines of the whole input).
inline RunResult RunSplit(const std::string& rules_path, const std::string& data_dir,
                          const std::vector<std::string>& lines, size_t split,
                          const std::string& tables_dir = {}) {
  const auto cut = lines.begin() + static_cast<std::ptrdiff_t>(split);
  RunResult first = RunLines(rules_path, data_dir, {lines.begin(), cut}, false, tables_dir);
  if (!first.error.empty()) return first;
  RunResult second = RunLines(rules_path, data_dir, {cut, lines.end()}, true, tables_dir);
  first.emissions.insert(first.emissions.end(), second.emissions.begin(), second.emissions.end());
  for (size_t after : second.emitted_after) first.emitted_after.push_back(split + after);
  first.error = second.error;
  first.stats = second.stats;
  return first;
}

}  // namespace aisle::testing
