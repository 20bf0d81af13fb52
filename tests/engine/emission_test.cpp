// Emission control and schedules through a real engine (real RocksDB in temp folders): dedupe,
// suppress while, digests, schedules, and their state across restarts. Every expected value is
// worked out by hand from the events each test lists.

#include <algorithm>
#include <unordered_map>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/runtime/calendar.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::Sale;
using aisle::testing::RunResult;
using aisle::testing::TempDir;

namespace {

std::string Stock(const std::string& id, const std::string& store, const std::string& ts,
                  const std::string& sku, int on_hand) {
  return fmt::format(
      R"({{"type":"inventory","id":"{}","store":"{}","ts":"{}","source":"file","sku":"{}","on_hand":{}}})",
      id, store, ts, sku, on_hand);
}

std::vector<std::string> Messages(const RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.message);
  return out;
}

std::string Ts(int64_t us) { return aisle::dsl::FormatTimestamp(us); }

int64_t At(const char* rfc3339) { return *aisle::dsl::ParseTimestamp(rfc3339); }

std::string Value(const aisle::engine::Emission& e, const std::string& name) {
  for (const auto& [k, v] : e.values)
    if (k == name) return v;
  return "(none)";
}

}  // namespace

// ---------------------------------------------------------------- dedupe

TEST_CASE("dedupe drops a repeat of the same message at the same store within the period", "[engine][dedupe]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule big on sale
  when total > 5.00 USD
  emit alert to "ops" message "{store} big {total:money}"
  dedupe within 1h
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "9.00"),
                     Sale("b", "S1", "2025-03-14T10:30:00Z", "9.00"),
                     Sale("c", "S2", "2025-03-14T10:40:00Z", "9.00"),
                     Sale("d", "S1", "2025-03-14T10:50:00Z", "8.00"),
                     Sale("e", "S1", "2025-03-14T11:00:00Z", "9.00"),
                     Sale("f", "S1", "2025-03-14T11:20:00Z", "9.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // b repeats a's text at S1 30m later; c is another store; d another text; e comes a full hour
  // after a (not less than the period); f repeats e 20m later.
  CHECK(Messages(r) == std::vector<std::string>{"S1 big 9.00 USD", "S2 big 9.00 USD",
                                                "S1 big 8.00 USD", "S1 big 9.00 USD"});
  CHECK(r.stats.deduped == 2);
  CHECK(r.stats.throttled == 0);
}

TEST_CASE("dedupe per fields, across a restart", "[engine][dedupe][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule big on sale
  when total > 5.00 USD
  emit alert to "ops" message "{id}"
  dedupe per store within 1h
)");
  auto a = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "9.00"),
                     Sale("b", "S1", "2025-03-14T10:30:00Z", "7.00")},
                    /*final=*/false);
  auto b = RunLines(rules, dir / "state",
                    {Sale("c", "S1", "2025-03-14T10:59:00Z", "9.00"),
                     Sale("d", "S1", "2025-03-14T11:00:00Z", "9.00"),
                     Sale("e", "S2", "2025-03-14T11:01:00Z", "9.00")},
                    /*final=*/true);
  REQUIRE(a.error.empty());
  REQUIRE(b.error.empty());
  // Per store, whatever the message: b and c fall within the hour after a (remembered across the
  // restart); d is an hour after a; e is another store.
  CHECK(Messages(a) == std::vector<std::string>{"a"});
  CHECK(Messages(b) == std::vector<std::string>{"d", "e"});
  CHECK(a.stats.deduped == 1);
  CHECK(b.stats.deduped == 1);
}

TEST_CASE("a deduped emission takes nothing from the throttle", "[engine][dedupe]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule big on sale
  when total > 5.00 USD
  emit alert to "ops" message "{store} {total:money}"
  dedupe within 1h
  throttle 2 per 1h per store
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "9.00"),
                     Sale("b", "S1", "2025-03-14T10:05:00Z", "9.00"),
                     Sale("c", "S1", "2025-03-14T10:10:00Z", "8.00"),
                     Sale("d", "S1", "2025-03-14T10:15:00Z", "7.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // b is a's repeat (deduped, not counted by the throttle); c is the second emission of the
  // hour; d would be the third.
  CHECK(Messages(r) == std::vector<std::string>{"S1 9.00 USD", "S1 8.00 USD"});
  CHECK(r.stats.deduped == 1);
  CHECK(r.stats.throttled == 1);
}

// ---------------------------------------------------------------- suppress while

namespace {

constexpr const char* kReorder = R"(
rule reorder on inventory
  when on_hand <= 3
  emit task to "purchasing" message "reorder {sku} {id}"
)";

constexpr const char* kLowStock = R"(
rule low on inventory
  when on_hand <= 2
  emit alert to "ops" message "low {sku} {id}"
  suppress while reorder per store, sku for 1d
)";

std::vector<std::string> StockEvents() {
  return {Stock("i1", "S1", "2025-03-14T10:00:00Z", "A", 2),
          Stock("i2", "S1", "2025-03-14T11:00:00Z", "A", 1),
          Stock("i3", "S1", "2025-03-14T11:30:00Z", "B", 2),
          Stock("i4", "S2", "2025-03-14T12:00:00Z", "A", 2),
          Stock("i5", "S1", "2025-03-15T11:00:00Z", "A", 5),
          Stock("i6", "S1", "2025-03-15T12:00:00Z", "A", 2)};
}

}  // namespace

TEST_CASE("suppress while: silent after the other rule emitted for the same fields, whatever the rule order", "[engine][suppress]") {
  // i1: reorder emits for (S1, A); its emission counts from the next event on, so low emits too.
  // i2: reorder emitted for (S1, A) an hour before: low is suppressed. i3: (S1, B) and i4:
  // (S2, A) have no order draft before them. i5: stock is fine. i6: the last draft for (S1, A)
  // was i2's, 25 hours before: low emits.
  const std::vector<std::string> expected = {"low A i1",     "low A i4",     "low A i6",
                                             "low B i3",     "reorder A i1", "reorder A i2",
                                             "reorder A i4", "reorder A i6", "reorder B i3"};
  for (bool low_first : {true, false}) {
    TempDir dir;
    auto rules = dir.Write("r.aisle", low_first ? std::string(kLowStock) + kReorder
                                                : std::string(kReorder) + kLowStock);
    auto r = RunLines(rules, dir / "state", StockEvents(), /*final=*/true);
    REQUIRE(r.error.empty());
    std::vector<std::string> got = Messages(r);
    std::sort(got.begin(), got.end());
    INFO("low declared first: " << low_first);
    CHECK(got == expected);
    CHECK(r.stats.suppressed == 1);
  }
}

TEST_CASE("suppress while: a suppressed rule stays silent across a restart", "[engine][suppress][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string(kReorder) + kLowStock);
  const auto events = StockEvents();
  auto a = RunLines(rules, dir / "state", {events.begin(), events.begin() + 1}, false);
  auto b = RunLines(rules, dir / "state", {events.begin() + 1, events.end()}, true);
  REQUIRE(a.error.empty());
  REQUIRE(b.error.empty());
  CHECK(Messages(a) == std::vector<std::string>{"reorder A i1", "low A i1"});
  // i2 comes after the restart; reorder's emission for (S1, A) at i1 was kept.
  CHECK(Messages(b) == std::vector<std::string>{"reorder A i2", "reorder B i3", "low B i3",
                                                "reorder A i4", "low A i4", "reorder A i6",
                                                "low A i6"});
  CHECK(b.stats.suppressed == 1);
}

TEST_CASE("suppress while: a rule on a metric suppresses a rule on a stream, by store", "[engine][suppress]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric hourly = sale | key store | window tumbling 1h | agg n = count()
rule rush on hourly
  when n >= 2
  emit alert to "ops" message "rush {store} {window.start:%H:%M}"
rule big on sale
  when total > 5.00 USD
  emit alert to "ops" message "big {id}"
  suppress while rush for 30m
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:10:00Z", "1.00"),
                     Sale("b", "S1", "2025-03-14T10:20:00Z", "1.00"),
                     Sale("c", "S1", "2025-03-14T11:05:00Z", "9.00"),
                     Sale("d", "S1", "2025-03-14T11:20:00Z", "9.00"),
                     Sale("e", "S2", "2025-03-14T11:25:00Z", "9.00"),
                     Sale("f", "S1", "2025-03-14T11:30:00Z", "9.00")},
                    /*final=*/false);
  REQUIRE(r.error.empty());
  // c closes S1's 10:00 hour (2 sales): rush emits at 11:00, the window's end, after big has seen
  // c. d at 11:20 is within 30m of 11:00: suppressed. e is another store. f at 11:30 is 30m after.
  CHECK(Messages(r) == std::vector<std::string>{"big c", "rush S1 10:00", "big e", "big f"});
  CHECK(r.stats.suppressed == 1);
}

// ---------------------------------------------------------------- digests

namespace {

constexpr const char* kDigest = R"(
rule big on sale
  when total > 5.00 USD
  emit alert severity critical to "ops" message "{store} {id}"

rule small on sale
  when total <= 5.00 USD
  emit alert severity info to "ops" message "{store} small {id}"

rule huge on sale
  when total > 100.00 USD
  emit task to "elsewhere" message "{id}"

digest "ops" every 1h
)";

}  // namespace

TEST_CASE("a digest holds its channel's emissions and delivers one report per interval", "[engine][digest]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kDigest);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:05:00Z", "9.00"),
                     Sale("b", "S1", "2025-03-14T10:10:00Z", "2.00"),
                     Sale("c", "S2", "2025-03-14T10:20:00Z", "200.00"),
                     Sale("d", "S1", "2025-03-14T11:00:00Z", "1.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // c's task goes to another channel at once. d (11:00) closes [10:00, 11:00): its three held
  // emissions go out after d is processed; d itself is held for [11:00, 12:00), which the end of
  // input (final) delivers.
  REQUIRE(r.emissions.size() == 3);
  CHECK(r.emissions[0].message == "c");
  CHECK(r.emitted_after[0] == 3);
  const auto& first = r.emissions[1];
  CHECK(r.emitted_after[1] == 4);
  CHECK(first.kind == aisle::dsl::plan::EmitKind::kReport);
  CHECK(first.rule == "digest");
  CHECK(first.channel == "ops");
  CHECK(first.message == "3 emissions (big 2, small 1): S1 a; S1 small b; S2 c");
  CHECK(first.severity == aisle::dsl::plan::Severity::kCritical);  // the highest held
  CHECK(first.store.empty());                                      // S1 and S2
  REQUIRE(first.window);
  CHECK(Ts(first.window->first) == "2025-03-14T10:00:00Z");
  CHECK(Ts(first.window->second) == "2025-03-14T11:00:00Z");
  CHECK(Ts(first.ts) == "2025-03-14T11:00:00Z");
  CHECK(Value(first, "count") == "3");
  CHECK(Value(first, "by_rule") == R"({"big":2,"small":1})");
  const auto& second = r.emissions[2];
  CHECK(r.emitted_after[2] == 5);  // the end of input
  CHECK(second.message == "1 emission (small 1): S1 small d");
  CHECK(second.severity == aisle::dsl::plan::Severity::kInfo);
  CHECK(second.store == "S1");
  CHECK(Ts(second.window->first) == "2025-03-14T11:00:00Z");
  CHECK(first.id != second.id);
  CHECK(r.stats.held == 4);
  CHECK(r.stats.emissions == 3);

  // The id depends on the rule set, channel and interval only: a replay gives the same ids.
  TempDir again;
  auto rules2 = again.Write("r.aisle", kDigest);
  auto r2 = RunLines(rules2, again / "state",
                     {Sale("x", "S3", "2025-03-14T10:30:00Z", "9.00"),
                      Sale("y", "S3", "2025-03-14T11:30:00Z", "9.00")},
                     /*final=*/false);
  REQUIRE(r2.error.empty());
  REQUIRE(r2.emissions.size() == 1);
  CHECK(r2.emissions[0].id == first.id);
  CHECK(r2.emissions[0].message == "1 emission (big 1): S3 x");
}

TEST_CASE("a digest lists twenty messages and counts the rest", "[engine][digest]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kDigest);
  std::vector<std::string> events;
  for (int i = 0; i < 25; ++i)
    events.push_back(Sale(fmt::format("s{:02}", i), "S1", fmt::format("2025-03-14T10:{:02}:00Z", i), "9.00"));
  auto r = RunLines(rules, dir / "state", events, /*final=*/true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 1);
  std::string expected = "25 emissions (big 25): ";
  for (int i = 0; i < 20; ++i) expected += fmt::format("{}S1 s{:02}", i ? "; " : "", i);
  expected += "; and 5 more";
  CHECK(r.emissions[0].message == expected);
  CHECK(Value(r.emissions[0], "count") == "25");
}

TEST_CASE("an emission whose digest interval went out joins the next one, across a restart", "[engine][digest][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kDigest);
  auto a = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:05:00Z", "9.00"),
                     Sale("b", "S2", "2025-03-14T11:30:00Z", "9.00")},
                    /*final=*/false);
  auto b = RunLines(rules, dir / "state", {Sale("c", "S1", "2025-03-14T10:40:00Z", "9.00")},
                    /*final=*/true);
  REQUIRE(a.error.empty());
  REQUIRE(b.error.empty());
  // b (11:30) delivers [10:00, 11:00) with a and holds b for [11:00, 12:00). After the restart,
  // S1's c (10:40) belongs to an interval already delivered: it joins [11:00, 12:00) with b,
  // which was kept in the data folder.
  CHECK(Messages(a) == std::vector<std::string>{"1 emission (big 1): S1 a"});
  CHECK(Messages(b) == std::vector<std::string>{"2 emissions (big 2): S2 b; S1 c"});
  REQUIRE(b.emissions.size() == 1);
  CHECK(Ts(b.emissions[0].window->first) == "2025-03-14T11:00:00Z");
}

// ---------------------------------------------------------------- schedules

TEST_CASE("a schedule every hour reports each store's newest closed window", "[engine][schedule]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric hourly = sale | key store | window tumbling 1h | agg n = count(), revenue = sum(total)
schedule pulse every 1h
  from hourly
  emit report to "ops" message "{store} {n} {revenue:money} {window.start:%H:%M}"
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:10:00Z", "1.00"),
                     Sale("b", "S1", "2025-03-14T10:20:00Z", "2.00"),
                     Sale("c", "S1", "2025-03-14T11:05:00Z", "4.00"),
                     Sale("d", "S2", "2025-03-14T11:10:00Z", "5.00"),
                     Sale("e", "S1", "2025-03-14T13:30:00Z", "8.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // c moves S1 to 11:05: [10:00, 11:00) fires, and the 11:00 instant reports it. d: S2 has no
  // closed window yet. e moves S1 to 13:30: [11:00, 12:00) fires; 12:00 and 13:00 both report
  // it (no newer window ended by then). The end of input closes windows but fires no instant.
  std::vector<std::string> got;
  for (const auto& e : r.emissions) got.push_back(Ts(e.ts) + " " + e.message);
  CHECK(got == std::vector<std::string>{"2025-03-14T11:00:00Z S1 2 3.00 USD 10:00",
                                        "2025-03-14T12:00:00Z S1 1 4.00 USD 11:00",
                                        "2025-03-14T13:00:00Z S1 1 4.00 USD 11:00"});
  REQUIRE(!r.emissions.empty());
  const auto& e = r.emissions[0];
  CHECK(e.kind == aisle::dsl::plan::EmitKind::kReport);
  CHECK(e.rule == "pulse");
  CHECK(e.severity == aisle::dsl::plan::Severity::kInfo);
  CHECK(e.store == "S1");
  CHECK(e.key == std::vector<std::pair<std::string, std::string>>{{"store", "\"S1\""}});
  CHECK(Ts(e.window->first) == "2025-03-14T10:00:00Z");
  CHECK(Value(e, "revenue") == "\"3.00 USD\"");
  CHECK(r.emissions[1].id != r.emissions[2].id);  // one per instant
  CHECK(r.emitted_after == std::vector<size_t>{3, 5, 5});
}

TEST_CASE("a schedule at 06:00 local fires on each store's own clock", "[engine][schedule]") {
  TempDir dir;
  dir.Write("tables/stores.csv",
            "store,name,district,region,timezone,open_hours,currency\n"
            "S1,One,d,r,America/New_York,,USD\n"
            "S2,Two,d,r,Asia/Tokyo,,USD\n");
  auto rules = dir.Write("r.aisle", R"(
table stores from "stores.csv" key store
metric daily = sale | key store | window day | agg n = count(), revenue = sum(total)
schedule briefing every day at 06:00 local
  from daily
  when n >= 2
  emit report to "managers" message "{store} {n} {revenue:money}"
)");
  auto r = RunLines(rules, dir / "state",
                    {// S1, New York (UTC-4 since March 9): the 14th is [04:00Z, 04:00Z the 15th).
                     Sale("a", "S1", "2025-03-14T12:00:00Z", "1.00"),
                     Sale("b", "S1", "2025-03-14T20:00:00Z", "2.00"),
                     Sale("c", "S1", "2025-03-15T09:00:00Z", "4.00"),  // closes the 14th
                     Sale("d", "S1", "2025-03-15T10:00:00Z", "8.00"),  // 06:00 in New York
                     // S2, Tokyo (UTC+9): its 15th is [15:00Z the 14th, 15:00Z the 15th).
                     Sale("e", "S2", "2025-03-14T16:00:00Z", "1.00"),
                     Sale("f", "S2", "2025-03-14T17:00:00Z", "2.00"),
                     Sale("g", "S2", "2025-03-15T16:00:00Z", "4.00"),  // closes the 15th
                     Sale("h", "S2", "2025-03-16T21:00:00Z", "8.00"),  // 06:00 the 17th in Tokyo
                     // S9 is not in the table: UTC days, 06:00 UTC.
                     Sale("i", "S9", "2025-03-14T23:00:00Z", "1.00"),
                     Sale("j", "S9", "2025-03-14T23:30:00Z", "1.00"),
                     Sale("k", "S9", "2025-03-15T06:00:00Z", "1.00")},
                    /*final=*/false, dir / "tables");
  REQUIRE(r.error.empty());
  // S1: d reaches 06:00 on the 15th in New York (10:00Z): the 14th (a, b). S2: h passes 06:00 on
  // the 16th (21:00Z the 15th), which reports the 15th (e, f), and 06:00 on the 17th (21:00Z the
  // 16th), whose newest day, the 16th, holds g alone: `when` is false. S9: k reaches 06:00Z.
  std::vector<std::string> got;
  for (const auto& e : r.emissions)
    got.push_back(Ts(e.ts) + " " + e.message + " " + Ts(e.window->first) + " " + Ts(e.window->second));
  CHECK(got == std::vector<std::string>{
                   "2025-03-15T10:00:00Z S1 2 3.00 USD 2025-03-14T04:00:00Z 2025-03-15T04:00:00Z",
                   "2025-03-15T21:00:00Z S2 2 3.00 USD 2025-03-14T15:00:00Z 2025-03-15T15:00:00Z",
                   "2025-03-15T06:00:00Z S9 2 2.00 USD 2025-03-14T00:00:00Z 2025-03-15T00:00:00Z"});
}

TEST_CASE("a correction that comes before the instant is what the report shows", "[engine][schedule]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
stream sale lateness 3h
metric daily = sale | key store | window tumbling 1d | agg n = count(), revenue = sum(total)
schedule morning every day at 06:00 utc
  from daily
  emit report to "ops" message "{store} {n} {revenue:money}"
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "1.00"),
                     Sale("b", "S1", "2025-03-15T01:00:00Z", "4.00"),   // closes the 14th
                     Sale("c", "S1", "2025-03-14T23:00:00Z", "2.00"),   // corrects it
                     Sale("d", "S1", "2025-03-15T07:00:00Z", "8.00")},  // passes 06:00
                    /*final=*/false);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{"S1 2 3.00 USD"});
}

TEST_CASE("local times on the days clocks change", "[engine][schedule]") {
  const std::unordered_map<std::string, std::string> zones = {{"S1", "America/New_York"}};
  aisle::engine::Calendar calendar(zones);
  constexpr int64_t k0230 = (2 * 60 + 30) * 60 * 1'000'000LL;
  constexpr int64_t k0130 = (1 * 60 + 30) * 60 * 1'000'000LL;
  // 2025-03-09: clocks skip from 02:00 EST to 03:00 EDT; 02:30 does not exist and fires when they
  // skip (07:00Z). The next day 02:30 EDT is 06:30Z.
  CHECK(Ts(calendar.NextLocalTime("S1", At("2025-03-08T12:00:00Z"), k0230)) == "2025-03-09T07:00:00Z");
  CHECK(Ts(calendar.NextLocalTime("S1", At("2025-03-09T07:00:00Z"), k0230)) == "2025-03-10T06:30:00Z");
  // 2025-11-02: 01:30 comes twice (EDT 05:30Z, then EST 06:30Z); it fires at the first only.
  CHECK(Ts(calendar.NextLocalTime("S1", At("2025-11-01T12:00:00Z"), k0130)) == "2025-11-02T05:30:00Z");
  CHECK(Ts(calendar.NextLocalTime("S1", At("2025-11-02T05:30:00Z"), k0130)) == "2025-11-03T06:30:00Z");
  // A store with no zone: UTC.
  CHECK(Ts(calendar.NextLocalTime("S9", At("2025-03-09T01:30:00Z"), k0130)) == "2025-03-10T01:30:00Z");
}

// ---------------------------------------------------------------- restarts

namespace {

constexpr const char* kAll = R"(
table stores from "stores.csv" key store

stream sale lateness 2h

metric daily = sale | key store | window day | agg n = count(), revenue = sum(total)
metric hourly = sale | key store | window tumbling 1h | agg n = count()

rule rush on hourly
  when n >= 3
  emit alert to "ops" message "rush {store} {window.start:%d %H:%M}"

rule big on sale
  when total > 20.00 USD
  emit alert to "ops" message "big {store} {total:money}"
  dedupe within 2h
  suppress while rush for 1h

rule reorder on inventory
  when on_hand <= 3
  emit task to "purchasing" message "reorder {sku} at {store}"
  dedupe per store, sku within 6h

rule low on inventory
  when on_hand <= 1
  emit alert to "ops" message "low {sku} at {store} {id}"
  suppress while reorder per store, sku for 1d

digest "ops" every 4h

schedule briefing every day at 06:00 local
  from daily
  emit report to "managers" message "{store} {n} {revenue:money} {window.start:%d}"

schedule pulse every 3h
  from hourly
  emit report to "ops" message "pulse {store} {n}"
)";

// Three days of two stores: a sale every 50 minutes at S1 (New York) and every 350 at S2 (Tokyo),
// some big, bursts that make rush hours, stock readings that run low, a late sale of S1 inside
// the lateness (70 minutes before S1's newest event), and one duplicate delivery.
std::vector<std::string> AllEvents() {
  std::vector<std::string> out;
  int n = 0;
  auto id = [&n](const char* prefix) { return fmt::format("{}-{}", prefix, n++); };
  const int64_t start = At("2025-03-14T00:00:00Z");
  const int64_t minute = 60'000'000LL;
  int64_t s1_newest = 0;
  bool late_sent = false;
  for (int64_t t = 0; t < 3 * 24 * 60; t += 25) {
    const int64_t ts = start + t * minute;
    if (out.size() >= 100 && !late_sent) {
      late_sent = true;
      out.push_back(Sale("late", "S1", Ts(s1_newest - 70 * minute), "50.00"));
      const std::string again = out[60];  // a retried delivery
      out.push_back(again);
    }
    if (t % 50 == 0) {
      const std::string sale = id("s1");
      out.push_back(Sale(sale, "S1", Ts(ts), n % 4 == 0 ? "30.00" : "4.00"));
      s1_newest = ts;
    }
    if (t % 70 == 5) {
      const std::string sale = id("s2");
      out.push_back(Sale(sale, "S2", Ts(ts), n % 5 == 0 ? "25.00" : "6.00"));
    }
    if (t % 300 == 0) {
      // Two more sales make the hour a rush hour.
      for (int k = 1; k <= 2; ++k) {
        const std::string sale = id("s1");
        out.push_back(Sale(sale, "S1", Ts(ts + k * minute), "30.00"));
        s1_newest = ts + k * minute;
      }
    }
    if (t % 175 == 0) {
      const std::string reading = id("i");
      out.push_back(Stock(reading, t % 350 == 0 ? "S1" : "S2", Ts(ts), (t / 175) % 3 == 0 ? "A" : "B",
                          static_cast<int>((t / 25) % 5)));
    }
  }
  return out;
}

std::vector<std::string> Lines(const RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions)
    out.push_back(e.id + " " + e.rule + " " + Ts(e.ts) + " " + e.message);
  return out;
}

}  // namespace

TEST_CASE("dedupe, suppress, digest and schedule state survive restarts at any point", "[engine][restart][emission]") {
  TempDir base;
  base.Write("tables/stores.csv",
             "store,name,district,region,timezone,open_hours,currency\n"
             "S1,One,d,r,America/New_York,,USD\n"
             "S2,Two,d,r,Asia/Tokyo,,USD\n");
  auto rules = base.Write("r.aisle", kAll);
  const auto events = AllEvents();
  auto whole = RunLines(rules, base / "whole", events, /*final=*/true, base / "tables");
  REQUIRE(whole.error.empty());
  // Each kind of state is exercised, so a split that loses any of it shows.
  CHECK(whole.stats.deduped > 0);
  CHECK(whole.stats.suppressed > 0);
  CHECK(whole.stats.held > 0);
  CHECK(whole.stats.duplicates == 1);
  CHECK(whole.stats.corrections > 0);
  int briefings = 0, pulses = 0, digests = 0;
  for (const auto& e : whole.emissions) {
    briefings += e.rule == "briefing";
    pulses += e.rule == "pulse";
    digests += e.rule == "digest";
  }
  // Briefings: 06:00 in New York (10:00Z) on the 14th, 15th and 16th, each reporting the local
  // day before; 06:00 in Tokyo (21:00Z the 14th, 15th and 16th) likewise. Pulses go to the
  // digested channel "ops"; digests: one per 4h interval that held something.
  CHECK(briefings == 6);
  CHECK(pulses == 0);
  CHECK(digests > 10);
  const auto expected = Lines(whole);
  REQUIRE(events.size() > 150);
  for (size_t split = 1; split < events.size(); split += 7) {
    TempDir dir;
    auto a = RunLines(rules, dir / "state", {events.begin(), events.begin() + static_cast<long>(split)},
                      false, base / "tables");
    auto b = RunLines(rules, dir / "state", {events.begin() + static_cast<long>(split), events.end()},
                      true, base / "tables");
    REQUIRE(a.error.empty());
    REQUIRE(b.error.empty());
    std::vector<std::string> combined = Lines(a);
    for (auto& line : Lines(b)) combined.push_back(line);
    INFO("split after event " << split);
    CHECK(combined == expected);
  }
  // Three parts.
  for (size_t first : {20u, 61u, 100u}) {
    TempDir dir;
    const size_t second = first + 37;
    std::vector<std::string> combined;
    auto run = [&](size_t from, size_t to, bool final) {
      auto r = RunLines(rules, dir / "state",
                        {events.begin() + static_cast<long>(from), events.begin() + static_cast<long>(to)},
                        final, base / "tables");
      INFO(r.error);
      REQUIRE(r.error.empty());
      for (auto& line : Lines(r)) combined.push_back(line);
    };
    run(0, first, false);
    run(first, second, false);
    run(second, events.size(), true);
    INFO("splits after " << first << " and " << second);
    CHECK(combined == expected);
  }
}

TEST_CASE("a po_draft carries its with values, an exact total and a pending status",
          "[engine][emission][po_draft]") {
  aisle::testing::TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule reorder on inventory
  let rop = reorder_point(20.0, 5.0, 9d, 95%)
  when on_hand <= rop
  emit po_draft to "purchasing"
    with sku = sku, supplier = "Acme", qty = case_pack(rop + 140 - on_hand, 12), unit_cost = 3.75 USD
    message "Reorder {sku}"
)");
  auto inventory = [](const char* id, const char* on_hand) {
    return std::string(R"({"type":"inventory","id":")") + id +
           R"(","store":"S1","ts":"2025-03-14T10:00:00Z","source":"file","sku":"MUG","on_hand":)" +
           on_hand + R"(,"reason":"sale"})";
  };
  auto r = aisle::testing::RunLines(rules, dir / "state", {inventory("a", "300"), inventory("b", "150")}, true);
  REQUIRE(r.error.empty());
  // Reorder point: 20 x 9 + 1.6449 x sqrt(9 x 5^2) = 180 + 24.67 = 204.67. 300 is above it; 150
  // is not: 204.67 + 140 - 150 = 194.67 units, 17 cases of 12 = 204, at 3.75 USD = 765.00 USD.
  REQUIRE(r.emissions.size() == 1);
  const auto& e = r.emissions[0];
  CHECK(e.kind == aisle::dsl::plan::EmitKind::kPoDraft);
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : e.values)
      if (n == name) return v;
    return std::string("(missing)");
  };
  CHECK(value("sku") == "\"MUG\"");
  CHECK(value("supplier") == "\"Acme\"");
  CHECK(value("qty") == "204");
  CHECK(value("unit_cost") == "\"3.75 USD\"");
  CHECK(value("total") == "\"765.00 USD\"");
  CHECK(value("status") == "\"pending\"");
  // The record's sku and the with value's are one entry.
  CHECK(std::count_if(e.values.begin(), e.values.end(), [](const auto& v) { return v.first == "sku"; }) == 1);
  const std::string json = aisle::engine::ToJson(e);
  CHECK(json.find("\"kind\":\"po_draft\"") != std::string::npos);
  CHECK(e.message == "Reorder MUG");
}
