// Margin, promotion margin and markdown arithmetic (stdlib/margin.hpp) and the language's margin,
// margin_pct, markdown_candidate and markdown_pct. Every expected value is worked out by hand in
// the comments beside it.

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "engine/registry/registry.hpp"
#include "stdlib/margin.hpp"
#include "stdlib/stdlib.hpp"

namespace st = aisle::stdlib;
using aisle::dsl::Type;
using aisle::dsl::Value;

namespace {

struct Functions {
  aisle::engine::OperatorRegistry registry;
  Functions() { st::RegisterMargin(registry); }
  Value Call(std::string_view name, std::vector<Value> args) const {
    const int f = registry.Find(name);
    REQUIRE(f >= 0);
    const auto& d = registry.Get(f);
    // Missing optional arguments take their fallbacks, as the checker binds them.
    for (size_t i = args.size(); i < d.spec.params.size(); ++i)
      args.push_back(d.spec.params[i].fallback);
    return d.scalar(args);
  }
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
Value Eur(int64_t units) {
  return Value::Money(units, aisle::dsl::PackCurrency("EUR"));
}
Value Days(int64_t d) {
  return Value::Duration(d * 86'400'000'000LL);
}

}  // namespace

TEST_CASE("a line's margin is net revenue less cost, exact to 1/10,000", "[stdlib][margin]") {
  // 3 x 2.49 = 7.47, less a 0.50 line discount = 6.97 net; cost 3 x 1.10 = 3.30; margin 3.67.
  auto m = st::LineMarginOf(24'900, 11'000, int64_t{3}, 5'000);
  REQUIRE(m);
  CHECK(m->net_revenue == 69'700);
  CHECK(m->cost == 33'000);
  CHECK(m->margin == 36'700);
  // 0.375 kg at 12.99 a kg: 129,900 x 0.375 = 48,712.5 units, half to even 48,712 (4.8712);
  // cost 72,000 x 0.375 = 27,000 (2.70); margin 21,712 (2.1712), 21,712 / 48,712 = 44.572%.
  auto w = st::LineMarginOf(129'900, 72'000, 0.375, 0);
  REQUIRE(w);
  CHECK(w->net_revenue == 48'712);
  CHECK(w->margin == 21'712);
  CHECK(*st::MarginFraction(*w) == Approx(0.445722).epsilon(1e-6));
  // A return of one unit: -2.49 + 1.10 = -1.39, and no margin percent of a negative revenue.
  auto r = st::LineMarginOf(24'900, 11'000, int64_t{-1}, 0);
  REQUIRE(r);
  CHECK(r->margin == -13'900);
  CHECK_FALSE(st::MarginFraction(*r));
}

TEST_CASE("margin arithmetic overflows to nothing", "[stdlib][margin]") {
  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  CHECK_FALSE(st::LineMarginOf(big, 0, int64_t{3}, 0));             // price x qty overflows
  CHECK_FALSE(st::LineMarginOf(1, 0, 2e9, 0));                      // a quantity beyond 1e9
  CHECK_FALSE(st::LineMarginOf(big + 1, -big - 1, int64_t{1}, 0));  // net - cost: 2^63
  CHECK_FALSE(st::LineMarginOf(std::numeric_limits<int64_t>::min(), 0, int64_t{1}, 1));
  CHECK_FALSE(st::PromoMarginOf(1, 1, std::numeric_limits<int64_t>::min(), 1));
}

TEST_CASE("margin() and margin_pct() in the language", "[stdlib][margin]") {
  Functions f;
  // margin(2.49, 1.10) = 1.39 USD; margin_pct = 1.39 / 2.49 = 55.823%.
  Value m = f.Call("margin", {Usd(24'900), Usd(11'000)});
  CHECK(m.type == Type::kMoney);
  CHECK(m.i == 13'900);
  CHECK(m.currency == aisle::dsl::PackCurrency("USD"));
  Value p = f.Call("margin_pct", {Usd(24'900), Usd(11'000)});
  CHECK(p.type == Type::kPercent);
  CHECK(p.d == Approx(0.558233).epsilon(1e-6));
  // margin(2.49, 1.10, 3, 0.50) = 3.67 (above); a decimal quantity: 0.375 kg, 2.1712.
  CHECK(f.Call("margin", {Usd(24'900), Usd(11'000), Value::Int(3), Usd(5'000)}).i == 36'700);
  CHECK(f.Call("margin", {Usd(129'900), Usd(72'000), Value::Decimal(0.375)}).i == 21'712);
  // A null discount is no discount.
  CHECK(f.Call("margin", {Usd(24'900), Usd(11'000), Value::Int(3), Value::Null()}).i == 41'700);
  // A discount of the whole line: net revenue 0, margin -1.00, no percent.
  CHECK(f.Call("margin", {Usd(20'000), Usd(10'000), Value::Int(1), Usd(20'000)}).i == -10'000);
  CHECK(f.Call("margin_pct", {Usd(20'000), Usd(10'000), Value::Int(1), Usd(20'000)}).is_null());
}

TEST_CASE("margin() is null-safe and refuses two currencies", "[stdlib][margin]") {
  Functions f;
  for (const char* name : {"margin", "margin_pct"}) {
    INFO(name);
    CHECK(f.Call(name, {Value::Null(), Usd(11'000)}).is_null());
    CHECK(f.Call(name, {Usd(24'900), Value::Null()}).is_null());
    CHECK(f.Call(name, {Usd(24'900), Usd(11'000), Value::Null()}).is_null());
    CHECK(f.Call(name, {Usd(24'900), Eur(11'000)}).is_null());
    CHECK(f.Call(name, {Usd(24'900), Usd(11'000), Value::Int(1), Eur(100)}).is_null());
    CHECK(
        f.Call(name, {Usd(std::numeric_limits<int64_t>::max()), Usd(0), Value::Int(2)}).is_null());
  }
  CHECK(f.TypeError("margin", {Type::kMoney, Type::kMoney, Type::kString}) != "");
  CHECK(f.TypeError("margin", {Type::kMoney, Type::kMoney, Type::kDecimal, Type::kMoney}) == "");
}

TEST_CASE("a promotion's margin: erosion on baseline units, gain on incremental ones",
          "[stdlib][margin][promo]") {
  // Baseline 10 units at a regular margin of 2.00, 20 units sold at a promoted margin of 1.20:
  // erosion 10 x (2.00 - 1.20) = 8.00; incremental margin (20 - 10) x 1.20 = 12.00; net +4.00,
  // which is 20 x 1.20 - 10 x 2.00 = 24.00 - 20.00.
  auto m = st::PromoMarginOf(20, 10, 20'000, 12'000);
  REQUIRE(m);
  CHECK(m->erosion == 80'000);
  CHECK(m->incremental_margin == 120'000);
  CHECK(m->net == 40'000);
  // Fractional baseline 7.5, 9 sold, margins 1.0000 and 0.3333: erosion 7.5 x 6,667 = 50,002.5 ->
  // 50,002 (half to even); incremental 1.5 x 3,333 = 4,999.5 -> 5,000; net 5,000 - 50,002.
  auto f = st::PromoMarginOf(9, 7.5, 10'000, 3'333);
  REQUIRE(f);
  CHECK(f->erosion == 50'002);
  CHECK(f->incremental_margin == 5'000);
  CHECK(f->net == -45'002);
  CHECK_FALSE(st::PromoMarginOf(9, -1, 10'000, 3'333));
  CHECK_FALSE(st::PromoMarginOf(std::nan(""), 1, 10'000, 3'333));
}

TEST_CASE("markdown candidates: old stock with more cover than the limit",
          "[stdlib][margin][markdown]") {
  // 240 on hand selling 2 a day: 120 days of cover, beyond 60; 120 days old, beyond 90.
  CHECK(*st::IsMarkdownCandidate(120, 2, 240) == true);
  CHECK(*st::IsMarkdownCandidate(60, 2, 240) == false);   // too young
  CHECK(*st::IsMarkdownCandidate(120, 2, 120) == false);  // exactly 60 days of cover
  CHECK(*st::IsMarkdownCandidate(120, 0, 10) == true);    // never sells
  CHECK(*st::IsMarkdownCandidate(120, 0, 0) == false);    // nothing on hand
  CHECK_FALSE(st::IsMarkdownCandidate(120, -1, 10));
  CHECK_FALSE(st::IsMarkdownCandidate(-1, 1, 10));
  // The depth for u = 120 / 60 = 2 with e = -2.62: 1 - 2^(-1/2.62) = 1 - e^(-0.693147/2.62)
  // = 1 - e^(-0.264560) = 1 - 0.767543 = 23.2457%.
  CHECK(*st::MarkdownDepth(120, 2, 240) == Approx(0.232457).epsilon(1e-5));
  CHECK(*st::MarkdownDepth(60, 2, 240) == 0.0);
  // 1,000 on hand at 1 a day: u = 16.67, 1 - 16.67^(-0.3817) = 65.8%, capped at 50%.
  CHECK(*st::MarkdownDepth(120, 1, 1000) == 0.5);
  CHECK(*st::MarkdownDepth(120, 0, 10) == 0.5);
  st::MarkdownRule bad;
  bad.elasticity = 0.5;
  CHECK_FALSE(st::MarkdownDepth(120, 2, 240, bad));
}

TEST_CASE("markdown_candidate() and markdown_pct() in the language", "[stdlib][margin][markdown]") {
  Functions f;
  Value yes = f.Call("markdown_candidate", {Days(120), Value::Decimal(2), Value::Int(240)});
  CHECK(yes.type == Type::kBool);
  CHECK(yes.b);
  // An age in days as a number; a cover limit of 150 days makes 120 days of cover fine.
  CHECK(f.Call("markdown_candidate", {Value::Int(120), Value::Decimal(2), Value::Int(240)}).b);
  CHECK_FALSE(
      f.Call("markdown_candidate", {Days(120), Value::Decimal(2), Value::Int(240), Days(150)}).b);
  // min_age 180d: too young.
  CHECK_FALSE(f.Call("markdown_candidate",
                     {Days(120), Value::Decimal(2), Value::Int(240), Days(60), Days(180)})
                  .b);
  Value pct = f.Call("markdown_pct", {Days(120), Value::Decimal(2), Value::Int(240)});
  CHECK(pct.type == Type::kPercent);
  CHECK(pct.d == Approx(0.232457).epsilon(1e-5));
  // Elasticity -1: the price must halve to double the rate, 1 - 2^-1 = 50%, under a 60% cap.
  CHECK(f.Call("markdown_pct", {Days(120), Value::Decimal(2), Value::Int(240), Days(60), Days(90),
                                Value::Decimal(-1), Value::Percent(0.6)})
            .d == Approx(0.5));
  CHECK(f.Call("markdown_pct", {Days(30), Value::Decimal(2), Value::Int(240)}).d == 0.0);
  CHECK(
      f.Call("markdown_candidate", {Value::Null(), Value::Decimal(2), Value::Int(240)}).is_null());
  CHECK(f.Call("markdown_pct", {Days(120), Value::Null(), Value::Int(240)}).is_null());
  CHECK(f.Call("markdown_pct", {Days(120), Value::Decimal(2), Value::Int(240), Days(60), Days(90),
                                Value::Decimal(2.0)})
            .is_null());
  CHECK(f.TypeError("markdown_candidate", {Type::kString, Type::kDecimal, Type::kInt}) != "");
  CHECK(f.TypeError("markdown_pct", {Type::kDuration, Type::kDecimal, Type::kInt}) == "");
}
