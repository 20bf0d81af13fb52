#include "examples/gen/store_sim.hpp"

#include <array>
#include <cmath>
#include <iterator>

namespace aisle::gen {

namespace {

constexpr double kContinueLine = 0.65;  // chance of one more line, up to kMaxLines
constexpr int kMaxLines = 8;
constexpr double kVoidRate = 0.01;
constexpr double kRefundRate = 0.015;
constexpr double kAffinity = 0.3;      // chance that a further line stays in the previous category
constexpr double kMeanUnitQty = 1.44;  // of DrawQty for unit goods
constexpr double kMeanKg = 0.79;
constexpr size_t kRecentSales = 400;
constexpr double kShrinkScale = 1.2;  // aov_drop: a line is dropped with this times the drop
constexpr std::array<double, 7> kWeekday = {1.15, 0.85, 0.85, 0.9,
                                            0.95, 1.1,  1.35};  // Sunday first
constexpr std::array<double, 24> kHourShape = {0,   0,    0,    0,    0,    0,    0.2, 0.35,
                                               0.5, 0.65, 0.8,  1.0,  1.35, 1.25, 0.9, 0.85,
                                               1.0, 1.3,  1.35, 1.05, 0.75, 0.5,  0.3, 0.2};
constexpr std::array<const char*, 6> kReasons = {"changed_mind", "defective",        "wrong_item",
                                                 "damaged",      "not_as_described", "other"};
constexpr std::array<double, 6> kReasonWeights = {0.40, 0.20, 0.15, 0.10, 0.10, 0.05};

const char* Tender(Rng& rng) {
  const double u = rng.Uniform();
  return u < 0.62   ? "card"
         : u < 0.80 ? "cash"
         : u < 0.92 ? "wallet"
         : u < 0.95 ? "gift_card"
         : u < 0.98 ? "split"
                    : "other";
}

int64_t DrawQty(const Product& p, Rng& rng) {
  if (p.weighed) {
    const double grams = 700 * std::exp(0.5 * rng.Normal());
    return std::clamp<int64_t>(std::llround(grams / 25) * 25, 100, 3000);
  }
  const double u = rng.Uniform();
  if (p.price >= 1500) return u < 0.95 ? 1000 : 2000;  // nobody buys three speakers
  return 1000 * (u < 0.74 ? 1 : u < 0.90 ? 2 : u < 0.96 ? 3 : rng.Int(4, 6));
}

int64_t RoundDiv(int64_t num, int64_t den) {
  return (num + den / 2) / den;
}

}  // namespace

std::string_view IncidentKindName(IncidentKind kind) {
  switch (kind) {
    case IncidentKind::kAovDrop:
      return "aov_drop";
    case IncidentKind::kDiscountAbuse:
      return "discount_abuse";
    case IncidentKind::kStockout:
      return "stockout";
    case IncidentKind::kRefundSpike:
      return "refund_spike";
  }
  return "unknown";
}

double StoreSim::MeanLines() {
  return (1 - std::pow(kContinueLine, kMaxLines)) / (1 - kContinueLine);
}

double StoreSim::ExpectedLinesPerDay(const StoreInfo& info) {
  double week = 0;
  for (size_t wd = 0; wd < 7; ++wd) {
    if (!info.hours[wd].Closed()) week += kWeekday[wd] / 7;
  }
  return kBaseSales * info.size * week * MeanLines() * (1 - kVoidRate);
}

StoreSim::StoreSim(const StoreInfo& info, const Catalog& catalog, date::local_days first_day,
                   uint64_t seed, std::vector<Incident*> incidents)
    : info_(info),
      catalog_(catalog),
      first_day_(first_day),
      rng_(seed),
      incidents_(std::move(incidents)) {
  const size_t n = catalog.products.size();
  on_hand_.assign(n, 0);
  on_order_.assign(n, 0);
  blocked_.assign(n, false);
  hour_delta_.assign(n, 0);
  hour_last_ts_.assign(n, 0);
  for (size_t wd = 0; wd < 7; ++wd) {
    if (!info.hours[wd].Closed()) week_factor_ += kWeekday[wd] / 7;
  }
  for (size_t i = 0; i < n; ++i) {
    const Product& p = catalog.products[i];
    base_units_.push_back(kBaseSales * info.size * MeanLines() * (1 - kVoidRate) * p.share *
                          (p.weighed ? kMeanKg : kMeanUnitQty));
  }
  next_promo_day_ = static_cast<int>(rng_.Int(0, 10));
  EnsurePromos(0);
  for (size_t i = 0; i < n; ++i) {
    const auto [reorder, up_to] = Levels(static_cast<int>(i), 0);
    const int64_t step = catalog.products[i].weighed ? 25 : 1000;
    const double level =
        static_cast<double>(reorder) + rng_.Uniform() * static_cast<double>(up_to - reorder);
    on_hand_[i] = (static_cast<int64_t>(level) / step + 1) * step;
  }
}

date::local_days StoreSim::Date(int day) const {
  return first_day_ + date::days(day);
}

const DayHours& StoreSim::Hours(int day) const {
  return info_.hours[date::weekday(Date(day)).c_encoding()];
}

bool StoreSim::Open(int day) const {
  return !Hours(day).Closed();
}
int64_t StoreSim::Midnight(int day) const {
  return LocalToUtc(info_.zone, Date(day), 0);
}
int64_t StoreSim::OpenTime(int day) const {
  return LocalToUtc(info_.zone, Date(day), Hours(day).open_hour * 60);
}
int64_t StoreSim::CloseTime(int day) const {
  return LocalToUtc(info_.zone, Date(day), Hours(day).close_hour * 60);
}

double StoreSim::Trend(int day) const {
  return std::clamp(1 + info_.growth * day / 365.0, 0.75, 1.4);
}

double StoreSim::ExpectedSales(int day) const {
  if (!Open(day)) return 0;
  return kBaseSales * info_.size * kWeekday[date::weekday(Date(day)).c_encoding()] * Trend(day);
}

double StoreSim::DailyUnits(int sku, int day) const {
  if (!Open(day)) return 0;
  return base_units_[static_cast<size_t>(sku)] * kWeekday[date::weekday(Date(day)).c_encoding()] *
         Trend(day);
}

void StoreSim::BeginEvent(std::string_view type, int64_t ts, std::string_view source, bool money) {
  fmt::memory_buffer& b = out_->Text();
  mark_ = out_->Mark();
  fmt::format_to(fmt::appender(b), R"({{"type":"{}","id":"{:016x}","store":"{}","ts":")", type,
                 NextId(), info_.id);
  AppendTimestamp(b, ts);
  fmt::format_to(fmt::appender(b), R"(","source":"{}")", source);
  if (money) fmt::format_to(fmt::appender(b), R"(,"currency":"{}")", info_.currency);
}

void StoreSim::EndEvent(int64_t arrival, EventKind kind) {
  Append(out_->Text(), "}\n");
  out_->Commit(mark_, arrival, kind);
}

void StoreSim::EmitShift(const Slot& slot, int day, std::string_view action, int64_t ts) {
  const Employee& e = info_.staff[static_cast<size_t>(slot.staff)];
  BeginEvent("shift", ts, "staff", true);
  fmt::memory_buffer& b = out_->Text();
  const date::year_month_day ymd(Date(day));
  const char* role = e.role == Role::kCashier   ? "cashier"
                     : e.role == Role::kManager ? "manager"
                                                : "stock";
  fmt::format_to(
      fmt::appender(b),
      R"(,"staff":"{}","action":"{}","shift":"{}-{:04}{:02}{:02}-{}","role":"{}","wage":)", e.id,
      action, info_.id, static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
      static_cast<unsigned>(ymd.day()), std::string_view(e.id).substr(info_.id.size() + 1), role);
  AppendMoney(b, e.wage);
  EndEvent(ts, EventKind::kShift);
}

void StoreSim::RunDay(int day, EventBuffer& out) {
  out_ = &out;
  const size_t first_record = out.Size();
  EnsurePromos(day);
  if (!Open(day)) {
    for (PendingRefund& r : refunds_) {
      if (r.day == day) r.day = day + 1;
    }
    return;
  }
  const int64_t open = OpenTime(day);
  const int64_t close = CloseTime(day);
  promo_ = ActivePromo(day);
  aov_ = ActiveIncident(IncidentKind::kAovDrop, day);
  if (aov_ != nullptr && aov_->start < 0) {
    aov_->start = aov_->planned_start;
    aov_->end = aov_->planned_end;
  }
  abuse_ = ActiveIncident(IncidentKind::kDiscountAbuse, day);
  Incident* spike = ActiveIncident(IncidentKind::kRefundSpike, day);

  if (!counted_) {
    // Opening snapshot, so that every product's level is known before it first changes.
    counted_ = true;
    for (size_t i = 0; i < on_hand_.size(); ++i)
      EmitInventory(static_cast<int>(i), open - 2 * kHour, 0, "count");
  }
  PrepareStockout(day, open);
  CycleCounts(open);
  PlanStaff(day, open, close);
  PlanLateSpells(open, close);

  today_.clear();
  for (size_t i = 0; i < refunds_.size();) {
    if (refunds_[i].day == day) {
      PendingRefund r = std::move(refunds_[i]);
      if (r.ts < 0) r.ts = open + static_cast<int64_t>(r.frac * static_cast<double>(close - open));
      today_.emplace(r.ts, std::move(r));
      refunds_[i] = std::move(refunds_.back());
      refunds_.pop_back();
    } else {
      ++i;
    }
  }
  const double expected = ExpectedSales(day) * std::exp(0.07 * rng_.Normal() - 0.00245);
  const int open_hour = Hours(day).open_hour;
  const int hours = Hours(day).close_hour - open_hour;
  double shape_total = 0;
  for (int k = 0; k < hours; ++k) shape_total += kHourShape[static_cast<size_t>(open_hour + k)];
  if (spike != nullptr) {
    if (spike->start < 0) spike->start = open;
    spike->end = close;
    // A fixed count (rather than a Poisson draw) keeps every spike day clearly above normal.
    const int64_t extra = std::llround(kRefundRate * expected * (spike->intensity - 1));
    for (int64_t i = 0; i < extra; ++i) {
      double u = rng_.Uniform() * shape_total;
      int k = 0;
      while (k + 1 < hours && u >= kHourShape[static_cast<size_t>(open_hour + k)])
        u -= kHourShape[static_cast<size_t>(open_hour + k++)];
      PendingRefund r;
      r.day = day;
      r.ts = open + k * kHour + rng_.Int(0, kHour - 1);
      today_.emplace(r.ts, std::move(r));
    }
  }

  std::vector<int64_t> times;
  for (int k = 0; k < hours; ++k) {
    const int64_t hour_start = open + k * kHour;
    const int64_t hour_end = hour_start + kHour;
    ApplyReceipts(hour_start);
    const int64_t sales =
        rng_.Poisson(expected * kHourShape[static_cast<size_t>(open_hour + k)] / shape_total);
    times.clear();
    for (int64_t i = 0; i < sales; ++i) times.push_back(hour_start + rng_.Int(0, kHour - 1));
    std::sort(times.begin(), times.end());
    size_t next_sale = 0;
    int rung = 0;
    for (;;) {
      const int64_t sale_ts = next_sale < times.size() ? times[next_sale] : hour_end;
      const bool refund_first =
          !today_.empty() && today_.begin()->first < hour_end && today_.begin()->first <= sale_ts;
      if (refund_first) {
        auto node = today_.extract(today_.begin());
        if (node.mapped().sale.order == 0) {
          SpikeRefund(day, node.key());
        } else {
          Refund(node.key(), node.mapped().sale);
        }
      } else if (next_sale < times.size()) {
        rung += Sale(day, times[next_sale++], close) ? 1 : 0;
      } else {
        break;
      }
    }
    EndHour(day, hour_start, hour_end, rung);
  }
  Duplicates(first_record);
}

void StoreSim::PlanStaff(int day, int64_t open, int64_t close) {
  shift_change_ = open + ((close - open) / 2 + 900) / 1800 * 1800;
  const size_t registers = static_cast<size_t>(info_.registers);
  std::vector<int> pool = info_.cashiers;
  for (size_t i = pool.size(); i > 1; --i)
    std::swap(pool[i - 1], pool[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(i) - 1))]);
  pool.resize(2 * registers);
  if (abuse_ != nullptr && std::find(pool.begin(), pool.end(), abuse_->staff) == pool.end()) {
    pool[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(pool.size()) - 1))] = abuse_->staff;
  }
  const int64_t early_in = open - 900, early_out = shift_change_ + 900;
  const int64_t late_in = shift_change_ - 900, late_out = close + 900;
  auto make = [&](int staff, int64_t in, int64_t out, int64_t break_offset) {
    Slot s;
    s.staff = staff;
    s.in = in + rng_.Int(-480, 180);
    s.out = out + rng_.Int(-180, 480);
    if (s.out - s.in >= 6 * kHour) {
      s.break_from = s.in + break_offset + rng_.Int(0, 300);
      s.break_to = s.break_from + 1800 + rng_.Int(-120, 120);
      if (s.break_to > s.out - 1800) s.break_from = s.break_to = 0;
    }
    return s;
  };
  early_.clear();
  late_.clear();
  for (size_t r = 0; r < registers; ++r) {
    const int64_t offset = 9000 + static_cast<int64_t>(r) * 2400;
    early_.push_back(make(pool[r], early_in, early_out, offset));
    late_.push_back(make(pool[registers + r], late_in, late_out, offset));
  }
  const size_t m =
      static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(info_.managers.size()) - 1));
  manager_early_ = make(info_.managers[m], early_in, early_out, 12600);
  manager_late_ = make(info_.managers[(m + 1) % info_.managers.size()], late_in, late_out, 12600);
  const Slot stock = make(info_.stockers[static_cast<size_t>(day) % info_.stockers.size()],
                          open - kHour, open + 4 * kHour + 1800, 10800);

  std::vector<const Slot*> slots = {&manager_early_, &manager_late_, &stock};
  for (const Slot& s : early_) slots.push_back(&s);
  for (const Slot& s : late_) slots.push_back(&s);
  for (const Slot* s : slots) {
    EmitShift(*s, day, "clock_in", s->in);
    if (s->break_from != 0) {
      EmitShift(*s, day, "break_start", s->break_from);
      EmitShift(*s, day, "break_end", s->break_to);
    }
    EmitShift(*s, day, "clock_out", s->out);
    if (abuse_ != nullptr && s->staff == abuse_->staff) {
      if (abuse_->start < 0) abuse_->start = s->in;
      abuse_->end = s->out;
    }
  }
}

void StoreSim::PlanLateSpells(int64_t open, int64_t close) {
  spells_.clear();
  if (info_.late_register < 0) return;
  for (int64_t n = rng_.Int(1, 4), tries = 0;
       static_cast<int64_t>(spells_.size()) < n && tries < 20; ++tries) {
    const int64_t from = open + rng_.Int(0, close - open - 600);
    const int64_t to = from + rng_.Int(600, 10200);
    bool overlaps = false;
    for (const auto& [a, b] : spells_) overlaps = overlaps || (from < b + 600 && a < to + 600);
    if (!overlaps) spells_.emplace_back(from, to);
  }
  std::sort(spells_.begin(), spells_.end());
}

std::pair<int, int> StoreSim::PickCashier(int64_t t) {
  std::array<int, 16> ready{};
  size_t count = 0;
  for (size_t r = 0; r < early_.size() && count < ready.size(); ++r) {
    const Slot& s = t < shift_change_ ? early_[r] : late_[r];
    if (s.Available(t)) ready[count++] = static_cast<int>(r);
  }
  if (count == 0) return {-1, (t < shift_change_ ? manager_early_ : manager_late_).staff};
  const int r = ready[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(count) - 1))];
  return {r, (t < shift_change_ ? early_ : late_)[static_cast<size_t>(r)].staff};
}

int StoreSim::DrawSku(int previous_category) {
  if (previous_category >= 0 && rng_.Chance(kAffinity)) {
    const auto c = static_cast<size_t>(previous_category);
    return catalog_.members[c][static_cast<size_t>(catalog_.within_category[c].Sample(rng_))];
  }
  return catalog_.popularity.Sample(rng_);
}

int StoreSim::DrawPromoted(const Promo& promo) {
  if (promo.category >= 0) {
    const auto c = static_cast<size_t>(promo.category);
    return catalog_.members[c][static_cast<size_t>(catalog_.within_category[c].Sample(rng_))];
  }
  const double u = rng_.Uniform() * promo.cumulative.back();
  const auto it = std::upper_bound(promo.cumulative.begin(), promo.cumulative.end(), u);
  const auto i = static_cast<size_t>(it - promo.cumulative.begin());
  return promo.skus[std::min(i, promo.skus.size() - 1)];
}

void StoreSim::AddToBasket(int sku) {
  const int64_t qty = DrawQty(catalog_.products[static_cast<size_t>(sku)], rng_);
  auto same =
      std::find_if(basket_.begin(), basket_.end(), [sku](const Line& l) { return l.sku == sku; });
  if (same != basket_.end()) {
    same->qty += qty;
  } else {
    basket_.push_back({sku, qty, 0, 0, 0});
  }
}

bool StoreSim::Sale(int day, int64_t t, int64_t close) {
  const auto [reg, staff] = PickCashier(t);
  int64_t arrival = t;
  if (reg >= 0 && reg == info_.late_register) {
    for (const auto& [from, to] : spells_) {
      if (t >= from && t < to) arrival = to + 600;
    }
  }
  const bool voided = rng_.Chance(kVoidRate);
  const bool known_customer = rng_.Chance(0.55);
  const double u = rng_.Uniform();
  const auto customer = static_cast<uint64_t>(u * u * info_.customers);

  basket_.clear();
  int lines = 1;
  while (lines < kMaxLines && rng_.Chance(kContinueLine)) ++lines;
  int category = -1;
  for (int i = 0; i < lines; ++i) {
    int sku = -1;
    for (int tries = 0; tries < 5 && sku < 0; ++tries) {
      const int s = DrawSku(category);
      if (on_hand_[static_cast<size_t>(s)] > 0) sku = s;
    }
    if (sku >= 0) {
      AddToBasket(sku);
      category = catalog_.products[static_cast<size_t>(sku)].category;
    }
    // A promotion adds lines on top of the usual basket (it does not displace other items).
    if (promo_ != nullptr && basket_.size() < kMaxLines && rng_.Chance(promo_->extra)) {
      const int promoted = DrawPromoted(*promo_);
      if (on_hand_[static_cast<size_t>(promoted)] > 0) AddToBasket(promoted);
    }
  }
  if (aov_ != nullptr && t >= aov_->planned_start && t < aov_->planned_end) ShrinkBasket();
  for (size_t i = 0; i < basket_.size();) {
    Line& l = basket_[i];
    l.qty = std::min(l.qty, on_hand_[static_cast<size_t>(l.sku)]);
    if (l.qty <= 0) {
      basket_.erase(basket_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  if (basket_.empty()) return false;

  const bool abuser = abuse_ != nullptr && staff == abuse_->staff;
  int64_t subtotal = 0, discount = 0, tax = 0, units = 0;
  for (Line& l : basket_) {
    const Product& p = catalog_.products[static_cast<size_t>(l.sku)];
    l.amount = p.price * l.qty / 1000;
    int64_t percent = 0;
    if (promo_ != nullptr && Promoted(*promo_, l.sku)) percent = promo_->percent;
    if (abuser && rng_.Chance(abuse_->intensity)) {
      percent = std::max(percent, rng_.Int(20, 50));
    } else if (known_customer && rng_.Chance(0.04)) {
      percent = std::max(percent, rng_.Int(5, 10));  // loyalty
    }
    if (rng_.Chance(0.01)) percent = std::max(percent, rng_.Int(5, 15));  // damaged packaging
    l.discount = RoundDiv(l.amount * percent, 100);
    l.tax = RoundDiv((l.amount - l.discount) * (p.food ? info_.food_tax_bp : info_.tax_bp), 10000);
    subtotal += l.amount;
    discount += l.discount;
    tax += l.tax;
    units += p.weighed ? 1 : l.qty / 1000;
  }
  const int64_t total = subtotal - discount + tax;
  const int64_t order = ++order_counter_;
  const int staff_register = reg < 0 ? 0 : reg;

  BeginEvent("sale", t, info_.source, true);
  fmt::memory_buffer& b = out_->Text();
  fmt::format_to(fmt::appender(b), R"(,"order":"{}-{:06}","register":"{}-R{}","total":)", info_.id,
                 order, info_.id, staff_register + 1);
  AppendMoney(b, total);
  Append(b, R"(,"subtotal":)");
  AppendMoney(b, subtotal);
  Append(b, R"(,"discount":)");
  AppendMoney(b, discount);
  Append(b, R"(,"tax":)");
  AppendMoney(b, tax);
  fmt::format_to(fmt::appender(b), R"(,"units":{},"tender":"{}","staff":"{}")", units, Tender(rng_),
                 info_.staff[static_cast<size_t>(staff)].id);
  if (known_customer)
    fmt::format_to(fmt::appender(b), R"(,"customer":"c_{:012x}")",
                   Mix64(info_.key ^ (customer * 0x9e3779b97f4a7c15ULL)) >> 16);
  fmt::format_to(fmt::appender(b), R"(,"channel":"pos","status":"{}")",
                 voided ? "voided" : "completed");
  EndEvent(arrival, EventKind::kSale);
  if (voided) return true;

  for (size_t i = 0; i < basket_.size(); ++i) {
    const Line& l = basket_[i];
    const Product& p = catalog_.products[static_cast<size_t>(l.sku)];
    BeginEvent("line_item", t, info_.source, true);
    fmt::format_to(fmt::appender(b),
                   R"(,"order":"{}-{:06}","line":{},"sku":"{}","product":"{}","qty":)", info_.id,
                   order, i + 1, p.sku, p.name);
    AppendMilli(b, l.qty);
    Append(b, R"(,"price":)");
    AppendMoney(b, p.price);
    Append(b, R"(,"discount":)");
    AppendMoney(b, l.discount);
    Append(b, R"(,"tax":)");
    AppendMoney(b, l.tax);
    fmt::format_to(fmt::appender(b), R"(,"staff":"{}")",
                   info_.staff[static_cast<size_t>(staff)].id);
    EndEvent(arrival, EventKind::kLineItem);
  }
  for (const Line& l : basket_) {
    const auto s = static_cast<size_t>(l.sku);
    on_hand_[s] -= l.qty;
    if (hour_delta_[s] == 0) hour_touched_.push_back(l.sku);
    hour_delta_[s] += l.qty;
    hour_last_ts_[s] = t;
    if (on_hand_[s] == 0) StockHitZero(day, l.sku, t);
  }

  RecentSale sale;
  sale.order = order;
  sale.ts = t;
  sale.arrival = arrival;
  sale.day = day;
  sale.total = total;
  sale.tax = tax;
  sale.lines = basket_;
  if (rng_.Chance(kRefundRate)) {
    sale.refunded = true;
    ScheduleRefund(day, close, sale);
  }
  recent_.push_back(std::move(sale));
  if (recent_.size() > kRecentSales) recent_.pop_front();
  return true;
}

// A broken upsell: each line survives with probability 1 - drop; a basket left empty keeps one
// of its items, a single unit, swapped for a cheaper product of the category where one is found.
void StoreSim::ShrinkBasket() {
  const double keep = 1 - kShrinkScale * aov_->intensity;
  const Line fallback =
      basket_[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(basket_.size()) - 1))];
  std::erase_if(basket_, [&](const Line&) { return !rng_.Chance(keep); });
  if (!basket_.empty()) return;
  const Product& p = catalog_.products[static_cast<size_t>(fallback.sku)];
  Line line = fallback;
  line.qty = p.weighed ? std::min<int64_t>(line.qty, 400) : 1000;
  const auto c = static_cast<size_t>(p.category);
  for (int tries = 0; tries < 6 && !p.weighed; ++tries) {
    const int s =
        catalog_.members[c][static_cast<size_t>(catalog_.within_category[c].Sample(rng_))];
    const Product& q = catalog_.products[static_cast<size_t>(s)];
    if (!q.weighed && q.price * 10 < p.price * 6 && on_hand_[static_cast<size_t>(s)] > 0) {
      line.sku = s;
      break;
    }
  }
  basket_.push_back(line);
}

void StoreSim::ScheduleRefund(int day, int64_t close, const RecentSale& sale) {
  PendingRefund r;
  r.sale = sale;
  if (rng_.Chance(0.25)) {
    const int64_t earliest = sale.arrival + 300 + rng_.Int(0, kHour);
    if (earliest + 900 < close) {
      r.day = day;
      r.ts = rng_.Int(earliest, close - 1);
      today_.emplace(r.ts, std::move(r));
      return;
    }
  }
  r.day = day + 1 + static_cast<int>(13 * std::pow(rng_.Uniform(), 1.6));
  r.frac = rng_.Uniform(0.02, 0.98);
  refunds_.push_back(std::move(r));
}

void StoreSim::Refund(int64_t t, RecentSale& sale) {
  const Slot& manager = t < shift_change_ ? manager_early_ : manager_late_;
  const int staff =
      rng_.Chance(0.25) && manager.Available(t) ? manager.staff : PickCashier(t).second;
  const double u = rng_.Uniform();
  size_t reason = 0;
  for (double acc = kReasonWeights[0]; reason + 1 < kReasons.size() && u >= acc;
       acc += kReasonWeights[++reason]) {
  }
  const bool returnable = reason == 0 || reason == 2;
  const bool wants_restock = returnable && rng_.Chance(0.85);
  const bool full = sale.lines.size() == 1 || rng_.Chance(0.4);
  int64_t amount = 0, tax = 0;
  const Line* partial = nullptr;
  int64_t qty = 0;
  bool restocked = false;
  if (full) {
    amount = sale.total;
    tax = sale.tax;
    for (const Line& l : sale.lines) {
      if (wants_restock && !catalog_.products[static_cast<size_t>(l.sku)].weighed &&
          !blocked_[static_cast<size_t>(l.sku)]) {
        hour_restock_.emplace_back(l.sku, l.qty);
        restocked = true;
      }
    }
  } else {
    partial =
        &sale.lines[static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(sale.lines.size()) - 1))];
    const bool weighed = catalog_.products[static_cast<size_t>(partial->sku)].weighed;
    qty = weighed ? partial->qty : 1000 * rng_.Int(1, partial->qty / 1000);
    tax = RoundDiv(partial->tax * qty, partial->qty);
    amount = RoundDiv((partial->amount - partial->discount) * qty, partial->qty) + tax;
    if (wants_restock && !weighed && !blocked_[static_cast<size_t>(partial->sku)]) {
      hour_restock_.emplace_back(partial->sku, qty);
      restocked = true;
    }
  }
  sale.refunded = true;
  BeginEvent("refund", t, info_.source, true);
  fmt::memory_buffer& b = out_->Text();
  fmt::format_to(fmt::appender(b), R"(,"order":"{}-{:06}","refund":"{}-R{:06}","amount":)",
                 info_.id, sale.order, info_.id, ++refund_counter_);
  AppendMoney(b, amount);
  Append(b, R"(,"tax":)");
  AppendMoney(b, tax);
  fmt::format_to(fmt::appender(b), R"(,"reason":"{}","staff":"{}")", kReasons[reason],
                 info_.staff[static_cast<size_t>(staff)].id);
  if (partial != nullptr) {
    fmt::format_to(fmt::appender(b), R"(,"sku":"{}","qty":)",
                   catalog_.products[static_cast<size_t>(partial->sku)].sku);
    AppendMilli(b, qty);
  }
  fmt::format_to(fmt::appender(b), R"(,"restock":{})", restocked);
  EndEvent(t, EventKind::kRefund);
}

// refund_spike: same-day refunds of recent sales, else of yesterday's.
void StoreSim::SpikeRefund(int day, int64_t t) {
  for (int back = 0; back <= 1; ++back) {
    std::vector<size_t> eligible;
    for (size_t i = 0; i < recent_.size(); ++i) {
      const RecentSale& s = recent_[i];
      if (!s.refunded && s.day == day - back && s.arrival + 300 <= t) eligible.push_back(i);
    }
    if (!eligible.empty()) {
      Refund(t, recent_[eligible[static_cast<size_t>(
                    rng_.Int(0, static_cast<int64_t>(eligible.size()) - 1))]]);
      return;
    }
  }
}

void StoreSim::EndHour(int day, int64_t hour_start, int64_t hour_end, int sales) {
  for (int sku : hour_touched_) {
    const auto s = static_cast<size_t>(sku);
    EmitInventory(sku, hour_last_ts_[s], -hour_delta_[s], "sale");
    hour_delta_[s] = 0;
    CheckReorder(sku, day);
  }
  hour_touched_.clear();

  BeginEvent("traffic", hour_end, "traffic", false);
  fmt::memory_buffer& b = out_->Text();
  Append(b, R"(,"zone":"entrance","start":")");
  AppendTimestamp(b, hour_start);
  Append(b, R"(","end":")");
  AppendTimestamp(b, hour_end);
  if (rng_.Chance(0.003)) {
    Append(b, R"(","entries":0,"exits":null,"offline":true)");
  } else {
    const int64_t entries =
        sales > 0
            ? std::max<int64_t>(
                  sales, std::llround(sales / (info_.conversion * std::exp(0.1 * rng_.Normal()))))
            : rng_.Poisson(1.5);
    const int64_t exits = std::llround(static_cast<double>(entries) * rng_.Uniform(0.9, 1.08));
    fmt::format_to(fmt::appender(b), R"(","entries":{},"exits":{},"offline":false)", entries,
                   exits);
  }
  EndEvent(hour_end, EventKind::kTraffic);

  for (const auto& [sku, qty] : hour_restock_) {
    on_hand_[static_cast<size_t>(sku)] += qty;
    EmitInventory(sku, hour_end, qty, "adjustment");
  }
  hour_restock_.clear();
}

void StoreSim::Duplicates(size_t first_record) {
  const size_t end = out_->Size();
  if (end == first_record) return;
  for (int64_t n = rng_.Poisson(0.4); n > 0; --n) {
    size_t i = first_record +
               static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(end - first_record) - 1));
    while (i > first_record && out_->Kind(i) == EventKind::kLineItem) --i;
    const int64_t arrival = out_->Arrival(i) + rng_.Int(5, 900);
    do {
      out_->Duplicate(i++, arrival);
    } while (i < end && out_->Kind(i) == EventKind::kLineItem);
  }
}

Incident* StoreSim::ActiveIncident(IncidentKind kind, int day) {
  for (Incident* inc : incidents_) {
    if (inc->kind == kind && !inc->cancelled && day >= inc->active_first && day <= inc->active_last)
      return inc;
  }
  return nullptr;
}

}  // namespace aisle::gen
