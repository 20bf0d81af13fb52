// Frequent itemsets by FP-growth and association rules; the exact threshold arithmetic they share
// with PairCounter (affinity_pairs.cpp).

#include "stdlib/affinity.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <utility>

#include "stdlib/affinity_internal.hpp"

namespace aisle::stdlib {

void NormalizeBasket(Basket& basket) {
  std::sort(basket.begin(), basket.end());
  basket.erase(std::unique(basket.begin(), basket.end()), basket.end());
}

ItemId ItemDictionary::Intern(std::string_view name) {
  auto [it, inserted] = ids_.try_emplace(std::string(name), static_cast<ItemId>(names_.size()));
  if (inserted) names_.emplace_back(name);
  return it->second;
}

std::optional<ItemId> ItemDictionary::Find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<Basket> ParseBaskets(std::string_view text, ItemDictionary& dictionary,
                                 char separator) {
  std::vector<Basket> baskets;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    Basket basket;
    while (true) {
      size_t cut = line.find(separator);
      std::string_view item = line.substr(0, cut);
      if (!item.empty()) basket.push_back(dictionary.Intern(item));
      if (cut == std::string_view::npos) break;
      line.remove_prefix(cut + 1);
    }
    NormalizeBasket(basket);
    baskets.push_back(std::move(basket));
  }
  return baskets;
}

std::optional<Fraction> ParseFraction(std::string_view text) {
  constexpr size_t kMaxDigits = 18;  // 10^18 < 2^63: numerator and denominator fit
  size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view decimals =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty() && decimals.empty()) return std::nullopt;
  if (whole.size() + decimals.size() > kMaxDigits) return std::nullopt;
  Fraction f{0, 1};
  for (std::string_view part : {whole, decimals}) {
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      f.numerator = f.numerator * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  for (size_t i = 0; i < decimals.size(); ++i) f.denominator *= 10;
  uint64_t g = std::gcd(f.numerator, f.denominator);
  f.numerator /= g;
  f.denominator /= g;
  return f;
}

bool AtLeast(uint64_t count, uint64_t total, Fraction fraction) {
  return static_cast<internal::U128>(count) * fraction.denominator >=
         static_cast<internal::U128>(fraction.numerator) * total;
}

uint64_t MinCount(Fraction fraction, uint64_t total) {
  if (fraction.denominator == 0) return std::numeric_limits<uint64_t>::max();
  internal::U128 product = static_cast<internal::U128>(fraction.numerator) * total;
  internal::U128 count = (product + fraction.denominator - 1) / fraction.denominator;
  if (count > std::numeric_limits<uint64_t>::max()) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(count);
}

std::string CheckOptions(const AffinityOptions& options) {
  if (options.min_support.denominator == 0) return "min_support has a zero denominator";
  if (options.min_confidence.denominator == 0) return "min_confidence has a zero denominator";
  return {};
}

Rule MakeRule(std::vector<ItemId> antecedent, ItemId consequent, uint64_t count,
              uint64_t antecedent_count, uint64_t consequent_count, uint64_t baskets) {
  Rule r;
  r.antecedent = std::move(antecedent);
  r.consequent = consequent;
  r.count = count;
  r.antecedent_count = antecedent_count;
  r.consequent_count = consequent_count;
  r.baskets = baskets;
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  if (baskets > 0) r.support = d(count) / d(baskets);
  if (antecedent_count > 0) r.confidence = d(count) / d(antecedent_count);
  if (antecedent_count > 0 && consequent_count > 0) {
    r.lift = d(count) * d(baskets) / (d(antecedent_count) * d(consequent_count));
  }
  if (count >= antecedent_count) {
    r.conviction = std::numeric_limits<double>::infinity();
  } else if (baskets > 0) {
    // (1 - c/N) / (1 - n/a), written on the counts so that only the last division rounds.
    r.conviction = d(baskets - std::min(consequent_count, baskets)) * d(antecedent_count) /
                   (d(baskets) * d(antecedent_count - count));
  }
  return r;
}

namespace internal {

int CompareFractions(U128 p, U128 q, U128 r, U128 s) {
  // A zero denominator ranks as the largest value, so that the order stays total.
  if (q == 0 || s == 0) return (q == 0) == (s == 0) ? 0 : (q == 0 ? 1 : -1);
  // Continued-fraction comparison: exact, and no product can overflow.
  while (true) {
    U128 a = p / q;
    U128 b = r / s;
    if (a != b) return a < b ? -1 : 1;
    p -= a * q;
    r -= b * s;
    if (p == 0 || r == 0) return p == r ? 0 : (p == 0 ? -1 : 1);
    // p/q - r/s has the sign of s/r - q/p once both are below 1.
    std::swap(p, s);
    std::swap(q, r);
  }
}

bool RuleOrder(const Rule& a, const Rule& b) {
  if (a.antecedent.size() != b.antecedent.size()) {
    return a.antecedent.size() < b.antecedent.size();
  }
  if (a.antecedent != b.antecedent) return a.antecedent < b.antecedent;
  return a.consequent < b.consequent;
}

}  // namespace internal

bool RanksBefore(const Rule& a, const Rule& b) {
  using internal::U128;
  int lift = internal::CompareFractions(
      U128(a.count) * a.baskets, U128(a.antecedent_count) * a.consequent_count,
      U128(b.count) * b.baskets, U128(b.antecedent_count) * b.consequent_count);
  if (lift != 0) return lift > 0;
  int confidence =
      internal::CompareFractions(a.count, a.antecedent_count, b.count, b.antecedent_count);
  if (confidence != 0) return confidence > 0;
  int support = internal::CompareFractions(a.count, a.baskets, b.count, b.baskets);
  if (support != 0) return support > 0;
  if (a.antecedent != b.antecedent) return a.antecedent < b.antecedent;
  return a.consequent < b.consequent;
}

std::vector<Rule> TopByLift(std::vector<Rule> rules, size_t k) {
  k = std::min(k, rules.size());
  std::partial_sort(rules.begin(), rules.begin() + static_cast<std::ptrdiff_t>(k), rules.end(),
                    RanksBefore);
  rules.resize(k);
  return rules;
}

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// Baskets as given, or normalized copies when some are not sorted and unique.
const std::vector<Basket>& Normalized(const std::vector<Basket>& baskets,
                                      std::vector<Basket>& storage) {
  auto normal = [](const Basket& b) {
    return std::adjacent_find(b.begin(), b.end(), std::greater_equal<>()) == b.end();
  };
  if (std::all_of(baskets.begin(), baskets.end(), normal)) return baskets;
  storage = baskets;
  for (Basket& b : storage) NormalizeBasket(b);
  return storage;
}

// An FP-tree over item ranks (0 = most frequent item). Paths run from the root in ascending
// rank; nodes of one rank are chained from heads_ for the conditional pattern bases.
class FpTree {
 public:
  explicit FpTree(size_t ranks) : heads_(ranks, kNone), totals_(ranks, 0) {
    nodes_.push_back({kNone, kNone, kNone, kNone, kNone, 0});
  }

  // Adds a path of strictly ascending ranks, `count` times.
  void Insert(const std::vector<uint32_t>& path, uint64_t count) {
    uint32_t at = 0;
    for (uint32_t rank : path) {
      uint32_t child = nodes_[at].first_child;
      while (child != kNone && nodes_[child].rank != rank) child = nodes_[child].next_sibling;
      if (child == kNone) {
        child = static_cast<uint32_t>(nodes_.size());
        nodes_.push_back({rank, at, kNone, nodes_[at].first_child, heads_[rank], 0});
        nodes_[at].first_child = child;
        heads_[rank] = child;
      }
      nodes_[child].count += count;
      totals_[rank] += count;
      at = child;
    }
  }

  size_t ranks() const { return heads_.size(); }
  uint64_t Total(uint32_t rank) const { return totals_[rank]; }

  // The conditional FP-tree of `rank`: its prefix paths, weighted by the node counts, keeping
  // only the ranks frequent within them. Ranks above `rank` cannot occur in a prefix.
  FpTree Conditional(uint32_t rank, uint64_t min_count) const {
    std::vector<uint64_t> counts(rank, 0);
    for (uint32_t n = heads_[rank]; n != kNone; n = nodes_[n].next_same) {
      for (uint32_t p = nodes_[n].parent; p != 0; p = nodes_[p].parent) {
        counts[nodes_[p].rank] += nodes_[n].count;
      }
    }
    FpTree tree(rank);
    std::vector<uint32_t> path;
    for (uint32_t n = heads_[rank]; n != kNone; n = nodes_[n].next_same) {
      path.clear();
      for (uint32_t p = nodes_[n].parent; p != 0; p = nodes_[p].parent) {
        if (counts[nodes_[p].rank] >= min_count) path.push_back(nodes_[p].rank);
      }
      if (path.empty()) continue;
      std::reverse(path.begin(), path.end());
      tree.Insert(path, nodes_[n].count);
    }
    return tree;
  }

 private:
  struct Node {
    uint32_t rank;
    uint32_t parent;
    uint32_t first_child;
    uint32_t next_sibling;
    uint32_t next_same;  // next node of the same rank
    uint64_t count;
  };
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<uint32_t> heads_;
  std::vector<uint64_t> totals_;
};

struct Miner {
  uint64_t min_count;
  size_t max_length;  // 0 = unbounded
  const std::vector<ItemId>& item_of_rank;
  std::vector<Itemset>& out;
  std::vector<uint32_t> suffix;  // ranks of the itemset being grown

  // FP-growth: each frequent rank of `tree`, joined to the suffix, is a frequent itemset; its
  // conditional tree holds the itemsets that extend it. Recursion depth is bounded by the
  // itemset length, itself bounded by the number of frequent items.
  void Grow(const FpTree& tree) {
    for (uint32_t rank = static_cast<uint32_t>(tree.ranks()); rank-- > 0;) {
      uint64_t total = tree.Total(rank);
      if (total < min_count) continue;
      suffix.push_back(rank);
      Itemset set;
      set.count = total;
      for (uint32_t r : suffix) set.items.push_back(item_of_rank[r]);
      std::sort(set.items.begin(), set.items.end());
      out.push_back(std::move(set));
      if (max_length == 0 || suffix.size() < max_length) {
        FpTree conditional = tree.Conditional(rank, min_count);
        if (conditional.ranks() > 0) Grow(conditional);
      }
      suffix.pop_back();
    }
  }
};

struct ItemsHash {
  size_t operator()(const std::vector<ItemId>& items) const {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ items.size();
    for (ItemId i : items) h = (h ^ i) * 0x100000001b3ULL + (h >> 29);
    return static_cast<size_t>(h);
  }
};

}  // namespace

std::vector<ItemCount> TopItems(const std::vector<Basket>& input, size_t k) {
  std::vector<Basket> storage;
  const std::vector<Basket>& baskets = Normalized(input, storage);
  std::unordered_map<ItemId, uint64_t> counts;
  for (const Basket& b : baskets) {
    for (ItemId i : b) ++counts[i];
  }
  std::vector<ItemCount> items;
  items.reserve(counts.size());
  for (auto [item, count] : counts) items.push_back({item, count});
  auto order = [](const ItemCount& a, const ItemCount& b) {
    return a.count != b.count ? a.count > b.count : a.item < b.item;
  };
  k = std::min(k, items.size());
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(k), items.end(),
                    order);
  items.resize(k);
  return items;
}

std::vector<Itemset> FrequentItemsets(const std::vector<Basket>& input,
                                      const AffinityOptions& options) {
  std::vector<Itemset> out;
  if (!CheckOptions(options).empty()) return out;
  std::vector<Basket> storage;
  const std::vector<Basket>& baskets = Normalized(input, storage);
  uint64_t min_count = std::max<uint64_t>(1, MinCount(options.min_support, baskets.size()));

  std::vector<ItemCount> frequent = TopItems(baskets, std::numeric_limits<size_t>::max());
  while (!frequent.empty() && frequent.back().count < min_count) frequent.pop_back();
  std::vector<ItemId> item_of_rank;
  std::unordered_map<ItemId, uint32_t> rank_of_item;
  for (const ItemCount& f : frequent) {
    rank_of_item.emplace(f.item, static_cast<uint32_t>(item_of_rank.size()));
    item_of_rank.push_back(f.item);
  }

  FpTree tree(item_of_rank.size());
  std::vector<uint32_t> path;
  for (const Basket& b : baskets) {
    path.clear();
    for (ItemId i : b) {
      auto it = rank_of_item.find(i);
      if (it != rank_of_item.end()) path.push_back(it->second);
    }
    std::sort(path.begin(), path.end());
    if (!path.empty()) tree.Insert(path, 1);
  }

  Miner miner{min_count, options.max_length, item_of_rank, out, {}};
  miner.Grow(tree);
  std::sort(out.begin(), out.end(), [](const Itemset& a, const Itemset& b) {
    return a.items.size() != b.items.size() ? a.items.size() < b.items.size() : a.items < b.items;
  });
  return out;
}

std::vector<Rule> MineRules(const std::vector<Basket>& baskets, const AffinityOptions& options) {
  std::vector<Rule> rules;
  std::vector<Itemset> itemsets = FrequentItemsets(baskets, options);
  std::unordered_map<std::vector<ItemId>, uint64_t, ItemsHash> count_of;
  count_of.reserve(itemsets.size());
  for (const Itemset& s : itemsets) count_of.emplace(s.items, s.count);

  std::vector<ItemId> antecedent;
  for (const Itemset& s : itemsets) {
    if (s.items.size() < 2) continue;
    for (size_t j = 0; j < s.items.size(); ++j) {
      antecedent.assign(s.items.begin(), s.items.end());
      antecedent.erase(antecedent.begin() + static_cast<std::ptrdiff_t>(j));
      // Every subset of a frequent itemset is frequent, so both counts are present.
      auto x = count_of.find(antecedent);
      auto y = count_of.find(std::vector<ItemId>{s.items[j]});
      if (x == count_of.end() || y == count_of.end()) continue;
      if (!AtLeast(s.count, x->second, options.min_confidence)) continue;
      rules.push_back(
          MakeRule(antecedent, s.items[j], s.count, x->second, y->second, baskets.size()));
    }
  }
  std::sort(rules.begin(), rules.end(), internal::RuleOrder);
  return rules;
}

}  // namespace aisle::stdlib
