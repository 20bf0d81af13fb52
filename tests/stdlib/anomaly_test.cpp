// anomaly(): robust z-scores on hand-built series with known answers.

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

using aisle::dsl::Value;
using aisle::dsl::kMicrosPerDay;
using aisle::dsl::kMicrosPerHour;

namespace {

struct Anomaly {
  aisle::engine::OperatorRegistry registry;
  std::unique_ptr<aisle::engine::StatefulOperator> op;
  std::unique_ptr<aisle::engine::OperatorState> state;

  Anomaly(int64_t baseline, int64_t season, const char* method = "robust_z",
          int64_t half_life = 0) {
    aisle::stdlib::RegisterAnomaly(registry);
    std::vector<Value> args = {Value::Null(), Value::Duration(baseline), Value::Duration(season),
                               Value::String(method), Value::Duration(half_life)};
    op = registry.Get(registry.Find("anomaly")).stateful(args);
    state = op->NewState();
  }
  Value details[4];  // expected, spread, history, slot: the last call's explanation

  Value Feed(double x, int64_t time, int64_t window) {
    std::vector<Value> args = {Value::Decimal(x), Value::Null(), Value::Null(), Value::Null(),
                               Value::Null()};
    for (Value& d : details) d = Value::Null();
    return op->Apply(*state, args, {time, window}, details);
  }
};

}  // namespace

TEST_CASE("robust z against the median and MAD of the history", "[stdlib][anomaly]") {
  // Daily windows, a 6-day baseline: up to six values, so scores start at three.
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  // Fewer than three values of history: no score.
  CHECK(a.Feed(10, 0 * day, day).is_null());
  CHECK(a.Feed(12, 1 * day, day).is_null());
  CHECK(a.Feed(11, 2 * day, day).is_null());
  CHECK_FALSE(a.Feed(13, 3 * day, day).is_null());
  CHECK_FALSE(a.Feed(9, 4 * day, day).is_null());
  // History 10 12 11 13 9: median 11, |deviations| 1 1 0 2 2 -> MAD 1, scale 1.4826.
  // 14 -> (14 - 11) / 1.4826 = 2.023472...
  Value z = a.Feed(14, 5 * day, day);
  CHECK(z.d == Approx(3.0 / 1.4826).epsilon(1e-12));
  // The explanation: expected the median 11, values stray by 1.4826, five values compared.
  CHECK(a.details[0].d == 11.0);
  CHECK(a.details[1].d == Approx(1.4826).epsilon(1e-12));
  CHECK(a.details[2].i == 5);
  // History now 10 12 11 13 9 14: median 11.5, deviations 1.5 .5 .5 1.5 2.5 2.5 -> MAD 1.5.
  // 5 -> (5 - 11.5) / (1.4826 * 1.5) = -2.92280...
  z = a.Feed(5, 6 * day, day);
  CHECK(z.d == Approx(-6.5 / (1.4826 * 1.5)).epsilon(1e-12));
}

TEST_CASE("a flat history falls back to the mean absolute deviation, then saturates", "[stdlib][anomaly]") {
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  for (int i = 0; i < 4; ++i) a.Feed(10, i * day, day);
  CHECK(a.Feed(10, 4 * day, day).d == 0.0);
  CHECK(a.Feed(7, 5 * day, day).d == -1e9);  // any change against a flat history
  // History 10 10 10 10 10 7: median 10, MAD 0, mean |dev| 0.5 -> scale 1.2533 * 0.5.
  // 12 -> 2 / 0.62665 = 3.19157...
  CHECK(a.Feed(12, 6 * day, day).d == Approx(2.0 / (1.2533 * 0.5)).epsilon(1e-12));
}

TEST_CASE("each seasonal slot keeps its own history", "[stdlib][anomaly]") {
  // Hourly windows, daily season: hour 10 and hour 11 are compared only with themselves.
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay);
  const int64_t h = kMicrosPerHour;
  for (int day = 0; day < 3; ++day) {
    a.Feed(100, day * 24 * h + 10 * h, h);
    a.Feed(5, day * 24 * h + 11 * h, h);
  }
  // Hour 10's history is 100 100 100: 100 scores 0; hour 11's is 5 5 5: 100 saturates.
  CHECK(a.Feed(100, 3 * 24 * h + 10 * h, h).d == 0.0);
  CHECK(a.Feed(100, 3 * 24 * h + 11 * h, h).d == 1e9);
}

TEST_CASE("history older than the baseline is forgotten", "[stdlib][anomaly]") {
  Anomaly a(3 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  a.Feed(1, 0, day);
  a.Feed(2, day, day);
  a.Feed(3, 2 * day, day);
  // At day 3 the baseline [0, 3d] still holds three values: scored.
  CHECK_FALSE(a.Feed(4, 3 * day, day).is_null());
  // At day 10 everything is older than three days: back to no score.
  CHECK(a.Feed(4, 10 * day, day).is_null());
}

TEST_CASE("state saves and restores", "[stdlib][anomaly]") {
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  for (int i = 0; i < 5; ++i) a.Feed(10 + i, i * day, day);
  std::string saved;
  a.state->Save(saved);
  Anomaly b(6 * kMicrosPerDay, kMicrosPerDay);
  REQUIRE(b.state->Load(saved));
  CHECK(a.Feed(30, 5 * day, day).d == b.Feed(30, 5 * day, day).d);
  CHECK_FALSE(b.state->Load(saved.substr(0, saved.size() - 3)));
}

TEST_CASE("scores wait until half the baseline's values are there", "[stdlib][anomaly]") {
  // Daily windows, 28-day baseline, daily season: 28 values fit, so 14 are needed.
  Anomaly a(28 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  for (int i = 0; i < 14; ++i) CHECK(a.Feed(10 + i % 3, i * day, day).is_null());
  CHECK_FALSE(a.Feed(10, 14 * day, day).is_null());
}

TEST_CASE("poisson scores counts by their tail probability", "[stdlib][anomaly]") {
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay, "poisson");
  const int64_t day = kMicrosPerDay;
  for (int i = 0; i < 4; ++i) a.Feed(2, i * day, day);
  // Expected count 2 (the median). P[X >= 6 | 2] = 1 - e^-2 (1 + 2 + 2 + 4/3 + 2/3 + 4/15)
  // = 0.0165636...; the normal z with that upper tail is 2.13054 (Python:
  // statistics.NormalDist().inv_cdf(1 - 0.0165636084806) = 2.130538).
  Value z = a.Feed(6, 4 * day, day);
  CHECK(z.d == Approx(2.130538).epsilon(1e-5));
  // The median is still 2: a count equal to it scores 0; 0 has P[X <= 0] = e^-2 = 0.135335,
  // z = -inv_cdf(1 - 0.135335) = -1.101520.
  CHECK(a.Feed(2, 5 * day, day).d == 0.0);
  CHECK(a.Feed(0, 6 * day, day).d == Approx(-1.101520).epsilon(1e-5));
}

TEST_CASE("a corrected window replaces its value in the history", "[stdlib][anomaly]") {
  Anomaly a(6 * kMicrosPerDay, kMicrosPerDay);
  const int64_t day = kMicrosPerDay;
  a.Feed(10, 0 * day, day);
  a.Feed(12, 1 * day, day);
  a.Feed(11, 2 * day, day);
  a.Feed(13, 3 * day, day);
  a.Feed(100, 4 * day, day);  // then corrected: a late event changed day 4 to 9
  // The correction is scored against days 0-3 only: median 11.5, deviations 1.5 .5 .5 1.5,
  // MAD 1, so 9 -> (9 - 11.5) / 1.4826.
  Value z = a.Feed(9, 4 * day, day);
  CHECK(z.d == Approx(-2.5 / 1.4826).epsilon(1e-12));
  // History 10 12 11 13 9, as if 100 never came: 14 -> (14 - 11) / 1.4826.
  z = a.Feed(14, 5 * day, day);
  CHECK(z.d == Approx(3.0 / 1.4826).epsilon(1e-12));
}
