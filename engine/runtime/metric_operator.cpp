#include "engine/runtime/metric_operator.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
constexpr char kStateVersion = 2;  // 2: the window end follows the version byte
constexpr char kWindowTag = 'W';
constexpr char kMarkTag = 'F';
constexpr char kDistinctTag = 'D';
}  // namespace

MetricOperator::MetricOperator(const dsl::plan::Metric& plan, const OperatorRegistry& registry)
    : plan_(plan), evaluator_(registry) {
  if (plan_.window_kind == dsl::plan::Metric::WindowKind::kDay)
    calendar_ = std::make_unique<CalendarDays>(plan_.store_timezones);
  if (!plan_.project.empty()) projection_ = std::make_unique<Projection>(plan_, registry);
  if (!plan_.distinct.empty()) distinct_ = std::make_unique<DistinctFilter>(plan_.distinct);
  for (const auto& a : plan_.aggregates) {
    const AggregateImpl* impl = &registry.Get(a.function).aggregate;
    aggs_.push_back(impl);
    offsets_.push_back(state_bytes_);
    state_bytes_ += (impl->state_size + 7) & ~size_t{7};
  }
}

MetricOperator::~MetricOperator() {
  for (auto& [start, window] : windows_)
    for (auto& [key, g] : window.groups) DestroyGroup(g);
}

MetricOperator::Group MetricOperator::NewGroup() const {
  Group g;
  g.state = std::make_unique<unsigned char[]>(std::max<size_t>(state_bytes_, 1));
  g.currency.assign(aggs_.size(), 0);
  for (size_t i = 0; i < aggs_.size(); ++i) aggs_[i]->init(g.state.get() + offsets_[i]);
  return g;
}

void MetricOperator::DestroyGroup(Group& g) const {
  if (!g.state) return;
  for (size_t i = 0; i < aggs_.size(); ++i)
    if (aggs_[i]->destroy) aggs_[i]->destroy(g.state.get() + offsets_[i]);
  g.state.reset();
}

bool MetricOperator::Add(std::span<const Value> record, int64_t time, const Event* event) {
  for (const auto& f : plan_.filters)
    if (!evaluator_.Holds(f, record, event)) return true;
  if (projection_ && !projection_->Apply(record, event)) return true;
  if (plan_.window_kind == dsl::plan::Metric::WindowKind::kHopping) {
    // Every window [k * step, k * step + size) that holds `time`, oldest first.
    const int64_t step = plan_.window_step, size = plan_.window_size;
    bool any = false;
    for (int64_t start = (dsl::FloorDiv(time - size, step) + 1) * step; start <= time; start += step)
      any |= AddTo(record, start, start + size, event);
    return any;
  }
  int64_t start, end;
  if (calendar_) {
    const Value& store = record[static_cast<size_t>(plan_.store_field)];
    std::tie(start, end) = calendar_->Day(store.type == dsl::Type::kString ? store.str() : "", time);
  } else {
    const int64_t size = plan_.window_size;
    start = dsl::FloorDiv(time - plan_.window_offset, size) * size + plan_.window_offset;
    end = start + size;
  }
  return AddTo(record, start, end, event);
}

bool MetricOperator::AddTo(std::span<const Value> record, int64_t start, int64_t end,
                           const Event* event) {
  if (end <= fired_through_) return false;

  key_scratch_.clear();
  for (int k : plan_.keys) EncodeValue(record[static_cast<size_t>(k)], key_scratch_);
  if (distinct_ && !distinct_->FirstSeen(start, key_scratch_, record)) return true;
  Window& window = windows_[start];
  if (window.end == 0) {
    window.end = end;
    min_end_ = std::min(min_end_, end);
  }
  Groups& groups = window.groups;
  auto it = groups.find(std::string_view(key_scratch_));
  if (it == groups.end()) it = groups.emplace(key_scratch_, NewGroup()).first;
  Group& g = it->second;
  for (size_t i = 0; i < aggs_.size(); ++i) {
    const auto& agg = plan_.aggregates[i];
    Value v = agg.argument ? evaluator_.Eval(*agg.argument, record, event) : Value::Bool(true);
    if (v.type == dsl::Type::kMoney) {
      if (g.currency[i] == 0) g.currency[i] = v.currency;
      else if (g.currency[i] != v.currency) continue;  // never add up two currencies
    }
    aggs_[i]->add(g.state.get() + offsets_[i], v);
  }
  return true;
}

void MetricOperator::Fire(int64_t watermark, const RecordHandler& emit) {
  std::vector<Value>& record = record_;
  std::vector<Value>& keys = keys_;
  record.resize(plan_.output.size());
  // Windows in start order; any that starts at or after the watermark cannot have ended.
  for (auto it = windows_.begin(); it != windows_.end() && it->first < watermark;) {
    const int64_t start = it->first;
    const int64_t end = it->second.end;
    if (end > watermark) {
      ++it;
      continue;
    }
    // Fire groups in key order, so output does not depend on hashing.
    std::vector<std::pair<std::string_view, Group*>> ordered;
    ordered.reserve(it->second.groups.size());
    for (auto& [key, g] : it->second.groups) ordered.emplace_back(key, &g);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, g] : ordered) {
      keys.clear();
      DecodeValues(key, keys);
      size_t f = 0;
      for (const Value& k : keys) record[f++] = k;
      for (size_t i = 0; i < aggs_.size(); ++i)
        record[f++] = aggs_[i]->result(g->state.get() + offsets_[i],
                                       plan_.aggregates[i].argument_type, g->currency[i]);
      record[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
      record[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
      emit(record, key, start);
      DestroyGroup(*g);
    }
    if (distinct_) distinct_->Forget(start);
    it = windows_.erase(it);
  }
  min_end_ = INT64_MAX;
  for (const auto& [start, window] : windows_) min_end_ = std::min(min_end_, window.end);
  fired_through_ = std::max(fired_through_, watermark);
}

std::string MetricOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  return p;
}

// Keys: [fingerprint]['W'][len-prefixed group key][big-endian window start]
//       -> [version][window end][states]
//       [fingerprint]['F'] -> fired-through mark
void MetricOperator::Save(WriteBatch& batch) const {
  std::string prefix = Prefix();
  std::string range_end;
  PutU64BE(range_end, plan_.fingerprint + 1);
  if (plan_.fingerprint == UINT64_MAX) range_end.assign(9, '\xff');
  batch.DeleteRange(Family::kWindows, prefix, range_end);
  std::string key, value;
  for (const auto& [start, window] : windows_) {
    for (const auto& [group_key, g] : window.groups) {
      key = prefix;
      key.push_back(kWindowTag);
      PutU32(key, static_cast<uint32_t>(group_key.size()));
      key += group_key;
      PutI64Ordered(key, start);
      value.clear();
      value.push_back(kStateVersion);
      PutI64Ordered(value, window.end);
      for (size_t i = 0; i < aggs_.size(); ++i) {
        PutU32(value, g.currency[i]);
        std::string blob;
        const unsigned char* s = g.state.get() + offsets_[i];
        if (aggs_[i]->save) {
          aggs_[i]->save(s, blob);
        } else {
          blob.assign(reinterpret_cast<const char*>(s), aggs_[i]->state_size);
        }
        PutU32(value, static_cast<uint32_t>(blob.size()));
        value += blob;
      }
      batch.Put(Family::kWindows, key, value);
    }
  }
  if (distinct_) distinct_->Save(prefix + kDistinctTag, batch);
  key = prefix;
  key.push_back(kMarkTag);
  value.clear();
  PutI64Ordered(value, fired_through_);
  batch.Put(Family::kWindows, key, value);
}

bool MetricOperator::Load(StateStore& store, std::string& error) {
  std::string prefix = Prefix();
  bool ok = true;
  Status s = store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.size() == 1 && rest[0] == kMarkTag) {
      if (value.size() != 8) return ok = false;
      fired_through_ = GetI64Ordered(value.data());
      return true;
    }
    if (!rest.empty() && rest[0] == kDistinctTag)
      return distinct_ && distinct_->Load(rest.substr(1)) ? true : (ok = false);
    if (rest.size() < 13 || rest[0] != kWindowTag) return ok = false;
    uint32_t n = GetU32(rest.data() + 1);
    if (rest.size() != 1 + 4 + n + 8) return ok = false;
    std::string group_key(rest.substr(5, n));
    int64_t start = GetI64Ordered(rest.data() + 5 + n);
    if (value.size() < 9 || value[0] != kStateVersion) return ok = false;
    const int64_t end = GetI64Ordered(value.data() + 1);
    Group g = NewGroup();
    struct Guard {  // releases a half-restored group's states on a corrupt value
      const MetricOperator* op;
      Group* g;
      ~Guard() { op->DestroyGroup(*g); }
    } guard{this, &g};
    size_t pos = 9;
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
    Window& window = windows_[start];
    window.end = end;
    min_end_ = std::min(min_end_, end);
    window.groups.emplace(std::move(group_key), std::move(g));  // g is empty now: guard no-op
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "metric '" + plan_.name + "': unreadable saved window state";
  return ok;
}

}  // namespace aisle::engine
