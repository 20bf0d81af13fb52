// Replenishment core and its scalar functions: textbook cases worked by hand (in the comments),
// case packs and exact money, null and nonsense inputs, the checker's type rules, and a rule on
// the inventory stream run through a real engine. The service-level simulation is in
// replenishment_sim_test.cpp.
//
// Standard normal quantiles used below (tables; also Python's statistics.NormalDist().inv_cdf):
// z(0.90) = 1.2815516, z(0.95) = 1.6448536, z(0.98) = 2.0537489.

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "dsl/time.hpp"
#include "engine/compile.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/replenishment.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::dsl::Type;
using aisle::dsl::Value;
namespace rp = aisle::stdlib;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// 2025-03-14T10:00:00Z in microseconds since the epoch (20161 days after 1970-01-01, + 10 h).
constexpr int64_t kMarch14At10 = (20161LL * 24 + 10) * 3600 * 1'000'000;

struct Functions {
  aisle::engine::OperatorRegistry registry;
  Functions() { rp::RegisterReplenishment(registry); }
  Value Call(std::string_view name, std::vector<Value> args) const {
    const int f = registry.Find(name);
    REQUIRE(f >= 0);
    const auto& d = registry.Get(f);
    // Missing optional arguments take their fallbacks, as the checker binds them.
    for (size_t i = args.size(); i < d.spec.params.size(); ++i)
      args.push_back(d.spec.params[i].fallback);
    return d.scalar(args);
  }
  // The checker's result-type rule: the error text, empty when the types fit.
  std::string TypeError(std::string_view name, std::vector<Type> types) const {
    const auto& spec = registry.Get(registry.Find(name)).spec;
    for (size_t i = types.size(); i < spec.params.size(); ++i)
      types.push_back(spec.params[i].fallback.type);
    std::string_view why;
    spec.result(types, why);
    return std::string(why);
  }
};

Value Usd(int64_t units) {
  return Value::Money(units, aisle::dsl::PackCurrency("USD"));
}

}  // namespace

// ------------------------------------------------------------------ the core

TEST_CASE("safety stock and reorder point: d 20, sigma_e 5, L 9 days, 95 percent",
          "[replenishment]") {
  // sigma_LTD = sqrt(L * sigma_e^2) = sqrt(9 * 25) = 15; SS = 1.6448536 * 15 = 24.672804;
  // ROP = d * L + SS = 180 + 24.672804 = 204.672804.
  auto ltd = rp::LeadTimeDemandOf(20, 5, 9);
  REQUIRE(ltd);
  CHECK(ltd->mean == 180.0);
  CHECK(ltd->sd == 15.0);
  CHECK(*rp::ServiceFactor(0.95) == Approx(1.6448536).epsilon(1e-7));
  CHECK(*rp::SafetyStock(5, 9, 0.95) == Approx(24.672804).epsilon(1e-7));
  CHECK(*rp::ReorderPoint(20, 5, 9, 0.95) == Approx(204.672804).epsilon(1e-8));
}

TEST_CASE("Chopra and Meindl: safety inventory for a 90 percent cycle service level",
          "[replenishment]") {
  // Weekly demand 2,500 boxes, sd 500, lead time 2 weeks (periods are weeks here):
  // sigma_L = sqrt(2) * 500 = 707.107; ss = 1.2815516 * 707.107 = 906.19; ROP = 5,000 + 906.19.
  CHECK(*rp::SafetyStock(500, 2, 0.90) == Approx(906.194).epsilon(1e-5));
  CHECK(*rp::ReorderPoint(2500, 500, 2, 0.90) == Approx(5906.194).epsilon(1e-6));
  // With lead-time uncertainty: daily demand 2,500, sd 500, L 7 days, s_L 7 days:
  // sigma_L = sqrt(7 * 500^2 + 2500^2 * 7^2) = sqrt(1,750,000 + 306,250,000) = 17,549.93;
  // ss = 1.2815516 * 17,549.93 = 22,491.1 (the text's figure: 22,491).
  auto ltd = rp::LeadTimeDemandOf(2500, 500, 7, 7);
  REQUIRE(ltd);
  CHECK(ltd->sd == Approx(17549.93).epsilon(1e-6));
  CHECK(*rp::SafetyStock(500, 7, 0.90, 7, 2500) == Approx(22491.14).epsilon(1e-6));
}

TEST_CASE("service factors: quantiles of the standard normal, nothing outside (0, 1)",
          "[replenishment]") {
  CHECK(*rp::ServiceFactor(0.5) == Approx(0.0).margin(1e-12));
  CHECK(*rp::ServiceFactor(0.90) == Approx(1.2815516).epsilon(1e-7));
  CHECK(*rp::ServiceFactor(0.98) == Approx(2.0537489).epsilon(1e-7));
  // Below 50% the safety stock is negative, as in the texts: z(0.10) = -1.2815516.
  CHECK(*rp::SafetyStock(5, 9, 0.10) == Approx(-1.2815516 * 15).epsilon(1e-7));
  for (double bad : {0.0, 1.0, -0.2, 1.5, kNaN, kInf}) CHECK_FALSE(rp::ServiceFactor(bad));
  CHECK_FALSE(rp::ReorderPoint(-1, 5, 9, 0.95));
  CHECK_FALSE(rp::ReorderPoint(20, -5, 9, 0.95));
  CHECK_FALSE(rp::ReorderPoint(20, 5, kNaN, 0.95));
  CHECK_FALSE(rp::ReorderPoint(20, 5, 9, 0.95, -1));
  // A zero lead time needs no safety stock.
  CHECK(*rp::ReorderPoint(20, 5, 0, 0.95) == 0.0);
}

TEST_CASE("EOQ: sqrt(2DS/H), with H in money or as a rate of the unit cost", "[replenishment]") {
  // D 1,000 a year, S 10.00, H 2.50: sqrt(2 * 1000 * 10 / 2.5) = sqrt(8000) = 89.4427.
  CHECK(*rp::EconomicOrderQuantity(1000, 100'000, 25'000) == Approx(89.442719).epsilon(1e-8));
  // Chopra and Meindl's Best Buy case: D 12,000 a year, S 4,000, h 20% of C 500 (H = 100):
  // sqrt(2 * 12000 * 4000 / 100) = sqrt(960,000) = 979.80 (the text's 980).
  CHECK(*rp::EconomicOrderQuantityAtRate(12'000, 40'000'000, 0.20, 5'000'000) ==
        Approx(979.7959).epsilon(1e-7));
  CHECK(*rp::EconomicOrderQuantity(12'000, 40'000'000, 1'000'000) ==
        Approx(979.7959).epsilon(1e-7));
  CHECK(*rp::EconomicOrderQuantity(0, 100'000, 25'000) == 0.0);
  CHECK_FALSE(rp::EconomicOrderQuantity(1000, 100'000, 0));
  CHECK_FALSE(rp::EconomicOrderQuantity(1000, -1, 25'000));
  CHECK_FALSE(rp::EconomicOrderQuantity(-5, 100'000, 25'000));
  CHECK_FALSE(rp::EconomicOrderQuantityAtRate(1000, 100'000, 0.0, 5'000'000));
  CHECK_FALSE(rp::EconomicOrderQuantityAtRate(1000, 100'000, 0.2, 0));
}

TEST_CASE("days of cover and the stockout time", "[replenishment]") {
  // 45 units at 6 a day last 7.5 days: from 2025-03-14 10:00 to 2025-03-21 22:00.
  CHECK(*rp::DaysOfCover(45, 6) == 7.5);
  auto eta = rp::StockoutEta(45, 6, kMarch14At10);
  REQUIRE(eta);
  CHECK(aisle::dsl::FormatTimestamp(*eta) == "2025-03-21T22:00:00Z");
  // Nothing on hand (or less: a phantom count) is out now.
  CHECK(*rp::DaysOfCover(0, 6) == 0.0);
  CHECK(*rp::DaysOfCover(-3, 6) == 0.0);
  CHECK(*rp::StockoutEta(-3, 6, kMarch14At10) == kMarch14At10);
  // No demand: never runs out, no value.
  CHECK_FALSE(rp::DaysOfCover(45, 0));
  CHECK_FALSE(rp::DaysOfCover(45, -1));
  CHECK_FALSE(rp::StockoutEta(45, 0, kMarch14At10));
  CHECK_FALSE(rp::DaysOfCover(kNaN, 6));
  // An instant past int64 is no value, not an overflow.
  CHECK_FALSE(rp::StockoutEta(1e300, 1e-300, kMarch14At10));
  CHECK_FALSE(rp::StockoutEta(1e6, 1e-6, INT64_MAX - 10));
}

TEST_CASE("case packs round up, and only when needed", "[replenishment]") {
  CHECK(*rp::RoundUpToCasePack(204.67, 12) == 216);  // 17.06 packs -> 18
  CHECK(*rp::RoundUpToCasePack(24, 12) == 24);
  CHECK(*rp::RoundUpToCasePack(2.4 * 10, 12) == 24);  // 24.000000000000004: still two packs
  CHECK(*rp::RoundUpToCasePack(24.001, 12) == 36);
  CHECK(*rp::RoundUpToCasePack(0.3, 1) == 1);
  CHECK(*rp::RoundUpToCasePack(0, 12) == 0);
  CHECK(*rp::RoundUpToCasePack(-5, 12) == 0);
  CHECK_FALSE(rp::RoundUpToCasePack(10, 0));
  CHECK_FALSE(rp::RoundUpToCasePack(10, -6));
  CHECK_FALSE(rp::RoundUpToCasePack(kNaN, 6));
  CHECK_FALSE(rp::RoundUpToCasePack(1e30, 6));
  CHECK(*rp::RoundUpToCasePack(9.0e18, 6) == 9'000'000'000'000'000'000);  // fits
  CHECK_FALSE(rp::RoundUpToCasePack(9.3e18, 6));  // 1.55e18 packs fit, their 9.3e18 units do not
}

TEST_CASE("a purchase-order draft: up to s + EOQ, case packs, exact money", "[replenishment]") {
  rp::PoDraftInput in;
  in.on_hand = 150;
  in.daily_demand = 20;
  in.error_sd = 5;
  in.lead_days = 9;
  in.service_level = 0.95;
  in.order_cost = 300'000;   // 30.00
  in.holding_cost = 25'000;  // 2.50 a unit-year
  in.unit_cost = 12'345;     // 1.2345
  in.currency = aisle::dsl::PackCurrency("USD");
  in.case_pack = 12;
  // s = 204.672804 (first case); D = 365 * 20 = 7,300: EOQ = sqrt(2 * 7300 * 30 / 2.5) =
  // sqrt(175,200) = 418.568991; up to s + Q = 623.241795; position 150 <= s, so order
  // 623.241795 - 150 = 473.241795 -> 39.44 packs -> 40 packs = 480 units;
  // total 480 * 1.2345 = 592.5600 = 5,925,600 units.
  auto draft = rp::DraftPurchaseOrder(in);
  REQUIRE(draft);
  CHECK(draft->quantity == 480);
  CHECK(draft->unit_cost == 12'345);
  CHECK(draft->total == 5'925'600);
  CHECK(draft->currency == aisle::dsl::PackCurrency("USD"));
  CHECK(draft->on_hand == 150.0);
  CHECK(draft->inventory_position == 150.0);
  CHECK(draft->lead_time_demand == 180.0);
  CHECK(draft->safety_stock == Approx(24.672804).epsilon(1e-7));
  CHECK(draft->reorder_point == Approx(204.672804).epsilon(1e-8));
  CHECK(draft->order_quantity == Approx(418.568991).epsilon(1e-8));
  CHECK(draft->order_up_to == Approx(623.241795).epsilon(1e-8));

  // 100 more on order: position 250 > s, no order.
  in.on_order = 100;
  draft = rp::DraftPurchaseOrder(in);
  REQUIRE(draft);
  CHECK(draft->quantity == 0);
  CHECK(draft->total == 0);
  CHECK(draft->inventory_position == 250.0);

  // 40 on order: position 190 <= s; 623.241795 - 190 = 433.24 -> 36.10 packs -> 37 = 444 units,
  // 444 * 1.2345 = 548.1180.
  in.on_order = 40;
  draft = rp::DraftPurchaseOrder(in);
  REQUIRE(draft);
  CHECK(draft->quantity == 444);
  CHECK(draft->total == 5'481'180);
}

TEST_CASE("a purchase-order draft refuses nonsense and an overflowing total", "[replenishment]") {
  rp::PoDraftInput in;
  in.daily_demand = 20;
  in.error_sd = 5;
  in.lead_days = 9;
  in.order_cost = 300'000;
  in.holding_cost = 25'000;
  in.unit_cost = 12'345;
  CHECK(rp::DraftPurchaseOrder(in));
  auto with = [&](auto change) {
    rp::PoDraftInput copy = in;
    change(copy);
    return rp::DraftPurchaseOrder(copy);
  };
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.case_pack = 0; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.service_level = 1.0; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.holding_cost = 0; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.unit_cost = -1; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.daily_demand = kNaN; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.on_hand = kInf; }));
  CHECK_FALSE(with([](rp::PoDraftInput& x) { x.on_order = -1; }));
  // 624 units (position 0: 623.24 -> 52 packs) at a unit cost near INT64_MAX / 100: the exact
  // product does not fit in int64.
  auto big = with([](rp::PoDraftInput& x) {
    x.unit_cost = INT64_MAX / 100;
    x.case_pack = 12;
  });
  REQUIRE_FALSE(big);
  CHECK(big.error().message == "the order total overflows");
  CHECK(*rp::MoneyTimes(12'345, 480) == 5'925'600);
  CHECK_FALSE(rp::MoneyTimes(INT64_MAX / 2, 3));
  CHECK_FALSE(rp::MoneyTimes(INT64_MIN, -1));
}

// ------------------------------------------------------------------ the language's functions

TEST_CASE("reorder_point and safety_stock take durations or days, percents or fractions",
          "[replenishment]") {
  Functions f;
  const Value lead = Value::Duration(9 * aisle::dsl::kMicrosPerDay);
  // The first case again: 204.672804 and 24.672804.
  for (const Value& l : {lead, Value::Int(9), Value::Decimal(9.0)})
    for (const Value& s : {Value::Percent(0.95), Value::Decimal(0.95)}) {
      Value rop = f.Call("reorder_point", {Value::Int(20), Value::Decimal(5), l, s});
      REQUIRE(rop.type == Type::kDecimal);
      CHECK(rop.d == Approx(204.672804).epsilon(1e-8));
      Value ss = f.Call("safety_stock", {Value::Decimal(5), l, s});
      REQUIRE(ss.type == Type::kDecimal);
      CHECK(ss.d == Approx(24.672804).epsilon(1e-7));
    }
  // 36 hours is 1.5 days: sigma_LTD = sqrt(9 * 25 + 20^2 * 1.5^2) = sqrt(1125) = 33.541020;
  // ROP = 180 + 1.6448536 * 33.541020 = 235.170068; safety stock alone 55.170068.
  const Value half_day_sd = Value::Duration(36 * aisle::dsl::kMicrosPerHour);
  CHECK(f.Call("reorder_point",
               {Value::Int(20), Value::Int(5), lead, Value::Percent(0.95), half_day_sd})
            .d == Approx(235.170068).epsilon(1e-8));
  CHECK(f.Call("safety_stock",
               {Value::Int(5), lead, Value::Percent(0.95), Value::Decimal(1.5), Value::Int(20)})
            .d == Approx(55.170068).epsilon(1e-7));
}

TEST_CASE("replenishment functions give null for null or nonsense, never a crash",
          "[replenishment]") {
  Functions f;
  const Value lead = Value::Int(9), svc = Value::Percent(0.95), null = Value::Null();
  CHECK(f.Call("reorder_point", {null, Value::Int(5), lead, svc}).is_null());
  CHECK(f.Call("reorder_point", {Value::Int(20), null, lead, svc}).is_null());
  CHECK(f.Call("reorder_point", {Value::Int(20), Value::Int(5), null, svc}).is_null());
  CHECK(f.Call("reorder_point", {Value::Int(20), Value::Int(5), lead, null}).is_null());
  CHECK(f.Call("reorder_point", {Value::Int(-20), Value::Int(5), lead, svc}).is_null());
  CHECK(f.Call("reorder_point", {Value::Int(20), Value::Int(5), lead, Value::Percent(1.5)})
            .is_null());
  CHECK(
      f.Call("reorder_point", {Value::Int(20), Value::Int(5), lead, Value::Decimal(95)}).is_null());
  CHECK(
      f.Call("reorder_point", {Value::Int(20), Value::Int(5), Value::Duration(-1), svc}).is_null());
  CHECK(f.Call("reorder_point", {Value::Decimal(kNaN), Value::Int(5), lead, svc}).is_null());
  CHECK(f.Call("safety_stock", {Value::Int(5), lead, Value::Percent(0.0)}).is_null());
  CHECK(f.Call("days_of_cover", {Value::Decimal(45), Value::Int(0)}).is_null());
  CHECK(f.Call("days_of_cover", {null, Value::Int(6)}).is_null());
  CHECK(f.Call("days_of_cover", {Value::Decimal(45), Value::Int(6)}).d == 7.5);
  CHECK(f.Call("stockout_eta", {Value::Decimal(45), Value::Int(6), null}).is_null());
  CHECK(f.Call("stockout_eta", {Value::Decimal(45), Value::Int(0), Value::Timestamp(kMarch14At10)})
            .is_null());
  Value eta =
      f.Call("stockout_eta", {Value::Decimal(45), Value::Int(6), Value::Timestamp(kMarch14At10)});
  REQUIRE(eta.type == Type::kTimestamp);
  CHECK(eta.i == kMarch14At10 + 7 * aisle::dsl::kMicrosPerDay + 12 * aisle::dsl::kMicrosPerHour);
  CHECK(f.Call("case_pack", {Value::Decimal(204.67), Value::Int(12)}).i == 216);
  CHECK(f.Call("case_pack", {Value::Decimal(204.67), Value::Int(0)}).is_null());
  CHECK(f.Call("case_pack", {null, Value::Int(12)}).is_null());
  CHECK(f.Call("case_pack", {Value::Decimal(5), null}).is_null());
}

TEST_CASE("eoq in the language: money costs, a holding rate, one currency", "[replenishment]") {
  Functions f;
  // 89.4427 and 979.80, as in the core's case.
  CHECK(f.Call("eoq", {Value::Int(1000), Usd(100'000), Usd(25'000)}).d ==
        Approx(89.442719).epsilon(1e-8));
  CHECK(f.Call("eoq", {Value::Int(12'000), Usd(40'000'000), Value::Percent(0.20), Usd(5'000'000)})
            .d == Approx(979.7959).epsilon(1e-7));
  const Value eur = Value::Money(25'000, aisle::dsl::PackCurrency("EUR"));
  CHECK(f.Call("eoq", {Value::Int(1000), Usd(100'000), eur}).is_null());
  CHECK(f.Call("eoq", {Value::Int(1000), Usd(100'000), Value::Percent(0.2), eur}).is_null());
  CHECK(f.Call("eoq", {Value::Int(1000), Usd(100'000), Value::Percent(0.2)}).is_null());
  CHECK(f.Call("eoq", {Value::Int(1000), Usd(100'000), Usd(0)}).is_null());
  CHECK(f.Call("eoq", {Value::Null(), Usd(100'000), Usd(25'000)}).is_null());
}

TEST_CASE("the checker's type rules for the replenishment functions", "[replenishment]") {
  Functions f;
  CHECK(f.TypeError("reorder_point",
                    {Type::kDecimal, Type::kDecimal, Type::kDuration, Type::kPercent})
            .empty());
  CHECK(f.TypeError("reorder_point", {Type::kInt, Type::kInt, Type::kInt, Type::kDecimal}).empty());
  CHECK(f.TypeError("reorder_point",
                    {Type::kDecimal, Type::kDecimal, Type::kString, Type::kPercent}) ==
        "reorder_point: a lead time is a duration (7d) or a number of days");
  CHECK(f.TypeError("reorder_point", {Type::kDecimal, Type::kDecimal, Type::kInt, Type::kMoney}) ==
        "reorder_point: the service level is a percent (95%) or a fraction (0.95)");
  CHECK(!f.TypeError("safety_stock", {Type::kDecimal, Type::kPercent, Type::kPercent}).empty());
  CHECK(f.TypeError("eoq", {Type::kInt, Type::kMoney, Type::kMoney}).empty());
  CHECK(f.TypeError("eoq", {Type::kInt, Type::kMoney, Type::kPercent, Type::kMoney}).empty());
  CHECK(!f.TypeError("eoq", {Type::kInt, Type::kMoney, Type::kPercent}).empty());
  CHECK(!f.TypeError("eoq", {Type::kInt, Type::kMoney, Type::kDecimal}).empty());

  // Through the real checker, with positions: wrong argument types are E020.
  aisle::engine::OperatorRegistry registry;
  rp::RegisterStdlib(registry);
  auto compile = [&](const std::string& condition) {
    return aisle::engine::CompileRuleText(
        "r.aisle", "rule r on inventory\n  when " + condition + "\n  emit task to \"buyers\"\n",
        registry);
  };
  CHECK(compile("on_hand <= reorder_point(20, 5.0, 9d, 95%)")->ok());
  CHECK(
      compile("days_of_cover(on_hand, 4) < 3.0 and stockout_eta(on_hand, 4, ts) < ts + 2d")->ok());
  CHECK(compile("case_pack(on_hand, 12) > 0")->ok());
  auto bad_lead = compile("on_hand <= reorder_point(20, 5.0, \"9 days\", 95%)");
  CHECK_FALSE(bad_lead->ok());
  CHECK(bad_lead->Render().find("error[E020]: reorder_point: a lead time is a duration") !=
        std::string::npos);
  auto bad_pack = compile("case_pack(on_hand, 1.5) > 0");
  CHECK_FALSE(bad_pack->ok());
  CHECK(bad_pack->Render().find("error[E020]: parameter 'pack' of 'case_pack' takes an int") !=
        std::string::npos);
  auto bad_cost = compile("eoq(1000, 10.00 USD, 2.5) > 10.0");
  CHECK_FALSE(bad_cost->ok());
  CHECK(bad_cost->Render().find("error[E020]: eoq: the holding cost is money") !=
        std::string::npos);
  CHECK_FALSE(compile("stockout_eta(on_hand, 4, 3) < ts")->ok());
}

// ------------------------------------------------------------------ through a real engine

namespace {

constexpr const char* kProducts =
    "sku,daily_demand,error_sd,lead_days,case_pack\n"
    "MUG,20,5,9,12\n"
    "TEE,4,2,4,6\n"
    "OLD,0,0,7,1\n";

constexpr const char* kRule = R"(
table products from "products.csv" key sku
  types daily_demand = decimal, error_sd = decimal, lead_days = int, case_pack = int

rule reorder on inventory
  let daily = lookup(products, sku).daily_demand
  let rop = reorder_point(daily, lookup(products, sku).error_sd, lookup(products, sku).lead_days, 95%)
  let cover = days_of_cover(on_hand, daily)
  let eta = stockout_eta(on_hand, daily, ts)
  let qty = case_pack(rop - on_hand, lookup(products, sku).case_pack)
  when on_hand <= rop
  emit task to "buyers"
    message "{store} {sku}: {on_hand:int} on hand, reorder point {rop:.2f}, {cover:.1f} days, out {eta:%Y-%m-%d %H:%M}, order {qty}"
)";

std::string Inventory(const std::string& id, const std::string& store, const std::string& ts,
                      const std::string& sku, int on_hand) {
  return fmt::format(
      R"({{"type":"inventory","id":"{}","store":"{}","ts":"{}","source":"file","sku":"{}","on_hand":{},"reason":"sale"}})",
      id, store, ts, sku, on_hand);
}

const std::vector<std::string>& InventoryEvents() {
  static const std::vector<std::string> events = {
      Inventory("1", "S1", "2025-03-14T09:00:00Z", "MUG", 250),  // above 204.67: quiet
      Inventory("2", "S1", "2025-03-14T10:00:00Z", "MUG", 200),
      Inventory("3", "S2", "2025-03-14T12:00:00Z", "TEE", 14),
      Inventory("4", "S2", "2025-03-14T13:00:00Z", "TEE", 30),  // above 22.58: quiet
      Inventory("5", "S1", "2025-03-14T14:00:00Z", "HAT", 0),   // not in the table: null, quiet
      Inventory("6", "S2", "2025-03-14T15:00:00Z", "OLD", 0),
  };
  return events;
}

// The messages, worked by hand:
//  MUG (d 20, sigma_e 5, L 9): s = 204.67 (first case). 200 on hand: 200 / 20 = 10.0 days, out
//    at 10:00 + 10 d = 2025-03-24 10:00; order case_pack(4.67, 12) = 12.
//  TEE (d 4, sigma_e 2, L 4): sigma_LTD = sqrt(4 * 4) = 4, s = 16 + 1.6448536 * 4 = 22.579414.
//    14 on hand: 14 / 4 = 3.5 days, out at 12:00 + 3.5 d = 2025-03-18 00:00;
//    order case_pack(8.58, 6) = 12.
//  OLD (no demand): s = 0, 0 on hand <= 0 fires; cover and stockout time are null; order
//    case_pack(0, 1) = 0.
const std::vector<std::string> kExpected = {
    "S1 MUG: 200 on hand, reorder point 204.67, 10.0 days, out 2025-03-24 10:00, order 12",
    "S2 TEE: 14 on hand, reorder point 22.58, 3.5 days, out 2025-03-18 00:00, order 12",
    "S2 OLD: 0 on hand, reorder point 0.00, null days, out null, order 0",
};

std::vector<std::string> RunMessages(const std::vector<std::string>& events) {
  aisle::testing::TempDir dir;
  dir.Write("products.csv", kProducts);
  auto rules = dir.Write("r.aisle", kRule);
  auto r = aisle::testing::RunLines(rules, dir / "state", events, /*final=*/true);
  INFO(r.error);
  REQUIRE(r.error.empty());
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.message);
  return out;
}

}  // namespace

TEST_CASE("a rule on the inventory stream uses reorder_point and days_of_cover",
          "[replenishment][engine]") {
  CHECK(RunMessages(InventoryEvents()) == kExpected);
}

TEST_CASE("replenishment rule: stores run apart or together, in any order, emit the same",
          "[replenishment][engine]") {
  // Parallelism invariance: per-store runs, and the whole input in shuffled orders, give the same
  // set of messages as one run in time order.
  std::vector<std::string> expected = kExpected;
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> apart;
  for (const std::string store : {"\"S1\"", "\"S2\""}) {
    std::vector<std::string> part;
    for (const auto& e : InventoryEvents())
      if (e.find("\"store\":" + store) != std::string::npos) part.push_back(e);
    auto m = RunMessages(part);
    apart.insert(apart.end(), m.begin(), m.end());
  }
  std::sort(apart.begin(), apart.end());
  CHECK(apart == expected);
  std::mt19937_64 rng(7);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> events = InventoryEvents();
    std::shuffle(events.begin(), events.end(), rng);
    auto m = RunMessages(events);
    std::sort(m.begin(), m.end());
    CHECK(m == expected);
  }
}
