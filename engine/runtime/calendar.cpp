#include "engine/runtime/calendar.hpp"

#include <date/tz.h>

#include "dsl/time.hpp"

namespace aisle::engine {

namespace {
using Micros = std::chrono::microseconds;

void Compute(const date::time_zone* tz, int64_t ts, int64_t& start, int64_t& end) {
  if (tz == nullptr) {
    start = dsl::FloorDiv(ts, dsl::kMicrosPerDay) * dsl::kMicrosPerDay;
    end = start + dsl::kMicrosPerDay;
    return;
  }
  const date::sys_time<Micros> instant{Micros{ts}};
  const auto local_day = date::floor<date::days>(tz->to_local(instant));
  // `earliest`: where midnight is skipped or repeated by a clock change, take its first instant.
  start = date::floor<Micros>(tz->to_sys(local_day, date::choose::earliest)).time_since_epoch().count();
  end = date::floor<Micros>(tz->to_sys(local_day + date::days{1}, date::choose::earliest))
            .time_since_epoch()
            .count();
}
}  // namespace

CalendarDays::CalendarDays(const std::unordered_map<std::string, std::string>& store_timezones) {
  for (const auto& [store, name] : store_timezones) {
    Zone zone;
    try {
      zone.tz = date::locate_zone(name);
    } catch (const std::exception&) {
      zone.tz = nullptr;  // not a zone the system knows: UTC days
    }
    zones_.emplace(store, zone);
  }
}

std::pair<int64_t, int64_t> CalendarDays::Day(std::string_view store, int64_t ts) {
  auto it = zones_.find(store);
  Zone& zone = it == zones_.end() ? utc_ : it->second;
  if (zone.end <= zone.start || ts < zone.start || ts >= zone.end) {
    Compute(static_cast<const date::time_zone*>(zone.tz), ts, zone.start, zone.end);
  }
  return {zone.start, zone.end};
}

}  // namespace aisle::engine
