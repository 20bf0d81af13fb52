#pragma once
// What the checker needs to know about functions: names, kinds, parameters and result types.
// The engine's OperatorRegistry owns the implementations and exposes this view (the dsl library
// knows nothing of the engine).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/value.hpp"

namespace aisle::dsl {

enum class FunctionKind {
  kAggregate,  // folds a window's rows: sum(total)
  kScalar,     // pure, row by row: abs(x)
  kStateful,   // keeps per-key state across records: anomaly(aov, baseline = 28d)
  kMiner,      // a pipeline stage that turns a window's rows into many records: affinity, segments
};

struct ParamSpec {
  std::string_view name;
  Type type;      // kAny accepts every type
  bool required;  // optional parameters take `fallback`
  Value fallback;
  bool constant = false;  // must be a constant (a literal or a param), e.g. a baseline length
  std::vector<std::string_view> choices = {};  // a constant string must be one of these
};

// Result type from argument types; returns kNull and sets `error` when the types do not fit.
using ResultTypeFn = Type (*)(std::span<const Type> args, std::string_view& error);

// Checks a call's constant arguments (`args` in parameter order; arguments that are not constants
// arrive as null): the index of the first bad one with `message` set, or -1 when all are fine.
// The checker reports E113 at that argument.
using ConstantCheckFn = int (*)(std::span<const Value> args, std::string& message);

// A named value a stateful function gives beside its result, read through the `let` that holds
// the call: `let f = forecast(units)` then `f.upper`. kAny means "in the first argument's units":
// money when it is money (an expected value of a money metric is money), decimal otherwise.
struct DetailSpec {
  std::string_view name;
  Type type;
};

struct FunctionSpec {
  std::string_view name;
  FunctionKind kind;
  std::vector<ParamSpec> params;
  ResultTypeFn result;
  std::string_view summary;  // one line, shown by `aisle --help` and in docs
  std::vector<DetailSpec> details = {};  // kStateful only
  ConstantCheckFn check_constants = nullptr;  // optional: values the parameter types cannot rule out
  // kStateful only: the call reads CallContext::utc_offset, the store's offset from UTC, so rules
  // calling it need the stores' time zones (UTC without them).
  bool local_time = false;
};

// Read-only view of the functions a rule set may call.
class Catalog {
 public:
  virtual ~Catalog() = default;
  // The function's index (stable for this catalog) or -1.
  virtual int Find(std::string_view name) const = 0;
  virtual const FunctionSpec& Spec(int index) const = 0;
  virtual std::vector<std::string_view> Names(FunctionKind kind) const = 0;
};

}  // namespace aisle::dsl
