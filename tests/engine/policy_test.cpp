// Policies through a real engine (real RocksDB in a temp folder, a real stores table): a param
// overridden per district or store takes, for each event, the value of the event's store; a rule
// declared in a policy sees only the stores the policy covers. Every expected value is worked out
// by hand from the stores table and the events listed in the test.

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "engine/compile.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::TempDir;

namespace {

// Four stores in three districts; S4's district has no policy. S9, in events below, is in no row.
constexpr const char* kStores =
    "store,name,district,region,timezone,open_hours,currency\n"
    "S1,Main Street,north-east,east,America/New_York,Mon-Sun 09:00-21:00,USD\n"
    "S2,Harbour,north-east,east,America/New_York,Mon-Sun 09:00-21:00,USD\n"
    "S3,Riverside,south,south,America/Chicago,Mon-Sun 09:00-21:00,USD\n"
    "S4,Hilltop,west,west,America/Denver,Mon-Sun 09:00-21:00,USD\n";

std::string Sale(const std::string& id, const std::string& store, const std::string& ts,
                 const std::string& total) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"{}","source":"file","currency":"USD","total":"{}","status":"completed"}})",
      id, store, ts, total);
}

std::string LineItem(const std::string& id, const std::string& store, const std::string& ts,
                     const std::string& sku, const std::string& price, const std::string& qty,
                     const std::string& discount) {
  return fmt::format(
      R"({{"type":"line_item","id":"{}","store":"{}","ts":"{}","source":"file","currency":"USD","order":"o-{}","line":1,"sku":"{}","price":"{}","qty":{},"discount":"{}","staff":"E1"}})",
      id, store, ts, id, sku, price, qty, discount);
}

std::vector<std::string> Messages(const aisle::testing::RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.message);
  return out;
}

}  // namespace

TEST_CASE("a district override makes a rule fire for a store of that district only",
          "[engine][policy]") {
  TempDir dir;
  dir.Write("rules/stores.csv", kStores);
  auto rules = dir.Write("rules/lp.aisle", R"(
table stores from "stores.csv" key store
param max_disc_pct = 15%

policy district "north-east" {
  param max_disc_pct = 10%
}

rule discount_abuse on line_item
  let rate = discount / (price * qty)
  when rate > max_disc_pct
  emit task to "loss-prevention" message "{store} gave {rate:.0%} off {sku}"
)");
  // The same three lines at S1 (north-east: 10%) and S3 (south: the default, 15%). Each line is
  // 2 x 10.00 = 20.00 gross: 2.40 off is 12%, 1.00 off is 5%, 3.40 off is 17%.
  auto r = RunLines(rules, dir / "state",
                    {LineItem("a1", "S1", "2025-03-14T10:00:00Z", "K1", "10.00", "2", "2.40"),
                     LineItem("b1", "S3", "2025-03-14T10:00:00Z", "K1", "10.00", "2", "2.40"),
                     LineItem("a2", "S1", "2025-03-14T10:05:00Z", "K2", "10.00", "2", "1.00"),
                     LineItem("b2", "S3", "2025-03-14T10:05:00Z", "K2", "10.00", "2", "1.00"),
                     LineItem("a3", "S1", "2025-03-14T10:10:00Z", "K3", "10.00", "2", "3.40"),
                     LineItem("b3", "S3", "2025-03-14T10:10:00Z", "K3", "10.00", "2", "3.40")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // 12% is over S1's 10% but not over S3's 15%; 5% is over neither; 17% is over both.
  CHECK(Messages(r) ==
        std::vector<std::string>{"S1 gave 12% off K1", "S1 gave 17% off K3", "S3 gave 17% off K3"});
}

TEST_CASE("precedence: store over district over chain over default", "[engine][policy]") {
  TempDir dir;
  dir.Write("rules/stores.csv", kStores);
  auto rules = dir.Write("rules/p.aisle", R"(
table stores from "stores.csv" key store
param limit = 100
param floor = 5

policy chain {
  param limit = 90
}
policy district "north-east" {
  param limit = 50
}
policy district "south" {
  param limit = 70
  param floor = 7
}
policy store "S2" {
  param limit = 20
}
policy store "S3" {
  param limit = 30
}

rule show on sale
  let l = limit
  let f = floor
  when total >= 0.00 USD
  emit task to "ops" message "{store} limit {l} floor {f}"
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "1.00"),
                     Sale("b", "S2", "2025-03-14T10:01:00Z", "1.00"),
                     Sale("c", "S3", "2025-03-14T10:02:00Z", "1.00"),
                     Sale("d", "S4", "2025-03-14T10:03:00Z", "1.00"),
                     Sale("e", "S9", "2025-03-14T10:04:00Z", "1.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // limit: S1 is in north-east (50); S2 is in north-east but has its own (20); S3 is in south
  // (70) but has its own (30); S4's district "west" has no policy: the chain's 90; S9 is in no
  // row of the table: the chain's 90 too. floor has no chain override: 5 everywhere but the
  // south district's S3 (7).
  CHECK(Messages(r) == std::vector<std::string>{"S1 limit 50 floor 5", "S2 limit 20 floor 5",
                                                "S3 limit 30 floor 7", "S4 limit 90 floor 5",
                                                "S9 limit 90 floor 5"});
}

TEST_CASE("records without a store take the chain's value, else the default", "[engine][policy]") {
  TempDir dir;
  dir.Write("rules/stores.csv", kStores);
  auto rules = dir.Write("rules/n.aisle", R"(
table stores from "stores.csv" key store
param limit = 100
param floor = 5

policy chain {
  param limit = 90
}
policy district "north-east" {
  param limit = 50
  param floor = 1
}

metric chain_hourly = sale
  | key status
  | window tumbling 1h
  | agg n = count()

rule show on chain_hourly
  let l = limit
  let f = floor
  when n >= 1
  emit task to "ops" message "{status} limit {l} floor {f}"
)");
  // Both sales are at north-east stores, but the metric is keyed by status: its records have no
  // store (W011), so they take the chain's limit (90) and, with no chain override, the default
  // floor (5), not the district's 50 and 1.
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "1.00"),
                     Sale("b", "S2", "2025-03-14T10:01:00Z", "1.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{"completed limit 90 floor 5"});
}

TEST_CASE("a rule declared in a policy sees only the stores the policy covers",
          "[engine][policy]") {
  TempDir dir;
  dir.Write("rules/stores.csv", kStores);
  auto rules = dir.Write("rules/s.aisle", R"(
table stores from "stores.csv" key store

policy chain {
  rule everywhere on sale
    when total > 0.00 USD
    emit task to "ops" message "chain {store}"
}
policy district "north-east" {
  rule north_east on sale
    when total > 0.00 USD
    emit task to "ops" message "district {store}"
}
policy store "S3" {
  rule riverside on sale
    when total > 0.00 USD
    emit task to "ops" message "store {store}"
}
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "1.00"),
                     Sale("b", "S2", "2025-03-14T10:01:00Z", "1.00"),
                     Sale("c", "S3", "2025-03-14T10:02:00Z", "1.00"),
                     Sale("d", "S4", "2025-03-14T10:03:00Z", "1.00"),
                     Sale("e", "S9", "2025-03-14T10:04:00Z", "1.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // Per event, the rules in source order: the chain rule for all five, the north-east rule for
  // S1 and S2, the S3 rule for S3; S4 and S9 (in no row) only get the chain's.
  CHECK(Messages(r) == std::vector<std::string>{"chain S1", "district S1", "chain S2",
                                                "district S2", "chain S3", "store S3", "chain S4",
                                                "chain S9"});
}

TEST_CASE("params vary by store in a metric's filter and in a rule on the metric",
          "[engine][policy]") {
  TempDir dir;
  dir.Write("rules/stores.csv", kStores);
  auto rules = dir.Write("rules/m.aisle", R"(
table stores from "stores.csv" key store
param big = 50.00 USD
param minimum = 2

policy district "south" {
  param big = 10.00 USD
}
policy store "S1" {
  param minimum = 1
}

metric big_sales = sale
  | where total > big
  | key store
  | window tumbling 1h
  | agg n = count()

rule many_big_sales on big_sales
  when n >= minimum
  emit alert to "ops" message "{store} {n}"
)");
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:00:00Z", "20.00"),
                     Sale("b", "S1", "2025-03-14T10:01:00Z", "60.00"),
                     Sale("c", "S3", "2025-03-14T10:02:00Z", "20.00"),
                     Sale("d", "S3", "2025-03-14T10:03:00Z", "60.00"),
                     Sale("e", "S4", "2025-03-14T10:04:00Z", "60.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // big: 50.00 for S1 and S4, 10.00 for S3 (south). So S1 counts 60.00 only (n = 1), S3 both
  // (n = 2), S4 its 60.00 (n = 1). minimum: 1 for S1, else 2. S1 (1 >= 1) and S3 (2 >= 2) fire;
  // S4 (1 < 2) does not. Groups fire in key order.
  CHECK(Messages(r) == std::vector<std::string>{"S1 1", "S3 2"});
}

TEST_CASE("an override changes the fingerprints of the operators that use the param, only",
          "[engine][policy]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  auto compile = [&](const std::string& south) {
    const std::string text = R"(
table stores from "stores.csv" key store
param big = 50.00 USD
)" + south + R"(
metric big_sales = sale | where total > big | key store | window tumbling 1h | agg n = count()
metric all_sales = sale | key store | window tumbling 1h | agg n = count()
rule busy on all_sales when n > 100 emit alert to "ops"
)";
    auto compiled = aisle::engine::CompileRuleText("rules/f.aisle", text, registry, dir / "tables");
    INFO(compiled->Render());
    REQUIRE(compiled->ok());
    std::map<std::string, uint64_t> out;
    for (const auto& m : compiled->plan.metrics) out[m.name] = m.fingerprint;
    for (const auto& rule : compiled->plan.rules) out[rule.name] = rule.fingerprint;
    return out;
  };
  const auto none = compile("");
  const auto ten = compile("policy district \"south\" { param big = 10.00 USD }");
  const auto ten_again = compile("policy district \"south\" { param big = 10.00 USD }");
  const auto twenty = compile("policy district \"south\" { param big = 20.00 USD }");
  const auto store = compile("policy store \"S3\" { param big = 10.00 USD }");
  REQUIRE(none.size() == 3);
  CHECK(ten == ten_again);
  CHECK(none.at("big_sales") != ten.at("big_sales"));
  CHECK(ten.at("big_sales") != twenty.at("big_sales"));
  CHECK(ten.at("big_sales") != store.at("big_sales"));  // the same value, for another scope
  // Operators that do not use the param keep their state.
  CHECK(none.at("all_sales") == ten.at("all_sales"));
  CHECK(none.at("busy") == ten.at("busy"));
  CHECK(ten.at("all_sales") == twenty.at("all_sales"));
}

TEST_CASE("a rule's fingerprint names the policy it is declared in", "[engine][policy]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  auto fingerprint = [&](const std::string& header) {
    const std::string text = "table stores from \"stores.csv\" key store\n" + header +
                             "\n  rule r on sale when total > 1.00 USD emit alert to \"ops\"\n}\n";
    auto compiled = aisle::engine::CompileRuleText("rules/f.aisle", text, registry, dir / "tables");
    INFO(compiled->Render());
    REQUIRE(compiled->ok());
    return compiled->plan.rules.at(0).fingerprint;
  };
  const uint64_t north = fingerprint("policy district \"north-east\" {");
  CHECK(north == fingerprint("policy district \"north-east\" {"));
  CHECK(north != fingerprint("policy district \"south\" {"));
  CHECK(north != fingerprint("policy store \"S1\" {"));
  CHECK(north != fingerprint("policy chain {"));
}
