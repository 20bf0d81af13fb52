// Margin, promotion margin and markdown arithmetic (see margin.hpp for the definitions and
// sources).

#include "stdlib/margin.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsl/money.hpp"

namespace aisle::stdlib {

namespace {

// Quantities are scaled to 1e-9 of a unit, as the language's evaluator does for money x decimal,
// so the two agree to the last 1/10,000.
constexpr double kQuantityScale = 1e9;

std::optional<int64_t> Narrow(dsl::Int128 v) {
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
    return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<int64_t> Sub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::optional<LineMargin> Assemble(std::optional<int64_t> gross, std::optional<int64_t> cost,
                                   int64_t discount) {
  if (!gross || !cost) return std::nullopt;
  auto net = Sub(*gross, discount);
  if (!net) return std::nullopt;
  auto margin = Sub(*net, *cost);
  if (!margin) return std::nullopt;
  return LineMargin{*net, *cost, *margin};
}

}  // namespace

std::optional<int64_t> MoneyTimesQuantity(int64_t money, double quantity) {
  if (!std::isfinite(quantity) || std::fabs(quantity) > 1e9) return std::nullopt;
  const auto scaled = static_cast<dsl::Int128>(std::llround(quantity * kQuantityScale));
  return Narrow(dsl::DivRoundHalfEven(static_cast<dsl::Int128>(money) * scaled,
                                      static_cast<int64_t>(kQuantityScale)));
}

std::optional<int64_t> MoneyTimesCount(int64_t money, int64_t quantity) {
  int64_t out;
  if (__builtin_mul_overflow(money, quantity, &out)) return std::nullopt;
  return out;
}

std::optional<LineMargin> LineMarginOf(int64_t price, int64_t cost, double qty, int64_t discount) {
  return Assemble(MoneyTimesQuantity(price, qty), MoneyTimesQuantity(cost, qty), discount);
}

std::optional<LineMargin> LineMarginOf(int64_t price, int64_t cost, int64_t qty, int64_t discount) {
  return Assemble(MoneyTimesCount(price, qty), MoneyTimesCount(cost, qty), discount);
}

std::optional<double> MarginFraction(const LineMargin& m) {
  if (m.net_revenue <= 0) return std::nullopt;
  return static_cast<double>(m.margin) / static_cast<double>(m.net_revenue);
}

std::optional<PromoMargin> PromoMarginOf(double actual_units, double baseline_units,
                                         int64_t regular_margin, int64_t promo_margin) {
  if (!std::isfinite(actual_units) || !std::isfinite(baseline_units) || baseline_units < 0)
    return std::nullopt;
  auto given_away = Sub(regular_margin, promo_margin);
  if (!given_away) return std::nullopt;
  auto erosion = MoneyTimesQuantity(*given_away, baseline_units);
  auto incremental = MoneyTimesQuantity(promo_margin, actual_units - baseline_units);
  if (!erosion || !incremental) return std::nullopt;
  auto net = Sub(*incremental, *erosion);
  if (!net) return std::nullopt;
  return PromoMargin{*erosion, *incremental, *net};
}

std::optional<bool> IsMarkdownCandidate(double age_days, double daily_velocity, double on_hand,
                                        const MarkdownRule& rule) {
  if (!std::isfinite(age_days) || !std::isfinite(daily_velocity) || !std::isfinite(on_hand) ||
      age_days < 0 || daily_velocity < 0 || !(rule.max_cover_days >= 0) ||
      !std::isfinite(rule.min_age_days))
    return std::nullopt;
  if (on_hand <= 0 || age_days < rule.min_age_days) return false;
  if (daily_velocity == 0) return true;  // nothing sells: the cover is infinite
  return on_hand / daily_velocity > rule.max_cover_days;
}

std::optional<double> MarkdownDepth(double age_days, double daily_velocity, double on_hand,
                                    const MarkdownRule& rule) {
  if (!(rule.elasticity < 0) || !std::isfinite(rule.elasticity) || !(rule.max_depth >= 0) ||
      !(rule.max_depth <= 1))
    return std::nullopt;
  auto candidate = IsMarkdownCandidate(age_days, daily_velocity, on_hand, rule);
  if (!candidate) return std::nullopt;
  if (!*candidate) return 0.0;
  if (daily_velocity == 0 || rule.max_cover_days == 0) return rule.max_depth;
  const double speed_up = on_hand / daily_velocity / rule.max_cover_days;  // > 1 for a candidate
  const double depth = 1 - std::pow(speed_up, 1 / rule.elasticity);
  return std::min(depth, rule.max_depth);
}

}  // namespace aisle::stdlib
