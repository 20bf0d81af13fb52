// anomaly(..., method = "ewma"): an exponentially weighted mean and variance per seasonal slot.
//
// Each slot (the same hour of the week, ...) keeps a mean m, a variance v and a count n. A value
// x is scored (x - m) / sqrt(v) against the slot as it was, then learned with the weight
//   a = max(1 / (n + 1), 1 - 2^(-dt / half_life))
// where dt is the time since the slot's previous value: the first values are averaged with equal
// weights (a running mean and population variance), after which a value's weight halves every
// `half_life` of time, whatever the window or season (a slot seen again after a gap forgets more).
// The update is West's (1979) exponentially weighted variance on the residual r = x - m:
//   m += a r;  v = (1 - a) (v + a r^2).
// Robustness: once the slot is scored, r is clipped to +-clip * sqrt(v) before the update (a
// Huber-type update, clip = 3). A one-off spike then moves the mean by at most a * 3 sd and the
// variance by at most a factor (1 - a) (1 + 9 a), so it does not widen the band for weeks, while a
// lasting level shift, clipped again on every window, still raises v geometrically and is learned
// within a few windows. Without the clip a single 20-sd spike multiplies v by about 1 + 400 a.
//
// Corrections: a slot's last value stays pending until the slot's next window arrives, so a
// window fired again replaces it (scored against the same mean and variance); a correction of an
// older window is too late and scores null. A slot unseen for longer than `baseline` starts over.
// State: per slot 57 bytes; the slots a season has for the rule's window, at most.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "engine/runtime/key_codec.hpp"
#include "stdlib/anomaly_internal.hpp"

namespace aisle::stdlib::anomaly_detail {

namespace {

using dsl::Value;

constexpr uint8_t kEwmaVersion = 1;
constexpr size_t kSlotBytes = 8 + 8 + 8 + 8 + 8 + 1 + 8 + 8;

struct EwmaSlot {
  double mean = 0;
  double var = 0;
  int64_t count = 0;
  int64_t last_time = 0;  // time of the last value learned
  bool pending = false;   // a value scored but not learned yet (windowed rules)
  int64_t pending_time = 0;
  double pending_value = 0;
};

void PutDouble(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  engine::PutU64BE(out, bits);
}

double GetDouble(const char* p) {
  uint64_t bits = engine::GetU64BE(p);
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

class EwmaState final : public engine::OperatorState {
 public:
  std::map<int64_t, EwmaSlot> slots;
  std::string slot_name;  // the last score's slot, which a detail points into (not saved)

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kEwmaVersion));
    engine::PutU32(out, static_cast<uint32_t>(slots.size()));
    for (const auto& [index, s] : slots) {
      engine::PutI64Ordered(out, index);
      PutDouble(out, s.mean);
      PutDouble(out, s.var);
      engine::PutI64Ordered(out, s.count);
      engine::PutI64Ordered(out, s.last_time);
      out.push_back(s.pending ? 1 : 0);
      engine::PutI64Ordered(out, s.pending_time);
      PutDouble(out, s.pending_value);
    }
  }
  bool Load(std::string_view in) override {
    if (in.size() < 5 || static_cast<uint8_t>(in[0]) != kEwmaVersion) return false;
    const uint32_t n = engine::GetU32(in.data() + 1);
    if ((in.size() - 5) != size_t{n} * kSlotBytes) return false;
    std::map<int64_t, EwmaSlot> loaded;
    const char* p = in.data() + 5;
    for (uint32_t i = 0; i < n; ++i, p += kSlotBytes) {
      const int64_t index = engine::GetI64Ordered(p);
      EwmaSlot s;
      s.mean = GetDouble(p + 8);
      s.var = GetDouble(p + 16);
      s.count = engine::GetI64Ordered(p + 24);
      s.last_time = engine::GetI64Ordered(p + 32);
      const uint8_t pending = static_cast<uint8_t>(p[40]);
      s.pending = pending == 1;
      s.pending_time = engine::GetI64Ordered(p + 41);
      s.pending_value = GetDouble(p + 49);
      if (pending > 1 || !std::isfinite(s.mean) || !std::isfinite(s.var) || s.var < 0 ||
          s.count < 0 || !std::isfinite(s.pending_value) || !loaded.emplace(index, s).second)
        return false;
    }
    slots = std::move(loaded);
    return true;
  }
};

class EwmaAnomaly final : public engine::StatefulOperator {
 public:
  explicit EwmaAnomaly(const EwmaOptions& options) : options_(options) {
    if (options_.half_life <= 0) options_.half_life = std::max<int64_t>(1, options_.baseline / 2);
  }

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<EwmaState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<EwmaState&>(base);
    const std::optional<double> x = AsNumber(args[0]);
    if (!x) return Value::Null();
    const bool windowed = ctx.window_size > 0;
    const size_t min_history =
        windowed ? MinHistory(options_.baseline, ctx.window_size, options_.season) : kMinHistory;
    EwmaSlot& slot = state.slots[windowed ? SlotOf(ctx.time, ctx.window_size, options_.season) : 0];
    if (windowed && slot.pending) {
      if (ctx.time < slot.pending_time) return Value::Null();  // too late to correct
      if (ctx.time > slot.pending_time) Learn(slot, slot.pending_value, slot.pending_time, min_history);
    }
    if (slot.count > 0 && ctx.time - slot.last_time > options_.baseline) slot = EwmaSlot{};
    Value score = Value::Null();
    details[kHistory] = Value::Int(slot.count);
    if (static_cast<size_t>(slot.count) >= min_history) {
      const double spread = std::sqrt(slot.var);
      score = Value::Decimal(ZScore(*x, slot.mean, spread));
      details[kExpected] = InUnits(slot.mean, args[0]);
      details[kSpread] = InUnits(spread, args[0]);
      SlotName(ctx.time, ctx.window_size, options_.season, state.slot_name);
      details[kSlot] = Value::String(state.slot_name);
    }
    if (windowed) {
      slot.pending = true;
      slot.pending_time = ctx.time;
      slot.pending_value = *x;
    } else {
      Learn(slot, *x, ctx.time, min_history);
    }
    return score;
  }

 private:
  void Learn(EwmaSlot& s, double y, int64_t time, size_t min_history) const {
    s.pending = false;
    if (s.count > 0 && time - s.last_time > options_.baseline) s = EwmaSlot{};
    double a = 1.0;
    if (s.count > 0) {
      const double dt = static_cast<double>(std::max<int64_t>(0, time - s.last_time));
      const double decay = 1.0 - std::exp2(-dt / static_cast<double>(options_.half_life));
      a = std::max(1.0 / static_cast<double>(s.count + 1), decay);
    }
    double r = y - s.mean;
    if (static_cast<size_t>(s.count) >= min_history && s.var > 0) {
      const double limit = options_.clip * std::sqrt(s.var);
      r = std::clamp(r, -limit, limit);
    }
    s.mean += a * r;
    s.var = (1 - a) * (s.var + a * r * r);
    s.count += 1;
    s.last_time = time;
  }

  EwmaOptions options_;
};

}  // namespace

std::unique_ptr<engine::StatefulOperator> MakeEwmaAnomaly(const EwmaOptions& options) {
  return std::make_unique<EwmaAnomaly>(options);
}

}  // namespace aisle::stdlib::anomaly_detail
