#pragma once
// Synthetic line items for the in-memory benchmarks: realistic events (hundreds of stores of
// different sizes, thousands of SKUs with skewed popularity, baskets of several lines, weighed
// goods with fractional quantities, discounts and tax) drawn once from a fixed seed into a pool
// of baskets, then cycled through with a fresh id and a later time for each event. Memory stays
// bounded whatever the count, and making an event is a flat copy, so the benchmark measures the
// engine rather than the generator.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/event.hpp"

namespace aisle::bench {

struct SyntheticOptions {
  int stores = 250;
  int skus = 4000;
  int64_t start_us = 1'736'121'600'000'000;  // 2025-01-06T00:00:00Z
  // Event time between consecutive events, over all stores: every store's time increases.
  int64_t step_us = 40'000;
  uint64_t seed = 20250106;
  size_t pool = size_t{1} << 16;  // line items drawn, then cycled through
};

class SyntheticLineItems {
 public:
  explicit SyntheticLineItems(const SyntheticOptions& options);

  // Fills `event` with line item `index` (0, 1, 2, ...): its id is "li-<index>", unique, and its
  // time start_us + index * step_us. Reuses the event's capacity: no allocation once warm.
  void Make(int64_t index, engine::Event& event) const;

  int store_of(int64_t index) const { return pool_[Slot(index)].store; }
  int64_t time_of(int64_t index) const { return options_.start_us + index * options_.step_us; }
  double qty_of(int64_t index) const { return pool_[Slot(index)].qty; }
  const std::string& store_name(int store) const {
    return store_names_[static_cast<size_t>(store)];
  }
  int stores() const { return options_.stores; }

  // Line item `index` as a canonical NDJSON line (INTERFACES.md), without the newline.
  std::string JsonLine(int64_t index) const;

 private:
  struct Item {
    engine::Event event;  // every field but id and ts
    int store = 0;
    double qty = 0;
    std::string json_tail;  // the JSON fields after "ts", for JsonLine
  };
  size_t Slot(int64_t index) const { return static_cast<size_t>(index) % pool_.size(); }

  SyntheticOptions options_;
  std::vector<std::string> store_names_;
  std::vector<Item> pool_;
};

// The id of line item `index` ("li-123"), written to `out`; returns its length.
size_t FormatLineItemId(int64_t index, char (&out)[24]);

}  // namespace aisle::bench
