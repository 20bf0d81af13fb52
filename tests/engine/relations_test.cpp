// Relations through a real engine (real RocksDB in a temp folder): lookup() in a typed table,
// select before and after agg, distinct, top K and metric joins, with restarts. Every expected
// value below is worked out by hand from the events and the table listed in the test.

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::RunResult;
using aisle::testing::TempDir;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Lines = std::vector<std::string>;

namespace {

constexpr const char* kProducts =
    "sku,name,category,unit_cost,price,lead_days\n"
    "A,Apple,fruit,1.20,2.00,3\n"
    "B,Bread,bakery,2.80,3.00,1\n"
    "C,Cheese,dairy,,5.00,2\n"
    "D,Dates,fruit,0.50,1.00,7\n";

constexpr const char* kTable =
    "table products from \"products.csv\" key sku types unit_cost = money, price = money, lead_days = int\n";

std::string Item(const std::string& id, const std::string& store, const std::string& time,
                 const std::string& sku, const std::string& qty, const std::string& price,
                 const std::string& currency = "USD", const std::string& order = "o1") {
  return fmt::format(
      R"({{"type":"line_item","id":"{}","store":"{}","ts":"2025-03-14T{}Z","source":"file","currency":"{}","order":"{}","line":1,"sku":"{}","qty":{},"price":"{}"}})",
      id, store, time, currency, order, sku, qty, price);
}

std::string Sale(const std::string& id, const std::string& store, const std::string& time,
                 const std::string& total) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"2025-03-14T{}Z","source":"file","currency":"USD","total":"{}","status":"completed"}})",
      id, store, time, total);
}

std::string Traffic(const std::string& id, const std::string& store, const std::string& time,
                    int entries) {
  return fmt::format(
      R"({{"type":"traffic","id":"{}","store":"{}","ts":"2025-03-14T{}Z","source":"traffic","zone":"door","start":"2025-03-14T{}Z","end":"2025-03-14T{}Z","entries":{},"exits":null,"offline":false}})",
      id, store, time, time, time, entries);
}

// "HH:MM message" per emission, the window start in UTC (or the event time for stream rules).
Lines Messages(const RunResult& r) {
  Lines out;
  for (const auto& e : r.emissions)
    out.push_back(aisle::dsl::FormatTimestamp(e.window ? e.window->first : e.ts).substr(11, 5) + " " +
                  e.message);
  return out;
}

RunResult Run(const TempDir& dir, const std::string& rules, const Lines& lines, bool final = true,
              const std::string& state = "state") {
  dir.Write("products.csv", kProducts);
  return RunLines(dir.Write("r.aisle", rules), dir / state, lines, final);
}

}  // namespace

TEST_CASE("lookup reads a typed column of the row with the event's key", "[engine][lookup]") {
  TempDir dir;
  auto r = Run(dir, std::string(kTable) + R"(
rule low_margin on line_item
  let margin = price - lookup(products, sku).unit_cost
  let lead = lookup(products, sku).lead_days
  when price - lookup(products, sku).unit_cost < 0.50 USD
  emit alert to "ops" message "{sku} margin {margin:money}, reorder in {lead}d"
)",
               {Item("l1", "S1", "10:00:00", "A", "1", "1.60"),  // 1.60 - 1.20 = 0.40: fires
                Item("l2", "S1", "10:01:00", "A", "1", "2.00"),  // 0.80: no
                Item("l3", "S1", "10:02:00", "B", "1", "3.00"),  // 3.00 - 2.80 = 0.20: fires
                Item("l4", "S1", "10:03:00", "C", "1", "4.00"),  // C has no unit cost: null, no
                Item("l5", "S1", "10:04:00", "Z", "1", "0.10"),  // no row Z: null, no
                // The table has no currency column: the cost takes the record's, 1.20 EUR, and a
                // margin of 0.40 EUR does not compare with 0.50 USD.
                Item("l6", "S1", "10:05:00", "A", "1", "1.60", "EUR")});
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == Lines{"10:00 A margin 0.40 USD, reorder in 3d",
                             "10:02 B margin 0.20 USD, reorder in 1d"});
}

TEST_CASE("a money column takes the currency of its row when the table has one", "[engine][lookup]") {
  TempDir dir;
  dir.Write("costs.csv", "sku,cost,currency\nA,1.00,EUR\nB,2.00,\n");
  auto r = Run(dir, R"(
table costs from "costs.csv" key sku types cost = money
rule cost on line_item
  let c = lookup(costs, sku).cost
  when not is_null(c)
  emit task to "ops" message "{sku} {c:money}"
)",
               {Item("l1", "S1", "10:00:00", "A", "1", "1.60"),
                // An empty currency cell: the record's.
                Item("l2", "S1", "10:01:00", "B", "1", "1.60", "GBP")});
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == Lines{"10:00 A 1.00 EUR", "10:01 B 2.00 GBP"});
}

TEST_CASE("select before agg computes the fields the key and the aggregates read", "[engine][select]") {
  TempDir dir;
  auto r = Run(dir, std::string(kTable) + R"(
metric cat_sales = line_item
  | select store, category = lookup(products, sku).category, revenue = price * qty
  | where revenue > 0.00 USD
  | key store, category
  | window tumbling 1h
  | agg revenue = sum(revenue), lines = count()

rule report on cat_sales
  when lines >= 1
  emit alert to "ops" message "{store} {category} {revenue:money} {lines}"
)",
               {Item("l1", "S1", "10:00:00", "A", "2", "2.00"),    // fruit 4.00
                Item("l2", "S1", "10:10:00", "B", "1", "3.00"),    // bakery 3.00
                Item("l3", "S1", "10:20:00", "D", "3", "1.00"),    // fruit 3.00
                Item("l4", "S1", "10:30:00", "B", "-1", "3.00"),   // a return: -3.00, left out
                Item("l5", "S1", "10:40:00", "Z", "1", "1.50")});  // unknown sku: null category
  REQUIRE(r.error.empty());
  // Groups fire in key order: a null before any string, and strings by length first (the key
  // encoding is length-prefixed), so "fruit" before "bakery".
  CHECK(Messages(r) == Lines{"10:00 S1 null 1.50 USD 1", "10:00 S1 fruit 7.00 USD 2",
                             "10:00 S1 bakery 3.00 USD 1"});
  REQUIRE(r.emissions.size() == 3);
  CHECK(r.emissions[1].key == Pairs{{"store", "\"S1\""}, {"category", "\"fruit\""}});
}

TEST_CASE("select after agg: the output holds exactly the selected fields and the window", "[engine][select]") {
  TempDir dir;
  auto r = Run(dir, R"(
metric hourly = sale
  | key store
  | window tumbling 1h
  | agg revenue = sum(total), tx = count()
  | select aov = revenue / tx, store

rule report on hourly
  when aov > 0.00 USD
  emit alert to "ops" message "{store} {aov:money} from {window.start:%H:%M} to {window.end:%H:%M}"
)",
               {Sale("a", "S1", "10:05:00", "10.00"), Sale("b", "S1", "10:15:00", "5.00"),
                Sale("c", "S2", "10:20:00", "4.00"), Sale("d", "S1", "11:00:00", "1.00"),
                Sale("e", "S2", "11:00:00", "2.00")},  // each store's 11:00 closes its 10:00
               /*final=*/false);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == Lines{"10:00 S1 7.50 USD from 10:00 to 11:00", "10:00 S2 4.00 USD from 10:00 to 11:00"});
  REQUIRE(r.emissions.size() == 2);
  CHECK(r.emissions[0].values == Pairs{{"aov", "\"7.50 USD\""}, {"store", "\"S1\""}});
  CHECK(r.emissions[0].key == Pairs{{"store", "\"S1\""}});
  CHECK(r.emissions[0].store == "S1");
}

TEST_CASE("top K by an expression, per a key field, largest first, ties in key order", "[engine][top]") {
  TempDir dir;
  const std::string metric = R"(
metric sku_revenue = line_item
  | key store, sku
  | window tumbling 1h
  | agg revenue = sum(price * qty)
)";
  const Lines events = {
      Item("1", "S1", "10:00:00", "A", "1", "5.00"), Item("2", "S1", "10:01:00", "B", "1", "3.00"),
      Item("3", "S1", "10:02:00", "C", "1", "5.00"), Item("4", "S1", "10:03:00", "D", "1", "1.00"),
      Item("5", "S2", "10:04:00", "A", "2", "1.00"), Item("6", "S2", "10:05:00", "B", "1", "4.00"),
      Item("7", "S1", "11:30:00", "A", "1", "9.00")};
  const std::string rule = R"(
rule report on sku_revenue
  when true
  emit alert to "ops" message "{store} {sku} {revenue:money}"
)";
  SECTION("per store") {
    auto r = Run(dir, metric + "  | top 2 by revenue per store\n" + rule, events);
    REQUIRE(r.error.empty());
    // 10:00, S1: A 5.00 and C 5.00 tie above B 3.00 (A first: key order), fired by S1's 11:30
    // event. The rest at the end, store by store: S1's 11:00 (A alone), then S2's 10:00 (B 4.00,
    // A 2.00).
    CHECK(Messages(r) == Lines{"10:00 S1 A 5.00 USD", "10:00 S1 C 5.00 USD", "11:00 S1 A 9.00 USD",
                               "10:00 S2 B 4.00 USD", "10:00 S2 A 2.00 USD"});
  }
  SECTION("the smallest") {
    auto r = Run(dir, metric + "  | top 1 by -revenue per store\n" + rule, events);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == Lines{"10:00 S1 D 1.00 USD", "11:00 S1 A 9.00 USD", "10:00 S2 A 2.00 USD"});
  }
  SECTION("after a select, and fired window by window without --final") {
    auto r = Run(dir,
                 metric + "  | select store, sku, cents = revenue / 0.01 USD\n  | top 1 by cents per store\n" +
                     R"(rule report on sku_revenue when true emit alert to "ops" message "{store} {sku} {cents}")",
                 events, /*final=*/false);
    REQUIRE(r.error.empty());
    // Only S1's 10:00 window closes: the 11:30 event moves S1's watermark; S2 sends no later one.
    CHECK(Messages(r) == Lines{"10:00 S1 A 500"});
  }
}

TEST_CASE("distinct lets the first record of each value through, per window and key", "[engine][distinct]") {
  TempDir dir;
  const std::string rules = R"(
metric orders = line_item
  | distinct order
  | key store
  | window tumbling 1h
  | agg orders = count(), first_lines = sum(qty)

rule report on orders
  when orders > 0
  emit alert to "ops" message "{store} {orders} orders, {first_lines} units on their first lines"
)";
  // S1 in 10:00: o1 (three lines), o2 (one line); S2 in 10:00: o1 (another store's order o1);
  // S1 in 11:00: o1 again (another window).
  const Lines events = {Item("1", "S1", "10:00:00", "A", "1", "1.00", "USD", "o1"),
                        Item("2", "S1", "10:01:00", "B", "2", "1.00", "USD", "o1"),
                        Item("3", "S2", "10:02:00", "A", "4", "1.00", "USD", "o1"),
                        Item("4", "S1", "10:03:00", "C", "3", "1.00", "USD", "o1"),
                        Item("5", "S1", "10:04:00", "A", "5", "1.00", "USD", "o2"),
                        Item("6", "S1", "11:05:00", "A", "7", "1.00", "USD", "o1"),
                        Item("7", "S1", "11:06:00", "A", "8", "1.00", "USD", "o1")};
  auto whole = Run(dir, rules, events, true, "whole");
  REQUIRE(whole.error.empty());
  // 10:00: S1 counts o1 (qty 1, its first line) and o2 (qty 5); S2 counts o1 (qty 4).
  // S1's 10:00 fires with S1's 11:05 event; the rest at the end, store by store.
  CHECK(Messages(whole) == Lines{"10:00 S1 2 orders, 6 units on their first lines",
                                 "11:00 S1 1 orders, 7 units on their first lines",
                                 "10:00 S2 1 orders, 4 units on their first lines"});
  // What each window has seen survives a restart: replaying in two parts gives the same.
  for (size_t split = 1; split < events.size(); ++split) {
    TempDir part;
    Lines first(events.begin(), events.begin() + static_cast<long>(split));
    Lines second(events.begin() + static_cast<long>(split), events.end());
    auto a = Run(part, rules, first, false);
    auto b = Run(part, rules, second, true);
    REQUIRE(a.error.empty());
    REQUIRE(b.error.empty());
    Lines combined = Messages(a);
    for (auto& m : Messages(b)) combined.push_back(m);
    INFO("split after event " << split);
    CHECK(combined == Messages(whole));
  }
}

TEST_CASE("a join pairs two metrics' records of one window and key", "[engine][join]") {
  TempDir dir;
  const std::string metrics = R"(
metric hourly = sale | key store | window tumbling 1h | agg tx = count(), n = count()
metric visitors_h = traffic | key store | window tumbling 1h | agg visitors = sum(entries), n = count()
)";
  // 10:00: S1 has two sales and 8 visitors (two counts); S2 a sale but no traffic; S3 traffic
  // but no sale. The 12:00 sale closes 10:00 and 11:00 for both inputs (lateness 0).
  const Lines events = {Sale("a", "S1", "10:05:00", "1.00"),   Sale("b", "S1", "10:06:00", "1.00"),
                        Sale("c", "S2", "10:07:00", "1.00"),   Traffic("t1", "S1", "10:15:00", 5),
                        Traffic("t2", "S1", "10:30:00", 3),    Traffic("t3", "S3", "10:45:00", 9),
                        Sale("d", "S1", "12:00:00", "1.00")};
  SECTION("inner join, a select, a rule") {
    // A join fires once every store of both inputs has passed the window: S2's sale and S1's and
    // S3's traffic at 12:00 bring the lowest store watermark of each input to 12:00.
    Lines closing = events;
    closing.push_back(Sale("e", "S2", "12:00:00", "1.00"));
    closing.push_back(Traffic("t4", "S1", "12:00:00", 1));
    closing.push_back(Traffic("t5", "S3", "12:00:00", 1));
    auto r = Run(dir, metrics + R"x(
metric conv = hourly join visitors_h on store
  | select store, tx, visitors, conv = tx / visitors, sales = hourly.n, counts = visitors_h.n

rule report on conv
  when visitors > 0
  emit alert to "ops" message "{store} {tx}/{visitors} = {conv:.3f} ({sales} sales, {counts} counts)"
)x",
                 closing, /*final=*/false);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == Lines{"10:00 S1 2/8 = 0.250 (2 sales, 2 counts)"});
    REQUIRE(r.emissions.size() == 1);
    CHECK(r.emissions[0].key == Pairs{{"store", "\"S1\""}});
    CHECK(r.emissions[0].window == std::make_pair(int64_t{1741946400000000}, int64_t{1741950000000000}));
    // What is left: the 12:00 windows of S1 and S2 in hourly, of S1 and S3 in visitors_h; the
    // join dropped S2 and S3 once both inputs passed 11:00.
    CHECK(r.stats.open_windows == 4);
  }
  SECTION("left join: a left record without a right one has null right fields") {
    auto r = Run(dir, metrics + R"(
metric conv = hourly left join visitors_h on store

rule report on conv
  when tx > 0
  emit alert to "ops" message "{store} {tx} {visitors} {hourly.n} {visitors_h.n}"
)",
                 events, /*final=*/true);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == Lines{"10:00 S1 2 8 2 2", "10:00 S2 1 null 1 null", "12:00 S1 1 null 1 null"});
    REQUIRE(r.emissions.size() == 3);
    // A join metric's record: keys, the left's fields, the right's.
    CHECK(r.emissions[0].values == Pairs{{"store", "\"S1\""},
                                         {"tx", "2"},
                                         {"hourly.n", "2"},
                                         {"visitors", "8"},
                                         {"visitors_h.n", "2"}});
  }
}

TEST_CASE("a join of two metrics of one stream waits for both to fire", "[engine][join]") {
  TempDir dir;
  // One store, both metrics over line_item. The 11:00 item reaches both metrics before either
  // fires 10:00: the join must not close 10:00 when `all` fires, before `big` has sent its record.
  const std::string rules = R"(
metric all = line_item | key store | window tumbling 1h | agg units = sum(qty)
metric big = line_item | where qty > 5 | key store | window tumbling 1h | agg big = sum(qty)
metric both = all left join big on store
rule report on both when true emit alert to "ops" message "{store} {units} {big}"
)";
  // 10:00: 10 and 3 units (10 is big); 11:00: 2 units (none big); 12:00 closes 11:00.
  const Lines events = {Item("a", "S1", "10:05:00", "A", "10", "1.00"),
                        Item("b", "S1", "10:06:00", "B", "3", "1.00"),
                        Item("c", "S1", "11:05:00", "A", "2", "1.00"),
                        Item("d", "S1", "12:05:00", "A", "7", "1.00")};
  auto r = Run(dir, rules, events, /*final=*/false);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == Lines{"10:00 S1 13 10", "11:00 S1 2 null"});
  CHECK(r.stats.late == 0);
}

TEST_CASE("a join waits for the later input and keeps its buffer across restarts", "[engine][join]") {
  TempDir dir;
  // Traffic may arrive an hour late: visitors_h closes 10:00 only once events reach 12:00, an
  // hour after hourly did, and the join holds hourly's records meanwhile.
  const std::string rules = R"(
stream traffic lateness 1h
metric hourly = sale | key store | window tumbling 1h | agg tx = count()
metric visitors_h = traffic | key store | window tumbling 1h | agg visitors = sum(entries)
metric conv = hourly join visitors_h on store | top 1 by tx
rule report on conv when true emit alert to "ops" message "{store} {tx} {visitors}"
metric daily = conv | key store | window tumbling 1d | agg tx = sum(tx), visitors = sum(visitors)
rule day on daily when true emit task to "ops" message "day {store} {tx} {visitors}"
)";
  const Lines events = {Sale("a", "S1", "10:05:00", "1.00"),  Sale("b", "S2", "10:06:00", "1.00"),
                        Sale("c", "S2", "10:07:00", "1.00"),  Traffic("t1", "S1", "10:15:00", 5),
                        Traffic("t2", "S2", "10:30:00", 6),   Sale("d", "S1", "11:10:00", "1.00"),
                        Traffic("t3", "S2", "10:50:00", 1),   Traffic("t4", "S1", "11:20:00", 2),
                        Sale("e", "S1", "12:30:00", "1.00")};
  auto whole = Run(dir, rules, events, true, "whole");
  REQUIRE(whole.error.empty());
  // 10:00 joined: S1 (1 sale, 5 visitors), S2 (2 sales, 7 visitors); top 1 by tx keeps S2.
  // 11:00: S1 (1, 2). 12:00: S1 has a sale, no traffic: dropped. The day sums what `top` kept.
  const Lines expected = {"10:00 S2 2 7", "11:00 S1 1 2", "00:00 day S1 1 2", "00:00 day S2 2 7"};
  CHECK(Messages(whole) == expected);
  for (size_t split = 1; split < events.size(); ++split) {
    TempDir part;
    Lines first(events.begin(), events.begin() + static_cast<long>(split));
    Lines second(events.begin() + static_cast<long>(split), events.end());
    auto a = Run(part, rules, first, false);
    auto b = Run(part, rules, second, true);
    REQUIRE(a.error.empty());
    REQUIRE(b.error.empty());
    Lines combined = Messages(a);
    for (auto& m : Messages(b)) combined.push_back(m);
    INFO("split after event " << split);
    CHECK(combined == expected);
  }
}

TEST_CASE("an idle store stops holding back a join", "[engine][join][idle]") {
  TempDir dir;
  const std::string rules = R"x(
metric hourly = sale | key store | window tumbling 1h | agg tx = count()
metric visitors_h = traffic | key store | window tumbling 1h | agg visitors = sum(entries)
metric conv = hourly join visitors_h on store

rule report on conv
  when visitors > 0
  emit alert to "ops" message "{store} {tx}/{visitors}"
)x";
  // S2 sells at 10:07 and then falls silent; S3 counts visitors at 10:45 and falls silent. S1
  // goes on to 12:00 on both streams.
  const Lines events = {Sale("a", "S1", "10:05:00", "1.00"),  Sale("b", "S1", "10:06:00", "1.00"),
                        Sale("c", "S2", "10:07:00", "1.00"),  Traffic("t1", "S1", "10:15:00", 5),
                        Traffic("t2", "S1", "10:30:00", 3),   Traffic("t3", "S3", "10:45:00", 9),
                        Sale("d", "S1", "12:00:00", "1.00"),  Traffic("t4", "S1", "12:00:00", 1)};
  SECTION("without idle, the silent stores hold the join back") {
    auto r = Run(dir, rules, events, /*final=*/false);
    REQUIRE(r.error.empty());
    CHECK(Messages(r).empty());
  }
  SECTION("with idle 1h, a store more than an hour behind stops holding it back") {
    // hourly: S1 at 12:00, S2 at 10:07 (1h53m behind: idle), so its low watermark is 12:00;
    // visitors_h: S1 at 12:00, S3 at 10:45 (1h15m behind: idle): 12:00. The join fires 10:00
    // and 11:00: S1 pairs (2 sales, 5 + 3 visitors); S2 has no traffic record, S3 no sale.
    const std::string idle = "stream sale idle 1h\nstream traffic idle 1h\n";
    auto r = Run(dir, idle + rules, events, /*final=*/false);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == Lines{"10:00 S1 2/8"});
    CHECK(r.stats.late == 0);
  }
  SECTION("a store back from idle finds its fired windows closed") {
    // S2 sells again at 12:00: its 10:00 window fires in hourly, but the join fired 10:00 while
    // S2 was idle, so that record comes late to the join.
    const std::string idle = "stream sale idle 1h\nstream traffic idle 1h\n";
    Lines back = events;
    back.push_back(Sale("e", "S2", "12:00:00", "1.00"));
    auto r = Run(dir, idle + rules, back, /*final=*/false);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == Lines{"10:00 S1 2/8"});
    CHECK(r.stats.late == 1);
  }
}
