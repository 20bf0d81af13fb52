// Stateful functions in rules through a real engine: the details a call gives beside its result
// (`let s = anomaly(...)` then `s.expected`), in conditions and messages. Expected values are
// worked out by hand from the events listed in each test.

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"

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
  let s = anomaly(aov, baseline = 6d, season = 1d, method = "robust_z")
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
  let twice = anomaly(aov, baseline = 6d, season = 1d, method = "robust_z") * 2
  when twice.expected > 0
  emit alert to "ops"
)");
  auto r = RunLines(rules, dir / "state", {}, true);
  CHECK(r.error.find("twice.expected") != std::string::npos);
}

TEST_CASE("forecast() learns each key's series as windows fire", "[engine][stateful][forecast]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric hourly = sale | key store | window tumbling 1h | agg n = count()

rule outlook on hourly
  let f = forecast(n, horizon = 3h, season = 1d, method = "seasonal_naive")
  when not is_null(f)
  emit alert to "ops" message "{store} {window.start:%d %H}: next {f.next:.0f}, 3h {f:.0f}, {f.model}"
)");
  // Two days of hourly sales at S1: hour h has h + 1 sales (at minute 0, 1, ...). Hour 5 of day 2
  // has none, so its window never fires: it counts as 0.
  std::vector<std::string> lines;
  for (int day = 1; day <= 2; ++day)
    for (int h = 0; h < 24; ++h) {
      if (day == 2 && h == 5) continue;
      for (int k = 0; k <= h; ++k)
        lines.push_back(Sale(fmt::format("d{}h{}k{}", day, h, k), "S1",
                             fmt::format("2025-03-0{}T{:02}:{:02}:00Z", day, h, k), "1.00"));
    }
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  // Forecasts start once two daily seasons (48 windows) are known: after day 2's hour 23. The
  // seasonal naive forecast of the next three hours (day 3's 0, 1, 2) is day 2's hours 0, 1, 2:
  // 1, 2 and 3 sales, total 6.
  REQUIRE(r.emissions.size() == 1);
  CHECK(r.emissions[0].message == "S1 02 23: next 1, 3h 6, SNaive(24)");
}

TEST_CASE("forecast() of money stays money, inside its interval", "[engine][stateful][forecast]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric daily = sale | key store | window tumbling 1d | agg revenue = sum(total)

rule outlook on daily
  let f = forecast(revenue, horizon = 7d, season = 1w)
  when f.lower <= f and f <= f.upper and f.error_sd > 0.00 USD
  emit alert to "ops" message "{store} week ahead {f:money}"
)");
  // Six weeks of daily takings with a weekly pattern and some noise: weekday d of week w takes
  // 100 + 20 * d + ((w * 7 + d) * 37 % 11) dollars.
  std::vector<std::string> lines;
  for (int day = 0; day < 42; ++day) {
    const int amount = 100 + 20 * (day % 7) + (day * 37 % 11);
    lines.push_back(Sale(fmt::format("s{}", day), "S1",
                         aisle::dsl::FormatTimestamp(1740787200LL * 1000000 + day * aisle::dsl::kMicrosPerDay),
                         fmt::format("{}.00", amount)));
  }
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  // Forecasts start after two weeks (14 windows): 42 - 14 + 1 = 29 windows forecast, each a total
  // inside its own interval with a positive one-step error.
  CHECK(r.emissions.size() == 29);
}

TEST_CASE("forecast() state survives restarts: split runs equal one run", "[engine][stateful][forecast]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric daily = sale | key store | window tumbling 1d | agg revenue = sum(total)

rule outlook on daily
  let f = forecast(revenue, horizon = 2d, season = 1w)
  when not is_null(f)
  emit alert to "ops" message "{store} {window.start:%m-%d} {f:money} [{f.lower:money}, {f.upper:money}] {f.model}"
)");
  std::vector<std::string> lines;
  for (int day = 0; day < 35; ++day)
    for (const char* store : {"S1", "S2"}) {
      const int amount = 80 + 15 * (day % 7) + (day * 29 % 13) + (store[1] == '2' ? 40 : 0);
      lines.push_back(Sale(fmt::format("{}-{}", store, day), store,
                           aisle::dsl::FormatTimestamp(1740787200LL * 1000000 + day * aisle::dsl::kMicrosPerDay),
                           fmt::format("{}.00", amount)));
    }
  auto whole = RunLines(rules, dir / "a", lines, true);
  REQUIRE(whole.error.empty());
  REQUIRE(!whole.emissions.empty());
  auto parts = aisle::testing::RunParts(rules, dir / "b", lines, {17, 31, 52}, 5);
  REQUIRE(parts.error.empty());
  auto messages = [](const aisle::testing::RunResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.emissions) out.push_back(e.message);
    return out;
  };
  CHECK(messages(parts) == messages(whole));
}
