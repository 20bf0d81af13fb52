// ETS state-space models (Hyndman, Koehler, Ord, Snyder, "Forecasting with Exponential Smoothing:
// the State Space Approach", 2008), in the error-correction form forecast::ets uses (etscalc.c):
// the states move the same way for additive and multiplicative errors; the error type changes the
// likelihood and the intervals.
//
// Fitting differs from forecast::ets in one documented way: the seasonal initial states come from a
// classical decomposition of the first cycles and are not optimised (forecast::ets optimises them
// too). With 24 seasonal states that optimisation dominates its cost (about 3 s a series on M4
// Hourly); the level/slope initial states and all smoothing parameters are still estimated by
// maximum likelihood. The seasonal states still count as m - 1 parameters in the AICc, as in
// forecast::ets, so model choice is penalised alike.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include <boost/math/distributions/normal.hpp>

#include "stdlib/forecast_internal.hpp"

namespace aisle::stdlib::forecast_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Parameter bounds of forecast::ets ("usual" bounds): smoothing in [1e-4, 0.9999], damping in
// [0.8, 0.98] (below 0.8 a damped trend is indistinguishable from none; at 1 it is not damped).
constexpr double kParLow = 1e-4;
constexpr double kParHigh = 0.9999;
constexpr double kPhiLow = 0.8;
constexpr double kPhiHigh = 0.98;
// Nelder-Mead budget per model: on M4 Hourly validation a budget of 2000 changed no figure at
// three decimals (one sMAPE by 0.001) against 400. Relative tolerance 1e-8 of -2 log L (values
// in the thousands) is far below what changes a model choice.
constexpr int kMaxEvals = 400;
constexpr double kRelTol = 1e-8;
// Sample paths for simulated intervals; a fixed seed keeps forecasts deterministic.
constexpr int kSimPaths = 1000;
constexpr uint64_t kSimSeed = 0x5eed'f0ca'57ull;

double Logistic(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double Logit(double p) { return std::log(p / (1.0 - p)); }

// splitmix64: a tiny, portable generator, so simulated intervals match on every platform.
uint64_t NextRandom(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
double Uniform(uint64_t& s) { return (static_cast<double>(NextRandom(s) >> 11) + 0.5) * 0x1.0p-53; }
double Gaussian(uint64_t& s) {  // Box-Muller, one of the pair
  const double u1 = Uniform(s), u2 = Uniform(s);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Quantile of sorted values by linear interpolation (type 7, R's default).
double Quantile(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// One step of the error-correction recursion; false when it leaves the admissible region.
bool Step(const EtsSpec& spec, const EtsParams& p, double y, double& level, double& slope,
          std::vector<double>& seasonal, int64_t t) {
  const double phib = spec.trend == Trend::kNone ? 0.0
                      : spec.trend == Trend::kDamped ? p.phi * slope
                                                     : slope;
  const double q = level + phib;
  double deseason = y;
  double* s = nullptr;
  if (spec.season != Season::kNone) {
    s = &seasonal[static_cast<size_t>(t % spec.m)];
    if (spec.season == Season::kAdd) {
      deseason = y - *s;
    } else {
      if (std::fabs(*s) < 1e-10) return false;
      deseason = y / *s;
    }
  }
  const double new_level = q + p.alpha * (deseason - q);
  if (spec.trend != Trend::kNone) slope = phib + (p.beta / p.alpha) * (new_level - level - phib);
  if (s != nullptr) {
    if (spec.season == Season::kAdd) {
      *s += p.gamma * (y - q - *s);
    } else {
      if (std::fabs(q) < 1e-10) return false;
      *s += p.gamma * (y / q - *s);
    }
  }
  level = new_level;
  return std::isfinite(level) && std::isfinite(slope);
}

double OneStepOf(const EtsSpec& spec, const EtsParams& p, double level, double slope,
                 const std::vector<double>& seasonal, int64_t t) {
  const double q = level + (spec.trend == Trend::kNone     ? 0.0
                            : spec.trend == Trend::kDamped ? p.phi * slope
                                                           : slope);
  if (spec.season == Season::kNone) return q;
  const double s = seasonal[static_cast<size_t>(t % spec.m)];
  return spec.season == Season::kAdd ? q + s : q * s;
}

int CountParams(const EtsSpec& spec) {
  int k = 2;  // alpha, l0
  if (spec.trend != Trend::kNone) k += 2;  // beta, b0
  if (spec.trend == Trend::kDamped) k += 1;
  if (spec.season != Season::kNone) k += 1 + (spec.m - 1);  // gamma, seasonal states
  return k + 1;  // sigma
}

}  // namespace

std::string EtsSpec::Name() const {
  std::string name = "ETS(";
  name += mul_error ? "M," : "A,";
  name += trend == Trend::kNone ? "N," : trend == Trend::kAdd ? "A," : "Ad,";
  name += season == Season::kNone ? "N" : season == Season::kAdd ? "A" : "M";
  return name + ")";
}

double EtsModel::OneStep() const { return OneStepOf(spec, params, level, slope, seasonal, t); }

void EtsModel::Update(double y) {
  double l = level, b = slope;
  std::vector<double> s = seasonal;
  // A value that would leave the admissible region (e.g. a zero under a multiplicative season)
  // is skipped rather than corrupting the states.
  if (Step(spec, params, y, l, b, s, t)) {
    level = l;
    slope = b;
    seasonal = std::move(s);
  }
  ++t;
}

std::vector<double> EtsModel::Mean(int h) const {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(h));
  double damp_sum = 0, damp_pow = 1;
  for (int j = 1; j <= h; ++j) {
    double trend = 0;
    if (spec.trend == Trend::kAdd) {
      trend = j * slope;
    } else if (spec.trend == Trend::kDamped) {
      damp_pow *= params.phi;
      damp_sum += damp_pow;
      trend = damp_sum * slope;
    }
    const double q = level + trend;
    const int64_t step = t + j - 1;
    if (spec.season == Season::kNone) {
      out.push_back(q);
    } else {
      const double s = seasonal[static_cast<size_t>(step % spec.m)];
      out.push_back(spec.season == Season::kAdd ? q + s : q * s);
    }
  }
  return out;
}

void EtsModel::Predict(int h, double level_cover, Forecast& out) const {
  out.mean = Mean(h);
  out.lower.assign(static_cast<size_t>(h), 0);
  out.upper.assign(static_cast<size_t>(h), 0);
  out.model = spec.Name();
  if (!spec.mul_error && spec.season != Season::kMul) {
    // Additive class: var_h = sigma2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta phi_j + gamma
    // [j mod m = 0] (Hyndman et al. 2008, Table 6.1), phi_j = phi + ... + phi^j.
    const double z = NormalQuantile(level_cover);
    double sum_c2 = 0, phi_j = 0, phi_pow = 1;
    for (int j = 1; j <= h; ++j) {
      const double sd = std::sqrt(sigma2 * (1 + sum_c2));
      out.lower[static_cast<size_t>(j - 1)] = out.mean[static_cast<size_t>(j - 1)] - z * sd;
      out.upper[static_cast<size_t>(j - 1)] = out.mean[static_cast<size_t>(j - 1)] + z * sd;
      if (spec.trend == Trend::kAdd) {
        phi_j = j;
      } else if (spec.trend == Trend::kDamped) {
        phi_pow *= params.phi;
        phi_j += phi_pow;
      }
      double c = params.alpha + params.beta * phi_j;
      if (spec.season != Season::kNone && j % spec.m == 0) c += params.gamma;
      sum_c2 += c * c;
    }
    return;
  }
  // Other classes: simulate sample paths with the fitted error distribution.
  std::vector<std::vector<double>> paths(static_cast<size_t>(h));
  for (auto& p : paths) p.reserve(kSimPaths);
  uint64_t rng = kSimSeed;
  const double sd = std::sqrt(std::max(sigma2, 0.0));
  for (int path = 0; path < kSimPaths; ++path) {
    double l = level, b = slope;
    std::vector<double> s = seasonal;
    bool ok = true;
    for (int j = 0; j < h; ++j) {
      const int64_t step = t + j;
      const double f = OneStepOf(spec, params, l, b, s, step);
      const double e = sd * Gaussian(rng);
      const double y = spec.mul_error ? f * (1 + e) : f + e;
      if (ok) ok = Step(spec, params, y, l, b, s, step);
      paths[static_cast<size_t>(j)].push_back(ok ? y : f);
    }
  }
  const double tail = (1 - level_cover) / 2;
  for (int j = 0; j < h; ++j) {
    auto& v = paths[static_cast<size_t>(j)];
    std::sort(v.begin(), v.end());
    out.lower[static_cast<size_t>(j)] = Quantile(v, tail);
    out.upper[static_cast<size_t>(j)] = Quantile(v, 1 - tail);
  }
}

double NormalQuantile(double level) {
  const double p = 1 - (1 - std::clamp(level, 1e-6, 1 - 1e-12)) / 2;
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

std::optional<EtsModel> RunEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& p,
                               std::vector<double>* residuals) {
  EtsModel model;
  model.spec = spec;
  model.params = p;
  model.level = p.level;
  model.slope = spec.trend == Trend::kNone ? 0.0 : p.slope;
  model.seasonal = p.seasonal;
  if (spec.season != Season::kNone && model.seasonal.size() != static_cast<size_t>(spec.m)) {
    return std::nullopt;
  }
  if (residuals != nullptr) residuals->clear();
  double sum_e2 = 0, sum_log_f = 0;
  for (double v : y) {
    const double f = model.OneStep();
    if (spec.mul_error && std::fabs(f) < 1e-10) return std::nullopt;
    const double e = spec.mul_error ? (v - f) / f : v - f;
    sum_e2 += e * e;
    if (spec.mul_error) sum_log_f += std::log(std::fabs(f));
    if (residuals != nullptr) residuals->push_back(v - f);
    if (!Step(spec, p, v, model.level, model.slope, model.seasonal, model.t)) return std::nullopt;
    ++model.t;
  }
  const double n = static_cast<double>(y.size());
  if (!(sum_e2 > 0) || !std::isfinite(sum_e2)) sum_e2 = 1e-300 * std::max(n, 1.0);
  // -2 log L of the Gaussian innovations with sigma profiled out, up to n (log(2 pi) + 1), which
  // all models of the same data share; the multiplicative error's Jacobian adds 2 sum log |f|.
  model.neg2_loglik = n * std::log(sum_e2 / n) + 2 * sum_log_f;
  model.n_params = CountParams(spec);
  const double k = model.n_params;
  model.aicc = n - k - 1 > 0 ? model.neg2_loglik + 2 * k + 2 * k * (k + 1) / (n - k - 1) : kInf;
  // forecast::ets: sigma2 = sum e^2 / (n - number of parameters), guarded for short series.
  model.sigma2 = sum_e2 / std::max(n - (k - 1), 1.0);
  return model;
}

std::vector<double> NelderMead(const std::function<double(const std::vector<double>&)>& f,
                               std::vector<double> x0, const std::vector<double>& step,
                               int max_evals, double rel_tol) {
  const size_t d = x0.size();
  std::vector<std::vector<double>> pts(d + 1, x0);
  std::vector<double> val(d + 1);
  for (size_t i = 0; i < d; ++i) pts[i + 1][i] += step[i];
  int evals = 0;
  for (size_t i = 0; i <= d; ++i) val[i] = f(pts[i]), ++evals;
  std::vector<size_t> order(d + 1);
  auto point = [&](const std::vector<double>& c, const std::vector<double>& w, double coef) {
    std::vector<double> r(d);
    for (size_t i = 0; i < d; ++i) r[i] = c[i] + coef * (w[i] - c[i]);
    return r;
  };
  while (evals < max_evals) {
    std::iota(order.begin(), order.end(), size_t{0});
    // Ties broken by index so the run is deterministic.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return val[a] < val[b]; });
    const size_t best = order[0], worst = order[d], second = order[d - 1];
    if (std::fabs(val[worst] - val[best]) <= rel_tol * (std::fabs(val[best]) + rel_tol)) break;
    std::vector<double> centroid(d, 0.0);
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < d; ++j) centroid[j] += pts[order[i]][j] / static_cast<double>(d);
    }
    std::vector<double> reflected = point(centroid, pts[worst], -1.0);
    const double fr = f(reflected);
    ++evals;
    if (fr < val[best]) {
      std::vector<double> expanded = point(centroid, pts[worst], -2.0);
      const double fe = f(expanded);
      ++evals;
      if (fe < fr) {
        pts[worst] = std::move(expanded), val[worst] = fe;
      } else {
        pts[worst] = std::move(reflected), val[worst] = fr;
      }
    } else if (fr < val[second]) {
      pts[worst] = std::move(reflected), val[worst] = fr;
    } else {
      const bool outside = fr < val[worst];
      std::vector<double> contracted = point(centroid, outside ? reflected : pts[worst], 0.5);
      const double fc = f(contracted);
      ++evals;
      if (fc < std::min(fr, val[worst])) {
        pts[worst] = std::move(contracted), val[worst] = fc;
      } else {
        for (size_t i = 1; i <= d; ++i) {
          pts[order[i]] = point(pts[best], pts[order[i]], 0.5);
          val[order[i]] = f(pts[order[i]]);
          ++evals;
        }
      }
    }
  }
  const size_t best = static_cast<size_t>(std::min_element(val.begin(), val.end()) - val.begin());
  return pts[best];
}

std::vector<double> ClassicalSeasonal(std::span<const double> y, int m, bool multiplicative) {
  const size_t n = y.size(), um = static_cast<size_t>(m);
  std::vector<double> sum(um, 0.0);
  std::vector<int> count(um, 0);
  // Centred moving average of order m (2 x m when m is even), as R's decompose.
  const size_t half = um / 2;
  for (size_t t = half; t + half < n; ++t) {
    double trend = 0;
    if (um % 2 == 0) {
      trend = 0.5 * y[t - half] + 0.5 * y[t + half];
      for (size_t i = t - half + 1; i < t + half; ++i) trend += y[i];
    } else {
      for (size_t i = t - half; i <= t + half; ++i) trend += y[i];
    }
    trend /= static_cast<double>(um);
    if (multiplicative && trend == 0) continue;
    sum[t % um] += multiplicative ? y[t] / trend : y[t] - trend;
    ++count[t % um];
  }
  std::vector<double> profile(um, multiplicative ? 1.0 : 0.0);
  for (size_t k = 0; k < um; ++k) {
    if (count[k] > 0) profile[k] = sum[k] / count[k];
  }
  const double mean = std::accumulate(profile.begin(), profile.end(), 0.0) / static_cast<double>(um);
  for (double& s : profile) {
    if (multiplicative) {
      s = mean != 0 ? s / mean : 1.0;
    } else {
      s -= mean;
    }
  }
  return profile;
}

std::optional<EtsModel> FitEts(std::span<const double> y, const EtsSpec& spec) {
  const size_t n = y.size();
  if (n < 3) return std::nullopt;
  EtsParams init;
  std::vector<double> adjusted(y.begin(), y.end());
  if (spec.season != Season::kNone) {
    // forecast::ets initialises from a decomposition of the first few cycles; we use up to 4
    // cycles (enough to average the noise of one cycle, recent enough to match the start).
    const size_t cycles = std::min<size_t>(4, n / static_cast<size_t>(spec.m));
    if (cycles < 2) return std::nullopt;
    init.seasonal = ClassicalSeasonal(y.first(cycles * static_cast<size_t>(spec.m)), spec.m,
                                      spec.season == Season::kMul);
    for (size_t t = 0; t < n; ++t) {
      const double s = init.seasonal[t % static_cast<size_t>(spec.m)];
      adjusted[t] = spec.season == Season::kMul ? y[t] / s : y[t] - s;
    }
  }
  // Level and slope: least-squares line through the first max(10, 2m) adjusted values (as
  // forecast::ets's initstate), the line's value at step 0 being the state before the first value.
  const size_t k = std::min(n, std::max<size_t>(10, 2 * static_cast<size_t>(spec.m)));
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < k; ++i) {
    const double x = static_cast<double>(i + 1);
    sx += x, sy += adjusted[i], sxx += x * x, sxy += x * adjusted[i];
  }
  const double kd = static_cast<double>(k);
  const double slope = (kd * sxy - sx * sy) / (kd * sxx - sx * sx);
  init.slope = spec.trend == Trend::kNone ? 0.0 : slope;
  init.level = spec.trend == Trend::kNone ? sy / kd : (sy - slope * sx) / kd;
  double scale = 0;
  for (size_t i = 0; i < k; ++i) scale += std::fabs(adjusted[i] - sy / kd);
  scale = std::max(scale / kd, 1e-6 * std::max(std::fabs(init.level), 1.0));

  // Free parameters in an unconstrained space: each smoothing parameter through a logistic map
  // onto its (nested) bounds, level and slope as offsets in units of the series' scale.
  const bool trend = spec.trend != Trend::kNone;
  const bool damped = spec.trend == Trend::kDamped;
  const bool season = spec.season != Season::kNone;
  auto decode = [&](const std::vector<double>& u, EtsParams& p) {
    size_t i = 0;
    p.alpha = kParLow + (kParHigh - kParLow) * Logistic(u[i++]);
    p.beta = trend ? kParLow + (p.alpha - kParLow) * Logistic(u[i++]) : 0.0;
    p.gamma = season ? kParLow + std::max(0.0, 1 - p.alpha - kParLow) * Logistic(u[i++]) : 0.0;
    p.phi = damped ? kPhiLow + (kPhiHigh - kPhiLow) * Logistic(u[i++]) : 1.0;
    p.level = init.level + scale * u[i++];
    p.slope = trend ? init.slope + 0.1 * scale * u[i++] : 0.0;
    p.seasonal = init.seasonal;
  };
  // Starting values: alpha 0.3 of its range (between forecast::ets's 0.1-0.2 start and the near
  // random walks hourly data often are), beta 0.1 of alpha's, gamma 0.05 of its range, phi 0.9 of
  // its range (0.962), the level and slope of the initial line.
  std::vector<double> u0, step;
  u0.push_back(Logit(0.3)), step.push_back(1.0);
  if (trend) u0.push_back(Logit(0.1)), step.push_back(1.0);
  if (season) u0.push_back(Logit(0.05)), step.push_back(1.0);
  if (damped) u0.push_back(Logit(0.9)), step.push_back(1.0);
  u0.push_back(0.0), step.push_back(0.2);
  if (trend) u0.push_back(0.0), step.push_back(0.2);
  EtsParams p;
  auto objective = [&](const std::vector<double>& u) {
    decode(u, p);
    const auto m = RunEts(y, spec, p);
    return m && std::isfinite(m->neg2_loglik) ? m->neg2_loglik : 1e300;
  };
  const std::vector<double> best = NelderMead(objective, u0, step, kMaxEvals, kRelTol);
  decode(best, p);
  auto model = RunEts(y, spec, p);
  if (!model || !std::isfinite(model->aicc)) return std::nullopt;
  return model;
}

std::optional<EtsModel> AutoEts(std::span<const double> y, int m, unsigned trends) {
  const bool positive = std::all_of(y.begin(), y.end(), [](double v) { return v > 0; });
  const bool seasonal = m >= 2 && m <= kMaxEtsSeason && y.size() >= 2 * static_cast<size_t>(m) + 2;
  std::optional<EtsModel> best;
  for (bool mul_error : {false, true}) {
    if (mul_error && !positive) continue;
    for (Trend trend : {Trend::kNone, Trend::kAdd, Trend::kDamped}) {
      if ((trends & (1u << static_cast<unsigned>(trend))) == 0) continue;
      for (Season season : {Season::kNone, Season::kAdd, Season::kMul}) {
        if (season != Season::kNone && !seasonal) continue;
        if (season == Season::kMul && !positive) continue;
        // forecast::ets's restrict = TRUE: additive errors with a multiplicative season are
        // numerically unstable.
        if (!mul_error && season == Season::kMul) continue;
        EtsSpec spec{mul_error, trend, season, season == Season::kNone ? 1 : m};
        auto fit = FitEts(y, spec);
        if (fit && (!best || fit->aicc < best->aicc)) best = std::move(fit);
      }
    }
  }
  return best;
}

}  // namespace aisle::stdlib::forecast_detail
