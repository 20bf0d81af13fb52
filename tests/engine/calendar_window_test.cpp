// Calendar windows in each store's time zone (week, month, fiscal 4-4-5) and `during
// open_hours`, through a real engine. Every date below is worked out by hand; the weekdays of
// the dates used are noted where they matter.

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::dsl::FormatTimestamp;
using aisle::testing::RunLines;
using aisle::testing::TempDir;

namespace {

std::string Sale(const std::string& id, const std::string& store, const std::string& ts) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"{}","source":"file","currency":"USD","total":"1.00","status":"completed"}})",
      id, store, ts);
}

constexpr const char* kStores =
    "store,name,district,region,timezone,open_hours,currency\n"
    "NY,New York,east,east,America/New_York,Mon-Sun 09:00-21:00,USD\n"
    "UT,Utc,east,east,UTC,Mon-Fri 09:00-17:00; Sat 22:00-02:00; Sun closed,USD\n";

// "start end n" for every window fired, in order.
std::vector<std::string> Windows(const std::string& window, const std::vector<std::string>& lines,
                                 const std::string& during = "") {
  TempDir dir;
  dir.Write("stores.csv", kStores);
  auto rules = dir.Write("r.aisle", fmt::format(R"(
table stores from "stores.csv" key store
metric m = sale
{}  | key store
  | window {}
  | agg n = count()
rule r on m
  when n >= 1
  emit alert to "ops" message "{{store}} {{n}}"
)",
                                                during, window));
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());
  std::vector<std::string> out;
  for (const auto& e : r.emissions)
    out.push_back(FormatTimestamp(e.window->first) + " " + FormatTimestamp(e.window->second) + " " +
                  e.message);
  return out;
}

}  // namespace

TEST_CASE("week windows start on the configured weekday, midnight local", "[engine][calendar]") {
  // 2025-01-04 is a Saturday; New York is UTC-5 in January.
  const std::vector<std::string> lines = {
      Sale("sat", "NY", "2025-01-04T17:00:00Z"),       // Sat 12:00 local
      Sale("sun", "NY", "2025-01-05T17:00:00Z"),       // Sun 12:00
      Sale("sun-late", "NY", "2025-01-06T04:30:00Z"),  // Sun 23:30 local, Monday in UTC
      Sale("mon", "NY", "2025-01-06T17:00:00Z"),       // Mon 12:00
  };
  CHECK(Windows("week starting sunday", lines) ==
        std::vector<std::string>{"2024-12-29T05:00:00Z 2025-01-05T05:00:00Z NY 1",
                                 "2025-01-05T05:00:00Z 2025-01-12T05:00:00Z NY 3"});
  CHECK(Windows("week", lines) ==  // Monday by default
        std::vector<std::string>{"2024-12-30T05:00:00Z 2025-01-06T05:00:00Z NY 3",
                                 "2025-01-06T05:00:00Z 2025-01-13T05:00:00Z NY 1"});
}

TEST_CASE("month windows follow the local calendar across a clock change", "[engine][calendar]") {
  // New York moves from UTC-5 to UTC-4 on 2025-03-09: March starts at 05:00Z and ends at 04:00Z.
  const std::vector<std::string> lines = {
      Sale("feb", "NY", "2025-03-01T04:30:00Z"),     // Feb 28 23:30 local
      Sale("mar-1", "NY", "2025-03-01T05:10:00Z"),   // Mar 1 00:10
      Sale("mar-31", "NY", "2025-04-01T03:50:00Z"),  // Mar 31 23:50 (EDT)
      Sale("apr", "NY", "2025-04-01T04:10:00Z"),     // Apr 1 00:10
  };
  CHECK(Windows("month", lines) ==
        std::vector<std::string>{"2025-02-01T05:00:00Z 2025-03-01T05:00:00Z NY 1",
                                 "2025-03-01T05:00:00Z 2025-04-01T04:00:00Z NY 2",
                                 "2025-04-01T04:00:00Z 2025-05-01T04:00:00Z NY 1"});
}

TEST_CASE("fiscal 4-4-5 periods, and a 53-week year's extra week in its last period", "[engine][calendar]") {
  // Fiscal years start on the Sunday nearest Feb 2 (the anchor 2025-02-02 is a Sunday):
  // FY2024 2024-02-04 (Feb 2 2024 is a Friday), FY2025 2025-02-02, FY2028 2028-01-30 (Feb 2 2028
  // is a Wednesday), FY2029 2029-02-04 (Feb 2 2029 is a Friday): FY2028 has 371 days, 53 weeks.
  const std::vector<std::string> lines = {
      Sale("fy24-last", "UT", "2025-01-15T10:00:00Z"),  // FY2024 weeks 48-52: from 2024-12-29
      Sale("p1", "UT", "2025-02-02T10:00:00Z"),         // weeks 1-4
      Sale("p2", "UT", "2025-03-02T10:00:00Z"),         // weeks 5-8
      Sale("p3", "UT", "2025-03-30T10:00:00Z"),         // weeks 9-13
      Sale("p3-end", "UT", "2025-05-03T23:00:00Z"),     // still week 13
      Sale("fy28-last", "UT", "2028-12-24T00:00:00Z"),  // FY2028 weeks 48-53: 2028-12-24 + 6 weeks
      Sale("fy28-end", "UT", "2029-01-31T12:00:00Z"),
      Sale("fy29", "UT", "2029-02-04T00:00:00Z"),
  };
  CHECK(Windows(R"(fiscal "4-4-5" from "2025-02-02")", lines) ==
        std::vector<std::string>{"2024-12-29T00:00:00Z 2025-02-02T00:00:00Z UT 1",
                                 "2025-02-02T00:00:00Z 2025-03-02T00:00:00Z UT 1",
                                 "2025-03-02T00:00:00Z 2025-03-30T00:00:00Z UT 1",
                                 "2025-03-30T00:00:00Z 2025-05-04T00:00:00Z UT 2",
                                 "2028-12-24T00:00:00Z 2029-02-04T00:00:00Z UT 2",
                                 "2029-02-04T00:00:00Z 2029-03-04T00:00:00Z UT 1"});
  // 5-4-4 puts the long period first.
  CHECK(Windows(R"(fiscal "5-4-4" from "2025-02-02")", {Sale("a", "UT", "2025-03-02T10:00:00Z")}) ==
        std::vector<std::string>{"2025-02-02T00:00:00Z 2025-03-09T00:00:00Z UT 1"});
}

TEST_CASE("during open_hours keeps only events inside the store's local opening hours", "[engine][calendar]") {
  // UT: Mon-Fri 09:00-17:00, Sat 22:00-02:00, Sun closed (UTC). 2025-01-06 is a Monday.
  // NY: every day 09:00-21:00 local (UTC-5).
  const std::vector<std::string> lines = {
      Sale("a", "UT", "2025-01-06T08:59:00Z"),  // closed
      Sale("b", "UT", "2025-01-06T09:00:00Z"),  // open
      Sale("c", "UT", "2025-01-06T16:59:00Z"),  // open
      Sale("d", "UT", "2025-01-06T17:00:00Z"),  // closed
      Sale("e", "NY", "2025-01-06T13:59:00Z"),  // 08:59 local: closed
      Sale("f", "NY", "2025-01-06T14:00:00Z"),  // 09:00: open
      Sale("g", "NY", "2025-01-07T01:59:00Z"),  // Mon 20:59: open
      Sale("h", "NY", "2025-01-07T02:00:00Z"),  // Mon 21:00: closed
      Sale("i", "UT", "2025-01-11T23:00:00Z"),  // Sat night: open
      Sale("j", "UT", "2025-01-12T01:30:00Z"),  // Saturday's night, on Sunday: open
      Sale("k", "UT", "2025-01-12T02:00:00Z"),  // closed
      Sale("l", "UT", "2025-01-12T12:00:00Z"),  // Sunday: closed
  };
  // UT's days fire as UT's own later events arrive; the rest at the end, store by store.
  CHECK(Windows("day", lines, "  | during open_hours\n") ==
        std::vector<std::string>{"2025-01-06T00:00:00Z 2025-01-07T00:00:00Z UT 2",
                                 "2025-01-11T00:00:00Z 2025-01-12T00:00:00Z UT 1",
                                 "2025-01-06T05:00:00Z 2025-01-07T05:00:00Z NY 2",
                                 "2025-01-12T00:00:00Z 2025-01-13T00:00:00Z UT 1"});
}

TEST_CASE("message times render in the store's zone with local, in UTC without", "[engine][calendar]") {
  TempDir dir;
  dir.Write("stores.csv", kStores);
  auto rules = dir.Write("r.aisle", R"(
table stores from "stores.csv" key store
metric daily = sale
  | key store
  | window day
  | agg n = count()
rule report on daily
  when n >= 1
  emit alert to "ops" message "{store} {window.start:local %a %H:%M} / {window.start:%a %H:%M} UTC"
)");
  // 2025-01-06 is a Monday; New York is UTC-5, so its day starts at 05:00 UTC.
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "NY", "2025-01-06T15:00:00Z"), Sale("b", "UT", "2025-01-06T15:00:00Z")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  std::vector<std::string> got;
  for (const auto& e : r.emissions) got.push_back(e.message);
  CHECK(got == std::vector<std::string>{"NY Mon 00:00 / Mon 05:00 UTC", "UT Mon 00:00 / Mon 00:00 UTC"});
}
