// Value arithmetic and comparison: exact money, half-even rounding, null semantics.

#include <catch2/catch.hpp>

#include "dsl/value.hpp"
#include "engine/runtime/evaluator.hpp"
#include "engine/runtime/key_codec.hpp"

using aisle::dsl::PackCurrency;
using aisle::dsl::Type;
using aisle::dsl::Value;
using aisle::engine::Arithmetic;
using aisle::engine::Compare;
using aisle::engine::MoneyTimes;
using B = aisle::dsl::ast::BinaryOp;

namespace {
const aisle::dsl::Currency kUsd = PackCurrency("USD");
const aisle::dsl::Currency kEur = PackCurrency("EUR");
Value Usd(int64_t units) { return Value::Money(units, kUsd); }
}  // namespace

TEST_CASE("money times a factor rounds half to even at 1/10,000", "[engine][money]") {
  // 16.50 x 0.9 = 14.85 exactly.
  CHECK(MoneyTimes(Usd(165000), 0.9).i == 148500);
  // 0.0001 x 0.5 = 0.00005 -> tie -> even (0).
  CHECK(MoneyTimes(Usd(1), 0.5).i == 0);
  // 0.0003 x 0.5 = 0.00015 -> tie -> even (2).
  CHECK(MoneyTimes(Usd(3), 0.5).i == 2);
  // 2.5 kg at 3.99 = 9.975 exactly.
  CHECK(MoneyTimes(Usd(39900), 2.5).i == 99750);
  CHECK(MoneyTimes(Usd(39900), 2.5).currency == kUsd);
}

TEST_CASE("money arithmetic keeps currencies apart", "[engine][money]") {
  CHECK(Arithmetic(B::kAdd, Usd(10000), Usd(2500), Type::kMoney).i == 12500);
  CHECK(Arithmetic(B::kAdd, Usd(10000), Value::Money(1, kEur), Type::kMoney).is_null());
  CHECK(Arithmetic(B::kMul, Usd(10000), Value::Int(3), Type::kMoney).i == 30000);
  // 10.00 / 3 = 3.33333... -> 3.3333
  CHECK(Arithmetic(B::kDiv, Usd(100000), Value::Int(3), Type::kMoney).i == 33333);
  // 5.00 / 2.00 = 2.5 (a plain decimal)
  Value ratio = Arithmetic(B::kDiv, Usd(50000), Usd(20000), Type::kDecimal);
  CHECK(ratio.type == Type::kDecimal);
  CHECK(ratio.d == 2.5);
  CHECK(Arithmetic(B::kDiv, Usd(50000), Usd(0), Type::kDecimal).is_null());
  CHECK(Arithmetic(B::kDiv, Usd(50000), Value::Int(0), Type::kMoney).is_null());
}

TEST_CASE("integer overflow gives null, not a wrapped value", "[engine][null]") {
  CHECK(Arithmetic(B::kAdd, Value::Int(INT64_MAX), Value::Int(1), Type::kInt).is_null());
  CHECK(Arithmetic(B::kMul, Usd(INT64_MAX / 2), Value::Int(3), Type::kMoney).is_null());
}

TEST_CASE("comparisons", "[engine][compare]") {
  CHECK(Compare(Value::Int(3), Value::Decimal(2.5)) == 1);
  CHECK(Compare(Value::Percent(0.15), Value::Decimal(0.2)) == -1);
  CHECK(Compare(Usd(1), Usd(1)) == 0);
  CHECK(Compare(Usd(1), Value::Money(1, kEur)) == 2);  // not comparable
  CHECK(Compare(Value::Null(), Value::Int(1)) == 2);
  CHECK(Compare(Value::String("a"), Value::String("b")) == -1);
}

TEST_CASE("group keys round-trip and sort like their values", "[engine][state]") {
  std::string a, b;
  aisle::engine::EncodeValue(Value::String("S1"), a);
  aisle::engine::EncodeValue(Value::Int(-5), a);
  aisle::engine::EncodeValue(Usd(12345), a);
  std::vector<Value> decoded;
  REQUIRE(aisle::engine::DecodeValues(a, decoded));
  REQUIRE(decoded.size() == 3);
  CHECK(decoded[0].str() == "S1");
  CHECK(decoded[1].i == -5);
  CHECK(decoded[2].i == 12345);
  CHECK(decoded[2].currency == kUsd);
  // Negative integers sort before positive ones bytewise.
  std::string neg, pos;
  aisle::engine::EncodeValue(Value::Int(-1), neg);
  aisle::engine::EncodeValue(Value::Int(1), pos);
  CHECK(neg < pos);
  std::vector<Value> bad;
  CHECK_FALSE(aisle::engine::DecodeValues(std::string("\x05\x00\x00", 3), bad));
}
