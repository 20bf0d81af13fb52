// Aggregates against hand-computed values, through the registry as the engine uses them.

#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/value.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

using aisle::dsl::Type;
using aisle::dsl::Value;

namespace {

const aisle::dsl::Currency kUsd = aisle::dsl::PackCurrency("USD");

// Folds `values` with the named aggregate and returns its result.
Value Fold(const char* name, const std::vector<Value>& values, Type arg) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterAggregates(registry);
  const auto& impl = registry.Get(registry.Find(name)).aggregate;
  std::vector<unsigned char> state(impl.state_size + 8);
  impl.init(state.data());
  for (const Value& v : values) impl.add(state.data(), v);
  Value out = impl.result(state.data(), arg, kUsd);
  // A saved state restores to the same result.
  std::string saved;
  if (impl.save) impl.save(state.data(), saved);
  else saved.assign(reinterpret_cast<const char*>(state.data()), impl.state_size);
  std::vector<unsigned char> copy(impl.state_size + 8);
  impl.init(copy.data());
  if (impl.load) REQUIRE(impl.load(copy.data(), saved));
  else std::memcpy(copy.data(), saved.data(), saved.size());
  Value again = impl.result(copy.data(), arg, kUsd);
  CHECK(again.type == out.type);
  CHECK(again.i == out.i);
  if (impl.destroy) {
    impl.destroy(state.data());
    impl.destroy(copy.data());
  }
  return out;
}

Value Usd(int64_t units) { return Value::Money(units, kUsd); }

}  // namespace

TEST_CASE("sum", "[stdlib][aggregate]") {
  CHECK(Fold("sum", {Usd(165000), Usd(240000), Value::Null(), Usd(-33000)}, Type::kMoney).i ==
        372000);  // 16.50 + 24.00 - 3.30 = 37.20
  CHECK(Fold("sum", {Value::Int(2), Value::Int(3)}, Type::kInt).i == 5);
  CHECK(Fold("sum", {Value::Decimal(0.5), Value::Decimal(0.25)}, Type::kDecimal).d == 0.75);
  CHECK(Fold("sum", {}, Type::kMoney).is_null());  // no rows: null, not zero
  CHECK(Fold("sum", {Usd(INT64_MAX), Usd(1)}, Type::kMoney).is_null());  // overflow
}

TEST_CASE("count", "[stdlib][aggregate]") {
  CHECK(Fold("count", {Value::Bool(true), Value::Bool(true), Value::Bool(true)}, Type::kNull).i == 3);
  CHECK(Fold("count", {Value::Int(1), Value::Null(), Value::Int(1)}, Type::kInt).i == 2);
  CHECK(Fold("count", {}, Type::kNull).i == 0);
}

TEST_CASE("avg of money rounds half to even at 1/10,000", "[stdlib][aggregate]") {
  // (10.00 + 20.00 + 5.00) / 3 = 11.666666... -> 11.6667
  CHECK(Fold("avg", {Usd(100000), Usd(200000), Usd(50000)}, Type::kMoney).i == 116667);
  // (0.0001 + 0.0002) / 2 = 0.00015 -> tie -> 0.0002 (even)
  CHECK(Fold("avg", {Usd(1), Usd(2)}, Type::kMoney).i == 2);
  // (0.0001 + 0.0004) / 2 = 0.00025 -> tie -> 0.0002 (even)
  CHECK(Fold("avg", {Usd(1), Usd(4)}, Type::kMoney).i == 2);
  Value ints = Fold("avg", {Value::Int(1), Value::Int(2)}, Type::kInt);
  CHECK(ints.type == Type::kDecimal);
  CHECK(ints.d == 1.5);
}

TEST_CASE("min and max", "[stdlib][aggregate]") {
  CHECK(Fold("min", {Usd(500), Usd(-20), Usd(7)}, Type::kMoney).i == -20);
  CHECK(Fold("max", {Usd(500), Usd(-20), Usd(7)}, Type::kMoney).i == 500);
  CHECK(Fold("max", {Value::Decimal(0.5), Value::Decimal(2.25)}, Type::kDecimal).d == 2.25);
  CHECK(Fold("min", {}, Type::kInt).is_null());
}

TEST_CASE("count_distinct", "[stdlib][aggregate]") {
  CHECK(Fold("count_distinct",
             {Value::String("c1"), Value::String("c2"), Value::String("c1"), Value::Null()},
             Type::kString)
            .i == 2);
  // The same digits in another type are another value.
  CHECK(Fold("count_distinct", {Value::Int(1), Value::Decimal(1.0)}, Type::kAny).i == 2);
}
