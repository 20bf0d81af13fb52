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
// Value versions. 2: [2][window end][states]. 3: [3][window end][flags][payload], where the
// payload is the aggregate states (over a stream) or the input records (over a metric).
constexpr char kStateVersion = 3;
constexpr char kWindowTag = 'W';
constexpr char kMarkTag = 'F';       // version 2: one fired-through mark for the whole metric
constexpr char kWatermarkTag = 'P';  // [P][partition] -> the partition's watermark
constexpr char kDistinctTag = 'D';   // `distinct`: what each open window has seen
constexpr char kTrailTag = 'T';      // sliding and session windows: one group's records
constexpr unsigned char kFiredFlag = 1, kEmittedFlag = 2, kDirtyFlag = 4;

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
  if (!plan_.distinct.empty()) distinct_ = std::make_unique<DistinctFilter>(plan_.distinct);
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
}

MetricOperator::~MetricOperator() {
  for (auto& [pk, p] : partitions_)
    for (auto& [start, window] : p.windows)
      for (auto& [key, g] : window.groups) DestroyGroup(g);
}

MetricOperator::Group MetricOperator::NewGroup() const {
  Group g;
  g.currency.assign(aggs_.size(), 0);
  if (over_metric_) return g;  // states are built when the group fires
  g.state = std::make_unique<unsigned char[]>(std::max<size_t>(state_bytes_, 1));
  for (size_t i = 0; i < aggs_.size(); ++i) aggs_[i]->init(g.state.get() + offsets_[i]);
  return g;
}

void MetricOperator::DestroyGroup(Group& g) const {
  if (!g.state) return;
  for (size_t i = 0; i < aggs_.size(); ++i)
    if (aggs_[i]->destroy) aggs_[i]->destroy(g.state.get() + offsets_[i]);
  g.state.reset();
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
    it->second.watermark = floor_;
    it->second.self = &*it;  // elements keep their address when the map rehashes
  }
  return it->second;
}

void MetricOperator::Queue(Partition& p) {
  if (p.queued) return;
  p.queued = true;
  due_.push_back(p.self);
}

void MetricOperator::Raise(Partition& p, int64_t watermark) {
  if (watermark <= p.watermark) return;
  p.watermark = watermark;
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
      for (auto& [key, g] : window.groups)
        if (g.inputs.erase(identity_) > 0 && window.fired) g.dirty = window.dirty = true;
    }
    if (!in.pass) {
      if (window.dirty) Queue(p);
      return true;
    }
  }
  key_scratch_.clear();
  for (int k : plan_.keys) EncodeValue(in.projected[static_cast<size_t>(k)], key_scratch_);
  if (distinct_ && !distinct_->FirstSeen(start, key_scratch_, in.projected)) return true;
  Groups& groups = window.groups;
  auto it = groups.find(std::string_view(key_scratch_));
  if (it == groups.end()) it = groups.emplace(key_scratch_, NewGroup()).first;
  Group& g = it->second;
  if (over_metric_) {
    std::string encoded;
    for (const Value& v : in.record) EncodeValue(v, encoded);
    g.inputs[identity_] = std::move(encoded);
  } else {
    for (size_t i = 0; i < aggs_.size(); ++i) {
      const auto& agg = plan_.aggregates[i];
      Value v = agg.argument ? evaluator_.Eval(*agg.argument, in.projected, in.event, in.store)
                             : Value::Bool(true);
      if (v.type == dsl::Type::kMoney) {
        if (g.currency[i] == 0) g.currency[i] = v.currency;
        else if (g.currency[i] != v.currency) continue;  // never add up two currencies
      }
      aggs_[i]->add(g.state.get() + offsets_[i], v);
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
  if (over_metric_) {
    // Aggregate the input records the group holds now.
    Group scratch;
    scratch.currency.assign(aggs_.size(), 0);
    scratch.state = std::make_unique<unsigned char[]>(std::max<size_t>(state_bytes_, 1));
    for (size_t i = 0; i < aggs_.size(); ++i) aggs_[i]->init(scratch.state.get() + offsets_[i]);
    for (const auto& [identity, encoded] : g.inputs) {
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
        Value v = agg.argument ? evaluator_.Eval(*agg.argument, in, nullptr, store)
                               : Value::Bool(true);
        if (v.type == dsl::Type::kMoney) {
          if (scratch.currency[i] == 0) scratch.currency[i] = v.currency;
          else if (scratch.currency[i] != v.currency) continue;
        }
        aggs_[i]->add(scratch.state.get() + offsets_[i], v);
      }
    }
    for (size_t i = 0; i < aggs_.size(); ++i)
      record[f++] = aggs_[i]->result(scratch.state.get() + offsets_[i],
                                     plan_.aggregates[i].argument_type, scratch.currency[i]);
    // Results are plain values except strings, which point into the states: emit before freeing.
    record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
    record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
    emit(record, key, start, g.emitted);
    DestroyGroup(scratch);
  } else {
    for (size_t i = 0; i < aggs_.size(); ++i)
      record[f++] = aggs_[i]->result(g.state.get() + offsets_[i],
                                     plan_.aggregates[i].argument_type, g.currency[i]);
    record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
    record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
    emit(record, key, start, g.emitted);
  }
  if (g.emitted) ++corrections_;
  g.emitted = true;
  g.dirty = false;
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
      // Groups in key order, so output does not depend on hashing.
      std::vector<std::pair<std::string_view, Group*>> ordered;
      ordered.reserve(w.groups.size());
      for (auto& [key, g] : w.groups)
        if (!w.fired || g.dirty) ordered.emplace_back(key, &g);
      std::sort(ordered.begin(), ordered.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [key, g] : ordered) FireGroup(start, w.end, key, *g, emit);
      w.fired = true;
      w.dirty = false;
    }
    if (w.fired && Closed(w.end, watermark, time_.lateness)) {
      for (auto& [key, g] : w.groups) {
        if (distinct_) distinct_->Forget(start, key);
        DestroyGroup(g);
      }
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

std::string MetricOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  return p;
}

// Keys: [fingerprint]['W'][len-prefixed group key][big-endian window start]
//         -> [3][window end][flags][payload]
//       [fingerprint]['P'][partition] -> the partition's watermark
// Payload over a stream: per aggregate [currency u32][len u32][state]; over a metric:
// [count u32] then per input record [len u32][identity][len u32][encoded record].
void MetricOperator::Save(WriteBatch& batch) const {
  std::string prefix = Prefix();
  std::string range_end;
  PutU64BE(range_end, plan_.fingerprint + 1);
  if (plan_.fingerprint == UINT64_MAX) range_end.assign(9, '\xff');
  batch.DeleteRange(Family::kWindows, prefix, range_end);
  std::string key, value, blob;
  for (const auto& [pk, p] : partitions_) {
    key = prefix;
    key.push_back(kWatermarkTag);
    key += pk;
    value.clear();
    PutI64Ordered(value, p.watermark);
    batch.Put(Family::kWindows, key, value);
    for (const auto& [start, window] : p.windows) {
      for (const auto& [group_key, g] : window.groups) {
        key = prefix;
        key.push_back(kWindowTag);
        PutU32(key, static_cast<uint32_t>(group_key.size()));
        key += group_key;
        PutI64Ordered(key, start);
        value.clear();
        value.push_back(kStateVersion);
        PutI64Ordered(value, window.end);
        value.push_back(static_cast<char>((window.fired ? kFiredFlag : 0) |
                                          (g.emitted ? kEmittedFlag : 0) |
                                          (g.dirty ? kDirtyFlag : 0)));
        if (over_metric_) {
          PutU32(value, static_cast<uint32_t>(g.inputs.size()));
          for (const auto& [identity, encoded] : g.inputs) {
            PutU32(value, static_cast<uint32_t>(identity.size()));
            value += identity;
            PutU32(value, static_cast<uint32_t>(encoded.size()));
            value += encoded;
          }
        } else {
          for (size_t i = 0; i < aggs_.size(); ++i) {
            PutU32(value, g.currency[i]);
            const unsigned char* s = g.state.get() + offsets_[i];
            if (aggs_[i]->save) {
              blob.clear();
              aggs_[i]->save(s, blob);
            } else {
              blob.assign(reinterpret_cast<const char*>(s), aggs_[i]->state_size);
            }
            PutU32(value, static_cast<uint32_t>(blob.size()));
            value += blob;
          }
        }
        batch.Put(Family::kWindows, key, value);
      }
    }
  }
  if (distinct_) distinct_->Save(prefix + kDistinctTag, batch);
  if (record_windows_) SaveTrails(prefix, batch);
}

bool MetricOperator::PartitionOfGroup(std::string_view group_key, std::string& out) const {
  out.clear();
  // Where the store sits among the group key's values.
  int partition_index = -1;
  for (size_t i = 0; i < plan_.keys.size(); ++i)
    if (plan_.keys[i] == partition_key_) partition_index = static_cast<int>(i);
  if (partition_index < 0) return true;
  std::vector<Value> keys;
  if (!DecodeValues(group_key, keys) || keys.size() != plan_.keys.size()) return false;
  EncodeValue(keys[static_cast<size_t>(partition_index)], out);
  return true;
}

bool MetricOperator::Load(StateStore& store, std::string& error) {
  std::string prefix = Prefix();
  bool ok = true;
  std::string partition;
  Status s = store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.empty()) return ok = false;
    if (rest[0] == kMarkTag) {  // version 2: one mark for the whole metric
      if (rest.size() != 1 || value.size() != 8) return ok = false;
      floor_ = GetI64Ordered(value.data());
      for (auto& [pk, p] : partitions_) p.watermark = std::max(p.watermark, floor_);
      return true;
    }
    if (rest[0] == kDistinctTag) return distinct_ && distinct_->Load(rest.substr(1)) ? true : (ok = false);
    if (rest[0] == kWatermarkTag) {
      if (value.size() != 8) return ok = false;
      Partition& p = PartitionFor(rest.substr(1));
      p.watermark = std::max(p.watermark, GetI64Ordered(value.data()));
      return true;
    }
    if (rest[0] == kTrailTag) return LoadTrail(rest.substr(1), value) ? true : (ok = false);
    if (rest.size() < 13 || rest[0] != kWindowTag) return ok = false;
    uint32_t n = GetU32(rest.data() + 1);
    if (rest.size() != 1 + 4 + uint64_t{n} + 8) return ok = false;
    std::string_view group_key = rest.substr(5, n);
    int64_t start = GetI64Ordered(rest.data() + 5 + n);
    if (value.size() < 9 || (value[0] != kStateVersion && value[0] != 2)) return ok = false;
    const bool v3 = value[0] == kStateVersion;
    const int64_t end = GetI64Ordered(value.data() + 1);
    size_t pos = 9;
    unsigned char flags = 0;
    if (v3) {
      if (value.size() < 10) return ok = false;
      flags = static_cast<unsigned char>(value[9]);
      pos = 10;
    } else if (over_metric_) {
      return ok = false;  // version 2 kept no input records
    }
    Group g = NewGroup();
    struct Guard {  // releases a half-restored group's states on a corrupt value
      const MetricOperator* op;
      Group* g;
      ~Guard() { op->DestroyGroup(*g); }
    } guard{this, &g};
    if (over_metric_) {
      if (pos + 4 > value.size()) return ok = false;
      uint32_t count = GetU32(value.data() + pos);
      pos += 4;
      for (uint32_t r = 0; r < count; ++r) {
        std::string_view parts[2];
        for (auto& part : parts) {
          if (pos + 4 > value.size()) return ok = false;
          uint32_t len = GetU32(value.data() + pos);
          pos += 4;
          if (pos + len > value.size()) return ok = false;
          part = value.substr(pos, len);
          pos += len;
        }
        g.inputs.emplace(std::string(parts[0]), std::string(parts[1]));
      }
    } else {
      for (size_t i = 0; i < aggs_.size(); ++i) {
        if (pos + 8 > value.size()) return ok = false;
        g.currency[i] = GetU32(value.data() + pos);
        uint32_t len = GetU32(value.data() + pos + 4);
        pos += 8;
        if (pos + len > value.size()) return ok = false;
        std::string_view blob = value.substr(pos, len);
        pos += len;
        unsigned char* st = g.state.get() + offsets_[i];
        if (aggs_[i]->load) {
          if (!aggs_[i]->load(st, blob)) return ok = false;
        } else {
          if (blob.size() != aggs_[i]->state_size) return ok = false;
          std::memcpy(st, blob.data(), blob.size());
        }
      }
    }
    if (!PartitionOfGroup(group_key, partition)) return ok = false;
    g.emitted = (flags & kEmittedFlag) != 0;
    g.dirty = (flags & kDirtyFlag) != 0;
    Window& window = PartitionFor(partition).windows[start];
    window.end = end;
    window.fired = (flags & kFiredFlag) != 0;
    window.dirty = window.dirty || g.dirty;
    window.groups.emplace(std::string(group_key), std::move(g));  // g is empty now: guard no-op
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) {
    error = "metric '" + plan_.name + "': unreadable saved window state";
    return false;
  }
  for (auto& entry : partitions_) {
    UpdateNextDue(entry.second);
    bool dirty = false;
    for (const auto& [start, w] : entry.second.windows) dirty |= w.dirty;
    if (entry.second.next_due <= entry.second.watermark || dirty) Queue(entry.second);
  }
  return true;
}

}  // namespace aisle::engine
