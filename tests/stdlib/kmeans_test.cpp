// k-means, silhouette and the adjusted Rand index on cases with known answers: hand-worked
// points, well-separated Gaussian blobs, determinism and invariance to the order of the input.

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "stdlib/kmeans.hpp"

using aisle::stdlib::AdjustedRandIndex;
using aisle::stdlib::ChooseK;
using aisle::stdlib::KMeans;
using aisle::stdlib::KMeansOptions;
using aisle::stdlib::PointMatrix;
using aisle::stdlib::Silhouette;

namespace {

double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Box-Muller: a standard normal from two uniforms.
double Normal(std::mt19937_64& rng) {
  double u = 1.0 - Uniform(rng);  // (0, 1]
  double v = Uniform(rng);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
}

struct Blobs {
  PointMatrix points;
  std::vector<int> truth;
  PointMatrix centers;
};

// `per` points around each center, standard deviation `sigma`.
Blobs MakeBlobs(const PointMatrix& centers, int per, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Blobs b;
  b.centers = centers;
  for (int i = 0; i < per; ++i) {
    for (size_t c = 0; c < centers.size(); ++c) {
      std::vector<double> p;
      for (double x : centers[c]) p.push_back(x + sigma * Normal(rng));
      b.points.push_back(p);
      b.truth.push_back(static_cast<int>(c));
    }
  }
  return b;
}

// True when `labels` is `truth` up to renaming the clusters (a bijection).
bool SamePartition(const std::vector<int>& labels, const std::vector<int>& truth) {
  std::map<int, int> forward, backward;
  for (size_t i = 0; i < labels.size(); ++i) {
    auto [f, fnew] = forward.emplace(labels[i], truth[i]);
    auto [b, bnew] = backward.emplace(truth[i], labels[i]);
    if (f->second != truth[i] || b->second != labels[i]) return false;
  }
  return true;
}

// Fisher-Yates with our own uniform draw, so the test input is the same on every platform.
std::vector<size_t> Permutation(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng() % i]);
  return p;
}

const PointMatrix kFourCenters = {{0, 0, 0}, {20, 0, 0}, {0, 20, 5}, {20, 20, -10}};

}  // namespace

TEST_CASE("six points on a line split into their two groups", "[segments][kmeans]") {
  // 0 1 2 | 10 11 12, k = 2. Whatever k-means++ picks, Lloyd ends at the split between 2 and 10:
  // e.g. seeds 0 and 2 (both on the left) assign {0, 1} (1 ties, lowest index) and {2, 10, 11, 12}
  // (mean 8.75); the means 0.5 and 8.75 then claim {0, 1, 2} (2 is 1.5 from 0.5, 6.75 from 8.75)
  // and {10, 11, 12}; the means 1 and 11 change nothing more.
  // Centroids 1 and 11 (ordered), inertia (1 + 0 + 1) x 2 = 4.
  PointMatrix pts = {{10}, {0}, {12}, {1}, {11}, {2}};
  KMeansOptions o;
  o.k = 2;
  auto r = KMeans(pts, o);
  REQUIRE(r.ok());
  CHECK(r->centroids == PointMatrix{{1.0}, {11.0}});
  CHECK(r->labels == std::vector<int>{1, 0, 1, 0, 1, 0});
  CHECK(r->inertia == 4.0);
}

TEST_CASE("k up to the number of distinct points, and errors past it", "[segments][kmeans]") {
  PointMatrix pts = {{0}, {0}, {0}, {5}};
  KMeansOptions o;
  o.k = 2;
  auto r = KMeans(pts, o);
  REQUIRE(r.ok());
  CHECK(r->labels == std::vector<int>{0, 0, 0, 1});
  CHECK(r->inertia == 0.0);
  o.k = 3;
  CHECK_FALSE(KMeans(pts, o).ok());  // two distinct points
  o.k = 0;
  CHECK_FALSE(KMeans(pts, o).ok());
  o.k = 1;
  CHECK_FALSE(KMeans({}, o).ok());
  CHECK_FALSE(KMeans({{1, 2}, {3}}, o).ok());
  CHECK_FALSE(KMeans({{1, NAN}}, o).ok());
  // k = 1: the mean, (0 + 0 + 0 + 5) / 4.
  auto one = KMeans(pts, o);
  REQUIRE(one.ok());
  CHECK(one->centroids == PointMatrix{{1.25}});
}

TEST_CASE("well separated Gaussian blobs are recovered exactly", "[segments][kmeans]") {
  for (uint64_t seed : {1, 2, 3}) {
    Blobs b = MakeBlobs(kFourCenters, 150, 1.0, seed);
    KMeansOptions o;
    o.k = 4;
    o.seed = seed;
    auto r = KMeans(b.points, o);
    REQUIRE(r.ok());
    CHECK(SamePartition(r->labels, b.truth));
    CHECK(AdjustedRandIndex(r->labels, b.truth) == Approx(1.0));
    // Each centroid is the mean of its true group (computed here directly), and within 0.5
    // (about 8 standard errors, sigma / sqrt(150)) of the generating center.
    for (int c = 0; c < 4; ++c) {
      std::vector<double> mean(3, 0.0);
      int label = -1, count = 0;
      for (size_t i = 0; i < b.points.size(); ++i) {
        if (b.truth[i] != c) continue;
        label = r->labels[i];
        ++count;
        for (int d = 0; d < 3; ++d) mean[d] += b.points[i][d];
      }
      for (int d = 0; d < 3; ++d) {
        mean[d] /= count;
        CHECK(r->centroids[label][d] == Approx(mean[d]).margin(1e-9));
        CHECK(std::abs(r->centroids[label][d] - b.centers[c][d]) < 0.5);
      }
    }
  }
}

TEST_CASE("the same seed gives the same labels and centroids bit for bit", "[segments][kmeans]") {
  // Overlapping clusters, where restarts end in different local optima: the hard case.
  Blobs b = MakeBlobs(kFourCenters, 100, 9.0, 7);
  KMeansOptions o;
  o.k = 5;
  o.seed = 99;
  auto r1 = KMeans(b.points, o);
  auto r2 = KMeans(b.points, o);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK(r1->labels == r2->labels);
  CHECK(r1->centroids == r2->centroids);
  CHECK(r1->inertia == r2->inertia);
  CHECK(r1->iterations == r2->iterations);
}

TEST_CASE("shuffling the input changes neither the partition nor the centroids",
          "[segments][kmeans]") {
  // Overlapping clusters again: invariance must hold without a clear structure to fall back on.
  Blobs b = MakeBlobs(kFourCenters, 100, 9.0, 11);
  b.points.push_back(b.points[3]);  // duplicates, merged into weighted points
  b.points.push_back(b.points[3]);
  KMeansOptions o;
  o.k = 5;
  auto base = KMeans(b.points, o);
  REQUIRE(base.ok());
  for (uint64_t s : {1, 2, 3}) {
    std::vector<size_t> perm = Permutation(b.points.size(), s);
    PointMatrix shuffled;
    for (size_t i : perm) shuffled.push_back(b.points[i]);
    auto r = KMeans(shuffled, o);
    REQUIRE(r.ok());
    CHECK(r->centroids == base->centroids);
    CHECK(r->inertia == base->inertia);
    bool same = true;
    for (size_t j = 0; j < perm.size(); ++j) same = same && r->labels[j] == base->labels[perm[j]];
    CHECK(same);
  }
}

TEST_CASE("more restarts never end with a higher inertia", "[segments][kmeans]") {
  // The restarts share one random stream, so n_init = 10 runs n_init = 1's restart first.
  Blobs b = MakeBlobs(kFourCenters, 60, 8.0, 5);
  KMeansOptions o;
  o.k = 6;
  o.n_init = 1;
  auto one = KMeans(b.points, o);
  o.n_init = 10;
  auto ten = KMeans(b.points, o);
  REQUIRE(one.ok());
  REQUIRE(ten.ok());
  CHECK(ten->inertia <= one->inertia);
}

TEST_CASE("silhouette of a hand-worked partition", "[segments][kmeans]") {
  // 0 1 | 10 11: every point has a = 1. Point 0: b = (10 + 11) / 2 = 10.5, s = 9.5 / 10.5;
  // point 1: b = (9 + 10) / 2 = 9.5, s = 8.5 / 9.5; 10 and 11 mirror them.
  PointMatrix pts = {{0}, {1}, {10}, {11}};
  double expected = (9.5 / 10.5 + 8.5 / 9.5) / 2;
  CHECK(Silhouette(pts, {0, 0, 1, 1}) == Approx(expected).epsilon(1e-12));
  // A singleton scores 0: {0} alone, {1, 10, 11}: point 1 a = (9 + 10) / 2 = 9.5, b = 1,
  // s = (1 - 9.5) / 9.5 = -0.894737; point 10: a = (9 + 1) / 2 = 5, b = 10, s = 0.5;
  // point 11: a = (10 + 1) / 2 = 5.5, b = 11, s = 0.5.
  CHECK(Silhouette(pts, {0, 1, 1, 1}) == Approx((0 - 8.5 / 9.5 + 0.5 + 0.5) / 4).epsilon(1e-12));
  CHECK(std::isnan(Silhouette(pts, {0, 0, 0, 0})));
}

TEST_CASE("adjusted Rand index of hand-worked labellings", "[segments][kmeans]") {
  // truth {0 0 1 1}, found {0 0 1 2}: cells 2,1,1 -> index C(2,2) = 1; rows 2,2 -> 2; columns
  // 2,1,1 -> 1; all pairs C(4,2) = 6; expected 2 x 1 / 6 = 1/3; max (2 + 1) / 2 = 1.5;
  // ARI = (1 - 1/3) / (1.5 - 1/3) = 4/7.
  CHECK(AdjustedRandIndex({0, 0, 1, 1}, {0, 0, 1, 2}) == Approx(4.0 / 7.0).epsilon(1e-12));
  CHECK(AdjustedRandIndex({0, 0, 1, 1, 2}, {7, 7, 3, 3, 1}) == 1.0);
  // truth {0 0 0 1 1 1}, found {0 0 1 1 2 2}: cells 2,1,1,2 -> 2; rows 3,3 -> 6; columns
  // 2,2,2 -> 3; pairs 15; expected 6 x 3 / 15 = 1.2; max 4.5; ARI = 0.8 / 3.3.
  CHECK(AdjustedRandIndex({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2}) ==
        Approx(0.8 / 3.3).epsilon(1e-12));
}

TEST_CASE("silhouette picks the number of blobs", "[segments][kmeans]") {
  PointMatrix centers = {{0, 0}, {30, 0}, {15, 25}};
  Blobs b = MakeBlobs(centers, 80, 1.5, 4);
  auto choice = ChooseK(b.points, 2, 6, KMeansOptions{});
  REQUIRE(choice.ok());
  CHECK(choice->k == 3);
  CHECK(SamePartition(choice->result.labels, b.truth));
  CHECK_FALSE(ChooseK(b.points, 1, 3, KMeansOptions{}).ok());
}
