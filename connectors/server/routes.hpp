#pragma once
// The platform routes `aisle serve` offers: one per configured platform, wiring each platform's
// authentication and normalization (connectors/webhooks/<platform>.hpp) to the server's Route.
// A platform the config does not name has no route (404).

#include <memory>
#include <vector>

#include "connectors/server/config.hpp"
#include "connectors/server/server.hpp"

namespace aisle::connectors::server {

// Owns what routes share for the server's lifetime (the REST clients of Square and Clover).
class RouteSet {
 public:
  explicit RouteSet(const ServeConfig& config);
  ~RouteSet();
  RouteSet(const RouteSet&) = delete;
  RouteSet& operator=(const RouteSet&) = delete;
  std::vector<Route> routes() const { return routes_; }

 private:
  struct Shared;
  std::unique_ptr<Shared> shared_;
  std::vector<Route> routes_;
};

}  // namespace aisle::connectors::server
