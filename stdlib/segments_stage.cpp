// The `segments` stage's runtime: a window group's customers (CustomerState by customer id) as an
// owning state block, saved into checkpoints, and the k-means fit of stdlib/segments.hpp when the
// window fires, as one row per segment or per customer.
//
// Segment numbers: the model numbers its clusters in lexicographic order of their scaled
// centroids, an order that means nothing to a reader. Rows number them again by descending mean
// monetary value (exact money), then descending mean frequency, ascending mean recency and the
// model's own order: segment 0 is the most valuable. Everything here depends only on the set of
// customer states, so shards, restarts and input order give the same rows.
//
// Fewer customers than k: a window whose customers have fewer distinct feature rows than k (two
// customers with the same purchases, spend and last time are one point to k-means) is fitted
// with as many segments as it has distinct rows, down to 1.
//
// Memory: one CustomerState per customer of the window and group (a few dozen bytes, plus the
// categories of `mix`); the fit holds the features for the time of one firing.

#include <algorithm>
#include <memory>
#include <new>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/value.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/segments.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

namespace {

using dsl::Type;
using dsl::Value;

CustomerTable*& Slot(void* state) {
  return *static_cast<CustomerTable**>(state);
}
const CustomerTable* Slot(const void* state) {
  return *static_cast<CustomerTable* const*>(state);
}

// The text of a customer id or category: strings as they are, ints in decimal; nothing else.
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

void Init(void* state) {
  Slot(state) = nullptr;
}

void Destroy(void* state) {
  delete Slot(state);
  Slot(state) = nullptr;
}

void Add(void* state, const Value& customer, int64_t spend, int64_t time, const Value& category) {
  try {
    Purchase purchase;
    if (!Text(customer, purchase.customer) || purchase.customer.empty()) return;  // a guest
    purchase.time = time;
    purchase.amount = spend;
    std::string name;
    if (Text(category, name)) purchase.basket.push_back({std::move(name), spend});
    CustomerTable*& table = Slot(state);
    if (!table) table = new CustomerTable();
    (*table)[purchase.customer].Add(purchase);
  } catch (const std::bad_alloc&) {
    // Out of memory: the purchase is not counted; the engine's memory limits report the pressure.
  }
}

// State layout, integers big-endian: u8 version (1) | u32 customers | per customer, by id
// ascending: u32 length, id | i64 transactions | i64 total spend | i64 last time | u32 categories |
// per category (ascending) u32 length, name, i64 amount. Equal tables, equal bytes.
constexpr uint8_t kVersion = 1;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutI64(std::string& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

void PutText(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

bool GetU32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
  in.remove_prefix(4);
  return true;
}

bool GetI64(std::string_view& in, int64_t& v) {
  if (in.size() < 8) return false;
  uint64_t u = 0;
  for (size_t i = 0; i < 8; ++i) u = u << 8 | static_cast<unsigned char>(in[i]);
  in.remove_prefix(8);
  v = static_cast<int64_t>(u);
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
  const CustomerTable* table = Slot(state);
  if (!table) {
    PutU32(out, 0);
    return;
  }
  PutU32(out, static_cast<uint32_t>(table->size()));
  for (const auto& [id, c] : *table) {
    PutText(out, id);
    PutI64(out, c.transactions);
    PutI64(out, c.total_spend);
    PutI64(out, c.last_time);
    PutU32(out, static_cast<uint32_t>(c.category_spend.size()));
    for (const auto& [category, amount] : c.category_spend) {
      PutText(out, category);
      PutI64(out, amount);
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
    auto table = std::make_unique<CustomerTable>();
    std::string previous;
    for (uint32_t n = 0; n < count; ++n) {
      std::string id;
      CustomerState c;
      uint32_t categories = 0;
      if (!GetText(in, id) || !GetI64(in, c.transactions) || !GetI64(in, c.total_spend) ||
          !GetI64(in, c.last_time) || !GetU32(in, categories) || categories > in.size() / 12)
        return false;
      if (c.transactions < 1 || (n > 0 && id <= previous)) return false;
      for (uint32_t k = 0; k < categories; ++k) {
        std::string category;
        int64_t amount = 0;
        if (!GetText(in, category) || !GetI64(in, amount)) return false;
        if (!c.category_spend.emplace(std::move(category), amount).second) return false;
      }
      previous = id;
      table->emplace_hint(table->end(), std::move(id), std::move(c));
    }
    if (!in.empty()) return false;
    Slot(state) = table.release();
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

// Fits with k segments, or fewer when the customers have fewer distinct feature rows (file
// comment); the first k that fits, from the largest down.
Result<SegmentFit> Fit(const CustomerTable& customers, int64_t as_of, int64_t k) {
  SegmentOptions options;
  int64_t tries = std::min<int64_t>(k, static_cast<int64_t>(customers.size()));
  for (; tries >= 1; --tries) {
    options.kmeans.k = static_cast<int>(tries);
    Result<SegmentFit> fit = FitSegments(customers, as_of, options);
    if (fit.ok() || tries == 1) return fit;
  }
  return Error{"segments: no customers"};
}

bool FitRows(const void* state, const engine::SegmenterSettings& settings, int64_t as_of,
             std::vector<engine::SegmentRow>& out) {
  out.clear();
  const CustomerTable* table = Slot(state);
  if (!table || table->empty()) return true;
  try {
    Result<SegmentFit> fit = Fit(*table, as_of, settings.k);
    if (!fit.ok()) return false;
    const std::vector<SegmentProfile>& profiles = fit->model.profiles();
    // order[rank] = the model's segment shown as `rank`; rank_of is its inverse.
    std::vector<int> order(profiles.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      const SegmentProfile& x = profiles[static_cast<size_t>(a)];
      const SegmentProfile& y = profiles[static_cast<size_t>(b)];
      if (x.mean_monetary != y.mean_monetary) return x.mean_monetary > y.mean_monetary;
      if (x.mean_frequency != y.mean_frequency) return x.mean_frequency > y.mean_frequency;
      return x.mean_recency_days < y.mean_recency_days;
    });
    std::vector<int64_t> rank_of(order.size());
    for (size_t rank = 0; rank < order.size(); ++rank)
      rank_of[static_cast<size_t>(order[rank])] = static_cast<int64_t>(rank);

    if (settings.per_customer) {
      out.reserve(table->size());
      for (const auto& [id, c] : *table) {
        const int model_segment = fit->segment_of.at(id);
        engine::SegmentRow& row = out.emplace_back();
        row.segment = rank_of[static_cast<size_t>(model_segment)];
        row.label = profiles[static_cast<size_t>(model_segment)].label;
        row.customer = id;
        row.recency_days = RawFeatures(c, as_of, FeatureOptions{})[0];
        row.frequency = static_cast<double>(c.transactions);
        row.monetary = c.total_spend;
      }
      return true;
    }
    const double customers = static_cast<double>(table->size());
    out.reserve(order.size());
    for (size_t rank = 0; rank < order.size(); ++rank) {
      const SegmentProfile& p = profiles[static_cast<size_t>(order[rank])];
      engine::SegmentRow& row = out.emplace_back();
      row.segment = static_cast<int64_t>(rank);
      row.label = p.label;
      row.customers = p.customers;
      row.recency_days = p.mean_recency_days;
      row.frequency = p.mean_frequency;
      row.monetary = p.mean_monetary;
      row.total_spend = p.total_spend;
      row.share = static_cast<double>(p.customers) / customers;
      if (!p.top_categories.empty()) {
        row.top_category = p.top_categories.front().category;
        row.has_top_category = true;
      }
    }
    return true;
  } catch (const std::bad_alloc&) {
    out.clear();
    return false;
  }
}

Type StageType(std::span<const Type> /*args*/, std::string_view& error) {
  error = "segments is a pipeline stage";
  return Type::kNull;
}

}  // namespace

void RegisterSegments(engine::OperatorRegistry& registry) {
  engine::FunctionDescriptor d;
  d.spec.name = "segments";
  d.spec.kind = dsl::FunctionKind::kMiner;
  d.spec.result = StageType;
  d.spec.summary =
      "k-means customer segments (recency, frequency, monetary) of each window's purchases: "
      "| segments CUSTOMER [spend EXPR] [k N] [mix FIELD] [per customer]";
  d.segmenter.state.state_size = sizeof(CustomerTable*);
  d.segmenter.state.init = Init;
  d.segmenter.state.destroy = Destroy;
  d.segmenter.state.save = Save;
  d.segmenter.state.load = Load;
  d.segmenter.add = Add;
  d.segmenter.fit = FitRows;
  registry.Register(std::move(d));
}

}  // namespace aisle::stdlib
