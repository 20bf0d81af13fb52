// Margin and promotions through a real engine: margin() summed over a window's line items,
// promo_lift() against a flat baseline (a promotion that doubles units for two days), the
// cannibalisation pattern (the same function on the category's other SKUs, through a join),
// restarts and shards. Expected values are worked out by hand from the events listed in each test.

#include <algorithm>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::TempDir;

namespace {

// A USD line item on March `day` 2025 at noon: `qty` units at `price`, `discount` off the line.
std::string Line(const std::string& store, int day, const std::string& sku, const std::string& qty,
                 const std::string& price, const std::string& discount) {
  static int n = 0;
  return fmt::format(
      R"({{"type":"line_item","id":"li-{}-{}-{}-{}","store":"{}","ts":"2025-03-{:02}T12:00:00Z","source":"file","currency":"USD","order":"o-{}","line":1,"sku":"{}","qty":{},"price":"{}","discount":"{}"}})",
      store, day, sku, ++n, store, day, n, sku, qty, price, discount);
}

constexpr const char* kProducts =
    "sku,name,category,unit_cost,price\n"
    "SKU-1,Oat milk 1l,dairy,1.10,2.00\n"
    "SKU-2,Whole milk 1l,dairy,0.60,1.20\n";
constexpr const char* kPromos = "sku,plan\nSKU-1,spring\n";

constexpr const char* kRules = R"aisle(
table products from "products.csv" key sku types unit_cost = money, price = money
table promos from "promos.csv" key sku

metric daily = line_item
  | key store, sku
  | window tumbling 1d
  | agg units = sum(qty), gross = sum(price * qty), off = sum(discount)

rule lift on daily
  let l = promo_lift(units, promo = off / gross > 5%, season = 1d, method = "naive",
                     margin = 0.90 USD, promo_margin = 0.10 USD)
  when not is_null(l)
  emit alert to "merch" message "{store} {sku} {window.start:%m-%d}: {units:.0f} units, baseline {l.baseline:.1f}, lift {l:.0%}, +{l.incremental:.1f}, erosion {l.margin_erosion:money}, gained {l.incremental_margin:money}, net {l.net_margin:money}"

metric promo_skus = line_item
  | where not is_null(lookup(promos, sku).plan)
  | select store, category = lookup(products, sku).category, gross = price * qty, discount
  | key store, category
  | window tumbling 1d
  | agg gross = sum(gross), off = sum(discount)

metric other_skus = line_item
  | where is_null(lookup(promos, sku).plan)
  | select store, category = lookup(products, sku).category, qty
  | key store, category
  | window tumbling 1d
  | agg units = sum(qty)

metric category_view = other_skus left join promo_skus on store, category

rule cannibalisation on category_view
  let c = promo_lift(units, promo = coalesce(off / gross > 5%, false), season = 1d, method = "naive")
  when c < -10%
  emit alert to "merch" message "{category} at {store} {window.start:%m-%d}: other SKUs {units:.0f}, baseline {c.baseline:.0f} ({c:.0%}, {c.incremental:.0f} units)"
)aisle";

// Fourteen days at S1 and S2. S1: SKU-1 sells 10 a day at 2.00, but 20 on days 11 and 12, when
// it is 0.80 off (16.00 off the line: 40% of 40.00); SKU-2 sells 6 a day, 3 on days 11 and 12.
// S2: SKU-1 sells 4 a day, 12 on days 11 and 12 (9.60 off: 40%); no SKU-2.
std::vector<std::string> Events() {
  std::vector<std::string> lines;
  for (int day = 1; day <= 14; ++day) {
    const bool promo = day == 11 || day == 12;
    lines.push_back(
        Line("S1", day, "SKU-1", promo ? "20" : "10", "2.00", promo ? "16.00" : "0.00"));
    lines.push_back(Line("S1", day, "SKU-2", promo ? "3" : "6", "1.20", "0.00"));
    lines.push_back(Line("S2", day, "SKU-1", promo ? "12" : "4", "2.00", promo ? "9.60" : "0.00"));
  }
  return lines;
}

struct Setup {
  TempDir dir;
  std::string rules;
  Setup() {
    rules = dir.Write("r.aisle", kRules);
    dir.Write("products.csv", kProducts);
    dir.Write("promos.csv", kPromos);
  }
};

std::vector<std::string> Messages(const aisle::testing::RunResult& r, const std::string& rule) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions)
    if (e.rule == rule) out.push_back(e.message);
  std::sort(out.begin(), out.end());  // stores and keys interleave in time order
  return out;
}

class JsonSink final : public aisle::engine::Sink {
 public:
  void Emit(const aisle::engine::Emission& e) override {
    lines.push_back(aisle::engine::ToJson(e));
  }
  bool Flush(std::string&) override { return true; }
  std::vector<std::string> lines;
};

// Every emission as a JSON line, sorted (shards interleave stores).
std::vector<std::string> RunSharded(const std::string& rules, const std::string& data, int shards,
                                    const std::vector<std::string>& lines) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  aisle::engine::EngineOptions options;
  options.rules = {rules};
  options.data_dir = data;
  options.shards = shards;
  auto opened = aisle::engine::Engine::Open(options, registry);
  REQUIRE(opened);
  JsonSink sink;
  (*opened)->AddSink(&sink);
  aisle::connectors::EventParser parser;
  aisle::engine::Event event;
  std::string reason;
  for (const auto& line : lines) {
    REQUIRE(parser.Parse(line, event, reason));
    (*opened)->Push(event);
  }
  REQUIRE((*opened)->Finish(true).ok());
  REQUIRE((*opened)->shards() == shards);
  std::sort(sink.lines.begin(), sink.lines.end());
  return sink.lines;
}

}  // namespace

TEST_CASE("promo_lift() against a flat baseline: a promotion that doubles units is +100%",
          "[engine][stateful][promo]") {
  Setup s;
  auto r = RunLines(s.rules, s.dir / "state", Events(), /*final=*/true);
  REQUIRE(r.error.empty());
  // S1 SKU-1: days 1-10 sell 10, so the naive baseline is 10 once 8 days are known. Day 11 is a
  // promotion (16.00 / 40.00 = 40% off): 20 units, lift 20 / 10 - 1 = 100%, +10 units; erosion
  // 10 x (0.90 - 0.10) = 8.00, gained 10 x 0.10 = 1.00, net 1.00 - 8.00 = -7.00. Day 11 feeds the
  // baseline 10, not 20, so day 12 has the same baseline and the same figures. Days 13-14: none.
  // S2 SKU-1: baseline 4, 12 sold: lift 200%, +8; erosion 4 x 0.80 = 3.20, gained 8 x 0.10 =
  // 0.80, net -2.40. S1 SKU-2 is never on promotion (no discount): nothing.
  CHECK(Messages(r, "lift") ==
        std::vector<std::string>{
            "S1 SKU-1 03-11: 20 units, baseline 10.0, lift 100%, +10.0, erosion 8.00 USD, gained "
            "1.00 USD, net -7.00 USD",
            "S1 SKU-1 03-12: 20 units, baseline 10.0, lift 100%, +10.0, erosion 8.00 USD, gained "
            "1.00 USD, net -7.00 USD",
            "S2 SKU-1 03-11: 12 units, baseline 4.0, lift 200%, +8.0, erosion 3.20 USD, gained "
            "0.80 USD, net -2.40 USD",
            "S2 SKU-1 03-12: 12 units, baseline 4.0, lift 200%, +8.0, erosion 3.20 USD, gained "
            "0.80 USD, net -2.40 USD",
        });
}

TEST_CASE("promo_lift() on the category's other SKUs shows cannibalisation",
          "[engine][stateful][promo]") {
  Setup s;
  auto r = RunLines(s.rules, s.dir / "state", Events(), /*final=*/true);
  REQUIRE(r.error.empty());
  // dairy at S1, SKUs not on the plan (SKU-2): 6 a day, baseline 6; on days 11 and 12 SKU-1's
  // 40% discount flags the promotion and SKU-2 sells 3: 3 / 6 - 1 = -50%, 3 units short. S2 sells
  // no SKU-2, so its category has no record of other SKUs.
  CHECK(Messages(r, "cannibalisation") ==
        std::vector<std::string>{
            "dairy at S1 03-11: other SKUs 3, baseline 6 (-50%, -3 units)",
            "dairy at S1 03-12: other SKUs 3, baseline 6 (-50%, -3 units)",
        });
}

TEST_CASE("promo_lift() state survives restarts: split runs equal one run",
          "[engine][stateful][promo]") {
  Setup s;
  const auto lines = Events();
  auto whole = RunLines(s.rules, s.dir / "whole", lines, true);
  REQUIRE(whole.error.empty());
  REQUIRE(whole.emissions.size() == 6);
  // Cuts before the baseline is known, inside the promotion, and between its two days.
  for (size_t split : {5, 24, 31, 33, 36}) {
    INFO("split after line " << split);
    auto parts =
        aisle::testing::RunSplit(s.rules, s.dir / fmt::format("split{}", split), lines, split);
    REQUIRE(parts.error.empty());
    CHECK(Messages(parts, "lift") == Messages(whole, "lift"));
    CHECK(Messages(parts, "cannibalisation") == Messages(whole, "cannibalisation"));
  }
  auto many = aisle::testing::RunParts(s.rules, s.dir / "parts", lines, {7, 19, 30, 32, 34}, 2);
  REQUIRE(many.error.empty());
  CHECK(Messages(many, "lift") == Messages(whole, "lift"));
}

TEST_CASE("promo_lift() gives the same emissions on one shard and on several",
          "[engine][stateful][promo][shards]") {
  Setup s;
  const auto lines = Events();
  const auto one = RunSharded(s.rules, s.dir / "one", 1, lines);
  REQUIRE(one.size() == 6);
  for (int shards : {2, 3}) {
    INFO("shards: " << shards);
    const auto many = RunSharded(s.rules, s.dir / fmt::format("n{}", shards), shards, lines);
    CHECK(many.size() == one.size());
    for (size_t i = 0; i < std::min(many.size(), one.size()); ++i) CHECK(many[i] == one[i]);
  }
}

TEST_CASE("margin() summed over a window's line items is the window's true margin",
          "[engine][promo][margin]") {
  TempDir dir;
  dir.Write("products.csv", kProducts);
  auto rules = dir.Write("r.aisle", R"(
table products from "products.csv" key sku types unit_cost = money

metric sku_margin = line_item
  | key store, sku
  | window tumbling 1d
  | agg revenue = sum(price * qty - coalesce(discount, price * 0)),
        margin = sum(margin(price, lookup(products, sku).unit_cost, qty, discount)),
        spelled = sum(price * qty - coalesce(discount, price * 0) - lookup(products, sku).unit_cost * qty)
  | select store, sku, revenue, margin, spelled, pct = margin_pct(revenue, revenue - margin)

rule report on sku_margin
  when true
  emit task to "finance" message "{sku}: revenue {revenue:money}, margin {margin:money} = {spelled:money}, {pct:.2%}"
)");
  // Day 1 at S1, SKU-1 (cost 1.10): 3 at 2.00 with 0.50 off (net 5.50, cost 3.30, margin 2.20),
  // 1 at 2.00 (net 2.00, cost 1.10, margin 0.90), a return of 1 at 2.00 (net -2.00, cost -1.10,
  // margin -0.90). Revenue 5.50, margin 2.20, 2.20 / 5.50 = 40.00%.
  // SKU-2 (cost 0.60): 2.5 at 1.20 = 3.00, cost 1.50, margin 1.50; 1 at 1.20 without a
  // discount field: 1.20, cost 0.60, margin 0.60. Revenue 4.20, margin 2.10, 50.00%.
  std::vector<std::string> lines = {
      Line("S1", 1, "SKU-1", "3", "2.00", "0.50"),
      Line("S1", 1, "SKU-1", "1", "2.00", "0.00"),
      Line("S1", 1, "SKU-1", "-1", "2.00", "0.00"),
      Line("S1", 1, "SKU-2", "2.5", "1.20", "0.00"),
      // No discount field: a null discount, which is none.
      R"({"type":"line_item","id":"nd","store":"S1","ts":"2025-03-01T13:00:00Z","source":"file","currency":"USD","order":"o-nd","line":1,"sku":"SKU-2","qty":1,"price":"1.20"})",
  };
  auto r = RunLines(rules, dir / "state", lines, true);
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(Messages(r, "report") == std::vector<std::string>{
                                     "SKU-1: revenue 5.50 USD, margin 2.20 USD = 2.20 USD, 40.00%",
                                     "SKU-2: revenue 4.20 USD, margin 2.10 USD = 2.10 USD, 50.00%",
                                 });
}
