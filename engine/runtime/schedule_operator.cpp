#include "engine/runtime/schedule_operator.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <xxhash.h>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
constexpr char kVersion = 1;
constexpr char kTag = 'K';
}  // namespace

ScheduleOperator::ScheduleOperator(const dsl::plan::Schedule& plan, const dsl::plan::Metric& metric,
                                   const OperatorRegistry& registry, std::string ruleset)
    : plan_(plan), metric_(metric), evaluator_(registry), ruleset_(std::move(ruleset)) {
  if (plan_.local) calendar_ = std::make_unique<Calendar>(plan_.store_timezones);
}

int64_t ScheduleOperator::NextInstant(const Store& store, int64_t after) const {
  if (calendar_) return calendar_->NextLocalTime(store.name, after, plan_.offset);
  return (dsl::FloorDiv(after - plan_.offset, plan_.period) + 1) * plan_.period + plan_.offset;
}

void ScheduleOperator::Prune(Store& store) {
  size_t drop = 0;
  while (drop + 1 < store.records.size() && store.records[drop + 1].end <= store.next) ++drop;
  store.records.erase(store.records.begin(), store.records.begin() + static_cast<long>(drop));
}

ScheduleOperator::Store& ScheduleOperator::StoreFor(std::string_view key) {
  auto it = stores_.find(key);
  if (it != stores_.end()) return it->second;
  Store store;
  std::vector<Value> values;
  if (DecodeValues(key, values) && !values.empty() && values[0].type == dsl::Type::kString)
    store.name = std::string(values[0].str());
  return stores_.emplace(std::string(key), std::move(store)).first->second;
}

void ScheduleOperator::Record(std::span<const Value> record, std::string_view key, int64_t start) {
  Store& store = StoreFor(key);
  Kept kept;
  kept.start = start;
  kept.end = record[static_cast<size_t>(metric_.window_end_field)].i;
  for (const Value& v : record) EncodeValue(v, kept.encoded);
  auto at = std::lower_bound(store.records.begin(), store.records.end(), start,
                             [](const Kept& k, int64_t s) { return k.start < s; });
  if (at != store.records.end() && at->start == start) *at = std::move(kept);  // a correction
  else store.records.insert(at, std::move(kept));
  // Before its first instant, a store starts at the first one its oldest record can serve.
  if (store.last == INT64_MIN) store.next = NextInstant(store, store.records.front().end - 1);
  Prune(store);
}

void ScheduleOperator::Advance(std::string_view key, int64_t watermark, const EmissionHandler& emit) {
  auto it = stores_.find(key);
  if (it == stores_.end()) return;
  Store& store = it->second;
  while (store.next <= watermark && store.next != INT64_MAX) {
    const int64_t instant = store.next;
    const Kept* newest = nullptr;
    for (const Kept& k : store.records)
      if (k.end <= instant) newest = &k;
    if (newest) Fire(it->first, instant, *newest, emit);
    store.last = instant;
    store.next = NextInstant(store, instant);
    Prune(store);
  }
}

void ScheduleOperator::Fire(std::string_view key, int64_t instant, const Kept& kept,
                            const EmissionHandler& emit) {
  record_.clear();
  if (!DecodeValues(kept.encoded, record_) || record_.size() != metric_.output.size()) return;
  if (plan_.condition && !evaluator_.Holds(*plan_.condition, record_)) return;
  Emission e;
  e.kind = dsl::plan::EmitKind::kReport;
  e.rule = plan_.name;
  e.severity = plan_.severity;
  e.channel = plan_.channel;
  e.labels = plan_.labels;
  e.ruleset = ruleset_;
  if (plan_.store_field >= 0) {
    const Value& store = record_[static_cast<size_t>(plan_.store_field)];
    if (store.type == dsl::Type::kString) e.store = std::string(store.str());
    e.key.emplace_back("store", ValueJson(store));
  }
  e.window = std::make_pair(kept.start, kept.end);
  e.ts = instant;
  for (size_t f = 0; f < record_.size(); ++f) {
    if (static_cast<int>(f) == metric_.window_start_field || static_cast<int>(f) == metric_.window_end_field)
      continue;
    e.values.emplace_back(metric_.output[f].name, ValueJson(record_[f]));
  }
  std::string_view timezone;  // for `local %...` times: the store's zone (local schedules)
  if (auto it = plan_.store_timezones.find(e.store); it != plan_.store_timezones.end())
    timezone = it->second;
  for (const auto& part : plan_.message) {
    if (part.field < 0) e.message += part.text;
    else e.message += FormatValue(record_[static_cast<size_t>(part.field)], part.spec, timezone);
  }
  // Deterministic id: rule set, schedule, store, instant.
  std::string bytes;
  for (std::string_view s : {std::string_view(ruleset_), std::string_view(plan_.name), key}) {
    PutU32(bytes, static_cast<uint32_t>(s.size()));
    bytes += s;
  }
  PutI64Ordered(bytes, instant);
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  e.id = fmt::format("{:016x}{:016x}", h.high64, h.low64);
  ++fired_;
  emit(std::move(e));
}

std::string ScheduleOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  p.push_back(kTag);
  return p;
}

void ScheduleOperator::Save(WriteBatch& batch) const {
  const std::string prefix = Prefix();
  std::string end = prefix;
  end.back() = kTag + 1;
  batch.DeleteRange(Family::kWindows, prefix, end);
  std::string value;
  for (const auto& [key, store] : stores_) {
    value.assign(1, kVersion);
    PutI64Ordered(value, store.next);
    PutI64Ordered(value, store.last);
    PutU32(value, static_cast<uint32_t>(store.records.size()));
    for (const Kept& k : store.records) {
      PutI64Ordered(value, k.start);
      PutI64Ordered(value, k.end);
      PutU32(value, static_cast<uint32_t>(k.encoded.size()));
      value += k.encoded;
    }
    batch.Put(Family::kWindows, prefix + key, value);
  }
}

bool ScheduleOperator::Load(StateStore& state, std::string& error) {
  const std::string prefix = Prefix();
  bool ok = true;
  Status s = state.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
    if (value.size() < 21 || value[0] != kVersion) return ok = false;
    Store& store = StoreFor(key.substr(prefix.size()));
    store.next = GetI64Ordered(value.data() + 1);
    store.last = GetI64Ordered(value.data() + 9);
    const uint32_t n = GetU32(value.data() + 17);
    size_t pos = 21;
    for (uint32_t i = 0; i < n; ++i) {
      if (pos + 20 > value.size()) return ok = false;
      Kept k;
      k.start = GetI64Ordered(value.data() + pos);
      k.end = GetI64Ordered(value.data() + pos + 8);
      const uint32_t len = GetU32(value.data() + pos + 16);
      pos += 20;
      if (len > value.size() - pos) return ok = false;
      k.encoded.assign(value.substr(pos, len));
      pos += len;
      store.records.push_back(std::move(k));
    }
    return ok = pos == value.size();
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "schedule '" + plan_.name + "': unreadable saved state";
  return ok;
}

}  // namespace aisle::engine
