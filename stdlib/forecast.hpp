#pragma once
// Forecasting core: exponential smoothing (ETS state-space models, Hyndman et al. 2008), seasonal
// naive, a multiple-seasonality method for hourly data (seasonal decomposition + ETS), intermittent
// demand (Croston, SBA, TSB) and an optional regression of residuals on exogenous signals.
//
// Independent of the engine: std and Boost only. All functions are pure and deterministic for a
// given input (simulated intervals use a fixed seed); nothing throws out of this module. Classes
// are not thread-safe; distinct objects may be used from distinct threads.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aisle::stdlib {

namespace forecast_detail {
struct FittedModel;
}  // namespace forecast_detail

// Which model family forecasts a series.
enum class Method : uint8_t {
  kAuto = 0,            // intermittent (ADI >= 1.32) -> SBA; one season <= kMaxEtsSeason (or none)
                        // -> ETS by AICc; several seasons or one longer -> the multiple-season
                        // method: the median of four kDecomposedEts variants (profile windows
                        // 7/4 and 4/3 cycles, raw and log scale) and seasonal naive (shortest
                        // season), chosen on M4 Hourly validation (see forecast.cpp)
  kNaive = 1,           // last value repeated
  kSeasonalNaive = 2,   // the value one longest season ago
  kEts = 3,             // ETS by AICc, seasonal with the first season when it is <= kMaxEtsSeason
  kDecomposedEts = 4,   // seasonal profiles for every season removed (the shortest from its last 7
                        // cycles, longer ones from their last 4), non-trended ETS on the rest, on
                        // the log scale when every value is > 0; profiles added back
  kCroston = 5,         // Croston (1972)
  kSba = 6,             // Syntetos-Boylan approximation (2005): Croston x (1 - alpha / 2)
  kTsb = 7,             // Teunter-Syntetos-Babai (2011): demand probability x demand size
};

// Seasons longer than this are not modelled by seasonal ETS states (as R's forecast::ets, which
// refuses frequencies above 24): they go through the decomposition instead.
inline constexpr int kMaxEtsSeason = 24;

// Options of a forecast. Every field has a usable default except `horizon`.
struct ForecastOptions {
  int horizon = 1;                 // steps to forecast (>= 1)
  std::vector<int> seasons;        // seasonal periods in steps, e.g. {24, 168} for hourly data; empty
                                   // = none. Periods < 2 are ignored.
  double level = 0.95;             // prediction interval coverage in (0, 1)
  Method method = Method::kAuto;   // model family
  double intermittent_alpha = 0.1; // Croston/SBA/TSB smoothing of demand size (and interval);
                                   // 0.1 is the middle of the 0.05-0.2 range Syntetos & Boylan advise
  double tsb_beta = 0.1;           // TSB smoothing of the demand probability
  // Exogenous signals (e.g. a promotion flag): each regressor holds history.size() + horizon values,
  // the past ones aligned with the history, then the future ones. Empty = none. The model's
  // one-step residuals are regressed on them (least squares, with intercept) and the fitted
  // effect of the future values is added to the forecast.
  std::vector<std::vector<double>> regressors;
};

// A forecast: the point forecasts and prediction intervals for steps 1..horizon.
struct Forecast {
  std::vector<double> mean;   // point forecasts
  std::vector<double> lower;  // lower bound of the `level` prediction interval
  std::vector<double> upper;  // upper bound of the `level` prediction interval
  std::string model;          // the model used, e.g. "ETS(M,Ad,M)", "SNaive(24)", "SBA"
  std::string error;          // empty on success; otherwise why there is no forecast (mean empty)
};

// Forecasts `history` (oldest first) `options.horizon` steps ahead. Non-finite values are
// rejected with `error` set.
Forecast ForecastSeries(std::span<const double> history, const ForecastOptions& options);

// Incremental forecaster: fed one value as each window closes, with bounded memory.
//
// It keeps at most HistoryLimit() + RefitEvery() values. Every RefitEvery() values (and on the
// first Predict after fewer values than that) it trims the history to the last HistoryLimit()
// values and refits the model on them; in between, each new value only updates the fitted model's
// states. Predict() right after a refit therefore equals ForecastSeries() on the retained values.
// Regressors are not supported incrementally (options.regressors must be empty).
class Forecaster {
 public:
  // Creates an empty forecaster with the given options.
  explicit Forecaster(ForecastOptions options);
  ~Forecaster();
  Forecaster(Forecaster&&) noexcept;
  Forecaster& operator=(Forecaster&&) noexcept;
  // Appends one observation (non-finite values are ignored).
  void Add(double y);
  // Forecasts from the values added so far (error set while there is no value): from the fitted
  // model, or before the first refit from a model fitted on everything added.
  Forecast Predict() const;
  // Values retained at a refit: 6 longest seasons, at least 200. For hourly data (168) that is
  // 1008 values: the 4 weekly cycles the multiple-season profiles use, and at least the 700-960
  // values the method was validated on (M4 Hourly); older data would only add stale patterns.
  size_t HistoryLimit() const;
  // Values between refits: the longest season (a week of hourly data), at least 24.
  size_t RefitEvery() const;
  // Appends the state (versioned, length-prefixed binary) to `out`.
  void Save(std::string& out) const;
  // Replaces the state with one written by Save; false (state unchanged) on bad input.
  bool Load(std::string_view in);
  // Number of values added over the forecaster's life.
  int64_t Count() const { return count_; }

 private:
  void Refit();

  ForecastOptions options_;
  std::vector<double> history_;  // the last fitted window, then every value added since
  size_t fitted_size_ = 0;       // prefix of history_ the model was fitted on (0 = no model yet)
  int64_t count_ = 0;
  // A deterministic function of history_ and fitted_size_ (fit on the prefix, then per-value
  // updates), so Save writes only those and Load rebuilds it.
  std::unique_ptr<forecast_detail::FittedModel> model_;
};

}  // namespace aisle::stdlib
