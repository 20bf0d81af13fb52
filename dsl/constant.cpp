#include "dsl/constant.hpp"

#include <compare>
#include <string_view>

namespace aisle::dsl {

namespace {

using ast::BinaryOp;

// Orders two constants of comparable types; nullopt when they do not compare here.
std::optional<std::partial_ordering> Compare(const plan::Expr& a, const plan::Expr& b) {
  const Value& x = a.value;
  const Value& y = b.value;
  auto number = [](const Value& v, double& out) {
    if (v.type == Type::kInt) out = static_cast<double>(v.i);
    else if (v.type == Type::kDecimal || v.type == Type::kPercent) out = v.d;
    else return false;
    return true;
  };
  double dx, dy;
  if (number(x, dx) && number(y, dy)) return dx <=> dy;
  if (x.type != y.type) return std::nullopt;
  switch (x.type) {
    case Type::kMoney:
      if (x.currency != y.currency) return std::nullopt;
      [[fallthrough]];
    case Type::kDuration:
    case Type::kTimestamp:
      return x.i <=> y.i;
    case Type::kString:
      return std::string_view(a.text) <=> std::string_view(b.text);
    case Type::kBool:
      return x.b <=> y.b;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<bool> ConstantTruth(const plan::Expr& e) {
  switch (e.op) {
    case plan::ExprOp::kConst:
      if (e.type == Type::kNull) return false;  // null is not true
      if (e.type == Type::kBool) return e.value.b;
      return std::nullopt;
    case plan::ExprOp::kUnary:
      if (e.unary_op == ast::UnaryOp::kNot && e.args.size() == 1) {
        // not null is null: false either way.
        if (e.args[0].op == plan::ExprOp::kConst && e.args[0].type == Type::kNull) return false;
        if (auto v = ConstantTruth(e.args[0]); v && e.args[0].type == Type::kBool) return !*v;
      }
      return std::nullopt;
    case plan::ExprOp::kBinary: {
      if (e.args.size() != 2) return std::nullopt;
      if (e.binary_op == BinaryOp::kAnd || e.binary_op == BinaryOp::kOr) {
        const auto l = ConstantTruth(e.args[0]);
        const auto r = ConstantTruth(e.args[1]);
        const bool absorbing = e.binary_op == BinaryOp::kOr;  // true absorbs `or`, false `and`
        if ((l && *l == absorbing) || (r && *r == absorbing)) return absorbing;
        if (l && r) return e.binary_op == BinaryOp::kAnd ? (*l && *r) : (*l || *r);
        return std::nullopt;
      }
      const plan::Expr& a = e.args[0];
      const plan::Expr& b = e.args[1];
      if (a.op != plan::ExprOp::kConst || b.op != plan::ExprOp::kConst) return std::nullopt;
      if (a.type == Type::kNull || b.type == Type::kNull) return false;  // comparisons with null
      const auto c = Compare(a, b);
      if (!c) return std::nullopt;
      switch (e.binary_op) {
        case BinaryOp::kEq: return *c == 0;
        case BinaryOp::kNe: return *c != 0;
        case BinaryOp::kLt: return *c < 0;
        case BinaryOp::kLe: return *c <= 0;
        case BinaryOp::kGt: return *c > 0;
        case BinaryOp::kGe: return *c >= 0;
        default: return std::nullopt;
      }
    }
    default:
      return std::nullopt;
  }
}

}  // namespace aisle::dsl
