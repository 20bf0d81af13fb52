#include "dsl/time.hpp"

#include <date/date.h>
#include <fmt/format.h>

namespace aisle::dsl {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  const date::sys_days days{date::year{static_cast<int>(y)} / date::month{m} / date::day{d}};
  return days.time_since_epoch().count();
}

void CivilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  const date::year_month_day ymd{date::sys_days{date::days{days}}};
  y = static_cast<int>(ymd.year());
  m = static_cast<unsigned>(ymd.month());
  d = static_cast<unsigned>(ymd.day());
}

namespace {
bool Digits(std::string_view t, size_t pos, size_t n, int& out) {
  if (pos + n > t.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = t[pos + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}
}  // namespace

std::optional<int64_t> ParseTimestamp(std::string_view t) {
  int year, month, day, hour, minute, second;
  if (!Digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !Digits(t, 5, 2, month) ||
      t[7] != '-' || !Digits(t, 8, 2, day) ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !Digits(t, 11, 2, hour) || t[13] != ':' ||
      !Digits(t, 14, 2, minute) || t[16] != ':' || !Digits(t, 17, 2, second)) {
    return std::nullopt;
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 6; ++k) micros *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos >= t.size()) return std::nullopt;
  if (t[pos] == 'Z' || t[pos] == 'z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    int oh, om;
    if (!Digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !Digits(t, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600 + om * 60) * (t[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  if (second == 60) second = 59;  // a leap second maps onto the last second of the minute
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return secs * kMicrosPerSecond + micros;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t secs = FloorDiv(micros, kMicrosPerSecond);
  int64_t frac = micros - secs * kMicrosPerSecond;
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600,
                                (rem / 60) % 60, rem % 60);
  if (frac != 0) {
    if (frac % 1000 == 0) {
      out += fmt::format(".{:03}", frac / 1000);
    } else {
      out += fmt::format(".{:06}", frac);
    }
  }
  out.push_back('Z');
  return out;
}

std::string FormatDuration(int64_t us) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {7 * kMicrosPerDay, "w"}, {kMicrosPerDay, "d"},        {kMicrosPerHour, "h"},
      {kMicrosPerMinute, "m"},  {kMicrosPerSecond, "s"},      {1000, "ms"}};
  for (const auto& [size, unit] : kUnits)
    if (us != 0 && us % size == 0) return std::to_string(us / size) + unit;
  return std::to_string(us) + "us";
}

}  // namespace aisle::dsl
