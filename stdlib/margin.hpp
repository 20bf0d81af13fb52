#pragma once
// Margin, promotion and markdown core: a line's margin in exact money, the margin arithmetic of a
// promotion against its baseline, and the markdown rule for slow movers. Engine-independent pure
// functions (no state, thread-safe); the language's functions (margin_functions.cpp,
// promo_lift.cpp) call them.
//
// Money is int64 in 1/10,000 of the major unit (dsl::kMoneyScale), never a double; a product of
// money and a fractional quantity rounds half to even to 1/10,000, exactly as the language's `*`
// does, so `margin(price, cost, qty, discount)` equals `price * qty - discount - cost * qty`
// written out. Overflow and inputs that make no sense give nullopt, never an exception.
//
// Sources:
//  [SA]  Smith & Achabal, "Clearance Pricing and Inventory Policies for Retail Chains",
//        Management Science 44(3), 1998: clearance (markdown) prices set so that the stock on hand
//        sells through by a date, under demand that falls with price at a constant elasticity.
//  [BHP] Bijmolt, van Heerde & Pieters, "New Empirical Generalizations on the Determinants of
//        Price Elasticity", Journal of Marketing Research 42(2), 2005: mean price elasticity of
//        sales -2.62 over 1,851 published estimates.
//  [LW]  Levy & Weitz, "Retailing Management", chapter on retail pricing (markdowns): slow
//        movers are marked down when their sell-through lags, i.e. when age and weeks of supply
//        are both high.

#include <cstdint>
#include <optional>

namespace aisle::stdlib {

// money (1/10,000 units) x quantity, rounded half to even to 1/10,000, as the language's `*`
// (quantities are taken to 1e-9 of a unit); nullopt on overflow or a quantity beyond 1e9.
std::optional<int64_t> MoneyTimesQuantity(int64_t money, double quantity);
// money x an integer quantity, exact; nullopt on overflow.
std::optional<int64_t> MoneyTimesCount(int64_t money, int64_t quantity);

// What a line (or a window's sum of lines) earns: net revenue price*qty - discount, its cost
// cost*qty and the margin, their difference. All in 1/10,000 units of one currency.
struct LineMargin {
  int64_t net_revenue = 0;
  int64_t cost = 0;
  int64_t margin = 0;
};

// The line's margin; `discount` is the whole line's (line_item.discount). Returns (a negative qty,
// a return, gives a negative margin). nullopt on overflow.
std::optional<LineMargin> LineMarginOf(int64_t price, int64_t cost, double qty, int64_t discount);
std::optional<LineMargin> LineMarginOf(int64_t price, int64_t cost, int64_t qty, int64_t discount);

// The margin as a fraction of net revenue; nullopt when net revenue is 0 or less (a ratio of a
// loss on nothing sold says nothing).
std::optional<double> MarginFraction(const LineMargin& m);

// The margin arithmetic of a promotion window (promo_lift's details), all in 1/10,000 units:
//   erosion            = baseline x (regular_margin - promo_margin): the margin given away on the
//                        units that would have sold anyway;
//   incremental_margin = (actual - baseline) x promo_margin: the margin the extra units earn;
//   net                = incremental_margin - erosion = actual x promo_margin
//                        - baseline x regular_margin (up to rounding), the promotion's effect on
//                        the window's margin against not running it.
struct PromoMargin {
  int64_t erosion = 0;
  int64_t incremental_margin = 0;
  int64_t net = 0;
};
// `regular_margin` and `promo_margin` are per unit; nullopt on overflow or a negative baseline.
std::optional<PromoMargin> PromoMarginOf(double actual_units, double baseline_units,
                                         int64_t regular_margin, int64_t promo_margin);

// The markdown rule for slow movers [LW, SA]. Every field has a default.
struct MarkdownRule {
  double max_cover_days =
      60;                     // cover (days of stock at the current sales rate) beyond this is slow
  double min_age_days = 90;   // stock younger than this is left alone (it has had no time to sell)
  double elasticity = -2.62;  // price elasticity of demand [BHP]; must be < 0
  double max_depth = 0.5;     // the deepest suggested markdown (a fraction of the price)
};

// A markdown candidate: stock on hand (> 0), at least min_age_days old, whose cover at the daily
// velocity exceeds max_cover_days (no sales at all: infinite cover). nullopt for a negative age or
// velocity or a non-finite input.
std::optional<bool> IsMarkdownCandidate(double age_days, double daily_velocity, double on_hand,
                                        const MarkdownRule& rule = {});

// The suggested markdown (a fraction of the price) of a candidate, 0 for other stock: the price cut
// that speeds sales up enough for the cover to come down to max_cover_days under demand of
// constant elasticity e [SA]: sales scale by (p1/p0)^e, so the needed speed-up u = cover /
// max_cover asks for p1/p0 = u^(1/e), a markdown of 1 - u^(1/e), capped at max_depth (also for
// stock that does not sell at all). nullopt as IsMarkdownCandidate, or for e >= 0 or a depth
// outside [0, 1].
std::optional<double> MarkdownDepth(double age_days, double daily_velocity, double on_hand,
                                    const MarkdownRule& rule = {});

}  // namespace aisle::stdlib
