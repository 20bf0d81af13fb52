// The `affinity` stage through a real engine: association rules of each window's baskets, worked
// out by hand on a few orders; with `top`, two stores, a restart, shards and a late line item; and
// the Groceries reference figures (arules) through the language.

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::RunParts;
using aisle::testing::RunResult;
using aisle::testing::RunSplit;
using aisle::testing::TempDir;
namespace engine = aisle::engine;

namespace {

// A line item: one unit of `sku` in `order` at `store`.
std::string Line(const std::string& store, const std::string& order, int line,
                 const std::string& sku, const std::string& ts) {
  return fmt::format(
      R"({{"type":"line_item","id":"{}-{}-{}","store":"{}","ts":"{}","source":"file","currency":"USD","order":"{}","line":{},"sku":"{}","product":"{}","qty":1,"price":"1.00"}})",
      store, order, line, store, ts, order, line, sku, sku);
}

// Orders as "O1: apple bread cheese", one line per item, all at `ts`.
std::vector<std::string> Orders(const std::string& store, const std::vector<std::string>& orders,
                                const std::string& ts) {
  std::vector<std::string> lines;
  for (const std::string& o : orders) {
    std::istringstream in(o);
    std::string order, sku;
    in >> order;
    order.pop_back();  // the ':'
    int line = 0;
    while (in >> sku) lines.push_back(Line(store, order, ++line, sku, ts));
  }
  return lines;
}

// The basket set most tests use: 6 orders over 4 SKUs at S1 on 2025-03-03.
//   O1 apple bread cheese | O2 apple bread | O3 apple cheese | O4 bread dates
//   O5 apple bread dates  | O6 cheese
// N = 6. Items: apple 4 (O1 O2 O3 O5), bread 4 (O1 O2 O4 O5), cheese 3 (O1 O3 O6), dates 2 (O4 O5).
// Pairs: apple+bread 3 (O1 O2 O5), apple+cheese 2 (O1 O3), apple+dates 1, bread+cheese 1,
// bread+dates 2 (O4 O5), cheese+dates 0. Triples: apple+bread+cheese 1 (O1), apple+bread+dates 1 (O5).
std::vector<std::string> SixOrders(const std::string& store = "S1",
                                   const std::string& ts = "2025-03-03T12:00:00Z") {
  return Orders(store, {"O1: apple bread cheese", "O2: apple bread", "O3: apple cheese",
                        "O4: bread dates", "O5: apple bread dates", "O6: cheese"},
                ts);
}

// An event of the next day at `store`: moves its watermark past 2025-03-03.
std::string NextDay(const std::string& store) {
  return Line(store, "X" + store, 1, "zucchini", "2025-03-04T12:00:00Z");
}

constexpr const char* kMessage =
    R"({store} {antecedent} => {consequent} items={items} n={baskets} s={support} c={confidence} l={lift:.3f} v={conviction:.3f})";

std::string Rules(const std::string& affinity, const std::string& after = "",
                  const std::string& stream = "") {
  return fmt::format(R"({}
metric baskets = line_item
  | key store
  | window tumbling 1d
  | {}{}

rule pairs on baskets
  when baskets >= 1
  emit task to "merchandising" message "{}"
)",
                     stream, affinity, after, kMessage);
}

std::vector<std::string> Messages(const RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.message);
  return out;
}

// Runs with `shards` shards (the harness runs one).
RunResult RunSharded(const std::string& rules, const std::string& data,
                     const std::vector<std::string>& lines, int shards) {
  RunResult result;
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules};
  options.data_dir = data;
  options.shards = shards;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    result.error = opened.error().message;
    return result;
  }
  aisle::testing::CollectingSink sink;
  (*opened)->AddSink(&sink);
  aisle::connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  for (const auto& line : lines) {
    if (!parser.Parse(line, event, reason)) {
      result.error = reason;
      return result;
    }
    (*opened)->Push(event);
  }
  aisle::Status s = (*opened)->Finish(true);
  if (!s.ok()) result.error = s.message();
  result.emissions = std::move(sink.emissions);
  return result;
}

}  // namespace

TEST_CASE("affinity fires one record per pair rule, ranked by lift", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30% min_confidence 50%"));
  auto r = RunLines(rules, dir / "state", SixOrders(), /*final=*/true);
  REQUIRE(r.error.empty());
  // min_support 30% of 6 baskets: a count of at least 1.8, so 2. Frequent pairs: apple+bread 3,
  // apple+cheese 2, bread+dates 2. Every direction has confidence >= 50% (inclusive):
  //   dates => bread   2/2 = 1,    lift 1 / (4/6) = 1.5,     conviction infinite (null)
  //   bread => dates   2/4 = 0.5,  lift 0.5 / (2/6) = 1.5,   conviction (1 - 2/6) / 0.5 = 1.333
  //   apple => bread   3/4 = 0.75, lift 0.75 / (4/6) = 1.125, conviction (1/3) / (1/4) = 1.333
  //   bread => apple   3/4,        lift 1.125,               conviction 1.333
  //   cheese => apple  2/3,        lift (2/3) / (4/6) = 1,    conviction (1/3) / (1/3) = 1
  //   apple => cheese  2/4 = 0.5,  lift 0.5 / (3/6) = 1,      conviction 0.5 / 0.5 = 1
  // Support: 3/6 = 50.0% for apple+bread, 2/6 = 33.3% for the others. Order: lift, then
  // confidence, then support (all descending), then antecedent and consequent by name.
  CHECK(Messages(r) == std::vector<std::string>{
                           "S1 dates => bread items=2 n=2 s=33.3% c=100.0% l=1.500 v=null",
                           "S1 bread => dates items=2 n=2 s=33.3% c=50.0% l=1.500 v=1.333",
                           "S1 apple => bread items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                           "S1 bread => apple items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                           "S1 cheese => apple items=2 n=2 s=33.3% c=66.7% l=1.000 v=1.000",
                           "S1 apple => cheese items=2 n=2 s=33.3% c=50.0% l=1.000 v=1.000",
                       });
  // The group key is the metric's (store); the window is the day.
  REQUIRE(!r.emissions.empty());
  CHECK(r.emissions[0].key == std::vector<std::pair<std::string, std::string>>{{"store", "\"S1\""}});
  CHECK(r.emissions[0].window->first == 1740960000000000);  // 2025-03-03T00:00:00Z
  // Every emission has its own id (the rule is part of the record's key).
  std::vector<std::string> ids;
  for (const auto& e : r.emissions) ids.push_back(e.id);
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

TEST_CASE("affinity with max_items 3 mines larger rules with FP-growth", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write(
      "r.aisle", Rules("affinity sku by order min_support 15% min_confidence 100% max_items 3"));
  auto r = RunLines(rules, dir / "state", SixOrders(), true);
  REQUIRE(r.error.empty());
  // min_support 15% of 6: a count of at least 0.9, so 1 (every itemset seen). Confidence 100%:
  // X => y where every basket with X has y. Pairs: only dates => bread (2/2). Triples:
  // {bread, cheese} => apple (1/1: O1), {apple, dates} => bread (1/1: O5); {apple, bread} =>
  // cheese is 1/3, {apple, cheese} => bread 1/2, {bread, dates} => apple 1/2, ... Lifts: 1 / (4/6)
  // = 1.5 for all three; support 2/6 first, then the antecedents by name.
  CHECK(Messages(r) == std::vector<std::string>{
                           "S1 dates => bread items=2 n=2 s=33.3% c=100.0% l=1.500 v=null",
                           "S1 apple, dates => bread items=3 n=1 s=16.7% c=100.0% l=1.500 v=null",
                           "S1 bread, cheese => apple items=3 n=1 s=16.7% c=100.0% l=1.500 v=null",
                       });
}

TEST_CASE("top after affinity keeps the best rules per store", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30%",
                                          "\n  | top 3 by lift * confidence per store"));
  auto r = RunLines(rules, dir / "state", SixOrders(), true);
  REQUIRE(r.error.empty());
  // lift * confidence of the six rules above: dates => bread 1.5, bread => dates 0.75,
  // apple => bread and bread => apple 0.84375, cheese => apple 0.667, apple => cheese 0.5.
  // Ties keep the stage's order (apple => bread first).
  CHECK(Messages(r) == std::vector<std::string>{
                           "S1 dates => bread items=2 n=2 s=33.3% c=100.0% l=1.500 v=null",
                           "S1 apple => bread items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                           "S1 bread => apple items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                       });
}

// S2's baskets: O7 apple bread, O8 apple bread, O9 cheese. N = 3; min_support 30% of 3 is 0.9,
// so a count of 1. Pairs: apple+bread 2. apple => bread and bread => apple: confidence 2/2 = 1,
// support 2/3 = 66.7%, lift 1 / (2/3) = 1.5, conviction infinite.
std::vector<std::string> TwoStores() {
  std::vector<std::string> lines = SixOrders("S1");
  for (const auto& l : Orders("S2", {"O7: apple bread", "O8: apple bread", "O9: cheese"},
                              "2025-03-03T15:00:00Z"))
    lines.push_back(l);
  lines.push_back(NextDay("S1"));
  lines.push_back(NextDay("S2"));
  return lines;
}

const std::vector<std::string> kTwoStoresRules = {
    "S1 dates => bread items=2 n=2 s=33.3% c=100.0% l=1.500 v=null",
    "S1 bread => dates items=2 n=2 s=33.3% c=50.0% l=1.500 v=1.333",
    "S1 apple => bread items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
    "S1 bread => apple items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
    "S1 cheese => apple items=2 n=2 s=33.3% c=66.7% l=1.000 v=1.000",
    "S1 apple => cheese items=2 n=2 s=33.3% c=50.0% l=1.000 v=1.000",
    "S2 apple => bread items=2 n=2 s=66.7% c=100.0% l=1.500 v=null",
    "S2 bread => apple items=2 n=2 s=66.7% c=100.0% l=1.500 v=null",
};

TEST_CASE("affinity keyed by store mines each store's baskets apart", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30%"));
  auto r = RunLines(rules, dir / "state", TwoStores(), /*final=*/false);
  REQUIRE(r.error.empty());
  // The day-2 events (one zucchini order per store) stay in open windows: not final.
  CHECK(Messages(r) == kTwoStoresRules);
}

TEST_CASE("affinity state survives restarts: split runs equal one run", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30% max_items 3"));
  const std::vector<std::string> lines = TwoStores();
  auto whole = RunLines(rules, dir / "one", lines, true);
  REQUIRE(whole.error.empty());
  REQUIRE(!whole.emissions.empty());
  for (size_t split : {size_t{3}, size_t{9}, size_t{17}}) {
    auto parts = RunSplit(rules, dir / ("split" + std::to_string(split)), lines, split);
    REQUIRE(parts.error.empty());
    CHECK(Messages(parts) == Messages(whole));
  }
  // A checkpoint every 2 events, restarts after lines 5 and 12.
  auto many = RunParts(rules, dir / "parts", lines, {5, 12}, 2);
  REQUIRE(many.error.empty());
  CHECK(Messages(many) == Messages(whole));
}

TEST_CASE("affinity gives the same rules on 1 and 3 shards", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30%"));
  // Five stores with the two basket sets, so that shards hold several stores.
  std::vector<std::string> lines;
  for (const char* s : {"S1", "S3", "S5"})
    for (const auto& l : SixOrders(s)) lines.push_back(l);
  for (const char* s : {"S2", "S4"})
    for (const auto& l : Orders(s, {"O7: apple bread", "O8: apple bread", "O9: cheese"},
                                "2025-03-03T15:00:00Z"))
      lines.push_back(l);
  auto one = RunSharded(rules, dir / "one", lines, 1);
  auto three = RunSharded(rules, dir / "three", lines, 3);
  REQUIRE(one.error.empty());
  REQUIRE(three.error.empty());
  std::vector<std::string> a = Messages(one), b = Messages(three);
  CHECK(a.size() == 3 * 6 + 2 * 2);
  // Shards interleave stores: compare each store's sequence.
  auto by_store = [](const std::vector<std::string>& m) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& s : m) out[s.substr(0, 2)].push_back(s);
    return out;
  };
  CHECK(by_store(a) == by_store(b));
}

TEST_CASE("a late line item inside lateness corrects a window's rules", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30%", "",
                                          "stream line_item lateness 1d\n"));
  std::vector<std::string> lines = SixOrders();
  lines.push_back(NextDay("S1"));  // day 1 fires here
  // Then cheese, late, in O2: O2 = apple bread cheese. Counts now: apple 4, bread 4, cheese 4,
  // dates 2; apple+bread 3, apple+cheese 3, bread+cheese 2, bread+dates 2 (apple+dates 1).
  //   dates => bread 2/2, lift 1.5; bread => dates 2/4, lift 0.5 / (2/6) = 1.5
  //   apple => bread, bread => apple, apple => cheese, cheese => apple: 3/4, lift 0.75 / (4/6)
  //     = 1.125, conviction (1/3) / (1/4) = 1.333, support 50%
  //   bread => cheese, cheese => bread: 2/4, lift 0.5 / (4/6) = 0.75, conviction
  //     (1 - 4/6) / (1 - 0.5) = 0.667
  lines.push_back(Line("S1", "O2", 3, "cheese", "2025-03-03T18:00:00Z"));
  lines.push_back(Line("S1", "XS1b", 1, "zucchini", "2025-03-04T13:00:00Z"));  // fires the correction
  auto r = RunLines(rules, dir / "state", lines, false);
  REQUIRE(r.error.empty());
  REQUIRE(r.late.empty());
  std::vector<std::string> first, corrected;
  for (const auto& e : r.emissions) (e.correction ? corrected : first).push_back(e.message);
  CHECK(first.size() == 6);
  CHECK(corrected == std::vector<std::string>{
                         "S1 dates => bread items=2 n=2 s=33.3% c=100.0% l=1.500 v=null",
                         "S1 bread => dates items=2 n=2 s=33.3% c=50.0% l=1.500 v=1.333",
                         "S1 apple => bread items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                         "S1 apple => cheese items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                         "S1 bread => apple items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                         "S1 cheese => apple items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333",
                         "S1 bread => cheese items=2 n=2 s=33.3% c=50.0% l=0.750 v=0.667",
                         "S1 cheese => bread items=2 n=2 s=33.3% c=50.0% l=0.750 v=0.667",
                     });
}

TEST_CASE("a duplicate line of an order counts its item once", "[engine][affinity]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", Rules("affinity sku by order min_support 30%"));
  std::vector<std::string> lines = SixOrders();
  // apple again in O1 (another line, another event id): O1 still holds apple once.
  lines.push_back(Line("S1", "O1", 9, "apple", "2025-03-03T12:30:00Z"));
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r).size() == 6);
  CHECK(Messages(r)[2] == "S1 apple => bread items=2 n=3 s=50.0% c=75.0% l=1.125 v=1.333");
}

// Groceries (tests/data/groceries): each line a basket; one order per basket, one store, one day.
std::vector<std::string> GroceryLines() {
  std::ifstream in(std::string(AISLE_SOURCE_DIR) + "/tests/data/groceries/groceries.csv");
  std::vector<std::string> lines;
  std::string row;
  int basket = 0;
  while (std::getline(in, row)) {
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (row.empty()) continue;
    ++basket;
    std::istringstream items(row);
    std::string item;
    int line = 0;
    while (std::getline(items, item, ','))
      if (!item.empty())
        lines.push_back(Line("G1", "b" + std::to_string(basket), ++line, item, "2025-03-03T12:00:00Z"));
  }
  return lines;
}

TEST_CASE("Groceries through the language: 5668 rules, the top one by lift", "[engine][affinity][groceries]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
metric baskets = line_item
  | key store
  | window tumbling 1d
  | affinity sku by order min_support 0.1% min_confidence 50% max_items 6

rule all_rules on baskets
  when baskets > 0
  emit task to "merchandising" message "{antecedent} => {consequent} items={items} n={baskets} c={confidence:.4f} l={lift:.3f}"
)");
  const std::vector<std::string> lines = GroceryLines();
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  // Published (arules, /work/shared/data/README.md): 5668 rules at support >= 0.001 and
  // confidence >= 0.5, by length 11 / 1461 / 3211 / 939 / 46; the top rule by lift
  // {Instant food products, soda} => {hamburger meat}: 12 baskets, confidence 0.6316, lift 18.996.
  REQUIRE(r.emissions.size() == 5668);
  std::map<std::string, int> by_length;
  for (const auto& e : r.emissions) {
    const auto at = e.message.find("items=");
    ++by_length[e.message.substr(at + 6, 1)];
  }
  CHECK(by_length == std::map<std::string, int>{{"2", 11}, {"3", 1461}, {"4", 3211}, {"5", 939}, {"6", 46}});
  CHECK(r.emissions[0].message ==
        "Instant food products, soda => hamburger meat items=3 n=12 c=0.6316 l=18.996");
}
