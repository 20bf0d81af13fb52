// eval_forecast: the forecasting core on the M4 competition's 414 Hourly series (Makridakis,
// Spiliotis, Assimakopoulos, IJF 2020), horizon 48, against the published benchmark scores and
// R's forecast::ets run on H1-H40 in the same run (tests/eval/m4_ets.R).
//
// 1. Metric check: our implementations of Naive2 (the M4 benchmark: naive on the series
//    seasonally adjusted by classical multiplicative decomposition when the 90% autocorrelation
//    test at lag 24 says seasonal) and seasonal naive, scored by our sMAPE/MASE, beside their
//    published figures.
// 2. Validation (training part only): the last 48 values of each training series held out, every
//    candidate method scored on them (OWA relative to Naive2 on the same held-out values); the
//    chosen method (Method::kAuto with seasons {24, 168}) is the one these figures favour (see
//    FitMultiSeasonal in stdlib/forecast.cpp). The test part is not read for this.
// 3. Test: the chosen method refitted on each whole training series, scored on the 48 test values;
//    time for all 414 on one core.
// 4. R: forecast::ets on H1-H40 (if Rscript is installed), beside ours on the same series.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <array>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "eval.hpp"
#include "stdlib/forecast.hpp"
#include "stdlib/forecast_internal.hpp"

namespace {

namespace fd = aisle::stdlib::forecast_detail;
using aisle::eval::PrintRow;

constexpr int kHorizon = 48;
constexpr int kPeriod = 24;
constexpr const char* kSource = "M4 published (Makridakis et al. 2020)";

struct Series {
  std::string id;
  std::vector<double> train, test;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  for (char c : line) {
    if (c == '"' || c == '\r') continue;
    if (c == ',') {
      out.push_back(field), field.clear();
    } else {
      field.push_back(c);
    }
  }
  out.push_back(field);
  return out;
}

// Rows "id,v1,v2,..." (quotes and empty fields dropped) by id, after `header_lines` lines.
std::map<std::string, std::vector<double>> ReadWide(const std::string& path, int header_lines = 1) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < header_lines; ++i) std::getline(in, line);
  while (std::getline(in, line)) {
    auto fields = SplitCsv(line);
    if (fields.empty() || fields[0].empty()) continue;
    std::vector<double> values;
    for (size_t i = 1; i < fields.size(); ++i) {
      if (!fields[i].empty()) values.push_back(std::strtod(fields[i].c_str(), nullptr));
    }
    out[fields[0]] = std::move(values);
  }
  return out;
}

std::vector<Series> LoadM4(const std::string& dir) {
  auto train = ReadWide(dir + "/Hourly-train.csv");
  auto test = ReadWide(dir + "/Hourly-test.csv");
  std::vector<Series> out;
  for (auto& [id, values] : train) out.push_back({id, values, test[id]});
  // H1, H2, ... in numeric order (the files' order).
  std::sort(out.begin(), out.end(), [](const Series& a, const Series& b) {
    return std::stoi(a.id.substr(1)) < std::stoi(b.id.substr(1));
  });
  return out;
}

double Smape(const std::vector<double>& actual, const std::vector<double>& f) {
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    sum += 200 * std::fabs(actual[i] - f[i]) / (std::fabs(actual[i]) + std::fabs(f[i]));
  }
  return sum / static_cast<double>(actual.size());
}

// MASE scaled by the in-sample mean absolute seasonal difference over the whole training part.
double Mase(const std::vector<double>& train, const std::vector<double>& actual,
            const std::vector<double>& f) {
  double scale = 0;
  for (size_t t = kPeriod; t < train.size(); ++t) scale += std::fabs(train[t] - train[t - kPeriod]);
  scale /= static_cast<double>(train.size() - kPeriod);
  double sum = 0;
  for (size_t i = 0; i < actual.size(); ++i) sum += std::fabs(actual[i] - f[i]);
  return sum / static_cast<double>(actual.size()) / scale;
}

std::vector<double> SeasonalNaive(const std::vector<double>& y, int m) {
  std::vector<double> f;
  const size_t n = y.size();
  for (int h = 0; h < kHorizon; ++h) f.push_back(y[n - static_cast<size_t>(m) + static_cast<size_t>(h % m)]);
  return f;
}

// The M4 benchmark Naive2 (M4 organisers' R code): seasonality test at lag 24 (90%), then naive
// on y / SI with SI from R's decompose(type = "multiplicative"), reseasonalised.
std::vector<double> Naive2(const std::vector<double>& y) {
  const size_t n = y.size(), m = kPeriod;
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(n);
  double denom = 0;
  for (double v : y) denom += (v - mean) * (v - mean);
  auto acf = [&](size_t k) {
    double s = 0;
    for (size_t t = k; t < n; ++t) s += (y[t] - mean) * (y[t - k] - mean);
    return s / denom;
  };
  double sum_sq = 0;
  for (size_t k = 1; k < m; ++k) sum_sq += acf(k) * acf(k);
  const double limit = 1.645 * std::sqrt((1 + 2 * sum_sq) / static_cast<double>(n));
  const bool seasonal = n >= 3 * m && std::fabs(acf(m)) > limit;
  std::vector<double> si(m, 1.0);
  if (seasonal) {
    std::vector<double> sum(m, 0.0);
    std::vector<int> count(m, 0);
    for (size_t t = m / 2; t + m / 2 < n; ++t) {
      double trend = 0.5 * y[t - m / 2] + 0.5 * y[t + m / 2];
      for (size_t i = t - m / 2 + 1; i < t + m / 2; ++i) trend += y[i];
      trend /= static_cast<double>(m);
      sum[t % m] += y[t] / trend;
      ++count[t % m];
    }
    double avg = 0;
    for (size_t k = 0; k < m; ++k) avg += (si[k] = sum[k] / count[k]);
    avg /= static_cast<double>(m);
    for (double& s : si) s /= avg;
  }
  std::vector<double> f;
  const double last = y[n - 1] / si[(n - 1) % m];
  for (size_t h = 0; h < kHorizon; ++h) f.push_back(last * si[(n + h) % m]);
  return f;
}

// Running sums of a method's scores over series.
struct Score {
  double smape = 0, mase = 0;
  int n = 0;
  void Add(double s, double m) { smape += s, mase += m, ++n; }
  double Smape() const { return smape / n; }
  double Mase() const { return mase / n; }
  double Owa(const Score& naive2) const {
    return (Smape() / naive2.Smape() + Mase() / naive2.Mase()) / 2;
  }
};

std::string F3(double v) { return fmt::format("{:.3f}", v); }

// Published Hourly sMAPE / MASE / OWA per method, read from the organisers' table.
std::map<std::string, std::array<double, 3>> ReadPublished(const std::string& path) {
  std::map<std::string, std::array<double, 3>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  while (std::getline(in, line)) {
    auto f = SplitCsv(line);
    if (f.size() < 22 || f[6].empty()) continue;
    // Columns: method, sMAPE Yearly..Hourly (Hourly 6th), Total, MASE ... (Hourly 13th), Total,
    // OWA ... (Hourly 20th).
    out[f[0]] = {std::strtod(f[6].c_str(), nullptr), std::strtod(f[13].c_str(), nullptr),
                 std::strtod(f[20].c_str(), nullptr)};
  }
  return out;
}

std::vector<double> MedianOf(const std::vector<const std::vector<double>*>& parts) {
  std::vector<double> out;
  for (size_t h = 0; h < parts[0]->size(); ++h) {
    std::vector<double> v;
    for (const auto* p : parts) v.push_back((*p)[h]);
    std::sort(v.begin(), v.end());
    const size_t k = v.size();
    out.push_back(k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]));
  }
  return out;
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main() {
  const std::string dir = std::string(AISLE_SHARED_DATA) + "/m4";
  const auto series = LoadM4(dir);
  if (series.size() != 414) {
    std::fprintf(stderr, "eval_forecast: expected 414 series in %s, read %zu\n", dir.c_str(), series.size());
    return 1;
  }
  const auto published = ReadPublished(dir + "/published-point-forecasts-by-frequency.csv");
  auto pub = [&](const std::string& method, int i) {
    auto it = published.find(method);
    return it == published.end() ? std::string("n/a") : F3(it->second[static_cast<size_t>(i)]);
  };
  const std::string op = "forecast (M4 Hourly, 414 series, h 48)";

  // 1. The metric check.
  Score naive2, snaive;
  for (const auto& s : series) {
    auto f = Naive2(s.train);
    naive2.Add(Smape(s.test, f), Mase(s.train, s.test, f));
    f = SeasonalNaive(s.train, kPeriod);
    snaive.Add(Smape(s.test, f), Mase(s.train, s.test, f));
  }
  PrintRow(op, "metric check: Naive2 sMAPE / MASE", F3(naive2.Smape()) + " / " + F3(naive2.Mase()),
           pub("Naive2", 0) + " / " + pub("Naive2", 1), kSource);
  PrintRow(op, "metric check: seasonal naive sMAPE / MASE / OWA",
           F3(snaive.Smape()) + " / " + F3(snaive.Mase()) + " / " + F3(snaive.Owa(naive2)),
           pub("sNaive", 0) + " / " + pub("sNaive", 1) + " / " + pub("sNaive", 2), kSource);

  // 2. Validation on the training part.
  struct Candidate {
    std::string name;
    Score score;
  };
  std::vector<Candidate> candidates;
  Score val_naive2;
  std::fprintf(stderr, "eval_forecast: validation on the training part (last 48 held out)\n");
  const std::vector<int> seasons = {24, 168};
  using Settings = fd::DecomposeSettings;
  const unsigned kNoTrend = fd::kTrendNone, kDamped = fd::kTrendNone | fd::kTrendDamped;
  // D = decomposition + ETS: profile windows (cycles of 24 / of 168), trend forms (N none, Ad
  // damped, all = N/A/Ad by AICc); Dlog on log(y).
  const std::vector<std::pair<std::string, Settings>> decomposed = {
      {"D all/all all", Settings{false, {}, fd::kTrendAll}},
      {"D 7d/4w all", Settings{false, {7, 4}, fd::kTrendAll}},
      {"D 7d/4w NAd", Settings{false, {7, 4}, kDamped}},
      {"D 7d/4w N", Settings{false, {7, 4}, kNoTrend}},
      {"D 7d/3w N", Settings{false, {7, 3}, kNoTrend}},
      {"D 7d/all N", Settings{false, {7, 0}, kNoTrend}},
      {"D 5d/4w N", Settings{false, {5, 4}, kNoTrend}},
      {"D 4d/3w N", Settings{false, {4, 3}, kNoTrend}},
      {"Dlog 7d/4w N", Settings{true, {7, 4}, kNoTrend}},
      {"Dlog 7d/all N", Settings{true, {7, 0}, kNoTrend}},
      {"Dlog 5d/4w N", Settings{true, {5, 4}, kNoTrend}},
      {"Dlog 4d/3w N", Settings{true, {4, 3}, kNoTrend}},
      {"Dlog 7d/4w NAd", Settings{true, {7, 4}, kDamped}},
  };
  const std::vector<std::vector<std::string>> combos = {
      {"D 7d/4w N", "D 4d/3w N", "Dlog 7d/4w N", "Dlog 4d/3w N", "SNaive(24)", "HW(24) N", "SNaive(168)"},
      {"D 7d/4w N", "Dlog 7d/4w N", "SNaive(24)", "HW(24) N", "Dlog 4d/3w N"},
      {"D 7d/4w N", "D 4d/3w N", "Dlog 7d/4w N", "Dlog 4d/3w N", "SNaive(24)"},
      {"D 7d/4w N", "D 4d/3w N", "Dlog 7d/4w N", "Dlog 4d/3w N", "SNaive(24)", "SNaive(168)"},
      {"Dlog 7d/4w N", "Dlog 4d/3w N", "SNaive(24)"},
      {"D 7d/4w N", "Dlog 7d/4w N", "SNaive(24)"},
      {"D 7d/4w N", "Dlog 7d/4w N", "Dlog 4d/3w N", "SNaive(24)", "SNaive(168)"},
      {"D 5d/4w N", "D 7d/all N", "Dlog 5d/4w N", "Dlog 7d/all N", "SNaive(24)"},
      {"D 7d/4w N", "D 4d/3w N", "Dlog 7d/4w N", "Dlog 4d/3w N", "Dlog 7d/4w NAd", "SNaive(24)", "SNaive(168)"},
  };
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const std::vector<double> fit(s.train.begin(), s.train.end() - kHorizon);
    const std::vector<double> held(s.train.end() - kHorizon, s.train.end());
    std::vector<std::pair<std::string, std::vector<double>>> fc;
    auto model_fc = [&](const std::optional<fd::FittedModel>& m) {
      return m ? m->Predict(kHorizon, 0.95).mean : SeasonalNaive(fit, kPeriod);
    };
    fc.emplace_back("Naive2", Naive2(fit));
    fc.emplace_back("SNaive(24)", SeasonalNaive(fit, 24));
    fc.emplace_back("SNaive(168)", SeasonalNaive(fit, 168));
    {
      // Holt-Winters with the daily season and no trend: ETS(A,N,A) or ETS(M,N,M) by AICc.
      std::optional<fd::EtsModel> best;
      for (bool mul : {false, true}) {
        if (mul && *std::min_element(fit.begin(), fit.end()) <= 0) continue;
        auto m = fd::FitEts(fit, fd::EtsSpec{mul, fd::Trend::kNone, mul ? fd::Season::kMul : fd::Season::kAdd, 24});
        if (m && (!best || m->aicc < best->aicc)) best = std::move(m);
      }
      fc.emplace_back("HW(24) N", best ? best->Mean(kHorizon) : SeasonalNaive(fit, kPeriod));
    }
    for (const auto& [name, settings] : decomposed) {
      fc.emplace_back(name, model_fc(fd::FitDecomposed(fit, seasons, settings, nullptr)));
    }
    auto get = [&](const std::string& name) -> const std::vector<double>* {
      for (const auto& [n, f] : fc) {
        if (n == name) return &f;
      }
      std::fprintf(stderr, "no candidate %s\n", name.c_str());
      std::abort();
    };
    for (const auto& members : combos) {
      std::vector<const std::vector<double>*> parts;
      std::string name = "Median(";
      for (const auto& m : members) parts.push_back(get(m)), name += (parts.size() > 1 ? ", " : "") + m;
      fc.emplace_back(name + ")", MedianOf(parts));
    }
    if (candidates.empty()) {
      for (const auto& [n, f] : fc) candidates.push_back({n, {}});
    }
    for (size_t c = 0; c < fc.size(); ++c) {
      candidates[c].score.Add(Smape(held, fc[c].second), Mase(fit, held, fc[c].second));
    }
    if ((i + 1) % 50 == 0) std::fprintf(stderr, "  %zu series\n", i + 1);
  }
  val_naive2 = candidates[0].score;
  for (const auto& c : candidates) {
    PrintRow("forecast (validation: M4 Hourly train, last 48 held out)", c.name + ": sMAPE / MASE / OWA",
             F3(c.score.Smape()) + " / " + F3(c.score.Mase()) + " / " + F3(c.score.Owa(val_naive2)), "-",
             "chooses the method; test part unused");
  }

  // 3. Test: the chosen method, refitted on each whole training series.
  aisle::stdlib::ForecastOptions options;
  options.horizon = kHorizon;
  options.seasons = seasons;
  Score ours, ours40, naive2_40;
  std::string models_seen;
  std::fprintf(stderr, "eval_forecast: test (whole training part -> 48 test values)\n");
  const double cpu_start = CpuSeconds();
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::vector<double>> our_forecasts;
  std::map<std::string, int> models;
  for (const auto& s : series) {
    auto f = aisle::stdlib::ForecastSeries(s.train, options);
    our_forecasts.push_back(std::move(f.mean));
    ++models[f.model.substr(0, f.model.find('('))];
  }
  const double cpu = CpuSeconds() - cpu_start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  for (const auto& [model, count] : models) std::fprintf(stderr, "  %s: %d series\n", model.c_str(), count);
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const double sm = Smape(s.test, our_forecasts[i]), ma = Mase(s.train, s.test, our_forecasts[i]);
    ours.Add(sm, ma);
    if (i < 40) {
      ours40.Add(sm, ma);
      const auto f = Naive2(s.train);
      naive2_40.Add(Smape(s.test, f), Mase(s.train, s.test, f));
    }
  }
  const std::string figures = F3(ours.Smape()) + " / " + F3(ours.Mase()) + " / " + F3(ours.Owa(naive2));
  PrintRow(op, "Aisle (median of decomposition+ETS x4 and seasonal naive) vs seasonal naive: sMAPE / MASE / OWA",
           figures, pub("sNaive", 0) + " / " + pub("sNaive", 1) + " / " + pub("sNaive", 2), kSource);
  PrintRow(op, "Aisle vs Naive2: sMAPE / MASE / OWA", figures,
           pub("Naive2", 0) + " / " + pub("Naive2", 1) + " / " + pub("Naive2", 2), kSource);
  PrintRow(op, "Aisle vs SES: sMAPE / MASE / OWA", figures,
           pub("SES", 0) + " / " + pub("SES", 1) + " / " + pub("SES", 2), kSource);
  PrintRow(op, "Aisle vs Theta: sMAPE / MASE / OWA", figures,
           pub("Theta", 0) + " / " + pub("Theta", 1) + " / " + pub("Theta", 2), kSource);
  // The winner (Smyl's hybrid ES-RNN) is user 118 in the organisers' table.
  PrintRow(op, "Aisle vs the winner (ES-RNN): sMAPE / MASE / OWA", figures,
           pub("118", 0) + " / " + pub("118", 1) + " / " + pub("118", 2), kSource);
  PrintRow(op, "Aisle vs R forecast::ets (all 414, README): OWA", F3(ours.Owa(naive2)), "0.852",
           "data/m4/README.md (r-cran-forecast 8.20)");
  PrintRow(op, "time for all 414 series, one core (CPU s / wall s)", fmt::format("{:.2f} / {:.2f}", cpu, wall),
           "< 10 s (acceptance)", "issue");

  // 4. R's forecast::ets on H1-H40, in the same run.
  const std::string op40 = "forecast (M4 Hourly H1-H40, h 48)";
  const std::string ours40_fig =
      F3(ours40.Smape()) + " / " + F3(ours40.Mase()) + " / " + F3(ours40.Owa(naive2_40));
  if (std::system("command -v Rscript >/dev/null 2>&1") != 0) {
    PrintRow(op40, "Aisle vs R forecast::ets: sMAPE / MASE / OWA", ours40_fig, "R not installed", "-");
    return 0;
  }
  const auto tmp = std::filesystem::temp_directory_path() / fmt::format("aisle_m4_ets_{}", static_cast<long>(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string out_csv = (tmp / "ets.csv").string();
  std::fprintf(stderr, "eval_forecast: running forecast::ets on H1-H40 in R\n");
  const std::string command = fmt::format("Rscript '{}/m4_ets.R' '{}' '{}' 40 >&2", AISLE_EVAL_SOURCE_DIR, dir, out_csv);
  const int rc = std::system(command.c_str());
  const auto r_forecasts = ReadWide(out_csv, 0);
  std::filesystem::remove_all(tmp);
  Score r40;
  for (size_t i = 0; i < 40; ++i) {
    auto it = r_forecasts.find(series[i].id);
    if (it == r_forecasts.end() || it->second.size() != kHorizon) continue;
    r40.Add(Smape(series[i].test, it->second), Mase(series[i].train, series[i].test, it->second));
  }
  if (rc != 0 || r40.n != 40) {
    PrintRow(op40, "Aisle vs R forecast::ets: sMAPE / MASE / OWA", ours40_fig,
             fmt::format("R failed (exit {}, {} of 40 series)", rc, r40.n), "-");
    return 0;
  }
  PrintRow(op40, "Aisle vs R forecast::ets: sMAPE / MASE / OWA", ours40_fig,
           F3(r40.Smape()) + " / " + F3(r40.Mase()) + " / " + F3(r40.Owa(naive2_40)),
           "R forecast::ets, same run (tests/eval/m4_ets.R)");
  const auto seconds = r_forecasts.find("seconds");
  PrintRow(op40, "time for 40 series (CPU s)", fmt::format("{:.2f}", cpu * 40 / 414.0),
           seconds != r_forecasts.end() && !seconds->second.empty() ? fmt::format("{:.2f}", seconds->second[0]) : "n/a",
           "R forecast::ets, same run (ours: 40/414 of the 414-series time)");
  return 0;
}
