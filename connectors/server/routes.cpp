#include "connectors/server/routes.hpp"

namespace aisle::connectors::server {

struct RouteSet::Shared {
  ServeConfig config;
};

RouteSet::RouteSet(const ServeConfig& config) : shared_(std::make_unique<Shared>()) {
  shared_->config = config;
}

RouteSet::~RouteSet() = default;

}  // namespace aisle::connectors::server
