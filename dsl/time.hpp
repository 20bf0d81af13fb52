#pragma once
// Instants (int64 microseconds since the Unix epoch, UTC) and durations: parsing and formatting.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aisle::dsl {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// RFC 3339: "2025-03-14T13:05:22Z", "2025-03-14T09:05:22.5-04:00" (also ' ' for 'T', lower case).
std::optional<int64_t> ParseTimestamp(std::string_view text);

// "2025-03-14T13:05:22Z"; fractional digits appear only when the instant has them.
std::string FormatTimestamp(int64_t micros);

// A duration in the largest unit that divides it: "1h", "90m", "1w", "250ms", "7us".
std::string FormatDuration(int64_t micros);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// Floor division that rounds toward negative infinity (window alignment of pre-1970 instants).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace aisle::dsl
