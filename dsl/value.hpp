#pragma once
// Values of the Aisle language and of canonical events: a small tagged union, cheap to copy.

#include <cstdint>
#include <string_view>

namespace aisle::dsl {

// The value types of the language (LANGUAGE.md). kAny is used only by function signatures.
enum class Type : uint8_t {
  kNull,
  kBool,
  kInt,
  kDecimal,
  kMoney,
  kString,
  kTimestamp,
  kDuration,
  kPercent,
  kAny,
};

std::string_view TypeName(Type type);

// A currency as its three ASCII letters packed into 24 bits ("USD"); 0 is "no currency".
using Currency = uint32_t;
Currency PackCurrency(std::string_view code);  // returns 0 unless three letters A-Z
// Writes the three letters into out[0..2]; returns a view of them.
std::string_view CurrencyCode(Currency currency, char (&out)[4]);

// Money is int64 in 1/10,000 of the currency's major unit (INTERFACES.md).
inline constexpr int64_t kMoneyScale = 10'000;

// A value. Strings do not own their bytes: they point into an event's arena or into the plan's
// constants, which outlive every evaluation that sees them.
struct Value {
  Type type = Type::kNull;
  Currency currency = 0;  // kMoney only
  uint32_t size = 0;      // kString only: byte length
  union {
    bool b;
    int64_t i;  // kInt, kMoney (1/10,000 units), kTimestamp (us since epoch), kDuration (us)
    double d;   // kDecimal, kPercent (as a fraction: 15% is 0.15)
    const char* s;
  };

  Value() : i(0) {}
  static Value Null() { return Value(); }
  static Value Bool(bool v) { Value r; r.type = Type::kBool; r.b = v; return r; }
  static Value Int(int64_t v) { Value r; r.type = Type::kInt; r.i = v; return r; }
  static Value Decimal(double v) { Value r; r.type = Type::kDecimal; r.d = v; return r; }
  static Value Percent(double v) { Value r; r.type = Type::kPercent; r.d = v; return r; }
  static Value Money(int64_t units, Currency c) {
    Value r; r.type = Type::kMoney; r.i = units; r.currency = c; return r;
  }
  static Value Timestamp(int64_t us) { Value r; r.type = Type::kTimestamp; r.i = us; return r; }
  static Value Duration(int64_t us) { Value r; r.type = Type::kDuration; r.i = us; return r; }
  static Value String(std::string_view v) {
    Value r; r.type = Type::kString; r.s = v.data(); r.size = static_cast<uint32_t>(v.size());
    return r;
  }

  bool is_null() const { return type == Type::kNull; }
  std::string_view str() const { return {s, size}; }
};

}  // namespace aisle::dsl
