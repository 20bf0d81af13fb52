// Margin, promotions and markdowns against hand-derived references (the worked examples of
// docs/operators.md, "Margin and promotions"): each row prints Aisle's figure beside the value
// worked out by hand. Promotion lift runs through the language's promo_lift operator, fed a flat
// series of 10 units a day that a promotion doubles for two days.

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "eval.hpp"
#include "stdlib/margin.hpp"
#include "stdlib/stdlib.hpp"

namespace {

using aisle::dsl::Value;
namespace st = aisle::stdlib;

std::string Money(std::optional<int64_t> units) {
  return units ? aisle::dsl::FormatUnits(*units, 4) : "null";
}
std::string Pct(std::optional<double> x) {
  return x ? fmt::format("{:.2f}%", *x * 100) : "null";
}

void Margins() {
  const char* source = "hand-derived (docs/operators.md)";
  auto a = st::LineMarginOf(24'900, 11'000, int64_t{3}, 5'000);
  aisle::eval::PrintRow("margin", "3 x 2.49 - 0.50 off, cost 1.10",
                        Money(a ? std::optional(a->margin) : std::nullopt), "3.6700 (6.97 - 3.30)",
                        source);
  aisle::eval::PrintRow("margin_pct", "same line", Pct(a ? st::MarginFraction(*a) : std::nullopt),
                        "52.65% (3.67 / 6.97)", source);
  auto w = st::LineMarginOf(129'900, 72'000, 0.375, 0);
  aisle::eval::PrintRow("margin", "0.375 kg x 12.99, cost 7.20",
                        Money(w ? std::optional(w->margin) : std::nullopt),
                        "2.1712 (4.87125 -> 4.8712 half even, - 2.70)", source);
}

void Promotion() {
  aisle::engine::OperatorRegistry registry;
  st::RegisterPromoLift(registry);
  std::vector<Value> constants = {
      Value::Null(),          Value::Null(), Value::Duration(aisle::dsl::kMicrosPerDay),
      Value::String("naive"), Value::Null(), Value::Null()};
  auto op = registry.Get(registry.Find("promo_lift")).stateful(constants);
  auto state = op->NewState();
  const auto usd = aisle::dsl::PackCurrency("USD");
  Value details[5];
  Value lift;
  for (int day = 0; day < 12; ++day) {
    const bool promo = day == 10 || day == 11;
    std::vector<Value> args = {
        Value::Int(promo ? 20 : 10), Value::Bool(promo),      Value::Null(), Value::Null(),
        Value::Money(9'000, usd),    Value::Money(1'000, usd)};
    for (Value& d : details) d = Value::Null();
    lift = op->Apply(*state, args, {day * aisle::dsl::kMicrosPerDay, aisle::dsl::kMicrosPerDay},
                     details);
  }
  const char* source = "hand-derived: baseline 10, 20 sold, m0 0.90, m1 0.10";
  aisle::eval::PrintRow("promo_lift", "lift, 2nd promotion day",
                        lift.is_null() ? "null" : Pct(lift.d), "100.00% (20 / 10 - 1)", source);
  auto money = [](const Value& v) { return v.is_null() ? std::string("null") : Money(v.i); };
  aisle::eval::PrintRow("promo_lift", "margin_erosion", money(details[2]), "8.0000 (10 x 0.80)",
                        source);
  aisle::eval::PrintRow("promo_lift", "incremental_margin", money(details[3]), "1.0000 (10 x 0.10)",
                        source);
  aisle::eval::PrintRow("promo_lift", "net_margin", money(details[4]), "-7.0000 (1.00 - 8.00)",
                        source);
}

void Markdowns() {
  const char* source = "hand-derived: 1 - u^(1/e), e = -2.62 (Bijmolt et al. 2005)";
  aisle::eval::PrintRow("markdown_pct", "240 on hand, 2 a day, 120 days old",
                        Pct(st::MarkdownDepth(120, 2, 240)), "23.25% (1 - 2^(-1/2.62))", source);
  aisle::eval::PrintRow("markdown_pct", "1,000 on hand, 1 a day",
                        Pct(st::MarkdownDepth(120, 1, 1000)), "50.00% (65.83% capped)", source);
  aisle::eval::PrintRow("markdown_pct", "240 on hand, 2 a day, 60 days old",
                        Pct(st::MarkdownDepth(60, 2, 240)), "0.00% (too young)", source);
}

}  // namespace

int main() {
  Margins();
  Promotion();
  Markdowns();
  return 0;
}
