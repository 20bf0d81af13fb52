// k-means (Lloyd's algorithm, k-means++ seeding after Arthur & Vassilvitskii 2007) on a canonical,
// weighted form of the input, so the caller's order of points cannot change the result.

#include "stdlib/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <utility>

namespace aisle::stdlib {

namespace {

// [0, 1) from the top 53 bits: the same double from the same engine state on every platform.
double UniformDouble(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The input's distinct points in lexicographic order, each with how many times it occurs, and
// where every input point went.
struct Canonical {
  PointMatrix points;
  std::vector<double> weights;
  std::vector<int> index_of;  // input index -> canonical index
};

Canonical Canonicalize(const PointMatrix& input) {
  std::vector<int> order(input.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return input[a] < input[b]; });
  Canonical c;
  c.index_of.assign(input.size(), -1);
  for (int i : order) {
    if (c.points.empty() || c.points.back() != input[i]) {
      std::vector<double> row = input[i];
      for (double& x : row) x += 0.0;  // -0.0 -> +0.0: equal points get one representation
      c.points.push_back(std::move(row));
      c.weights.push_back(0);
    }
    c.weights.back() += 1;
    c.index_of[i] = static_cast<int>(c.points.size()) - 1;
  }
  return c;
}

struct Run {
  PointMatrix centroids;
  std::vector<int> labels;  // per canonical point
  double inertia = 0;
  int iterations = 0;
};

// Index of the first item whose running sum of `mass` exceeds `target` (skipping zero mass); the
// last item with mass when rounding leaves the target at the very end.
size_t SampleByMass(const std::vector<double>& mass, double target) {
  double cumulative = 0;
  size_t last_positive = 0;
  for (size_t i = 0; i < mass.size(); ++i) {
    if (mass[i] <= 0) continue;
    last_positive = i;
    cumulative += mass[i];
    if (cumulative > target) return i;
  }
  return last_positive;
}

PointMatrix SeedPlusPlus(const Canonical& c, int k, std::mt19937_64& rng) {
  const size_t n = c.points.size();
  PointMatrix centroids;
  double total_weight = 0;
  for (double w : c.weights) total_weight += w;
  size_t first = SampleByMass(c.weights, UniformDouble(rng) * total_weight);
  centroids.push_back(c.points[first]);
  std::vector<double> d2(n);
  for (size_t i = 0; i < n; ++i) d2[i] = SquaredDistance(c.points[i], centroids[0]);
  std::vector<double> mass(n);
  while (static_cast<int>(centroids.size()) < k) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      mass[i] = c.weights[i] * d2[i];
      total += mass[i];
    }
    size_t next = SampleByMass(mass, UniformDouble(rng) * total);
    centroids.push_back(c.points[next]);
    for (size_t i = 0; i < n; ++i) {
      d2[i] = std::min(d2[i], SquaredDistance(c.points[i], centroids.back()));
    }
  }
  return centroids;
}

void AssignAll(const Canonical& c, const PointMatrix& centroids, std::vector<int>& labels,
               std::vector<double>& d2) {
  for (size_t i = 0; i < c.points.size(); ++i) {
    int best = NearestCentroid(centroids, c.points[i]);
    labels[i] = best;
    d2[i] = SquaredDistance(c.points[i], centroids[best]);
  }
}

// Gives every empty cluster the farthest point of a cluster that can spare one (file comment).
void FillEmptyClusters(int k, std::vector<int>& labels, std::vector<double>& d2) {
  std::vector<int> members(k, 0);
  for (int l : labels) ++members[l];
  for (int cluster = 0; cluster < k; ++cluster) {
    if (members[cluster] > 0) continue;
    int best = -1;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (members[labels[i]] < 2) continue;
      if (best < 0 || d2[i] > d2[best]) best = static_cast<int>(i);
    }
    // k <= distinct points, so some cluster holds two points while one is empty.
    --members[labels[best]];
    labels[best] = cluster;
    members[cluster] = 1;
    d2[best] = 0;
  }
}

PointMatrix WeightedMeans(const Canonical& c, const std::vector<int>& labels, int k) {
  const size_t dim = c.points[0].size();
  PointMatrix sums(k, std::vector<double>(dim, 0.0));
  std::vector<double> weight(k, 0.0);
  for (size_t i = 0; i < c.points.size(); ++i) {
    weight[labels[i]] += c.weights[i];
    for (size_t d = 0; d < dim; ++d) sums[labels[i]][d] += c.weights[i] * c.points[i][d];
  }
  for (int j = 0; j < k; ++j) {
    for (size_t d = 0; d < dim; ++d) sums[j][d] /= weight[j];
  }
  return sums;
}

Run Lloyd(const Canonical& c, PointMatrix centroids, int max_iterations) {
  const int k = static_cast<int>(centroids.size());
  Run run;
  run.labels.assign(c.points.size(), 0);
  std::vector<double> d2(c.points.size());
  AssignAll(c, centroids, run.labels, d2);
  std::vector<int> next_labels(c.points.size());
  for (run.iterations = 1; run.iterations <= max_iterations; ++run.iterations) {
    FillEmptyClusters(k, run.labels, d2);
    centroids = WeightedMeans(c, run.labels, k);
    AssignAll(c, centroids, next_labels, d2);
    if (next_labels == run.labels) break;
    run.labels.swap(next_labels);
  }
  run.iterations = std::min(run.iterations, max_iterations);
  // On convergence the centroids are the means of these labels; after max_iterations the labels
  // are the nearest centroids' (the means of the previous labels).
  for (size_t i = 0; i < c.points.size(); ++i) run.inertia += c.weights[i] * d2[i];
  run.centroids = std::move(centroids);
  return run;
}

}  // namespace

double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t d = 0; d < a.size(); ++d) {
    double diff = a[d] - b[d];
    sum += diff * diff;
  }
  return sum;
}

int NearestCentroid(const PointMatrix& centroids, const std::vector<double>& point) {
  int best = 0;
  double best_d2 = std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < centroids.size(); ++j) {
    double d2 = SquaredDistance(point, centroids[j]);
    if (d2 < best_d2) {
      best_d2 = d2;
      best = static_cast<int>(j);
    }
  }
  return best;
}

Result<KMeansResult> KMeans(const PointMatrix& points, const KMeansOptions& options) {
  if (points.empty()) return Error{"kmeans: no points"};
  const size_t dim = points[0].size();
  if (dim == 0) return Error{"kmeans: points have no coordinates"};
  for (const auto& row : points) {
    if (row.size() != dim) return Error{"kmeans: rows of different lengths"};
    for (double x : row) {
      if (!std::isfinite(x)) return Error{"kmeans: a coordinate is not finite"};
    }
  }
  if (options.n_init < 1) return Error{"kmeans: n_init must be at least 1"};
  if (options.max_iterations < 1) return Error{"kmeans: max_iterations must be at least 1"};
  Canonical c = Canonicalize(points);
  if (options.k < 1 || static_cast<size_t>(options.k) > c.points.size()) {
    return Error{"kmeans: k = " + std::to_string(options.k) + " is outside 1 .. " +
                 std::to_string(c.points.size()) + " (the number of distinct points)"};
  }

  std::mt19937_64 rng(options.seed);
  Run best;
  for (int restart = 0; restart < options.n_init; ++restart) {
    Run run = Lloyd(c, SeedPlusPlus(c, options.k, rng), options.max_iterations);
    if (restart == 0 || run.inertia < best.inertia) best = std::move(run);
  }

  // Number the clusters in lexicographic order of their centroids.
  const int k = options.k;
  std::vector<int> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return best.centroids[a] < best.centroids[b]; });
  std::vector<int> rename(k);
  KMeansResult result;
  for (int j = 0; j < k; ++j) {
    rename[order[j]] = j;
    result.centroids.push_back(best.centroids[order[j]]);
  }
  result.labels.resize(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    result.labels[i] = rename[best.labels[c.index_of[i]]];
  }
  result.inertia = best.inertia;
  result.iterations = best.iterations;
  return result;
}

double Silhouette(const PointMatrix& points, const std::vector<int>& labels) {
  const size_t n = points.size();
  if (labels.size() != n || n == 0) return std::nan("");
  std::map<int, int> cluster_index;
  for (int l : labels) cluster_index.emplace(l, 0);
  int k = 0;
  for (auto& [label, index] : cluster_index) index = k++;
  if (k < 2 || static_cast<size_t>(k) >= n) return std::nan("");
  std::vector<int> cluster(n);
  std::vector<double> size(k, 0);
  for (size_t i = 0; i < n; ++i) {
    cluster[i] = cluster_index[labels[i]];
    size[cluster[i]] += 1;
  }
  // dist_sum[i * k + c]: sum of distances from point i to the points of cluster c.
  std::vector<double> dist_sum(n * k, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double d = std::sqrt(SquaredDistance(points[i], points[j]));
      dist_sum[i * k + cluster[j]] += d;
      dist_sum[j * k + cluster[i]] += d;
    }
  }
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const int own = cluster[i];
    if (size[own] < 2) continue;  // a singleton scores 0
    double a = dist_sum[i * k + own] / (size[own] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c) {
      if (c != own) b = std::min(b, dist_sum[i * k + c] / size[c]);
    }
    double denom = std::max(a, b);
    if (denom > 0) total += (b - a) / denom;
  }
  return total / static_cast<double>(n);
}

double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.size() != b.size()) return std::nan("");
  auto pairs = [](double m) { return m * (m - 1) / 2; };
  std::map<std::pair<int, int>, double> joint;
  std::map<int, double> rows, cols;
  for (size_t i = 0; i < a.size(); ++i) {
    joint[{a[i], b[i]}] += 1;
    rows[a[i]] += 1;
    cols[b[i]] += 1;
  }
  double index = 0, sum_rows = 0, sum_cols = 0;
  for (const auto& [cell, m] : joint) index += pairs(m);
  for (const auto& [label, m] : rows) sum_rows += pairs(m);
  for (const auto& [label, m] : cols) sum_cols += pairs(m);
  const double all = pairs(static_cast<double>(a.size()));
  if (all == 0) return 1.0;
  const double expected = sum_rows * sum_cols / all;
  const double max_index = (sum_rows + sum_cols) / 2;
  if (max_index == expected) return 1.0;  // both trivial: one cluster each, or all singletons
  return (index - expected) / (max_index - expected);
}

Result<KChoice> ChooseK(const PointMatrix& points, int k_min, int k_max,
                        const KMeansOptions& options) {
  if (k_min < 2 || k_max < k_min) return Error{"choose_k: needs 2 <= k_min <= k_max"};
  KChoice best;
  bool have = false;
  for (int k = k_min; k <= k_max; ++k) {
    KMeansOptions o = options;
    o.k = k;
    Result<KMeansResult> r = KMeans(points, o);
    if (!r.ok()) {
      if (have) break;  // k ran past the number of distinct points
      return r.error();
    }
    double s = Silhouette(points, r->labels);
    if (std::isnan(s)) break;
    if (!have || s > best.silhouette) {
      best = KChoice{k, s, std::move(r).value()};
      have = true;
    }
  }
  if (!have) return Error{"choose_k: no k in range could be scored"};
  return best;
}

}  // namespace aisle::stdlib
