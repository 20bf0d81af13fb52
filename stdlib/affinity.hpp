#pragma once
// Basket affinity: frequent itemsets by FP-growth (Han, Pei, Yin 2000), association rules
// X => {y} as arules' apriori defines them, and an incremental pair counter for windows.
//
// The core knows nothing of the engine: baskets are sorted vectors of dense item ids, thresholds
// are exact fractions compared on integer counts (support >= 0.001 over 9,835 baskets means a
// count >= 10; confidence >= 0.5 keeps the rules that sit exactly on 0.5). Every function is
// deterministic for a given input and never throws out of this module. Nothing here is shared
// between threads: use one object per thread, or copy.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aisle::stdlib {

// A dense item id; ItemDictionary hands them out from 0.
using ItemId = uint32_t;

// One basket: item ids sorted ascending, without duplicates (see NormalizeBasket).
using Basket = std::vector<ItemId>;

// Sorts the basket and drops duplicate items, in place. The functions below that take baskets
// accept unnormalized ones too (they normalize a copy), at some cost.
void NormalizeBasket(Basket& basket);

// Maps item names to dense ids (first seen, first numbered) and back. Names are kept verbatim.
class ItemDictionary {
 public:
  // The id of `name`, adding it if new.
  ItemId Intern(std::string_view name);
  // The id of `name`, if known.
  std::optional<ItemId> Find(std::string_view name) const;
  // The name of `id`; `id` must be below size().
  const std::string& Name(ItemId id) const { return names_[id]; }
  // Number of distinct items.
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<std::string, ItemId> ids_;
  std::vector<std::string> names_;
};

// Parses one basket a line, items separated by `separator` (no quoting; items kept verbatim,
// empty items skipped, a trailing '\r' dropped). Blank lines are skipped, not counted as baskets.
// Each basket comes back normalized; new names are added to `dictionary`.
std::vector<Basket> ParseBaskets(std::string_view text, ItemDictionary& dictionary,
                                 char separator = ',');

// An exact non-negative fraction numerator / denominator (denominator > 0), for thresholds.
struct Fraction {
  uint64_t numerator = 0;    // e.g. 1 for 0.001 with denominator 1000
  uint64_t denominator = 1;  // must not be 0
};

// Parses a plain decimal ("0.001", "0.5", "1", ".25") into an exact Fraction (at most 18
// digits after the point); nullopt on anything else (signs, exponents, junk).
std::optional<Fraction> ParseFraction(std::string_view text);

// Whether count / total >= fraction, exactly (no rounding).
bool AtLeast(uint64_t count, uint64_t total, Fraction fraction);

// The smallest count c with c / total >= fraction, i.e. ceil(fraction * total).
uint64_t MinCount(Fraction fraction, uint64_t total);

// Options of MineRules / FrequentItemsets / PairCounter::Rules.
struct AffinityOptions {
  // Inclusive minimum support of the whole rule X u {y} (and of an itemset): count / baskets.
  // Default 0.001. An itemset is never reported with a count of 0, even for a support of 0.
  Fraction min_support{1, 1000};
  // Inclusive minimum confidence count(X u {y}) / count(X). Default 0.5.
  Fraction min_confidence{1, 2};
  // Largest itemset (so largest rule, antecedent plus consequent) mined; 0 = unbounded (default).
  size_t max_length = 0;
};

// Empty when `options` are usable, else why not (a zero denominator).
std::string CheckOptions(const AffinityOptions& options);

// A frequent itemset and the number of baskets that contain it.
struct Itemset {
  std::vector<ItemId> items;  // sorted ascending
  uint64_t count = 0;
  friend bool operator==(const Itemset&, const Itemset&) = default;
};

// Every itemset with support >= options.min_support (and at most options.max_length items),
// by FP-growth. Order: by length, then items lexicographically. Empty if the options are invalid.
std::vector<Itemset> FrequentItemsets(const std::vector<Basket>& baskets,
                                      const AffinityOptions& options);

// An association rule X => {y}, with its counts and the measures arules reports.
struct Rule {
  std::vector<ItemId> antecedent;  // X, sorted ascending, never empty
  ItemId consequent = 0;           // y, not in X
  uint64_t count = 0;              // baskets containing X u {y}
  uint64_t antecedent_count = 0;   // baskets containing X
  uint64_t consequent_count = 0;   // baskets containing y
  uint64_t baskets = 0;            // all baskets (N), empty ones included
  double support = 0;              // count / N
  double confidence = 0;           // count / antecedent_count
  double lift = 0;                 // confidence / (consequent_count / N)
  double conviction = 0;           // (1 - consequent_count / N) / (1 - confidence); +inf at
                                   // confidence 1 (see ConvictionIsInfinite)
  // Number of items in the rule, |X| + 1.
  size_t length() const { return antecedent.size() + 1; }
  // Whether the conviction is infinite (confidence exactly 1).
  bool ConvictionIsInfinite() const { return count == antecedent_count; }
  friend bool operator==(const Rule&, const Rule&) = default;
};

// Builds a Rule from its counts, filling in the measures.
Rule MakeRule(std::vector<ItemId> antecedent, ItemId consequent, uint64_t count,
              uint64_t antecedent_count, uint64_t consequent_count, uint64_t baskets);

// Every rule X => {y} (|X| >= 1) whose itemset X u {y} meets min_support and whose confidence
// meets min_confidence. Order: by length, then antecedent lexicographically, then consequent.
// Empty if the options are invalid.
std::vector<Rule> MineRules(const std::vector<Basket>& baskets, const AffinityOptions& options);

// Strict weak order "ranks before" of TopByLift: higher lift, then higher confidence, then higher
// support (all compared exactly on counts), then antecedent, then consequent ascending.
bool RanksBefore(const Rule& a, const Rule& b);

// The `k` rules ranked first by RanksBefore (all of them, ranked, if fewer).
std::vector<Rule> TopByLift(std::vector<Rule> rules, size_t k);

// An item and the number of baskets that contain it.
struct ItemCount {
  ItemId item = 0;
  uint64_t count = 0;
  friend bool operator==(const ItemCount&, const ItemCount&) = default;
};

// The `k` most frequent items, by count descending then id ascending.
std::vector<ItemCount> TopItems(const std::vector<Basket>& baskets, size_t k);

// Item and pair counts of a changing set of baskets (a window that opens and closes), yielding
// pair rules {a} => {b} on demand. Stores only pairs currently seen together; a basket of k items
// costs k (k - 1) / 2 pair updates. Not thread-safe.
class PairCounter {
 public:
  // Counts a basket (normalized on a copy if it is not sorted and unique).
  void Add(const Basket& basket);
  // Uncounts a basket added before. Returns false, changing nothing, if its items or pairs are
  // not counted (a basket never added); a different basket with the same items is not detected.
  bool Remove(const Basket& basket);
  // Adds another counter's counts to this one (shards merged into one window).
  void Merge(const PairCounter& other);
  // Forgets everything.
  void Clear();

  // Number of baskets counted (N), empty ones included.
  uint64_t baskets() const { return baskets_; }
  // Baskets containing `item`.
  uint64_t ItemCount(ItemId item) const;
  // Baskets containing both `a` and `b` (in either order; 0 when a == b is not counted).
  uint64_t PairCount(ItemId a, ItemId b) const;
  // Number of distinct items / pairs currently held.
  size_t item_entries() const { return items_.size(); }
  size_t pair_entries() const { return pairs_.size(); }

  // Pair rules in both directions meeting the options (max_length is ignored), in MineRules'
  // order. Empty if the options are invalid.
  std::vector<Rule> Rules(const AffinityOptions& options) const;
  // The `k` best of Rules(options) by TopByLift's order.
  std::vector<Rule> TopByLift(const AffinityOptions& options, size_t k) const;

  // Versioned, length-prefixed binary state, identical for identical counts.
  std::string Save() const;
  // Restores a state written by Save. On malformed input returns false with `error` set and
  // leaves this counter unchanged.
  bool Load(std::string_view bytes, std::string& error);

  friend bool operator==(const PairCounter&, const PairCounter&) = default;

 private:
  uint64_t baskets_ = 0;
  std::unordered_map<ItemId, uint64_t> items_;
  std::unordered_map<uint64_t, uint64_t> pairs_;  // (low id << 32 | high id) -> count
};

}  // namespace aisle::stdlib
