// `aisle demo`: generates a sample chain, runs the shipped rules over it with state in a fresh
// local folder, prints what each store manager would see, and scores the detecting rules against
// the generator's ground truth (INTERFACES.md: incidents.csv, the `detects` label).

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <variant>

#include <fmt/format.h>

#include "connectors/ndjson/file_source.hpp"
#include "connectors/sinks/jsonl_sink.hpp"
#include "dsl/time.hpp"
#include "engine/cli/commands.hpp"
#include "engine/engine.hpp"
#include "examples/gen/generator.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::cli {

namespace fs = std::filesystem;

namespace {

struct Incident {
  std::string kind, store;
  int64_t start = 0, end = 0;
  bool found = false;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell.push_back('"'), ++i;
      else if (c == '"') quoted = false;
      else cell.push_back(c);
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cell));
      cell.clear();
    } else if (c != '\r') {
      cell.push_back(c);
    }
  }
  out.push_back(std::move(cell));
  return out;
}

std::vector<std::vector<std::string>> ReadCsv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (!line.empty()) rows.push_back(SplitCsv(line));
  }
  return rows;
}

// Collects emissions for the report.
class CollectSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission& e) override { emissions.push_back(e); }
  bool Flush(std::string&) override { return true; }
  std::vector<engine::Emission> emissions;
};

std::string Label(const engine::Emission& e, std::string_view key) {
  for (const auto& [k, v] : e.labels)
    if (k == key) return v;
  return {};
}

// An emission matches an incident of its `detects` kind at its store when its window (or its
// time, for a stream rule) overlaps [start, end + 24h].
bool Matches(const engine::Emission& e, const Incident& i) {
  if (Label(e, "detects") != i.kind || e.store != i.store) return false;
  int64_t from = e.window ? e.window->first : e.ts;
  int64_t to = e.window ? e.window->second : e.ts;
  return from <= i.end + dsl::kMicrosPerDay && to >= i.start;
}

std::string ShortTime(int64_t us) {
  std::string t = dsl::FormatTimestamp(us);  // 2025-03-14T13:00:00Z
  return t.size() >= 16 ? t.substr(5, 5) + " " + t.substr(11, 5) : t;
}

}  // namespace

std::string DefaultRulesDir() {
  if (fs::is_directory("rules")) return "rules";
  return std::string(AISLE_SOURCE_DIR) + "/rules";
}

int RunDemo(const DemoArgs& args) {
  const fs::path dir = args.dir;
  std::error_code ec;
  fs::remove_all(dir, ec);
  const fs::path input = dir / "input";
  const fs::path state = dir / "state";
  fs::create_directories(input, ec);
  if (ec) {
    std::fputs(fmt::format("error: cannot create '{}': {}\n", dir.string(), ec.message()).c_str(), stderr);
    return 2;
  }
  std::printf("Aisle demo: %d stores x %d days (seed %llu), data in %s/\n", args.stores, args.days,
              static_cast<unsigned long long>(args.seed), dir.string().c_str());
  gen::GenOptions options;
  options.stores = args.stores;
  options.days = args.days;
  options.seed = args.seed;
  options.out_dir = input.string();
  auto generated = gen::Generate(options);
  if (auto* error = std::get_if<std::string>(&generated)) {
    std::fputs(("error: " + *error + "\n").c_str(), stderr);
    return 2;
  }

  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions engine_options;
  engine_options.rules = {args.rules.empty() ? DefaultRulesDir() : args.rules};
  engine_options.data_dir = state.string();
  engine_options.tables_dir = input.string();
  auto opened = engine::Engine::Open(engine_options, registry);
  if (!opened) {
    std::fputs(opened.error().message.c_str(), stderr);
    return 1;
  }
  engine::Engine& eng = **opened;
  CollectSink collected;
  eng.AddSink(&collected);
  auto jsonl = connectors::JsonlSink::Open((dir / "emissions.jsonl").string());
  if (jsonl) eng.AddSink(jsonl->get());
  connectors::RejectWriter rejects((dir / "rejects.jsonl").string());
  auto report = connectors::ReplayNdjson((input / "events.ndjson").string(), eng, rejects);
  if (!report) {
    std::fputs(("error: " + report.error().message + "\n").c_str(), stderr);
    return 2;
  }
  Status finished = eng.Finish(/*final=*/true);
  if (!finished.ok()) {
    std::fputs(("error: " + finished.message() + "\n").c_str(), stderr);
    return 2;
  }
  engine::EngineStats stats = eng.stats();
  std::printf("replayed %lld events (%lld duplicates dropped, %lld rejected, %lld late) through %zu rules\n\n",
              static_cast<long long>(stats.accepted), static_cast<long long>(stats.duplicates),
              static_cast<long long>(report->rejected), static_cast<long long>(stats.late),
              eng.rules().plan.rules.size());

  // What each store manager sees: their alerts and tasks, in time order.
  std::map<std::string, std::vector<std::string>> store_info;  // store -> name, district
  for (const auto& row : ReadCsv(input / "stores.csv"))
    if (row.size() >= 3) store_info[row[0]] = {row[1], row[2]};
  std::map<std::string, std::vector<const engine::Emission*>> by_store;
  for (const auto& e : collected.emissions) by_store[e.store].push_back(&e);
  for (auto& [store, list] : by_store) {
    std::stable_sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->ts < b->ts; });
    auto info = store_info.find(store);
    std::printf("== %s%s: %zu %s\n", store.empty() ? "(chain)" : store.c_str(),
                info != store_info.end()
                    ? fmt::format(" {} ({})", info->second[0], info->second[1]).c_str()
                    : "",
                list.size(), list.size() == 1 ? "notice" : "notices");
    const size_t limit = args.verbose ? list.size() : 8;
    for (size_t i = 0; i < list.size() && i < limit; ++i) {
      const auto& e = *list[i];
      std::printf("   %s  %-8s %-5s %s\n", ShortTime(e.window ? e.window->first : e.ts).c_str(),
                  std::string(engine::SeverityName(e.severity)).c_str(),
                  std::string(engine::KindName(e.kind)).c_str(), e.message.c_str());
    }
    if (list.size() > limit) std::printf("   ... and %zu more (--verbose shows all)\n", list.size() - limit);
  }

  // Score against the ground truth.
  std::vector<Incident> incidents;
  for (const auto& row : ReadCsv(input / "incidents.csv")) {
    if (row.size() < 4) continue;
    Incident i;
    i.kind = row[0];
    i.store = row[1];
    i.start = dsl::ParseTimestamp(row[2]).value_or(0);
    i.end = dsl::ParseTimestamp(row[3]).value_or(0);
    incidents.push_back(i);
  }
  int false_alarms = 0;
  for (const auto& e : collected.emissions) {
    if (Label(e, "detects").empty()) continue;
    bool matched = false;
    for (auto& i : incidents) {
      if (Matches(e, i)) {
        i.found = true;
        matched = true;
      }
    }
    if (!matched) ++false_alarms;
  }
  int found = 0;
  std::printf("\nground truth (%s):\n", (input / "incidents.csv").string().c_str());
  for (const auto& i : incidents) {
    found += i.found;
    std::printf("   %-6s %-15s %s .. %s  %s\n", i.store.c_str(), i.kind.c_str(),
                ShortTime(i.start).c_str(), ShortTime(i.end).c_str(), i.found ? "found" : "MISSED");
  }
  std::printf("incidents found: %d/%zu; false alarms: %d\n", found, incidents.size(), false_alarms);
  return 0;
}

}  // namespace aisle::cli
