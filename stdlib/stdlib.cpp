#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

void RegisterStdlib(engine::OperatorRegistry& registry) {
  RegisterAggregates(registry);
  RegisterScalars(registry);
  RegisterAnomaly(registry);
  RegisterForecast(registry);
  RegisterStaffing(registry);
  RegisterAffinity(registry);
  RegisterSegments(registry);
  RegisterReplenishment(registry);
  RegisterMargin(registry);
  RegisterPromoLift(registry);
}

}  // namespace aisle::stdlib
