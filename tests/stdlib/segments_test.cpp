// Customer segments: features worked out by hand, three generated customer groups with known
// membership, invariance to batching and order, incremental = batch assignment, Save/Load.

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "stdlib/segments.hpp"

using aisle::dsl::kMicrosPerDay;
using aisle::stdlib::BuildCustomerTable;
using aisle::stdlib::CustomerState;
using aisle::stdlib::CustomerTable;
using aisle::stdlib::FeatureOptions;
using aisle::stdlib::FitSegments;
using aisle::stdlib::Monetary;
using aisle::stdlib::Purchase;
using aisle::stdlib::RawFeatures;
using aisle::stdlib::Scaling;
using aisle::stdlib::SegmentFit;
using aisle::stdlib::SegmentModel;
using aisle::stdlib::SegmentOptions;
using aisle::stdlib::SegmentTracker;

namespace {

constexpr int64_t kUnit = 10'000;  // one major unit of money
constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kAsOf = 400 * kDay;

double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
int64_t Between(std::mt19937_64& rng, int64_t lo, int64_t hi) {  // inclusive
  return lo + static_cast<int64_t>(Uniform(rng) * static_cast<double>(hi - lo + 1));
}

struct Group {
  const char* name;
  int64_t min_tx, max_tx;            // purchases per customer
  int64_t min_amount, max_amount;    // whole units per purchase
  int64_t min_recency, max_recency;  // days before kAsOf of the last purchase
  const char* favourite;             // category taking 80% of each basket
};
// Champions, regulars and lapsed customers: far apart in log frequency, log spend and recency.
const Group kGroups[] = {
    {"champion", 20, 30, 80, 120, 0, 5, "wine"},
    {"regular", 5, 8, 25, 35, 20, 40, "bakery"},
    {"lapsed", 1, 2, 8, 12, 150, 200, "toys"},
};

struct Generated {
  std::vector<Purchase> purchases;
  std::map<std::string, int> truth;  // customer -> group
  std::vector<int64_t> group_total;  // exact money per group
  std::vector<int64_t> group_customers;
};

// 40 customers per group; each purchase splits 80/20 between the favourite and "other".
Generated Generate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Generated g;
  g.group_total.assign(3, 0);
  g.group_customers.assign(3, 0);
  for (int c = 0; c < 120; ++c) {
    const int group = c % 3;
    const Group& spec = kGroups[group];
    const std::string id = "cust" + std::to_string(1000 + c);
    g.truth[id] = group;
    ++g.group_customers[group];
    const int64_t n = Between(rng, spec.min_tx, spec.max_tx);
    const int64_t last = kAsOf - Between(rng, spec.min_recency, spec.max_recency) * kDay;
    for (int64_t t = 0; t < n; ++t) {
      Purchase p;
      p.customer = id;
      p.time = last - t * 3 * kDay;
      p.amount = Between(rng, spec.min_amount, spec.max_amount) * kUnit;
      const int64_t fav = p.amount / 10 * 8;
      p.basket = {{spec.favourite, fav}, {"other", p.amount - fav}};
      g.group_total[group] += p.amount;
      g.purchases.push_back(std::move(p));
    }
  }
  return g;
}

std::vector<size_t> Permutation(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng() % i]);
  return p;
}

SegmentOptions ThreeSegments() {
  SegmentOptions o;
  o.kmeans.k = 3;
  o.features.categories = {"wine", "bakery", "toys"};
  return o;
}

}  // namespace

TEST_CASE("customer state folds purchases in any order and merges", "[segments]") {
  Purchase a{"c", 1 * kDay, 10 * kUnit, {}};
  Purchase b{"c", 4 * kDay, 30 * kUnit, {{"grocery", 20 * kUnit}, {"toys", 10 * kUnit}}};
  Purchase c{"c", 2 * kDay, 5 * kUnit, {{"grocery", 5 * kUnit}}};
  CustomerState forward, backward, left, right;
  for (const Purchase* p : {&a, &b, &c}) forward.Add(*p);
  for (const Purchase* p : {&c, &b, &a}) backward.Add(*p);
  left.Add(a);
  right.Add(c);
  right.Add(b);
  left.Merge(right);
  CHECK(forward == backward);
  CHECK(forward == left);
  CHECK(forward.transactions == 3);
  CHECK(forward.total_spend == 45 * kUnit);
  CHECK(forward.last_time == 4 * kDay);
  CHECK(forward.category_spend ==
        std::map<std::string, int64_t>{{"grocery", 25 * kUnit}, {"toys", 10 * kUnit}});
}

TEST_CASE("raw features of a hand-worked customer", "[segments]") {
  // Purchases on day 0 (10.00, no basket) and day 3 (30.00: grocery 20.00, toys 10.00), as of
  // day 5 at noon: recency 2.5 days, frequency 2, total 40.00 or 20.00 a purchase; categorised
  // spend 30.00, so grocery 2/3, toys 1/3, garden 0.
  CustomerState s;
  s.Add({"c", 0, 10 * kUnit, {}});
  s.Add({"c", 3 * kDay, 30 * kUnit, {{"grocery", 20 * kUnit}, {"toys", 10 * kUnit}}});
  FeatureOptions f;
  f.categories = {"grocery", "toys", "garden"};
  auto raw = RawFeatures(s, 5 * kDay + kDay / 2, f);
  REQUIRE(raw.size() == 6);
  CHECK(raw[0] == 2.5);
  CHECK(raw[1] == 2.0);
  CHECK(raw[2] == 40.0);
  CHECK(raw[3] == Approx(2.0 / 3.0));
  CHECK(raw[4] == Approx(1.0 / 3.0));
  CHECK(raw[5] == 0.0);
  f.monetary = Monetary::kAverage;
  CHECK(RawFeatures(s, 5 * kDay, f)[2] == 20.0);
}

TEST_CASE("z-score and robust scaling of hand-worked features", "[segments]") {
  // Three customers, one purchase each on day 0, of 1.00, 2.00 and 3.00; no log transform.
  // Monetary: mean 2, population sd sqrt(2/3); median 2, quartiles (type 7) 1.5 and 2.5, so
  // IQR 1 and robust scale 1 / 1.349. Frequency is constant (1): scale 1.
  CustomerTable t = BuildCustomerTable(
      {{"a", 0, 1 * kUnit, {}}, {"b", 0, 2 * kUnit, {}}, {"c", 0, 3 * kUnit, {}}});
  SegmentOptions o;
  o.kmeans.k = 2;
  o.features.log_transform = false;
  auto z = FitSegments(t, kDay, o);
  REQUIRE(z.ok());
  CHECK(z->model.center()[2] == Approx(2.0));
  CHECK(z->model.scale()[2] == Approx(std::sqrt(2.0 / 3.0)));
  CHECK(z->model.center()[1] == 1.0);
  CHECK(z->model.scale()[1] == 1.0);
  o.features.scaling = Scaling::kRobust;
  auto r = FitSegments(t, kDay, o);
  REQUIRE(r.ok());
  CHECK(r->model.center()[2] == Approx(2.0));
  CHECK(r->model.scale()[2] == Approx(1.0 / 1.349));
  // With log: log1p(1), log1p(2), log1p(3) have mean (ln 2 + ln 3 + ln 4) / 3 = ln(24) / 3.
  o.features.log_transform = true;
  o.features.scaling = Scaling::kZScore;
  auto l = FitSegments(t, kDay, o);
  REQUIRE(l.ok());
  CHECK(l->model.center()[2] == Approx(std::log(24.0) / 3));
}

TEST_CASE("a constant feature is centered exactly, whatever rounding the mean does", "[segments]") {
  // Three customers with one 5.00 purchase each on day 0: log1p(5) = 1.7917594692280550, and
  // (x + x + x) / 3 in doubles is 1.7917594692280552, one rounding step off. Every feature is
  // constant, so each centers on its value with scale 1, the one segment's centroid is 0 in every
  // coordinate and its label "mid value".
  CustomerTable t = BuildCustomerTable(
      {{"a", 0, 5 * kUnit, {}}, {"b", 0, 5 * kUnit, {}}, {"c", 0, 5 * kUnit, {}}});
  SegmentOptions o;
  o.kmeans.k = 1;
  auto fit = FitSegments(t, kDay, o);
  REQUIRE(fit.ok());
  CHECK(fit->model.center()[2] == std::log1p(5.0));
  CHECK(fit->model.scale() == std::vector<double>{1.0, 1.0, 1.0});
  CHECK(fit->model.centroids() == aisle::stdlib::PointMatrix{{0.0, 0.0, 0.0}});
  CHECK(fit->model.profiles()[0].label == "mid value");
}

TEST_CASE("three generated customer groups are recovered with readable profiles", "[segments]") {
  Generated g = Generate(1);
  CustomerTable table = BuildCustomerTable(g.purchases);
  auto fit = FitSegments(table, kAsOf, ThreeSegments());
  REQUIRE(fit.ok());
  // The partition is the truth up to renaming.
  std::map<int, int> group_to_segment;
  for (const auto& [id, group] : g.truth) {
    auto [it, fresh] = group_to_segment.emplace(group, fit->segment_of.at(id));
    CHECK(it->second == fit->segment_of.at(id));
  }
  REQUIRE(group_to_segment.size() == 3);
  std::set<int> distinct;
  for (auto [group, segment] : group_to_segment) distinct.insert(segment);
  CHECK(distinct.size() == 3);

  const auto& profiles = fit->model.profiles();
  for (int group = 0; group < 3; ++group) {
    const auto& p = profiles[group_to_segment[group]];
    CHECK(p.customers == g.group_customers[group]);
    CHECK(p.total_spend == g.group_total[group]);
    CHECK(p.mean_monetary ==
          aisle::dsl::DivRoundHalfEven(g.group_total[group], g.group_customers[group]));
    REQUIRE_FALSE(p.top_categories.empty());
    CHECK(p.top_categories[0].category == kGroups[group].favourite);
    CHECK(p.top_categories[0].share == Approx(0.8));
  }
  CHECK(profiles[group_to_segment[0]].label == "high value, frequent, recent");
  CHECK(profiles[group_to_segment[2]].label == "low value, infrequent, lapsed");
  CHECK(profiles[group_to_segment[1]].label.rfind("mid value", 0) == 0);
  CHECK(profiles[group_to_segment[0]].mean_recency_days <= 5.0);
  CHECK(profiles[group_to_segment[2]].mean_recency_days >= 150.0);
}

TEST_CASE("fitting twice gives the same model bit for bit", "[segments]") {
  CustomerTable table = BuildCustomerTable(Generate(2).purchases);
  auto a = FitSegments(table, kAsOf, ThreeSegments());
  auto b = FitSegments(table, kAsOf, ThreeSegments());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->model == b->model);
  CHECK(a->model.Save() == b->model.Save());
  CHECK(a->segment_of == b->segment_of);
}

TEST_CASE("batches, partitions and order of purchases do not change the segments", "[segments]") {
  // Parallelism invariance: purchases in random-sized batches, each batch folded on its own (as a
  // shard would), the partial tables merged in shuffled order, equal the one-batch table and fit
  // to the same model bit for bit.
  Generated g = Generate(3);
  CustomerTable whole = BuildCustomerTable(g.purchases);
  auto reference = FitSegments(whole, kAsOf, ThreeSegments());
  REQUIRE(reference.ok());
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    std::vector<size_t> perm = Permutation(g.purchases.size(), seed);
    std::vector<CustomerTable> partials;
    for (size_t i = 0; i < perm.size();) {
      size_t size = static_cast<size_t>(Between(rng, 1, 60));
      std::vector<Purchase> batch;
      for (; size > 0 && i < perm.size(); --size, ++i) batch.push_back(g.purchases[perm[i]]);
      partials.push_back(BuildCustomerTable(batch));
    }
    CustomerTable merged;
    for (size_t j : Permutation(partials.size(), seed + 100)) {
      for (const auto& [id, state] : partials[j]) merged[id].Merge(state);
    }
    CHECK(merged == whole);
    auto fit = FitSegments(merged, kAsOf, ThreeSegments());
    REQUIRE(fit.ok());
    CHECK(fit->model == reference->model);
    CHECK(fit->segment_of == reference->segment_of);
  }
}

TEST_CASE("incremental assignment equals batch assignment with fixed centroids", "[segments]") {
  Generated g = Generate(4);
  auto fit = FitSegments(BuildCustomerTable(g.purchases), kAsOf, ThreeSegments());
  REQUIRE(fit.ok());
  SegmentTracker tracker(fit->model);
  for (size_t i : Permutation(g.purchases.size(), 9)) tracker.Observe(g.purchases[i], kAsOf);
  for (const auto& [id, segment] : fit->segment_of) {
    REQUIRE(tracker.SegmentOf(id).has_value());
    CHECK(*tracker.SegmentOf(id) == segment);
  }
  CHECK_FALSE(tracker.SegmentOf("nobody").has_value());
  CHECK(tracker.model() == fit->model);  // observing never refits

  // A lapsed customer who comes back and buys like a champion moves to the champions' segment.
  std::string lapsed, champion;
  for (const auto& [id, group] : g.truth) {
    if (group == 2 && lapsed.empty()) lapsed = id;
    if (group == 0 && champion.empty()) champion = id;
  }
  int now = -1;
  for (int i = 0; i < 25; ++i) {
    Purchase p{
        lapsed, kAsOf - i * kDay, 100 * kUnit, {{"wine", 80 * kUnit}, {"other", 20 * kUnit}}};
    now = tracker.Observe(p, kAsOf);
  }
  CHECK(now == fit->segment_of.at(champion));

  // Refit on the states gathered equals a fit of the same table.
  REQUIRE(tracker.Refit(kAsOf).ok());
  auto again = FitSegments(tracker.customers(), kAsOf, ThreeSegments());
  REQUIRE(again.ok());
  CHECK(tracker.model() == again->model);
  for (const auto& [id, segment] : again->segment_of) CHECK(*tracker.SegmentOf(id) == segment);
}

TEST_CASE("segment model saves and loads, and rejects garbage", "[segments]") {
  auto fit = FitSegments(BuildCustomerTable(Generate(5).purchases), kAsOf, ThreeSegments());
  REQUIRE(fit.ok());
  const std::string bytes = fit->model.Save();
  auto loaded = SegmentModel::Load(bytes);
  REQUIRE(loaded.ok());
  CHECK(*loaded == fit->model);
  CHECK(loaded->Save() == bytes);

  // Every proper prefix fails, and so does one byte more.
  for (size_t n = 0; n < bytes.size(); ++n)
    CHECK_FALSE(SegmentModel::Load(bytes.substr(0, n)).ok());
  CHECK_FALSE(SegmentModel::Load(bytes + "x").ok());
  // Another version, another magic.
  std::string v2 = bytes;
  v2[7] = 2;
  CHECK_FALSE(SegmentModel::Load(v2).ok());
  std::string magic = bytes;
  magic[0] = 'X';
  CHECK_FALSE(SegmentModel::Load(magic).ok());
  // Every single-byte corruption either fails or loads something; it never crashes (ASan).
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0xFF);
    auto r = SegmentModel::Load(bad);
    if (r.ok()) CHECK(r->k() == 3);
  }
  // Random garbage with a valid header claiming its own length.
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk = bytes.substr(0, 8);
    std::string body(static_cast<size_t>(rng() % 300), '\0');
    for (char& c : body) c = static_cast<char>(rng());
    for (int s = 56; s >= 0; s -= 8) junk.push_back(static_cast<char>(body.size() >> s));
    CHECK_FALSE(SegmentModel::Load(junk + body).ok());
  }
}

TEST_CASE("fit errors are reported, not thrown", "[segments]") {
  SegmentOptions o;
  CHECK_FALSE(FitSegments({}, kAsOf, o).ok());
  CustomerTable two = BuildCustomerTable({{"a", 0, kUnit, {}}, {"b", 0, 2 * kUnit, {}}});
  o.kmeans.k = 3;  // more segments than distinct customers
  CHECK_FALSE(FitSegments(two, kAsOf, o).ok());
}

TEST_CASE("assigning rows of the wrong length cannot read past the model", "[segments]") {
  auto fit = FitSegments(BuildCustomerTable(Generate(6).purchases), kAsOf, ThreeSegments());
  REQUIRE(fit.ok());
  const SegmentModel& m = fit->model;
  CHECK(m.Scale({}).size() == 6);  // 3 RFM features + 3 categories
  CHECK(m.Scale(std::vector<double>(20, 1.0)).size() == 6);
  const int a = m.Assign({});
  CHECK((a >= 0 && a < 3));
  // A full row padded by the caller with extra values is cut back to the model's features.
  CustomerState s;
  s.Add({"x", kAsOf, 50 * kUnit, {{"wine", 50 * kUnit}}});
  std::vector<double> raw = RawFeatures(s, kAsOf, m.options().features);
  const int expected = m.AssignCustomer(s, kAsOf);
  raw.push_back(1e9);
  CHECK(m.Assign(raw) == expected);
}
