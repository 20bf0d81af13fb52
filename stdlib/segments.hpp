#pragma once
// Customer segments: RFM and basket-mix features per customer, k-means segments with readable
// profiles, incremental re-assignment per transaction, and a versioned binary model format.
// Engine-independent; the language wiring lives elsewhere.
//
// Features, in this order (raw = original units):
//   0 recency    days from the customer's last purchase to `as_of` (fractional days)
//   1 frequency  purchases (transactions) seen for the customer in the period fed in
//   2 monetary   total spend, or average spend per purchase, in major units (money / 10,000)
//   3..          basket mix: the share of the customer's categorised spend in each listed category
// Transform: with log_transform, frequency and monetary become log(1 + max(0, x)) (both are
// heavily right-skewed); then every feature is scaled to (x - center) / scale:
//   kZScore  center = mean, scale = population standard deviation;
//   kRobust  center = median, scale = IQR / 1.349 (the IQR of a normal is 1.349 sd), falling back
//            to the standard deviation when the IQR is 0.
// A scale of 0 (a constant feature) becomes 1. Statistics are computed over the customers'
// values sorted, so they do not depend on the order customers are listed in.
//
// Labels: each segment's centroid in scaled units (0 = the population's center, on the log scale
// for frequency and monetary when log_transform is on) names it:
//   monetary >= t "high value", <= -t "low value", else "mid value";
//   then frequency >= t "frequent", <= -t "infrequent"; then recency <= -t "recent", >= t "lapsed";
// joined by ", " (e.g. "high value, frequent, recent"); t = label_threshold (default 0.5).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.hpp"
#include "stdlib/kmeans.hpp"

namespace aisle::stdlib {

// Spend on one category within a purchase.
struct CategorySpend {
  std::string category;
  int64_t amount = 0;  // money, 1/10,000 of the major unit
};

// One purchase (transaction) of a known customer.
struct Purchase {
  std::string customer;               // customer id (already keyed-hashed upstream)
  int64_t time = 0;                   // microseconds since the Unix epoch, UTC
  int64_t amount = 0;                 // money, 1/10,000 of the major unit
  std::vector<CategorySpend> basket;  // spend per category; may be empty
};

// Running state of one customer: counts, exact money sums and a max, so folding purchases in any
// order, or merging partial states, gives the same state.
struct CustomerState {
  int64_t transactions = 0;
  int64_t total_spend = 0;                        // money units
  int64_t last_time = 0;                          // valid when transactions > 0
  std::map<std::string, int64_t> category_spend;  // money units per category

  // Folds one purchase in.
  void Add(const Purchase& purchase);
  // Folds another partial state of the same customer in.
  void Merge(const CustomerState& other);
  bool operator==(const CustomerState&) const = default;
};

// Customers by id, sorted: the input of a fit.
using CustomerTable = std::map<std::string, CustomerState>;

// Folds purchases into a table of customer states.
CustomerTable BuildCustomerTable(const std::vector<Purchase>& purchases);

// How monetary value is measured.
enum class Monetary { kTotal, kAverage };
// How features are standardised (file comment).
enum class Scaling { kZScore, kRobust };

// Feature options; every field has its default.
struct FeatureOptions {
  std::vector<std::string> categories;  // basket-mix features, in this order; none by default
  Monetary monetary = Monetary::kTotal;
  bool log_transform = true;  // log1p of frequency and monetary
  Scaling scaling = Scaling::kZScore;
  bool operator==(const FeatureOptions&) const = default;
};

// Raw features of a customer at `as_of` (file comment for the layout).
std::vector<double> RawFeatures(const CustomerState& customer, int64_t as_of,
                                const FeatureOptions& options);

// Options of a segmentation; every field has its default.
struct SegmentOptions {
  FeatureOptions features;
  KMeansOptions kmeans;          // k = 4, n_init = 10, seed 42 by default
  double label_threshold = 0.5;  // scaled distance from the center that earns a word in a label
  bool operator==(const SegmentOptions&) const = default;
};

// A category's share of a segment's categorised spend.
struct CategoryShare {
  std::string category;
  double share = 0;
  bool operator==(const CategoryShare&) const = default;
};

// What a segment looks like, in original units.
struct SegmentProfile {
  int64_t customers = 0;  // members at fit time
  double mean_recency_days = 0;
  double mean_frequency = 0;
  int64_t mean_monetary = 0;                  // money units, per customer (total or average)
  int64_t total_spend = 0;                    // money units, all members
  std::vector<CategoryShare> top_categories;  // up to three, largest share first
  std::string label;                          // e.g. "high value, frequent, recent"
  bool operator==(const SegmentProfile&) const = default;
};

struct SegmentFit;
// Fits segments (documented with its second declaration, below SegmentFit).
Result<SegmentFit> FitSegments(const CustomerTable& customers, int64_t as_of,
                               const SegmentOptions& options);

// A fitted segmentation: feature scaling, centroids and profiles. Immutable after Fit or Load;
// safe to share between threads for Assign.
class SegmentModel {
 public:
  // Scaled features of a raw feature row (a row of another length is cut, or padded with 0).
  std::vector<double> Scale(const std::vector<double>& raw) const;
  // The segment (0 .. k-1) of a raw feature row: the nearest centroid, lowest index on ties.
  int Assign(const std::vector<double>& raw) const;
  // The segment of a customer at `as_of`.
  int AssignCustomer(const CustomerState& customer, int64_t as_of) const;

  int k() const { return static_cast<int>(centroids_.size()); }
  const SegmentOptions& options() const { return options_; }
  const std::vector<double>& center() const { return center_; }
  const std::vector<double>& scale() const { return scale_; }
  const PointMatrix& centroids() const { return centroids_; }  // scaled units
  const std::vector<SegmentProfile>& profiles() const { return profiles_; }

  // Versioned, length-prefixed binary form.
  std::string Save() const;
  // Reads Save's form; an error (never a crash) on anything else.
  static Result<SegmentModel> Load(std::string_view bytes);

  bool operator==(const SegmentModel&) const = default;

 private:
  friend Result<SegmentFit> FitSegments(const CustomerTable&, int64_t, const SegmentOptions&);
  SegmentOptions options_;
  std::vector<double> center_, scale_;
  PointMatrix centroids_;
  std::vector<SegmentProfile> profiles_;
};

// A model with the segment of every customer it was fitted on.
struct SegmentFit {
  SegmentModel model;
  std::map<std::string, int> segment_of;  // customer id -> segment
  double inertia = 0;                     // k-means inertia in scaled units
};

// Fits segments on the customers' features at `as_of`. Errors: no customers, bad options,
// fewer distinct customers than k.
Result<SegmentFit> FitSegments(const CustomerTable& customers, int64_t as_of,
                               const SegmentOptions& options);

// Keeps customer states and their segments up to date one purchase at a time, against a fixed
// model; Refit replaces the model from the states gathered so far. Not thread-safe.
class SegmentTracker {
 public:
  explicit SegmentTracker(SegmentModel model) : model_(std::move(model)) {}

  // Folds the purchase into its customer's state and re-assigns the customer at `as_of`.
  int Observe(const Purchase& purchase, int64_t as_of);
  // The same at the purchase's own time (recency 0).
  int Observe(const Purchase& purchase) { return Observe(purchase, purchase.time); }

  // The customer's latest segment, if seen.
  std::optional<int> SegmentOf(std::string_view customer) const;

  // Refits on every state gathered (same options) and re-assigns everyone at `as_of`.
  Status Refit(int64_t as_of);

  const SegmentModel& model() const { return model_; }
  const CustomerTable& customers() const { return customers_; }

 private:
  SegmentModel model_;
  CustomerTable customers_;
  std::map<std::string, int, std::less<>> segment_of_;
};

}  // namespace aisle::stdlib
