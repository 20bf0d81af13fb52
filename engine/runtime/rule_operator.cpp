#include "engine/runtime/rule_operator.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
constexpr char kStateVersion = 1;
// Emission times are remembered for a day longer than any look-back needs, so that a store whose
// events lag the others' by less than that still finds them.
constexpr int64_t kRecentMargin = dsl::kMicrosPerDay;
}  // namespace

RuleOperator::RuleOperator(const dsl::plan::Rule& plan, const OperatorRegistry& registry,
                           std::string ruleset, const dsl::plan::Policies* policies)
    : plan_(plan),
      evaluator_(registry, policies),
      ruleset_(std::move(ruleset)),
      dedupe_(plan.dedupe_period + kRecentMargin) {
  for (const auto& s : plan_.suppressions) activity_.emplace_back(s.period + kRecentMargin);
  if (plan_.local_offsets) calendar_ = std::make_unique<Calendar>(plan_.store_timezones);
  record_.resize(plan_.fields.size());
  emit_values_.resize(plan_.emit_fields.size());
  for (const auto& step : plan_.steps) {
    if (!step.stateful) {
      calls_.emplace_back();
      continue;
    }
    std::vector<Value> constants;
    for (const auto& a : step.stateful->args)
      constants.push_back(a.op == dsl::plan::ExprOp::kConst
                              ? (a.value.type == dsl::Type::kString ? Value::String(a.text) : a.value)
                              : Value::Null());
    Call call;
    call.op = registry.Get(step.stateful->function).stateful(constants);
    calls_.emplace_back(std::move(call));
  }
}

void RuleOperator::Process(std::span<const Value> input, std::string_view key, int64_t time,
                           int64_t window_size, const Event* event,
                           const EmissionHandler& emit, int store, bool correction) {
  if (!plan_.scope.empty()) {
    // The last entry stands for every store the stores table does not name.
    const size_t i = static_cast<size_t>(store) < plan_.scope.size() ? static_cast<size_t>(store)
                                                                     : plan_.scope.size() - 1;
    if (!plan_.scope[i]) return;
  }
  std::copy(input.begin(), input.end(), record_.begin());
  if (!plan_.input.is_stream && plan_.window_end_field >= 0)  // calendar days vary in length
    window_size = input[static_cast<size_t>(plan_.window_end_field)].i - time;
  constexpr size_t kMaxArgs = 16;
  Value args[kMaxArgs];
  CallContext context{time, window_size};
  if (calendar_ && plan_.store_field >= 0) {
    const Value& s = record_[static_cast<size_t>(plan_.store_field)];
    if (s.type == dsl::Type::kString) context.utc_offset = calendar_->UtcOffset(s.str(), time);
  }
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const auto& step = plan_.steps[s];
    Value result;
    if (step.let) {
      result = evaluator_.Eval(*step.let, record_, event, store);
    } else {
      Call& call = *calls_[s];
      size_t n = std::min<size_t>(step.stateful->args.size(), kMaxArgs);
      for (size_t i = 0; i < n; ++i)
        args[i] = evaluator_.Eval(step.stateful->args[i], record_, event, store);
      auto it = call.states.find(key);
      if (it == call.states.end()) it = call.states.emplace(std::string(key), call.op->NewState()).first;
      const auto details = std::span<Value>(record_).subspan(
          static_cast<size_t>(step.slot) + 1, static_cast<size_t>(step.stateful->detail_count));
      std::fill(details.begin(), details.end(), Value::Null());
      result = call.op->Apply(*it->second, std::span<const Value>(args, n), context,
                              details);
    }
    record_[static_cast<size_t>(step.slot)] = result;
  }
  if (!evaluator_.Holds(plan_.condition, record_, event, store)) return;
  for (size_t i = 0; i < plan_.emit_fields.size(); ++i)
    emit_values_[i] = evaluator_.Eval(plan_.emit_fields[i].value, record_, event, store);
  const int64_t at = plan_.input.is_stream ? time : time + window_size;  // the emission's time
  if (!activity_.empty() && Suppressed(at)) {
    ++suppressed_;
    return;
  }
  const std::string_view event_id = event ? event->id() : std::string_view();
  std::optional<Emission> built;
  if (plan_.dedupe_period > 0) {
    dedupe_scratch_.clear();
    if (plan_.dedupe_keys.empty()) {
      // The store and the message text (hashed: messages can be long).
      built = Build(key, event_id, time, window_size, correction);
      EncodeValue(plan_.store_field >= 0 ? record_[static_cast<size_t>(plan_.store_field)] : Value::Null(),
                  dedupe_scratch_);
      PutU64BE(dedupe_scratch_, XXH3_64bits(built->message.data(), built->message.size()));
    } else {
      AppendKey(plan_.dedupe_keys, dedupe_scratch_);
    }
    if (dedupe_.Within(dedupe_scratch_, at, plan_.dedupe_period)) {
      ++deduped_;
      return;
    }
  }
  if (plan_.throttle_count > 0 && !Admit(key, at)) {
    ++throttled_;
    return;
  }
  if (plan_.dedupe_period > 0) dedupe_.Record(dedupe_scratch_, at);
  for (const Listener& l : listeners_) {
    PendingActivity activity{l.table, {}, at};
    AppendKey(*l.fields, activity.key);
    l.pending->push_back(std::move(activity));
  }
  ++fired_;
  emit(built ? std::move(*built) : Build(key, event_id, time, window_size, correction));
}

void RuleOperator::AppendKey(const std::vector<int>& fields, std::string& out) const {
  for (int f : fields) EncodeValue(record_[static_cast<size_t>(f)], out);
}

bool RuleOperator::Suppressed(int64_t time) {
  for (size_t i = 0; i < activity_.size(); ++i) {
    const auto& s = plan_.suppressions[i];
    suppress_scratch_.clear();
    AppendKey(s.fields, suppress_scratch_);
    if (activity_[i].Within(suppress_scratch_, time, s.period)) return true;
  }
  return false;
}

void RuleOperator::AddListener(RecentEmissions* table, const std::vector<int>* fields,
                               std::vector<PendingActivity>* pending) {
  listeners_.push_back({table, fields, pending});
}

Emission RuleOperator::Build(std::string_view key, std::string_view event_id, int64_t time,
                             int64_t window_size, bool correction) const {
  Emission e;
  e.correction = correction;
  e.kind = plan_.kind;
  e.rule = plan_.name;
  e.severity = plan_.severity;
  e.channel = plan_.channel;
  e.labels = plan_.labels;
  e.ruleset = ruleset_;
  if (plan_.store_field >= 0) {
    const Value& s = record_[static_cast<size_t>(plan_.store_field)];
    if (s.type == dsl::Type::kString) e.store = std::string(s.str());
  }
  if (plan_.input.is_stream) {
    e.key.emplace_back("id", ValueJson(Value::String(event_id)));
    e.ts = time;
  } else {
    // The group key's values, named as the metric's key fields.
    std::vector<Value> keys;
    DecodeValues(key, keys);
    for (size_t i = 0; i < keys.size() && i < plan_.key_names.size(); ++i)
      e.key.emplace_back(plan_.key_names[i], ValueJson(keys[i]));
    e.window = std::make_pair(time, time + window_size);
    e.ts = time + window_size;
  }
  for (int f : plan_.value_fields)
    e.values.emplace_back(plan_.fields[static_cast<size_t>(f)].name,
                          ValueJson(record_[static_cast<size_t>(f)]));
  AddEmitValues(e);
  std::string_view timezone;  // for `local %...` times: the store's zone
  if (!plan_.store_timezones.empty())
    if (auto it = plan_.store_timezones.find(e.store); it != plan_.store_timezones.end())
      timezone = it->second;
  for (const auto& part : plan_.message) {
    if (part.field < 0) e.message += part.text;
    else e.message += FormatValue(record_[static_cast<size_t>(part.field)], part.spec, timezone);
  }
  // Deterministic id: rule set, rule, key, window (or event id for stream rules), and for a
  // correction its values.
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  auto feed = [&](std::string_view s) {
    std::string len;
    PutU32(len, static_cast<uint32_t>(s.size()));
    XXH3_128bits_update(st, len.data(), len.size());
    XXH3_128bits_update(st, s.data(), s.size());
  };
  feed(ruleset_);
  feed(plan_.name);
  feed(key);
  feed(event_id);
  std::string w;
  PutI64Ordered(w, e.window ? e.window->first : 0);
  PutI64Ordered(w, e.window ? e.window->second : 0);
  feed(w);
  // A correction differs from what it corrects by its values: they name this version of it.
  if (correction)
    for (const auto& [name, value] : e.values) feed(value);
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  e.id = fmt::format("{:016x}{:016x}", h.high64, h.low64);
  return e;
}

// The `with` values; a purchase-order draft adds its total (qty x unit_cost, exact; null when a
// factor is null or the product overflows) and its status, pending until someone approves it.
void RuleOperator::AddEmitValues(Emission& e) const {
  const Value* qty = nullptr;
  const Value* unit_cost = nullptr;
  for (size_t i = 0; i < plan_.emit_fields.size(); ++i) {
    const std::string& name = plan_.emit_fields[i].name;
    // A `with` value named like a field of the record takes its place: a name appears once.
    auto same = std::find_if(e.values.begin(), e.values.end(),
                             [&](const auto& v) { return v.first == name; });
    if (same != e.values.end()) same->second = ValueJson(emit_values_[i]);
    else e.values.emplace_back(name, ValueJson(emit_values_[i]));
    if (name == "qty") qty = &emit_values_[i];
    if (name == "unit_cost") unit_cost = &emit_values_[i];
  }
  if (plan_.kind != dsl::plan::EmitKind::kPoDraft) return;
  Value total = Value::Null();
  int64_t units = 0;
  if (qty && unit_cost && qty->type == dsl::Type::kInt && unit_cost->type == dsl::Type::kMoney &&
      !__builtin_mul_overflow(qty->i, unit_cost->i, &units))
    total = Value::Money(units, unit_cost->currency);
  e.values.emplace_back("total", ValueJson(total));
  e.values.emplace_back("status", ValueJson(Value::String("pending")));
}

bool RuleOperator::Admit(std::string_view group_key, int64_t time) {
  std::string_view key = group_key;
  if (!plan_.throttle_keys.empty()) {
    throttle_scratch_.clear();
    for (int f : plan_.throttle_keys) EncodeValue(record_[static_cast<size_t>(f)], throttle_scratch_);
    key = throttle_scratch_;
  }
  auto it = recent_.find(key);
  if (it == recent_.end()) it = recent_.emplace(std::string(key), std::deque<int64_t>()).first;
  std::deque<int64_t>& times = it->second;
  while (!times.empty() && times.front() <= time - plan_.throttle_period) times.pop_front();
  if (static_cast<int64_t>(times.size()) >= plan_.throttle_count) return false;
  times.push_back(time);
  return true;
}

std::string RuleOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  p.push_back('S');
  return p;
}

// Keys: [fingerprint]['S'][u32 step][group key] -> [version][operator state]
//       [fingerprint]['T'][throttle key] -> [version][u32 n][n big-endian event times]
//       [fingerprint]['A'][u32 suppression][field values] -> [version][the other rule's last emission time]
//       [fingerprint]['D'][dedupe key] -> [version][last emission time]
void RuleOperator::Save(WriteBatch& batch) const {
  std::string prefix = Prefix();
  {
    std::string a = prefix, e = prefix;
    a.back() = 'A';
    e.back() = 'E';  // 'A' (suppression) to 'D' (dedupe)
    batch.DeleteRange(Family::kWindows, a, e);
    for (size_t i = 0; i < activity_.size(); ++i) {
      std::string p = a;
      PutU32(p, static_cast<uint32_t>(i));
      activity_[i].Save(batch, p);
    }
    std::string d = prefix;
    d.back() = 'D';
    dedupe_.Save(batch, d);
  }
  std::string range_end = prefix;
  range_end.back() = 'U';  // 'S' (stateful calls) and 'T' (throttle)
  batch.DeleteRange(Family::kWindows, prefix, range_end);
  std::string throttle_prefix = prefix;
  throttle_prefix.back() = 'T';
  for (const auto& [key, times] : recent_) {
    if (times.empty()) continue;
    std::string k = throttle_prefix + key, v(1, kStateVersion);
    PutU32(v, static_cast<uint32_t>(times.size()));
    for (int64_t t : times) PutI64Ordered(v, t);
    batch.Put(Family::kWindows, k, v);
  }
  std::string key, value;
  for (size_t s = 0; s < calls_.size(); ++s) {
    if (!calls_[s]) continue;
    for (const auto& [group, state] : calls_[s]->states) {
      key = prefix;
      PutU32(key, static_cast<uint32_t>(s));
      key += group;
      value.assign(1, kStateVersion);
      state->Save(value);
      batch.Put(Family::kWindows, key, value);
    }
  }
}

bool RuleOperator::Load(StateStore& store, std::string& error) {
  std::string prefix = Prefix();
  bool ok = true;
  Status st = store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.size() < 4) return ok = false;
    uint32_t s = GetU32(rest.data());
    if (s >= calls_.size() || !calls_[s] || value.empty() || value[0] != kStateVersion)
      return ok = false;
    auto state = calls_[s]->op->NewState();
    if (!state->Load(value.substr(1))) return ok = false;
    calls_[s]->states.emplace(std::string(rest.substr(4)), std::move(state));
    return true;
  });
  if (!st.ok()) {
    error = st.message();
    return false;
  }
  std::string throttle_prefix = prefix;
  throttle_prefix.back() = 'T';
  st = store.Scan(Family::kWindows, throttle_prefix, [&](std::string_view key, std::string_view value) {
    if (value.size() < 5 || value[0] != kStateVersion) return ok = false;
    uint32_t n = GetU32(value.data() + 1);
    if (value.size() != 5 + size_t{n} * 8) return ok = false;
    std::deque<int64_t> times;
    for (uint32_t i = 0; i < n; ++i) times.push_back(GetI64Ordered(value.data() + 5 + i * 8));
    recent_.emplace(std::string(key.substr(throttle_prefix.size())), std::move(times));
    return true;
  });
  if (!st.ok()) {
    error = st.message();
    return false;
  }
  if (!ok) {
    error = "rule '" + plan_.name + "': unreadable saved state";
    return false;
  }
  for (size_t i = 0; i < activity_.size(); ++i) {
    std::string p = prefix;
    p.back() = 'A';
    PutU32(p, static_cast<uint32_t>(i));
    if (!activity_[i].Load(store, p, error)) {
      error = "rule '" + plan_.name + "': " + error;
      return false;
    }
  }
  std::string d = prefix;
  d.back() = 'D';
  if (!dedupe_.Load(store, d, error)) {
    error = "rule '" + plan_.name + "': " + error;
    return false;
  }
  return true;
}

}  // namespace aisle::engine
