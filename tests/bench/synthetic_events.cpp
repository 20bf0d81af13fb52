#include "tests/bench/synthetic_events.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "dsl/schema.hpp"
#include "dsl/time.hpp"
#include "dsl/value.hpp"

namespace aisle::bench {

namespace {

// splitmix64: the same sequence on every platform, unlike the standard distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  int64_t Int(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

// Draws an index with probability proportional to its weight.
class Weighted {
 public:
  explicit Weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) cumulative_.push_back(total += w);
  }
  int Sample(Rng& rng) const {
    const double u = rng.Uniform() * cumulative_.back();
    auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    return static_cast<int>(std::min<ptrdiff_t>(it - cumulative_.begin(),
                                                static_cast<ptrdiff_t>(cumulative_.size()) - 1));
  }

 private:
  std::vector<double> cumulative_;
};

struct Product {
  std::string sku;
  std::string name;
  int64_t price = 0;  // 1/10,000 USD
  bool weighed = false;
};

std::string MoneyText(int64_t units) {
  // Whole cents here, so two decimals are exact.
  return fmt::format("{}{}.{:02}", units < 0 ? "-" : "", std::abs(units) / dsl::kMoneyScale,
                     (std::abs(units) % dsl::kMoneyScale) / 100);
}

constexpr const char* kSources[] = {"shopify", "square", "lightspeed", "clover"};

}  // namespace

size_t FormatLineItemId(int64_t index, char (&out)[24]) {
  out[0] = 'l';
  out[1] = 'i';
  out[2] = '-';
  auto [end, ec] = std::to_chars(out + 3, out + sizeof(out), index);
  (void)ec;  // 20 digits always fit
  return static_cast<size_t>(end - out);
}

SyntheticLineItems::SyntheticLineItems(const SyntheticOptions& options) : options_(options) {
  Rng rng(options.seed);
  const dsl::StreamSchema& schema = dsl::Schema(dsl::StreamKind::kLineItem);
  auto slot = [&schema](std::string_view field) { return *schema.Slot(field); };
  const int order_slot = slot("order"), line_slot = slot("line"), sku_slot = slot("sku"),
            product_slot = slot("product"), qty_slot = slot("qty"), price_slot = slot("price"),
            discount_slot = slot("discount"), tax_slot = slot("tax"), staff_slot = slot("staff");
  const dsl::Currency usd = dsl::PackCurrency("USD");

  std::vector<Product> products(static_cast<size_t>(options.skus));
  std::vector<double> popularity;
  for (int i = 0; i < options.skus; ++i) {
    Product& p = products[static_cast<size_t>(i)];
    p.sku = fmt::format("SKU-{:05}", i + 1);
    p.name = fmt::format("Product {}", i + 1);
    p.weighed = rng.Chance(0.1);
    // Prices from 0.49 to about 50.00, most under 10.
    const double dollars = 0.49 * std::exp(rng.Uniform() * std::log(100.0));
    p.price = static_cast<int64_t>(std::llround(dollars * 100)) * 100;
    popularity.push_back(1.0 / std::pow(i + 1.0, 0.9));
  }
  const Weighted pick_sku(popularity);

  std::vector<double> store_size;
  for (int s = 0; s < options.stores; ++s) {
    store_names_.push_back(fmt::format("S{:04}", s + 1));
    store_size.push_back(0.5 + rng.Uniform() * 2.5);  // a big store sells five times a small one
  }
  const Weighted pick_store(store_size);
  std::vector<int64_t> orders(static_cast<size_t>(options.stores), 0);

  pool_.reserve(options.pool);
  while (pool_.size() < options.pool) {
    const int store = pick_store.Sample(rng);
    const std::string& store_name = store_names_[static_cast<size_t>(store)];
    const std::string order =
        fmt::format("{}-{:06}", store_name, ++orders[static_cast<size_t>(store)]);
    const std::string staff = fmt::format("{}-E{:02}", store_name, rng.Int(1, 12));
    const char* source = kSources[rng.Int(0, 3)];
    int lines = 1;
    while (lines < 12 && rng.Chance(0.65)) ++lines;
    for (int line = 1; line <= lines && pool_.size() < options.pool; ++line) {
      const Product& p = products[static_cast<size_t>(pick_sku.Sample(rng))];
      double qty = 1;
      std::string qty_text;
      if (p.weighed) {
        qty = static_cast<double>(rng.Int(100, 3000)) / 1000;
        qty_text = fmt::format("{}", qty);
      } else {
        const double u = rng.Uniform();
        qty = u < 0.70   ? 1
              : u < 0.88 ? 2
              : u < 0.95 ? static_cast<double>(rng.Int(3, 7))
                         : static_cast<double>(rng.Int(8, 24));
        qty_text = fmt::format("{}", static_cast<int>(qty));
      }
      const auto gross =
          static_cast<int64_t>(std::llround(static_cast<double>(p.price) * qty / 100)) * 100;
      const int64_t discount = rng.Chance(0.1) ? gross * rng.Int(5, 30) / 100 / 100 * 100 : 0;
      const int64_t tax = (gross - discount) * 7 / 100 / 100 * 100;

      Item item;
      item.store = store;
      item.qty = qty;
      engine::Event& e = item.event;
      e.Reset(dsl::StreamKind::kLineItem);
      e.SetString(dsl::kSlotStore, store_name);
      e.SetString(dsl::kSlotSource, source);
      e.SetString(dsl::kSlotCurrency, "USD");
      e.SetString(order_slot, order);
      e.Set(line_slot, dsl::Value::Int(line));
      e.SetString(sku_slot, p.sku);
      e.SetString(product_slot, p.name);
      e.Set(qty_slot, dsl::Value::Decimal(qty));
      e.Set(price_slot, dsl::Value::Money(p.price, usd));
      e.Set(discount_slot, dsl::Value::Money(discount, usd));
      e.Set(tax_slot, dsl::Value::Money(tax, usd));
      e.SetString(staff_slot, staff);
      item.json_tail = fmt::format(
          R"("source":"{}","currency":"USD","order":"{}","line":{},"sku":"{}","product":"{}","qty":{},"price":"{}","discount":"{}","tax":"{}","staff":"{}")",
          source, order, line, p.sku, p.name, qty_text, MoneyText(p.price), MoneyText(discount),
          MoneyText(tax), staff);
      pool_.push_back(std::move(item));
    }
  }
}

void SyntheticLineItems::Make(int64_t index, engine::Event& event) const {
  event = pool_[Slot(index)].event;
  char id[24];
  event.SetString(dsl::kSlotId, {id, FormatLineItemId(index, id)});
  event.Set(dsl::kSlotTs, dsl::Value::Timestamp(time_of(index)));
}

std::string SyntheticLineItems::JsonLine(int64_t index) const {
  char id[24];
  const Item& item = pool_[Slot(index)];
  return fmt::format(R"({{"type":"line_item","id":"{}","store":"{}","ts":"{}",{}}})",
                     std::string_view(id, FormatLineItemId(index, id)),
                     store_names_[static_cast<size_t>(item.store)],
                     dsl::FormatTimestamp(time_of(index)), item.json_tail);
}

}  // namespace aisle::bench
