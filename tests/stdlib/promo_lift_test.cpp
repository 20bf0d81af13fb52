// promo_lift(): the lift of promotion windows over a baseline learned from the others, on
// hand-built series whose baselines are known exactly (naive and seasonal naive forecasts).

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

using aisle::dsl::kMicrosPerDay;
using aisle::dsl::Type;
using aisle::dsl::Value;

namespace {

constexpr int64_t kDay = kMicrosPerDay;

Value Usd(int64_t units) {
  return Value::Money(units, aisle::dsl::PackCurrency("USD"));
}

struct Lift {
  aisle::engine::OperatorRegistry registry;
  std::unique_ptr<aisle::engine::StatefulOperator> op;
  std::unique_ptr<aisle::engine::OperatorState> state;
  Value details[5];  // baseline, incremental, margin_erosion, incremental_margin, net_margin

  Lift(int64_t season, const char* method) {
    aisle::stdlib::RegisterPromoLift(registry);
    std::vector<Value> args = {Value::Null(),         Value::Null(), Value::Duration(season),
                               Value::String(method), Value::Null(), Value::Null()};
    op = registry.Get(registry.Find("promo_lift")).stateful(args);
    state = op->NewState();
  }
  Value Feed(Value x, Value promo, int64_t day, Value margin = Value::Null(),
             Value promo_margin = Value::Null()) {
    std::vector<Value> args = {x, promo, Value::Null(), Value::Null(), margin, promo_margin};
    for (Value& d : details) d = Value::Null();
    return op->Apply(*state, args, {day * kDay, kDay}, details);
  }
  Value Feed(double x, bool promo, int64_t day) {
    return Feed(Value::Decimal(x), Value::Bool(promo), day);
  }
  // Save and load the state, as a restart does.
  void Restart() {
    std::string saved;
    state->Save(saved);
    state = op->NewState();
    REQUIRE(state->Load(saved));
  }
};

}  // namespace

TEST_CASE("promo_lift: promotion windows are measured, not learned", "[stdlib][promo]") {
  // No season (1d on daily windows): a baseline once 8 windows are known; naive forecast.
  Lift l(kDay, "naive");
  for (int day = 0; day < 8; ++day) CHECK(l.Feed(10, false, day).is_null());
  // Day 8: 25 sold on promotion against 10: +150%, 15 incremental.
  Value v = l.Feed(25, true, 8);
  REQUIRE(v.type == Type::kPercent);
  CHECK(v.d == Approx(1.5));
  CHECK(l.details[0].d == 10.0);
  CHECK(l.details[1].d == 15.0);
  CHECK(l.details[2].is_null());  // no margins given
  // Day 9: the baseline is still 10 (day 8 taught 10, the stand-in, not 25): 5 sold, -50%.
  l.Restart();
  CHECK(l.Feed(5, true, 9).d == Approx(-0.5));
  CHECK(l.details[0].d == 10.0);
  // Day 10, no promotion, 12 sold: null, but learned: day 11's baseline is 12, 18 sold: +50%.
  CHECK(l.Feed(12, false, 10).is_null());
  CHECK(l.Feed(18, true, 11).d == Approx(0.5));
  // A correction of day 11 (fired again) is neither measured nor learned.
  CHECK(l.Feed(100, true, 11).is_null());
  // A null flag counts as a promotion for learning and gives null: day 12 teaches 12, not 40.
  CHECK(l.Feed(Value::Decimal(40), Value::Null(), 12).is_null());
  CHECK(l.Feed(24, true, 13).d == Approx(1.0));
  CHECK(l.details[0].d == 12.0);
  // Day 15 fires, day 14 never did (nothing sold): day 14 counts as 0, a regular window, so the
  // baseline is 0 and the lift has no base: null, but the baseline and incremental are given.
  CHECK(l.Feed(6, true, 15).is_null());
  CHECK(l.details[0].d == 0.0);
  CHECK(l.details[1].d == 6.0);
}

TEST_CASE("promo_lift: a weekly baseline and the margin details", "[stdlib][promo]") {
  // Daily windows, season 1w: seasonal naive is the same weekday a week before; a baseline once
  // two weeks (14 windows) are known. Weekday d sells 10 + 5 * d.
  Lift l(7 * kDay, "seasonal_naive");
  for (int day = 0; day < 14; ++day) CHECK(l.Feed(10 + 5 * (day % 7), false, day).is_null());
  // Day 16 (weekday 2, baseline 20) on promotion sells 30: +50%; regular margin 1.50, promoted
  // 0.75 a unit. Erosion 20 x 0.75 = 15.00; incremental margin 10 x 0.75 = 7.50; net -7.50.
  CHECK(l.Feed(Value::Int(20), Value::Bool(false), 14).is_null());  // weekday 0: 10 + 10 extra
  CHECK(l.Feed(15, false, 15).is_null());
  Value v = l.Feed(Value::Int(30), Value::Bool(true), 16, Usd(15'000), Usd(7'500));
  CHECK(v.d == Approx(0.5));
  CHECK(l.details[0].d == 20.0);
  CHECK(l.details[2].type == Type::kMoney);
  CHECK(l.details[2].i == 150'000);
  CHECK(l.details[3].i == 75'000);
  CHECK(l.details[4].i == -75'000);
  // Two currencies: no margin details, the lift still. Day 23 (weekday 2): a week before was the
  // promotion, which taught its baseline 20, so the baseline is 20 again: 40 sold, +100%.
  for (int day = 17; day < 23; ++day) l.Feed(10 + 5 * (day % 7), false, day);
  v = l.Feed(Value::Int(40), Value::Bool(true), 23, Usd(15'000),
             Value::Money(7'500, aisle::dsl::PackCurrency("EUR")));
  CHECK(v.d == Approx(1.0));
  CHECK(l.details[0].d == 20.0);
  CHECK(l.details[2].is_null());
}

TEST_CASE("promo_lift of money keeps the baseline in money", "[stdlib][promo]") {
  Lift l(kDay, "naive");
  for (int day = 0; day < 8; ++day) l.Feed(Usd(1'000'000), Value::Bool(false), day);  // 100.00
  Value v = l.Feed(Usd(1'250'000), Value::Bool(true), 8);  // 125.00: +25%
  CHECK(v.d == Approx(0.25));
  CHECK(l.details[0].type == Type::kMoney);
  CHECK(l.details[0].i == 1'000'000);
  CHECK(l.details[1].i == 250'000);
}

TEST_CASE("promo_lift checks its argument types", "[stdlib][promo]") {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterPromoLift(registry);
  const auto& spec = registry.Get(registry.Find("promo_lift")).spec;
  auto error = [&](std::vector<Type> types) {
    std::string_view why;
    spec.result(types, why);
    return std::string(why);
  };
  const Type d = Type::kDuration, s = Type::kString, m = Type::kMoney, n = Type::kNull;
  CHECK(error({Type::kDecimal, Type::kBool, d, s, m, m}) == "");
  CHECK(error({m, Type::kBool, d, s, n, n}) == "");  // revenue: fine without margins
  CHECK(error({Type::kString, Type::kBool, d, s, n, n}) != "");
  CHECK(error({m, Type::kBool, d, s, m, m}) != "");  // margins per unit on revenue
}
