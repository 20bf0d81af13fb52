#include "dsl/open_hours.hpp"

#include <array>
#include <cctype>

namespace aisle::dsl {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "HH:MM" -> minutes; 24:00 allowed as an end.
bool Clock(std::string_view s, int& minutes) {
  s = Trim(s);
  if (s.size() != 5 || s[2] != ':') return false;
  for (size_t i : {0, 1, 3, 4})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minutes = h * 60 + m;
  return true;
}

}  // namespace

int WeekdayIndex(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kShort = {"sun", "mon", "tue", "wed",
                                                             "thu", "fri", "sat"};
  static constexpr std::array<std::string_view, 7> kLong = {
      "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  const std::string n = Lower(Trim(name));
  for (int i = 0; i < 7; ++i)
    if (n == kShort[static_cast<size_t>(i)] || n == kLong[static_cast<size_t>(i)]) return i;
  return -1;
}

bool ParseOpenHours(std::string_view text, plan::WeeklyHours& hours, std::string& error) {
  for (auto& day : hours) day.clear();
  while (!text.empty()) {
    const size_t semi = text.find(';');
    std::string_view entry = Trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (entry.empty()) continue;
    // Days come first; the hours start at the first digit, or at "closed".
    size_t split = 0;
    while (split < entry.size() && !std::isdigit(static_cast<unsigned char>(entry[split]))) ++split;
    if (split == entry.size()) split = Lower(entry).find("closed");
    if (split == std::string_view::npos || split == 0) {
      error = "'" + std::string(entry) + "' names no hours (expected e.g. 'Mon-Fri 09:00-21:00')";
      return false;
    }
    std::string_view days = Trim(entry.substr(0, split));
    std::string_view spec = Trim(entry.substr(split));
    std::array<bool, 7> named{};
    while (!days.empty()) {
      const size_t comma = days.find(',');
      std::string_view part = Trim(days.substr(0, comma));
      days = comma == std::string_view::npos ? std::string_view() : days.substr(comma + 1);
      const size_t dash = part.find('-');
      const int from = WeekdayIndex(part.substr(0, dash));
      const int to = dash == std::string_view::npos ? from : WeekdayIndex(part.substr(dash + 1));
      if (from < 0 || to < 0) {
        error = "'" + std::string(part) + "' is not a day or a range of days such as Mon-Fri";
        return false;
      }
      for (int d = from;; d = (d + 1) % 7) {
        named[static_cast<size_t>(d)] = true;
        if (d == to) break;
      }
    }
    std::vector<std::pair<int, int>> intervals;
    if (Lower(spec) != "closed") {
      while (!spec.empty()) {
        const size_t comma = spec.find(',');
        std::string_view range = Trim(spec.substr(0, comma));
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        const size_t dash = range.find('-');
        int open = 0, close = 0;
        if (dash == std::string_view::npos || !Clock(range.substr(0, dash), open) ||
            !Clock(range.substr(dash + 1), close) || open == 24 * 60) {
          error = "'" + std::string(range) + "' is not a time range such as 09:00-21:00";
          return false;
        }
        if (close <= open) close += 24 * 60;  // runs past midnight
        intervals.emplace_back(open, close);
      }
    }
    for (int d = 0; d < 7; ++d)
      if (named[static_cast<size_t>(d)]) hours[static_cast<size_t>(d)] = intervals;
  }
  return true;
}

bool IsOpen(const plan::WeeklyHours& hours, int weekday, int minute) {
  for (const auto& [open, close] : hours[static_cast<size_t>(weekday)])
    if (minute >= open && minute < close) return true;
  for (const auto& [open, close] : hours[static_cast<size_t>((weekday + 6) % 7)])
    if (close > 24 * 60 && minute + 24 * 60 < close) return true;
  return false;
}

}  // namespace aisle::dsl
