// Staffing through the language's `staffing` operator against hand-derived plans: stores whose
// hourly transactions (and foot traffic) repeat exactly every day for two weeks, so the forecast
// of the next day is the pattern, and the need and the cheapest schedule can be worked out by hand.

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "eval.hpp"
#include "stdlib/stdlib.hpp"

namespace {

using aisle::dsl::Value;
using aisle::dsl::kMicrosPerDay;
using aisle::dsl::kMicrosPerHour;

struct Plan {
  Value staff_hours;
  Value details[6];  // date, shifts, need, peak, csv, need_csv
};

std::string Text(const Value& v) {
  if (v.is_null()) return "null";
  if (v.type == aisle::dsl::Type::kInt) return std::to_string(v.i);
  return std::string(v.str());
}

// The figures of a plan, copied out of the operator's state (its detail strings point into it).
struct Figures {
  std::string staff_hours, date, shifts, need, peak;
};

// The last plan of 14 days of a store open [open, close) selling tx(hour) (and visited by
// traffic(hour) when traffic >= 0) every day.
template <typename Tx, typename Traffic>
Figures LastPlan(int open, int close, Tx tx, Traffic traffic) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  const std::vector<Value> constants = {
      Value::Null(), Value::Null(), Value::Int(12), Value::Int(40), Value::Int(1),
      Value::Duration(open * kMicrosPerHour), Value::Duration(close * kMicrosPerHour),
      Value::Duration(4 * kMicrosPerHour), Value::Duration(8 * kMicrosPerHour),
      Value::Duration(7 * kMicrosPerDay)};
  auto op = registry.Get(registry.Find("staffing")).stateful(constants);
  auto state = op->NewState();
  Figures last{"null", "null", "null", "null", "null"};
  const int64_t monday = aisle::dsl::DaysFromCivil(2025, 3, 3) * kMicrosPerDay;
  for (int64_t day = 0; day < 14; ++day)
    for (int hour = open; hour < close; ++hour) {
      Plan p;
      std::vector<Value> args(10);
      args[0] = Value::Int(tx(hour));
      if (traffic(hour) >= 0) args[1] = Value::Int(traffic(hour));
      p.staff_hours = op->Apply(*state, args,
                                {monday + day * kMicrosPerDay + hour * kMicrosPerHour, kMicrosPerHour},
                                p.details);
      if (!p.staff_hours.is_null())
        last = {Text(p.staff_hours), Text(p.details[0]), Text(p.details[1]), Text(p.details[2]),
                Text(p.details[3])};
    }
  return last;
}

}  // namespace

int main() {
  const char* source = "hand-derived (ceil(tx / 12), ceil(visitors / 40); fewest staff-hours)";
  auto none = [](int) { return -1; };
  // Open 08-16: 18 sales an hour to 12:00 (1.5 -> 2 people), 30 after (2.5 -> 3).
  const Figures a = LastPlan(8, 16, [](int h) { return h < 12 ? 18 : 30; }, none);
  aisle::eval::PrintRow("staffing", "need per hour, 18 then 30 tx, open 08-16", a.need,
                        "08:2 09:2 10:2 11:2 12:3 13:3 14:3 15:3", source);
  aisle::eval::PrintRow("staffing", "staff-hours, same store", a.staff_hours,
                        "20 (2 x 8h + 1 x 4h)", source);
  aisle::eval::PrintRow("staffing", "shifts, same store", a.shifts,
                        "08:00-16:00 x2, 12:00-16:00 x1", source);
  // Open 08-22, 18 sales every hour: 2 people for 14 hours, two shifts each (8h at most).
  const Figures b = LastPlan(8, 22, [](int) { return 18; }, none);
  aisle::eval::PrintRow("staffing", "staff-hours, 18 tx an hour, open 08-22", b.staff_hours,
                        "28 (2 x 14h, no surplus)", source);
  aisle::eval::PrintRow("staffing", "peak need, same store", b.peak, "2", source);
  // 100 visitors an hour: 2.5 -> 3 people, above the tills' need all day.
  const Figures c = LastPlan(8, 16, [](int h) { return h < 12 ? 18 : 30; }, [](int) { return 100; });
  aisle::eval::PrintRow("staffing", "staff-hours, + 100 visitors an hour, open 08-16",
                        c.staff_hours, "24 (3 x 8h)", source);
  aisle::eval::PrintRow("staffing", "plan made on Sun 2025-03-16 is for", c.date,
                        "2025-03-17", source);
  return 0;
}
