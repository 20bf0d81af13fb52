// State survives a restart: replaying a file in two parts with the same data folder gives exactly
// the emissions of one replay of the whole file (INTERFACES.md, "Replay and state"), including
// open windows, the watermark, the dedup memory and the per-key history of stateful functions.

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::TempDir;

namespace {

constexpr const char* kRules = R"(
stream sale lateness 2h

metric daily = sale
  | where status == "completed"
  | key store
  | window tumbling 1d
  | agg tx = count(), aov = avg(total), customers = count_distinct(customer)

rule aov_drop on daily
  let score = anomaly(aov, baseline = 6d, season = 1d, method = "robust_z")
  when score < -3
  emit alert to "ops" message "{store} aov {aov:money} score {score:.1f}"

metric hourly = sale | key store | window tumbling 1h | agg n = count()
rule busy_hour on hourly when n >= 3 emit task to "ops" message "{store} busy: {n}"
)";

std::string Sale(int day, int hour, int minute, const std::string& total, int n) {
  return fmt::format(
      R"({{"type":"sale","id":"d{}-{}","store":"S1","ts":"2025-03-{:02}T{:02}:{:02}:00Z","source":"file","currency":"USD","total":"{}","status":"completed","customer":"c{}"}})",
      day, n, day, hour, minute, total, n % 3);
}

// Twelve days of four sales a day at 10.00, except day 10 at 2.00, plus a late-evening sale on
// day 5; one sale arrives out of order inside the 2h lateness, one far too late, and a retried
// delivery of an earlier sale appears again.
std::vector<std::string> Events() {
  std::vector<std::string> out;
  for (int day = 1; day <= 12; ++day) {
    for (int k = 0; k < 4; ++k) {
      const char* total = day == 10 ? "2.00" : "10.00";
      out.push_back(Sale(day, 9 + k / 3, 10 * k, total, day * 10 + k));
    }
    if (day == 5) out.push_back(Sale(5, 23, 50, "10.00", 59));
  }
  // Out of order inside the lateness: day 6's 09:20 sale arrives before its 09:10 sale.
  std::swap(out[22], out[23]);
  const std::string duplicate = out[3];  // a retried delivery of day 1's fourth sale
  out.insert(out.begin() + 30, duplicate);
  // Far beyond the lateness: a sale of day 3 arriving during day 9.
  out.insert(out.begin() + 38, Sale(3, 12, 0, "10.00", 99));
  return out;
}

std::vector<std::string> Fingerprint(const aisle::testing::RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.id + " " + e.rule + " " + e.message);
  return out;
}

}  // namespace

TEST_CASE("the anomaly rule fires once, on the day the average order value drops", "[engine][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kRules);
  auto r = RunLines(rules, dir / "state", Events(), /*final=*/true);
  REQUIRE(r.error.empty());
  std::vector<std::string> drops;
  for (const auto& e : r.emissions)
    if (e.rule == "aov_drop") drops.push_back(aisle::dsl::FormatTimestamp(e.window->first));
  // A 6-day baseline holds six daily values, so scores need three: days 1-3 build history (null
  // score); days 4-9 equal the median (score 0); day 10's 2.00 against a flat 10.00 history
  // saturates; day 11 scores 0 again (median 10, MAD 0).
  CHECK(drops == std::vector<std::string>{"2025-03-10T00:00:00Z"});
  CHECK(r.stats.duplicates == 1);
  CHECK(r.stats.late == 2);  // refused by both metrics
}

TEST_CASE("two replays with one data folder equal one replay", "[engine][restart]") {
  TempDir base;
  auto rules = base.Write("r.aisle", kRules);
  const auto events = Events();
  auto whole = RunLines(rules, base / "whole", events, /*final=*/true);
  REQUIRE(whole.error.empty());
  REQUIRE(!whole.emissions.empty());
  for (size_t split = 1; split < events.size(); split += 4) {
    TempDir dir;
    std::vector<std::string> first(events.begin(), events.begin() + static_cast<long>(split));
    std::vector<std::string> second(events.begin() + static_cast<long>(split), events.end());
    auto a = RunLines(rules, dir / "state", first, /*final=*/false);
    auto b = RunLines(rules, dir / "state", second, /*final=*/true);
    REQUIRE(a.error.empty());
    REQUIRE(b.error.empty());
    std::vector<std::string> combined = Fingerprint(a);
    for (auto& line : Fingerprint(b)) combined.push_back(line);
    INFO("split after event " << split);
    CHECK(combined == Fingerprint(whole));
    CHECK(a.stats.duplicates + b.stats.duplicates == 1);
  }
}

TEST_CASE("state of a changed rule set is not reused", "[engine][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kRules);
  auto events = Events();
  std::vector<std::string> first(events.begin(), events.begin() + 10);
  auto a = RunLines(rules, dir / "state", first, false);
  REQUIRE(a.error.empty());
  // A different window size is a different operator: its fingerprint, and so its state, differ.
  std::string changed = kRules;
  changed.replace(changed.find("tumbling 1h"), 11, "tumbling 2h");
  auto rules2 = dir.Write("r2.aisle", changed);
  auto b = RunLines(rules2, dir / "state", {}, true);
  REQUIRE(b.error.empty());
  for (const auto& e : b.emissions) CHECK(e.rule != "busy_hour");
}

// Checkpoints purge the ids and sale times past their retention. What an event finds must not
// depend on whether a checkpoint came in between: a crash moves checkpoints, and the state after
// a crash and a replay must equal the state of one uninterrupted run.
TEST_CASE("what is remembered does not depend on when checkpoints happen", "[engine][restart]") {
  TempDir base;
  auto line = [](const std::string& type, const std::string& id, const std::string& ts,
                 const std::string& fields) {
    return fmt::format(
        R"({{"type":"{}","id":"{}","store":"S1","ts":"{}","source":"file","currency":"USD",{}}})",
        type, id, ts, fields);
  };
  SECTION("an event id seen longer ago than the dedup retention") {
    auto rules = base.Write("r.aisle", "metric d = sale | key store | window tumbling 1d | agg n = count()\n");
    // The id "a" again 8 days of event time later (the retention is 7): forgotten by then,
    // whether or not a checkpoint purged it.
    const std::vector<std::string> events = {
        line("sale", "a", "2025-03-01T10:00:00Z", R"("total":"1.00","status":"completed")"),
        line("sale", "b", "2025-03-09T11:00:00Z", R"("total":"1.00","status":"completed")"),
        line("sale", "a", "2025-03-09T12:00:00Z", R"("total":"1.00","status":"completed")"),
        line("sale", "b", "2025-03-09T12:30:00Z", R"("total":"1.00","status":"completed")")};
    for (int64_t every : {0, 1, 2}) {
      TempDir dir;
      auto r = RunLines(rules, dir / "state", events, /*final=*/true, {}, every);
      REQUIRE(r.error.empty());
      INFO("checkpoint every " << every);
      CHECK(r.stats.accepted == 3);
      CHECK(r.stats.duplicates == 1);
    }
  }
  SECTION("a sale further behind the newest sale than its attribution") {
    auto rules = base.Write("r.aisle",
                            "metric by_sale_day = refund | key store | attribute to sale within 30d\n"
                            "  | window tumbling 1d | agg refunds = count()\n"
                            "rule r on by_sale_day when refunds >= 1 emit alert to \"ops\" message \"{refunds}\"\n");
    // The refund of o1 comes 29 days after its sale, but 30.5 days after the newest sale (o2):
    // by then o1's sale is forgotten, and the refund counts on its own day.
    const std::vector<std::string> events = {
        line("sale", "s1", "2025-03-01T10:00:00Z", R"("order":"o1","total":"5.00","status":"completed")"),
        line("sale", "s2", "2025-03-31T12:00:00Z", R"("order":"o2","total":"5.00","status":"completed")"),
        line("refund", "r1", "2025-03-30T10:00:00Z", R"("order":"o1","refund":"f1","amount":"5.00")")};
    for (int64_t every : {0, 1}) {
      TempDir dir;
      auto r = RunLines(rules, dir / "state", events, /*final=*/true, {}, every);
      REQUIRE(r.error.empty());
      INFO("checkpoint every " << every);
      REQUIRE(r.emissions.size() == 1);
      CHECK(aisle::dsl::FormatTimestamp(r.emissions[0].window->first) == "2025-03-30T00:00:00Z");
    }
  }
}
