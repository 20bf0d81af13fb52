#pragma once
// A discrete-event simulation of one store's items under a continuous-review (s, Q) policy whose
// reorder point, EOQ and order quantity come from stdlib/replenishment.hpp. Shared by the unit
// test (tests/stdlib/replenishment_sim_test.cpp) and eval_replenishment. For tests only.
//
// The model, and what is counted:
//  - Demand: a Poisson process of single units at `demand_rate` a day (exponential gaps), so the
//    inventory position falls one unit at a time and an order is placed exactly when it reaches
//    the reorder point (no undershoot: that is what "continuous review" means here).
//  - Forecast: each morning, the mean of the last `forecast_window` days' demand (a simple moving
//    average). sigma_e is the root mean square of the one-step errors of that same forecast over
//    the last `error_window` days (error_j = demand_j - MA of the N days before j), i.e. sigma is
//    estimated the way reorder_point expects it: from forecast errors, not raw demand. The history
//    starts forecast_window + error_window days before the measured period (a warm-up, generated
//    by the same process). With `known_demand` the true rate and sqrt(rate) (the one-step error sd
//    of a perfect forecast of Poisson demand) are used instead: the formula without estimation.
//  - Lead times: Normal(lead_days, lead_sd_days) per order, floored at 0.1 day; the policy is
//    given the true mean and sd (a supplier's published figures), not estimates.
//  - Policy: at each demand and each morning, if on hand + on order <= s (the day's reorder
//    point), DraftPurchaseOrder(...) is asked for a quantity (up to s + EOQ, case packs). Lost
//    sales: a demand that finds no stock is lost.
//  - Cycles: a cycle runs from one order's placement to that order's arrival, which is the next
//    arrival after it as long as one order is outstanding at a time (`overlapping_orders` counts
//    the orders placed while another was outstanding; the parameters below keep it 0). A cycle
//    has a stockout when some demand went unmet between placement and arrival. Before placement
//    the position is above s >= 0 so no demand is lost there: every lost unit falls in a cycle.
//    Cycles whose order arrives after the last day are not counted.
//    Achieved CSL = 1 - stockout cycles / cycles.
//
// Randomness: std::mt19937_64 with our own transforms (uniform from the top 53 bits, exponential
// by inversion, normal by Box-Muller), since std distributions differ between libraries.

#include <cmath>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "stdlib/replenishment.hpp"

namespace aisle::testing {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : gen_(seed) {}
  double Uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Exponential(double rate) { return -std::log1p(-Uniform()) / rate; }
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

struct SimItem {
  double demand_rate = 20.0;  // units a day (Poisson)
  double lead_days = 9.0;
  double lead_sd_days = 1.0;
  uint64_t seed = 1;
};

struct SimPolicy {
  double service_level = 0.95;
  int forecast_window = 182;  // days in the moving average
  int error_window = 182;     // one-step errors in sigma_e
  bool known_demand = false;
  int64_t order_cost = 30 * dsl::kMoneyScale;  // 30.00 per order
  int64_t holding_cost = 25'000;               // 2.50 per unit-year
  int64_t unit_cost = 12'500;                  // 1.25 per unit
  int64_t case_pack = 12;
};

struct SimResult {
  int64_t cycles = 0;
  int64_t stockout_cycles = 0;
  int64_t overlapping_orders = 0;
  int64_t units_demanded = 0;
  int64_t units_lost = 0;
  int64_t lost_outside_cycles = 0;  // lost with no order outstanding (0 when s >= 0)
  int64_t units_ordered = 0;
  int64_t order_value = 0;  // money units, the drafts' totals
  int64_t draft_errors = 0;

  double Csl() const {
    return cycles ? 1.0 - static_cast<double>(stockout_cycles) / static_cast<double>(cycles) : 0.0;
  }
  SimResult& operator+=(const SimResult& o) {
    cycles += o.cycles;
    stockout_cycles += o.stockout_cycles;
    overlapping_orders += o.overlapping_orders;
    units_demanded += o.units_demanded;
    units_lost += o.units_lost;
    lost_outside_cycles += o.lost_outside_cycles;
    units_ordered += o.units_ordered;
    order_value += o.order_value;
    draft_errors += o.draft_errors;
    return *this;
  }
  bool operator==(const SimResult&) const = default;
};

// Simulates `days` measured days of one item.
inline SimResult SimulateItem(const SimItem& item, const SimPolicy& policy, int days) {
  SimResult out;
  SimRandom demand_rng(item.seed);
  SimRandom lead_rng(item.seed ^ 0x9e3779b97f4a7c15ULL);
  const int n = policy.forecast_window, m = policy.error_window;
  const int warmup = n + m;
  std::vector<int64_t> counts;  // demand per day, warm-up included
  // Exact one-step error numerators: N * e_j = N * c_j - (sum of the N days before j), integers.
  std::vector<int64_t> scaled_errors;
  int64_t window_sum = 0;        // sum of the last n days' counts
  int64_t error_square_sum = 0;  // sum of the last m scaled errors squared

  struct Order {
    double arrival;
    int64_t quantity;
    bool stockout;
  };
  std::deque<Order> outstanding;  // in placement order
  double on_hand = 0.0, on_order = 0.0;
  double next_demand = demand_rng.Exponential(item.demand_rate);

  for (int day = 0; day < warmup + days; ++day) {
    const bool measured = day >= warmup;
    stdlib::PoDraftInput in;
    double rop = 0.0;
    if (measured) {
      if (policy.known_demand) {
        in.daily_demand = item.demand_rate;
        in.error_sd = std::sqrt(item.demand_rate);
      } else {
        in.daily_demand = static_cast<double>(window_sum) / n;
        in.error_sd = std::sqrt(static_cast<double>(error_square_sum) / m) / n;
      }
      in.lead_days = item.lead_days;
      in.lead_sd_days = item.lead_sd_days;
      in.service_level = policy.service_level;
      in.order_cost = policy.order_cost;
      in.holding_cost = policy.holding_cost;
      in.unit_cost = policy.unit_cost;
      in.case_pack = policy.case_pack;
      rop = *stdlib::ReorderPoint(in.daily_demand, in.error_sd, in.lead_days, in.service_level,
                                  in.lead_sd_days);
      if (day == warmup) {  // start full: up to s + Q
        auto q = stdlib::EconomicOrderQuantity(in.daily_demand * stdlib::kDaysPerYear,
                                               in.order_cost, in.holding_cost);
        on_hand = std::ceil(rop + *q);
      }
    }
    auto receive = [&](double until) {
      // Lead times are random, so a later order may overtake an earlier one: earliest first.
      for (;;) {
        auto first = outstanding.end();
        for (auto it = outstanding.begin(); it != outstanding.end(); ++it)
          if (first == outstanding.end() || it->arrival < first->arrival) first = it;
        if (first == outstanding.end() || first->arrival > until) return;
        on_hand += static_cast<double>(first->quantity);
        on_order -= static_cast<double>(first->quantity);
        ++out.cycles;
        if (first->stockout) ++out.stockout_cycles;
        outstanding.erase(first);
      }
    };
    auto review = [&](double now) {
      if (!measured || on_hand + on_order > rop) return;
      in.on_hand = on_hand;
      in.on_order = on_order;
      auto draft = stdlib::DraftPurchaseOrder(in);
      if (!draft || draft->quantity <= 0) {
        ++out.draft_errors;
        return;
      }
      if (!outstanding.empty()) ++out.overlapping_orders;
      const double lead = std::max(0.1, item.lead_days + item.lead_sd_days * lead_rng.Normal());
      outstanding.push_back({now + lead, draft->quantity, false});
      on_order += static_cast<double>(draft->quantity);
      out.units_ordered += draft->quantity;
      out.order_value += draft->total;
    };

    review(day);
    int64_t count = 0;
    while (next_demand < day + 1) {
      ++count;
      if (measured) {
        receive(next_demand);
        ++out.units_demanded;
        if (on_hand >= 1.0) {
          on_hand -= 1.0;
        } else {
          ++out.units_lost;
          if (outstanding.empty()) ++out.lost_outside_cycles;
          for (auto& o : outstanding) o.stockout = true;
        }
        review(next_demand);
      }
      next_demand += demand_rng.Exponential(item.demand_rate);
    }
    if (measured) receive(std::nextafter(static_cast<double>(day + 1), 0.0));

    // Close the day: its one-step error, then the windows move on.
    const int64_t scaled = day >= n ? n * count - window_sum : 0;
    scaled_errors.push_back(scaled);
    if (day >= n) error_square_sum += scaled * scaled;
    if (day >= n + m)
      error_square_sum -=
          scaled_errors[static_cast<size_t>(day - m)] * scaled_errors[static_cast<size_t>(day - m)];
    counts.push_back(count);
    window_sum += count;
    if (day >= n) window_sum -= counts[static_cast<size_t>(day - n)];
  }
  return out;
}

// The items of the simulation test and eval_replenishment: four demand rates and lead times,
// five seeds each (20 items). With S = 30.00, H = 2.50 the EOQ covers 15-30 days of demand, more
// than the longest lead time, so one order is outstanding at a time.
inline std::vector<SimItem> SimItems(uint64_t seed) {
  const double rates[] = {10, 20, 30, 40};
  const double leads[] = {5, 9, 7, 9};
  std::vector<SimItem> items;
  for (int copy = 0; copy < 5; ++copy)
    for (int k = 0; k < 4; ++k)
      items.push_back({rates[k], leads[k], 1.0, seed * 1000 + static_cast<uint64_t>(copy * 4 + k)});
  return items;
}

}  // namespace aisle::testing
