#pragma once
// k-means clustering (Lloyd's algorithm with k-means++ seeding) and the clustering measures that
// go with it (silhouette, adjusted Rand index). Engine-independent: plain vectors in and out.
//
// Determinism: the result depends only on the multiset of points, k, n_init, max_iterations and
// the seed, bit for bit, on every platform with IEEE doubles and no FMA contraction (the build is
// ISO C++, so GCC does not contract). How:
//  - the points are first sorted lexicographically and identical points merged into one weighted
//    point, so the order the caller lists them in cannot matter;
//  - randomness is std::mt19937_64 (fully specified by the standard) turned into doubles by our
//    own conversion (top 53 bits x 2^-53), never std::uniform_real_distribution (whose output
//    differs between standard libraries);
//  - every sum runs in that canonical order; ties (equal distances, equal inertia) go to the
//    lowest index: the lowest cluster, the earliest restart;
//  - clusters are finally numbered in lexicographic order of their centroids.
// Empty clusters: when a Lloyd step leaves a cluster with no point, its centroid moves to the
// point (of a cluster holding at least two distinct points) farthest from its own centroid,
// lowest canonical index on ties; empty clusters are handled in index order.

#include <cstdint>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::stdlib {

// Points, one row each; every row has the same length.
using PointMatrix = std::vector<std::vector<double>>;

// Options of KMeans; every field has its default.
struct KMeansOptions {
  int k = 4;                 // clusters, 1 .. the number of distinct points
  int n_init = 10;           // restarts from independent k-means++ seedings; lowest inertia wins
  int max_iterations = 300;  // Lloyd iterations per restart (stops earlier when labels settle)
  uint64_t seed = 42;        // seed of the std::mt19937_64 shared by all restarts, in order
  bool operator==(const KMeansOptions&) const = default;
};

// The outcome of KMeans.
struct KMeansResult {
  PointMatrix centroids;    // k rows, in lexicographic order of their coordinates
  std::vector<int> labels;  // labels[i] is the cluster of points[i], 0 .. k-1
  double inertia = 0;       // sum of squared distances of the points to their centroids
  int iterations = 0;       // Lloyd iterations of the winning restart
};

// k-means clustering of `points` (see the file comment). Errors: no points, ragged rows,
// non-finite values, k outside 1 .. distinct points, n_init or max_iterations < 1.
Result<KMeansResult> KMeans(const PointMatrix& points, const KMeansOptions& options);

// Squared Euclidean distance of two rows of the same length.
double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b);

// The index of the centroid nearest to `point`; the lowest index on ties.
int NearestCentroid(const PointMatrix& centroids, const std::vector<double>& point);

// Mean silhouette width (Rousseeuw 1987) of a labelled partition, Euclidean distances; a point
// alone in its cluster scores 0. O(n^2). Needs at least two clusters and fewer clusters than
// points, else NaN.
double Silhouette(const PointMatrix& points, const std::vector<int>& labels);

// Adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same items: 1 for the same
// partition up to renaming, about 0 for independent ones. 1 when both put everything together.
double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b);

// k chosen by silhouette: the k-means result with the largest mean silhouette for k in
// k_min .. k_max (k_min >= 2), the smallest k on ties.
struct KChoice {
  int k = 0;              // the chosen k
  double silhouette = 0;  // its mean silhouette
  KMeansResult result;    // its clustering
};
Result<KChoice> ChooseK(const PointMatrix& points, int k_min, int k_max,
                        const KMeansOptions& options);

}  // namespace aisle::stdlib
