#pragma once
// Calendar days in each store's own time zone (`window day`), through the system time zone
// database (Howard Hinnant's date/tz.h, kept out of this header). Caches each store's current day,
// so the zone is consulted only when an event crosses into another day.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace aisle::engine {

class CalendarDays {
 public:
  // `store_timezones`: store -> IANA zone name. Unknown stores and zones use UTC days.
  explicit CalendarDays(const std::unordered_map<std::string, std::string>& store_timezones);

  // The store's local day [start, end) that holds `ts`, in UTC microseconds (23 or 25 hours long
  // on the days clocks change).
  std::pair<int64_t, int64_t> Day(std::string_view store, int64_t ts);

  // The first instant after `after` at which the store's local clock reads `time_of_day`
  // (microseconds after midnight). A time the clocks skip maps to the instant they skip at; a
  // time they repeat, to its first occurrence.
  int64_t NextLocalTime(std::string_view store, int64_t after, int64_t time_of_day) const;

 private:
  struct Zone {
    const void* tz = nullptr;  // date::time_zone, or null for UTC
    int64_t start = 0, end = 0;  // the day last computed
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Zone, Hash, std::equal_to<>> zones_;
  Zone utc_;
};

}  // namespace aisle::engine
