#pragma once
// Store opening hours as the stores table writes them (INTERFACES.md, "Reference tables"):
// "Mon-Fri 09:00-21:00; Sat 10:00-20:00; Sun closed". Entries are separated by ';'. Each names
// days (a day, a range such as Mon-Fri or Fri-Mon, or a comma list of either) and then either
// `closed` or one or more comma-separated HH:MM-HH:MM intervals; a close at or before the open
// time runs past midnight (22:00-02:00), and 00:00-24:00 is the whole day. A later entry for a
// day replaces an earlier one. Days never named are closed.

#include <string>
#include <string_view>

#include "dsl/plan.hpp"

namespace aisle::dsl {

// Parses `text` into per-weekday intervals (0 = Sunday). False with `error` on malformed text.
bool ParseOpenHours(std::string_view text, plan::WeeklyHours& hours, std::string& error);

// The weekday (0 = Sunday .. 6 = Saturday) a name such as "mon" or "Monday" stands for, or -1.
int WeekdayIndex(std::string_view name);

// Whether a store with `hours` is open at `minute` (0..1439) of local weekday `weekday`, counting
// the previous day's intervals that run past midnight.
bool IsOpen(const plan::WeeklyHours& hours, int weekday, int minute);

}  // namespace aisle::dsl
