#pragma once
// The chain the generator simulates (internal to examples/gen): random draws, the product catalog,
// the stores, and the text helpers every writer uses.
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>
#include <fmt/format.h>

namespace aisle::gen {

// Rng: explicit, reproducible transforms over std::mt19937_64 (std:: distributions are
// implementation-defined, so they are not used).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t Next() { return engine_(); }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Normal();
  int64_t Poisson(double mean);

 private:
  std::mt19937_64 engine_;
};

// A bijective 64-bit mix (splitmix64's finalizer): hash-like ids from counters.
uint64_t Mix64(uint64_t x);

// AliasTable: O(1) sampling of an index with probability proportional to its weight.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  int Sample(Rng& rng) const;

 private:
  std::vector<double> prob_;
  std::vector<int> alias_;
};

// Product: one row of products.csv plus what the simulation needs.
struct Product {
  std::string sku, name, supplier;
  int category = 0;
  int64_t price = 0;      // cents per unit, per kg when weighed (then a multiple of 40)
  int64_t unit_cost = 0;  // cents
  int lead_days = 2;
  int case_pack = 1;     // units per case (kg when weighed)
  bool weighed = false;  // sold by weight: qty in kg, multiples of 0.025
  bool food = false;     // taxed at the store's food rate
  int rank = 0;          // popularity rank, 0 = most popular
  double share = 0;      // probability that a drawn line is this product
};

// Catalog: the chain's products, with samplers by popularity (Zipf-like) overall and per category.
struct Catalog {
  std::vector<std::string> categories;
  std::vector<Product> products;
  std::vector<std::vector<int>> members;  // product indices per category
  std::vector<int> by_rank;               // product indices, most popular first
  AliasTable popularity;
  std::vector<AliasTable> within_category;
};

Catalog BuildCatalog(Rng& rng);

enum class Role { kCashier, kManager, kStock };

struct Employee {
  std::string id;  // S001-E03
  Role role = Role::kCashier;
  int64_t wage = 0;  // cents per hour
};

// Opening hours of one weekday, whole hours, local time; open_hour < 0 means closed.
struct DayHours {
  int open_hour = -1;
  int close_hour = -1;
  bool Closed() const { return open_hour < 0; }
  bool operator==(const DayHours&) const = default;
};

// StoreInfo: one row of stores.csv plus the store's fixed traits.
struct StoreInfo {
  std::string id, name, district, region, timezone, source, currency = "USD";
  const date::time_zone* zone = nullptr;
  std::array<DayHours, 7> hours;  // by weekday, Sunday = 0
  double size = 1;                // demand multiplier, 0.5 .. 2
  double growth = 0;              // yearly trend of demand
  double conversion = 0.27;       // share of entering visitors who buy
  int tax_bp = 0;                 // sales tax, basis points
  int food_tax_bp = 0;
  int registers = 2;
  int late_register = -1;  // the register that syncs late, -1 for none
  int customers = 1000;    // size of the loyalty customer pool
  uint64_t key = 0;        // per-store random key (ids, customer hashes)
  std::vector<Employee> staff;
  std::vector<int> cashiers, managers, stockers;  // indices into staff
};

// Builds `count` stores. Throws std::runtime_error when the tz database lacks a zone.
std::vector<StoreInfo> BuildStores(int count, Rng& rng);

std::string StoresCsv(const std::vector<StoreInfo>& stores);
std::string ProductsCsv(const Catalog& catalog);
std::string OpenHoursText(const std::array<DayHours, 7>& hours);

// UTC seconds of `minutes` after local midnight of `day` in `zone`.
int64_t LocalToUtc(const date::time_zone* zone, date::local_days day, int minutes);

// Text helpers; `out` is appended to.
void AppendTimestamp(fmt::memory_buffer& out, int64_t utc_seconds);  // 2025-03-14T13:05:22Z
void AppendMoney(fmt::memory_buffer& out, int64_t cents);            // "58.00" (quoted)
void AppendMilli(fmt::memory_buffer& out, int64_t thousandths);      // 0.735, 3 (a JSON number)
inline void Append(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}
std::string TimestampText(int64_t utc_seconds);

}  // namespace aisle::gen
