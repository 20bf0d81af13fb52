// Replenishment core. Formulas and their sources are in the header.

#include "stdlib/replenishment.hpp"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/normal.hpp>

#include "dsl/time.hpp"

namespace aisle::stdlib {

namespace {

// Errors become NaN instead of exceptions: no exception leaves the module.
using NoThrow = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>>;

bool NonNegative(double x) {
  return std::isfinite(x) && x >= 0.0;
}

// 2^63: a double below it converts to int64 without overflow.
constexpr double kInt64Limit = 9223372036854775808.0;

}  // namespace

std::optional<LeadTimeDemand> LeadTimeDemandOf(double daily_demand, double error_sd,
                                               double lead_days, double lead_sd_days) {
  if (!NonNegative(daily_demand) || !NonNegative(error_sd) || !NonNegative(lead_days) ||
      !NonNegative(lead_sd_days))
    return std::nullopt;
  LeadTimeDemand out;
  out.mean = daily_demand * lead_days;
  out.sd = std::sqrt(lead_days * error_sd * error_sd +
                     daily_demand * daily_demand * lead_sd_days * lead_sd_days);
  if (!std::isfinite(out.mean) || !std::isfinite(out.sd)) return std::nullopt;
  return out;
}

std::optional<double> ServiceFactor(double cycle_service_level) {
  if (!(cycle_service_level > 0.0 && cycle_service_level < 1.0)) return std::nullopt;
  const double z = boost::math::quantile(boost::math::normal_distribution<double, NoThrow>(),
                                         cycle_service_level);
  if (!std::isfinite(z)) return std::nullopt;
  return z;
}

std::optional<double> SafetyStock(double error_sd, double lead_days, double cycle_service_level,
                                  double lead_sd_days, double daily_demand) {
  auto ltd = LeadTimeDemandOf(daily_demand, error_sd, lead_days, lead_sd_days);
  auto z = ServiceFactor(cycle_service_level);
  if (!ltd || !z) return std::nullopt;
  return *z * ltd->sd;
}

std::optional<double> ReorderPoint(double daily_demand, double error_sd, double lead_days,
                                   double cycle_service_level, double lead_sd_days) {
  auto ltd = LeadTimeDemandOf(daily_demand, error_sd, lead_days, lead_sd_days);
  auto z = ServiceFactor(cycle_service_level);
  if (!ltd || !z) return std::nullopt;
  return ltd->mean + *z * ltd->sd;
}

std::optional<double> EconomicOrderQuantity(double annual_demand, int64_t order_cost,
                                            int64_t holding_cost_per_unit_year) {
  if (!NonNegative(annual_demand) || order_cost < 0 || holding_cost_per_unit_year <= 0)
    return std::nullopt;
  // S / H is a ratio of two money amounts: a plain number, so a double is fine here.
  const double ratio =
      static_cast<double>(order_cost) / static_cast<double>(holding_cost_per_unit_year);
  const double q = std::sqrt(2.0 * annual_demand * ratio);
  if (!std::isfinite(q)) return std::nullopt;
  return q;
}

std::optional<double> EconomicOrderQuantityAtRate(double annual_demand, int64_t order_cost,
                                                  double holding_rate, int64_t unit_cost) {
  if (!NonNegative(annual_demand) || order_cost < 0 || !(holding_rate > 0.0) ||
      !std::isfinite(holding_rate) || unit_cost <= 0)
    return std::nullopt;
  const double ratio =
      static_cast<double>(order_cost) / (holding_rate * static_cast<double>(unit_cost));
  const double q = std::sqrt(2.0 * annual_demand * ratio);
  if (!std::isfinite(q)) return std::nullopt;
  return q;
}

std::optional<double> DaysOfCover(double on_hand, double daily_demand) {
  if (!std::isfinite(on_hand) || !std::isfinite(daily_demand) || !(daily_demand > 0.0))
    return std::nullopt;
  const double days = std::max(on_hand, 0.0) / daily_demand;
  if (!std::isfinite(days)) return std::nullopt;
  return days;
}

std::optional<int64_t> StockoutEta(double on_hand, double daily_demand, int64_t now_us) {
  auto days = DaysOfCover(on_hand, daily_demand);
  if (!days) return std::nullopt;
  const double offset = std::nearbyint(*days * static_cast<double>(dsl::kMicrosPerDay));
  if (!(offset < kInt64Limit)) return std::nullopt;
  int64_t eta = 0;
  if (__builtin_add_overflow(now_us, static_cast<int64_t>(offset), &eta)) return std::nullopt;
  return eta;
}

std::optional<int64_t> RoundUpToCasePack(double quantity, int64_t case_pack) {
  if (case_pack <= 0 || !std::isfinite(quantity)) return std::nullopt;
  if (quantity <= 0.0) return 0;
  const double packs_exact = quantity / static_cast<double>(case_pack);
  // Floating-point noise just above a whole number of packs (24.000000000000004 / 12) is not a
  // reason to ship another case.
  const double whole = std::floor(packs_exact);
  const double packs =
      packs_exact - whole <= 1e-9 * std::max(1.0, packs_exact) ? whole : whole + 1.0;
  if (!(packs < kInt64Limit)) return std::nullopt;
  int64_t units = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(packs), case_pack, &units)) return std::nullopt;
  return units;
}

std::optional<int64_t> MoneyTimes(int64_t unit_cost, int64_t quantity) {
  int64_t total = 0;
  if (__builtin_mul_overflow(unit_cost, quantity, &total)) return std::nullopt;
  return total;
}

Result<PoDraft> DraftPurchaseOrder(const PoDraftInput& in) {
  if (!std::isfinite(in.on_hand)) return Error{"on hand is not a number"};
  if (!NonNegative(in.on_order)) return Error{"on order must be a number >= 0"};
  if (in.case_pack <= 0) return Error{"the case pack must be at least 1"};
  if (in.unit_cost < 0) return Error{"the unit cost must not be negative"};
  if (!(in.service_level > 0.0 && in.service_level < 1.0))
    return Error{"the service level must be between 0 and 1 (exclusive)"};
  auto ltd = LeadTimeDemandOf(in.daily_demand, in.error_sd, in.lead_days, in.lead_sd_days);
  if (!ltd) return Error{"demand, forecast error and lead time must be numbers >= 0"};
  auto q = EconomicOrderQuantity(in.daily_demand * kDaysPerYear, in.order_cost, in.holding_cost);
  if (!q) return Error{"the order cost must be >= 0 and the holding cost > 0"};
  const double z = *ServiceFactor(in.service_level);

  PoDraft out;
  out.unit_cost = in.unit_cost;
  out.currency = in.currency;
  out.on_hand = in.on_hand;
  out.inventory_position = in.on_hand + in.on_order;
  out.lead_time_demand = ltd->mean;
  out.safety_stock = z * ltd->sd;
  out.reorder_point = ltd->mean + out.safety_stock;
  out.order_quantity = *q;
  out.order_up_to = out.reorder_point + *q;
  if (out.inventory_position <= out.reorder_point) {
    auto units = RoundUpToCasePack(out.order_up_to - out.inventory_position, in.case_pack);
    if (!units) return Error{"the order quantity overflows"};
    out.quantity = *units;
  }
  auto total = MoneyTimes(in.unit_cost, out.quantity);
  if (!total) return Error{"the order total overflows"};
  out.total = *total;
  return out;
}

}  // namespace aisle::stdlib
