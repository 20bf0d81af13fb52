#pragma once
// Labor staffing for one store-day: people needed per hour from forecast transactions (and,
// optionally, forecast foot traffic), and a draft schedule of shifts that covers every hour's
// need with the fewest staff-hours. Engine-independent.
//
// Need per open hour h: max(min_staff, ceil(tx_h / tx_per_staff_hour),
//                           ceil(traffic_h / traffic_per_staff_hour) when that ratio is > 0).
// The traffic term is a service ratio (visitors one person can serve in an hour): it staffs the
// floor for browsers who do not buy. Negative forecasts count as 0; a quotient within 1e-9 of an
// integer is taken as that integer (11.000000000000002 people is 11). Hours outside the opening
// hours need 0 (the store is closed; forecasts there are ignored).
//
// Schedule: shifts [start, end) in whole hours inside [open_hour, close_hour), each between
// min_shift_hours and max_shift_hours long; every hour's count of people on shift >= its need;
// minimal total staff-hours, and among those the fewest shifts. Exact: the covering constraints
// form an interval matrix, so subtracting consecutive rows turns the integer program into a
// minimum-cost flow (Veinott & Wagner 1962): nodes are the hour boundaries, a shift [s, e) is an
// arc e -> s costing its length, surplus coverage at hour h is a free arc h -> h + 1, and the
// boundary h supplies need[h-1] - need[h]. Successive shortest paths (Bellman-Ford, fixed arc
// order, strict improvements only) solve it in integers and deterministically.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::stdlib {

// Hours of a day the schedule covers.
inline constexpr int kHoursPerDay = 24;

// Shift rules; every field has its default.
struct ShiftRules {
  int open_hour = 0;        // shifts start at or after this hour, 0..23
  int close_hour = 24;      // shifts end at or before this hour, open_hour+1..24
  int min_shift_hours = 4;  // shortest shift, >= 1
  int max_shift_hours = 8;  // longest shift, >= min_shift_hours
};

// A block of identical shifts.
struct Shift {
  int start = 0;  // first hour on shift, 0..23
  int end = 0;    // hour the shift ends (exclusive), 1..24
  int staff = 0;  // people on this shift
  bool operator==(const Shift&) const = default;
};

// A day's staffing: the need and the draft schedule that covers it.
struct StaffingPlan {
  std::vector<int> need;      // people needed, 24 hours
  std::vector<int> coverage;  // people on shift, 24 hours; coverage[h] >= need[h]
  std::vector<Shift> shifts;  // sorted by (start, end)
  int64_t staff_hours = 0;    // the sum of coverage (= of shift lengths x staff)
  bool operator==(const StaffingPlan&) const = default;
};

// People needed per hour (file comment). `forecast_tx` has 24 values; `forecast_traffic` has 24
// values, or none when traffic_per_staff_hour is 0. Errors: wrong lengths, non-finite values,
// tx_per_staff_hour <= 0, min_staff < 0, bad opening hours.
Result<std::vector<int>> HourlyNeed(const std::vector<double>& forecast_traffic,
                                    const std::vector<double>& forecast_tx,
                                    double tx_per_staff_hour, int min_staff,
                                    const ShiftRules& rules, double traffic_per_staff_hour = 0);

// The cheapest schedule covering `need` (24 values) under `rules`. Errors: bad rules, need
// outside opening hours, needs that no legal shift can cover (opening hours shorter than the
// shortest shift), a need above 100,000.
Result<StaffingPlan> PlanShifts(const std::vector<int>& need, const ShiftRules& rules);

// HourlyNeed, then PlanShifts.
Result<StaffingPlan> Staffing(const std::vector<double>& forecast_traffic,
                              const std::vector<double>& forecast_tx, double tx_per_staff_hour,
                              int min_staff, const ShiftRules& rules,
                              double traffic_per_staff_hour = 0);

// One CSV field, quoted per RFC 4180 when it holds a comma, a quote, CR or LF.
std::string CsvField(std::string_view text);

// The schedule as CSV: header `date,start,end,staff`, one row per shift block, hours as "HH:00"
// (end may be "24:00"), lines ending in CRLF as RFC 4180 writes them.
std::string ScheduleCsv(std::string_view date, const StaffingPlan& plan);

// The hourly need as CSV: header `date,hour,need,scheduled`, 24 rows, CRLF line ends.
std::string NeedCsv(std::string_view date, const StaffingPlan& plan);

}  // namespace aisle::stdlib
