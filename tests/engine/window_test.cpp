// Event-time tumbling windows through a real engine (real RocksDB in a temp folder): boundaries,
// out-of-order and late events, empty windows, duplicates, restart persistence. Every expected
// value below is worked out by hand from the events listed in the test.

#include <algorithm>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::Sale;
using aisle::testing::TempDir;

namespace {

constexpr const char* kHourly = R"(
metric hourly = sale
  | key store
  | window tumbling 1h
  | agg revenue = sum(total), tx = count(), aov = avg(total)

rule report on hourly
  when tx >= 1
  emit alert to "ops" message "{store} {tx} {revenue:money} {aov:money}"
)";

std::vector<std::string> Messages(const aisle::testing::RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions)
    out.push_back(aisle::dsl::FormatTimestamp(e.window->first) + " " + e.message);
  return out;
}

}  // namespace

TEST_CASE("a window holds its start but not its end: an event on the boundary opens the next", "[engine][window]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kHourly);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "10.00"),
                     Sale("b", "S1", "2025-03-14T10:59:59.999999Z", "20.00"),
                     Sale("c", "S1", "2025-03-14T11:00:00Z", "5.00"),
                     Sale("d", "S2", "2025-03-14T12:00:00Z", "7.00")},
                    /*final=*/false);
  REQUIRE(r.error.empty());
  // Watermarks are per store (delay 0): S1's 11:00 event moves S1's to 11:00, so [10,11) fires
  // and [11,12) stays open; S2's 12:00 event moves only S2's, whose [12,13) stays open too.
  CHECK(Messages(r) == std::vector<std::string>{"2025-03-14T10:00:00Z S1 2 30.00 USD 15.00 USD"});
  CHECK(r.stats.open_windows == 2);
}

TEST_CASE("out-of-order events inside the delay count, later ones are late", "[engine][window]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string("stream sale delay 30m\n") + kHourly);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:10:00Z", "10.00"),
                     Sale("b", "S1", "2025-03-14T11:20:00Z", "1.00"),  // watermark 10:50
                     Sale("c", "S1", "2025-03-14T10:40:00Z", "4.00"),  // out of order, in time
                     Sale("d", "S1", "2025-03-14T11:31:00Z", "2.00"),  // watermark 11:01: [10,11) fires
                     Sale("e", "S1", "2025-03-14T10:59:00Z", "100.00")},  // its window fired: late
                    /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{"2025-03-14T10:00:00Z S1 2 14.00 USD 7.00 USD",
                                                "2025-03-14T11:00:00Z S1 2 3.00 USD 1.50 USD"});
  CHECK(r.stats.late == 1);
}

TEST_CASE("hours without events emit nothing", "[engine][window]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kHourly);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:30:00Z", "3.00"),
                     Sale("b", "S1", "2025-03-14T13:30:00Z", "4.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{"2025-03-14T10:00:00Z S1 1 3.00 USD 3.00 USD",
                                                "2025-03-14T13:00:00Z S1 1 4.00 USD 4.00 USD"});
}

TEST_CASE("a duplicate event id is counted once", "[engine][dedup]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kHourly);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:30:00Z", "3.00"),
                     Sale("a", "S1", "2025-03-14T10:30:00Z", "3.00"),
                     Sale("b", "S1", "2025-03-14T10:45:00Z", "1.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{"2025-03-14T10:00:00Z S1 2 4.00 USD 2.00 USD"});
  CHECK(r.stats.duplicates == 1);
  CHECK(r.stats.accepted == 2);
}

TEST_CASE("money sums are exact", "[engine][money]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kHourly);
  std::vector<std::string> lines;
  // Ten sales of 0.10: a double sum would give 0.9999999999999999.
  for (int i = 0; i < 10; ++i)
    lines.push_back(Sale(fmt::format("s{}", i), "S1", fmt::format("2025-03-14T10:0{}:00Z", i), "0.10"));
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 1);
  CHECK(r.emissions[0].message == "S1 10 1.00 USD 0.10 USD");
  // values: keys and aggregates, money as "amount currency".
  CHECK(r.emissions[0].values ==
        std::vector<std::pair<std::string, std::string>>{{"store", "\"S1\""},
                                                         {"revenue", "\"1.00 USD\""},
                                                         {"tx", "10"},
                                                         {"aov", "\"0.10 USD\""}});
}

TEST_CASE("division by zero is null and a comparison with null is false", "[engine][null]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule per_unit on sale
  when total / units > 1.00 USD
  emit alert to "ops" message "{total}"
)");
  auto line = [](const char* id, const char* units) {
    return fmt::format(
        R"({{"type":"sale","id":"{}","store":"S1","ts":"2025-03-14T10:00:00Z","source":"file","currency":"USD","total":"5.00","units":{}}})",
        id, units);
  };
  auto r = RunLines(rules, dir / "state", {line("a", "0"), line("b", "2"), line("c", "10")}, true);
  REQUIRE(r.error.empty());
  // a: 5.00 / 0 is null -> false; b: 2.50 > 1.00 -> fires; c: 0.50 -> no.
  REQUIRE(r.emissions.size() == 1);
  CHECK(r.emissions[0].key == std::vector<std::pair<std::string, std::string>>{{"id", "\"b\""}});
  CHECK(!r.emissions[0].window.has_value());
}

TEST_CASE("attr() reads fields the schema does not name", "[engine][extras]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"aisle(
metric promo_sales = sale
  | where attr("promo_code") != "" and attr("channel_detail") == "kiosk"
  | key store
  | window tumbling 1h
  | agg n = count(), codes = count_distinct(attr("promo_code"))

rule kiosk_promos on promo_sales
  when n >= 1
  emit alert to "ops" message "{store} {n} {codes}"

rule vip on sale
  when attr("tier") == "vip"
  emit task to "ops" message "VIP order {order} ({total:money})"
)aisle");
  auto sale = [](const char* id, const char* extras) {
    return fmt::format(
        R"({{"type":"sale","id":"{}","store":"S1","ts":"2025-03-14T10:00:00Z","source":"file","currency":"USD","total":"9.00","order":"o-{}"{}}})",
        id, id, extras);
  };
  auto r = RunLines(rules, dir / "state",
                    {sale("a", R"(,"promo_code":"SPRING","channel_detail":"kiosk","tier":"vip")"),
                     sale("b", R"(,"promo_code":"SPRING","channel_detail":"kiosk")"),
                     sale("c", R"(,"promo_code":"FALL","channel_detail":"kiosk")"),
                     sale("d", R"(,"promo_code":"FALL","channel_detail":"web")"),
                     sale("e", "")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // vip fires for a only; the metric keeps a, b, c (kiosk, with a code): 3 sales, 2 codes.
  std::vector<std::string> messages;
  for (const auto& e : r.emissions) messages.push_back(e.message);
  CHECK(messages == std::vector<std::string>{"VIP order o-a (9.00 USD)", "S1 3 2"});
}

TEST_CASE("window day follows each store's local calendar, clock changes included", "[engine][window][calendar]") {
  TempDir dir;
  dir.Write("tables/stores.csv",
            "store,name,timezone\n"
            "S1,Harbor St,America/New_York\n"
            "S2,\"Ginza, Tokyo\",Asia/Tokyo\n");
  auto rules = dir.Write("r.aisle", R"(
table stores from "stores.csv" key store
metric daily = sale | key store | window day | agg n = count()
rule each on daily when n >= 1 emit alert to "ops" message "{store} {n}"
)");
  auto r = RunLines(rules, dir / "state",
                    {
                        // New York switches to summer time on 2025-03-09: that day has 23 hours.
                        Sale("a", "S1", "2025-03-09T12:00:00Z", "1.00"),
                        // 23:30 on the 13th in New York (UTC-4).
                        Sale("b", "S1", "2025-03-14T03:30:00Z", "1.00"),
                        // 00:30 on the 14th in New York.
                        Sale("c", "S1", "2025-03-14T04:30:00Z", "1.00"),
                        // 01:00 on the 15th in Tokyo (UTC+9).
                        Sale("d", "S2", "2025-03-14T16:00:00Z", "1.00"),
                        // A store the table does not know: UTC days.
                        Sale("e", "S9", "2025-03-14T23:00:00Z", "1.00"),
                    },
                    /*final=*/true, dir / "tables");
  REQUIRE(r.error.empty());
  std::vector<std::string> windows;
  for (const auto& e : r.emissions)
    windows.push_back(e.message + " " + aisle::dsl::FormatTimestamp(e.window->first) + " " +
                      aisle::dsl::FormatTimestamp(e.window->second));
  std::sort(windows.begin(), windows.end());
  CHECK(windows == std::vector<std::string>{
                       "S1 1 2025-03-09T05:00:00Z 2025-03-10T04:00:00Z",
                       "S1 1 2025-03-13T04:00:00Z 2025-03-14T04:00:00Z",
                       "S1 1 2025-03-14T04:00:00Z 2025-03-15T04:00:00Z",
                       "S2 1 2025-03-14T15:00:00Z 2025-03-15T15:00:00Z",
                       "S9 1 2025-03-14T00:00:00Z 2025-03-15T00:00:00Z",
                   });
}

TEST_CASE("hopping windows: every window that holds an event counts it", "[engine][window]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric m = sale | key store | window hopping 1h every 30m | agg n = count(), revenue = sum(total)
rule each on m when n >= 1 emit alert to "ops" message "{store} {n} {revenue:money}"
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:10:00Z", "1.00"),
                     Sale("b", "S1", "2025-03-14T10:40:00Z", "2.00"),
                     Sale("c", "S1", "2025-03-14T11:20:00Z", "4.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // [09:30,10:30) holds a; [10:00,11:00) a, b; [10:30,11:30) b, c; [11:00,12:00) c.
  CHECK(Messages(r) == std::vector<std::string>{"2025-03-14T09:30:00Z S1 1 1.00 USD",
                                                "2025-03-14T10:00:00Z S1 2 3.00 USD",
                                                "2025-03-14T10:30:00Z S1 2 6.00 USD",
                                                "2025-03-14T11:00:00Z S1 1 4.00 USD"});
}

TEST_CASE("throttle lets N emissions through per period and key, across restarts", "[engine][throttle]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
rule big on sale
  when total > 5.00 USD
  emit alert to "ops" message "{id}"
  throttle 2 per 1h per store
)");
  const std::vector<std::string> first = {Sale("a", "S1", "2025-03-14T10:00:00Z", "9.00"),
                                          Sale("b", "S1", "2025-03-14T10:10:00Z", "9.00"),
                                          Sale("c", "S1", "2025-03-14T10:20:00Z", "9.00"),
                                          Sale("d", "S2", "2025-03-14T10:15:00Z", "9.00")};
  const std::vector<std::string> second = {Sale("e", "S1", "2025-03-14T11:05:00Z", "9.00"),
                                           Sale("f", "S1", "2025-03-14T11:06:00Z", "9.00")};
  // S1: a and b pass; c is the third within the hour. At 11:05 the hour back to 10:05 holds only
  // b, so e passes; at 11:06 it holds b and e, so f does not. S2 has its own budget: d passes.
  auto ids = [](const aisle::testing::RunResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.emissions) out.push_back(e.message);
    return out;
  };
  auto a = RunLines(rules, dir / "state", first, false);
  auto b = RunLines(rules, dir / "state", second, true);
  REQUIRE(a.error.empty());
  REQUIRE(b.error.empty());
  CHECK(ids(a) == std::vector<std::string>{"a", "b", "d"});
  CHECK(ids(b) == std::vector<std::string>{"e"});
}

TEST_CASE("a time format in a message", "[engine][format]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric hourly = sale | key store | window tumbling 1h | agg n = count()
rule r on hourly when n >= 1 emit alert to "ops" message "{store} {window.start:%a %d %b %H:%M}"
)");
  auto r = RunLines(rules, dir / "state", {Sale("a", "S1", "2025-03-14T10:20:30.5Z", "1.00")}, true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 1);
  // 2025-03-14 was a Friday; the window starts at 10:00 UTC.
  CHECK(r.emissions[0].message == "S1 Fri 14 Mar 10:00");
}
