#include "examples/gen/store_sim.hpp"

#include <cmath>

// The stock side of StoreSim: replenishment, the stockout incident, cycle counts and promotions
// (which raise both demand and the stock held for it).

namespace aisle::gen {

// Reorder point and order-up-to level (thousandths). Generous on purpose: demand over the lead
// time plus two days at 1.4x the average rate, five standard deviations of compound-Poisson noise
// and three of the largest lines; promotions due within the lead time raise the rate beforehand.
std::pair<int64_t, int64_t> StoreSim::Levels(int sku, int day) const {
  const Product& p = catalog_.products[static_cast<size_t>(sku)];
  double lift = 1;
  for (const Promo& promo : promos_) {
    if (promo.last_day >= day && promo.first_day <= day + p.lead_days + 3 && Promoted(promo, sku))
      lift = std::max(lift, promo.lift);
  }
  const double rate = base_units_[static_cast<size_t>(sku)] * week_factor_ * Trend(day) * lift;
  const double horizon = p.lead_days + 2;
  const double dispersion = p.weighed ? kKgDispersion : kUnitQtyDispersion;
  const double largest = p.weighed ? 3.0 : 6.0;
  const double reorder =
      1.4 * rate * horizon + 5 * std::sqrt(rate * horizon * dispersion) + 3 * largest;
  const double up_to = reorder + std::max(static_cast<double>(p.case_pack), rate * 7);
  return {std::llround(reorder * 1000), std::llround(up_to * 1000)};
}

// `delta` 0 (the opening snapshot) is left out.
void StoreSim::EmitInventory(int sku, int64_t ts, int64_t delta, std::string_view reason) {
  BeginEvent("inventory", ts, info_.source, false);
  fmt::memory_buffer& b = out_->Text();
  fmt::format_to(fmt::appender(b), R"(,"sku":"{}","on_hand":)",
                 catalog_.products[static_cast<size_t>(sku)].sku);
  AppendMilli(b, on_hand_[static_cast<size_t>(sku)]);
  if (delta != 0) {
    Append(b, R"(,"delta":)");
    AppendMilli(b, delta);
  }
  fmt::format_to(fmt::appender(b), R"(,"reason":"{}")", reason);
  EndEvent(ts, EventKind::kInventory);
}

void StoreSim::StockHitZero(int day, int sku, int64_t t) {
  for (Incident* inc : incidents_) {
    if (inc->kind == IncidentKind::kStockout && inc->sku == sku &&
        blocked_[static_cast<size_t>(sku)] && inc->start < 0) {
      inc->start = t;
      const int64_t target = t + rng_.Int(kDay, 4 * kDay);
      for (int d = day; d < day + 14; ++d) {
        if (!Open(d)) continue;
        const int64_t open = OpenTime(d), close = CloseTime(d);
        const int64_t at =
            target <= open ? open : open + (target - open + kHour - 1) / kHour * kHour;
        if (at < close) {
          inc->end = at;
          const auto [reorder, up_to] = Levels(sku, d);
          const int64_t pack =
              catalog_.products[static_cast<size_t>(sku)].case_pack * int64_t{1000};
          const int64_t qty = (up_to + pack - 1) / pack * pack;
          on_order_[static_cast<size_t>(sku)] += qty;
          AddReceipt({at, sku, qty, true});
          return;
        }
      }
      return;
    }
  }
  // Anything else reaching zero would be a sizing bug in Levels(); the data checks look for it.
}

void StoreSim::CheckReorder(int sku, int day) {
  const auto s = static_cast<size_t>(sku);
  if (blocked_[s]) return;
  const auto [reorder, up_to] = Levels(sku, day);
  if (on_hand_[s] + on_order_[s] > reorder) return;
  const Product& p = catalog_.products[s];
  const int64_t pack = p.case_pack * int64_t{1000};
  const int64_t qty = (up_to - on_hand_[s] - on_order_[s] + pack - 1) / pack * pack;
  int d = day + p.lead_days;
  while (!Open(d)) ++d;
  const int64_t hours = Hours(d).close_hour - Hours(d).open_hour;
  on_order_[s] += qty;
  AddReceipt({OpenTime(d) + rng_.Int(0, std::min<int64_t>(3, hours - 1)) * kHour, sku, qty, false});
}

void StoreSim::AddReceipt(const Receipt& receipt) {
  const auto at = std::upper_bound(receipts_.begin(), receipts_.end(), receipt.ts,
                                   [](int64_t ts, const Receipt& r) { return ts < r.ts; });
  receipts_.insert(at, receipt);
}

void StoreSim::ApplyReceipts(int64_t until) {
  size_t done = 0;
  for (; done < receipts_.size() && receipts_[done].ts <= until; ++done) {
    const Receipt& r = receipts_[done];
    const auto s = static_cast<size_t>(r.sku);
    on_hand_[s] += r.qty;
    on_order_[s] -= r.qty;
    EmitInventory(r.sku, r.ts, r.qty, "receipt");
    if (r.recovery) blocked_[s] = false;
  }
  receipts_.erase(receipts_.begin(), receipts_.begin() + static_cast<std::ptrdiff_t>(done));
}

// stockout: the supplier stops delivering one top-50 product; if the shelf holds more than the
// demand expected until the planned day, a cycle count before opening finds the difference
// missing (shrink), so the product runs out close to the planned day.
void StoreSim::PrepareStockout(int day, int64_t open) {
  for (Incident* inc : incidents_) {
    if (inc->kind != IncidentKind::kStockout || inc->cancelled) continue;
    if (inc->sku >= 0 && inc->start < 0 && day > inc->active_first + 4) {
      blocked_[static_cast<size_t>(inc->sku)] = false;
      inc->cancelled = true;
      continue;
    }
    if (inc->sku >= 0 || day < inc->block_day || day >= inc->active_first) continue;
    auto expected = [&](int sku) {
      double units = 0.5 * DailyUnits(sku, inc->active_first);
      for (int d = day; d < inc->active_first; ++d) units += DailyUnits(sku, d);
      return units * 1000;
    };
    std::vector<int> candidates;
    for (size_t r = 0; r < 50 && r < catalog_.by_rank.size(); ++r) {
      const int sku = catalog_.by_rank[r];
      if (kBaseSales * info_.size * MeanLines() *
              catalog_.products[static_cast<size_t>(sku)].share >=
          5)
        candidates.push_back(sku);
    }
    if (candidates.empty()) candidates.push_back(catalog_.by_rank[0]);
    int chosen = -1;
    for (size_t i = candidates.size(); i > 1; --i)
      std::swap(candidates[i - 1],
                candidates[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(i) - 1))]);
    for (int sku : candidates) {
      const double have = static_cast<double>(on_hand_[static_cast<size_t>(sku)]);
      if (have >= 0.85 * expected(sku) && have <= 1.15 * expected(sku)) {
        chosen = sku;
        break;
      }
    }
    if (chosen < 0) {
      chosen = candidates.front();
      const auto s = static_cast<size_t>(chosen);
      const int64_t step = catalog_.products[s].weighed ? 25 : 1000;
      const int64_t target = std::max<int64_t>(
          step, std::llround(expected(chosen) / static_cast<double>(step)) * step);
      if (on_hand_[s] > target) {
        const int64_t delta = target - on_hand_[s];
        on_hand_[s] = target;
        EmitInventory(chosen, open - 2400 + rng_.Int(0, 600), delta, "count");
      }
    }
    const auto s = static_cast<size_t>(chosen);
    std::erase_if(receipts_, [chosen](const Receipt& r) { return r.sku == chosen; });
    on_order_[s] = 0;
    blocked_[s] = true;
    inc->sku = chosen;
  }
}

void StoreSim::CycleCounts(int64_t open) {
  std::vector<int64_t> times;
  for (int64_t n = rng_.Poisson(0.4); n > 0; --n) times.push_back(open - 1800 + rng_.Int(0, 1200));
  std::sort(times.begin(), times.end());
  for (int64_t at : times) {
    const auto s =
        static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(catalog_.products.size()) - 1));
    if (catalog_.products[s].weighed || blocked_[s] || on_hand_[s] < 20000) continue;
    const double u = rng_.Uniform();
    const int64_t delta = u < 0.3 ? -2000 : u < 0.8 ? -1000 : 1000;
    on_hand_[s] += delta;
    EmitInventory(static_cast<int>(s), at, delta, "count");
  }
}

void StoreSim::EnsurePromos(int day) {
  while (!promos_.empty() && promos_.front().last_day < day - 1) promos_.pop_front();
  while (next_promo_day_ <= day + 40) {
    Promo p;
    p.first_day = next_promo_day_;
    p.last_day = p.first_day + static_cast<int>(rng_.Int(3, 7)) - 1;
    next_promo_day_ = p.last_day + 1 + static_cast<int>(rng_.Int(4, 16));
    // No promotion near an incident: it would blur the anomaly, and a stockout's drain is planned.
    bool clash = false;
    for (const Incident* inc : incidents_) {
      const int from = inc->kind == IncidentKind::kStockout ? inc->block_day : inc->first_day - 1;
      clash = clash || (p.first_day <= inc->last_day + 1 && from <= p.last_day);
    }
    if (clash) continue;
    double share = 0;
    if (rng_.Chance(0.4)) {
      p.category =
          static_cast<int>(rng_.Int(0, static_cast<int64_t>(catalog_.categories.size()) - 1));
      for (int i : catalog_.members[static_cast<size_t>(p.category)])
        share += catalog_.products[static_cast<size_t>(i)].share;
    } else {
      for (int64_t k = rng_.Int(3, 6); static_cast<int64_t>(p.skus.size()) < k;) {
        const int s = catalog_.popularity.Sample(rng_);
        if (std::find(p.skus.begin(), p.skus.end(), s) != p.skus.end()) continue;
        p.skus.push_back(s);
        share += catalog_.products[static_cast<size_t>(s)].share;
        p.cumulative.push_back(share);
      }
    }
    p.percent = static_cast<int>(rng_.Int(2, 6)) * 5;
    p.lift = rng_.Uniform(1.5, 2.5);
    p.extra = share * (p.lift - 1);
    promos_.push_back(std::move(p));
  }
}

const StoreSim::Promo* StoreSim::ActivePromo(int day) const {
  for (const Promo& p : promos_) {
    if (p.first_day <= day && day <= p.last_day) return &p;
  }
  return nullptr;
}

bool StoreSim::Promoted(const Promo& promo, int sku) const {
  if (promo.category >= 0)
    return catalog_.products[static_cast<size_t>(sku)].category == promo.category;
  return std::find(promo.skus.begin(), promo.skus.end(), sku) != promo.skus.end();
}

}  // namespace aisle::gen
