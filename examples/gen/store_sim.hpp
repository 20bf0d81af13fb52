#pragma once
// One store's day-by-day simulation (internal to examples/gen), and the buffer that puts the
// events of all stores into arrival order.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "examples/gen/catalog.hpp"

namespace aisle::gen {

enum class EventKind : uint8_t { kSale, kLineItem, kRefund, kInventory, kShift, kTraffic };

// EventBuffer: formatted event lines waiting to be written, ordered at flush by (arrival, order
// of generation). Not thread-safe.
class EventBuffer {
 public:
  // Room for about `bytes` of pending text, so that the buffers rarely grow.
  void Reserve(size_t bytes) {
    text_.reserve(bytes);
    spare_.reserve(bytes / 2);
  }
  // Format an event by appending to Text() after taking Mark(), then Commit it.
  fmt::memory_buffer& Text() { return text_; }
  size_t Mark() const { return text_.size(); }
  void Commit(size_t mark, int64_t arrival, EventKind kind) {
    records_.push_back(
        {arrival, next_seq_++, mark, static_cast<uint32_t>(text_.size() - mark), kind});
  }
  size_t Size() const { return records_.size(); }
  EventKind Kind(size_t index) const { return records_[index].kind; }
  // Queues another copy of record `index` (same text) arriving at `arrival`.
  void Duplicate(size_t index, int64_t arrival) {
    Record copy = records_[index];
    copy.arrival = arrival;
    copy.seq = next_seq_++;
    records_.push_back(copy);
  }
  int64_t Arrival(size_t index) const { return records_[index].arrival; }

  // Hands the records arriving before `watermark` to write(line, kind, arrival) in order and keeps
  // the rest. Returns false as soon as `write` returns false (the rest are then dropped).
  template <typename Write>
  bool Flush(int64_t watermark, Write&& write) {
    std::sort(records_.begin(), records_.end(), [](const Record& a, const Record& b) {
      return a.arrival != b.arrival ? a.arrival < b.arrival : a.seq < b.seq;
    });
    size_t i = 0;
    for (; i < records_.size() && records_[i].arrival < watermark; ++i) {
      const Record& r = records_[i];
      if (!write(std::string_view(text_.data() + r.offset, r.length), r.kind, r.arrival))
        return false;
    }
    // Keep the rest in the spare buffer and swap, so both keep their capacity between flushes.
    spare_.clear();
    rest_.clear();
    for (; i < records_.size(); ++i) {
      Record r = records_[i];
      const size_t offset = spare_.size();
      spare_.append(text_.data() + r.offset, text_.data() + r.offset + r.length);
      r.offset = offset;
      rest_.push_back(r);
    }
    std::swap(text_, spare_);
    std::swap(records_, rest_);
    return true;
  }

 private:
  struct Record {
    int64_t arrival;
    uint64_t seq;
    size_t offset;
    uint32_t length;
    EventKind kind;
  };
  fmt::memory_buffer text_, spare_;
  std::vector<Record> records_, rest_;
  uint64_t next_seq_ = 0;
};

enum class IncidentKind { kAovDrop, kDiscountAbuse, kStockout, kRefundSpike };

// Incident: an injected anomaly. Planned by the generator (kind, store, days, intensity), then
// `start`/`end` are set by the simulation once it has happened (start < 0: not happened).
struct Incident {
  IncidentKind kind = IncidentKind::kAovDrop;
  int store = 0;
  int first_day = 0, last_day = 0;  // local days it may occupy, inclusive (kept apart from others)
  int active_first = 0,
      active_last = 0;   // days with abnormal behaviour (stockout: target zero day)
  double intensity = 0;  // aov: drop fraction; abuse: share of lines; spike: rate multiplier
  int staff = -1;        // discount_abuse: the cashier (index into StoreInfo::staff)
  int64_t planned_start = 0, planned_end = 0;  // aov_drop: the interval
  int block_day = 0;                           // stockout: when the supplier stops delivering
  int sku = -1;                                // stockout: the product that runs out
  bool cancelled = false;
  int64_t start = -1, end = -1;
};

std::string_view IncidentKindName(IncidentKind kind);

// StoreSim: a store's stock, staff, promotions and pending work, advanced one local day at a time
// with its own random stream. `info`, `catalog` and the incidents must outlive it; it writes the
// incidents' start/end. Not thread-safe.
class StoreSim {
 public:
  StoreSim(const StoreInfo& info, const Catalog& catalog, date::local_days first_day, uint64_t seed,
           std::vector<Incident*> incidents);

  // Appends the events of local day `day` (0 = first day) to `out`; call with day 0, 1, 2, ...
  // Every event of later days has a later `ts` than Midnight(day + 1).
  void RunDay(int day, EventBuffer& out);
  // UTC seconds of the local midnight that starts day `day`.
  int64_t Midnight(int day) const;
  // Expected line items per calendar day, averaged over the week, without trend.
  static double ExpectedLinesPerDay(const StoreInfo& info);

 private:
  static constexpr double kBaseSales = 170;  // sales per open day at size 1, weekday factor 1
  static constexpr double kUnitQtyDispersion = 2.05;  // E[q^2] / E[q] of a unit-goods line
  static constexpr double kKgDispersion = 1.02;       // the same for a weighed line (kg)
  static constexpr int64_t kHour = 3600;
  static constexpr int64_t kDay = 86400;

  struct Line {
    int sku;
    int64_t qty;                    // thousandths
    int64_t amount, discount, tax;  // cents
  };
  struct RecentSale {
    int64_t order = 0;
    int64_t ts = 0, arrival = 0;
    int day = 0;
    bool refunded = false;
    int64_t total = 0, tax = 0;
    std::vector<Line> lines;
  };
  struct PendingRefund {
    int day = 0;
    int64_t ts = -1;  // absolute when known, else placed at `frac` of the opening hours
    double frac = 0;
    RecentSale sale;  // order 0: a refund_spike refund, which picks a recent sale when it happens
  };
  struct Receipt {
    int64_t ts;
    int sku;
    int64_t qty;
    bool recovery;  // ends a stockout incident
  };
  struct Slot {
    int staff = -1;
    int64_t in = 0, out = 0, break_from = 0, break_to = 0;
    bool Available(int64_t t) const {
      return staff >= 0 && t >= in && t < out && !(t >= break_from && t < break_to);
    }
  };
  struct Promo {
    int first_day = 0, last_day = 0;
    int category = -1;  // whole category on promotion, else `skus`
    std::vector<int> skus;
    std::vector<double> cumulative;  // popularity within `skus`
    int percent = 0;
    double lift = 1;
    double extra = 0;  // chance, per drawn line, of one more line from the promotion
  };

  // Events.
  void BeginEvent(std::string_view type, int64_t ts, std::string_view source, bool money);
  void EndEvent(int64_t arrival, EventKind kind);
  void EmitInventory(int sku, int64_t ts, int64_t delta, std::string_view reason);
  void EmitShift(const Slot& slot, int day, std::string_view action, int64_t ts);
  // Parts of a day.
  void PlanStaff(int day, int64_t open, int64_t close);
  void PlanLateSpells(int64_t open, int64_t close);
  void PrepareStockout(int day, int64_t open);
  void CycleCounts(int64_t open);
  void ApplyReceipts(int64_t until);
  bool Sale(int day, int64_t t, int64_t close);  // false: nothing in stock was wanted
  void ShrinkBasket();
  void StockHitZero(int day, int sku, int64_t t);
  void Refund(int64_t t, RecentSale& sale);
  void SpikeRefund(int day, int64_t t);
  void EndHour(int day, int64_t hour_start, int64_t hour_end, int sales);
  void Duplicates(size_t first_record);
  // Helpers.
  static double MeanLines();  // line draws per sale (duplicates merge into one line)
  date::local_days Date(int day) const;
  const DayHours& Hours(int day) const;
  bool Open(int day) const;
  int64_t OpenTime(int day) const;
  int64_t CloseTime(int day) const;
  double ExpectedSales(int day) const;         // completed and voided, without noise
  std::pair<int, int> PickCashier(int64_t t);  // (register or -1, staff index)
  int DrawSku(int previous_category);
  int DrawPromoted(const Promo& promo);
  void AddToBasket(int sku);  // merges a product already in the basket
  const Promo* ActivePromo(int day) const;
  bool Promoted(const Promo& promo, int sku) const;
  void EnsurePromos(int day);
  double DailyUnits(int sku, int day) const;  // expected units sold on `day`
  std::pair<int64_t, int64_t> Levels(int sku, int day) const;
  void CheckReorder(int sku, int day);
  void AddReceipt(const Receipt& receipt);
  void ScheduleRefund(int day, int64_t close, const RecentSale& sale);
  Incident* ActiveIncident(IncidentKind kind, int day);
  double Trend(int day) const;
  uint64_t NextId() { return Mix64(info_.key + ++id_counter_); }

  const StoreInfo& info_;
  const Catalog& catalog_;
  date::local_days first_day_;
  Rng rng_;
  std::vector<Incident*> incidents_;
  EventBuffer* out_ = nullptr;
  size_t mark_ = 0;
  uint64_t id_counter_ = 0;
  int64_t order_counter_ = 0, refund_counter_ = 0;

  std::vector<int64_t> on_hand_, on_order_;  // thousandths
  std::vector<bool> blocked_;
  std::vector<double> base_units_;  // expected units per open day at weekday factor 1, no trend
  double week_factor_ = 0;          // mean weekday factor over the calendar week (closed days 0)
  std::vector<int64_t> hour_delta_, hour_last_ts_;
  std::vector<int> hour_touched_;
  std::vector<std::pair<int, int64_t>> hour_restock_;
  std::vector<Receipt> receipts_;                // sorted by ts
  std::vector<PendingRefund> refunds_;           // due on later days
  std::multimap<int64_t, PendingRefund> today_;  // due today, by time
  std::vector<Line> basket_;
  std::deque<RecentSale> recent_;
  std::deque<Promo> promos_;
  int next_promo_day_ = 0;
  bool counted_ = false;  // the opening stock snapshot has been written

  // Today's staffing and register outages.
  std::vector<Slot> early_, late_;  // per register
  Slot manager_early_, manager_late_;
  int64_t shift_change_ = 0;
  std::vector<std::pair<int64_t, int64_t>> spells_;
  Incident* aov_ = nullptr;
  Incident* abuse_ = nullptr;
  const Promo* promo_ = nullptr;
};

}  // namespace aisle::gen
