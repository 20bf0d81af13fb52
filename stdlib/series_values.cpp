#include "stdlib/series_values.hpp"

#include <cmath>

#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;

std::optional<double> AsNumber(const Value& v) {
  switch (v.type) {
    case Type::kInt: return static_cast<double>(v.i);
    case Type::kMoney: return static_cast<double>(v.i) / static_cast<double>(dsl::kMoneyScale);
    case Type::kDecimal:
    case Type::kPercent: return std::isfinite(v.d) ? std::optional<double>(v.d) : std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<double> PlainNumber(const Value& v) {
  switch (v.type) {
    case Type::kInt: return static_cast<double>(v.i);
    case Type::kDecimal:
    case Type::kPercent: return v.d;
    default: return std::nullopt;
  }
}

std::optional<double> DaysOf(const Value& v) {
  if (v.type == Type::kDuration)
    return static_cast<double>(v.i) / static_cast<double>(dsl::kMicrosPerDay);
  if (v.type == Type::kPercent) return std::nullopt;
  return PlainNumber(v);
}

Value InUnits(double y, const Value& like) {
  if (!std::isfinite(y)) return Value::Null();
  if (like.type != Type::kMoney) return Value::Decimal(y);
  return Value::Money(std::llround(y * static_cast<double>(dsl::kMoneyScale)), like.currency);
}

std::vector<int> SeasonsInWindows(int64_t season, int64_t window) {
  std::vector<int> out;
  if (window <= 0) return out;
  const int64_t day = dsl::kMicrosPerDay;
  if (window < day && day % window == 0 && season > day && season % day == 0)
    out.push_back(static_cast<int>(day / window));
  if (season % window == 0 && season / window >= 2 && season / window <= 100'000)
    out.push_back(static_cast<int>(season / window));
  return out;
}

}  // namespace aisle::stdlib
