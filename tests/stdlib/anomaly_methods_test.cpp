// anomaly(method = "ewma" | "forecast") and the `slot` detail: hand-built series with known
// answers, corrections, bounded state, saved state and determinism.

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/anomaly_internal.hpp"
#include "stdlib/forecast.hpp"
#include "stdlib/stdlib.hpp"

using aisle::dsl::Value;
using aisle::dsl::kMicrosPerDay;
using aisle::dsl::kMicrosPerHour;

namespace {

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kHour = kMicrosPerHour;
constexpr int64_t kWeek = 7 * kDay;

struct Scorer {
  aisle::engine::OperatorRegistry registry;
  std::unique_ptr<aisle::engine::StatefulOperator> op;
  std::unique_ptr<aisle::engine::OperatorState> state;
  Value details[4];  // expected, spread, history, slot: the last call's explanation
  std::string slot;  // details[3], copied

  Scorer(int64_t baseline, int64_t season, const char* method, int64_t half_life = 0) {
    aisle::stdlib::RegisterAnomaly(registry);
    std::vector<Value> args = {Value::Null(), Value::Duration(baseline), Value::Duration(season),
                               Value::String(method), Value::Duration(half_life)};
    op = registry.Get(registry.Find("anomaly")).stateful(args);
    state = op->NewState();
  }

  Value Feed(double x, int64_t time, int64_t window) {
    std::vector<Value> args = {Value::Decimal(x), Value::Null(), Value::Null(), Value::Null(),
                               Value::Null()};
    for (Value& d : details) d = Value::Null();
    Value z = op->Apply(*state, args, {time, window}, details);
    slot = details[3].is_null() ? "(null)" : std::string(details[3].str());
    return z;
  }
  std::string Saved() const {
    std::string out;
    state->Save(out);
    return out;
  }
};

}  // namespace

TEST_CASE("ewma scores against an exponentially weighted level and variance", "[stdlib][anomaly]") {
  // Daily windows, one slot (season 1d): the expectation is the level L. Baseline 8d: scores from
  // 8 / 2 = 4 values. half_life 1d: the level's weight is a = max(1/m, 1 - 2^-1) = 0.5 and the
  // variance's b = max(1/m, 1 - 2^(-1/4) = 0.1591), m counting the values learned with this one:
  // b = 1/2, 1/3, 1/4, 1/5, 1/6 for the 2nd to 6th. L += a r, V = (1 - b)(V + b r^2).
  Scorer s(8 * kDay, kDay, "ewma", kDay);
  CHECK(s.Feed(10, 0 * kDay, kDay).is_null());  // L 10, V 0
  CHECK(s.Feed(14, 1 * kDay, kDay).is_null());  // r 4: L 12, V .5 (0 + .5 * 16) = 4
  CHECK(s.Feed(12, 2 * kDay, kDay).is_null());  // r 0: L 12, V 2/3 * 4 = 8/3
  CHECK(s.Feed(12, 3 * kDay, kDay).is_null());  // r 0: L 12, V 3/4 * 8/3 = 2; four values
  // 15 against L 12, sd sqrt(2): 2.1213...
  Value z = s.Feed(15, 4 * kDay, kDay);
  CHECK(z.d == Approx(3.0 / std::sqrt(2.0)).epsilon(1e-12));
  CHECK(s.details[0].d == Approx(12.0).epsilon(1e-12));
  CHECK(s.details[1].d == Approx(std::sqrt(2.0)).epsilon(1e-12));
  CHECK(s.details[2].i == 4);
  CHECK(s.slot.empty());  // a single slot
  // Learning 15: r 3 is within the clip (3 sd = 4.24): L 13.5, V .8 (2 + .2 * 9) = 3.04.
  // 20 -> 6.5 / sqrt(3.04) = 3.7280...
  z = s.Feed(20, 5 * kDay, kDay);
  CHECK(z.d == Approx(6.5 / std::sqrt(3.04)).epsilon(1e-12));
  // Learning 20: r 6.5 is clipped to 3 sqrt(3.04) = 5.2307: L = 13.5 + 1.5 sqrt(3.04) = 16.115,
  // V = 5/6 (3.04 + 1/6 * 9 * 3.04) = 5/6 * 2.5 * 3.04 = 6.3333 (unclipped: 8.4042).
  z = s.Feed(13.5, 6 * kDay, kDay);
  const double level = 13.5 + 1.5 * std::sqrt(3.04), var = 5.0 / 6.0 * 2.5 * 3.04;
  CHECK(s.details[0].d == Approx(level).epsilon(1e-12));
  CHECK(s.details[1].d == Approx(std::sqrt(var)).epsilon(1e-12));
  CHECK(z.d == Approx((13.5 - level) / std::sqrt(var)).epsilon(1e-12));
}

TEST_CASE("ewma corrections replace the pending value", "[stdlib][anomaly]") {
  // One window fired four times: each value replaces the last, and only the last is learned.
  Scorer s(8 * kDay, kDay, "ewma", kDay);
  for (double x : {10.0, 14.0, 12.0, 7.0}) s.Feed(x, 0, kDay);
  CHECK(s.Feed(12, kDay, kDay).is_null());
  CHECK(s.details[2].i == 1);
  Scorer t(8 * kDay, kDay, "ewma", kDay);
  t.Feed(10, 0, kDay);
  t.Feed(14, kDay, kDay);
  t.Feed(12, 2 * kDay, kDay);
  t.Feed(12, 3 * kDay, kDay);
  CHECK(t.Feed(15, 4 * kDay, kDay).d == Approx(3.0 / std::sqrt(2.0)));  // L 12, V 2 as above
  // Day 4 fired again with 9: scored against the same L 12, V 2, and 9 replaces 15.
  CHECK(t.Feed(9, 4 * kDay, kDay).d == Approx(-3.0 / std::sqrt(2.0)).epsilon(1e-12));
  // Learning 9: r -3 (within the clip): L 10.5, V .8 (2 + .2 * 9) = 3.04. 20 -> 9.5 / sqrt(3.04).
  CHECK(t.Feed(20, 5 * kDay, kDay).d == Approx(9.5 / std::sqrt(3.04)).epsilon(1e-12));
  // Day 3 again, after day 5: too late to change anything.
  CHECK(t.Feed(100, 3 * kDay, kDay).is_null());
}

TEST_CASE("ewma forgets a key unseen for longer than the baseline", "[stdlib][anomaly]") {
  Scorer s(8 * kDay, kDay, "ewma", kDay);
  for (int i = 0; i < 6; ++i) s.Feed(10 + i % 2, i * kDay, kDay);
  CHECK_FALSE(s.Feed(10, 6 * kDay, kDay).is_null());
  CHECK(s.Feed(10, 30 * kDay, kDay).is_null());  // 24 days later: starts over
  CHECK(s.details[2].i == 0);
}

TEST_CASE("ewma shares the level across slots and keeps an offset per slot", "[stdlib][anomaly]") {
  // Hourly windows, a 2-hour season (slots #0 and #1 alternate), baseline 4h: scores from
  // max(3, 4 / 2) = 3 values; offsets learn with g = max(1/k, 1 - 2^(-2h / 2h)) = .5 (k the
  // slot's values); half_life 1h: a = .5, b = 1/2, 1/3, 1/4 as above.
  Scorer s(4 * kHour, 2 * kHour, "ewma", kHour);
  CHECK(s.Feed(10, 0, kHour).is_null());  // L 10, S0 0
  CHECK(s.Feed(20, kHour, kHour).is_null());  // a new slot: S1 = 20 - 10 = 10, nothing else
  CHECK(s.Feed(12, 2 * kHour, kHour).is_null());  // two values learned: not yet
  // Learning 12 (slot 0): r = 12 - 10 - 0 = 2: L 11, S0 = .5 (12 - 11) = .5, V .5 (.5 * 4) = 1.
  // 22 (slot 1) against L + S1 = 21, sd 1: z 1.
  Value z = s.Feed(22, 3 * kHour, kHour);
  CHECK(z.d == Approx(1.0).epsilon(1e-12));
  CHECK(s.details[0].d == Approx(21.0).epsilon(1e-12));
  CHECK(s.slot == "#1");
  // Learning 22: r 1: L 11.5, S1 = 10 + .5 (22 - 11.5 - 10) = 10.25, V = 2/3 (1 + 1/3) = 8/9.
  // 9 (slot 0) against 11.5 + .5 = 12: -3 / sqrt(8/9) = -3.18198.
  z = s.Feed(9, 4 * kHour, kHour);
  CHECK(z.d == Approx(-3.0 / std::sqrt(8.0 / 9.0)).epsilon(1e-12));
  // Learning 9: r -3 clipped to -3 sqrt(8/9) = -2.828427 (x_c = 9.171573): L = 11.5 - 1.414214,
  // S0 = .5 + .5 (x_c - L - .5), V = 3/4 (8/9 + 1/4 * 8) = 2.166667.
  // 30 (slot 1) against L + 10.25 = 20.335786: 9.664214 / 1.471960 = 6.5655.
  const double level = 11.5 - std::sqrt(2.0);
  z = s.Feed(30, 5 * kHour, kHour);
  CHECK(s.details[0].d == Approx(level + 10.25).epsilon(1e-12));
  CHECK(z.d == Approx((30 - level - 10.25) / std::sqrt(0.75 * (8.0 / 9.0 + 2.0))).epsilon(1e-12));
}

TEST_CASE("ewma state is bounded by the season's slots", "[stdlib][anomaly]") {
  Scorer s(28 * kDay, kWeek, "ewma");
  std::string after_two_weeks;
  for (int64_t h = 0; h < 10 * 168; ++h) {
    s.Feed(static_cast<double>(h % 24), h * kHour, kHour);
    if (h == 2 * 168) after_two_weeks = s.Saved();
  }
  // 62 bytes, then 32 per slot: 168 slots, now and after two weeks alike.
  CHECK(s.Saved().size() == 62 + 168 * 32);
  CHECK(after_two_weeks.size() == s.Saved().size());
}

TEST_CASE("anomaly methods save, restore and reject garbage", "[stdlib][anomaly]") {
  for (const char* method : {"robust_z", "poisson", "ewma", "forecast"}) {
    INFO(method);
    Scorer a(28 * kDay, kWeek, method);
    // Daily windows, a weekly pattern with a little deterministic noise.
    auto value = [](int i) { return 20.0 + 5.0 * (i % 7 == 5) + (i * 7919 % 5); };
    for (int i = 0; i < 40; ++i) a.Feed(value(i), i * kDay, kDay);
    const std::string saved = a.Saved();
    Scorer b(28 * kDay, kWeek, method);
    REQUIRE(b.state->Load(saved));
    CHECK(b.Saved() == saved);
    for (int i = 40; i < 50; ++i) {
      Value za = a.Feed(value(i), i * kDay, kDay);
      Value zb = b.Feed(value(i), i * kDay, kDay);
      CHECK(za.is_null() == zb.is_null());
      CHECK(za.d == zb.d);  // bit for bit: same inputs, same arithmetic
    }
    CHECK_FALSE(b.state->Load(saved.substr(0, saved.size() - 3)));
    CHECK_FALSE(b.state->Load(saved + "x"));
    CHECK_FALSE(b.state->Load(std::string(saved.size(), '\xff')));
  }
}

TEST_CASE("ewma and forecast states carry a version", "[stdlib][anomaly]") {
  for (const char* method : {"ewma", "forecast"}) {
    INFO(method);
    Scorer a(28 * kDay, kWeek, method);
    for (int i = 0; i < 20; ++i) a.Feed(10 + i % 3, i * kDay, kDay);
    std::string saved = a.Saved();
    saved[0] = static_cast<char>(saved[0] + 1);
    Scorer b(28 * kDay, kWeek, method);
    CHECK_FALSE(b.state->Load(saved));
    CHECK_FALSE(b.state->Load(""));
  }
}

TEST_CASE("forecast scores the residual of the key's one-step forecast", "[stdlib][anomaly]") {
  // Daily windows, season 1w: the Forecaster forecasts with a weekly season (7), from 14 values.
  // Before its first refit (24 values) Predict equals ForecastSeries on everything learned, an
  // independent path to the same forecast.
  Scorer s(28 * kDay, kWeek, "forecast");
  std::vector<double> history;
  auto value = [](int i) { return 50.0 + 20.0 * (i % 7 == 5) + 10.0 * (i % 7 == 6) + (i % 3); };
  for (int i = 0; i < 14; ++i) {
    CHECK(s.Feed(value(i), i * kDay, kDay).is_null());
    history.push_back(value(i));
  }
  aisle::stdlib::ForecastOptions o;
  o.horizon = 1;
  o.seasons = {7};
  const aisle::stdlib::Forecast f = aisle::stdlib::ForecastSeries(history, o);
  REQUIRE(f.error.empty());
  const double sd = (f.upper[0] - f.lower[0]) / (2 * 1.959963984540054);
  const double x = 95;  // day 14 is a plain day (14 % 7 = 0): about 50-52 expected
  Value z = s.Feed(x, 14 * kDay, kDay);
  REQUIRE_FALSE(z.is_null());
  CHECK(s.details[0].d == Approx(f.mean[0]).epsilon(1e-9));
  CHECK(s.details[1].d == Approx(sd).epsilon(1e-9));
  CHECK(z.d == Approx((x - f.mean[0]) / sd).epsilon(1e-9));
  CHECK(s.details[2].i == 14);
  CHECK(z.d > 3.5);  // 95 is ~44 above a pattern whose noise is 0..2
  CHECK(s.slot == "Thu");  // day 14 after 1970-01-01, a Thursday
  // A correction of day 14 is scored against the same forecast and replaces 95.
  Value zc = s.Feed(51, 14 * kDay, kDay);
  CHECK(zc.d == Approx((51 - f.mean[0]) / sd).epsilon(1e-9));
  CHECK(std::fabs(zc.d) < 3.5);
  // Day 16 skips day 15 (it never fired: 0). The forecast for 16 comes from 14 values,
  // then 51, then 0.
  history.push_back(51);
  history.push_back(0);
  const aisle::stdlib::Forecast g = aisle::stdlib::ForecastSeries(history, o);
  s.Feed(50, 16 * kDay, kDay);
  CHECK(s.details[0].d == Approx(g.mean[0]).epsilon(1e-9));
  CHECK(s.details[2].i == 16);
  // An older window than the pending one: too late.
  CHECK(s.Feed(50, 15 * kDay, kDay).is_null());
}

TEST_CASE("forecast state stays bounded", "[stdlib][anomaly]") {
  // Daily windows, weekly season: the Forecaster keeps at most 200 + 24 values.
  Scorer s(28 * kDay, kWeek, "forecast");
  size_t largest = 0;
  for (int i = 0; i < 600; ++i) {
    s.Feed(30 + (i % 7) + (i % 5), i * kDay, kDay);
    largest = std::max(largest, s.Saved().size());
  }
  // Head 35 bytes, Forecaster: 5 + options (~50) + 24 + 8 per value.
  CHECK(largest <= 35 + 5 + 64 + 24 + 8 * (200 + 24));
}

TEST_CASE("slots are named by the window's start in UTC", "[stdlib][anomaly]") {
  using aisle::stdlib::anomaly_detail::SlotName;
  std::string out;
  const int64_t tuesday = aisle::dsl::DaysFromCivil(2026, 11, 24) * kDay;  // a Tuesday
  SlotName(tuesday + 14 * kHour, kHour, kWeek, out);
  CHECK(out == "Tue 14:00");
  SlotName(tuesday + 14 * kHour + 30 * 60'000'000LL, 30 * 60'000'000LL, kDay, out);
  CHECK(out == "14:30");
  SlotName(tuesday, kDay, kWeek, out);
  CHECK(out == "Tue");
  SlotName(tuesday + 8 * kHour, kDay, kWeek, out);  // daily windows offset by 8h
  CHECK(out == "Tue 08:00");
  SlotName(tuesday, kDay, kDay, out);  // one slot
  CHECK(out.empty());
  SlotName(tuesday, 0, kWeek, out);  // a raw stream
  CHECK(out.empty());
  SlotName(tuesday + 13 * kHour, kHour, 12 * kHour, out);  // a 12-hour season: an index
  CHECK(out == "#1");
  // robust_z fills it too: hourly windows, weekly season, three weeks of Tuesday 14:00.
  Scorer s(28 * kDay, kWeek, "robust_z");
  for (int w = 0; w < 3; ++w) s.Feed(10 + w, tuesday + w * kWeek + 14 * kHour, kHour);
  CHECK_FALSE(s.Feed(11, tuesday + 3 * kWeek + 14 * kHour, kHour).is_null());
  CHECK(s.slot == "Tue 14:00");
}

TEST_CASE("every method gives the same scores for the same series", "[stdlib][anomaly]") {
  // Two fresh call sites fed one hourly series with a weekly season: equal bit for bit.
  auto value = [](int64_t h) { return 40.0 + 10.0 * ((h % 24) > 8) + static_cast<double>(h * 7919 % 7); };
  for (const char* method : {"robust_z", "poisson", "ewma", "forecast"}) {
    INFO(method);
    Scorer a(28 * kDay, kWeek, method), b(28 * kDay, kWeek, method);
    int scored = 0;
    for (int64_t h = 0; h < 4 * 168; ++h) {
      Value za = a.Feed(value(h), h * kHour, kHour), zb = b.Feed(value(h), h * kHour, kHour);
      REQUIRE(za.is_null() == zb.is_null());
      if (za.is_null()) continue;
      ++scored;
      CHECK(za.d == zb.d);
      CHECK(a.slot == b.slot);
    }
    CHECK(scored > 0);
  }
}
