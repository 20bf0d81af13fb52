#pragma once
// Shared by anomaly()'s scoring methods (stdlib/anomaly*.cpp); not part of the stdlib's API.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dsl/value.hpp"
#include "stdlib/series_values.hpp"
#include "engine/registry/registry.hpp"

namespace aisle::stdlib::anomaly_detail {

// The details, in the order RegisterAnomaly declares them.
inline constexpr size_t kExpected = 0, kSpread = 1, kHistory = 2, kSlot = 3;
// The score of any change against a perfectly flat history.
inline constexpr double kSaturated = 1e9;
// Fewest values a score is ever based on.
inline constexpr size_t kMinHistory = 3;

// (x - expected) / spread, saturated at +-kSaturated; a zero spread saturates any difference.
double ZScore(double x, double expected, double spread);

// How many slots a season has for windows of `window` (1 on raw streams or a season <= window).
int64_t SlotCount(int64_t window, int64_t season);

// The seasonal slot of a window starting at `time`: its index among SlotCount's.
int64_t SlotOf(int64_t time, int64_t window, int64_t season);

// Writes the slot's name into `out` (UTC): "Tue 14:00" for windows shorter than a day with a
// season of whole weeks, "14:00" with a season of whole days, "Tue" for daily windows and a
// weekly season; "" when there is a single slot (a raw stream, or a season no longer than the
// window); "#k" (the slot's index) for seasons of other lengths.
void SlotName(int64_t time, int64_t window, int64_t season, std::string& out);

// Fewest values of a slot before it is scored: half of what `baseline` holds, at least three.
size_t MinHistory(int64_t baseline, int64_t window, int64_t season);

// Options of method "ewma" (anomaly_ewma.cpp).
struct EwmaOptions {
  int64_t baseline = 0;      // seasonal offsets' half-life is baseline / 2; a key unseen for longer
                             // starts over; sets the warm-up (MinHistory)
  int64_t season = 0;
  int64_t half_life = 0;     // the level's half-life; <= 0: kEwmaAutoWindows windows (streams:
                             // baseline / 2)
  double variance_factor = 4;  // the variance's half-life over the level's
  double clip = 3.0;         // residuals are clipped to +-clip spreads before they update anything
};

// The level's default half-life in windows (chosen on eval_anomaly's benchmark).
inline constexpr int64_t kEwmaAutoWindows = 24;

// method "ewma": an exponentially weighted level, seasonal offsets and a pooled variance.
std::unique_ptr<engine::StatefulOperator> MakeEwmaAnomaly(const EwmaOptions& options);

// method "forecast": the residual of the key's own one-step forecast (anomaly_forecast.cpp).
std::unique_ptr<engine::StatefulOperator> MakeForecastAnomaly(int64_t season);

}  // namespace aisle::stdlib::anomaly_detail
