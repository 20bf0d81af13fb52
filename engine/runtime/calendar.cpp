#include "engine/runtime/calendar.hpp"

#include <date/tz.h>

#include "dsl/open_hours.hpp"
#include "dsl/time.hpp"

namespace aisle::engine {

namespace {
using Micros = std::chrono::microseconds;
using Kind = dsl::plan::Metric::WindowKind;

int64_t ToUtc(const date::time_zone* tz, date::local_days day) {
  if (tz == nullptr) return day.time_since_epoch().count() * dsl::kMicrosPerDay;
  // `earliest`: where midnight is skipped or repeated by a clock change, take its first instant.
  return date::floor<Micros>(tz->to_sys(day, date::choose::earliest)).time_since_epoch().count();
}

date::local_days LocalDay(const date::time_zone* tz, int64_t ts) {
  const date::sys_time<Micros> instant{Micros{ts}};
  if (tz == nullptr) return date::local_days{date::floor<date::days>(instant).time_since_epoch()};
  return date::floor<date::days>(tz->to_local(instant));
}
}  // namespace

Calendar::Calendar(const dsl::plan::Metric& plan) : plan_(&plan) {
  AddZones(plan.store_timezones);
  for (auto& [store, zone] : zones_)
    if (auto h = plan.store_hours.find(store); h != plan.store_hours.end()) zone.hours = &h->second;
}

Calendar::Calendar(const std::unordered_map<std::string, std::string>& store_timezones) {
  AddZones(store_timezones);
}

void Calendar::AddZones(const std::unordered_map<std::string, std::string>& store_timezones) {
  for (const auto& [store, name] : store_timezones) {
    Zone zone;
    try {
      zone.tz = date::locate_zone(name);
    } catch (const std::exception&) {
      zone.tz = nullptr;  // not a zone the system knows: UTC
    }
    zones_.emplace(store, zone);
  }
}

Calendar::Zone& Calendar::Find(std::string_view store) {
  auto it = zones_.find(store);
  return it == zones_.end() ? utc_ : it->second;
}

int64_t Calendar::FiscalYearStart(int64_t year) const {
  // The anchor's weekday nearest the anchor's month and day in `year`.
  const date::sys_days anchor{date::days{plan_->fiscal_anchor}};
  const date::year_month_day a{anchor};
  date::year_month_day target{date::year{static_cast<int>(year)}, a.month(), a.day()};
  if (!target.ok()) target = date::year{static_cast<int>(year)} / a.month() / date::last;  // Feb 29
  const date::sys_days t{target};
  int diff = static_cast<int>((date::weekday{anchor} - date::weekday{t}).count());  // 0..6
  if (diff > 3) diff -= 7;
  return (t + date::days{diff}).time_since_epoch().count();
}

void Calendar::Compute(const Zone& zone, int64_t ts, int64_t& start, int64_t& end) const {
  const auto* tz = static_cast<const date::time_zone*>(zone.tz);
  const date::local_days day = LocalDay(tz, ts);
  date::local_days first = day, next = day + date::days{1};
  switch ((plan_ ? plan_->window_kind : Kind::kDay)) {
    case Kind::kWeek: {
      const int wd = static_cast<int>(date::weekday{day}.c_encoding());
      first = day - date::days{(wd - plan_->week_start + 7) % 7};
      next = first + date::days{7};
      break;
    }
    case Kind::kMonth: {
      const date::year_month_day ymd{day};
      const auto month_start = ymd.year() / ymd.month() / 1;
      first = date::local_days{month_start};
      next = date::local_days{month_start + date::months{1}};
      break;
    }
    case Kind::kFiscal: {
      const int64_t d = day.time_since_epoch().count();
      int64_t year = static_cast<int>(date::year_month_day{day}.year());
      int64_t year_start = FiscalYearStart(year);
      if (d < year_start) year_start = FiscalYearStart(--year);
      int64_t year_end = FiscalYearStart(year + 1);
      if (d >= year_end) {
        year_start = year_end;
        year_end = FiscalYearStart(++year + 1);
      }
      const int64_t weeks = (year_end - year_start) / 7;  // 52, or 53: the last period takes it
      const int64_t week = (d - year_start) / 7;
      int64_t from = 0;
      for (int p = 0; p < 12; ++p) {
        int64_t to = from + plan_->fiscal_pattern[static_cast<size_t>(p % 3)];
        if (p == 11) to = weeks;
        if (week < to || p == 11) {
          first = date::local_days{date::days{year_start + from * 7}};
          next = date::local_days{date::days{year_start + to * 7}};
          break;
        }
        from = to;
      }
      break;
    }
    default:
      break;
  }
  start = ToUtc(tz, first);
  end = ToUtc(tz, next);
}

std::pair<int64_t, int64_t> Calendar::Period(std::string_view store, int64_t ts) {
  Zone& zone = Find(store);
  if (zone.end <= zone.start || ts < zone.start || ts >= zone.end)
    Compute(zone, ts, zone.start, zone.end);
  return {zone.start, zone.end};
}

int64_t Calendar::Offset(Zone& zone, int64_t ts) {
  if (ts < zone.offset_from || ts >= zone.offset_to) {
    const auto* tz = static_cast<const date::time_zone*>(zone.tz);
    if (tz == nullptr) {
      zone.offset = 0;
      zone.offset_from = INT64_MIN;
      zone.offset_to = INT64_MAX;
    } else {
      const auto info = tz->get_info(date::sys_time<Micros>{Micros{ts}});
      zone.offset = date::floor<Micros>(info.offset).count();
      zone.offset_from = date::floor<Micros>(info.begin).time_since_epoch().count();
      zone.offset_to = date::floor<Micros>(info.end).time_since_epoch().count();
    }
  }
  return zone.offset;
}

int64_t Calendar::UtcOffset(std::string_view store, int64_t ts) {
  return Offset(Find(store), ts);
}

bool Calendar::IsOpen(std::string_view store, int64_t ts) {
  Zone& zone = Find(store);
  if (zone.hours == nullptr) return true;
  const int64_t local = ts + Offset(zone, ts);
  const int64_t days = dsl::FloorDiv(local, dsl::kMicrosPerDay);
  const int weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  const int minute = static_cast<int>((local - days * dsl::kMicrosPerDay) / 60'000'000);
  return dsl::IsOpen(*zone.hours, weekday, minute);
}

int64_t Calendar::NextLocalTime(std::string_view store, int64_t after, int64_t time_of_day) const {
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
