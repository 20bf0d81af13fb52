#pragma once
// Shared by the stdlib's functions: reading language values as numbers, writing results back in
// an argument's units, and the seasons of a windowed series.

#include <cstdint>
#include <optional>
#include <vector>

#include "dsl/value.hpp"

namespace aisle::stdlib {

// The value as a double, money in major units; nullopt for other types and non-finite values.
std::optional<double> AsNumber(const dsl::Value& v);

// An int, decimal or percent as a double (money and other types: nullopt).
std::optional<double> PlainNumber(const dsl::Value& v);

// A number of days: a duration, or a plain number (a percent is not one).
std::optional<double> DaysOf(const dsl::Value& v);

// `y` in the units of `like`: money when it is money, a decimal otherwise; null when not finite.
dsl::Value InUnits(double y, const dsl::Value& like);

// The seasons of a series of windows of `window` microseconds for a longest season `season`:
// the season in windows, and with windows shorter than a day the day too (hour of day and hour
// of week for an hourly metric with a weekly season). Ascending; empty when none fits.
std::vector<int> SeasonsInWindows(int64_t season, int64_t window);

}  // namespace aisle::stdlib
