// Exact decimal parsing and formatting of money (1/10,000 units, half-even rounding).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dsl/money.hpp"

using aisle::dsl::DivRoundHalfEven;
using aisle::dsl::FormatUnits;
using aisle::dsl::MinorDigits;
using aisle::dsl::ParseMoneyUnits;
using aisle::dsl::ParseScaled;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();  // 9,223,372,036,854,775,807
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
}  // namespace

TEST_CASE("ParseScaled reads decimal text exactly", "[dsl][money]") {
  CHECK(ParseScaled("58.00", 4) == 580000);
  CHECK(ParseScaled("58", 4) == 580000);
  CHECK(ParseScaled("0.0001", 4) == 1);
  CHECK(ParseScaled("-3.3", 4) == -33000);
  CHECK(ParseScaled("+7", 4) == 70000);
  CHECK(ParseScaled(".5", 4) == 5000);
  CHECK(ParseScaled("0", 4) == 0);
  CHECK(ParseScaled("-0.0000", 4) == 0);
  CHECK(ParseScaled("000123.4500", 4) == 1234500);
  // 0.1 has no exact double; from the text it is exactly 1,000 units.
  CHECK(ParseScaled("0.1", 4) == 1000);
  CHECK(ParseMoneyUnits("19.99") == 199900);
  // Other scales: units of 10^-0 and 10^-9.
  CHECK(ParseScaled("12", 0) == 12);
  CHECK(ParseScaled("1", 9) == 1000000000);
  CHECK(ParseScaled("0.000000001", 9) == 1);
}

TEST_CASE("ParseScaled rounds half to even past the scale", "[dsl][money]") {
  // In 1/10,000 units the fifth decimal is the first one dropped.
  CHECK(ParseScaled("0.00005", 4) == 0);      // 0.5 units: a tie, 0 is even
  CHECK(ParseScaled("0.00015", 4) == 2);      // 1.5 units: a tie, rounds to the even 2
  CHECK(ParseScaled("-0.00015", 4) == -2);    // symmetric
  CHECK(ParseScaled("0.00025", 4) == 2);      // 2.5 units: a tie, 2 is even
  CHECK(ParseScaled("0.00035", 4) == 4);      // 3.5 units: to the even 4
  CHECK(ParseScaled("0.000149", 4) == 1);     // 1.49 units: below the tie
  CHECK(ParseScaled("0.000151", 4) == 2);     // 1.51 units: above the tie
  CHECK(ParseScaled("1.23456", 4) == 12346);  // 12,345.6 units
  CHECK(ParseScaled("-1.23454", 4) == -12345);
  // At scale 0: 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
  CHECK(ParseScaled("1.5", 0) == 2);
  CHECK(ParseScaled("2.5", 0) == 2);
  CHECK(ParseScaled("-2.5", 0) == -2);
  // Only 36 significant digits are kept; a non-zero digit beyond them still breaks a tie upward.
  // "0.00005" then 40 zeros: exactly 0.5 units, a tie -> 0. The same with a final 1 -> 1.
  const std::string zeros(40, '0');
  CHECK(ParseScaled("0.00005" + zeros, 4) == 0);
  CHECK(ParseScaled("0.00005" + zeros + "1", 4) == 1);
  // Far below one unit.
  CHECK(ParseScaled("1e-40", 4) == 0);
}

TEST_CASE("ParseScaled accepts exponents", "[dsl][money]") {
  CHECK(ParseScaled("1e2", 4) == 1000000);    // 100
  CHECK(ParseScaled("1.5e2", 4) == 1500000);  // 150
  CHECK(ParseScaled("1.5E+2", 4) == 1500000);
  CHECK(ParseScaled("15e-1", 4) == 15000);      // 1.5
  CHECK(ParseScaled("1e-4", 4) == 1);           // one unit
  CHECK(ParseScaled("2.5e-4", 4) == 2);         // 2.5 units: a tie, to the even 2
  CHECK(ParseScaled("-1.25e1", 4) == -125000);  // -12.5
}

TEST_CASE("ParseScaled refuses overflow and malformed text", "[dsl][money]") {
  // The largest amount: INT64_MAX units = 922,337,203,685,477.5807.
  CHECK(ParseScaled("922337203685477.5807", 4) == kMax);
  CHECK(ParseScaled("922337203685477.5808", 4) == std::nullopt);
  CHECK(ParseScaled("99999999999999999999.00", 4) == std::nullopt);
  // 1e14 is 10^18 units, which fits; 1e15 would be 10^19 units, which does not.
  CHECK(ParseScaled("1e14", 4) == 1000000000000000000LL);
  CHECK(ParseScaled("1e15", 4) == std::nullopt);
  CHECK(ParseScaled("1e30", 4) == std::nullopt);
  CHECK(ParseScaled("1e1001", 4) == std::nullopt);
  CHECK(ParseScaled("123456789012345678901234567890123456789", 4) == std::nullopt);
  for (const char* bad : {"", "-", "+", ".", "abc", "1.2.3", "12a", "1e", "1e+", "--1", " 1", "1 ",
                          "1,5", "0x10", "e5", "1.5 USD"}) {
    INFO("text: '" << bad << "'");
    CHECK(ParseScaled(bad, 4) == std::nullopt);
  }
  // Scales outside 0..9 are refused.
  CHECK(ParseScaled("1", 10) == std::nullopt);
  CHECK(ParseScaled("1", -1) == std::nullopt);
}

TEST_CASE("DivRoundHalfEven", "[dsl][money]") {
  CHECK(DivRoundHalfEven(7, 2) == 4);  // 3.5 -> 4
  CHECK(DivRoundHalfEven(5, 2) == 2);  // 2.5 -> 2
  CHECK(DivRoundHalfEven(-5, 2) == -2);
  CHECK(DivRoundHalfEven(-7, 2) == -4);
  CHECK(DivRoundHalfEven(1, 3) == 0);  // 0.33
  CHECK(DivRoundHalfEven(2, 3) == 1);  // 0.67
  CHECK(DivRoundHalfEven(-2, 3) == -1);
  CHECK(DivRoundHalfEven(5, -2) == -2);  // a negative divisor: -2.5 -> -2
  CHECK(DivRoundHalfEven(10, 5) == 2);
}

TEST_CASE("FormatUnits", "[dsl][money]") {
  CHECK(FormatUnits(580000, 2) == "58.00");
  CHECK(FormatUnits(12345, 4) == "1.2345");
  CHECK(FormatUnits(12345, 0) == "1");          // 1.2345 -> 1
  CHECK(FormatUnits(15000, 0) == "2");          // 1.5 -> 2
  CHECK(FormatUnits(25000, 0) == "2");          // 2.5 -> 2
  CHECK(FormatUnits(1234567, 3) == "123.457");  // 123.4567 -> 123.457
  CHECK(FormatUnits(5, 2) == "0.00");           // 0.0005
  CHECK(FormatUnits(50, 2) == "0.00");          // 0.005: a tie, to the even 0.00
  CHECK(FormatUnits(150, 2) == "0.02");         // 0.015 -> 0.02
  CHECK(FormatUnits(250, 2) == "0.02");         // 0.025 -> 0.02
  CHECK(FormatUnits(-150, 2) == "-0.02");
  CHECK(FormatUnits(-50, 2) == "0.00");  // rounds to zero: no minus sign
  CHECK(FormatUnits(-5, 4) == "-0.0005");
  CHECK(FormatUnits(0, 2) == "0.00");
  CHECK(FormatUnits(7, 4) == "0.0007");
  CHECK(FormatUnits(10000, 2) == "1.00");
  CHECK(FormatUnits(kMax, 4) == "922337203685477.5807");
  CHECK(FormatUnits(kMin, 4) == "-922337203685477.5808");
  // Digits outside 0..4 are clamped.
  CHECK(FormatUnits(12345, 7) == "1.2345");
  CHECK(FormatUnits(12345, -1) == "1");
}

TEST_CASE("MinorDigits", "[dsl][money]") {
  CHECK(MinorDigits("USD") == 2);
  CHECK(MinorDigits("EUR") == 2);
  CHECK(MinorDigits("JPY") == 0);
  CHECK(MinorDigits("KRW") == 0);
  CHECK(MinorDigits("KWD") == 3);
  CHECK(MinorDigits("BHD") == 3);
}

TEST_CASE("money text round-trips through units", "[dsl][money]") {
  for (const char* text : {"0.0000", "1.0000", "-1.5000", "58.0000", "0.0001", "123456.7890",
                           "922337203685477.5807"}) {
    INFO(text);
    const auto units = ParseScaled(text, 4);
    REQUIRE(units);
    CHECK(FormatUnits(*units, 4) == text);
  }
}
