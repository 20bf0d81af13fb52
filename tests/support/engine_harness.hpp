#pragma once
// Runs rule text over canonical event lines with a real engine and a real RocksDB folder, and
// collects what it emits. For tests only.

#include <optional>
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
// window when `final`), and closes the engine. `checkpoint_every`: events between checkpoints
// (else the engine's default).
inline RunResult RunLines(const std::string& rules_path, const std::string& data_dir,
                          const std::vector<std::string>& lines, bool final,
                          const std::string& tables_dir = {},
                          std::optional<int64_t> checkpoint_every = std::nullopt) {
  RunResult result;
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules_path};
  options.data_dir = data_dir;
  options.tables_dir = tables_dir;
  if (checkpoint_every) options.checkpoint_every = *checkpoint_every;
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

// Restarts after each line number in `cuts` (ascending): one run per part over the same data
// folder, the last with `final`, each checkpointing every `checkpoint_every` events. The result
// holds every run's emissions and late events, in order (`emitted_after` counts lines of the
// whole input).
inline RunResult RunParts(const std::string& rules_path, const std::string& data_dir,
                          const std::vector<std::string>& lines, const std::vector<size_t>& cuts,
                          int64_t checkpoint_every) {
  RunResult all;
  size_t from = 0;
  for (size_t part = 0; part <= cuts.size(); ++part) {
    const size_t to = part < cuts.size() ? cuts[part] : lines.size();
    const bool last = part == cuts.size();
    RunResult r = RunLines(rules_path, data_dir,
                           {lines.begin() + static_cast<std::ptrdiff_t>(from),
                            lines.begin() + static_cast<std::ptrdiff_t>(to)},
                           last, {}, checkpoint_every);
    if (!r.error.empty()) return r;
    all.emissions.insert(all.emissions.end(), r.emissions.begin(), r.emissions.end());
    for (size_t after : r.emitted_after) all.emitted_after.push_back(from + after);
    all.late.insert(all.late.end(), r.late.begin(), r.late.end());
    all.stats = r.stats;
    from = to;
  }
  return all;
}

}  // namespace aisle::testing
