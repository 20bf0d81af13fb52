// Forecasting core: model dispatch, seasonal naive, the multiple-seasonality method, combinations,
// the residual regression on exogenous signals and the incremental Forecaster with its saved state.
// ETS lives in ets.cpp, Croston/SBA/TSB in intermittent.cpp.

#include "stdlib/forecast.hpp"

#include <algorithm>
#include <cmath>

#include "stdlib/forecast_internal.hpp"

namespace aisle::stdlib {
namespace forecast_detail {
namespace {

// Syntetos, Boylan & Croston (2005): series whose average inter-demand interval is at least 1.32
// periods are intermittent or lumpy, where SBA beats Croston and smoothing of the raw series.
constexpr double kIntermittentAdi = 1.32;
// Rounds of the iterated decomposition: the second round re-estimates each profile with the
// others' first estimates removed. M4 Hourly validation (the chosen combination): OWA 0.571 with
// one round, 0.562 with two, unchanged to three decimals with three.
constexpr int kDecompositionRounds = 2;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<int> CleanSeasons(const std::vector<int>& seasons) {
  std::vector<int> out;
  for (int s : seasons) {
    if (s >= 2) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Intermittent: non-negative with average inter-demand interval >= kIntermittentAdi, unless the
// zeros are seasonal (closed hours of an hourly series): a zero whose value one shortest season
// earlier is also zero more often than halfway between chance (the zero share) and always.
bool IsIntermittent(std::span<const double> y, int season) {
  size_t nonzero = 0;
  for (double v : y) {
    if (v < 0) return false;
    if (v > 0) ++nonzero;
  }
  const double n = static_cast<double>(y.size());
  if (nonzero == 0 || n / static_cast<double>(nonzero) < kIntermittentAdi) return false;
  if (season < 2 || y.size() <= static_cast<size_t>(season)) return true;
  const size_t m = static_cast<size_t>(season);
  double zeros = 0, repeated = 0;
  for (size_t t = m; t < y.size(); ++t) {
    if (y[t] == 0) {
      ++zeros;
      if (y[t - m] == 0) ++repeated;
    }
  }
  const double zero_share = 1 - static_cast<double>(nonzero) / n;
  return zeros == 0 || repeated / zeros < zero_share + 0.5 * (1 - zero_share);
}

// The hourly (multiple seasonality) method; see FitModel for the choice and its validation.
std::optional<FittedModel> FitMultiSeasonal(std::span<const double> y,
                                            const std::vector<int>& seasons,
                                            std::vector<double>* residuals);

}  // namespace

void FittedModel::Update(double y) {
  switch (kind) {
    case Kind::kSeasonalNaive:
      recent[static_cast<size_t>(t % period)] = y;
      break;
    case Kind::kEts:
      ets.Update(y);
      break;
    case Kind::kDecomposed: {
      double x = log ? (y > 0 ? std::log(y) : log_floor) : y;
      for (size_t i = 0; i < periods.size(); ++i) {
        x -= profiles[i][static_cast<size_t>(t % periods[i])];
      }
      ets.Update(x);
      break;
    }
    case Kind::kIntermittent:
      intermittent.Update(y);
      break;
    case Kind::kMedian:
      for (auto& m : members) m.Update(y);
      break;
  }
  ++t;
}

Forecast FittedModel::Predict(int h, double level) const {
  Forecast out;
  out.model = name;
  const size_t uh = static_cast<size_t>(h);
  switch (kind) {
    case Kind::kSeasonalNaive: {
      const double z = NormalQuantile(level);
      for (int j = 1; j <= h; ++j) {
        const double mean = recent[static_cast<size_t>((t + j - 1) % period)];
        // Seasonal random walk: the variance grows with the number of whole seasons ahead.
        const double sd = std::sqrt(sigma2 * static_cast<double>((j - 1) / period + 1));
        out.mean.push_back(mean);
        out.lower.push_back(mean - z * sd);
        out.upper.push_back(mean + z * sd);
      }
      break;
    }
    case Kind::kEts:
      ets.Predict(h, level, out);
      out.model = name;
      break;
    case Kind::kDecomposed: {
      // Intervals are the ETS intervals of the adjusted series shifted by the profiles: the
      // profiles' own estimation error is not included.
      ets.Predict(h, level, out);
      out.model = name;
      for (size_t j = 0; j < uh; ++j) {
        double s = 0;
        for (size_t i = 0; i < periods.size(); ++i) {
          s += profiles[i][static_cast<size_t>((t + static_cast<int64_t>(j)) % periods[i])];
        }
        for (auto* v : {&out.mean, &out.lower, &out.upper}) {
          (*v)[j] += s;
          if (log) (*v)[j] = std::exp(std::min((*v)[j], 700.0));
        }
      }
      break;
    }
    case Kind::kIntermittent: {
      const double mean = intermittent.Level();
      const double sd = std::sqrt(intermittent.sigma2);
      const double z = NormalQuantile(level);
      // Demand is never negative; the normal band around the flat rate is only indicative.
      out.mean.assign(uh, mean);
      out.lower.assign(uh, std::max(0.0, mean - z * sd));
      out.upper.assign(uh, mean + z * sd);
      break;
    }
    case Kind::kMedian: {
      // The interval bounds are the members' bounds' medians: a pragmatic band (no joint model of
      // the members' errors), as wide as a typical member's.
      std::vector<Forecast> parts;
      for (const auto& m : members) parts.push_back(m.Predict(h, level));
      for (size_t j = 0; j < uh; ++j) {
        std::vector<double> mean, lower, upper;
        for (const auto& p : parts) {
          mean.push_back(p.mean[j]), lower.push_back(p.lower[j]), upper.push_back(p.upper[j]);
        }
        out.mean.push_back(Median(mean));
        out.lower.push_back(Median(lower));
        out.upper.push_back(Median(upper));
      }
      break;
    }
  }
  return out;
}

FittedModel FitSeasonalNaive(std::span<const double> y, int period, std::vector<double>* residuals) {
  FittedModel model;
  model.kind = FittedModel::Kind::kSeasonalNaive;
  if (y.size() < static_cast<size_t>(period)) period = 1;
  model.period = period;
  model.name = period == 1 ? "Naive" : "SNaive(" + std::to_string(period) + ")";
  model.recent.assign(static_cast<size_t>(period), y.empty() ? 0.0 : y.back());
  const size_t n = y.size(), p = static_cast<size_t>(period);
  double sum = 0;
  size_t count = 0;
  if (residuals != nullptr) residuals->assign(n, 0.0);
  for (size_t t = 0; t < n; ++t) {
    if (t >= p) {
      const double e = y[t] - y[t - p];
      sum += e * e, ++count;
      if (residuals != nullptr) (*residuals)[t] = e;
    }
    model.recent[t % p] = y[t];
  }
  model.sigma2 = count > 0 ? sum / static_cast<double>(count) : 0.0;
  model.t = static_cast<int64_t>(n);
  return model;
}

std::optional<FittedModel> FitDecomposed(std::span<const double> y, const std::vector<int>& periods,
                                         const DecomposeSettings& settings,
                                         std::vector<double>* residuals) {
  const size_t n = y.size();
  FittedModel model;
  model.kind = FittedModel::Kind::kDecomposed;
  model.log = settings.log && std::all_of(y.begin(), y.end(), [](double v) { return v > 0; });
  std::vector<double> x(y.begin(), y.end());
  if (model.log) {
    double low = x.empty() ? 1.0 : *std::min_element(x.begin(), x.end());
    for (double& v : x) v = std::log(v);
    // A later zero or negative value is taken as half the smallest value fitted on.
    model.log_floor = std::log(low / 2);
  }
  std::vector<size_t> windows;
  for (size_t i = 0; i < periods.size(); ++i) {
    const size_t p = static_cast<size_t>(periods[i]);
    if (n < 2 * p) continue;
    model.periods.push_back(periods[i]);
    const int w = i < settings.window_cycles.size() ? settings.window_cycles[i] : 0;
    windows.push_back(w <= 0 ? n : std::max<size_t>(3, static_cast<size_t>(w)) * p);
  }
  if (model.periods.empty()) return std::nullopt;
  model.profiles.resize(model.periods.size());
  for (size_t i = 0; i < model.periods.size(); ++i) {
    model.profiles[i].assign(static_cast<size_t>(model.periods[i]), 0.0);
  }
  std::vector<double> part(n);
  for (int round = 0; round < kDecompositionRounds; ++round) {
    for (size_t i = 0; i < model.periods.size(); ++i) {
      const size_t p = static_cast<size_t>(model.periods[i]);
      for (size_t t = 0; t < n; ++t) {
        part[t] = x[t];
        for (size_t k = 0; k < model.periods.size(); ++k) {
          if (k != i) part[t] -= model.profiles[k][t % static_cast<size_t>(model.periods[k])];
        }
      }
      // The last window whole cycles, starting on a multiple of p so phases line up.
      size_t start = n > windows[i] ? n - windows[i] : 0;
      start -= start % p;
      auto& profile = model.profiles[i];
      profile = ClassicalSeasonal(std::span<const double>(part).subspan(start), static_cast<int>(p), false);
      // A longer period that is a multiple of a shorter one (168 = 7 x 24) would otherwise absorb
      // the shorter pattern, estimated then from its own (fewer) cycles: keep in it only the
      // deviation from its mean per phase of the shorter period (the day-of-week effect).
      for (size_t k = 0; k < i; ++k) {
        const size_t q = static_cast<size_t>(model.periods[k]);
        if (p % q != 0) continue;
        for (size_t phase = 0; phase < q; ++phase) {
          double mean = 0;
          for (size_t j = phase; j < p; j += q) mean += profile[j];
          mean /= static_cast<double>(p / q);
          for (size_t j = phase; j < p; j += q) profile[j] -= mean;
        }
      }
    }
  }
  std::vector<double> adjusted(n);
  for (size_t t = 0; t < n; ++t) {
    adjusted[t] = x[t];
    for (size_t k = 0; k < model.periods.size(); ++k) {
      adjusted[t] -= model.profiles[k][t % static_cast<size_t>(model.periods[k])];
    }
  }
  auto ets = AutoEts(adjusted, 1, settings.trends);
  if (!ets) return std::nullopt;
  model.ets = std::move(*ets);
  model.t = static_cast<int64_t>(n);
  model.name = "Decomposed(";
  for (size_t i = 0; i < model.periods.size(); ++i) {
    model.name += (i > 0 ? "," : "") + std::to_string(model.periods[i]);
  }
  model.name += std::string(model.log ? ";log" : "") + ")+" + model.ets.spec.Name();
  if (residuals != nullptr) {
    // Fitted values on the original scale: the ETS one-step forecast plus the profiles.
    std::vector<double> r;
    RunEts(adjusted, model.ets.spec, model.ets.params, &r);
    residuals->resize(n);
    for (size_t t = 0; t < n; ++t) {
      const double fitted_x = x[t] - r[t];
      (*residuals)[t] = y[t] - (model.log ? std::exp(std::min(fitted_x, 700.0)) : fitted_x);
    }
  }
  return model;
}

FittedModel MedianOf(std::vector<FittedModel> members, std::span<const double> y,
                     const std::vector<std::vector<double>>& member_residuals,
                     std::vector<double>* residuals) {
  FittedModel model;
  model.kind = FittedModel::Kind::kMedian;
  model.t = static_cast<int64_t>(y.size());
  model.name = "Median(";
  for (size_t i = 0; i < members.size(); ++i) model.name += (i > 0 ? ", " : "") + members[i].name;
  model.name += ")";
  model.members = std::move(members);
  if (residuals != nullptr) {
    residuals->assign(y.size(), 0.0);
    for (size_t t = 0; t < y.size(); ++t) {
      std::vector<double> fitted;
      for (const auto& r : member_residuals) fitted.push_back(y[t] - r[t]);
      (*residuals)[t] = y[t] - Median(fitted);
    }
  }
  return model;
}

namespace {

std::optional<FittedModel> FitMultiSeasonal(std::span<const double> y,
                                            const std::vector<int>& seasons,
                                            std::vector<double>* residuals) {
  // The median of five forecasts: the decomposition + ETS with two profile windows, each on the
  // raw and on the log scale, and seasonal naive with the shortest season. Chosen on M4 Hourly's
  // training part only (last 48 values of each series held out; tests/eval/eval_forecast.cpp
  // prints every candidate's validation sMAPE / MASE / OWA):
  //   - no trend on the adjusted series: over 48 steps extrapolated trends hurt (OWA 0.632 with
  //     none, 0.655 damped only, 0.672 any trend by AICc, decomposition 7d/4w);
  //   - profile windows: the shortest season over its last 7 cycles (a week of days) and longer
  //     ones over their last 4 (four weeks): the best single window (0.632); 4 / 3 cycles follows
  //     faster changes (0.660 alone) and the two disagree usefully in a combination;
  //   - log scale: daily swings that scale with the level (0.611 alone, the best single model);
  //   - seasonal naive: robust to breaks the profiles average away (0.629 alone);
  //   - the median of the five: 0.562, below every member and every smaller combination tried;
  //     adding SNaive(168) and a daily Holt-Winters (ETS(A,N,A)/(M,N,M), 0.934 alone) gave 0.559,
  //     not worth two more fits per series.
  // Nothing here is specific to M4: the same five apply to any series with nested seasons.
  struct Member {
    bool log;
    int shortest_cycles, longer_cycles;
  };
  constexpr Member kMembers[] = {{false, 7, 4}, {false, 4, 3}, {true, 7, 4}, {true, 4, 3}};
  std::vector<FittedModel> members;
  std::vector<std::vector<double>> member_residuals;
  std::vector<double> r;
  for (const Member& m : kMembers) {
    DecomposeSettings settings;
    settings.log = m.log;
    settings.trends = kTrendNone;
    for (size_t i = 0; i < seasons.size(); ++i) {
      settings.window_cycles.push_back(i == 0 ? m.shortest_cycles : m.longer_cycles);
    }
    auto fit = FitDecomposed(y, seasons, settings, residuals != nullptr ? &r : nullptr);
    if (!fit) return std::nullopt;
    members.push_back(std::move(*fit));
    member_residuals.push_back(r);
  }
  members.push_back(FitSeasonalNaive(y, seasons.front(), residuals != nullptr ? &r : nullptr));
  member_residuals.push_back(r);
  return MedianOf(std::move(members), y, member_residuals, residuals);
}

}  // namespace

std::optional<FittedModel> FitModel(std::span<const double> y, const ForecastOptions& options,
                                    std::vector<double>* residuals) {
  if (y.empty()) return std::nullopt;
  const std::vector<int> seasons = CleanSeasons(options.seasons);
  const int longest = seasons.empty() ? 1 : seasons.back();
  auto ets_model = [&](int m) -> std::optional<FittedModel> {
    auto ets = AutoEts(y, m);
    if (!ets) return std::nullopt;
    FittedModel model;
    model.kind = FittedModel::Kind::kEts;
    model.name = ets->spec.Name();
    model.t = static_cast<int64_t>(y.size());
    if (residuals != nullptr) RunEts(y, ets->spec, ets->params, residuals);
    model.ets = std::move(*ets);
    return model;
  };
  auto intermittent = [&](Method method) {
    FittedModel model;
    model.kind = FittedModel::Kind::kIntermittent;
    model.name = method == Method::kCroston ? "Croston" : method == Method::kSba ? "SBA" : "TSB";
    model.intermittent = FitIntermittent(y, method, options.intermittent_alpha, options.tsb_beta, residuals);
    model.t = static_cast<int64_t>(y.size());
    return model;
  };
  std::optional<FittedModel> model;
  switch (options.method) {
    case Method::kNaive:
      return FitSeasonalNaive(y, 1, residuals);
    case Method::kSeasonalNaive:
      return FitSeasonalNaive(y, longest, residuals);
    case Method::kCroston:
    case Method::kSba:
    case Method::kTsb:
      return intermittent(options.method);
    case Method::kEts:
      model = ets_model(seasons.empty() ? 1 : seasons.front());
      break;
    case Method::kDecomposedEts:
      if (!seasons.empty()) {
        // The best single variant of the multiple-season validation (see FitMultiSeasonal).
        DecomposeSettings settings;
        settings.log = true;
        settings.trends = kTrendNone;
        for (size_t i = 0; i < seasons.size(); ++i) settings.window_cycles.push_back(i == 0 ? 7 : 4);
        model = FitDecomposed(y, seasons, settings, residuals);
      }
      if (!model) model = ets_model(1);
      break;
    case Method::kAuto:
      if (IsIntermittent(y, seasons.empty() ? 1 : seasons.front())) return intermittent(Method::kSba);
      if (seasons.size() == 1 && seasons[0] <= kMaxEtsSeason) {
        model = ets_model(seasons[0]);
      } else if (!seasons.empty()) {
        model = FitMultiSeasonal(y, seasons, residuals);
      }
      if (!model) model = ets_model(seasons.empty() || seasons[0] > kMaxEtsSeason ? 1 : seasons[0]);
      break;
  }
  // Too short for any ETS (fewer than 3 values) or no admissible fit: the naive forecast.
  if (!model) return FitSeasonalNaive(y, 1, residuals);
  return model;
}

namespace {

// Least squares of r on [1, x_1 .. x_k] over the first n rows: the coefficients of x_1 .. x_k.
std::vector<double> RegressResiduals(std::span<const double> r,
                                     const std::vector<std::vector<double>>& x, size_t n) {
  const size_t k = x.size() + 1;
  std::vector<double> a(k * k, 0.0), b(k, 0.0);
  std::vector<double> row(k);
  for (size_t t = 0; t < n; ++t) {
    row[0] = 1;
    for (size_t i = 1; i < k; ++i) row[i] = x[i - 1][t];
    for (size_t i = 0; i < k; ++i) {
      b[i] += row[i] * r[t];
      for (size_t j = 0; j < k; ++j) a[i * k + j] += row[i] * row[j];
    }
  }
  // A tiny ridge keeps a constant regressor (a flag never set in the history) from making the
  // system singular: its coefficient comes out ~0, i.e. no effect is learnt from no evidence.
  for (size_t i = 0; i < k; ++i) a[i * k + i] += 1e-9 * (1 + a[i * k + i]);
  // Gaussian elimination with partial pivoting.
  for (size_t c = 0; c < k; ++c) {
    size_t pivot = c;
    for (size_t i = c + 1; i < k; ++i) {
      if (std::fabs(a[i * k + c]) > std::fabs(a[pivot * k + c])) pivot = i;
    }
    for (size_t j = 0; j < k; ++j) std::swap(a[c * k + j], a[pivot * k + j]);
    std::swap(b[c], b[pivot]);
    for (size_t i = c + 1; i < k; ++i) {
      const double f = a[i * k + c] / a[c * k + c];
      for (size_t j = c; j < k; ++j) a[i * k + j] -= f * a[c * k + j];
      b[i] -= f * b[c];
    }
  }
  std::vector<double> beta(k, 0.0);
  for (size_t c = k; c-- > 0;) {
    double s = b[c];
    for (size_t j = c + 1; j < k; ++j) s -= a[c * k + j] * beta[j];
    beta[c] = s / a[c * k + c];
  }
  return {beta.begin() + 1, beta.end()};
}

}  // namespace
}  // namespace forecast_detail

Forecast ForecastSeries(std::span<const double> history, const ForecastOptions& options) {
  using forecast_detail::FitModel;
  Forecast out;
  if (options.horizon < 1) {
    out.error = "horizon must be at least 1";
    return out;
  }
  if (!(options.level > 0 && options.level < 1)) {
    out.error = "level must be in (0, 1)";
    return out;
  }
  if (history.empty()) {
    out.error = "no history to forecast from";
    return out;
  }
  for (double v : history) {
    if (!std::isfinite(v)) {
      out.error = "history holds a non-finite value";
      return out;
    }
  }
  const size_t n = history.size(), h = static_cast<size_t>(options.horizon);
  for (const auto& x : options.regressors) {
    if (x.size() != n + h) {
      out.error = "each regressor needs history.size() + horizon values";
      return out;
    }
    for (double v : x) {
      if (!std::isfinite(v)) {
        out.error = "a regressor holds a non-finite value";
        return out;
      }
    }
  }
  std::vector<double> residuals;
  auto model = FitModel(history, options, options.regressors.empty() ? nullptr : &residuals);
  if (!model) {
    out.error = "no model could be fitted";
    return out;
  }
  out = model->Predict(options.horizon, options.level);
  if (!options.regressors.empty() && residuals.size() == n) {
    const auto beta = forecast_detail::RegressResiduals(residuals, options.regressors, n);
    for (size_t j = 0; j < h; ++j) {
      double effect = 0;
      for (size_t i = 0; i < beta.size(); ++i) effect += beta[i] * options.regressors[i][n + j];
      out.mean[j] += effect, out.lower[j] += effect, out.upper[j] += effect;
    }
    out.model += "+regression";
  }
  return out;
}

}  // namespace aisle::stdlib
