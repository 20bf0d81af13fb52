#include "engine/runtime/evaluator.hpp"

#include <cmath>
#include <cstring>

#include "dsl/money.hpp"

namespace aisle::engine {

using dsl::Type;
using dsl::Value;
using B = dsl::ast::BinaryOp;

namespace {

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent; }

double AsDouble(const Value& v) {
  return v.type == Type::kInt ? static_cast<double>(v.i) : v.d;
}

constexpr double kFactorScale = 1e9;

Value FromDouble(double d, Type type) {
  if (!std::isfinite(d)) return Value::Null();
  return type == Type::kPercent ? Value::Percent(d) : Value::Decimal(d);
}

}  // namespace

Value MoneyTimes(const Value& money, double factor) {
  if (!std::isfinite(factor) || std::fabs(factor) > 1e9) return Value::Null();
  auto scaled = static_cast<dsl::Int128>(std::llround(factor * kFactorScale));
  dsl::Int128 product = static_cast<dsl::Int128>(money.i) * scaled;
  dsl::Int128 q = dsl::DivRoundHalfEven(product, static_cast<int64_t>(kFactorScale));
  if (q > INT64_MAX || q < INT64_MIN) return Value::Null();
  return Value::Money(static_cast<int64_t>(q), money.currency);
}

int Compare(const Value& l, const Value& r) {
  if (l.is_null() || r.is_null()) return 2;
  if (IsNumber(l.type) && IsNumber(r.type)) {
    if (l.type == Type::kInt && r.type == Type::kInt) return (l.i > r.i) - (l.i < r.i);
    double a = AsDouble(l), b = AsDouble(r);
    if (std::isnan(a) || std::isnan(b)) return 2;
    return (a > b) - (a < b);
  }
  if (l.type != r.type) return 2;
  switch (l.type) {
    case Type::kMoney:
      if (l.currency != r.currency) return 2;
      return (l.i > r.i) - (l.i < r.i);
    case Type::kTimestamp:
    case Type::kDuration:
      return (l.i > r.i) - (l.i < r.i);
    case Type::kBool:
      return (l.b > r.b) - (l.b < r.b);
    case Type::kString: {
      int c = l.str().compare(r.str());
      return (c > 0) - (c < 0);
    }
    default:
      return 2;
  }
}

Value Arithmetic(B op, const Value& l, const Value& r, Type result) {
  if (l.is_null() || r.is_null()) return Value::Null();
  int64_t out = 0;
  switch (op) {
    case B::kAdd:
    case B::kSub: {
      bool add = op == B::kAdd;
      if (l.type == Type::kMoney || l.type == Type::kDuration || l.type == Type::kTimestamp ||
          l.type == Type::kInt) {
        if (IsNumber(l.type) && r.type != Type::kInt) break;  // int + decimal: below
        if (l.type == Type::kMoney && l.currency != r.currency) return Value::Null();
        bool overflow = add ? __builtin_add_overflow(l.i, r.i, &out)
                            : __builtin_sub_overflow(l.i, r.i, &out);
        if (overflow) return Value::Null();
        Value v = l;
        v.type = result;
        v.i = out;
        if (result != Type::kMoney) v.currency = 0;
        return v;
      }
      break;
    }
    case B::kMul:
      if (l.type == Type::kMoney && IsNumber(r.type)) {
        if (r.type == Type::kInt) {
          if (__builtin_mul_overflow(l.i, r.i, &out)) return Value::Null();
          return Value::Money(out, l.currency);
        }
        return MoneyTimes(l, r.d);
      }
      if (r.type == Type::kMoney && IsNumber(l.type)) return Arithmetic(op, r, l, result);
      if (l.type == Type::kInt && r.type == Type::kInt) {
        if (__builtin_mul_overflow(l.i, r.i, &out)) return Value::Null();
        return Value::Int(out);
      }
      if (l.type == Type::kDuration || r.type == Type::kDuration) {
        const Value& d = l.type == Type::kDuration ? l : r;
        const Value& n = l.type == Type::kDuration ? r : l;
        double v = static_cast<double>(d.i) * AsDouble(n);
        if (!std::isfinite(v) || std::fabs(v) > 9e18) return Value::Null();
        return Value::Duration(std::llround(v));
      }
      break;
    case B::kDiv:
      if (l.type == Type::kMoney && r.type == Type::kMoney) {
        if (r.i == 0 || l.currency != r.currency) return Value::Null();
        return Value::Decimal(static_cast<double>(l.i) / static_cast<double>(r.i));
      }
      if (l.type == Type::kMoney && IsNumber(r.type)) {
        double divisor = AsDouble(r);
        if (divisor == 0 || !std::isfinite(divisor)) return Value::Null();
        auto scaled = static_cast<dsl::Int128>(std::llround(divisor * kFactorScale));
        if (scaled == 0) return Value::Null();
        dsl::Int128 q = dsl::DivRoundHalfEven(
            static_cast<dsl::Int128>(l.i) * static_cast<int64_t>(kFactorScale), scaled);
        if (q > INT64_MAX || q < INT64_MIN) return Value::Null();
        return Value::Money(static_cast<int64_t>(q), l.currency);
      }
      if (l.type == Type::kDuration && r.type == Type::kDuration) {
        if (r.i == 0) return Value::Null();
        return Value::Decimal(static_cast<double>(l.i) / static_cast<double>(r.i));
      }
      if (l.type == Type::kDuration && IsNumber(r.type)) {
        double divisor = AsDouble(r);
        if (divisor == 0) return Value::Null();
        double v = static_cast<double>(l.i) / divisor;
        if (!std::isfinite(v) || std::fabs(v) > 9e18) return Value::Null();
        return Value::Duration(std::llround(v));
      }
      if (IsNumber(l.type) && IsNumber(r.type)) {
        double divisor = AsDouble(r);
        if (divisor == 0) return Value::Null();
        return FromDouble(AsDouble(l) / divisor, result);
      }
      return Value::Null();
    default:
      return Value::Null();
  }
  // Plain numbers.
  if (IsNumber(l.type) && IsNumber(r.type)) {
    double a = AsDouble(l), b = AsDouble(r);
    double v = op == B::kAdd ? a + b : op == B::kSub ? a - b : a * b;
    return FromDouble(v, result);
  }
  return Value::Null();
}

Value Evaluator::Eval(const dsl::plan::Expr& e, std::span<const Value> record,
                      const Event* event, int store) const {
  using dsl::plan::ExprOp;
  switch (e.op) {
    case ExprOp::kConst:
      if (e.value.type == Type::kString) return Value::String(e.text);
      return e.value;
    case ExprOp::kField:
      return record[static_cast<size_t>(e.index)];
    case ExprOp::kUnary: {
      Value x = Eval(e.args[0], record, event, store);
      if (x.is_null()) return x;
      if (e.unary_op == dsl::ast::UnaryOp::kNot) return Value::Bool(!x.b);
      if (x.type == Type::kDecimal || x.type == Type::kPercent) {
        x.d = -x.d;
      } else {
        if (x.i == INT64_MIN) return Value::Null();
        x.i = -x.i;
      }
      return x;
    }
    case ExprOp::kBinary: {
      if (e.binary_op == B::kAnd || e.binary_op == B::kOr) {
        Value l = Eval(e.args[0], record, event, store);
        bool lt = l.type == Type::kBool && l.b;
        if (e.binary_op == B::kAnd && !lt) return Value::Bool(false);
        if (e.binary_op == B::kOr && lt) return Value::Bool(true);
        Value r = Eval(e.args[1], record, event, store);
        return Value::Bool(r.type == Type::kBool && r.b);
      }
      Value l = Eval(e.args[0], record, event, store);
      Value r = Eval(e.args[1], record, event, store);
      switch (e.binary_op) {
        case B::kEq: return Value::Bool(Compare(l, r) == 0);
        case B::kNe: {
          int c = Compare(l, r);
          return Value::Bool(c != 0 && c != 2);
        }
        case B::kLt: return Value::Bool(Compare(l, r) == -1);
        case B::kLe: {
          int c = Compare(l, r);
          return Value::Bool(c == -1 || c == 0);
        }
        case B::kGt: return Value::Bool(Compare(l, r) == 1);
        case B::kGe: {
          int c = Compare(l, r);
          return Value::Bool(c == 1 || c == 0);
        }
        default:
          return Arithmetic(e.binary_op, l, r, e.type);
      }
    }
    case ExprOp::kParam: {
      if (policies_ == nullptr) return Value::Null();
      const dsl::plan::ParamSource& s = policies_->Source(e.index, store);
      return s.value.type == Type::kString ? Value::String(s.text) : s.value;
    }
    case ExprOp::kExtra: {
      std::string_view text;
      if (event == nullptr || !event->FindExtra(e.text, text)) return Value::Null();
      return Value::String(text);
    }
    case ExprOp::kLookup: {
      // One hash probe into the table's index, built when the rules were checked.
      const int64_t row = e.table->Find(Eval(e.args[0], record, event));
      if (row < 0) return Value::Null();
      Value v = e.table->Cell(static_cast<size_t>(row), static_cast<size_t>(e.index));
      if (v.type == Type::kMoney && v.currency == 0) {  // the table has no currency: the record's
        const Value c = e.currency_field >= 0 ? record[static_cast<size_t>(e.currency_field)] : Value::Null();
        v.currency = c.type == Type::kString ? dsl::PackCurrency(c.str()) : 0;
        if (v.currency == 0) return Value::Null();
      }
      return v;
    }
    case ExprOp::kCall: {
      // Scalar functions take few arguments; evaluate them into a small fixed array.
      Value args[8];
      size_t n = std::min<size_t>(e.args.size(), 8);
      for (size_t i = 0; i < n; ++i) args[i] = Eval(e.args[i], record, event, store);
      return registry_->Get(e.function).scalar(std::span<const Value>(args, n));
    }
  }
  return Value::Null();
}

}  // namespace aisle::engine
