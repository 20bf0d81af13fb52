// Stateful functions in rules through a real engine: the details a call gives beside its result
// (`let s = anomaly(...)` then `s.expected`), in conditions and messages. Expected values are
// worked out by hand from the events listed in each test.

#include <catch2/catch.hpp>

#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::Sale;
using aisle::testing::TempDir;

TEST_CASE("a let holding anomaly() reads its explanation as details", "[engine][stateful]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric daily = sale | key store | window tumbling 1d | agg aov = avg(total)

rule aov_jump on daily
  let s = anomaly(aov, baseline = 6d, season = 1d)
  when s > 2 and s.history >= 5
  emit alert to "ops" message "{store} {aov:money}, usually {s.expected:money} give or take {s.spread:money} ({s.history} days): {s:.2f}"
)");
  // One sale a day: 10, 12, 11, 13, 9, 14, 10 (USD), days 1 to 7.
  const char* totals[] = {"10.00", "12.00", "11.00", "13.00", "9.00", "14.00", "10.00"};
  std::vector<std::string> lines;
  for (int day = 1; day <= 7; ++day)
    lines.push_back(Sale("s" + std::to_string(day), "S1",
                         "2025-03-0" + std::to_string(day) + "T12:00:00Z", totals[day - 1]));
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  // Scores start with three days of history (half the 6-day baseline):
  //   day 4: 13 against 10 12 11 -> median 11, MAD 1 -> 2 / 1.4826 = 1.35 (history 3: no);
  //   day 5: 9 against 10 12 11 13 -> median 11.5, MAD 1 -> -1.69;
  //   day 6: 14 against 10 12 11 13 9 -> median 11, MAD 1 -> 3 / 1.4826 = 2.02, history 5: fires,
  //          expected 11.00, spread 1.4826 USD (1.48 shown);
  //   day 7: 10 against 10 12 11 13 9 14 -> median 11.5, MAD 1.5 -> -0.67.
  REQUIRE(r.emissions.size() == 1);
  CHECK(r.emissions[0].message ==
        "S1 14.00 USD, usually 11.00 USD give or take 1.48 USD (5 days): 2.02");
}

TEST_CASE("a let over an expression of a stateful call has no details",
          "[engine][stateful]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric daily = sale | key store | window tumbling 1d | agg aov = avg(total)

rule doubled on daily
  let twice = anomaly(aov, baseline = 6d, season = 1d) * 2
  when twice.expected > 0
  emit alert to "ops"
)");
  auto r = RunLines(rules, dir / "state", {}, true);
  CHECK(r.error.find("twice.expected") != std::string::npos);
}
