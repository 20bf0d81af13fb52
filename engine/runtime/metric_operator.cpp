#include "engine/runtime/metric_operator.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/sale_index.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
// Whether a window ending at `end` is closed for good at `watermark`: it ended `lateness` or more
// before (computed without overflow at the ends of int64).
bool Closed(int64_t end, int64_t watermark, int64_t lateness) {
  return end <= watermark &&
         static_cast<uint64_t>(watermark) - static_cast<uint64_t>(end) >= static_cast<uint64_t>(lateness);
}
}  // namespace

MetricOperator::MetricOperator(const dsl::plan::Metric& plan, const OperatorRegistry& registry,
                               EventTime time, const dsl::plan::Policies* policies,
                               const SaleIndex* sales)
    : plan_(plan),
      time_(time),
      over_metric_(!plan.input.is_stream),
      record_windows_(plan.window_kind == dsl::plan::Metric::WindowKind::kSliding ||
                      plan.window_kind == dsl::plan::Metric::WindowKind::kSession),
      policies_(policies),
      sales_(sales),
      evaluator_(registry, policies) {
  for (size_t f = 0; f < plan_.input_fields.size(); ++f)
    if (plan_.input_fields[f].name == "store") input_store_field_ = static_cast<int>(f);
  if (plan_.store_field >= 0 || plan_.during_open_hours) calendar_ = std::make_unique<Calendar>(plan_);
  if (!plan_.project.empty()) projection_ = std::make_unique<Projection>(plan_, registry);
  // Partitioned by store when keyed by it; the store is read from the input record (before any
  // select), so the partition is known before the filters run.
  const auto& key_fields = plan_.project.empty() ? plan_.input_fields : plan_.projected;
  for (int k : plan_.keys)
    if (key_fields[static_cast<size_t>(k)].name == "store") partition_key_ = input_store_field_;
  for (const auto& a : plan_.aggregates) {
    const AggregateImpl* impl = &registry.Get(a.function).aggregate;
    aggs_.push_back(impl);
    offsets_.push_back(state_bytes_);
    state_bytes_ += (impl->state_size + 7) & ~size_t{7};
  }
  if (plan_.affinity) {
    // The baskets: one owning state block, handled like an aggregate's (init, destroy, save, load).
    const dsl::plan::Affinity& a = *plan_.affinity;
    miner_ = &registry.Get(a.function).miner;
    miner_settings_ = {a.min_support_numerator, a.min_support_denominator,
                       a.min_confidence_numerator, a.min_confidence_denominator, a.max_items};
    aggs_.push_back(&miner_->state);
    offsets_.push_back(state_bytes_);
    state_bytes_ += (miner_->state.state_size + 7) & ~size_t{7};
  }
  if (plan_.segments) {
    // The customers: one owning state block like the baskets', with the spend's currency in its
    // currency slot.
    const dsl::plan::Segments& sg = *plan_.segments;
    segmenter_ = &registry.Get(sg.function).segmenter;
    segmenter_settings_ = {sg.k, sg.per_customer};
    aggs_.push_back(&segmenter_->state);
    offsets_.push_back(state_bytes_);
    state_bytes_ += (segmenter_->state.state_size + 7) & ~size_t{7};
  }
  currency_offset_ = state_bytes_;
  state_bytes_ += aggs_.size() * sizeof(dsl::Currency);
}

MetricOperator::~MetricOperator() {
  for (auto& [pk, p] : partitions_)
    for (auto& [start, window] : p.windows)
      for (auto& [key, g] : window.groups) DestroyGroup(g);
}

MetricOperator::Group MetricOperator::NewGroup() const {
  Group g;
  if (over_metric_) g.inputs = std::make_unique<Inputs>();
  else g.state = NewStates();
  return g;
}

void MetricOperator::DestroyGroup(Group& g) const {
  if (!g.state) return;
  DestroyStates(g.state.get());
  g.state.reset();
}

std::unique_ptr<unsigned char[]> MetricOperator::NewStates() const {
  // Value-initialised: every currency starts as 0, none seen.
  auto states = std::make_unique<unsigned char[]>(std::max<size_t>(state_bytes_, 1));
  for (size_t i = 0; i < aggs_.size(); ++i) aggs_[i]->init(states.get() + offsets_[i]);
  return states;
}

void MetricOperator::DestroyStates(unsigned char* states) const {
  for (size_t i = 0; i < aggs_.size(); ++i)
    if (aggs_[i]->destroy) aggs_[i]->destroy(states + offsets_[i]);
}

dsl::Currency MetricOperator::CurrencyOf(const unsigned char* states, size_t agg) const {
  dsl::Currency c;
  std::memcpy(&c, states + currency_offset_ + agg * sizeof c, sizeof c);
  return c;
}

void MetricOperator::SetCurrency(unsigned char* states, size_t agg, dsl::Currency currency) const {
  std::memcpy(states + currency_offset_ + agg * sizeof currency, &currency, sizeof currency);
}

void MetricOperator::Fold(unsigned char* states, size_t agg, const Value& v) const {
  if (v.type == dsl::Type::kMoney) {
    const dsl::Currency first = CurrencyOf(states, agg);
    if (first == 0) SetCurrency(states, agg, v.currency);
    else if (first != v.currency) return;  // never add up two currencies
  }
  aggs_[agg]->add(states + offsets_[agg], v);
}

Value MetricOperator::Result(const unsigned char* states, size_t agg) const {
  return aggs_[agg]->result(states + offsets_[agg], plan_.aggregates[agg].argument_type,
                            CurrencyOf(states, agg));
}

void MetricOperator::PartitionOf(std::span<const Value> record, std::string& out) const {
  out.clear();
  if (partition_key_ >= 0) EncodeValue(record[static_cast<size_t>(partition_key_)], out);
}

int64_t MetricOperator::WatermarkOf(std::string_view partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? floor_ : it->second.watermark;
}

MetricOperator::Partition& MetricOperator::PartitionFor(std::string_view key) {
  auto it = partitions_.find(key);
  if (it == partitions_.end()) {
    it = partitions_.emplace(std::string(key), Partition{}).first;
    Partition& p = it->second;
    p.watermark = floor_;
    p.self = &*it;  // elements keep their address when the map rehashes
    if (!plan_.distinct.empty()) p.distinct = std::make_unique<DistinctFilter>(plan_.distinct);
    p.watermark_unsaved = true;
    Touch(p);
  }
  return it->second;
}

void MetricOperator::Queue(Partition& p) {
  if (p.queued) return;
  p.queued = true;
  due_.push_back(p.self);
}

void MetricOperator::Touch(Partition& p) {
  if (p.unsaved) return;
  p.unsaved = true;
  touched_.push_back(p.self);
}

void MetricOperator::MarkUnsaved(Partition& p, Window& w, Groups::value_type& group) {
  Touch(p);
  if (group.second.unsaved) return;
  group.second.unsaved = true;
  w.unsaved.push_back(&group);
}

void MetricOperator::Raise(Partition& p, int64_t watermark) {
  if (watermark <= p.watermark) return;
  p.watermark = watermark;
  p.watermark_unsaved = true;
  Touch(p);
  if (p.next_due <= watermark) Queue(p);
}

void MetricOperator::AdvanceAll(int64_t watermark) {
  floor_ = std::max(floor_, watermark);
  for (auto& [key, p] : partitions_) Raise(p, watermark);
}

int64_t MetricOperator::low_watermark() const {
  if (partitions_.empty()) return INT64_MIN;
  int64_t low = INT64_MAX, high = INT64_MIN;
  for (const auto& [key, p] : partitions_) {
    low = std::min(low, p.watermark);
    high = std::max(high, p.watermark);
  }
  if (time_.idle <= 0 || high < INT64_MIN + time_.idle) return low;
  const int64_t active = high - time_.idle;  // partitions at or above this hold the others back
  low = INT64_MAX;
  for (const auto& [key, p] : partitions_)
    if (p.watermark >= active) low = std::min(low, p.watermark);
  return low;
}

void MetricOperator::AdvanceTo(std::string_view partition, int64_t watermark) {
  // A metric not keyed by store follows the most advanced store of its input: records of a store
  // that lags arrive later and, within lateness, correct what fired.
  Raise(PartitionFor(partitioned() ? partition : std::string_view()), watermark);
}

MetricOperator::AddResult MetricOperator::Add(std::span<const Value> record, int64_t time,
                                              const Event* event, std::string_view source_key,
                                              bool correction, int store) {
  PartitionOf(record, partition_scratch_);
  Partition& p = PartitionFor(partition_scratch_);
  // Over a stream, every event moves the watermark, whether or not it passes the filters.
  if (!over_metric_ && time - time_.delay > p.watermark) Raise(p, time - time_.delay);

  bool pass = true;
  if (plan_.during_open_hours) {
    const Value& s = record[static_cast<size_t>(plan_.hours_store_field)];
    pass = calendar_->IsOpen(s.type == dsl::Type::kString ? s.str() : "", time);
  }
  for (size_t i = 0; pass && i < plan_.filters.size(); ++i)
    pass = evaluator_.Holds(plan_.filters[i], record, event, store);
  // Over a metric the input record is kept as it came (and projected when the group fires).
  std::span<const Value> projected = record;
  if (pass && projection_ && !over_metric_) pass = projection_->Apply(projected, event);
  // A corrected input record that no longer passes still withdraws the one it corrects.
  if (!pass && !correction) return AddResult::kFiltered;

  if (pass && projection_ && over_metric_) {
    std::span<const Value> check = record;
    pass = projection_->Apply(check, event);
    projected = check;
  }
  // `attribute to sale`: the refund's window is its sale's, when the sale is known.
  int64_t window_time = time;
  if (plan_.attribute_within > 0 && sales_ && pass) {
    const Value& order = record[static_cast<size_t>(plan_.attribute_order_field)];
    const Value& shop = record[static_cast<size_t>(plan_.attribute_store_field)];
    if (order.type == dsl::Type::kString && shop.type == dsl::Type::kString)
      if (auto sold = sales_->Find(shop.str(), order.str(), time, plan_.attribute_within))
        window_time = *sold;
  }
  const Input in{over_metric_ ? record : projected, projected, event, source_key, time, pass,
                 correction, store};
  bool any = false;
  if (record_windows_) {
    any = AddToTrail(p, in);
  } else if (plan_.window_kind == dsl::plan::Metric::WindowKind::kHopping) {
    // Every window [k * step, k * step + size) that holds `time`, oldest first.
    const int64_t step = plan_.window_step, size = plan_.window_size;
    for (int64_t start = (dsl::FloorDiv(window_time - size, step) + 1) * step; start <= window_time; start += step)
      any |= AddTo(p, in, start, start + size);
  } else {
    int64_t start, end;
    if (plan_.window_kind != dsl::plan::Metric::WindowKind::kTumbling) {
      const Value& store = projected[static_cast<size_t>(plan_.store_field)];
      std::tie(start, end) =
          calendar_->Period(store.type == dsl::Type::kString ? store.str() : "", window_time);
    } else {
      const int64_t size = plan_.window_size;
      start = dsl::FloorDiv(window_time - plan_.window_offset, size) * size + plan_.window_offset;
      end = start + size;
    }
    any = AddTo(p, in, start, end);
  }
  if (!pass) return AddResult::kFiltered;
  return any ? AddResult::kAdded : AddResult::kLate;
}

bool MetricOperator::AddTo(Partition& p, const Input& in, int64_t start, int64_t end) {
  // Closed for good: the window ended more than `lateness` before the watermark.
  if (Closed(end, p.watermark, time_.lateness)) return false;

  auto window_it = p.windows.find(start);
  if (window_it == p.windows.end()) {
    if (!in.pass) return true;  // nothing to withdraw
    window_it = p.windows.emplace(start, Window{}).first;
    window_it->second.end = end;
    if (end < p.next_due) {
      p.next_due = end;
      if (end <= p.watermark) Queue(p);  // a window opened late: it fires at once
    }
  }
  Window& window = window_it->second;
  if (over_metric_) {
    // Identity of the input record: its group key and window start.
    identity_.assign(in.source_key);
    PutI64Ordered(identity_, in.time);
    if (in.correction) {
      for (auto& group : window.groups) {
        Group& g = group.second;
        if (g.inputs->erase(identity_) == 0) continue;
        MarkUnsaved(p, window, group);
        if (window.fired) g.dirty = window.dirty = true;
      }
    }
    if (!in.pass) {
      if (window.dirty) Queue(p);
      return true;
    }
  }
  key_scratch_.clear();
  for (int k : plan_.keys) EncodeValue(in.projected[static_cast<size_t>(k)], key_scratch_);
  if (p.distinct && !p.distinct->FirstSeen(start, key_scratch_, in.projected)) return true;
  Groups& groups = window.groups;
  auto it = groups.find(std::string_view(key_scratch_));
  if (it == groups.end()) it = groups.emplace(key_scratch_, NewGroup()).first;
  Group& g = it->second;
  MarkUnsaved(p, window, *it);
  if (over_metric_) {
    std::string encoded;
    for (const Value& v : in.record) EncodeValue(v, encoded);
    (*g.inputs)[identity_] = std::move(encoded);
  } else if (miner_) {
    miner_->add(g.state.get() + offsets_[0],
                in.projected[static_cast<size_t>(plan_.affinity->basket_field)],
                in.projected[static_cast<size_t>(plan_.affinity->item_field)]);
  } else if (segmenter_) {
    AddPurchase(g.state.get(), in);
  } else {
    for (size_t i = 0; i < aggs_.size(); ++i) {
      const auto& agg = plan_.aggregates[i];
      Fold(g.state.get(), i,
           agg.argument ? evaluator_.Eval(*agg.argument, in.projected, in.event, in.store)
                        : Value::Bool(true));
    }
  }
  if (window.fired) {
    // A correction: the group fires again with the next Fire.
    g.dirty = window.dirty = true;
    Queue(p);
  }
  return true;
}

void MetricOperator::UpdateNextDue(Partition& p) const {
  p.next_due = INT64_MAX;
  if (!p.pending.empty()) p.next_due = std::get<0>(*p.pending.begin());
  if (!p.trails.empty() && plan_.window_kind == dsl::plan::Metric::WindowKind::kSliding)
    p.next_due = std::min(p.next_due, p.next_sweep);
  for (const auto& [start, w] : p.windows) {
    const int64_t due =
        w.fired ? (w.end > INT64_MAX - time_.lateness ? INT64_MAX : w.end + time_.lateness) : w.end;
    p.next_due = std::min(p.next_due, due);
  }
}

void MetricOperator::FireGroup(int64_t start, int64_t end, std::string_view key, Group& g,
                               const RecordHandler& emit) {
  std::vector<Value>& record = record_;
  record.resize(plan_.output.size());
  keys_.clear();
  DecodeValues(key, keys_);
  size_t f = 0;
  for (const Value& k : keys_) record[f++] = k;
  if (miner_) {
    FireRules(start, end, key, g, f, emit);
  } else if (segmenter_) {
    FireSegments(start, end, key, g, f, emit);
  } else if (over_metric_) {
    // Aggregate the input records the group holds now.
    std::unique_ptr<unsigned char[]> states = NewStates();
    for (const auto& [identity, encoded] : *g.inputs) {
      input_.clear();
      if (!DecodeValues(encoded, input_)) continue;
      std::span<const Value> in = input_;
      if (projection_ && !projection_->Apply(in, nullptr)) continue;
      int store = -1;
      if (policies_ && policies_->by_store && input_store_field_ >= 0 &&
          static_cast<size_t>(input_store_field_) < input_.size() &&
          input_[static_cast<size_t>(input_store_field_)].type == dsl::Type::kString)
        store = policies_->StoreIndex(input_[static_cast<size_t>(input_store_field_)].str());
      for (size_t i = 0; i < aggs_.size(); ++i) {
        const auto& agg = plan_.aggregates[i];
        Fold(states.get(), i,
             agg.argument ? evaluator_.Eval(*agg.argument, in, nullptr, store) : Value::Bool(true));
      }
    }
    for (size_t i = 0; i < aggs_.size(); ++i) record[f++] = Result(states.get(), i);
    // Results are plain values except strings, which point into the states: emit before freeing.
    record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
    record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
    emit(record, key, start, g.emitted);
    DestroyStates(states.get());
  } else {
    for (size_t i = 0; i < aggs_.size(); ++i) record[f++] = Result(g.state.get(), i);
    record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
    record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
    emit(record, key, start, g.emitted);
  }
  if (g.emitted) ++corrections_;
  g.emitted = true;
  g.dirty = false;
}

// `affinity`: one record per association rule, keyed by the group key, the antecedent and the
// consequent. Strings point into rules_, which outlives the emit calls.
void MetricOperator::FireRules(int64_t start, int64_t end, std::string_view key, Group& g,
                               size_t first, const RecordHandler& emit) {
  std::vector<Value>& record = record_;
  miner_->mine(g.state.get() + offsets_[0], miner_settings_, rules_);
  record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
  record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
  for (const MinedRule& r : rules_) {
    size_t f = first;
    const Value antecedent = Value::String(r.antecedent);
    const Value consequent = Value::String(r.consequent);
    record[f++] = antecedent;
    record[f++] = consequent;
    record[f++] = Value::Int(r.items);
    record[f++] = Value::Int(r.baskets);
    record[f++] = Value::Percent(r.support);
    record[f++] = Value::Percent(r.confidence);
    record[f++] = Value::Decimal(r.lift);
    record[f++] = r.conviction_infinite ? Value::Null() : Value::Decimal(r.conviction);
    rule_key_.assign(key);
    EncodeValue(antecedent, rule_key_);
    EncodeValue(consequent, rule_key_);
    emit(record, rule_key_, start, g.emitted);
  }
}

// `segments`: a purchase without money spend (a null total) or without a customer is no purchase
// of a customer; spend in another currency than the group's first is skipped whole, like a money
// aggregate's, so one customer's figures never mix currencies.
void MetricOperator::AddPurchase(unsigned char* states, const Input& in) {
  const dsl::plan::Segments& sg = *plan_.segments;
  const Value& customer = in.projected[static_cast<size_t>(sg.customer_field)];
  const bool known = customer.type == dsl::Type::kInt ||
                     (customer.type == dsl::Type::kString && !customer.str().empty());
  if (!known) return;  // a guest's sale does not choose the group's currency either
  const Value spend = evaluator_.Eval(sg.spend, in.projected, in.event, in.store);
  if (spend.type != dsl::Type::kMoney) return;
  const dsl::Currency first = CurrencyOf(states, 0);
  if (first == 0) SetCurrency(states, 0, spend.currency);
  else if (first != spend.currency) return;
  const Value none = Value::Null();
  segmenter_->add(states + offsets_[0], customer, spend.i, in.time,
                  sg.mix_field >= 0 ? in.projected[static_cast<size_t>(sg.mix_field)] : none);
}

// `segments`: the group's customers fitted as of the window's end, one record per segment (keyed
// by the group key and the segment) or per customer (by the group key and the customer). Strings
// point into segment_rows_, which outlives the emit calls.
void MetricOperator::FireSegments(int64_t start, int64_t end, std::string_view key, Group& g,
                                  size_t first, const RecordHandler& emit) {
  std::vector<Value>& record = record_;
  segmenter_->fit(g.state.get() + offsets_[0], segmenter_settings_, end, segment_rows_);
  const dsl::Currency currency = CurrencyOf(g.state.get(), 0);
  record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
  record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
  for (const SegmentRow& r : segment_rows_) {
    size_t f = first;
    rule_key_.assign(key);
    if (segmenter_settings_.per_customer) {
      const Value customer = Value::String(r.customer);
      record[f++] = customer;
      record[f++] = Value::Int(r.segment);
      record[f++] = Value::String(r.label);
      record[f++] = Value::Decimal(r.recency_days);
      record[f++] = Value::Int(static_cast<int64_t>(r.frequency));
      record[f++] = Value::Money(r.monetary, currency);
      EncodeValue(customer, rule_key_);
    } else {
      const Value segment = Value::Int(r.segment);
      record[f++] = segment;
      record[f++] = Value::String(r.label);
      record[f++] = Value::Int(r.customers);
      record[f++] = Value::Decimal(r.recency_days);
      record[f++] = Value::Decimal(r.frequency);
      record[f++] = Value::Money(r.monetary, currency);
      record[f++] = Value::Money(r.total_spend, currency);
      record[f++] = Value::Percent(r.share);
      record[f++] = r.has_top_category ? Value::String(r.top_category) : Value::Null();
      EncodeValue(segment, rule_key_);
    }
    emit(record, rule_key_, start, g.emitted);
  }
}

void MetricOperator::FirePartition(Partition& p, int64_t watermark, const RecordHandler& emit) {
  if (record_windows_) {
    FireTrails(p, watermark, emit);
    UpdateNextDue(p);
    return;
  }
  // Windows in start order; one that starts at or after the watermark has neither ended nor fired.
  for (auto it = p.windows.begin(); it != p.windows.end() && it->first < watermark;) {
    const int64_t start = it->first;
    Window& w = it->second;
    if ((!w.fired && w.end <= watermark) || w.dirty) {
      // Groups in key order, so output does not depend on hashing. A window that fires for the
      // first time fires every group, so every group's saved flags change with the window's.
      std::vector<Groups::value_type*> ordered;
      ordered.reserve(w.groups.size());
      for (auto& group : w.groups)
        if (!w.fired || group.second.dirty) ordered.push_back(&group);
      std::sort(ordered.begin(), ordered.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      for (auto* group : ordered) {
        FireGroup(start, w.end, group->first, group->second, emit);
        MarkUnsaved(p, w, *group);
      }
      w.fired = true;
      w.dirty = false;
    }
    if (w.fired && Closed(w.end, watermark, time_.lateness)) {
      for (auto& [key, g] : w.groups) DestroyGroup(g);
      if (p.distinct) p.distinct->Forget(start);
      p.closed.push_back(start);  // the next checkpoint deletes its key range
      Touch(p);
      it = p.windows.erase(it);
    } else {
      ++it;
    }
  }
  UpdateNextDue(p);
}

void MetricOperator::Fire(const RecordHandler& emit, const WatermarkHandler& advanced) {
  while (!due_.empty()) {
    // Firing sends records to other operators only, never back here, but take the list first.
    std::vector<Partitions::value_type*> due;
    due.swap(due_);
    for (auto* entry : due) {
      Partition& p = entry->second;
      p.queued = false;
      FirePartition(p, p.watermark, emit);
      advanced(entry->first, p.watermark);
    }
  }
}

void MetricOperator::FireAll(const RecordHandler& emit, const WatermarkHandler& advanced) {
  // Partitions in key order, so the output of a final flush is reproducible.
  std::vector<Partitions::value_type*> all;
  for (auto& entry : partitions_) all.push_back(&entry);
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->first < b->first; });
  due_.clear();
  for (auto* entry : all) {
    Partition& p = entry->second;
    p.queued = false;
    p.watermark = INT64_MAX;
    p.watermark_unsaved = true;
    Touch(p);
    FirePartition(p, INT64_MAX, emit);
    advanced(entry->first, INT64_MAX);
  }
  floor_ = INT64_MAX;
}

size_t MetricOperator::open_windows() const {
  size_t n = 0;
  for (const auto& [key, p] : partitions_) n += p.windows.size() + p.pending.size();
  return n;
}

}  // namespace aisle::engine
