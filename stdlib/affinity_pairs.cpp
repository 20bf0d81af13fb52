// PairCounter: item and pair counts of a window's baskets, pair rules, and the binary state.

#include <algorithm>
#include <functional>
#include <utility>

#include "stdlib/affinity.hpp"
#include "stdlib/affinity_internal.hpp"

namespace aisle::stdlib {

namespace {

uint64_t PairKey(ItemId a, ItemId b) {
  if (a > b) std::swap(a, b);
  return static_cast<uint64_t>(a) << 32 | b;
}

ItemId Low(uint64_t key) {
  return static_cast<ItemId>(key >> 32);
}
ItemId High(uint64_t key) {
  return static_cast<ItemId>(key & 0xffffffffU);
}

// The basket itself when sorted and unique, else a normalized copy in `storage`.
const Basket& NormalizedBasket(const Basket& basket, Basket& storage) {
  if (std::adjacent_find(basket.begin(), basket.end(), std::greater_equal<>()) == basket.end()) {
    return basket;
  }
  storage = basket;
  NormalizeBasket(storage);
  return storage;
}

// State layout, all integers big-endian:
//   "AFPC" | u16 version (1) | u64 body length | body
//   body = u64 baskets | u64 n_items | n_items x (u32 item, u64 count)
//        | u64 n_pairs | n_pairs x (u32 low item, u32 high item, u64 count)
// Items and pairs ascend strictly, so equal counts give equal bytes.
constexpr char kMagic[4] = {'A', 'F', 'P', 'C'};
constexpr uint16_t kVersion = 1;
constexpr size_t kHeaderSize = 4 + 2 + 8;
constexpr size_t kItemSize = 4 + 8;
constexpr size_t kPairSize = 4 + 4 + 8;

void PutBig(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads big-endian integers off the front of a byte string, failing once it runs short.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Get(uint64_t& v, size_t bytes) {
    if (bytes_.size() < bytes) return false;
    v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(bytes_[i]);
    bytes_.remove_prefix(bytes);
    return true;
  }
  size_t left() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
};

}  // namespace

void PairCounter::Add(const Basket& input) {
  Basket storage;
  const Basket& basket = NormalizedBasket(input, storage);
  ++baskets_;
  for (size_t i = 0; i < basket.size(); ++i) {
    ++items_[basket[i]];
    for (size_t j = i + 1; j < basket.size(); ++j) ++pairs_[PairKey(basket[i], basket[j])];
  }
}

bool PairCounter::Remove(const Basket& input) {
  Basket storage;
  const Basket& basket = NormalizedBasket(input, storage);
  if (baskets_ == 0) return false;
  for (size_t i = 0; i < basket.size(); ++i) {
    if (!items_.contains(basket[i])) return false;
    for (size_t j = i + 1; j < basket.size(); ++j) {
      if (!pairs_.contains(PairKey(basket[i], basket[j]))) return false;
    }
  }
  // Entries at zero are erased: the counter holds only what the window's baskets hold.
  auto decrement = [](auto& map, auto key) {
    auto it = map.find(key);
    if (--it->second == 0) map.erase(it);
  };
  --baskets_;
  for (size_t i = 0; i < basket.size(); ++i) {
    decrement(items_, basket[i]);
    for (size_t j = i + 1; j < basket.size(); ++j) {
      decrement(pairs_, PairKey(basket[i], basket[j]));
    }
  }
  return true;
}

void PairCounter::Merge(const PairCounter& other) {
  baskets_ += other.baskets_;
  for (auto [item, count] : other.items_) items_[item] += count;
  for (auto [key, count] : other.pairs_) pairs_[key] += count;
}

void PairCounter::Clear() {
  baskets_ = 0;
  items_.clear();
  pairs_.clear();
}

uint64_t PairCounter::ItemCount(ItemId item) const {
  auto it = items_.find(item);
  return it == items_.end() ? 0 : it->second;
}

uint64_t PairCounter::PairCount(ItemId a, ItemId b) const {
  if (a == b) return 0;
  auto it = pairs_.find(PairKey(a, b));
  return it == pairs_.end() ? 0 : it->second;
}

std::vector<Rule> PairCounter::Rules(const AffinityOptions& options) const {
  std::vector<Rule> rules;
  if (!CheckOptions(options).empty()) return rules;
  // As in MineRules: an itemset never qualifies with a count of 0.
  uint64_t min_count = std::max<uint64_t>(1, MinCount(options.min_support, baskets_));
  for (auto [key, count] : pairs_) {
    if (count < min_count) continue;
    ItemId a = Low(key);
    ItemId b = High(key);
    uint64_t count_a = ItemCount(a);
    uint64_t count_b = ItemCount(b);
    if (AtLeast(count, count_a, options.min_confidence)) {
      rules.push_back(MakeRule({a}, b, count, count_a, count_b, baskets_));
    }
    if (AtLeast(count, count_b, options.min_confidence)) {
      rules.push_back(MakeRule({b}, a, count, count_b, count_a, baskets_));
    }
  }
  std::sort(rules.begin(), rules.end(), internal::RuleOrder);
  return rules;
}

std::vector<Rule> PairCounter::TopByLift(const AffinityOptions& options, size_t k) const {
  return stdlib::TopByLift(Rules(options), k);
}

std::string PairCounter::Save() const {
  std::vector<std::pair<ItemId, uint64_t>> items(items_.begin(), items_.end());
  std::vector<std::pair<uint64_t, uint64_t>> pairs(pairs_.begin(), pairs_.end());
  std::sort(items.begin(), items.end());
  std::sort(pairs.begin(), pairs.end());
  std::string body;
  body.reserve(24 + items.size() * kItemSize + pairs.size() * kPairSize);
  PutBig(body, baskets_, 8);
  PutBig(body, items.size(), 8);
  for (auto [item, count] : items) {
    PutBig(body, item, 4);
    PutBig(body, count, 8);
  }
  PutBig(body, pairs.size(), 8);
  for (auto [key, count] : pairs) {
    PutBig(body, Low(key), 4);
    PutBig(body, High(key), 4);
    PutBig(body, count, 8);
  }
  std::string out(kMagic, sizeof(kMagic));
  PutBig(out, kVersion, 2);
  PutBig(out, body.size(), 8);
  return out + body;
}

bool PairCounter::Load(std::string_view bytes, std::string& error) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, 4) != std::string_view(kMagic, 4)) {
    error = "pair counter state: not a pair counter state";
    return false;
  }
  Reader in(bytes.substr(4));
  uint64_t version = 0;
  uint64_t length = 0;
  in.Get(version, 2);
  in.Get(length, 8);
  if (version != kVersion) {
    error = "pair counter state: unknown version " + std::to_string(version);
    return false;
  }
  if (length != in.left()) {
    error = "pair counter state: body length " + std::to_string(length) + " but " +
            std::to_string(in.left()) + " bytes follow";
    return false;
  }
  auto fail = [&error](const char* why) {
    error = std::string("pair counter state: ") + why;
    return false;
  };
  PairCounter loaded;
  uint64_t n = 0;
  if (!in.Get(loaded.baskets_, 8) || !in.Get(n, 8)) return fail("truncated header");
  // Checking the size first bounds what a corrupt count can make us allocate.
  if (n > in.left() / kItemSize) return fail("item count exceeds the data");
  loaded.items_.reserve(n);
  uint64_t previous = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t item = 0;
    uint64_t count = 0;
    in.Get(item, 4);
    in.Get(count, 8);
    if (i > 0 && item <= previous) return fail("items not strictly ascending");
    if (count == 0 || count > loaded.baskets_) return fail("item count out of range");
    loaded.items_.emplace(static_cast<ItemId>(item), count);
    previous = item;
  }
  if (!in.Get(n, 8)) return fail("truncated pair count");
  if (n > in.left() / kPairSize || n * kPairSize != in.left()) {
    return fail("pair count does not match the data");
  }
  loaded.pairs_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t low = 0;
    uint64_t high = 0;
    uint64_t count = 0;
    in.Get(low, 4);
    in.Get(high, 4);
    in.Get(count, 8);
    uint64_t key = low << 32 | high;
    if (low >= high) return fail("pair items not ascending");
    if (i > 0 && key <= previous) return fail("pairs not strictly ascending");
    uint64_t bound = std::min(loaded.ItemCount(static_cast<ItemId>(low)),
                              loaded.ItemCount(static_cast<ItemId>(high)));
    if (count == 0 || count > bound) return fail("pair count out of range");
    loaded.pairs_.emplace(key, count);
    previous = key;
  }
  *this = std::move(loaded);
  return true;
}

}  // namespace aisle::stdlib
