// Scalar functions: pure, value by value.

#include <cmath>

#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;
using engine::FunctionDescriptor;

namespace {

bool Numeric(Type t) {
  return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent || t == Type::kMoney ||
         t == Type::kDuration;
}

Value Abs(std::span<const Value> a) {
  Value v = a[0];
  if (v.type == Type::kDecimal || v.type == Type::kPercent) v.d = std::fabs(v.d);
  else if (v.type != Type::kNull && v.i != INT64_MIN) v.i = v.i < 0 ? -v.i : v.i;
  return v;
}
Type SameNumeric(std::span<const Type> a, std::string_view& error) {
  if (!Numeric(a[0]) && a[0] != Type::kNull) error = "abs needs a number, money or a duration";
  return a[0];
}

Value Round(std::span<const Value> a) {
  const Value& v = a[0];
  if (v.is_null() || a[1].is_null()) return Value::Null();
  int64_t digits = a[1].i < 0 ? 0 : (a[1].i > 9 ? 9 : a[1].i);
  double scale = std::pow(10.0, static_cast<double>(digits));
  double x = v.type == Type::kInt ? static_cast<double>(v.i) : v.d;
  return Value::Decimal(std::nearbyint(x * scale) / scale);  // ties to even (default FE mode)
}
Type DecimalOfNumber(std::span<const Type> a, std::string_view& error) {
  if (a[0] != Type::kInt && a[0] != Type::kDecimal && a[0] != Type::kPercent && a[0] != Type::kNull)
    error = "round needs a number";
  return Type::kDecimal;
}

Value IsNull(std::span<const Value> a) { return Value::Bool(a[0].is_null()); }
Type BoolType(std::span<const Type>, std::string_view&) { return Type::kBool; }

Value Coalesce(std::span<const Value> a) { return a[0].is_null() ? a[1] : a[0]; }
Type CoalesceType(std::span<const Type> a, std::string_view& error) {
  if (a[0] == Type::kNull) return a[1];
  if (a[1] != Type::kNull && a[1] != a[0] &&
      !(a[0] == Type::kDecimal && (a[1] == Type::kInt || a[1] == Type::kPercent)))
    error = "coalesce needs two values of the same type";
  return a[0];
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

}  // namespace

void RegisterScalars(engine::OperatorRegistry& registry) {
  registry.Register(Scalar("abs", {{"value", Type::kAny, true, Value::Null()}}, Abs, SameNumeric,
                           "absolute value"));
  registry.Register(Scalar("round",
                           {{"value", Type::kAny, true, Value::Null()},
                            {"digits", Type::kInt, false, Value::Int(0)}},
                           Round, DecimalOfNumber, "rounds half to even to `digits` decimals"));
  registry.Register(Scalar("is_null", {{"value", Type::kAny, true, Value::Null()}}, IsNull,
                           BoolType, "true when the value is missing"));
  registry.Register(Scalar("coalesce",
                           {{"value", Type::kAny, true, Value::Null()},
                            {"fallback", Type::kAny, true, Value::Null()}},
                           Coalesce, CoalesceType, "the value, or the fallback when it is null"));
}

}  // namespace aisle::stdlib
