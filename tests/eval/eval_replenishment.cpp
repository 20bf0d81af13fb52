// eval_replenishment: the replenishment core against references it did not compute.
//  - Achieved cycle service level of an (s, Q) policy with s = reorder_point, simulated over
//    10,000 days for 20 items (tests/support/replenishment_sim.hpp: Poisson demand, normal lead
//    times, lost sales), against the target itself: by definition, s at CSL should leave a
//    fraction CSL of replenishment cycles without a stockout. Once with sigma_e estimated from a
//    moving-average forecast's one-step errors (what a store would do), once with the true demand
//    parameters (the formula alone).
//  - Textbook cases worked by hand (Chopra & Meindl's safety-inventory and EOQ examples, the
//    standard normal table).

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "eval.hpp"
#include "stdlib/replenishment.hpp"
#include "tests/support/replenishment_sim.hpp"

namespace {

using aisle::eval::PrintRow;

void Row(const std::string& figure, double aisle, double reference, const char* source,
         int digits = 2) {
  PrintRow("replenishment", figure, fmt::format("{:.{}f}", aisle, digits),
           fmt::format("{:.{}f}", reference, digits), source);
}

}  // namespace

int main() {
  const auto items = aisle::testing::SimItems(1);
  for (bool known : {false, true}) {
    for (double target : {0.90, 0.95, 0.98}) {
      aisle::testing::SimPolicy policy;
      policy.service_level = target;
      policy.known_demand = known;
      aisle::testing::SimResult r;
      for (const auto& item : items) r += aisle::testing::SimulateItem(item, policy, 10'000);
      std::fprintf(stderr,
                   "eval_replenishment: target %.2f (%s): %lld of %lld cycles stocked out\n",
                   target, known ? "known demand" : "estimated",
                   static_cast<long long>(r.stockout_cycles), static_cast<long long>(r.cycles));
      Row(fmt::format(
              "achieved CSL % at target {:.0f}%, {} ({} cycles, 20 items x 10,000 days)",
              target * 100,
              known ? "true demand rate and sigma" : "sigma_e from 182-day MA forecast errors",
              r.cycles),
          100.0 * r.Csl(), 100.0 * target, "definition of cycle service level", 1);
    }
  }

  Row("z(0.95)", *aisle::stdlib::ServiceFactor(0.95), 1.6449, "standard normal table", 4);
  Row("safety stock, d 20/day, sigma_e 5, L 9 d, CSL 95%", *aisle::stdlib::SafetyStock(5, 9, 0.95),
      24.67, "hand-worked: 1.6449 x sqrt(9 x 25)");
  Row("reorder point, same item", *aisle::stdlib::ReorderPoint(20, 5, 9, 0.95), 204.67,
      "hand-worked: 180 + 24.67");
  Row("safety inventory, D 2,500/wk, sd 500, L 2 wk, CSL 90%",
      *aisle::stdlib::SafetyStock(500, 2, 0.90), 906.19,
      "Chopra & Meindl, safety inventory chapter: NORMSINV(0.9) x sqrt(2) x 500");
  Row("safety inventory with lead-time sd 7 d, D 2,500/day, sd 500, L 7 d, CSL 90%",
      *aisle::stdlib::SafetyStock(500, 7, 0.90, 7, 2500), 22491.0,
      "Chopra & Meindl, safety inventory chapter (lead-time uncertainty example): 22,491", 0);
  Row("EOQ, D 1,000/yr, S 10.00, H 2.50",
      *aisle::stdlib::EconomicOrderQuantity(1000, 100'000, 25'000), 89.44,
      "hand-worked: sqrt(2 x 1000 x 10 / 2.5) = sqrt(8000)");
  Row("EOQ, D 12,000/yr, S 4,000, h 20% of C 500",
      *aisle::stdlib::EconomicOrderQuantityAtRate(12'000, 40'000'000, 0.20, 5'000'000), 980.0,
      "Chopra & Meindl, cycle inventory chapter (Best Buy example): 980", 0);
  return 0;
}
