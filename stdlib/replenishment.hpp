#pragma once
// Replenishment core: lead-time demand, safety stock, reorder point, economic order quantity,
// days of cover, stockout time and purchase-order drafts. Engine-independent pure functions (no
// state, thread-safe); the language's scalar functions (replenishment_functions.cpp) call them.
//
// Conventions: quantities are units (double: weighed goods are fractional), demand is per day,
// lead times are in days, service levels are fractions (0.95). Money is int64 in 1/10,000 of the
// major unit (dsl::kMoneyScale), never a double. Inputs that make no sense (negative, NaN,
// infinite, a service level outside (0, 1)) give nullopt, never an exception.
//
// Sources for the formulas (each function says which it follows):
//  [SPT] Silver, Pyke & Thomas, "Inventory and Production Management in Supply Chains", 4th ed.
//        (2017): ch. 4 (EOQ), ch. 6 (individual items with probabilistic demand: (s, Q) and
//        (s, S) systems, safety factor k from a cycle service level P1, sigma from forecast
//        errors rather than from raw demand).
//  [CM]  Chopra & Meindl, "Supply Chain Management: Strategy, Planning, and Operation", chapter
//        "Managing Uncertainty in a Supply Chain: Safety Inventory" (ss = F_S^-1(CSL) x sigma_L,
//        sigma_L = sqrt(L sigma_D^2 + D^2 s_L^2), ROP = D_L + ss) and chapter "Managing Economies
//        of Scale: Cycle Inventory" (Q* = sqrt(2DS / hC)).

#include <cstdint>
#include <optional>

#include "dsl/value.hpp"
#include "engine/core/result.hpp"

namespace aisle::stdlib {

// Days in a year, to turn a daily demand rate into the annual demand EOQ takes.
inline constexpr double kDaysPerYear = 365.0;

// Mean and standard deviation of the demand over a replenishment lead time.
struct LeadTimeDemand {
  double mean = 0.0;  // d * L
  double sd = 0.0;    // sqrt(L * sigma_e^2 + d^2 * sigma_L^2)
};

// Lead-time demand [CM, SPT 6]: mean d*L, sd sqrt(L*error_sd^2 + d^2*lead_sd^2), where error_sd is
// the standard deviation of the one-period (daily) forecast error and lead_sd that of the lead
// time in days (0: a fixed lead time). Assumes independent daily errors.
std::optional<LeadTimeDemand> LeadTimeDemandOf(double daily_demand, double error_sd,
                                               double lead_days, double lead_sd_days = 0.0);

// The safety factor z with Phi(z) = cycle_service_level (standard normal quantile, Boost.Math);
// nullopt unless 0 < level < 1.
std::optional<double> ServiceFactor(double cycle_service_level);

// Safety stock z(CSL) * sigma_LTD [CM, SPT 6]. Negative below a 50% service level, as in the
// texts. daily_demand matters only with a variable lead time (lead_sd_days > 0).
std::optional<double> SafetyStock(double error_sd, double lead_days, double cycle_service_level,
                                  double lead_sd_days = 0.0, double daily_demand = 0.0);

// Reorder point s = d*L + z(CSL) * sigma_LTD [CM, SPT 6]: in an (s, Q) system, order when the
// inventory position falls to s; the probability of no stockout in a cycle is then CSL.
std::optional<double> ReorderPoint(double daily_demand, double error_sd, double lead_days,
                                   double cycle_service_level, double lead_sd_days = 0.0);

// Economic order quantity sqrt(2*D*S/H) [SPT 4, CM]: D annual demand in units, S the cost of one
// order, H the cost of holding one unit for a year (money units of one currency; their ratio is
// what counts). 0 for no demand; nullopt when H <= 0 or S < 0.
std::optional<double> EconomicOrderQuantity(double annual_demand, int64_t order_cost,
                                            int64_t holding_cost_per_unit_year);

// EOQ with the holding cost as a yearly rate of the unit cost, H = rate * C [SPT 4, CM].
std::optional<double> EconomicOrderQuantityAtRate(double annual_demand, int64_t order_cost,
                                                  double holding_rate, int64_t unit_cost);

// Days the stock on hand lasts at the daily demand: max(on_hand, 0) / d; nullopt when d <= 0
// (no demand: the stock never runs out).
std::optional<double> DaysOfCover(double on_hand, double daily_demand);

// The instant (us since the epoch) at which on hand reaches 0 at the daily demand rate:
// now + DaysOfCover days, rounded to the microsecond; nullopt when d <= 0 or on overflow.
std::optional<int64_t> StockoutEta(double on_hand, double daily_demand, int64_t now_us);

// The smallest multiple of case_pack that is >= quantity (0 for quantity <= 0). A quantity within
// 1e-9 (relative) above a multiple counts as that multiple, so 2.4 * 10 gives 24, not 36 for a
// pack of 12. nullopt when case_pack <= 0, the quantity is not finite, or on overflow.
std::optional<int64_t> RoundUpToCasePack(double quantity, int64_t case_pack);

// quantity * unit_cost in money units, exactly; nullopt on int64 overflow.
std::optional<int64_t> MoneyTimes(int64_t unit_cost, int64_t quantity);

// What a purchase-order draft is computed from. Defaults: nothing on order, fixed lead time,
// case pack 1.
struct PoDraftInput {
  double on_hand = 0.0;         // units in the store now
  double on_order = 0.0;        // units ordered and not yet received
  double daily_demand = 0.0;    // forecast units per day
  double error_sd = 0.0;        // sd of the daily forecast error
  double lead_days = 0.0;       // mean supplier lead time
  double lead_sd_days = 0.0;    // sd of the lead time
  double service_level = 0.95;  // cycle service level, 0 < CSL < 1
  int64_t order_cost = 0;       // money units per order (EOQ's S)
  int64_t holding_cost = 0;     // money units per unit and year (EOQ's H), > 0
  int64_t unit_cost = 0;        // money units per unit, >= 0
  dsl::Currency currency = 0;   // of the three amounts above
  int64_t case_pack = 1;        // the supplier ships multiples of this
};

// A purchase-order draft with the figures that justify it.
struct PoDraft {
  int64_t quantity = 0;   // units to order, a multiple of the case pack; 0: no order needed
  int64_t unit_cost = 0;  // money units
  int64_t total = 0;      // quantity * unit_cost, exact
  dsl::Currency currency = 0;
  double on_hand = 0.0;
  double inventory_position = 0.0;  // on hand + on order
  double lead_time_demand = 0.0;
  double safety_stock = 0.0;
  double reorder_point = 0.0;   // s
  double order_quantity = 0.0;  // Q: the EOQ at annual demand kDaysPerYear * daily_demand
  double order_up_to = 0.0;     // s + Q
};

// Drafts an order under continuous review [SPT 6, (s, S) with S = s + Q]: when the inventory
// position (on hand + on order) is at or below the reorder point s, order up to s + EOQ, rounded up
// to the case pack; above s, quantity 0. (With unit-sized demand the position is exactly s when the
// order is placed, so the quantity is the EOQ rounded up to the pack, as in (s, Q).) Errors name
// the input that makes no sense, or an overflowing total.
Result<PoDraft> DraftPurchaseOrder(const PoDraftInput& input);

}  // namespace aisle::stdlib
