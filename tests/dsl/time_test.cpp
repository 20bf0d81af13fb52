// RFC 3339 timestamps <-> microseconds since the Unix epoch (UTC), and civil-date arithmetic.

#include <cstdint>
#include <optional>

#include <catch2/catch.hpp>

#include "dsl/time.hpp"

using namespace aisle::dsl;

namespace {
// 2025-03-14T13:05:22Z, derived by hand:
//   days 1970-01-01 .. 2025-01-01: 55 years * 365 + 14 leap days (1972, 1976, ..., 2024) = 20,089;
//   2025-03-14 is 31 (Jan) + 28 (Feb, 2025 is not a leap year) + 13 days later: day 20,161;
//   20,161 * 86,400 = 1,741,910,400 s; 13:05:22 = 47,122 s; total 1,741,957,522 s.
constexpr int64_t kPiDay = 1'741'957'522LL * kMicrosPerSecond;
}  // namespace

TEST_CASE("ParseTimestamp: UTC, offsets and fractions", "[dsl][time]") {
  CHECK(ParseTimestamp("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseTimestamp("2025-03-14T13:05:22Z") == kPiDay);
  // Lower case separators, and a space instead of 'T'.
  CHECK(ParseTimestamp("2025-03-14t13:05:22z") == kPiDay);
  CHECK(ParseTimestamp("2025-03-14 13:05:22Z") == kPiDay);
  // An offset is subtracted: 09:05:22-04:00 is 13:05:22Z, 18:35:22+05:30 too.
  CHECK(ParseTimestamp("2025-03-14T09:05:22-04:00") == kPiDay);
  CHECK(ParseTimestamp("2025-03-14T18:35:22+05:30") == kPiDay);
  CHECK(ParseTimestamp("2025-03-14T13:05:22+00:00") == kPiDay);
  // The offset can move the date: 2025-03-15T00:30:00+11:30 is 2025-03-14T13:00:00Z.
  CHECK(ParseTimestamp("2025-03-15T00:30:00+11:30") == kPiDay - 322 * kMicrosPerSecond);
  // Fractions: up to microseconds, further digits are dropped (truncated).
  CHECK(ParseTimestamp("2025-03-14T09:05:22.5-04:00") == kPiDay + 500'000);
  CHECK(ParseTimestamp("2025-03-14T13:05:22.000001Z") == kPiDay + 1);
  CHECK(ParseTimestamp("2025-03-14T13:05:22.123Z") == kPiDay + 123'000);
  CHECK(ParseTimestamp("2025-03-14T13:05:22.123456789Z") == kPiDay + 123'456);
  // Before the epoch.
  CHECK(ParseTimestamp("1969-12-31T23:59:59Z") == -kMicrosPerSecond);
  CHECK(ParseTimestamp("1969-12-31T23:59:59.5Z") == -kMicrosPerSecond / 2);
}

TEST_CASE("ParseTimestamp: calendar validity and leap days", "[dsl][time]") {
  // 2024-01-01 is day 19,723 (54 * 365 + 13 leap days); Feb 29 is 59 days later: day 19,782.
  CHECK(ParseTimestamp("2024-02-29T00:00:00Z") == 19'782LL * kMicrosPerDay);
  CHECK(ParseTimestamp("2024-03-01T00:00:00Z") == 19'783LL * kMicrosPerDay);
  CHECK(ParseTimestamp("2023-02-29T00:00:00Z") == std::nullopt);  // 2023 is not a leap year
  // 2000 is a leap year (divisible by 400): 2000-01-01 is day 10,957 (30 * 365 + 7), +59.
  CHECK(ParseTimestamp("2000-02-29T12:00:00Z") == 11'016LL * kMicrosPerDay + 12 * kMicrosPerHour);
  CHECK(ParseTimestamp("1900-02-29T00:00:00Z") == std::nullopt);  // divisible by 100, not 400
  CHECK(ParseTimestamp("2100-02-29T00:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-04-31T00:00:00Z") == std::nullopt);  // April has 30 days
  CHECK(ParseTimestamp("2025-13-01T00:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-00-10T00:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-01-00T00:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-01-32T00:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-01-01T24:00:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-01-01T00:60:00Z") == std::nullopt);
  CHECK(ParseTimestamp("2025-01-01T00:00:61Z") == std::nullopt);
  // A leap second reads as the last second of its minute.
  CHECK(ParseTimestamp("2016-12-31T23:59:60Z") == ParseTimestamp("2016-12-31T23:59:59Z"));
}

TEST_CASE("ParseTimestamp: malformed text", "[dsl][time]") {
  for (const char* bad :
       {"", "2025-03-14", "2025-03-14T13:05:22", "2025-03-14T13:05Z", "2025-3-14T13:05:22Z",
        "2025/03/14T13:05:22Z", "2025-03-14X13:05:22Z", "2025-03-14T13:05:22Z ",
        " 2025-03-14T13:05:22Z", "2025-03-14T13:05:22.Z", "2025-03-14T13:05:22+5:00",
        "2025-03-14T13:05:22+05", "2025-03-14T13:05:22+0500", "2025-03-14T13:05:22+24:00",
        "2025-03-14T13:05:22+05:60", "2025-03-14T13:05:22UTC", "abcd-ef-ghTij:kl:mnZ"}) {
    INFO("text: '" << bad << "'");
    CHECK(ParseTimestamp(bad) == std::nullopt);
  }
}

TEST_CASE("FormatTimestamp", "[dsl][time]") {
  CHECK(FormatTimestamp(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatTimestamp(kPiDay) == "2025-03-14T13:05:22Z");
  // Fractions: milliseconds when they suffice, else microseconds.
  CHECK(FormatTimestamp(kPiDay + 500'000) == "2025-03-14T13:05:22.500Z");
  CHECK(FormatTimestamp(kPiDay + 123'456) == "2025-03-14T13:05:22.123456Z");
  CHECK(FormatTimestamp(1) == "1970-01-01T00:00:00.000001Z");
  // Before the epoch the second is floored: -1 us is 23:59:59 plus 999,999 us.
  CHECK(FormatTimestamp(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(FormatTimestamp(-kMicrosPerSecond) == "1969-12-31T23:59:59Z");
  CHECK(FormatTimestamp(19'782LL * kMicrosPerDay) == "2024-02-29T00:00:00Z");
}

TEST_CASE("timestamps round-trip", "[dsl][time]") {
  for (const char* text :
       {"1970-01-01T00:00:00Z", "2025-03-14T13:05:22Z", "2024-02-29T23:59:59Z",
        "2000-02-29T12:00:00.250Z", "1999-12-31T23:59:59.999999Z", "1969-07-20T20:17:40Z",
        "2038-01-19T03:14:08Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"}) {
    INFO(text);
    const auto micros = ParseTimestamp(text);
    REQUIRE(micros);
    CHECK(FormatTimestamp(*micros) == text);
  }
  // And instants round-trip through text.
  for (int64_t us : {int64_t{0}, kPiDay, kPiDay + 7, int64_t{-1}, int64_t{-86'400'000'001}}) {
    INFO(us);
    CHECK(ParseTimestamp(FormatTimestamp(us)) == us);
  }
}

TEST_CASE("civil dates and floor division", "[dsl][time]") {
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(1969, 12, 31) == -1);
  CHECK(DaysFromCivil(2025, 3, 14) == 20'161);
  CHECK(DaysFromCivil(2000, 3, 1) == 11'017);
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(20'161, y, m, d);
  CHECK((y == 2025 && m == 3 && d == 14));
  CivilFromDays(-1, y, m, d);
  CHECK((y == 1969 && m == 12 && d == 31));
  CivilFromDays(11'016, y, m, d);
  CHECK((y == 2000 && m == 2 && d == 29));

  CHECK(FloorDiv(9, 10) == 0);
  CHECK(FloorDiv(10, 10) == 1);
  CHECK(FloorDiv(-1, 10) == -1);
  CHECK(FloorDiv(-10, 10) == -1);
  CHECK(FloorDiv(-11, 10) == -2);
  CHECK(FloorDiv(11, -10) == -2);
  CHECK(FloorDiv(-11, -10) == 1);
}
