// staffing(...) as the language calls it (stdlib/staffing_function.cpp), through the registry:
// hand-derived plans of perfectly periodic stores, the local day, corrections, restarts and the
// constants the checker rejects.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

using aisle::dsl::Value;
using aisle::dsl::kMicrosPerDay;
using aisle::dsl::kMicrosPerHour;

namespace {

// 2025-03-03, a Monday, 00:00 UTC.
const int64_t kMonday = aisle::dsl::DaysFromCivil(2025, 3, 3) * kMicrosPerDay;

// Constants in parameter order: tx, traffic, tx_per_staff_hour, traffic_per_staff_hour,
// min_staff, open, close, min_shift, max_shift, season.
std::vector<Value> Constants(int64_t open, int64_t close, int64_t min_shift = 4,
                             int64_t max_shift = 8) {
  return {Value::Null(),
          Value::Null(),
          Value::Int(12),
          Value::Int(40),
          Value::Int(1),
          Value::Duration(open * kMicrosPerHour),
          Value::Duration(close * kMicrosPerHour),
          Value::Duration(min_shift * kMicrosPerHour),
          Value::Duration(max_shift * kMicrosPerHour),
          Value::Duration(7 * kMicrosPerDay)};
}

struct Plan {
  Value staff_hours;
  Value details[6];  // date, shifts, need, peak, csv, need_csv
};

struct Staffing {
  aisle::engine::OperatorRegistry registry;
  std::unique_ptr<aisle::engine::StatefulOperator> op;
  std::unique_ptr<aisle::engine::OperatorState> state;
  int64_t utc_offset = 0;

  explicit Staffing(const std::vector<Value>& constants) {
    aisle::stdlib::RegisterStdlib(registry);
    op = registry.Get(registry.Find("staffing")).stateful(constants);
    state = op->NewState();
  }
  // Feeds one hourly record starting at `time` (UTC).
  Plan Feed(int64_t time, Value tx, Value traffic = Value::Null(), int64_t window = kMicrosPerHour) {
    Plan p;
    std::vector<Value> args = {tx, traffic};
    args.resize(10);
    p.staff_hours = op->Apply(*state, args, {time, window, utc_offset}, p.details);
    return p;
  }
  void Restart() {
    std::string saved;
    state->Save(saved);
    state = op->NewState();
    REQUIRE(state->Load(saved));
  }
};

// Open 8h-16h. Hours 08..11 sell 18 (18 / 12 = 1.5: 2 people), hours 12..15 sell 30 (2.5: 3
// people); the store is closed, and sells nothing, otherwise. Need 2,2,2,2,3,3,3,3: 20
// staff-hours at least. Two people must start at 08:00 (need 2, no surplus at the least cost) and
// three must be on until 16:00; with 8h shifts at most, the fewest shifts is two 08:00-16:00 and one
// 12:00-16:00 (a third shift starting before 12:00 would overstaff 08..11, after 12:00 understaff
// 12:00): 8 + 8 + 4 = 20 staff-hours.
double TxAt(int hour) { return hour >= 8 && hour < 12 ? 18 : hour >= 12 && hour < 16 ? 30 : 0; }

}  // namespace

TEST_CASE("staffing plans the next day of a periodic store by hand", "[stdlib][staffing]") {
  Staffing s(Constants(8, 16));
  std::vector<Plan> plans;
  std::vector<int64_t> plan_days;
  for (int64_t day = 0; day < 14; ++day) {
    for (int hour = 0; hour < 24; ++hour) {
      if (TxAt(hour) == 0) continue;  // closed hours never fire
      Plan p = s.Feed(kMonday + day * kMicrosPerDay + hour * kMicrosPerHour, Value::Int(TxAt(hour)));
      if (p.staff_hours.type == aisle::dsl::Type::kNull) {
        for (const Value& d : p.details) CHECK(d.type == aisle::dsl::Type::kNull);
        continue;
      }
      CHECK(hour == 15);  // the last opening hour
      plans.push_back(p);
      plan_days.push_back(day);
    }
  }
  // Two days of hours are needed (48 values from 08:00 on day 0): day 2 at 15:00 holds 56.
  REQUIRE(!plan_days.empty());
  CHECK(plan_days.front() == 2);
  CHECK(plan_days.size() == 12);
  for (const Plan& p : plans) {
    CHECK(p.staff_hours.type == aisle::dsl::Type::kInt);
    CHECK(p.staff_hours.i == 20);
    CHECK(p.details[1].str() == "08:00-16:00 x2, 12:00-16:00 x1");
    CHECK(p.details[2].str() == "08:2 09:2 10:2 11:2 12:3 13:3 14:3 15:3");
    CHECK(p.details[3].i == 3);
  }
  // The last plan, made on Sunday 2025-03-16, is for Monday 2025-03-17.
  const Plan& last = plans.back();
  CHECK(last.details[0].str() == "2025-03-17");
  CHECK(last.details[4].str() ==
        "date,start,end,staff\r\n2025-03-17,08:00,16:00,2\r\n2025-03-17,12:00,16:00,1\r\n");
  const std::string need_csv(last.details[5].str());
  CHECK(need_csv.rfind("date,hour,need,scheduled\r\n2025-03-17,00:00,0,0\r\n", 0) == 0);
  CHECK(need_csv.find("2025-03-17,12:00,3,3\r\n") != std::string::npos);
  CHECK(need_csv.find("2025-03-17,08:00,2,2\r\n") != std::string::npos);
}

TEST_CASE("staffing covers a long flat day with no surplus", "[stdlib][staffing]") {
  // Open 08-22 (the defaults), 18 sales every open hour: 2 people for 14 hours, 28 staff-hours
  // at least, reached exactly (e.g. 08:00-16:00 and 16:00-22:00 twice over); each person's 14
  // hours need two shifts of at most 8h, so 4 shifts. Which split the flow picks is its own.
  Staffing s(Constants(8, 22));
  Plan last;
  for (int64_t day = 0; day < 14; ++day)
    for (int hour = 8; hour < 22; ++hour) {
      Plan p = s.Feed(kMonday + day * kMicrosPerDay + hour * kMicrosPerHour, Value::Int(18));
      if (p.staff_hours.type != aisle::dsl::Type::kNull) last = p;
    }
  REQUIRE(last.staff_hours.type == aisle::dsl::Type::kInt);
  CHECK(last.staff_hours.i == 28);
  CHECK(last.details[2].str() == "08:2 09:2 10:2 11:2 12:2 13:2 14:2 15:2 16:2 17:2 18:2 19:2 20:2 21:2");
  CHECK(last.details[3].i == 2);
  // Shift blocks "HH:00-HH:00 xN": the people on them add up to 4.
  const std::string shifts(last.details[1].str());
  int people = 0;
  for (size_t at = shifts.find(" x"); at != std::string::npos; at = shifts.find(" x", at + 1))
    people += std::stoi(shifts.substr(at + 2));
  CHECK(people == 4);
}

TEST_CASE("staffing staffs the floor for foot traffic when it asks for more", "[stdlib][staffing]") {
  // The same store with 100 visitors every open hour: 100 / 40 = 2.5, 3 people, more than the
  // tills need at 08..11 and as many at 12..15. Need 3 all day: 08:00-16:00 x3, 24 staff-hours.
  Staffing s(Constants(8, 16));
  Plan last;
  for (int64_t day = 0; day < 14; ++day)
    for (int hour = 8; hour < 16; ++hour) {
      Plan p = s.Feed(kMonday + day * kMicrosPerDay + hour * kMicrosPerHour, Value::Int(TxAt(hour)),
                      Value::Int(100));
      if (p.staff_hours.type != aisle::dsl::Type::kNull) last = p;
    }
  REQUIRE(last.staff_hours.type == aisle::dsl::Type::kInt);
  CHECK(last.staff_hours.i == 24);
  CHECK(last.details[1].str() == "08:00-16:00 x3");
  CHECK(last.details[2].str() == "08:3 09:3 10:3 11:3 12:3 13:3 14:3 15:3");
}

TEST_CASE("staffing plans the store's local day", "[stdlib][staffing]") {
  // A store 5 hours behind UTC whose local hours follow the pattern: its last opening hour,
  // 15:00 local, starts at 20:00 UTC; the plan made on local Sunday 2025-03-16 is for the 17th.
  Staffing s(Constants(8, 16));
  s.utc_offset = -5 * kMicrosPerHour;
  Plan last;
  int64_t last_time = 0;
  for (int64_t day = 0; day < 14; ++day)
    for (int hour = 8; hour < 16; ++hour) {
      const int64_t utc = kMonday + day * kMicrosPerDay + (hour + 5) * kMicrosPerHour;
      Plan p = s.Feed(utc, Value::Int(TxAt(hour)));
      if (p.staff_hours.type == aisle::dsl::Type::kNull) continue;
      last = p;
      last_time = utc;
    }
  REQUIRE(last.staff_hours.type == aisle::dsl::Type::kInt);
  CHECK(last_time == kMonday + 13 * kMicrosPerDay + 20 * kMicrosPerHour);
  CHECK(last.staff_hours.i == 20);
  CHECK(last.details[0].str() == "2025-03-17");
}

TEST_CASE("staffing: other windows, corrections and restarts", "[stdlib][staffing]") {
  Staffing whole(Constants(8, 16)), split(Constants(8, 16));
  for (int64_t day = 0; day < 10; ++day)
    for (int hour = 8; hour < 16; ++hour) {
      const int64_t t = kMonday + day * kMicrosPerDay + hour * kMicrosPerHour;
      // Daily windows have no hours to staff.
      CHECK(whole.Feed(t, Value::Int(5), Value::Null(), kMicrosPerDay).staff_hours.type ==
            aisle::dsl::Type::kNull);
      // Noise that is not periodic: the forecasts are not exact, so the plans test the state.
      const int64_t tx = 10 + (day * 7 + hour * 3) % 23;
      Plan a = whole.Feed(t, Value::Int(tx));
      if (day == 4 && hour == 10) split.Restart();
      Plan b = split.Feed(t, Value::Int(tx));
      CHECK(a.staff_hours.type == b.staff_hours.type);
      CHECK(a.staff_hours.i == b.staff_hours.i);
      CHECK(a.details[1].type == b.details[1].type);
      if (a.details[1].type == aisle::dsl::Type::kString) CHECK(a.details[1].str() == b.details[1].str());
      if (hour == 15 && day >= 2) {
        CHECK(a.staff_hours.type == aisle::dsl::Type::kInt);
        // A correction of the hour just planned is not learned again, nor planned twice.
        CHECK(whole.Feed(t, Value::Int(tx + 50)).staff_hours.type == aisle::dsl::Type::kNull);
        CHECK(split.Feed(t, Value::Int(tx + 50)).staff_hours.type == aisle::dsl::Type::kNull);
      }
    }
}

TEST_CASE("staffing rejects constants it cannot plan with", "[stdlib][staffing]") {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  const auto& spec = registry.Spec(registry.Find("staffing"));
  REQUIRE(spec.check_constants != nullptr);
  CHECK(spec.local_time);
  std::string message;
  CHECK(spec.check_constants(Constants(8, 22), message) == -1);
  // Parameter indexes: 2 tx_per_staff_hour, 4 min_staff, 5 open, 6 close, 7 min_shift, 8 max_shift.
  CHECK(spec.check_constants(Constants(22, 8), message) == 6);
  CHECK(message == "the store must open before it closes: open 22h, close 8h");
  CHECK(spec.check_constants(Constants(8, 22, 6, 5), message) == 8);
  CHECK(message == "max_shift 5h is shorter than min_shift 6h");
  CHECK(spec.check_constants(Constants(8, 10, 4, 8), message) == 7);
  auto constants = Constants(8, 22);
  constants[2] = Value::Int(0);
  CHECK(spec.check_constants(constants, message) == 2);
  constants = Constants(8, 22);
  constants[5] = Value::Duration(8 * kMicrosPerHour + 30 * aisle::dsl::kMicrosPerMinute);
  CHECK(spec.check_constants(constants, message) == 5);
  constants = Constants(8, 22);
  constants[4] = Value::Int(-1);
  CHECK(spec.check_constants(constants, message) == 4);
  // A rejected call still builds (the factory never fails): it gives null.
  Staffing s(Constants(22, 8));
  CHECK(s.Feed(kMonday + 21 * kMicrosPerHour, Value::Int(3)).staff_hours.type ==
        aisle::dsl::Type::kNull);
}
