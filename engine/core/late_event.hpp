#pragma once
// An event that came after its window closed for good (beyond its stream's lateness), reported
// once for each metric that refused it.

#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/core/event.hpp"

namespace aisle::engine {

struct LateEvent {
  const Event& event;
  std::string_view metric;
  int64_t lateness;  // the stream's allowed lateness, microseconds
};
using LateHandler = std::function<void(const LateEvent&)>;

}  // namespace aisle::engine
