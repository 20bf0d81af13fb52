// Staffing: hourly need and shift schedules, checked by hand and against a brute-force search.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/csv.hpp"
#include "stdlib/staffing.hpp"

using aisle::stdlib::HourlyNeed;
using aisle::stdlib::PlanShifts;
using aisle::stdlib::Shift;
using aisle::stdlib::ShiftRules;
using aisle::stdlib::Staffing;
using aisle::stdlib::StaffingPlan;

namespace {

ShiftRules Rules(int open, int close, int min_len, int max_len) {
  ShiftRules r;
  r.open_hour = open;
  r.close_hour = close;
  r.min_shift_hours = min_len;
  r.max_shift_hours = max_len;
  return r;
}

std::vector<int> Need(int from, int to, int people, std::vector<int> base = {}) {
  if (base.empty()) base.assign(24, 0);
  for (int h = from; h < to; ++h) base[h] = people;
  return base;
}

// Every invariant a plan must keep, recomputed from its shifts.
void CheckPlan(const StaffingPlan& plan, const std::vector<int>& need, const ShiftRules& r) {
  std::vector<int> coverage(24, 0);
  int64_t hours = 0;
  for (const Shift& s : plan.shifts) {
    CHECK(s.start >= r.open_hour);
    CHECK(s.end <= r.close_hour);
    CHECK(s.end - s.start >= r.min_shift_hours);
    CHECK(s.end - s.start <= r.max_shift_hours);
    CHECK(s.staff > 0);
    for (int h = s.start; h < s.end; ++h) coverage[h] += s.staff;
    hours += static_cast<int64_t>(s.end - s.start) * s.staff;
  }
  CHECK(coverage == plan.coverage);
  CHECK(hours == plan.staff_hours);
  CHECK(plan.need == need);
  for (int h = 0; h < 24; ++h) CHECK(coverage[h] >= need[h]);
}

// Exhaustive search for the fewest staff-hours, then the fewest shifts: the leftmost hour still
// short of its need must get one more shift that covers it; try every legal one (in nondecreasing
// order while the hour stays the same, so each multiset of shifts is tried once).
struct BruteForce {
  std::vector<int> need;
  ShiftRules r;
  std::vector<std::pair<int, int>> types;  // [start, end)
  std::vector<int> coverage = std::vector<int>(24, 0);
  bool found = false;
  int64_t best_hours = 0;
  int best_count = 0;

  BruteForce(std::vector<int> n, ShiftRules rules) : need(std::move(n)), r(rules) {
    for (int s = r.open_hour; s < r.close_hour; ++s) {
      for (int e = s + r.min_shift_hours; e <= std::min(r.close_hour, s + r.max_shift_hours); ++e) {
        types.emplace_back(s, e);
      }
    }
    Search(0, 0, 0, -1);
  }

  void Search(int64_t hours, int count, size_t first, int last_hour) {
    int h = -1;
    int64_t deficit = 0;
    for (int i = 0; i < 24; ++i) {
      if (coverage[i] < need[i]) {
        if (h < 0) h = i;
        deficit += need[i] - coverage[i];
      }
    }
    if (h < 0) {
      if (!found || hours < best_hours || (hours == best_hours && count < best_count)) {
        found = true;
        best_hours = hours;
        best_count = count;
      }
      return;
    }
    if (found && hours + deficit > best_hours) return;
    for (size_t t = (h == last_hour ? first : 0); t < types.size(); ++t) {
      auto [s, e] = types[t];
      if (s > h || e <= h) continue;
      for (int i = s; i < e; ++i) ++coverage[i];
      Search(hours + (e - s), count + 1, t, h);
      for (int i = s; i < e; ++i) --coverage[i];
    }
  }
};

}  // namespace

TEST_CASE("hourly need from transactions and traffic", "[staffing]") {
  std::vector<double> tx(24, 0.0), traffic(24, 0.0);
  tx[9] = 25;         // ceil(25 / 10) = 3
  tx[10] = 30;        // exactly 3
  tx[11] = 4;         // ceil(0.4) = 1, and min_staff 1 anyway
  tx[12] = -5;        // a negative forecast counts as 0 -> min_staff 2 below
  tx[3] = 500;        // closed at 3 a.m.: ignored
  traffic[10] = 130;  // ceil(130 / 40) = 4 > 3 from transactions
  ShiftRules r = Rules(9, 18, 4, 8);
  auto need = HourlyNeed(traffic, tx, 10.0, 1, r, 40.0);
  REQUIRE(need.ok());
  CHECK((*need)[9] == 3);
  CHECK((*need)[10] == 4);
  CHECK((*need)[11] == 1);
  CHECK((*need)[12] == 1);
  CHECK((*need)[3] == 0);
  CHECK((*need)[8] == 0);
  CHECK((*need)[17] == 1);
  CHECK((*need)[18] == 0);
  // Without the traffic ratio, traffic is ignored (and may be left out).
  auto tx_only = HourlyNeed({}, tx, 10.0, 2, r);
  REQUIRE(tx_only.ok());
  CHECK((*tx_only)[10] == 3);
  CHECK((*tx_only)[12] == 2);
  // 1.1 / 0.1 is 11.000000000000002 in doubles: still 11 people.
  std::vector<double> tenths(24, 0.0);
  tenths[9] = 1.1;
  CHECK(HourlyNeed({}, tenths, 0.1, 0, r).value()[9] == 11);
  // Errors.
  CHECK_FALSE(HourlyNeed({}, std::vector<double>(23, 1.0), 10, 1, r).ok());
  CHECK_FALSE(HourlyNeed({}, tx, 0, 1, r).ok());
  CHECK_FALSE(HourlyNeed({}, tx, 10, 1, r, 40.0).ok());  // traffic ratio without traffic
  CHECK_FALSE(HourlyNeed({}, tx, 10, -1, r).ok());
  CHECK_FALSE(HourlyNeed({}, tx, 10, 1, Rules(10, 9, 4, 8)).ok());
}

TEST_CASE("a flat day is one block of full shifts", "[staffing]") {
  // 2 people 9:00-17:00, shifts 4-8 h: two 8-hour shifts, 16 staff-hours (= the sum of need).
  ShiftRules r = Rules(9, 17, 4, 8);
  auto need = Need(9, 17, 2);
  auto plan = PlanShifts(need, r);
  REQUIRE(plan.ok());
  CheckPlan(*plan, need, r);
  CHECK(plan->shifts == std::vector<Shift>{{9, 17, 2}});
  CHECK(plan->staff_hours == 16);
}

TEST_CASE("an afternoon peak gets short shifts on top of a full one", "[staffing]") {
  // Need 1 from 9 to 13, 3 from 13 to 17; shifts 4-8 h. Sum of need 4 + 12 = 16, reachable.
  // With the fewest shifts: whoever starts at 9 works till 17 (ending at 13 would leave the three
  // afternoon places to two people), so 9-17 x 1 and 13-17 x 2: three shifts (9-13 x 1 plus
  // 13-17 x 3 also has 16 hours, but four shifts).
  ShiftRules r = Rules(9, 17, 4, 8);
  auto need = Need(13, 17, 3, Need(9, 13, 1));
  auto plan = PlanShifts(need, r);
  REQUIRE(plan.ok());
  CheckPlan(*plan, need, r);
  CHECK(plan->shifts == std::vector<Shift>{{9, 17, 1}, {13, 17, 2}});
  CHECK(plan->staff_hours == 16);
}

TEST_CASE("a lone busy hour still costs a minimum shift", "[staffing]") {
  // One person at 10:00 only, shifts of at least 4 h: some 4-hour shift covering 10 (8-12, 9-13
  // or 10-14); 4 staff-hours.
  ShiftRules r = Rules(8, 20, 4, 8);
  auto need = Need(10, 11, 1);
  auto plan = PlanShifts(need, r);
  REQUIRE(plan.ok());
  CheckPlan(*plan, need, r);
  REQUIRE(plan->shifts.size() == 1);
  CHECK(plan->shifts[0].end - plan->shifts[0].start == 4);
  CHECK(plan->staff_hours == 4);
}

TEST_CASE("fixed two-hour shifts over a dip must overstaff the middle hour", "[staffing]") {
  // Hours 9, 10, 11 need 2, 1, 2; open 9-12, shifts of exactly 2 h: only 9-11 and 10-12 exist.
  // Hour 9 forces two 9-11 shifts, hour 11 two 10-12 shifts: 4 people at 10, 8 staff-hours.
  ShiftRules r = Rules(9, 12, 2, 2);
  std::vector<int> need(24, 0);
  need[9] = 2;
  need[10] = 1;
  need[11] = 2;
  auto plan = PlanShifts(need, r);
  REQUIRE(plan.ok());
  CheckPlan(*plan, need, r);
  CHECK(plan->shifts == std::vector<Shift>{{9, 11, 2}, {10, 12, 2}});
  CHECK(plan->coverage[10] == 4);
  CHECK(plan->staff_hours == 8);
}

TEST_CASE("a day longer than the longest shift is split", "[staffing]") {
  // One person 9:00-21:00 (12 h), shifts 4-8 h: two shifts meeting somewhere between 13 and 17,
  // 12 staff-hours, nobody doubled.
  ShiftRules r = Rules(9, 21, 4, 8);
  auto need = Need(9, 21, 1);
  auto plan = PlanShifts(need, r);
  REQUIRE(plan.ok());
  CheckPlan(*plan, need, r);
  CHECK(plan->shifts.size() == 2);
  CHECK(plan->staff_hours == 12);
}

TEST_CASE("impossible schedules are errors", "[staffing]") {
  CHECK_FALSE(PlanShifts(Need(9, 11, 1), Rules(9, 11, 4, 8)).ok());  // 2 open hours, 4-h shifts
  CHECK_FALSE(PlanShifts(Need(7, 9, 1), Rules(9, 17, 4, 8)).ok());   // need while closed
  CHECK_FALSE(PlanShifts(Need(9, 10, 1), Rules(9, 17, 5, 4)).ok());  // min above max
  CHECK_FALSE(PlanShifts(std::vector<int>(23, 0), Rules(9, 17, 4, 8)).ok());
  // Nothing needed: an empty plan, even when no shift would fit.
  auto empty = PlanShifts(std::vector<int>(24, 0), Rules(9, 11, 4, 8));
  REQUIRE(empty.ok());
  CHECK(empty->shifts.empty());
  CHECK(empty->staff_hours == 0);
}

TEST_CASE("staff-hours and shift counts equal a brute-force search on random days", "[staffing]") {
  std::mt19937_64 rng(2024);
  int feasible = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int span = 2 + static_cast<int>(rng() % 6);  // 2..7 open hours
    const int open = static_cast<int>(rng() % (25 - span));
    const int min_len = 1 + static_cast<int>(rng() % 3);
    const int max_len = min_len + static_cast<int>(rng() % 3);
    ShiftRules r = Rules(open, open + span, min_len, max_len);
    std::vector<int> need(24, 0);
    for (int h = open; h < open + span; ++h) need[h] = static_cast<int>(rng() % 3);
    BruteForce brute(need, r);
    auto plan = PlanShifts(need, r);
    INFO("trial " << trial << " open " << open << " span " << span << " shifts " << min_len << ".."
                  << max_len);
    REQUIRE(plan.ok() == brute.found);
    if (!brute.found) continue;
    ++feasible;
    CheckPlan(*plan, need, r);
    CHECK(plan->staff_hours == brute.best_hours);
    int count = 0;
    for (const Shift& s : plan->shifts) count += s.staff;
    CHECK(count == brute.best_count);
  }
  CHECK(feasible > 300);
}

TEST_CASE("plans are deterministic and independent of the order stores are planned in",
          "[staffing]") {
  // Five stores' forecasts planned in order and in reverse: each store's plan is the same.
  std::mt19937_64 rng(7);
  std::vector<std::vector<double>> forecasts;
  for (int s = 0; s < 5; ++s) {
    std::vector<double> tx(24, 0.0);
    for (int h = 8; h < 22; ++h) tx[h] = static_cast<double>(rng() % 120);
    forecasts.push_back(tx);
  }
  ShiftRules r = Rules(8, 22, 3, 8);
  std::vector<StaffingPlan> forward(5), backward(5);
  for (int s = 0; s < 5; ++s) forward[s] = Staffing({}, forecasts[s], 15.0, 1, r).value();
  for (int s = 4; s >= 0; --s) backward[s] = Staffing({}, forecasts[s], 15.0, 1, r).value();
  CHECK(forward == backward);
  for (int s = 0; s < 5; ++s) CheckPlan(forward[s], forward[s].need, r);
}

TEST_CASE("schedule and need as CSV", "[staffing]") {
  ShiftRules r = Rules(9, 17, 4, 8);
  auto plan = PlanShifts(Need(13, 17, 3, Need(9, 13, 1)), r);
  REQUIRE(plan.ok());
  CHECK(aisle::stdlib::ScheduleCsv("2024-03-01", *plan) ==
        "date,start,end,staff\r\n"
        "2024-03-01,09:00,17:00,1\r\n"
        "2024-03-01,13:00,17:00,2\r\n");
  // RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
  CHECK(aisle::stdlib::CsvField("plain") == "plain");
  CHECK(aisle::stdlib::CsvField("a,\"b\"") == "\"a,\"\"b\"\"\"");
  CHECK(aisle::stdlib::CsvField("two\nlines") == "\"two\nlines\"");
  std::string csv = aisle::stdlib::ScheduleCsv("store 7, \"north\"", *plan);
  aisle::dsl::CsvTable table;
  std::string error;
  REQUIRE(aisle::dsl::ParseCsv(csv, table, error));
  CHECK(table.columns == std::vector<std::string>{"date", "start", "end", "staff"});
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[1] == std::vector<std::string>{"store 7, \"north\"", "13:00", "17:00", "2"});

  std::string need_csv = aisle::stdlib::NeedCsv("2024-03-01", *plan);
  aisle::dsl::CsvTable need_table;
  REQUIRE(aisle::dsl::ParseCsv(need_csv, need_table, error));
  CHECK(need_table.columns == std::vector<std::string>{"date", "hour", "need", "scheduled"});
  REQUIRE(need_table.rows.size() == 24);
  CHECK(need_table.rows[13] == std::vector<std::string>{"2024-03-01", "13:00", "3", "3"});
  CHECK(need_table.rows[8] == std::vector<std::string>{"2024-03-01", "08:00", "0", "0"});
}
