// Opening hours as the stores table writes them: parsing and the open/closed test, on hand-built
// cases.

#include <catch2/catch.hpp>

#include "dsl/open_hours.hpp"

using aisle::dsl::IsOpen;
using aisle::dsl::ParseOpenHours;
using aisle::dsl::plan::WeeklyHours;

namespace {
constexpr int kSun = 0, kMon = 1, kFri = 5, kSat = 6;
int At(int h, int m) { return h * 60 + m; }
}  // namespace

TEST_CASE("opening hours parse day ranges, lists, closed days and several intervals", "[dsl][open-hours]") {
  WeeklyHours h;
  std::string error;
  REQUIRE(ParseOpenHours("Mon-Fri 09:00-21:00; Sat 10:00-12:30, 13:30-18:00; Sun closed", h, error));
  CHECK(h[kMon] == std::vector<std::pair<int, int>>{{At(9, 0), At(21, 0)}});
  CHECK(h[kFri] == std::vector<std::pair<int, int>>{{At(9, 0), At(21, 0)}});
  CHECK(h[kSat] == std::vector<std::pair<int, int>>{{At(10, 0), At(12, 30)}, {At(13, 30), At(18, 0)}});
  CHECK(h[kSun].empty());
  CHECK(IsOpen(h, kMon, At(9, 0)));
  CHECK_FALSE(IsOpen(h, kMon, At(8, 59)));
  CHECK_FALSE(IsOpen(h, kMon, At(21, 0)));  // the close is not included
  CHECK_FALSE(IsOpen(h, kSat, At(13, 0)));  // lunch
  CHECK_FALSE(IsOpen(h, kSun, At(12, 0)));

  // Lists, a range that wraps the week, full names, case, and a later entry replacing an earlier.
  REQUIRE(ParseOpenHours("fri-MON 08:00-20:00; Tuesday, Thu 00:00-24:00; Mon closed", h, error));
  CHECK(h[kFri].size() == 1);
  CHECK(h[kSat].size() == 1);
  CHECK(h[kSun].size() == 1);
  CHECK(h[kMon].empty());
  CHECK(IsOpen(h, 2, At(0, 0)));
  CHECK(IsOpen(h, 4, At(23, 59)));
  CHECK(h[3].empty());  // Wednesday never named: closed
}

TEST_CASE("hours that close at or before they open run past midnight", "[dsl][open-hours]") {
  WeeklyHours h;
  std::string error;
  REQUIRE(ParseOpenHours("Sat 22:00-02:00", h, error));
  CHECK(IsOpen(h, kSat, At(22, 0)));
  CHECK(IsOpen(h, kSat, At(23, 59)));
  CHECK(IsOpen(h, kSun, At(1, 59)));  // Saturday's night
  CHECK_FALSE(IsOpen(h, kSun, At(2, 0)));
  CHECK_FALSE(IsOpen(h, kSat, At(1, 0)));  // Friday had no night opening
}

TEST_CASE("malformed opening hours are refused with a reason", "[dsl][open-hours]") {
  WeeklyHours h;
  std::string error;
  CHECK_FALSE(ParseOpenHours("Mon-Fry 09:00-17:00", h, error));
  CHECK(error == "'Mon-Fry' is not a day or a range of days such as Mon-Fri");
  CHECK_FALSE(ParseOpenHours("Mon 9-17", h, error));
  CHECK(error == "'9-17' is not a time range such as 09:00-21:00");
  CHECK_FALSE(ParseOpenHours("Mon 09:00-25:00", h, error));
  CHECK(error == "'09:00-25:00' is not a time range such as 09:00-21:00");
  CHECK_FALSE(ParseOpenHours("Mon", h, error));
  CHECK(error == "'Mon' names no hours (expected e.g. 'Mon-Fri 09:00-21:00')");
  CHECK_FALSE(ParseOpenHours("09:00-17:00", h, error));
}
