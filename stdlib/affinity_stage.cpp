// The `affinity` stage's runtime: a window group's baskets (basket -> its distinct items) as an
// owning state block, saved into checkpoints, and the mining of its association rules when the
// window fires (pairs through PairCounter, larger rules through FP-growth).
//
// Memory: one entry per basket of the window and group, holding the basket's id and its distinct
// item names; nothing else is kept between firings. Mining builds a dictionary of the distinct
// items and the baskets as id vectors for the time of one firing.

#include <algorithm>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/value.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/affinity.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

namespace {

using dsl::Type;
using dsl::Value;

// One window group's baskets: id -> item names, sorted and unique.
struct BasketSet {
  std::unordered_map<std::string, std::vector<std::string>> baskets;
};

BasketSet*& Slot(void* state) { return *static_cast<BasketSet**>(state); }
BasketSet* Slot(const void* state) { return *static_cast<BasketSet* const*>(state); }

// The text of an item or basket id: strings as they are, ints in decimal; nothing for the rest.
bool Text(const Value& v, std::string& out) {
  if (v.type == Type::kString) {
    out.assign(v.str());
    return true;
  }
  if (v.type == Type::kInt) {
    out = std::to_string(v.i);
    return true;
  }
  return false;
}

void Init(void* state) { Slot(state) = nullptr; }

void Destroy(void* state) {
  delete Slot(state);
  Slot(state) = nullptr;
}

void Add(void* state, const Value& basket, const Value& item) {
  std::string id, name;
  if (!Text(basket, id) || !Text(item, name)) return;  // a line without a basket or an item
  try {
    BasketSet*& set = Slot(state);
    if (!set) set = new BasketSet();
    std::vector<std::string>& items = set->baskets[std::move(id)];
    auto at = std::lower_bound(items.begin(), items.end(), name);
    if (at == items.end() || *at != name) items.insert(at, std::move(name));
  } catch (const std::bad_alloc&) {
    // Out of memory: the line is not counted; the engine's memory limits report the pressure.
  }
}

// State layout, integers big-endian: u8 version (1) | u32 baskets | per basket, by id ascending:
// u32 length, id | u32 items | per item (ascending) u32 length, name. Equal sets, equal bytes.
constexpr uint8_t kVersion = 1;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetU32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[static_cast<size_t>(i)]);
  in.remove_prefix(4);
  return true;
}

bool GetText(std::string_view& in, std::string& out) {
  uint32_t n = 0;
  if (!GetU32(in, n) || n > in.size()) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

void Save(const void* state, std::string& out) {
  out.push_back(static_cast<char>(kVersion));
  const BasketSet* set = Slot(state);
  if (!set) {
    PutU32(out, 0);
    return;
  }
  std::vector<const std::pair<const std::string, std::vector<std::string>>*> sorted;
  sorted.reserve(set->baskets.size());
  for (const auto& entry : set->baskets) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  PutU32(out, static_cast<uint32_t>(sorted.size()));
  for (const auto* entry : sorted) {
    PutU32(out, static_cast<uint32_t>(entry->first.size()));
    out += entry->first;
    PutU32(out, static_cast<uint32_t>(entry->second.size()));
    for (const std::string& item : entry->second) {
      PutU32(out, static_cast<uint32_t>(item.size()));
      out += item;
    }
  }
}

bool Load(void* state, std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kVersion) return false;
  in.remove_prefix(1);
  uint32_t count = 0;
  if (!GetU32(in, count)) return false;
  Destroy(state);
  if (count == 0) return in.empty();
  try {
    auto set = std::make_unique<BasketSet>();
    for (uint32_t b = 0; b < count; ++b) {
      std::string id;
      uint32_t items = 0;
      if (!GetText(in, id) || !GetU32(in, items) || items > in.size() / 4) return false;
      std::vector<std::string> names(items);
      for (std::string& name : names)
        if (!GetText(in, name)) return false;
      if (!std::is_sorted(names.begin(), names.end()) ||
          std::adjacent_find(names.begin(), names.end()) != names.end())
        return false;
      if (!set->baskets.emplace(std::move(id), std::move(names)).second) return false;
    }
    if (!in.empty()) return false;
    Slot(state) = set.release();
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

std::string Join(const std::vector<ItemId>& items, const ItemDictionary& dictionary) {
  std::string out;
  for (ItemId id : items) {
    if (!out.empty()) out += ", ";
    out += dictionary.Name(id);
  }
  return out;
}

// Items are numbered in name order, so the core's orders on ids are orders on names, and the
// output does not depend on the order the lines came in (shards, restarts).
bool Mine(const void* state, const engine::MinerSettings& settings,
          std::vector<engine::MinedRule>& out) {
  out.clear();
  const BasketSet* set = Slot(state);
  if (!set) return true;
  try {
    std::vector<std::string_view> names;
    for (const auto& [id, items] : set->baskets)
      for (const std::string& item : items) names.push_back(item);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    ItemDictionary dictionary;
    for (std::string_view name : names) dictionary.Intern(name);
    std::vector<Basket> baskets;
    baskets.reserve(set->baskets.size());
    for (const auto& [id, items] : set->baskets) {
      Basket& basket = baskets.emplace_back();
      basket.reserve(items.size());
      for (const std::string& item : items) basket.push_back(*dictionary.Find(item));
    }
    AffinityOptions options;
    options.min_support = {settings.min_support_numerator, settings.min_support_denominator};
    options.min_confidence = {settings.min_confidence_numerator, settings.min_confidence_denominator};
    options.max_length = static_cast<size_t>(settings.max_items);
    std::vector<Rule> rules;
    if (settings.max_items == 2) {
      PairCounter pairs;
      for (const Basket& basket : baskets) pairs.Add(basket);
      rules = pairs.Rules(options);
    } else {
      rules = MineRules(baskets, options);
    }
    std::sort(rules.begin(), rules.end(), RanksBefore);
    out.reserve(rules.size());
    for (const Rule& r : rules) {
      engine::MinedRule& m = out.emplace_back();
      m.antecedent = Join(r.antecedent, dictionary);
      m.consequent = dictionary.Name(r.consequent);
      m.items = static_cast<int64_t>(r.length());
      m.baskets = static_cast<int64_t>(r.count);
      m.support = r.support;
      m.confidence = r.confidence;
      m.lift = r.lift;
      m.conviction_infinite = r.ConvictionIsInfinite();
      m.conviction = m.conviction_infinite ? 0 : r.conviction;
    }
    return true;
  } catch (const std::bad_alloc&) {
    out.clear();
    return false;
  }
}

Type MinerType(std::span<const Type> /*args*/, std::string_view& error) {
  error = "affinity is a pipeline stage";
  return Type::kNull;
}

}  // namespace

void RegisterAffinity(engine::OperatorRegistry& registry) {
  engine::FunctionDescriptor d;
  d.spec.name = "affinity";
  d.spec.kind = dsl::FunctionKind::kMiner;
  d.spec.result = MinerType;
  d.spec.summary =
      "association rules X => {y} of each window's baskets: | affinity ITEM by BASKET "
      "[min_support P] [min_confidence P] [max_items N]";
  d.miner.state.state_size = sizeof(BasketSet*);
  d.miner.state.init = Init;
  d.miner.state.destroy = Destroy;
  d.miner.state.save = Save;
  d.miner.state.load = Load;
  d.miner.add = Add;
  d.miner.mine = Mine;
  registry.Register(std::move(d));
}

}  // namespace aisle::stdlib
