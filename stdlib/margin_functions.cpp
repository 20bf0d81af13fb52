// The margin and markdown scalar functions of the language: margin, margin_pct,
// markdown_candidate, markdown_pct. Pure and null-safe: a null argument (but a null discount,
// which is no discount), two currencies, an overflow or an input that makes no sense gives null.
// The arithmetic lives in margin.cpp; this file only converts values and checks types.

#include <optional>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/margin.hpp"
#include "stdlib/series_values.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;
using engine::FunctionDescriptor;

namespace {

// ------------------------------------------------------------------ values at run time



// price, cost, qty, discount -> the line's figures; nullopt for nulls, two currencies, overflow.
std::optional<LineMargin> Line(std::span<const Value> a) {
  const Value& price = a[0];
  const Value& cost = a[1];
  const Value& qty = a[2];
  const Value& discount = a[3];
  if (price.type != Type::kMoney || cost.type != Type::kMoney || cost.currency != price.currency)
    return std::nullopt;
  int64_t off = 0;  // a null discount is no discount
  if (discount.type == Type::kMoney) {
    if (discount.currency != price.currency) return std::nullopt;
    off = discount.i;
  } else if (!discount.is_null()) {
    return std::nullopt;
  }
  if (qty.type == Type::kInt) return LineMarginOf(price.i, cost.i, qty.i, off);
  auto q = PlainNumber(qty);
  if (!q) return std::nullopt;
  return LineMarginOf(price.i, cost.i, *q, off);
}

std::optional<MarkdownRule> Rule(std::span<const Value> a) {
  MarkdownRule rule;
  auto cover = DaysOf(a[3]);
  auto age = DaysOf(a[4]);
  if (!cover || !age) return std::nullopt;
  rule.max_cover_days = *cover;
  rule.min_age_days = *age;
  return rule;
}

// ------------------------------------------------------------------ types at check time

bool NumberType(Type t) {
  return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent || t == Type::kNull;
}
bool DaysType(Type t) {
  return t == Type::kDuration || t == Type::kInt || t == Type::kDecimal || t == Type::kNull;
}

// ------------------------------------------------------------------ the functions

// margin(price, cost, qty = 1, discount = null)
Value MarginFn(std::span<const Value> a) {
  auto line = Line(a);
  return line ? Value::Money(line->margin, a[0].currency) : Value::Null();
}
Type MarginType(std::span<const Type> a, std::string_view& error) {
  if (!NumberType(a[2])) error = "margin: the quantity is a number";
  return Type::kMoney;
}

// margin_pct(price, cost, qty = 1, discount = null)
Value MarginPctFn(std::span<const Value> a) {
  auto line = Line(a);
  if (!line) return Value::Null();
  auto fraction = MarginFraction(*line);
  return fraction ? Value::Percent(*fraction) : Value::Null();
}
Type MarginPctType(std::span<const Type> a, std::string_view& error) {
  if (!NumberType(a[2])) error = "margin_pct: the quantity is a number";
  return Type::kPercent;
}

// markdown_candidate(age, velocity, on_hand, max_cover = 60d, min_age = 90d)
Value CandidateFn(std::span<const Value> a) {
  auto age = DaysOf(a[0]);
  auto velocity = PlainNumber(a[1]);
  auto on_hand = PlainNumber(a[2]);
  auto rule = Rule(a);
  if (!age || !velocity || !on_hand || !rule) return Value::Null();
  auto yes = IsMarkdownCandidate(*age, *velocity, *on_hand, *rule);
  return yes ? Value::Bool(*yes) : Value::Null();
}
Type CandidateType(std::span<const Type> a, std::string_view& error) {
  if (!DaysType(a[0]) || !DaysType(a[3]) || !DaysType(a[4]))
    error = "markdown_candidate: an age or a cover is a duration (90d) or a number of days";
  return Type::kBool;
}

// markdown_pct(age, velocity, on_hand, max_cover = 60d, min_age = 90d, elasticity = -2.62,
//              max_depth = 50%)
Value MarkdownPctFn(std::span<const Value> a) {
  auto age = DaysOf(a[0]);
  auto velocity = PlainNumber(a[1]);
  auto on_hand = PlainNumber(a[2]);
  auto rule = Rule(a);
  auto elasticity = PlainNumber(a[5]);
  if (!age || !velocity || !on_hand || !rule || !elasticity ||
      (a[6].type != Type::kPercent && a[6].type != Type::kDecimal))
    return Value::Null();
  rule->elasticity = *elasticity;
  rule->max_depth = a[6].d;
  auto depth = MarkdownDepth(*age, *velocity, *on_hand, *rule);
  return depth ? Value::Percent(*depth) : Value::Null();
}
Type MarkdownPctType(std::span<const Type> a, std::string_view& error) {
  if (!DaysType(a[0]) || !DaysType(a[3]) || !DaysType(a[4]))
    error = "markdown_pct: an age or a cover is a duration (90d) or a number of days";
  else if (a[6] != Type::kPercent && a[6] != Type::kDecimal && a[6] != Type::kNull)
    error = "markdown_pct: max_depth is a percent (50%) or a fraction (0.5)";
  return Type::kPercent;
}

FunctionDescriptor Scalar(std::string_view name, std::vector<dsl::ParamSpec> params,
                          engine::ScalarFn fn, dsl::ResultTypeFn result, std::string_view summary) {
  FunctionDescriptor d;
  d.spec.name = name;
  d.spec.kind = dsl::FunctionKind::kScalar;
  d.spec.params = std::move(params);
  d.spec.result = result;
  d.spec.summary = summary;
  d.scalar = fn;
  return d;
}

dsl::ParamSpec Required(std::string_view name, Type type) {
  return {name, type, true, Value::Null()};
}
dsl::ParamSpec Optional(std::string_view name, Type type, Value fallback) {
  return {name, type, false, fallback};
}

std::vector<dsl::ParamSpec> LineParams() {
  return {Required("price", Type::kMoney), Required("cost", Type::kMoney),
          Optional("qty", Type::kDecimal, Value::Int(1)),
          Optional("discount", Type::kMoney, Value::Null())};
}

std::vector<dsl::ParamSpec> MarkdownParams() {
  return {Required("age", Type::kAny), Required("velocity", Type::kDecimal),
          Required("on_hand", Type::kDecimal),
          Optional("max_cover", Type::kAny, Value::Duration(60 * dsl::kMicrosPerDay)),
          Optional("min_age", Type::kAny, Value::Duration(90 * dsl::kMicrosPerDay))};
}

}  // namespace

void RegisterMargin(engine::OperatorRegistry& registry) {
  registry.Register(Scalar("margin", LineParams(), MarginFn, MarginType,
                           "money earned: price*qty - discount - cost*qty, exact"));
  registry.Register(Scalar("margin_pct", LineParams(), MarginPctFn, MarginPctType,
                           "margin as a percent of net revenue price*qty - discount"));
  registry.Register(Scalar("markdown_candidate", MarkdownParams(), CandidateFn, CandidateType,
                           "stock on hand at least min_age old with more than max_cover of cover"));
  auto params = MarkdownParams();
  params.push_back(Optional("elasticity", Type::kDecimal, Value::Decimal(-2.62)));
  params.push_back(Optional("max_depth", Type::kAny, Value::Percent(0.5)));
  registry.Register(Scalar("markdown_pct", std::move(params), MarkdownPctFn, MarkdownPctType,
                           "the markdown that brings a slow mover's cover to max_cover"));
}

}  // namespace aisle::stdlib
