#include "engine/runtime/digest_operator.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <xxhash.h>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
constexpr char kVersion = 1;

void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

bool GetString(std::string_view in, size_t& pos, std::string& out) {
  if (pos + 4 > in.size()) return false;
  const uint32_t n = GetU32(in.data() + pos);
  pos += 4;
  if (n > in.size() - pos) return false;
  out.assign(in.substr(pos, n));
  pos += n;
  return true;
}
}  // namespace

DigestOperator::DigestOperator(const dsl::plan::Digest& plan, std::string ruleset)
    : plan_(plan), ruleset_(std::move(ruleset)) {}

void DigestOperator::Hold(const Emission& e) {
  const int64_t at = std::max(e.ts, delivered_through_);
  const int64_t start = dsl::FloorDiv(at, plan_.period) * plan_.period;
  intervals_[start].push_back({e.rule, e.store, e.message, e.severity});
  ++held_;
}

void DigestOperator::Advance(int64_t now, const EmissionHandler& emit) {
  while (!intervals_.empty()) {
    auto it = intervals_.begin();
    const int64_t start = it->first;
    const int64_t end = start > INT64_MAX - plan_.period ? INT64_MAX : start + plan_.period;
    if (end > now) break;
    Emission e = Build(start, it->second);
    delivered_through_ = std::max(delivered_through_, end);
    intervals_.erase(it);
    emit(std::move(e));
  }
}

Emission DigestOperator::Build(int64_t start, const std::vector<Held>& held) const {
  const int64_t end = start + plan_.period;
  Emission e;
  e.kind = dsl::plan::EmitKind::kReport;
  e.rule = "digest";
  e.channel = plan_.channel;
  e.ruleset = ruleset_;
  e.window = std::make_pair(start, end);
  e.ts = end;
  e.severity = dsl::plan::Severity::kInfo;
  std::map<std::string_view, int64_t> by_rule;
  bool one_store = true;
  for (const Held& h : held) {
    e.severity = std::max(e.severity, h.severity);
    ++by_rule[h.rule];
    one_store = one_store && h.store == held.front().store;
  }
  if (one_store && !held.empty()) e.store = held.front().store;
  e.key.emplace_back("channel", ValueJson(dsl::Value::String(plan_.channel)));
  e.values.emplace_back("count", std::to_string(held.size()));
  std::string rules = "{", counts;
  for (const auto& [rule, n] : by_rule) {
    if (rules.size() > 1) rules += ',';
    rules += ValueJson(dsl::Value::String(rule)) + ":" + std::to_string(n);
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", rule, n);
  }
  rules += '}';
  e.values.emplace_back("by_rule", rules);
  // "3 emissions (big_sale 2, stockout 1): first; second; third", the first kListed listed.
  e.message = fmt::format("{} emission{} ({}): ", held.size(), held.size() == 1 ? "" : "s", counts);
  for (size_t i = 0; i < held.size() && i < kListed; ++i) {
    if (i) e.message += "; ";
    e.message += held[i].message;
  }
  if (held.size() > kListed) e.message += fmt::format("; and {} more", held.size() - kListed);
  // Deterministic id: rule set, channel, interval.
  std::string bytes;
  PutString(bytes, ruleset_);
  PutString(bytes, "digest");
  PutString(bytes, plan_.channel);
  PutI64Ordered(bytes, start);
  PutI64Ordered(bytes, end);
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  e.id = fmt::format("{:016x}{:016x}", h.high64, h.low64);
  return e;
}

std::string DigestOperator::Prefix() const {
  std::string p(1, kOutboxTag);
  PutU64BE(p, plan_.fingerprint);
  return p;
}

void DigestOperator::Save(WriteBatch& batch) const {
  const std::string prefix = Prefix();
  std::string key, value;
  if (delivered_through_ != INT64_MIN) {
    value.clear();
    PutI64Ordered(value, delivered_through_);
    batch.Put(Family::kOutbox, prefix + 'F', value);
  }
  for (const auto& [start, held] : intervals_) {
    for (size_t i = 0; i < held.size(); ++i) {
      key = prefix + 'H';
      PutI64Ordered(key, start);
      PutU32(key, static_cast<uint32_t>(i));
      value.assign(1, kVersion);
      value.push_back(static_cast<char>(held[i].severity));
      PutString(value, held[i].rule);
      PutString(value, held[i].store);
      PutString(value, held[i].message);
      batch.Put(Family::kOutbox, key, value);
    }
  }
}

bool DigestOperator::Load(StateStore& store, std::string& error) {
  const std::string prefix = Prefix();
  bool ok = true;
  Status s = store.Scan(Family::kOutbox, prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    if (rest == "F") {
      if (value.size() != 8) return ok = false;
      delivered_through_ = GetI64Ordered(value.data());
      return true;
    }
    if (rest.size() != 13 || rest[0] != 'H' || value.size() < 2 || value[0] != kVersion) return ok = false;
    const auto severity = static_cast<unsigned char>(value[1]);
    if (severity > static_cast<unsigned char>(dsl::plan::Severity::kCritical)) return ok = false;
    Held h;
    h.severity = static_cast<dsl::plan::Severity>(severity);
    size_t pos = 2;
    if (!GetString(value, pos, h.rule) || !GetString(value, pos, h.store) ||
        !GetString(value, pos, h.message) || pos != value.size())
      return ok = false;
    // Keys sort by interval, then sequence: appending keeps the order emissions were held in.
    intervals_[GetI64Ordered(rest.data() + 1)].push_back(std::move(h));
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "digest of channel '" + plan_.channel + "': unreadable held emissions";
  return ok;
}

}  // namespace aisle::engine
