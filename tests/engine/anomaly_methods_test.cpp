// anomaly(method = "ewma" | "forecast") in rules through a real engine: hand-derived emissions,
// the same emissions on one shard and several, and across a restart.

#include <algorithm>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "connectors/ndjson/event_parser.hpp"
#include "dsl/time.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::RunSplit;
using aisle::testing::Sale;
using aisle::testing::TempDir;
namespace engine = aisle::engine;

namespace {

class JsonSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission& e) override { lines.push_back(engine::ToJson(e)); }
  bool Flush(std::string&) override { return true; }
  std::vector<std::string> lines;
};

// Emissions (JSON, sorted: shards interleave stores) of `lines` on `shards` shards.
std::vector<std::string> RunSharded(const std::string& rules, const std::string& data, int shards,
                                    const std::vector<std::string>& lines) {
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules};
  options.data_dir = data;
  options.shards = shards;
  auto opened = engine::Engine::Open(options, registry);
  REQUIRE(opened);
  JsonSink sink;
  (*opened)->AddSink(&sink);
  aisle::connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  for (const auto& line : lines) {
    REQUIRE(parser.Parse(line, event, reason));
    (*opened)->Push(event);
  }
  REQUIRE((*opened)->Finish(true).ok());
  CHECK((*opened)->shards() == shards);
  std::sort(sink.lines.begin(), sink.lines.end());
  return sink.lines;
}

// Six stores, 40 days, a few sales a day with totals from a fixed arithmetic pattern and one
// spike per store, so both methods fire at a few places.
std::vector<std::string> ChainLines() {
  std::vector<std::string> lines;
  for (int day = 0; day < 40; ++day)
    for (int store = 0; store < 6; ++store)
      for (int k = 0; k < 3; ++k) {
        int cents = 1000 + ((day * 37 + store * 11 + k * 5) % 13) * 50 + (day % 7 == 5) * 400;
        if (day == 20 + store * 3 && k == 0) cents += 6000;
        lines.push_back(Sale(fmt::format("d{}s{}k{}", day, store, k), fmt::format("S{}", store),
                             aisle::dsl::FormatTimestamp((20'000 + day) * aisle::dsl::kMicrosPerDay +
                                                         (9 + k) * aisle::dsl::kMicrosPerHour),
                             fmt::format("{}.{:02}", cents / 100, cents % 100)));
      }
  return lines;
}

constexpr const char* kBothMethods = R"(
metric daily = sale | key store | window tumbling 1d | agg aov = avg(total)

rule by_ewma on daily
  let s = anomaly(aov, baseline = 28d, season = 1w, method = "ewma")
  when abs(s) > 3
  emit alert to "ops" message "ewma {store} {aov:money} vs {s.expected:money} ({s.slot}): {s:.3f}"

rule by_forecast on daily
  let s = anomaly(aov, season = 1w, method = "forecast")
  when abs(s) > 3
  emit alert to "ops" message "forecast {store} {aov:money} vs {s.expected:money}: {s:.3f}"
)";

}  // namespace

TEST_CASE("anomaly ewma in a rule gives its details", "[engine][stateful][anomaly]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric daily = sale | key store | window tumbling 1d | agg aov = avg(total)

rule aov_jump on daily
  let s = anomaly(aov, baseline = 8d, season = 1d, method = "ewma", half_life = 1d)
  when s > 2
  emit alert to "ops" message "{store} {aov:money}, usually {s.expected:money} give or take {s.spread:money} ({s.history} days, slot '{s.slot}'): {s:.2f}"
)");
  // One sale a day: 10, 14, 12, 12, 15, 20, 13.50 USD. Daily windows, one slot: the expectation
  // is the level L. Scores from 8d / 1d / 2 = 4 values. half_life 1d: the level learns with
  // a = .5; the variance with b = 1/2, 1/3, 1/4, 1/5, 1/6 (equal weights while above
  // 1 - 2^(-1/4) = 0.159); L += a r, V = (1 - b)(V + b r^2):
  //   10 -> L 10; 14 -> r 4, L 12, V 4; 12 -> L 12, V 8/3; 12 -> L 12, V 2;
  //   day 5: 15 vs 12, sd 1.414 -> 2.12: fires (history 4);
  //   learning 15 (r 3, within 3 sd): L 13.5, V .8 (2 + .2 * 9) = 3.04, sd 1.7436;
  //   day 6: 20 vs 13.5 -> 6.5 / 1.7436 = 3.73: fires (history 5);
  //   learning 20: r clipped to 3 sd = 5.2307: L 16.115, V 5/6 * 2.5 * 3.04 = 6.333;
  //   day 7: 13.5 vs 16.115, sd 2.517 -> -1.04.
  const char* totals[] = {"10.00", "14.00", "12.00", "12.00", "15.00", "20.00", "13.50"};
  std::vector<std::string> lines;
  for (int day = 1; day <= 7; ++day)
    lines.push_back(Sale("s" + std::to_string(day), "S1",
                         "2025-03-0" + std::to_string(day) + "T12:00:00Z", totals[day - 1]));
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 2);
  CHECK(r.emissions[0].message ==
        "S1 15.00 USD, usually 12.00 USD give or take 1.41 USD (4 days, slot ''): 2.12");
  CHECK(r.emissions[1].message ==
        "S1 20.00 USD, usually 13.50 USD give or take 1.74 USD (5 days, slot ''): 3.73");
}

TEST_CASE("anomaly forecast in a rule flags the value its forecast did not expect",
          "[engine][stateful][anomaly]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"rules(
metric daily = sale | key store | window tumbling 1d | agg n = count()

rule busy_day on daily
  let s = anomaly(n, season = 1w, method = "forecast")
  when s > 6
  emit alert to "ops" message "{store} {window.start:%m-%d}: {n} sales, about {s.expected:.0f} expected ({s.slot})"
)rules");
  // Sales a day over four weeks from Monday 2025-03-03: 10 on weekdays, 20 on Saturdays, 4 on
  // Sundays, plus one on every third day (a little noise: the forecast's error sd is about 0.5).
  // Scores start after two weeks (the season is 7 days). Day 24 (Thursday 03-27) has 40 sales:
  // about 10-11 were expected, ~30 above it is dozens of error sds; no other day is above 6:
  // the pattern repeats up to the one-sale noise.
  std::vector<std::string> lines;
  for (int day = 0; day < 28; ++day) {
    const int weekday = day % 7;  // 0 = Monday
    int n = weekday == 5 ? 20 : weekday == 6 ? 4 : 10;
    n += day % 3 == 0;
    if (day == 24) n = 40;
    for (int k = 0; k < n; ++k)
      lines.push_back(Sale(fmt::format("d{}k{}", day, k), "S1",
                           aisle::dsl::FormatTimestamp(
                               aisle::dsl::ParseTimestamp("2025-03-03T08:00:00Z").value() +
                               day * aisle::dsl::kMicrosPerDay + k * aisle::dsl::kMicrosPerMinute),
                           "5.00"));
  }
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 1);
  const std::string& m = r.emissions[0].message;
  CHECK(m.rfind("S1 03-27: 40 sales, about 1", 0) == 0);  // 10 or 11
  CHECK(m.find("expected (Thu)") != std::string::npos);
}

TEST_CASE("anomaly ewma and forecast give the same emissions on one shard and several",
          "[engine][stateful][anomaly][thread]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kBothMethods);
  const auto lines = ChainLines();
  const auto one = RunSharded(rules, dir / "one", 1, lines);
  CHECK(one.size() >= 4);
  for (int shards : {2, 3}) {
    INFO("shards: " << shards);
    CHECK(RunSharded(rules, dir / ("s" + std::to_string(shards)), shards, lines) == one);
  }
}

TEST_CASE("anomaly ewma and forecast state survives restarts", "[engine][stateful][anomaly]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kBothMethods);
  const auto lines = ChainLines();
  auto whole = RunLines(rules, dir / "whole", lines, true);
  REQUIRE(whole.error.empty());
  REQUIRE(whole.emissions.size() >= 4);
  for (size_t split : {lines.size() / 3, lines.size() / 2 + 7}) {
    INFO("split: " << split);
    auto parts = RunSplit(rules, dir / ("split" + std::to_string(split)), lines, split);
    REQUIRE(parts.error.empty());
    REQUIRE(parts.emissions.size() == whole.emissions.size());
    for (size_t i = 0; i < parts.emissions.size(); ++i)
      CHECK(parts.emissions[i].message == whole.emissions[i].message);
  }
}
