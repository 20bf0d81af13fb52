#pragma once
// Registers the built-in functions: aggregates, scalar functions and analytics operators.
// Call once per registry, before compiling rules.

namespace aisle::engine {
class OperatorRegistry;
}

namespace aisle::stdlib {

void RegisterStdlib(engine::OperatorRegistry& registry);

// The parts, for registries that want only some of them.
void RegisterAggregates(engine::OperatorRegistry& registry);
void RegisterScalars(engine::OperatorRegistry& registry);
void RegisterAnomaly(engine::OperatorRegistry& registry);
void RegisterForecast(engine::OperatorRegistry& registry);
// `staffing`: staff-hours and shifts for the store's next local day (staffing_function.cpp).
void RegisterStaffing(engine::OperatorRegistry& registry);
// The `affinity` stage: basket affinity rules per window (affinity_stage.cpp).
void RegisterAffinity(engine::OperatorRegistry& registry);
// The `segments` stage: k-means customer segments per window (segments_stage.cpp).
void RegisterSegments(engine::OperatorRegistry& registry);
// reorder_point, safety_stock, eoq, days_of_cover, stockout_eta, case_pack.
void RegisterReplenishment(engine::OperatorRegistry& registry);
// margin, margin_pct, markdown_candidate, markdown_pct.
void RegisterMargin(engine::OperatorRegistry& registry);
// promo_lift.
void RegisterPromoLift(engine::OperatorRegistry& registry);

}  // namespace aisle::stdlib
