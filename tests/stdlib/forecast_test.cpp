// Forecasting core: hand-derived small cases, exact series, model choice by AICc, intervals,
// determinism, the incremental Forecaster against the batch call, saved state, invariance.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "stdlib/forecast.hpp"
#include "stdlib/forecast_internal.hpp"

using aisle::stdlib::Forecast;
using aisle::stdlib::Forecaster;
using aisle::stdlib::ForecastOptions;
using aisle::stdlib::ForecastSeries;
using aisle::stdlib::Method;
namespace fd = aisle::stdlib::forecast_detail;

namespace {

// A portable generator for test data (the standard distributions differ between libraries).
struct TestRng {
  uint64_t s;
  double Uniform() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (static_cast<double>(s >> 11) + 0.5) * 0x1.0p-53;
  }
  double Normal() { return std::sqrt(-2 * std::log(Uniform())) * std::cos(6.283185307179586 * Uniform()); }
};

std::vector<double> SeasonalNoisy(int n, uint64_t seed) {
  TestRng rng{seed};
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(50 + 10 * std::sin(6.283185307179586 * t / 12) + rng.Normal());
  return y;
}

std::vector<double> WhiteNoise(int n, uint64_t seed) {
  TestRng rng{seed};
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(50 + rng.Normal());
  return y;
}

bool SameForecast(const Forecast& a, const Forecast& b) {
  return a.mean == b.mean && a.lower == b.lower && a.upper == b.upper && a.model == b.model &&
         a.error == b.error;
}

}  // namespace

TEST_CASE("SES with a fixed alpha, worked by hand", "[forecast]") {
  // alpha 0.5, l0 10, y 12 10 15 13:
  //   l1 = 10 + .5 (12 - 10) = 11, l2 = 11 + .5 (10 - 11) = 10.5,
  //   l3 = 10.5 + .5 (15 - 10.5) = 12.75, l4 = 12.75 + .5 (13 - 12.75) = 12.875.
  // One-step errors 2, -1, 4.5, .25: sum of squares 25.3125; 3 parameters (alpha, l0, sigma),
  // sigma2 = 25.3125 / (4 - 2) = 12.65625. var_h = sigma2 (1 + (h - 1) alpha^2).
  const std::vector<double> y = {12, 10, 15, 13};
  fd::EtsParams p;
  p.alpha = 0.5;
  p.level = 10;
  std::vector<double> residuals;
  auto model = fd::RunEts(y, fd::EtsSpec{}, p, &residuals);
  REQUIRE(model);
  CHECK(model->level == Approx(12.875).epsilon(1e-14));
  CHECK(residuals == std::vector<double>{2, -1, 4.5, 0.25});
  CHECK(model->sigma2 == Approx(12.65625).epsilon(1e-14));
  Forecast f;
  model->Predict(3, 0.95, f);
  CHECK(f.model == "ETS(A,N,N)");
  const double z = 1.959963984540054;
  for (int h = 1; h <= 3; ++h) {
    CHECK(f.mean[h - 1] == Approx(12.875).epsilon(1e-14));
    const double sd = std::sqrt(12.65625 * (1 + (h - 1) * 0.25));
    CHECK(f.upper[h - 1] == Approx(12.875 + z * sd).epsilon(1e-9));
    CHECK(f.lower[h - 1] == Approx(12.875 - z * sd).epsilon(1e-9));
  }
}

TEST_CASE("Holt and Holt-Winters with fixed parameters, worked by hand", "[forecast]") {
  // Holt, alpha .5, beta .25, l0 0, b0 1, y 2 3:
  //   t1: q = 0 + 1 = 1, l = 1 + .5 (2 - 1) = 1.5, b = 1 + (.25/.5)(1.5 - 0 - 1) = 1.25
  //   t2: q = 2.75, l = 2.75 + .5 (3 - 2.75) = 2.875, b = 1.25 + .5 (2.875 - 1.5 - 1.25) = 1.3125
  //   forecasts 2.875 + 1.3125 h: 4.1875, 5.5.
  fd::EtsParams p;
  p.alpha = 0.5, p.beta = 0.25, p.level = 0, p.slope = 1;
  auto holt = fd::RunEts(std::vector<double>{2, 3}, fd::EtsSpec{false, fd::Trend::kAdd, fd::Season::kNone, 1}, p);
  REQUIRE(holt);
  CHECK(holt->Mean(2) == std::vector<double>{4.1875, 5.5});
  // Additive Holt-Winters, m 2, alpha .5, gamma .5, l0 10, s = {1, -1}, y 12 8:
  //   t0: q = 10, l = 10 + .5 (12 - 1 - 10) = 10.5, s0 = 1 + .5 (12 - 10 - 1) = 1.5
  //   t1: q = 10.5, l = 10.5 + .5 (8 + 1 - 10.5) = 9.75, s1 = -1 + .5 (8 - 10.5 + 1) = -1.75
  //   forecasts 9.75 + 1.5, 9.75 - 1.75, 9.75 + 1.5.
  fd::EtsParams hw;
  hw.alpha = 0.5, hw.gamma = 0.5, hw.level = 10, hw.seasonal = {1, -1};
  auto model = fd::RunEts(std::vector<double>{12, 8}, fd::EtsSpec{false, fd::Trend::kNone, fd::Season::kAdd, 2}, hw);
  REQUIRE(model);
  CHECK(model->Mean(3) == std::vector<double>{11.25, 8.0, 11.25});
}

TEST_CASE("Holt's linear trend on an exact line forecasts the line", "[forecast]") {
  std::vector<double> y;
  for (int t = 1; t <= 30; ++t) y.push_back(3 + 2 * t);
  ForecastOptions options;
  options.horizon = 5;
  options.method = Method::kEts;
  const Forecast f = ForecastSeries(y, options);
  REQUIRE(f.error.empty());
  for (int h = 1; h <= 5; ++h) CHECK(f.mean[h - 1] == Approx(3 + 2 * (30 + h)).epsilon(1e-7));
}

TEST_CASE("seasonal naive and naive on a short pattern", "[forecast]") {
  const std::vector<double> y = {1, 2, 3, 4, 5, 6, 7, 8};
  ForecastOptions options;
  options.horizon = 6;
  options.seasons = {4};
  options.method = Method::kSeasonalNaive;
  Forecast f = ForecastSeries(y, options);
  CHECK(f.model == "SNaive(4)");
  CHECK(f.mean == std::vector<double>{5, 6, 7, 8, 5, 6});
  // Seasonal differences are all 4: sigma2 16; the band widens once a whole season ahead.
  CHECK(f.upper[0] - f.mean[0] == Approx(1.959963984540054 * 4));
  CHECK(f.upper[4] - f.mean[4] == Approx(1.959963984540054 * 4 * std::sqrt(2.0)));
  options.method = Method::kNaive;
  f = ForecastSeries(y, options);
  CHECK(f.mean == std::vector<double>(6, 8.0));
}

TEST_CASE("Croston, SBA and TSB on a short intermittent series, worked by hand", "[forecast]") {
  // y = 0 0 3 0 5 0 0 2, alpha = beta = 0.1.
  // First demand at period 3: size 3, interval 3, TSB probability 1/3.
  // Period 4 (0): probability 1/3 + .1 (0 - 1/3) = .3.
  // Period 5 (5, 2 periods after the last): size 3 + .1 (5 - 3) = 3.2, interval 3 + .1 (2 - 3) = 2.9,
  //   probability .3 + .1 (1 - .3) = .37.
  // Periods 6, 7 (0): probability .333, .2997.
  // Period 8 (2, 3 periods after): size 3.2 + .1 (2 - 3.2) = 3.08, interval 2.9 + .1 (3 - 2.9) = 2.91,
  //   probability .2997 + .1 (1 - .2997) = .36973.
  // Croston 3.08 / 2.91; SBA x (1 - .05); TSB .36973 x 3.08 = 1.1387684.
  const std::vector<double> y = {0, 0, 3, 0, 5, 0, 0, 2};
  ForecastOptions options;
  options.horizon = 3;
  options.intermittent_alpha = 0.1;
  options.tsb_beta = 0.1;
  options.method = Method::kCroston;
  CHECK(ForecastSeries(y, options).mean[2] == Approx(3.08 / 2.91).epsilon(1e-12));
  options.method = Method::kSba;
  CHECK(ForecastSeries(y, options).mean[0] == Approx(0.95 * 3.08 / 2.91).epsilon(1e-12));
  options.method = Method::kTsb;
  CHECK(ForecastSeries(y, options).mean[1] == Approx(0.36973 * 3.08).epsilon(1e-12));
  // Automatic choice: 3 demands in 8 periods (ADI 2.67 >= 1.32) is intermittent -> SBA.
  options.method = Method::kAuto;
  CHECK(ForecastSeries(y, options).model == "SBA");
}

TEST_CASE("zeros in fixed seasonal slots are not intermittent demand", "[forecast]") {
  // Hourly sales of a store closed 20:00-08:00 (half the hours zero, ADI 2): seasonal, not SBA.
  TestRng rng{37};
  std::vector<double> store;
  for (int t = 0; t < 24 * 28; ++t) {
    const int hour = t % 24;
    store.push_back(hour >= 8 && hour < 20 ? 50 + 30 * std::sin(3.14159 * (hour - 8) / 12) + rng.Normal() : 0.0);
  }
  ForecastOptions options;
  options.horizon = 24;
  options.seasons = {24, 168};
  const Forecast f = ForecastSeries(store, options);
  INFO(f.model);
  CHECK(f.model.rfind("Median(", 0) == 0);
  CHECK(f.mean[3] == Approx(0).margin(1.0));             // 3:00, closed
  CHECK(f.mean[13] == Approx(50 + 30 * std::sin(3.14159 * 5 / 12)).margin(3.0));  // 13:00
  // A daily SKU selling on random days (30%) with a weekly season given: intermittent, SBA.
  std::vector<double> sku;
  for (int t = 0; t < 120; ++t) sku.push_back(rng.Uniform() < 0.3 ? 1 + std::floor(rng.Uniform() * 3) : 0.0);
  options.seasons = {7};
  CHECK(ForecastSeries(sku, options).model == "SBA");
}

TEST_CASE("an exact seasonal series with trend is forecast exactly", "[forecast]") {
  // y = 10 + 0.5 t + s[t mod 12]: the 2x12 moving average of the first cycles recovers the trend
  // and the season exactly, so every one-step error is 0 and the forecast continues the pattern.
  const double s[12] = {3, -1, -2, 0, 4, 1, -3, -2, 2, 0, -1, -1};
  std::vector<double> y;
  for (int t = 0; t < 72; ++t) y.push_back(10 + 0.5 * t + s[t % 12]);
  ForecastOptions options;
  options.horizon = 24;
  options.seasons = {12};
  const Forecast f = ForecastSeries(y, options);
  REQUIRE(f.error.empty());
  for (int h = 1; h <= 24; ++h) {
    const int t = 71 + h;
    CHECK(f.mean[h - 1] == Approx(10 + 0.5 * t + s[t % 12]).margin(1e-6));
  }
}

TEST_CASE("an exact double-seasonal hourly series is forecast exactly", "[forecast]") {
  // Hour-of-day and day-of-week patterns with no noise: the decomposition removes both exactly.
  std::vector<double> y;
  auto value = [](int t) {
    const int hour = t % 24, day = (t / 24) % 7;
    return 100 + 20 * std::sin(6.283185307179586 * hour / 24) + (day >= 5 ? 15.0 : 0.0) + day;
  };
  for (int t = 0; t < 168 * 4; ++t) y.push_back(value(t));
  ForecastOptions options;
  options.horizon = 48;
  options.seasons = {24, 168};
  const Forecast f = ForecastSeries(y, options);
  REQUIRE(f.error.empty());
  for (int h = 1; h <= 48; ++h) CHECK(f.mean[h - 1] == Approx(value(168 * 4 - 1 + h)).margin(1e-6));
}

TEST_CASE("AICc picks a seasonal model for a seasonal series and none for white noise", "[forecast]") {
  ForecastOptions options;
  options.horizon = 12;
  options.seasons = {12};
  const Forecast seasonal = ForecastSeries(SeasonalNoisy(120, 7), options);
  INFO(seasonal.model);
  CHECK((seasonal.model.ends_with(",A)") || seasonal.model.ends_with(",M)")));
  const Forecast noise = ForecastSeries(WhiteNoise(120, 11), options);
  INFO(noise.model);
  CHECK(noise.model.ends_with(",N)"));
}

TEST_CASE("prediction intervals widen with the horizon and contain the mean", "[forecast]") {
  ForecastOptions options;
  options.horizon = 24;
  options.seasons = {12};
  for (const auto& y : {SeasonalNoisy(96, 3), WhiteNoise(96, 5)}) {
    const Forecast f = ForecastSeries(y, options);
    INFO(f.model);
    for (int h = 0; h < 24; ++h) CHECK((f.lower[h] < f.mean[h] && f.mean[h] < f.upper[h]));
    CHECK(f.upper[23] - f.lower[23] > f.upper[0] - f.lower[0]);
  }
  // A multiplicative model's simulated intervals widen too, compared at the same seasonal phase
  // (the width scales with the seasonal factor). Fixed alpha .5: the relative variance at step h is
  // about sigma2 (1 + (h - 1) .25), so the width ratio of step h + 12 to step h is at least
  // sqrt((1 + 23 x .25) / (1 + 11 x .25)) = 1.34 (h = 12), well above the simulation's noise.
  std::vector<double> y = SeasonalNoisy(96, 9);
  fd::EtsSpec spec{true, fd::Trend::kNone, fd::Season::kMul, 12};
  fd::EtsParams p;
  p.alpha = 0.5, p.gamma = 0.1, p.level = 50;
  p.seasonal = fd::ClassicalSeasonal(std::span<const double>(y).first(48), 12, true);
  auto model = fd::RunEts(y, spec, p);
  REQUIRE(model);
  Forecast f;
  model->Predict(24, 0.9, f);
  for (int h = 0; h < 12; ++h) CHECK(f.upper[h + 12] - f.lower[h + 12] > 1.2 * (f.upper[h] - f.lower[h]));
}

TEST_CASE("forecasts are deterministic", "[forecast]") {
  ForecastOptions options;
  options.horizon = 24;
  options.seasons = {12};
  const auto y = SeasonalNoisy(100, 13);
  CHECK(SameForecast(ForecastSeries(y, options), ForecastSeries(y, options)));
  options.seasons = {4, 12};
  CHECK(SameForecast(ForecastSeries(y, options), ForecastSeries(y, options)));
}

TEST_CASE("exogenous regressors: a promotion's effect is learnt from the residuals", "[forecast]") {
  // Level 20 with noise sd .5, +8 on promotion days (every 7th); the next 3 days: promo, none, promo.
  TestRng rng{21};
  const int n = 140;
  std::vector<double> y, promo;
  for (int t = 0; t < n + 3; ++t) promo.push_back(t % 7 == 3 || t == n || t == n + 2 ? 1.0 : 0.0);
  for (int t = 0; t < n; ++t) y.push_back(20 + 0.5 * rng.Normal() + 8 * promo[t]);
  ForecastOptions options;
  options.horizon = 3;
  options.method = Method::kEts;
  options.regressors = {promo};
  const Forecast f = ForecastSeries(y, options);
  REQUIRE(f.error.empty());
  CHECK(f.model.ends_with("+regression"));
  CHECK(f.mean[0] - f.mean[1] == Approx(8).margin(1.5));
  CHECK(f.mean[2] - f.mean[1] == Approx(8).margin(1.5));
  options.regressors = {{1, 2}};
  CHECK_FALSE(ForecastSeries(y, options).error.empty());
}

TEST_CASE("bad input gives an error, not a crash", "[forecast]") {
  ForecastOptions options;
  options.horizon = 3;
  CHECK_FALSE(ForecastSeries(std::vector<double>{}, options).error.empty());
  CHECK_FALSE(ForecastSeries(std::vector<double>{1, NAN, 2}, options).error.empty());
  options.horizon = 0;
  CHECK_FALSE(ForecastSeries(std::vector<double>{1, 2}, options).error.empty());
  // One value: the naive forecast.
  options.horizon = 2;
  CHECK(ForecastSeries(std::vector<double>{5}, options).mean == std::vector<double>{5, 5});
}

TEST_CASE("the incremental forecaster equals the batch forecast after a refit", "[forecast]") {
  ForecastOptions options;
  options.horizon = 12;
  options.seasons = {12};
  Forecaster forecaster(options);
  REQUIRE(forecaster.RefitEvery() == 24);
  REQUIRE(forecaster.HistoryLimit() == 200);
  const auto y = SeasonalNoisy(240, 17);
  for (double v : y) forecaster.Add(v);
  // 240 values: refits every 24, the last at 240 on the last 200 values.
  const std::vector<double> window(y.end() - 200, y.end());
  CHECK(SameForecast(forecaster.Predict(), ForecastSeries(window, options)));
  // Before the first refit it forecasts from everything added.
  Forecaster early(options);
  for (int i = 0; i < 20; ++i) early.Add(y[i]);
  CHECK(SameForecast(early.Predict(), ForecastSeries(std::vector<double>(y.begin(), y.begin() + 20), options)));
  CHECK_FALSE(Forecaster(options).Predict().error.empty());
}

TEST_CASE("save and load mid-stream give the same forecasts, garbage is rejected", "[forecast]") {
  ForecastOptions options;
  options.horizon = 6;
  options.seasons = {12};
  const auto y = SeasonalNoisy(230, 19);
  Forecaster straight(options), first(options);
  for (double v : y) straight.Add(v);
  for (int i = 0; i < 130; ++i) first.Add(y[i]);  // 130: 10 values after the refit at 120
  std::string state;
  first.Save(state);
  Forecaster second(ForecastOptions{});
  REQUIRE(second.Load(state));
  CHECK(SameForecast(second.Predict(), first.Predict()));
  for (int i = 130; i < 230; ++i) second.Add(y[i]);
  CHECK(second.Count() == 230);
  CHECK(SameForecast(second.Predict(), straight.Predict()));
  std::string again;
  second.Save(again);
  std::string straight_state;
  straight.Save(straight_state);
  CHECK(again == straight_state);

  // Every truncation, a wrong version, trailing bytes and random bytes are rejected, and a
  // rejected Load leaves the state as it was.
  for (size_t len = 0; len < state.size(); len += 7) CHECK_FALSE(second.Load(state.substr(0, len)));
  CHECK_FALSE(second.Load(state.substr(0, state.size() - 1)));
  std::string bad = state;
  bad[0] = 9;
  CHECK_FALSE(second.Load(bad));
  CHECK_FALSE(second.Load(state + "x"));
  TestRng rng{23};
  for (int trial = 0; trial < 25; ++trial) {
    std::string garbage = state;
    // Corrupt a few bytes inside the payload (version and length intact) or anywhere.
    for (int k = 0; k < 3; ++k) {
      const size_t at = static_cast<size_t>(rng.Uniform() * static_cast<double>(garbage.size()));
      garbage[at] = static_cast<char>(rng.Uniform() * 256);
    }
    Forecaster probe(options);
    probe.Load(garbage);  // may be accepted when only history values changed; must not crash
  }
  CHECK(SameForecast(second.Predict(), straight.Predict()));
}

TEST_CASE("parallelism invariance: series in any order and batch split give equal forecasts", "[forecast]") {
  // Six series (seasonal, noise, intermittent, trending) forecast one by one, in a shuffled
  // order, and through forecasters fed interleaved random-sized batches with a save/load of each
  // at a random point: equal results.
  std::vector<std::vector<double>> series;
  for (uint64_t seed = 1; seed <= 2; ++seed) series.push_back(SeasonalNoisy(100, seed));
  series.push_back(WhiteNoise(100, 4));
  {
    TestRng rng{6};
    std::vector<double> y;
    for (int t = 0; t < 100; ++t) y.push_back(rng.Uniform() < 0.3 ? std::floor(rng.Uniform() * 5) + 1 : 0);
    series.push_back(y);
    std::vector<double> trend;
    for (int t = 0; t < 100; ++t) trend.push_back(5 + 0.3 * t + rng.Normal());
    series.push_back(trend);
    series.push_back(SeasonalNoisy(100, 8));
  }
  ForecastOptions options;
  options.horizon = 8;
  options.seasons = {12};
  std::vector<Forecast> reference;
  std::vector<Forecaster> forecasters;
  for (const auto& y : series) {
    reference.push_back(ForecastSeries(y, options));
    forecasters.emplace_back(options);
  }
  std::vector<size_t> order(series.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937 shuffle_rng(29);
  std::shuffle(order.begin(), order.end(), shuffle_rng);
  for (size_t i : order) CHECK(SameForecast(ForecastSeries(series[i], options), reference[i]));

  // Incremental: the reference is the batch forecast of the retained window at the last refit
  // (100 values: refits at 24, 48, 72, 96, then 4 updates), computed by a forecaster fed alone.
  std::vector<Forecast> alone;
  for (const auto& y : series) {
    Forecaster f(options);
    for (double v : y) f.Add(v);
    alone.push_back(f.Predict());
  }
  TestRng rng{31};
  std::vector<size_t> fed(series.size(), 0);
  bool left = true;
  while (left) {
    left = false;
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    for (size_t i : order) {
      const size_t batch = 1 + static_cast<size_t>(rng.Uniform() * 40);
      for (size_t k = 0; k < batch && fed[i] < series[i].size(); ++k) forecasters[i].Add(series[i][fed[i]++]);
      if (rng.Uniform() < 0.2) {
        std::string state;
        forecasters[i].Save(state);
        Forecaster moved(ForecastOptions{});
        REQUIRE(moved.Load(state));
        forecasters[i] = std::move(moved);
      }
      left = left || fed[i] < series[i].size();
    }
  }
  for (size_t i = 0; i < series.size(); ++i) CHECK(SameForecast(forecasters[i].Predict(), alone[i]));
}

TEST_CASE("an hourly forecaster saved and loaded mid-stream equals one fed straight", "[forecast]") {
  ForecastOptions options;
  options.horizon = 24;
  options.seasons = {24, 168};
  TestRng rng{41};
  std::vector<double> y;
  for (int t = 0; t < 24 * 20; ++t) {
    y.push_back(100 + 30 * std::sin(6.283185307179586 * (t % 24) / 24) + ((t / 24) % 7 >= 5 ? 20 : 0) + 3 * rng.Normal());
  }
  Forecaster straight(options), first(options);
  REQUIRE(straight.RefitEvery() == 168);
  REQUIRE(straight.HistoryLimit() == 1008);
  for (double v : y) straight.Add(v);
  for (int i = 0; i < 200; ++i) first.Add(y[i]);  // a refit at 168, then 32 updates
  std::string state;
  first.Save(state);
  Forecaster second(ForecastOptions{});
  REQUIRE(second.Load(state));
  for (size_t i = 200; i < y.size(); ++i) second.Add(y[i]);
  const Forecast a = straight.Predict(), b = second.Predict();
  CHECK(SameForecast(a, b));
  CHECK(a.model.rfind("Median(", 0) == 0);
}
