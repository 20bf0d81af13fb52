// anomaly(..., method = "ewma"): exponential smoothing of a level, seasonal offsets per slot and
// one pooled variance of the one-step residuals, with outliers clipped before they update them.
//
// The key's value at window t is expected to be  L + S[slot]:  L an exponentially weighted level
// shared by every slot, S the slot's offset (the same hour of the week sits that far above the
// level), S = 0 without a season. The score is (x - L - S) / sqrt(V), V an exponentially weighted
// variance of the residuals r = x - L - S of every window, whatever its slot. Learning a value:
//   a = max(1 / (n + 1), 1 - 2^(-dt / half_life))     (n values learned into L, dt since the last)
//   r_c = r clipped to +-clip * sqrt(V)                (once scored; clip = 3)
//   L += a r_c;   S += g (x_c - L - S), x_c = L_old + S + r_c   (g the same with the offsets'
//   half-life, baseline / 2, and dt since the slot's last value);
//   V = (1 - b) (V + b r_c^2)                          (West 1979; b with 4 x half_life)
// A slot seen for the first time takes its offset from that value (S = x - L) and updates
// nothing else. The first values are averaged with equal weights (1 / (n + 1)).
//
// Why this shape (eval_anomaly, the synthetic benchmark): a mean and variance per slot, as the
// brief first asked, learn each slot from its own few values (4 per hour of the week in 28
// days), so the variance is a guess from 3 values and every level shift is learned slot by slot
// for a whole season: F1 0.17 at |z| >= 3.5. A shared level learns a shift in a few windows; one
// pooled variance is estimated from every window and, being the variance of one-step residuals,
// includes the error of the estimated level and offsets, so scores are calibrated early too.
// Clipping (a Huber-type update) keeps a one-off spike from moving the level or widening the band
// (it multiplies V by at most (1 - b)(1 + 9 b)), while a lasting shift, clipped again each window,
// raises V geometrically and is absorbed within a few windows.
//
// Corrections: the key's latest window stays pending until its next window arrives, so a window
// fired again replaces it (scored against the same expectation); an older window's correction is
// too late and scores null. A key unseen for longer than `baseline` starts over, and so does a
// slot. State: 62 bytes and 32 per slot seen (at most the season's slots).

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

constexpr uint8_t kEwmaVersion = 2;
constexpr size_t kHeadBytes = 1 + 8 + 8 + 8 + 8 + 8 + 1 + 8 + 8 + 4;
constexpr size_t kSlotBytes = 8 + 8 + 8 + 8;

struct Offset {
  double value = 0;
  int64_t count = 0;
  int64_t last_time = 0;
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
  double level = 0;
  double var = 0;
  int64_t count = 0;      // values learned since the key (re)started
  int64_t residuals = 0;  // of which updated the level and variance (the first one sets them)
  int64_t last_time = 0;  // time of the last value learned
  bool pending = false;   // the latest window: scored, not learned yet (windowed rules)
  int64_t pending_time = 0;
  double pending_value = 0;
  std::map<int64_t, Offset> offsets;  // by slot
  std::string slot_name;              // the last score's slot, which a detail points into

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kEwmaVersion));
    PutDouble(out, level);
    PutDouble(out, var);
    engine::PutI64Ordered(out, count);
    engine::PutI64Ordered(out, residuals);
    engine::PutI64Ordered(out, last_time);
    out.push_back(pending ? 1 : 0);
    engine::PutI64Ordered(out, pending_time);
    PutDouble(out, pending_value);
    engine::PutU32(out, static_cast<uint32_t>(offsets.size()));
    for (const auto& [slot, o] : offsets) {
      engine::PutI64Ordered(out, slot);
      PutDouble(out, o.value);
      engine::PutI64Ordered(out, o.count);
      engine::PutI64Ordered(out, o.last_time);
    }
  }
  bool Load(std::string_view in) override {
    if (in.size() < kHeadBytes || static_cast<uint8_t>(in[0]) != kEwmaVersion) return false;
    const char* p = in.data();
    const uint32_t n = engine::GetU32(p + kHeadBytes - 4);
    if (in.size() - kHeadBytes != size_t{n} * kSlotBytes) return false;
    const uint8_t has_pending = static_cast<uint8_t>(p[41]);
    const double l = GetDouble(p + 1), v = GetDouble(p + 9), pv = GetDouble(p + 50);
    const int64_t c = engine::GetI64Ordered(p + 17), m = engine::GetI64Ordered(p + 25);
    if (has_pending > 1 || !std::isfinite(l) || !std::isfinite(v) || v < 0 || c < 0 || m < 0 ||
        m > c || !std::isfinite(pv))
      return false;
    std::map<int64_t, Offset> loaded;
    for (const char* q = p + kHeadBytes; q < in.data() + in.size(); q += kSlotBytes) {
      Offset o{GetDouble(q + 8), engine::GetI64Ordered(q + 16), engine::GetI64Ordered(q + 24)};
      if (!std::isfinite(o.value) || o.count < 0 ||
          !loaded.emplace(engine::GetI64Ordered(q), o).second)
        return false;
    }
    level = l;
    var = v;
    count = c;
    residuals = m;
    last_time = engine::GetI64Ordered(p + 33);
    pending = has_pending == 1;
    pending_time = engine::GetI64Ordered(p + 42);
    pending_value = pv;
    offsets = std::move(loaded);
    return true;
  }
};

// The weight of a new value: equal weights for the first ones, then halving every half-life.
double Weight(int64_t count, int64_t dt, double half_life) {
  const double decay = 1.0 - std::exp2(-static_cast<double>(std::max<int64_t>(0, dt)) / half_life);
  return std::max(1.0 / static_cast<double>(count + 1), decay);
}

class EwmaAnomaly final : public engine::StatefulOperator {
 public:
  explicit EwmaAnomaly(const EwmaOptions& options) : options_(options) {}

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<EwmaState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<EwmaState&>(base);
    const std::optional<double> x = AsNumber(args[0]);
    if (!x) return Value::Null();
    const int64_t window = ctx.window_size;
    if (window > 0 && state.pending) {
      if (ctx.time < state.pending_time) return Value::Null();  // too late to correct
      if (ctx.time > state.pending_time) Learn(state, state.pending_value, state.pending_time, window);
    }
    if (state.count > 0 && ctx.time - state.last_time > options_.baseline) Restart(state);
    const int64_t slot = SlotOf(ctx.time, window, options_.season);
    const bool seasonal = SlotCount(window, options_.season) > 1;
    auto offset = state.offsets.find(slot);
    const bool known_slot =
        !seasonal || (offset != state.offsets.end() && offset->second.count > 0 &&
                      ctx.time - offset->second.last_time <= options_.baseline);
    Value score = Value::Null();
    details[kHistory] = Value::Int(state.count);
    if (known_slot && static_cast<size_t>(state.count) >=
                          MinValues(window)) {
      const double expected = state.level + (seasonal ? offset->second.value : 0.0);
      const double spread = std::sqrt(state.var);
      score = Value::Decimal(ZScore(*x, expected, spread));
      details[kExpected] = InUnits(expected, args[0]);
      details[kSpread] = InUnits(spread, args[0]);
      SlotName(ctx.time, window, options_.season, state.slot_name);
      details[kSlot] = Value::String(state.slot_name);
    }
    if (window > 0) {
      state.pending = true;
      state.pending_time = ctx.time;
      state.pending_value = *x;
    } else {
      Learn(state, *x, ctx.time, window);
    }
    return score;
  }

 private:
  // Scores start once half the baseline's windows have been learned (at least three).
  size_t MinValues(int64_t window) const {
    if (window <= 0) return kMinHistory;
    return std::max<size_t>(kMinHistory, static_cast<size_t>(options_.baseline / window / 2));
  }

  double LevelHalfLife(int64_t window) const {
    if (options_.half_life > 0) return static_cast<double>(options_.half_life);
    if (window > 0) return static_cast<double>(kEwmaAutoWindows * window);
    return static_cast<double>(std::max<int64_t>(1, options_.baseline / 2));
  }

  static void Restart(EwmaState& state) {
    state.level = state.var = 0;
    state.count = state.residuals = 0;
    state.offsets.clear();
  }

  void Learn(EwmaState& state, double y, int64_t time, int64_t window) const {
    state.pending = false;
    if (state.count > 0 && time - state.last_time > options_.baseline) Restart(state);
    const bool seasonal = SlotCount(window, options_.season) > 1;
    Offset* offset = nullptr;
    if (seasonal) {
      offset = &state.offsets[SlotOf(time, window, options_.season)];
      if (offset->count > 0 && time - offset->last_time > options_.baseline) *offset = Offset{};
    }
    if (state.count == 0) {
      state.level = y;
      state.var = 0;
      state.residuals = 1;
    } else if (offset && offset->count == 0) {
      offset->value = y - state.level;  // a new slot: its offset, nothing else to learn
    } else {
      const double s = offset ? offset->value : 0.0;
      double r = y - state.level - s;
      if (static_cast<size_t>(state.count) >= MinValues(window) && state.var > 0) {
        const double limit = options_.clip * std::sqrt(state.var);
        r = std::clamp(r, -limit, limit);
      }
      const int64_t dt = time - state.last_time;
      const double half_life = LevelHalfLife(window);
      const double a = Weight(state.residuals, dt, half_life);
      const double b = Weight(state.residuals, dt, half_life * options_.variance_factor);
      const double clipped = state.level + s + r;
      state.level += a * r;
      if (offset) {
        const double g = Weight(offset->count, time - offset->last_time,
                                static_cast<double>(std::max<int64_t>(1, options_.baseline / 2)));
        offset->value += g * (clipped - state.level - offset->value);
      }
      state.var = (1 - b) * (state.var + b * r * r);
      state.residuals += 1;
    }
    if (offset) {
      offset->count += 1;
      offset->last_time = time;
    }
    state.count += 1;
    state.last_time = time;
  }

  EwmaOptions options_;
};

}  // namespace

std::unique_ptr<engine::StatefulOperator> MakeEwmaAnomaly(const EwmaOptions& options) {
  return std::make_unique<EwmaAnomaly>(options);
}

}  // namespace aisle::stdlib::anomaly_detail
