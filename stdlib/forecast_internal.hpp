#pragma once
// Internals of the forecasting core shared by forecast.cpp, ets.cpp and intermittent.cpp, and
// visible to the unit tests (fixed-parameter models worked by hand). Not a public API.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stdlib/forecast.hpp"

namespace aisle::stdlib::forecast_detail {

// ETS trend component.
enum class Trend : uint8_t { kNone, kAdd, kDamped };
// ETS seasonal component.
enum class Season : uint8_t { kNone, kAdd, kMul };

// An ETS model's form: error A/M, trend N/A/Ad, season N/A/M with period m.
struct EtsSpec {
  bool mul_error = false;
  Trend trend = Trend::kNone;
  Season season = Season::kNone;
  int m = 1;
  // "ETS(A,Ad,M)" as Hyndman et al. write it.
  std::string Name() const;
};

// Smoothing parameters and initial states of an ETS model.
struct EtsParams {
  double alpha = 0.5;
  double beta = 0.0;   // trend smoothing (the beta of the error-correction form, beta <= alpha)
  double gamma = 0.0;  // seasonal smoothing, gamma <= 1 - alpha
  double phi = 1.0;    // damping, 1 when not damped
  double level = 0.0;  // initial level l0
  double slope = 0.0;  // initial slope b0
  std::vector<double> seasonal;  // initial seasonal states; seasonal[t % m] applies at step t
};

// A fitted ETS model: its parameters, its states after the last observation and its fit figures.
struct EtsModel {
  EtsSpec spec;
  EtsParams params;
  double level = 0;
  double slope = 0;
  std::vector<double> seasonal;  // seasonal[t % m] applies at step t
  int64_t t = 0;                 // index of the next step
  double sigma2 = 0;             // variance of the (additive or relative) one-step errors
  double aicc = 0;
  double neg2_loglik = 0;        // -2 log likelihood up to a constant shared by all models
  int n_params = 0;

  // One-step forecast of the next step.
  double OneStep() const;
  // Moves the states past observation y (the error-correction equations).
  void Update(double y);
  // Point forecasts for steps 1..h.
  std::vector<double> Mean(int h) const;
  // Point forecasts and `level` intervals for steps 1..h (analytic for the additive class,
  // simulated with a fixed seed otherwise).
  void Predict(int h, double level, Forecast& out) const;
};

// Runs a model with fixed parameters over y: the fitted model (states after y), or nullopt when
// the recursion leaves the admissible region. `residuals` gets y - one-step forecast if not null.
std::optional<EtsModel> RunEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& p,
                               std::vector<double>* residuals = nullptr);
// Fits one ETS form by maximum likelihood (Nelder-Mead over the smoothing parameters and the
// initial level/slope; seasonal states from a classical decomposition of the first cycles).
std::optional<EtsModel> FitEts(std::span<const double> y, const EtsSpec& spec);
// Trend forms AutoEts may try, as a bit set.
inline constexpr unsigned kTrendNone = 1, kTrendAdd = 2, kTrendDamped = 4, kTrendAll = 7;
// Fits every admissible form (restricted as forecast::ets does) and returns the lowest AICc.
// Seasonal forms are tried with period m when 2 <= m <= kMaxEtsSeason and n >= 2m + 2.
std::optional<EtsModel> AutoEts(std::span<const double> y, int m, unsigned trends = kTrendAll);

// Minimises f from x0 with initial steps `step` (Nelder & Mead 1965): at most max_evals calls.
std::vector<double> NelderMead(const std::function<double(const std::vector<double>&)>& f,
                               std::vector<double> x0, const std::vector<double>& step,
                               int max_evals, double rel_tol);

// Classical decomposition seasonal profile (centred moving average, per-phase mean of the
// detrended values over the cycles given, normalised to sum 0 or mean 1): profile[t % m].
std::vector<double> ClassicalSeasonal(std::span<const double> y, int m, bool multiplicative);

// Intermittent demand state: Croston / SBA / TSB with fixed smoothing constants.
struct IntermittentModel {
  Method method = Method::kCroston;
  double alpha = 0.1;  // demand size (and, Croston/SBA, interval) smoothing
  double beta = 0.1;   // TSB demand probability smoothing
  double size = 0;     // smoothed demand size z
  double interval = 1; // smoothed inter-demand interval p (Croston/SBA)
  double prob = 0;     // smoothed demand probability d (TSB)
  int64_t since = 0;   // steps since the last demand (Croston/SBA)
  bool started = false;
  double sigma2 = 0;   // variance of the one-step errors after the first demand

  // The flat forecast per step.
  double Level() const;
  // Moves the states past observation y.
  void Update(double y);
};

// Initialises (first demand) and runs the method over y; residuals as for RunEts.
IntermittentModel FitIntermittent(std::span<const double> y, Method method, double alpha,
                                  double beta, std::vector<double>* residuals = nullptr);

// Any fitted model: updated per value, forecasting from its states.
struct FittedModel {
  enum class Kind : uint8_t { kSeasonalNaive, kEts, kDecomposed, kIntermittent, kMedian };
  Kind kind = Kind::kSeasonalNaive;
  std::string name;
  int64_t t = 0;        // index of the next step
  // Seasonal naive (period 1 = naive): the last `period` values, recent[t % period].
  int period = 1;
  std::vector<double> recent;
  double sigma2 = 0;    // one-step error variance (seasonal naive)
  // ETS, alone or on the seasonally adjusted (and maybe logged) series of kDecomposed.
  EtsModel ets;
  std::vector<int> periods;                   // kDecomposed: the seasons removed
  std::vector<std::vector<double>> profiles;  // kDecomposed: profiles[i][t % periods[i]]
  bool log = false;                           // kDecomposed: modelled on log(y)
  double log_floor = 0;                       // kDecomposed: log of values <= 0 seen later
  IntermittentModel intermittent;
  std::vector<FittedModel> members;           // kMedian: forecasts are the members' median

  // Moves the states past observation y.
  void Update(double y);
  // Forecasts steps 1..h with `level` intervals.
  Forecast Predict(int h, double level) const;
};

// Seasonal naive with `period` (1 = naive); falls back to naive when y is shorter than a period.
FittedModel FitSeasonalNaive(std::span<const double> y, int period, std::vector<double>* residuals);
// Settings of the decomposition method.
struct DecomposeSettings {
  bool log = false;                // model log(y) when every y > 0
  std::vector<int> window_cycles;  // per period: profiles from the last this many cycles (>= 3;
                                   // missing or 0 = all)
  unsigned trends = kTrendAll;     // trend forms of the ETS on the adjusted series
};
// Seasonal profiles for `periods` (ascending) removed by an iterated classical decomposition, ETS
// (AutoEts, non-seasonal) on the rest. Nullopt when too short.
std::optional<FittedModel> FitDecomposed(std::span<const double> y, const std::vector<int>& periods,
                                         const DecomposeSettings& settings,
                                         std::vector<double>* residuals);
// The median of several fitted models (residuals: y minus the median of their fitted values).
FittedModel MedianOf(std::vector<FittedModel> members, std::span<const double> y,
                     const std::vector<std::vector<double>>& member_residuals,
                     std::vector<double>* residuals);
// The model `options` selects for y (Method::kAuto resolved), with its one-step residuals.
std::optional<FittedModel> FitModel(std::span<const double> y, const ForecastOptions& options,
                                    std::vector<double>* residuals);

// Two-sided normal quantile for coverage `level`, e.g. 1.959964 for 0.95.
double NormalQuantile(double level);

}  // namespace aisle::stdlib::forecast_detail
