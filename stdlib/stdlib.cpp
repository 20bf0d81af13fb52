#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

void RegisterStdlib(engine::OperatorRegistry& registry) {
  RegisterAggregates(registry);
  RegisterScalars(registry);
  RegisterAnomaly(registry);
  RegisterReplenishment(registry);
}

}  // namespace aisle::stdlib
