// The replenishment scalar functions of the language: reorder_point, safety_stock, eoq,
// days_of_cover, stockout_eta, case_pack. Pure and null-safe: a null argument, or one that makes
// no sense (negative demand, a service level outside (0, 1), two currencies), gives null. The
// formulas live in replenishment.cpp; this file only converts values and checks types.

#include <optional>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/replenishment.hpp"
#include "stdlib/series_values.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;
using engine::FunctionDescriptor;

namespace {

// ------------------------------------------------------------------ values at run time



// A service level: a percent (95%) or the fraction as a decimal (0.95).
std::optional<double> Fraction(const Value& v) {
  if (v.type == Type::kPercent || v.type == Type::kDecimal) return v.d;
  return std::nullopt;
}

Value DecimalOrNull(std::optional<double> x) {
  return x ? Value::Decimal(*x) : Value::Null();
}

// ------------------------------------------------------------------ types at check time

bool NumberType(Type t) {
  return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent || t == Type::kNull;
}
bool LeadType(Type t) {
  return t == Type::kDuration || t == Type::kInt || t == Type::kDecimal || t == Type::kNull;
}
bool ServiceType(Type t) {
  return t == Type::kPercent || t == Type::kDecimal || t == Type::kNull;
}

// ------------------------------------------------------------------ the functions

// reorder_point(daily_demand, error_sd, lead, service, lead_sd = 0)
Value ReorderPointFn(std::span<const Value> a) {
  auto d = PlainNumber(a[0]);
  auto sd = PlainNumber(a[1]);
  auto lead = DaysOf(a[2]);
  auto csl = Fraction(a[3]);
  auto lead_sd = DaysOf(a[4]);
  if (!d || !sd || !lead || !csl || !lead_sd) return Value::Null();
  return DecimalOrNull(ReorderPoint(*d, *sd, *lead, *csl, *lead_sd));
}
Type ReorderPointType(std::span<const Type> a, std::string_view& error) {
  if (!LeadType(a[2]) || !LeadType(a[4]))
    error = "reorder_point: a lead time is a duration (7d) or a number of days";
  else if (!ServiceType(a[3]))
    error = "reorder_point: the service level is a percent (95%) or a fraction (0.95)";
  return Type::kDecimal;
}

// safety_stock(error_sd, lead, service, lead_sd = 0, daily_demand = 0)
Value SafetyStockFn(std::span<const Value> a) {
  auto sd = PlainNumber(a[0]);
  auto lead = DaysOf(a[1]);
  auto csl = Fraction(a[2]);
  auto lead_sd = DaysOf(a[3]);
  auto d = PlainNumber(a[4]);
  if (!sd || !lead || !csl || !lead_sd || !d) return Value::Null();
  return DecimalOrNull(SafetyStock(*sd, *lead, *csl, *lead_sd, *d));
}
Type SafetyStockType(std::span<const Type> a, std::string_view& error) {
  if (!LeadType(a[1]) || !LeadType(a[3]))
    error = "safety_stock: a lead time is a duration (7d) or a number of days";
  else if (!ServiceType(a[2]))
    error = "safety_stock: the service level is a percent (95%) or a fraction (0.95)";
  return Type::kDecimal;
}

// eoq(annual_demand, order_cost, holding_cost, unit_cost = null): holding_cost is money per unit
// and year, or a yearly percent of unit_cost.
Value EoqFn(std::span<const Value> a) {
  auto demand = PlainNumber(a[0]);
  const Value& order = a[1];
  const Value& holding = a[2];
  if (!demand || order.type != Type::kMoney) return Value::Null();
  if (holding.type == Type::kMoney) {
    if (holding.currency != order.currency) return Value::Null();
    return DecimalOrNull(EconomicOrderQuantity(*demand, order.i, holding.i));
  }
  const Value& unit = a[3];
  if (holding.type != Type::kPercent || unit.type != Type::kMoney ||
      unit.currency != order.currency)
    return Value::Null();
  return DecimalOrNull(EconomicOrderQuantityAtRate(*demand, order.i, holding.d, unit.i));
}
Type EoqType(std::span<const Type> a, std::string_view& error) {
  if (a[2] == Type::kPercent) {
    if (a[3] != Type::kMoney)
      error =
          "eoq: a holding cost given as a percent needs the unit cost (money) as its 4th argument";
  } else if (a[2] != Type::kMoney && a[2] != Type::kNull) {
    error =
        "eoq: the holding cost is money per unit and year, or a yearly percent of the unit cost";
  }
  return Type::kDecimal;
}

// days_of_cover(on_hand, daily_demand)
Value DaysOfCoverFn(std::span<const Value> a) {
  auto on_hand = PlainNumber(a[0]);
  auto d = PlainNumber(a[1]);
  if (!on_hand || !d) return Value::Null();
  return DecimalOrNull(DaysOfCover(*on_hand, *d));
}
Type DecimalType(std::span<const Type>, std::string_view&) {
  return Type::kDecimal;
}

// stockout_eta(on_hand, daily_demand, now)
Value StockoutEtaFn(std::span<const Value> a) {
  auto on_hand = PlainNumber(a[0]);
  auto d = PlainNumber(a[1]);
  if (!on_hand || !d || a[2].type != Type::kTimestamp) return Value::Null();
  auto eta = StockoutEta(*on_hand, *d, a[2].i);
  return eta ? Value::Timestamp(*eta) : Value::Null();
}
Type TimestampType(std::span<const Type>, std::string_view&) {
  return Type::kTimestamp;
}

// case_pack(quantity, pack)
Value CasePackFn(std::span<const Value> a) {
  auto qty = PlainNumber(a[0]);
  if (!qty || a[1].type != Type::kInt) return Value::Null();
  auto units = RoundUpToCasePack(*qty, a[1].i);
  return units ? Value::Int(*units) : Value::Null();
}
Type IntType(std::span<const Type> a, std::string_view& error) {
  if (!NumberType(a[0])) error = "case_pack: the quantity is a number";
  return Type::kInt;
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

}  // namespace

void RegisterReplenishment(engine::OperatorRegistry& registry) {
  registry.Register(
      Scalar("reorder_point",
             {Required("daily_demand", Type::kDecimal), Required("error_sd", Type::kDecimal),
              Required("lead", Type::kAny), Required("service", Type::kAny),
              Optional("lead_sd", Type::kAny, Value::Int(0))},
             ReorderPointFn, ReorderPointType,
             "units at which to reorder: d*L + z(service) * sqrt(L*error_sd^2 + "
             "d^2*lead_sd^2)"));
  registry.Register(
      Scalar("safety_stock",
             {Required("error_sd", Type::kDecimal), Required("lead", Type::kAny),
              Required("service", Type::kAny), Optional("lead_sd", Type::kAny, Value::Int(0)),
              Optional("daily_demand", Type::kDecimal, Value::Int(0))},
             SafetyStockFn, SafetyStockType,
             "units held against forecast error over the lead time: z(service) * "
             "sqrt(L*error_sd^2 + d^2*lead_sd^2)"));
  registry.Register(Scalar(
      "eoq",
      {Required("annual_demand", Type::kDecimal), Required("order_cost", Type::kMoney),
       Required("holding_cost", Type::kAny), Optional("unit_cost", Type::kMoney, Value::Null())},
      EoqFn, EoqType, "economic order quantity sqrt(2*D*S/H), in units (a decimal)"));
  registry.Register(
      Scalar("days_of_cover",
             {Required("on_hand", Type::kDecimal), Required("daily_demand", Type::kDecimal)},
             DaysOfCoverFn, DecimalType,
             "days the stock on hand lasts at the daily demand; null without demand"));
  registry.Register(
      Scalar("stockout_eta",
             {Required("on_hand", Type::kDecimal), Required("daily_demand", Type::kDecimal),
              Required("now", Type::kTimestamp)},
             StockoutEtaFn, TimestampType,
             "when the stock on hand runs out at the daily demand; null without demand"));
  registry.Register(
      Scalar("case_pack", {Required("quantity", Type::kDecimal), Required("pack", Type::kInt)},
             CasePackFn, IntType, "the quantity rounded up to a whole number of packs"));
}

}  // namespace aisle::stdlib
