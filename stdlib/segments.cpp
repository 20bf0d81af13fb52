// Customer segments: features, fit, profiles, the binary model format and the tracker.

#include "stdlib/segments.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "dsl/value.hpp"

namespace aisle::stdlib {

namespace {

constexpr size_t kRecency = 0;
constexpr size_t kFrequency = 1;
constexpr size_t kMonetary = 2;
constexpr size_t kFixedFeatures = 3;
constexpr double kIqrToSigma = 1.349;
constexpr size_t kTopCategories = 3;

constexpr char kMagic[4] = {'A', 'I', 'S', 'G'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kMaxClusters = 1u << 20;

// Log transform of the skewed features (the scaling comes after).
std::vector<double> Transform(std::vector<double> raw, const FeatureOptions& options) {
  if (options.log_transform) {
    raw[kFrequency] = std::log1p(std::max(0.0, raw[kFrequency]));
    raw[kMonetary] = std::log1p(std::max(0.0, raw[kMonetary]));
  }
  return raw;
}

// Linear interpolation between order statistics (Hyndman & Fan type 7) of sorted values.
double Quantile(const std::vector<double>& sorted, double p) {
  double h = (static_cast<double>(sorted.size()) - 1) * p;
  size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

// Center and scale of one feature; `values` sorted so the sums do not depend on input order.
std::pair<double, double> CenterAndScale(std::vector<double> values, Scaling scaling) {
  std::sort(values.begin(), values.end());
  // A constant feature: the mean of n equal doubles can miss the value by a rounding step, which
  // would leave a standard deviation of ~1e-16 and blow that step up to a z-score of about 1.
  if (values.front() == values.back()) return {values.front(), 1.0};
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / n);
  double center = mean;
  double scale = sd;
  if (scaling == Scaling::kRobust) {
    center = Quantile(values, 0.5);
    double iqr = Quantile(values, 0.75) - Quantile(values, 0.25);
    if (iqr > 0) scale = iqr / kIqrToSigma;
  }
  if (!(scale > 0)) scale = 1;
  return {center, scale};
}

std::string Label(const std::vector<double>& centroid, double t) {
  std::string label = centroid[kMonetary] >= t    ? "high value"
                      : centroid[kMonetary] <= -t ? "low value"
                                                  : "mid value";
  if (centroid[kFrequency] >= t) label += ", frequent";
  if (centroid[kFrequency] <= -t) label += ", infrequent";
  if (centroid[kRecency] <= -t) label += ", recent";
  if (centroid[kRecency] >= t) label += ", lapsed";
  return label;
}

int64_t MonetaryUnits(const CustomerState& c, Monetary monetary) {
  if (monetary == Monetary::kTotal || c.transactions == 0) return c.total_spend;
  return dsl::DivRoundHalfEven(c.total_spend, c.transactions);
}

// --- binary encoding: big-endian integers, doubles as their IEEE bits, strings length-prefixed.

void PutU8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void PutI64(std::string& out, int64_t v) {
  PutU64(out, static_cast<uint64_t>(v));
}
void PutF64(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutU64(out, bits);
}
void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads the encoding above; any read past the end sets failed() and returns zeros from then on.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool failed() const { return failed_; }
  size_t remaining() const { return failed_ ? 0 : in_.size() - pos_; }
  bool at_end() const { return !failed_ && pos_ == in_.size(); }

  uint64_t Bits(size_t bytes) {
    if (failed_ || in_.size() - pos_ < bytes) {
      failed_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_ + i]);
    pos_ += bytes;
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Bits(1)); }
  uint32_t U32() { return static_cast<uint32_t>(Bits(4)); }
  uint64_t U64() { return Bits(8); }
  int64_t I64() { return static_cast<int64_t>(Bits(8)); }
  double F64() {
    uint64_t bits = Bits(8);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) failed_ = true;
    return v;
  }
  std::string String() {
    uint32_t n = U32();
    if (failed_ || n > in_.size() - pos_) {
      failed_ = true;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items each at least `min_bytes` long: fails when they cannot fit in what is left,
  // so garbage cannot make us allocate gigabytes.
  uint32_t Count(size_t min_bytes) {
    uint32_t n = U32();
    if (!failed_ && static_cast<uint64_t>(n) * min_bytes > in_.size() - pos_) failed_ = true;
    return failed_ ? 0 : n;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

// --- customer state -------------------------------------------------------------------------

void CustomerState::Add(const Purchase& purchase) {
  last_time = transactions == 0 ? purchase.time : std::max(last_time, purchase.time);
  ++transactions;
  total_spend += purchase.amount;
  for (const CategorySpend& line : purchase.basket) category_spend[line.category] += line.amount;
}

void CustomerState::Merge(const CustomerState& other) {
  if (other.transactions == 0) return;
  last_time = transactions == 0 ? other.last_time : std::max(last_time, other.last_time);
  transactions += other.transactions;
  total_spend += other.total_spend;
  for (const auto& [category, amount] : other.category_spend) category_spend[category] += amount;
}

CustomerTable BuildCustomerTable(const std::vector<Purchase>& purchases) {
  CustomerTable table;
  for (const Purchase& p : purchases) table[p.customer].Add(p);
  return table;
}

std::vector<double> RawFeatures(const CustomerState& customer, int64_t as_of,
                                const FeatureOptions& options) {
  std::vector<double> raw(kFixedFeatures + options.categories.size(), 0.0);
  if (customer.transactions > 0) {
    raw[kRecency] =
        static_cast<double>(as_of - customer.last_time) / static_cast<double>(dsl::kMicrosPerDay);
  }
  raw[kFrequency] = static_cast<double>(customer.transactions);
  raw[kMonetary] = static_cast<double>(MonetaryUnits(customer, options.monetary)) /
                   static_cast<double>(dsl::kMoneyScale);
  int64_t categorised = 0;
  for (const auto& [category, amount] : customer.category_spend) categorised += amount;
  if (categorised > 0) {
    for (size_t i = 0; i < options.categories.size(); ++i) {
      auto it = customer.category_spend.find(options.categories[i]);
      if (it != customer.category_spend.end()) {
        raw[kFixedFeatures + i] =
            static_cast<double>(it->second) / static_cast<double>(categorised);
      }
    }
  }
  return raw;
}

// --- model ----------------------------------------------------------------------------------

std::vector<double> SegmentModel::Scale(const std::vector<double>& raw) const {
  std::vector<double> x = raw;
  x.resize(center_.size(), 0.0);  // a row of another length cannot read past the model
  x = Transform(std::move(x), options_.features);
  for (size_t d = 0; d < x.size(); ++d) x[d] = (x[d] - center_[d]) / scale_[d];
  return x;
}

int SegmentModel::Assign(const std::vector<double>& raw) const {
  return NearestCentroid(centroids_, Scale(raw));
}

int SegmentModel::AssignCustomer(const CustomerState& customer, int64_t as_of) const {
  return Assign(RawFeatures(customer, as_of, options_.features));
}

Result<SegmentFit> FitSegments(const CustomerTable& customers, int64_t as_of,
                               const SegmentOptions& options) {
  if (customers.empty()) return Error{"segments: no customers"};
  if (!(options.label_threshold >= 0) || !std::isfinite(options.label_threshold)) {
    return Error{"segments: label_threshold must be a finite number >= 0"};
  }
  const FeatureOptions& f = options.features;
  const size_t dim = kFixedFeatures + f.categories.size();
  const size_t n = customers.size();

  PointMatrix transformed;
  transformed.reserve(n);
  for (const auto& [id, state] : customers) {
    transformed.push_back(Transform(RawFeatures(state, as_of, f), f));
  }
  SegmentFit fit;
  SegmentModel& model = fit.model;
  model.options_ = options;
  model.center_.resize(dim);
  model.scale_.resize(dim);
  std::vector<double> column(n);
  for (size_t d = 0; d < dim; ++d) {
    for (size_t i = 0; i < n; ++i) column[i] = transformed[i][d];
    std::tie(model.center_[d], model.scale_[d]) = CenterAndScale(column, f.scaling);
  }
  for (auto& row : transformed) {
    for (size_t d = 0; d < dim; ++d) row[d] = (row[d] - model.center_[d]) / model.scale_[d];
  }
  Result<KMeansResult> km = KMeans(transformed, options.kmeans);
  if (!km.ok()) return Error{"segments: " + km.error().message};
  model.centroids_ = km->centroids;
  fit.inertia = km->inertia;

  // Profiles in original units, summed over members in customer-id order.
  const int k = model.k();
  struct Sums {
    int64_t members = 0;
    double recency = 0, frequency = 0;
    int64_t monetary = 0, spend = 0;
    std::map<std::string, int64_t> categories;
  };
  std::vector<Sums> sums(k);
  size_t i = 0;
  for (const auto& [id, state] : customers) {
    const int segment = km->labels[i++];
    fit.segment_of.emplace(id, segment);
    Sums& s = sums[segment];
    ++s.members;
    s.recency += RawFeatures(state, as_of, f)[kRecency];
    s.frequency += static_cast<double>(state.transactions);
    s.monetary += MonetaryUnits(state, f.monetary);
    s.spend += state.total_spend;
    for (const auto& [category, amount] : state.category_spend) s.categories[category] += amount;
  }
  for (int j = 0; j < k; ++j) {
    const Sums& s = sums[j];
    SegmentProfile p;
    p.customers = s.members;
    if (s.members > 0) {
      p.mean_recency_days = s.recency / static_cast<double>(s.members);
      p.mean_frequency = s.frequency / static_cast<double>(s.members);
      p.mean_monetary = dsl::DivRoundHalfEven(s.monetary, s.members);
    }
    p.total_spend = s.spend;
    int64_t categorised = 0;
    std::vector<std::pair<std::string, int64_t>> ranked;
    for (const auto& [category, amount] : s.categories) {
      categorised += amount;
      ranked.emplace_back(category, amount);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (categorised > 0) {
      for (size_t r = 0; r < ranked.size() && r < kTopCategories; ++r) {
        p.top_categories.push_back({ranked[r].first, static_cast<double>(ranked[r].second) /
                                                         static_cast<double>(categorised)});
      }
    }
    p.label = Label(model.centroids_[j], options.label_threshold);
    model.profiles_.push_back(std::move(p));
  }
  return fit;
}

// --- binary form ------------------------------------------------------------------------------
// "AISG", u32 version, u64 payload length, payload: the feature options, the k-means options, the
// label threshold, dim + centers + scales, k + centroids, k profiles.

std::string SegmentModel::Save() const {
  std::string payload;
  const FeatureOptions& f = options_.features;
  PutU32(payload, static_cast<uint32_t>(f.categories.size()));
  for (const std::string& c : f.categories) PutString(payload, c);
  PutU8(payload, static_cast<uint8_t>(f.monetary));
  PutU8(payload, f.log_transform ? 1 : 0);
  PutU8(payload, static_cast<uint8_t>(f.scaling));
  const KMeansOptions& km = options_.kmeans;
  PutU32(payload, static_cast<uint32_t>(km.k));
  PutU32(payload, static_cast<uint32_t>(km.n_init));
  PutU32(payload, static_cast<uint32_t>(km.max_iterations));
  PutU64(payload, km.seed);
  PutF64(payload, options_.label_threshold);
  PutU32(payload, static_cast<uint32_t>(center_.size()));
  for (double v : center_) PutF64(payload, v);
  for (double v : scale_) PutF64(payload, v);
  PutU32(payload, static_cast<uint32_t>(centroids_.size()));
  for (const auto& row : centroids_) {
    for (double v : row) PutF64(payload, v);
  }
  for (const SegmentProfile& p : profiles_) {
    PutI64(payload, p.customers);
    PutF64(payload, p.mean_recency_days);
    PutF64(payload, p.mean_frequency);
    PutI64(payload, p.mean_monetary);
    PutI64(payload, p.total_spend);
    PutU32(payload, static_cast<uint32_t>(p.top_categories.size()));
    for (const CategoryShare& c : p.top_categories) {
      PutString(payload, c.category);
      PutF64(payload, c.share);
    }
    PutString(payload, p.label);
  }
  std::string out(kMagic, sizeof kMagic);
  PutU32(out, kFormatVersion);
  PutU64(out, payload.size());
  return out + payload;
}

Result<SegmentModel> SegmentModel::Load(std::string_view bytes) {
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Error{"segment model: not a segment model"};
  }
  Reader header(bytes.substr(4, 12));
  const uint32_t version = header.U32();
  const uint64_t length = header.U64();
  if (version != kFormatVersion) {
    return Error{"segment model: unsupported version " + std::to_string(version)};
  }
  if (length != bytes.size() - 16) return Error{"segment model: length does not match"};
  Reader in(bytes.substr(16));
  auto bad = [](const char* what) { return Error{std::string("segment model: ") + what}; };

  SegmentModel m;
  FeatureOptions& f = m.options_.features;
  const uint32_t categories = in.Count(4);
  for (uint32_t i = 0; i < categories && !in.failed(); ++i) f.categories.push_back(in.String());
  const uint8_t monetary = in.U8(), log_transform = in.U8(), scaling = in.U8();
  if (monetary > 1 || log_transform > 1 || scaling > 1) return bad("bad feature options");
  f.monetary = static_cast<Monetary>(monetary);
  f.log_transform = log_transform == 1;
  f.scaling = static_cast<Scaling>(scaling);
  KMeansOptions& km = m.options_.kmeans;
  const uint32_t k = in.U32(), n_init = in.U32(), max_iterations = in.U32();
  km.seed = in.U64();
  if (k < 1 || k > kMaxClusters || n_init < 1 || n_init > INT32_MAX || max_iterations < 1 ||
      max_iterations > INT32_MAX) {
    return bad("bad k-means options");
  }
  km.k = static_cast<int>(k);
  km.n_init = static_cast<int>(n_init);
  km.max_iterations = static_cast<int>(max_iterations);
  m.options_.label_threshold = in.F64();
  if (in.failed() || m.options_.label_threshold < 0) return bad("bad options");

  const uint32_t dim = in.Count(16);
  if (in.failed() || dim != kFixedFeatures + f.categories.size()) return bad("bad dimension");
  for (uint32_t d = 0; d < dim; ++d) m.center_.push_back(in.F64());
  for (uint32_t d = 0; d < dim; ++d) {
    m.scale_.push_back(in.F64());
    if (!(m.scale_.back() > 0)) return bad("bad scale");
  }
  const uint32_t clusters = in.Count(8 * static_cast<size_t>(dim));
  if (in.failed() || clusters != k) return bad("bad centroid count");
  m.centroids_.assign(clusters, std::vector<double>(dim));
  for (auto& row : m.centroids_) {
    for (double& v : row) v = in.F64();
  }
  for (uint32_t j = 0; j < clusters && !in.failed(); ++j) {
    SegmentProfile p;
    p.customers = in.I64();
    p.mean_recency_days = in.F64();
    p.mean_frequency = in.F64();
    p.mean_monetary = in.I64();
    p.total_spend = in.I64();
    const uint32_t top = in.Count(12);
    for (uint32_t t = 0; t < top && !in.failed(); ++t) {
      CategoryShare c;
      c.category = in.String();
      c.share = in.F64();
      p.top_categories.push_back(std::move(c));
    }
    p.label = in.String();
    m.profiles_.push_back(std::move(p));
  }
  if (in.failed()) return bad("truncated or corrupt");
  if (!in.at_end()) return bad("trailing bytes");
  return m;
}

// --- tracker ----------------------------------------------------------------------------------

int SegmentTracker::Observe(const Purchase& purchase, int64_t as_of) {
  CustomerState& state = customers_[purchase.customer];
  state.Add(purchase);
  const int segment = model_.AssignCustomer(state, as_of);
  segment_of_.insert_or_assign(purchase.customer, segment);
  return segment;
}

std::optional<int> SegmentTracker::SegmentOf(std::string_view customer) const {
  auto it = segment_of_.find(customer);
  if (it == segment_of_.end()) return std::nullopt;
  return it->second;
}

Status SegmentTracker::Refit(int64_t as_of) {
  Result<SegmentFit> fit = FitSegments(customers_, as_of, model_.options());
  if (!fit.ok()) return fit.error();
  model_ = std::move(fit->model);
  segment_of_.clear();
  segment_of_.insert(fit->segment_of.begin(), fit->segment_of.end());
  return Status::Ok();
}

}  // namespace aisle::stdlib
