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

int64_t CalendarDays::NextLocalTime(std::string_view store, int64_t after, int64_t time_of_day) const {
  auto it = zones_.find(store);
  const auto* tz = it == zones_.end() ? nullptr : static_cast<const date::time_zone*>(it->second.tz);
  if (tz == nullptr)
    return (dsl::FloorDiv(after - time_of_day, dsl::kMicrosPerDay) + 1) * dsl::kMicrosPerDay + time_of_day;
  const date::sys_time<Micros> instant{Micros{after}};
  // The local day before `after`'s, that day, the next, ...: the first match is at most two away.
  auto day = date::floor<date::days>(tz->to_local(instant)) - date::days{1};
  for (;; day += date::days{1}) {
    const auto local = date::local_time<Micros>(day) + Micros{time_of_day};
    const int64_t at =
        date::floor<Micros>(tz->to_sys(local, date::choose::earliest)).time_since_epoch().count();
    if (at > after) return at;
  }
}

}  // namespace aisle::engine
