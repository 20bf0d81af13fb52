// eval_anomaly: anomaly()'s scoring methods against labels they did not produce.
//  (a) The shipped rules (rules/) over the project's generator (20 stores x 60 days, seed 1, the
//      demo's data), once as shipped and once per method with every anomaly() call's `method`
//      substituted: precision (detecting emissions that match an injected incident) and recall
//      (incidents found), matched as `aisle demo` does (INTERFACES.md).
//  (b) A generic labelled benchmark that is not our generator (anomaly_bench.hpp: NAB / Yahoo
//      S5-style families with daily and weekly seasonality): precision, recall and F1 per method
//      at |score| >= 3.5, and each method's best F1 over thresholds. The default method and its
//      parameters are chosen on (b).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "anomaly_bench.hpp"
#include "connectors/ndjson/file_source.hpp"
#include "dsl/time.hpp"
#include "engine/engine.hpp"
#include "eval.hpp"
#include "examples/gen/generator.hpp"
#include "stdlib/anomaly_internal.hpp"
#include "stdlib/stdlib.hpp"

namespace {

namespace fs = std::filesystem;
using aisle::dsl::Value;
using aisle::eval::PrintRow;

constexpr int64_t kHour = aisle::dsl::kMicrosPerHour;
constexpr int64_t kDay = aisle::dsl::kMicrosPerDay;
constexpr double kThreshold = 3.5;

// ---- (b) the synthetic benchmark ----

struct Config {
  std::string name;
  std::string method;
  int64_t baseline = 28 * kDay;
  int64_t season = 7 * kDay;
  int64_t half_life = 0;
  double clip = 3.0;
  double variance_factor = 4.0;
};

// Scores of every point (NaN where the method gives none), fed as hourly windows.
std::vector<double> Score(const aisle::eval::BenchSeries& s, const Config& c,
                          const aisle::engine::OperatorRegistry& registry) {
  std::unique_ptr<aisle::engine::StatefulOperator> op;
  if (c.method == "ewma") {
    aisle::stdlib::anomaly_detail::EwmaOptions o;
    o.baseline = c.baseline;
    o.season = c.season;
    o.half_life = c.half_life;
    o.clip = c.clip;
    o.variance_factor = c.variance_factor;
    op = aisle::stdlib::anomaly_detail::MakeEwmaAnomaly(o);
  } else {
    std::vector<Value> args = {Value::Null(), Value::Duration(c.baseline),
                               Value::Duration(c.season), Value::String(c.method),
                               Value::Duration(c.half_life)};
    op = registry.Get(registry.Find("anomaly")).stateful(args);
  }
  auto state = op->NewState();
  std::vector<double> out;
  out.reserve(s.values.size());
  Value details[4];
  for (size_t t = 0; t < s.values.size(); ++t) {
    Value args[5] = {Value::Decimal(s.values[t]), Value::Null(), Value::Null(), Value::Null(),
                     Value::Null()};
    Value z = op->Apply(*state, args, {static_cast<int64_t>(t) * kHour, kHour}, details);
    out.push_back(z.is_null() ? std::nan("") : z.d);
  }
  return out;
}

struct Counts {
  long alarms = 0, true_alarms = 0, events = 0, found = 0;
  double Precision() const { return alarms ? static_cast<double>(true_alarms) / alarms : 0; }
  double Recall() const { return events ? static_cast<double>(found) / events : 0; }
  double F1() const {
    const double p = Precision(), r = Recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
  void operator+=(const Counts& o) {
    alarms += o.alarms, true_alarms += o.true_alarms, events += o.events, found += o.found;
  }
};

// An alarm inside an event's window is a true alarm and finds the event; any other is false.
Counts Evaluate(const aisle::eval::BenchSeries& s, const std::vector<double>& scores,
                double threshold) {
  Counts c;
  c.events = static_cast<long>(s.events.size());
  std::vector<bool> found(s.events.size(), false);
  for (size_t t = 0; t < scores.size(); ++t) {
    if (!(std::fabs(scores[t]) >= threshold)) continue;
    ++c.alarms;
    bool inside = false;
    for (size_t e = 0; e < s.events.size(); ++e) {
      const auto& w = s.events[e];
      if (static_cast<int>(t) >= w.start && static_cast<int>(t) < w.start + w.length) {
        inside = true;
        found[e] = true;
      }
    }
    c.true_alarms += inside;
  }
  c.found = std::count(found.begin(), found.end(), true);
  return c;
}

std::string Prf(const Counts& c) {
  return fmt::format("P {:.2f} R {:.2f} F1 {:.2f}", c.Precision(), c.Recall(), c.F1());
}

void RunBenchmark(bool grid) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  const auto bench = aisle::eval::MakeBenchmark();
  std::vector<Config> configs = {
      {"robust_z", "robust_z"},
      {"robust_z season 1d", "robust_z", 28 * kDay, kDay},
      {"poisson", "poisson"},
      {"ewma", "ewma"},
      {"ewma season 1d", "ewma", 28 * kDay, kDay},
      {"forecast", "forecast"},
      {"forecast season 1d", "forecast", 28 * kDay, kDay},
  };
  // The ewma grid its defaults were chosen on: the level's half-life in windows, the variance's
  // over the level's, the clip; weekly season.
  if (grid) {
    configs.clear();
    for (int64_t windows : {3, 6, 12, 24, 48})
      for (double factor : {1.0, 4.0})
        for (double clip : {3.0, 1e9})
          configs.push_back({fmt::format("ewma half_life {}h variance x{} clip {}", windows, factor,
                                         clip > 100 ? std::string("none") : fmt::format("{}", clip)),
                             "ewma", 28 * kDay, 7 * kDay, windows * kHour, clip, factor});
  }
  const std::vector<double> thresholds = [] {
    std::vector<double> t;
    for (double x = 2.0; x <= 12.0; x += 0.25) t.push_back(x);
    for (double x : {15.0, 20.0, 30.0, 50.0}) t.push_back(x);
    return t;
  }();
  const std::string source = "labels by construction (anomaly_bench.hpp, 64 series)";
  for (const Config& c : configs) {
    std::map<std::string, Counts> by_family;
    Counts total;
    std::vector<Counts> sweep(thresholds.size());
    for (const auto& s : bench) {
      const std::vector<double> scores = Score(s, c, registry);
      const Counts at = Evaluate(s, scores, kThreshold);
      by_family[s.family] += at;
      total += at;
      for (size_t i = 0; i < thresholds.size(); ++i) sweep[i] += Evaluate(s, scores, thresholds[i]);
    }
    size_t best = 0;
    for (size_t i = 1; i < sweep.size(); ++i)
      if (sweep[i].F1() > sweep[best].F1()) best = i;
    PrintRow("anomaly (b)", c.name + ", |z| >= 3.5", Prf(total), "", source);
    PrintRow("anomaly (b)", c.name + ", best F1",
             fmt::format("F1 {:.2f} at |z| >= {:.2f} (P {:.2f} R {:.2f})", sweep[best].F1(),
                         thresholds[best], sweep[best].Precision(), sweep[best].Recall()),
             "", source);
    std::string families;
    for (const auto& [family, counts] : by_family)
      families += fmt::format("{}{}: {}/{} found, {} false", families.empty() ? "" : "; ", family,
                              counts.found, counts.events, counts.alarms - counts.true_alarms);
    std::fprintf(stderr, "%s: %s\n", c.name.c_str(), families.c_str());
  }
}

// ---- (a) the shipped rules over the generator ----

struct Incident {
  std::string kind, store;
  int64_t start = 0, end = 0;
  bool found = false;
};

class CollectSink final : public aisle::engine::Sink {
 public:
  void Emit(const aisle::engine::Emission& e) override { emissions.push_back(e); }
  bool Flush(std::string&) override { return true; }
  std::vector<aisle::engine::Emission> emissions;
};

std::string Label(const aisle::engine::Emission& e, std::string_view key) {
  for (const auto& [k, v] : e.labels)
    if (k == key) return v;
  return {};
}

std::vector<Incident> ReadIncidents(const fs::path& path) {
  std::vector<Incident> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string kind, store, start, end;
    std::getline(cells, kind, ',');
    std::getline(cells, store, ',');
    std::getline(cells, start, ',');
    std::getline(cells, end, ',');
    out.push_back({kind, store, aisle::dsl::ParseTimestamp(start).value_or(0),
                   aisle::dsl::ParseTimestamp(end).value_or(0)});
  }
  return out;
}

// A copy of the shipped rules with every anomaly() call's method set to `method` ("" = as
// shipped).
fs::path RulesFor(const fs::path& work, const std::string& method) {
  const fs::path dir = work / ("rules-" + (method.empty() ? std::string("shipped") : method));
  fs::remove_all(dir);
  fs::copy(fs::path(AISLE_SOURCE_DIR) / "rules", dir, fs::copy_options::recursive);
  if (method.empty()) return dir;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".aisle") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    in.close();
    const std::regex call(R"(anomaly\(([^)]*)\))");
    const std::regex given(R"(,\s*method\s*=\s*"[a-z_]+")");
    std::string s = text.str(), out;
    auto last = s.cbegin();
    for (std::sregex_iterator it(s.begin(), s.end(), call), end; it != end; ++it) {
      out.append(last, (*it)[0].first);
      out += "anomaly(" + std::regex_replace((*it)[1].str(), given, "") + ", method = \"" +
             method + "\")";
      last = (*it)[0].second;
    }
    out.append(last, s.cend());
    std::ofstream(entry.path()) << out;
  }
  return dir;
}

void RunGenerator() {
  const fs::path work = fs::temp_directory_path() / fmt::format("aisle-eval-anomaly-{}", ::getpid());
  fs::remove_all(work);
  aisle::gen::GenOptions options;  // the demo's: 20 stores x 60 days, seed 1
  options.out_dir = (work / "input").string();
  fs::create_directories(options.out_dir);
  if (std::holds_alternative<std::string>(aisle::gen::Generate(options))) {
    std::fprintf(stderr, "eval_anomaly: the generator failed\n");
    return;
  }
  const std::string source = "aisle gen incidents.csv (20 stores x 60 days, seed 1)";
  for (const std::string method : {"", "robust_z", "poisson", "ewma", "forecast"}) {
    aisle::engine::OperatorRegistry registry;
    aisle::stdlib::RegisterStdlib(registry);
    aisle::engine::EngineOptions eo;
    eo.rules = {RulesFor(work, method).string()};
    eo.data_dir = (work / ("state-" + method)).string();
    eo.tables_dir = options.out_dir;
    auto opened = aisle::engine::Engine::Open(eo, registry);
    if (!opened) {
      std::fprintf(stderr, "eval_anomaly: %s\n", opened.error().message.c_str());
      continue;
    }
    CollectSink sink;
    (*opened)->AddSink(&sink);
    aisle::connectors::RejectWriter rejects((work / "rejects.jsonl").string());
    auto replayed = aisle::connectors::ReplayNdjson(options.out_dir + "/events.ndjson", **opened, rejects);
    if (!replayed || !(*opened)->Finish(true).ok()) continue;
    std::vector<Incident> incidents = ReadIncidents(fs::path(options.out_dir) / "incidents.csv");
    // Per kind an anomaly rule detects, and over every detecting rule (the demo's figures).
    std::map<std::string, Counts> by_kind;
    Counts all;
    for (const auto& e : sink.emissions) {
      const std::string kind = Label(e, "detects");
      if (kind.empty()) continue;
      bool matched = false;
      for (auto& i : incidents) {
        const int64_t from = e.window ? e.window->first : e.ts;
        const int64_t to = e.window ? e.window->second : e.ts;
        if (i.kind == kind && i.store == e.store && from <= i.end + kDay && to >= i.start) {
          i.found = true;
          matched = true;
        }
      }
      by_kind[kind].alarms++, all.alarms++;
      by_kind[kind].true_alarms += matched, all.true_alarms += matched;
    }
    for (const auto& i : incidents) {
      by_kind[i.kind].events++, all.events++;
      by_kind[i.kind].found += i.found, all.found += i.found;
    }
    const std::string name = method.empty() ? "as shipped" : "method " + method;
    for (const char* kind : {"aov_drop", "refund_spike"}) {
      const Counts& c = by_kind[kind];
      PrintRow("anomaly (a)", fmt::format("{} {}", name, kind),
               fmt::format("{} ({}/{} found, {} false alarms)", Prf(c), c.found, c.events,
                           c.alarms - c.true_alarms),
               "", source);
    }
    PrintRow("anomaly (a)", name + ", every detecting rule (as `aisle demo`)",
             fmt::format("incidents found {}/{}; false alarms {}", all.found, all.events,
                         all.alarms - all.true_alarms),
             "", source);
  }
  fs::remove_all(work);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  if (only.empty() || only == "a") RunGenerator();
  if (only.empty() || only == "b") RunBenchmark(false);
  if (only == "grid") RunBenchmark(true);
  return 0;
}
