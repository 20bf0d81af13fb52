// Basket affinity: FP-growth and rules against the published Groceries figures (arules), a
// worked example from the FP-growth paper, brute-force counting on random data, and PairCounter
// against MineRules, recounting and its own saved state.

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "stdlib/affinity.hpp"

using aisle::stdlib::AffinityOptions;
using aisle::stdlib::Basket;
using aisle::stdlib::Fraction;
using aisle::stdlib::ItemDictionary;
using aisle::stdlib::ItemId;
using aisle::stdlib::Itemset;
using aisle::stdlib::PairCounter;
using aisle::stdlib::Rule;

namespace {

struct Groceries {
  ItemDictionary dictionary;
  std::vector<Basket> baskets;
};

const Groceries& LoadGroceries() {
  static const Groceries groceries = [] {
    Groceries g;
    std::ifstream in(std::string(AISLE_TEST_DATA) + "/groceries/groceries.csv", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    g.baskets = aisle::stdlib::ParseBaskets(text.str(), g.dictionary);
    return g;
  }();
  return groceries;
}

std::vector<ItemId> Ids(const ItemDictionary& d, std::vector<std::string> names) {
  std::vector<ItemId> ids;
  for (const std::string& n : names) {
    auto id = d.Find(n);
    REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

AffinityOptions Options(Fraction support, Fraction confidence, size_t max_length = 0) {
  AffinityOptions o;
  o.min_support = support;
  o.min_confidence = confidence;
  o.max_length = max_length;
  return o;
}

// Random baskets over `items` items, each item in a basket with its own probability so that some
// items are frequent and some rare.
std::vector<Basket> RandomBaskets(std::mt19937_64& rng, size_t baskets, uint32_t items) {
  std::vector<double> p(items);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (double& x : p) x = 0.1 + 0.7 * u(rng);
  std::vector<Basket> out(baskets);
  for (Basket& b : out) {
    for (uint32_t i = 0; i < items; ++i) {
      if (u(rng) < p[i]) b.push_back(i);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("exact fractions and thresholds", "[affinity]") {
  auto f = aisle::stdlib::ParseFraction("0.001");
  REQUIRE(f);
  CHECK(f->numerator == 1);
  CHECK(f->denominator == 1000);
  f = aisle::stdlib::ParseFraction("0.50");
  REQUIRE(f);
  CHECK(f->numerator == 1);
  CHECK(f->denominator == 2);
  f = aisle::stdlib::ParseFraction("1");
  REQUIRE(f);
  CHECK(f->numerator == 1);
  CHECK(f->denominator == 1);
  f = aisle::stdlib::ParseFraction(".25");
  REQUIRE(f);
  CHECK(f->numerator == 1);
  CHECK(f->denominator == 4);
  for (const char* bad :
       {"", ".", "-0.1", "1e-3", "0.1.2", "abc", " 0.1", "0.1234567890123456789"}) {
    CHECK_FALSE(aisle::stdlib::ParseFraction(bad));
  }
  // 0.001 x 9835 = 9.835: a count of 10 is the least that qualifies, 9 does not.
  CHECK(aisle::stdlib::MinCount({1, 1000}, 9835) == 10);
  CHECK(aisle::stdlib::AtLeast(10, 9835, {1, 1000}));
  CHECK_FALSE(aisle::stdlib::AtLeast(9, 9835, {1, 1000}));
  // Exactly on the threshold is in: 0.002 x 9835 = 19.67 -> 20; 0.5 x 8 = 4.
  CHECK(aisle::stdlib::MinCount({2, 1000}, 9835) == 20);
  CHECK(aisle::stdlib::AtLeast(4, 8, {1, 2}));
  CHECK_FALSE(aisle::stdlib::AtLeast(3, 8, {1, 2}));
  CHECK(aisle::stdlib::MinCount({0, 1}, 100) == 0);
  CHECK(aisle::stdlib::CheckOptions(Options({1, 0}, {1, 2})) != "");
  CHECK(aisle::stdlib::MineRules({{0, 1}}, Options({1, 0}, {1, 2})).empty());
}

TEST_CASE("baskets parse one a line, sorted and without duplicates", "[affinity]") {
  ItemDictionary d;
  auto baskets = aisle::stdlib::ParseBaskets("milk,bread\r\n\nbread,eggs,bread,,milk\nsoda", d);
  REQUIRE(baskets.size() == 3);
  CHECK(d.size() == 4);
  CHECK(d.Name(0) == "milk");
  CHECK(d.Name(1) == "bread");
  CHECK(d.Name(2) == "eggs");
  CHECK(baskets[0] == Basket{0, 1});
  CHECK(baskets[1] == Basket{0, 1, 2});
  CHECK(baskets[2] == Basket{3});
  CHECK_FALSE(d.Find("butter"));
}

TEST_CASE("FP-growth finds the frequent patterns of the FP-growth paper's example", "[affinity]") {
  // Han, Pei, Yin (SIGMOD 2000), Table 1, minimum support 3 of 5 transactions. Frequent items
  // f:4 c:4 a:3 b:3 m:3 p:3; the paper's Table 2 lists the patterns by suffix item:
  //   p: p:3, cp:3                 m: m:3, am:3, cm:3, fm:3, cam:3, fam:3, fcm:3, fcam:3
  //   b: b:3                       a: a:3, fa:3, ca:3, fca:3
  //   c: c:4, fc:3                 f: f:4
  ItemDictionary d;
  auto baskets = aisle::stdlib::ParseBaskets(
      "f,a,c,d,g,i,m,p\na,b,c,f,l,m,o\nb,f,h,j,o\nb,c,k,s,p\na,f,c,e,l,p,m,n\n", d);
  auto sets = aisle::stdlib::FrequentItemsets(baskets, Options({3, 5}, {0, 1}));
  std::map<std::string, uint64_t> found;
  for (const Itemset& s : sets) {
    std::string name;
    for (ItemId i : s.items) name += d.Name(i);
    std::sort(name.begin(), name.end());
    found[name] = s.count;
  }
  std::map<std::string, uint64_t> expected = {
      {"p", 3},   {"cp", 3},  {"m", 3},   {"am", 3},   {"cm", 3}, {"fm", 3},
      {"acm", 3}, {"afm", 3}, {"cfm", 3}, {"acfm", 3}, {"b", 3},  {"a", 3},
      {"af", 3},  {"ac", 3},  {"acf", 3}, {"c", 4},    {"cf", 3}, {"f", 4}};
  CHECK(found == expected);
  CHECK(sets.size() == 18);
  // Capped at two items: the 6 singletons and the 7 pairs fc fa ca fm cm am cp.
  CHECK(aisle::stdlib::FrequentItemsets(baskets, Options({3, 5}, {0, 1}, 2)).size() == 13);
}

TEST_CASE("rule measures on a hand-counted example", "[affinity]") {
  // Items a=0 b=1 c=2 over 4 baskets {a,b} {a,b} {a} {b,c}: count(a)=3 count(b)=3 count(c)=1.
  std::vector<Basket> baskets = {{0, 1}, {0, 1}, {0}, {1, 2}};
  auto rules = aisle::stdlib::MineRules(baskets, Options({1, 4}, {1, 2}));
  // Pairs: ab=2 (support 1/2), bc=1 (support 1/4). Rules with confidence >= 1/2:
  //   a=>b 2/3, b=>a 2/3, c=>b 1/1; b=>c is 1/3, out.
  REQUIRE(rules.size() == 3);
  const Rule& ab = rules[0];
  CHECK(ab.antecedent == std::vector<ItemId>{0});
  CHECK(ab.consequent == 1);
  CHECK(ab.count == 2);
  CHECK(ab.antecedent_count == 3);
  CHECK(ab.consequent_count == 3);
  CHECK(ab.baskets == 4);
  CHECK(ab.support == Approx(0.5));
  CHECK(ab.confidence == Approx(2.0 / 3.0));
  CHECK(ab.lift == Approx(8.0 / 9.0));   // (2/3) / (3/4)
  CHECK(ab.conviction == Approx(0.75));  // (1 - 3/4) / (1 - 2/3)
  CHECK(rules[1].antecedent == std::vector<ItemId>{1});
  CHECK(rules[1].consequent == 0);
  const Rule& cb = rules[2];
  CHECK(cb.antecedent == std::vector<ItemId>{2});
  CHECK(cb.consequent == 1);
  CHECK(cb.confidence == 1.0);
  CHECK(cb.lift == Approx(4.0 / 3.0));  // 1 / (3/4)
  CHECK(cb.ConvictionIsInfinite());
  CHECK(std::isinf(cb.conviction));
  // Top by lift: c=>b (4/3) first; a=>b and b=>a tie on lift, confidence and support, so the
  // antecedent decides: {a} before {b}.
  auto top = aisle::stdlib::TopByLift(rules, 2);
  REQUIRE(top.size() == 2);
  CHECK(top[0] == cb);
  CHECK(top[1] == ab);
  CHECK(aisle::stdlib::TopByLift(rules, 10).size() == 3);
}

TEST_CASE("TopByLift breaks lift ties by confidence, then support", "[affinity]") {
  // Same lift 2 from different counts (lift = n N / (a c)), N = 100:
  //   r1: n=10 a=20 c=25 -> confidence 1/2, support 1/10
  //   r2: n=20 a=40 c=25 -> confidence 1/2, support 1/5
  //   r3: n=15 a=25 c=30 -> confidence 3/5, support 3/20
  using aisle::stdlib::MakeRule;
  Rule r1 = MakeRule({1}, 9, 10, 20, 25, 100);
  Rule r2 = MakeRule({2}, 9, 20, 40, 25, 100);
  Rule r3 = MakeRule({3}, 9, 15, 25, 30, 100);
  Rule r4 = MakeRule({4}, 9, 1, 1, 1, 100);  // lift 100
  auto top = aisle::stdlib::TopByLift({r1, r2, r3, r4}, 4);
  REQUIRE(top.size() == 4);
  CHECK(top[0] == r4);
  CHECK(top[1] == r3);
  CHECK(top[2] == r2);
  CHECK(top[3] == r1);
}

TEST_CASE("Groceries: baskets, items and the most frequent items", "[affinity][groceries]") {
  const Groceries& g = LoadGroceries();
  REQUIRE(g.baskets.size() == 9835);
  CHECK(g.dictionary.size() == 169);
  auto top = aisle::stdlib::TopItems(g.baskets, 5);
  REQUIRE(top.size() == 5);
  const std::vector<std::pair<std::string, uint64_t>> expected = {{"whole milk", 2513},
                                                                  {"other vegetables", 1903},
                                                                  {"rolls/buns", 1809},
                                                                  {"soda", 1715},
                                                                  {"yogurt", 1372}};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(g.dictionary.Name(top[i].item) == expected[i].first);
    CHECK(top[i].count == expected[i].second);
  }
}

TEST_CASE("Groceries: rule counts by length match the published arules figures",
          "[affinity][groceries]") {
  const Groceries& g = LoadGroceries();
  struct Row {
    Fraction support;
    Fraction confidence;
    size_t rules;
    std::vector<size_t> by_length;  // 2, 3, 4, 5, 6 items
  };
  // /work/shared/data/README.md, "groceries": apriori, both thresholds inclusive.
  const std::vector<Row> rows = {
      {{1, 1000}, {1, 2}, 5668, {11, 1461, 3211, 939, 46}},
      {{1, 1000}, {9, 10}, 129, {0, 10, 57, 56, 6}},
      {{1, 1000}, {1, 4}, 17391, {367, 6906, 8371, 1687, 60}},
      {{2, 1000}, {1, 2}, 1098, {6, 576, 471, 45, 0}},
      {{3, 1000}, {1, 2}, 421, {5, 281, 128, 7, 0}},
      {{6, 1000}, {1, 4}, 463, {150, 297, 16, 0, 0}},
  };
  for (const Row& row : rows) {
    INFO("support " << row.support.numerator << "/" << row.support.denominator << ", confidence "
                    << row.confidence.numerator << "/" << row.confidence.denominator);
    auto rules = aisle::stdlib::MineRules(g.baskets, Options(row.support, row.confidence));
    std::vector<size_t> by_length(5, 0);
    size_t longer = 0;
    for (const Rule& r : rules) {
      if (r.length() >= 2 && r.length() <= 6) {
        ++by_length[r.length() - 2];
      } else {
        ++longer;
      }
    }
    CHECK(rules.size() == row.rules);
    CHECK(by_length == row.by_length);
    CHECK(longer == 0);
  }
}

TEST_CASE("Groceries: the top rule by lift at support 0.001, confidence 0.5",
          "[affinity][groceries]") {
  const Groceries& g = LoadGroceries();
  auto rules = aisle::stdlib::MineRules(g.baskets, Options({1, 1000}, {1, 2}));
  auto top = aisle::stdlib::TopByLift(rules, 1);
  REQUIRE(top.size() == 1);
  const Rule& r = top[0];
  // Published: {Instant food products, soda} => {hamburger meat}, support 0.001220 (12 baskets),
  // confidence 0.6316, lift 18.996.
  CHECK(r.antecedent == Ids(g.dictionary, {"Instant food products", "soda"}));
  CHECK(r.consequent == *g.dictionary.Find("hamburger meat"));
  CHECK(r.count == 12);
  CHECK(std::round(r.support * 1e6) == 1220);
  CHECK(std::round(r.confidence * 1e4) == 6316);
  CHECK(std::round(r.lift * 1e3) == 18996);
}

TEST_CASE("FP-growth equals brute-force counting on random small data sets", "[affinity]") {
  std::mt19937_64 rng(20240611);
  for (int round = 0; round < 200; ++round) {
    uint32_t items = std::uniform_int_distribution<uint32_t>(4, 10)(rng);
    size_t n = std::uniform_int_distribution<size_t>(5, 40)(rng);
    auto baskets = RandomBaskets(rng, n, items);
    Fraction support{std::uniform_int_distribution<uint64_t>(0, 60)(rng), 100};
    Fraction confidence{std::uniform_int_distribution<uint64_t>(0, 100)(rng), 100};
    size_t max_length = std::uniform_int_distribution<size_t>(0, 4)(rng);
    INFO("round " << round);

    // Brute force: every non-empty subset of the items, as a bit mask, counted on every basket.
    std::vector<uint32_t> masks;
    for (const Basket& b : baskets) {
      uint32_t m = 0;
      for (ItemId i : b) m |= 1u << i;
      masks.push_back(m);
    }
    std::vector<uint64_t> count(1u << items, 0);
    for (uint32_t s = 1; s < (1u << items); ++s) {
      for (uint32_t m : masks) count[s] += (m & s) == s ? 1 : 0;
    }
    auto frequent = [&](uint32_t s) {
      size_t len = static_cast<size_t>(std::popcount(s));
      return count[s] > 0 && (max_length == 0 || len <= max_length) &&
             count[s] * support.denominator >= support.numerator * n;
    };
    auto items_of = [](uint32_t s) {
      std::vector<ItemId> v;
      for (ItemId i = 0; i < 32; ++i) {
        if (s >> i & 1) v.push_back(i);
      }
      return v;
    };
    std::map<std::vector<ItemId>, uint64_t> expected_sets;
    std::map<std::pair<std::vector<ItemId>, ItemId>, uint64_t> expected_rules;
    for (uint32_t s = 1; s < (1u << items); ++s) {
      if (!frequent(s)) continue;
      expected_sets[items_of(s)] = count[s];
      if (std::popcount(s) < 2) continue;
      for (ItemId y = 0; y < items; ++y) {
        if (!(s >> y & 1)) continue;
        uint32_t x = s & ~(1u << y);
        if (count[s] * confidence.denominator >= confidence.numerator * count[x]) {
          expected_rules[{items_of(x), y}] = count[s];
        }
      }
    }

    AffinityOptions options = Options(support, confidence, max_length);
    std::map<std::vector<ItemId>, uint64_t> got_sets;
    for (const Itemset& s : aisle::stdlib::FrequentItemsets(baskets, options)) {
      got_sets[s.items] = s.count;
    }
    CHECK(got_sets == expected_sets);
    std::map<std::pair<std::vector<ItemId>, ItemId>, uint64_t> got_rules;
    for (const Rule& r : aisle::stdlib::MineRules(baskets, options)) {
      got_rules[{r.antecedent, r.consequent}] = r.count;
      uint32_t x = 0;
      for (ItemId i : r.antecedent) x |= 1u << i;
      CHECK(r.antecedent_count == count[x]);
      CHECK(r.consequent_count == count[1u << r.consequent]);
      CHECK(r.baskets == n);
    }
    CHECK(got_rules == expected_rules);
  }
}

TEST_CASE("PairCounter yields MineRules' rules of two items", "[affinity][pairs]") {
  std::mt19937_64 rng(77);
  for (int round = 0; round < 60; ++round) {
    INFO("round " << round);
    uint32_t items = std::uniform_int_distribution<uint32_t>(2, 30)(rng);
    size_t n = std::uniform_int_distribution<size_t>(0, 150)(rng);
    auto baskets = RandomBaskets(rng, n, items);
    AffinityOptions options =
        Options({std::uniform_int_distribution<uint64_t>(0, 40)(rng), 100},
                {std::uniform_int_distribution<uint64_t>(0, 100)(rng), 100}, 2);
    PairCounter counter;
    std::map<std::pair<ItemId, ItemId>, uint64_t> together;
    for (const Basket& b : baskets) {
      counter.Add(b);
      for (size_t i = 0; i < b.size(); ++i) {
        for (size_t j = i + 1; j < b.size(); ++j) ++together[{b[i], b[j]}];
      }
    }
    CHECK(counter.baskets() == n);
    CHECK(counter.pair_entries() == together.size());
    for (auto [pair, count] : together) CHECK(counter.PairCount(pair.second, pair.first) == count);
    CHECK(counter.Rules(options) == aisle::stdlib::MineRules(baskets, options));
    CHECK(counter.TopByLift(options, 5) ==
          aisle::stdlib::TopByLift(aisle::stdlib::MineRules(baskets, options), 5));
  }
}

TEST_CASE("PairCounter on Groceries has the published counts of two-item rules",
          "[affinity][pairs][groceries]") {
  const Groceries& g = LoadGroceries();
  PairCounter counter;
  for (const Basket& b : g.baskets) counter.Add(b);
  // README: 11 rules of two items at 0.001 / 0.5, 367 at 0.001 / 0.25, 150 at 0.006 / 0.25.
  CHECK(counter.Rules(Options({1, 1000}, {1, 2})).size() == 11);
  CHECK(counter.Rules(Options({1, 1000}, {1, 4})).size() == 367);
  CHECK(counter.Rules(Options({6, 1000}, {1, 4})).size() == 150);
  CHECK(counter.ItemCount(*g.dictionary.Find("whole milk")) == 2513);
}

TEST_CASE("PairCounter adds and removes like recounting the window", "[affinity][pairs]") {
  std::mt19937_64 rng(5150);
  auto pool = RandomBaskets(rng, 300, 12);
  std::vector<Basket> window;
  PairCounter counter;
  // Steps 0-450 add (two in three) or remove a random basket of the window; then it drains.
  for (int step = 0; step < 600; ++step) {
    bool drain = step > 450;
    if (drain && window.empty()) break;
    bool add = !drain && (window.empty() || std::uniform_int_distribution<int>(0, 2)(rng) > 0);
    if (add) {
      const Basket& b = pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
      counter.Add(b);
      window.push_back(b);
    } else {
      size_t i = std::uniform_int_distribution<size_t>(0, window.size() - 1)(rng);
      REQUIRE(counter.Remove(window[i]));
      window.erase(window.begin() + static_cast<std::ptrdiff_t>(i));
    }
    PairCounter recount;
    for (const Basket& b : window) recount.Add(b);
    REQUIRE(counter == recount);
  }
  CHECK(window.empty());
  CHECK(counter.baskets() == 0);
  CHECK(counter.item_entries() == 0);
  CHECK(counter.pair_entries() == 0);

  // A basket that was never added is refused, and nothing changes.
  counter.Add({1, 2});
  PairCounter before = counter;
  CHECK_FALSE(counter.Remove({1, 3}));
  CHECK_FALSE(counter.Remove({4}));
  CHECK(counter == before);
  // Unsorted input with duplicates counts as its normalized basket.
  counter.Add({3, 1, 3});
  CHECK(counter.PairCount(1, 3) == 1);
  CHECK(counter.ItemCount(3) == 1);
  CHECK(counter.Remove({1, 3}));
  CHECK(counter == before);
}

TEST_CASE("PairCounter state saves and loads", "[affinity][pairs]") {
  std::mt19937_64 rng(99);
  auto baskets = RandomBaskets(rng, 80, 15);
  PairCounter counter;
  for (const Basket& b : baskets) counter.Add(b);
  std::string bytes = counter.Save();
  PairCounter loaded;
  std::string error;
  REQUIRE(loaded.Load(bytes, error));
  CHECK(error.empty());
  CHECK(loaded == counter);
  CHECK(loaded.Save() == bytes);
  // The bytes depend on the counts only, not on the order baskets came in.
  std::shuffle(baskets.begin(), baskets.end(), rng);
  PairCounter shuffled;
  for (const Basket& b : baskets) shuffled.Add(b);
  CHECK(shuffled.Save() == bytes);
  // An empty counter round-trips too.
  PairCounter empty;
  REQUIRE(loaded.Load(PairCounter().Save(), error));
  CHECK(loaded == empty);
}

TEST_CASE("PairCounter Load rejects garbage and keeps its state", "[affinity][pairs]") {
  PairCounter counter;
  counter.Add({0, 1, 2});
  counter.Add({1, 2});
  counter.Add({5});
  const std::string good = counter.Save();
  PairCounter target;
  target.Add({7, 8});
  const PairCounter original = target;
  std::string error;

  // Every proper prefix, and a trailing byte, are refused.
  for (size_t len = 0; len < good.size(); ++len) {
    error.clear();
    CHECK_FALSE(target.Load(good.substr(0, len), error));
    CHECK_FALSE(error.empty());
  }
  CHECK_FALSE(target.Load(good + '\0', error));
  // Another version is refused.
  std::string other_version = good;
  other_version[5] = 2;
  CHECK_FALSE(target.Load(other_version, error));
  CHECK(error.find("version") != std::string::npos);
  CHECK(target == original);

  // Any single flipped byte is refused or loads a consistent state (one that saves back to the
  // same bytes); it never crashes.
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      PairCounter c = original;
      if (c.Load(bad, error)) {
        CHECK(c.Save() == bad);
      } else {
        CHECK(c == original);
      }
    }
  }
  // Random bytes, with and without a valid header.
  std::mt19937_64 rng(4242);
  for (int i = 0; i < 2000; ++i) {
    size_t len = std::uniform_int_distribution<size_t>(0, 80)(rng);
    std::string junk(len, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 1) junk = good.substr(0, 14) + junk;
    PairCounter c = original;
    if (!c.Load(junk, error)) CHECK(c == original);
  }
  // Counts that contradict each other: a pair seen more often than one of its items.
  std::string inconsistent = good;
  inconsistent[inconsistent.size() - 1] = 9;  // last pair's count, 1 -> 9
  CHECK_FALSE(target.Load(inconsistent, error));
  CHECK(target == original);
}

TEST_CASE("Rules do not depend on basket order or on sharding", "[affinity][invariance]") {
  std::mt19937_64 rng(31337);
  const Groceries& g = LoadGroceries();
  AffinityOptions options = Options({3, 1000}, {1, 2});
  auto expected = aisle::stdlib::MineRules(g.baskets, options);
  REQUIRE(expected.size() == 421);
  std::vector<Basket> shuffled = g.baskets;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  CHECK(aisle::stdlib::MineRules(shuffled, options) == expected);
  CHECK(aisle::stdlib::FrequentItemsets(shuffled, options) ==
        aisle::stdlib::FrequentItemsets(g.baskets, options));

  // PairCounter: one counter for everything vs random-sized batches spread over 1..8 shards,
  // merged in a shuffled order.
  PairCounter whole;
  for (const Basket& b : g.baskets) whole.Add(b);
  AffinityOptions pairs = Options({1, 1000}, {1, 4});
  auto whole_rules = whole.Rules(pairs);
  for (int round = 0; round < 5; ++round) {
    size_t shards = std::uniform_int_distribution<size_t>(1, 8)(rng);
    std::vector<PairCounter> counters(shards);
    size_t at = 0;
    while (at < shuffled.size()) {
      size_t batch = std::uniform_int_distribution<size_t>(1, 700)(rng);
      PairCounter& c = counters[std::uniform_int_distribution<size_t>(0, shards - 1)(rng)];
      for (size_t end = std::min(shuffled.size(), at + batch); at < end; ++at) c.Add(shuffled[at]);
    }
    std::shuffle(counters.begin(), counters.end(), rng);
    PairCounter merged;
    for (const PairCounter& c : counters) merged.Merge(c);
    CHECK(merged == whole);
    CHECK(merged.Rules(pairs) == whole_rules);
    CHECK(merged.Save() == whole.Save());
  }
}
