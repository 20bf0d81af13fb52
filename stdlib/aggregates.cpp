// Aggregates: sum, count, avg, min, max, count_distinct. Money stays exact (int64 units);
// averages of money round half to even to 1/10,000.

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include <xxhash.h>

#include "dsl/money.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/key_codec.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;
using engine::AggregateImpl;
using engine::FunctionDescriptor;

namespace {

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent; }
bool IsExact(Type t) {
  return t == Type::kInt || t == Type::kMoney || t == Type::kTimestamp || t == Type::kDuration;
}

// ---- sum / avg: exact integer part for int and money, double for decimals.
struct SumState {
  int64_t exact;
  double real;
  int64_t n;
  int64_t overflow;
};

void SumInit(void* s) { std::memset(s, 0, sizeof(SumState)); }
void SumAdd(void* p, const Value& v) {
  auto* s = static_cast<SumState*>(p);
  if (v.is_null()) return;
  if (v.type == Type::kInt || v.type == Type::kMoney) {
    if (__builtin_add_overflow(s->exact, v.i, &s->exact)) s->overflow = 1;
  } else if (v.type == Type::kDecimal || v.type == Type::kPercent) {
    s->real += v.d;
  } else {
    return;
  }
  ++s->n;
}
Value SumResult(const void* p, Type arg, dsl::Currency currency) {
  const auto* s = static_cast<const SumState*>(p);
  if (s->n == 0 || s->overflow) return Value::Null();
  if (arg == Type::kMoney) return Value::Money(s->exact, currency);
  if (arg == Type::kInt) return Value::Int(s->exact);
  return Value::Decimal(s->real);
}
Value AvgResult(const void* p, Type arg, dsl::Currency currency) {
  const auto* s = static_cast<const SumState*>(p);
  if (s->n == 0 || s->overflow) return Value::Null();
  if (arg == Type::kMoney) return Value::Money(dsl::DivRoundHalfEven(s->exact, s->n), currency);
  if (arg == Type::kInt) return Value::Decimal(static_cast<double>(s->exact) / static_cast<double>(s->n));
  return Value::Decimal(s->real / static_cast<double>(s->n));
}

// ---- count
void CountInit(void* s) { std::memset(s, 0, sizeof(int64_t)); }
void CountAdd(void* p, const Value& v) {
  if (!v.is_null()) ++*static_cast<int64_t*>(p);
}
Value CountResult(const void* p, Type, dsl::Currency) { return Value::Int(*static_cast<const int64_t*>(p)); }

// ---- min / max
struct ExtremeState {
  int64_t exact;
  double real;
  int64_t any;
};
template <bool kMax>
void ExtremeAdd(void* p, const Value& v) {
  auto* s = static_cast<ExtremeState*>(p);
  if (v.is_null()) return;
  if (IsExact(v.type)) {
    if (!s->any || (kMax ? v.i > s->exact : v.i < s->exact)) s->exact = v.i;
  } else if (v.type == Type::kDecimal || v.type == Type::kPercent) {
    if (!s->any || (kMax ? v.d > s->real : v.d < s->real)) s->real = v.d;
  } else {
    return;
  }
  s->any = 1;
}
void ExtremeInit(void* s) { std::memset(s, 0, sizeof(ExtremeState)); }
Value ExtremeResult(const void* p, Type arg, dsl::Currency currency) {
  const auto* s = static_cast<const ExtremeState*>(p);
  if (!s->any) return Value::Null();
  switch (arg) {
    case Type::kMoney: return Value::Money(s->exact, currency);
    case Type::kInt: return Value::Int(s->exact);
    case Type::kTimestamp: return Value::Timestamp(s->exact);
    case Type::kDuration: return Value::Duration(s->exact);
    case Type::kPercent: return Value::Percent(s->real);
    default: return Value::Decimal(s->real);
  }
}

// ---- count_distinct: exact over 64-bit hashes of the encoded values.
using HashSet = std::unordered_set<uint64_t>;
void DistinctInit(void* p) { *static_cast<HashSet**>(p) = new HashSet(); }
void DistinctDestroy(void* p) {
  delete *static_cast<HashSet**>(p);
  *static_cast<HashSet**>(p) = nullptr;
}
void DistinctAdd(void* p, const Value& v) {
  if (v.is_null()) return;
  thread_local std::string bytes;
  bytes.clear();
  engine::EncodeValue(v, bytes);
  (*static_cast<HashSet**>(p))->insert(XXH3_64bits(bytes.data(), bytes.size()));
}
Value DistinctResult(const void* p, Type, dsl::Currency) {
  return Value::Int(static_cast<int64_t>((*static_cast<HashSet* const*>(p))->size()));
}
void DistinctSave(const void* p, std::string& out) {
  const HashSet& set = **static_cast<HashSet* const*>(p);
  // Sorted, so equal sets save to equal bytes.
  std::vector<uint64_t> sorted(set.begin(), set.end());
  std::sort(sorted.begin(), sorted.end());
  for (uint64_t h : sorted) engine::PutU64BE(out, h);
}
bool DistinctLoad(void* p, std::string_view in) {
  if (in.size() % 8 != 0) return false;
  HashSet& set = **static_cast<HashSet**>(p);
  for (size_t i = 0; i < in.size(); i += 8) set.insert(engine::GetU64BE(in.data() + i));
  return true;
}

// ---- result types
Type SumType(std::span<const Type> a, std::string_view& error) {
  if (a.empty()) return error = "sum needs an argument", Type::kNull;
  if (a[0] == Type::kInt || a[0] == Type::kMoney) return a[0];
  if (a[0] == Type::kDecimal || a[0] == Type::kPercent) return Type::kDecimal;
  error = "sum needs numbers or money";
  return Type::kNull;
}
Type AvgType(std::span<const Type> a, std::string_view& error) {
  if (a.empty()) return error = "avg needs an argument", Type::kNull;
  if (a[0] == Type::kMoney) return Type::kMoney;
  if (IsNumber(a[0])) return Type::kDecimal;
  error = "avg needs numbers or money";
  return Type::kNull;
}
Type ExtremeType(std::span<const Type> a, std::string_view& error) {
  if (a.empty()) return error = "min and max need an argument", Type::kNull;
  if (IsNumber(a[0]) || IsExact(a[0])) return a[0];
  error = "min and max need numbers, money, times or durations";
  return Type::kNull;
}
Type IntType(std::span<const Type>, std::string_view&) { return Type::kInt; }

FunctionDescriptor Aggregate(std::string_view name, bool needs_arg, engine::AggregateImpl impl,
                             dsl::ResultTypeFn result, std::string_view summary) {
  FunctionDescriptor d;
  d.spec.name = name;
  d.spec.kind = dsl::FunctionKind::kAggregate;
  d.spec.params.push_back({"value", Type::kAny, needs_arg, Value::Null()});
  d.spec.result = result;
  d.spec.summary = summary;
  d.aggregate = impl;
  return d;
}

}  // namespace

void RegisterAggregates(engine::OperatorRegistry& registry) {
  AggregateImpl sum{sizeof(SumState), SumInit, SumAdd, SumResult, nullptr, nullptr, nullptr};
  AggregateImpl avg{sizeof(SumState), SumInit, SumAdd, AvgResult, nullptr, nullptr, nullptr};
  AggregateImpl count{sizeof(int64_t), CountInit, CountAdd, CountResult, nullptr, nullptr, nullptr};
  AggregateImpl min{sizeof(ExtremeState), ExtremeInit, ExtremeAdd<false>, ExtremeResult, nullptr, nullptr, nullptr};
  AggregateImpl max{sizeof(ExtremeState), ExtremeInit, ExtremeAdd<true>, ExtremeResult, nullptr, nullptr, nullptr};
  AggregateImpl distinct{sizeof(HashSet*), DistinctInit, DistinctAdd, DistinctResult,
                         DistinctDestroy, DistinctSave, DistinctLoad};
  registry.Register(Aggregate("sum", true, sum, SumType, "sum of the values (money stays exact)"));
  registry.Register(Aggregate("count", false, count, IntType, "rows, or non-null values when given one"));
  registry.Register(Aggregate("avg", true, avg, AvgType, "mean; money rounds half to even"));
  registry.Register(Aggregate("min", true, min, ExtremeType, "smallest value"));
  registry.Register(Aggregate("max", true, max, ExtremeType, "largest value"));
  registry.Register(Aggregate("count_distinct", true, distinct, IntType, "distinct non-null values"));
}

}  // namespace aisle::stdlib
