#pragma once
// Each store's local calendar: the day, week, month or fiscal (4-4-5) period holding an instant,
// and whether the store is open then, through the system time zone database (Howard Hinnant's
// date/tz.h, kept out of this header). Caches each store's current period and UTC offset, so the
// zone is consulted only when an event crosses into another period or offset.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "dsl/plan.hpp"

namespace aisle::engine {

class Calendar {
 public:
  // Stores, zones, period kind and hours come from the metric's plan, which must outlive this.
  // Unknown stores and zones use UTC; stores without hours count as always open.
  explicit Calendar(const dsl::plan::Metric& plan);
  // Days only, for these stores' zones (schedules).
  explicit Calendar(const std::unordered_map<std::string, std::string>& store_timezones);

  // The store's local period [start, end) that holds `ts`, in UTC microseconds (a day is 23 or
  // 25 hours long when clocks change).
  std::pair<int64_t, int64_t> Period(std::string_view store, int64_t ts);
  // Whether `ts` falls in the store's opening hours.
  bool IsOpen(std::string_view store, int64_t ts);
  // The store's local time minus UTC at `ts`, microseconds (0 for UTC and unknown stores).
  int64_t UtcOffset(std::string_view store, int64_t ts);
  // The first instant after `after` at which the store's local clock reads `time_of_day`
  // (microseconds after midnight). A time the clocks skip maps to the instant they skip at; a
  // time they repeat, to its first occurrence.
  int64_t NextLocalTime(std::string_view store, int64_t after, int64_t time_of_day) const;

 private:
  struct Zone {
    const void* tz = nullptr;  // date::time_zone, or null for UTC
    const dsl::plan::WeeklyHours* hours = nullptr;
    int64_t start = 0, end = 0;                   // the period last computed
    int64_t offset_from = 0, offset_to = 0;       // where `offset` holds, UTC
    int64_t offset = 0;                           // local minus UTC, microseconds
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void AddZones(const std::unordered_map<std::string, std::string>& store_timezones);
  Zone& Find(std::string_view store);
  // The zone's offset at `ts`, cached until the next clock change.
  static int64_t Offset(Zone& zone, int64_t ts);
  void Compute(const Zone& zone, int64_t ts, int64_t& start, int64_t& end) const;
  // First local day of the fiscal year of `year` (days since 1970-01-01).
  int64_t FiscalYearStart(int64_t year) const;

  const dsl::plan::Metric* plan_ = nullptr;  // null: days only
  std::unordered_map<std::string, Zone, Hash, std::equal_to<>> zones_;
  Zone utc_;
};

}  // namespace aisle::engine
