#pragma once
// A labelled anomaly benchmark that is not the project's generator: synthetic series families in
// the style of the Numenta Anomaly Benchmark and Yahoo's S5 (A3/A4) corpus, built from fixed
// seeds with explicit transforms (mt19937_64, Box-Muller, Knuth's Poisson), so every platform gets
// the same series. Labels are known by construction: each injected anomaly is an event with the
// window of points in which detecting it counts (a point anomaly: itself and the next point; a
// change: the day or days after it, as NAB's windows give a detector time to react).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace aisle::eval {

struct LabelWindow {
  int start = 0;   // index of the first anomalous point
  int length = 1;  // points in which an alarm detects it
};

struct BenchSeries {
  std::string family;
  std::vector<double> values;  // one per hour, from a Monday 00:00 UTC
  std::vector<LabelWindow> events;
};

class BenchRng {
 public:
  explicit BenchRng(uint64_t seed) : g_(seed) {}
  double Uniform() { return (static_cast<double>(g_() >> 11) + 0.5) * 0x1.0p-53; }
  double Normal() {
    const double u = Uniform(), v = Uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * 3.141592653589793 * v);
  }
  double StudentT3() {  // heavy-tailed noise, scaled to unit variance (t3 has variance 3)
    double chi = 0;
    for (int i = 0; i < 3; ++i) chi += Normal() * Normal();
    return Normal() / std::sqrt(chi / 3) / std::sqrt(3.0);
  }
  int Poisson(double lambda) {  // Knuth: fine for the rates used here (< 60)
    const double limit = std::exp(-lambda);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  int Int(int lo, int hi) { return lo + static_cast<int>(Uniform() * (hi - lo + 1)); }

 private:
  std::mt19937_64 g_;
};

inline constexpr int kBenchWeeks = 8;
inline constexpr int kBenchLength = kBenchWeeks * 168;
// Anomalies start after 3.5 weeks, once every method has history (a 28-day baseline with a
// weekly season scores from its third week).
inline constexpr int kBenchFirstAnomaly = 588;

// The expected value at hour t: a daily cycle (busy afternoons, quiet nights) and quieter
// weekends, around `level`.
inline double Seasonal(int t, double level, double daily, double weekend) {
  const int hour = t % 24, weekday = (t / 24) % 7;  // 0 = Monday
  double y = level * (1 + daily * std::sin(2 * 3.141592653589793 * (hour - 9) / 24.0));
  if (weekday >= 5) y *= 1 - weekend;
  return y;
}

// Places `count` event starts at least `gap` apart after kBenchFirstAnomaly and `tail` before the
// end.
inline std::vector<int> Starts(BenchRng& rng, int count, int gap, int tail) {
  std::vector<int> out;
  while (static_cast<int>(out.size()) < count) {
    const int t = rng.Int(kBenchFirstAnomaly, kBenchLength - tail - 1);
    bool far = true;
    for (int s : out) far = far && std::abs(s - t) >= gap;
    if (far) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The benchmark: `per_family` series of each family, noise levels alternating low and high.
inline std::vector<BenchSeries> MakeBenchmark(int per_family = 8) {
  std::vector<BenchSeries> all;
  const char* families[] = {"spikes", "dips", "level shift", "variance change", "trend change",
                            "counts (Poisson)", "heavy-tailed noise", "no anomaly"};
  uint64_t seed = 20240601;
  for (const char* family : families) {
    const std::string f = family;
    for (int k = 0; k < per_family; ++k) {
      BenchRng rng(seed++);
      BenchSeries s;
      s.family = f;
      const double level = 50 + 150 * rng.Uniform();
      const double daily = 0.2 + 0.5 * rng.Uniform(), weekend = 0.4 * rng.Uniform();
      const double sigma = level * (k % 2 == 0 ? 0.02 : 0.08);
      std::vector<double> base(kBenchLength), noise(kBenchLength);
      for (int t = 0; t < kBenchLength; ++t) {
        base[t] = Seasonal(t, level, daily, weekend);
        noise[t] = sigma * (f == "heavy-tailed noise" ? rng.StudentT3() : rng.Normal());
      }
      if (f == "spikes" || f == "dips" || f == "heavy-tailed noise") {
        for (int t : Starts(rng, 4, 48, 4)) {
          const double size = (4 + 4 * rng.Uniform()) * sigma * (f == "dips" ? -1 : 1);
          base[t] += f == "heavy-tailed noise" ? 2 * size : size;
          s.events.push_back({t, 2});
        }
      } else if (f == "level shift") {
        const int t = Starts(rng, 1, 0, 96)[0];
        const double size = (3 + 3 * rng.Uniform()) * sigma * (rng.Uniform() < 0.5 ? -1 : 1);
        for (int u = t; u < kBenchLength; ++u) base[u] += size;
        s.events.push_back({t, 24});
      } else if (f == "variance change") {
        const int t = Starts(rng, 1, 0, 96)[0];
        const double factor = 3 + 2 * rng.Uniform();
        for (int u = t; u < kBenchLength; ++u) noise[u] *= factor;
        s.events.push_back({t, 72});
      } else if (f == "trend change") {
        const int t = Starts(rng, 1, 0, 96)[0];
        const double per_day = (1 + rng.Uniform()) * sigma * (rng.Uniform() < 0.5 ? -1 : 1);
        for (int u = t; u < kBenchLength; ++u) base[u] += per_day * (u - t) / 24.0;
        s.events.push_back({t, 72});
      }
      s.values.resize(kBenchLength);
      if (f == "counts (Poisson)") {
        const double rate = 2 + 18 * rng.Uniform();
        std::vector<int> spikes = Starts(rng, 4, 48, 4);
        for (int t = 0; t < kBenchLength; ++t) {
          const double lambda = Seasonal(t, rate, daily, weekend);
          s.values[t] = rng.Poisson(lambda);
          if (std::find(spikes.begin(), spikes.end(), t) != spikes.end())
            s.values[t] += std::ceil(3 + (4 + 2 * rng.Uniform()) * std::sqrt(lambda));
        }
        for (int t : spikes) s.events.push_back({t, 2});
      } else {
        for (int t = 0; t < kBenchLength; ++t) s.values[t] = base[t] + noise[t];
      }
      all.push_back(std::move(s));
    }
  }
  return all;
}

}  // namespace aisle::eval
