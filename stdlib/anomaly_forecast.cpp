// anomaly(..., method = "forecast"): how far a value lies from the key's own one-step forecast,
// in units of the forecast's one-step error standard deviation.
//
// Each key keeps an incremental Forecaster (stdlib/forecast.hpp, method "auto") with the seasons
// forecast() derives from the window and `season` (hour of day and hour of week for an hourly
// metric with season 1w). When a window arrives the forecaster predicts it one step ahead from the
// windows before; the score is (x - forecast) / sd, sd the half-width of the 95% one-step interval
// over 1.96. Unlike the slot methods, the whole series informs every slot (trend, level and the
// seasonal profile are shared), so it needs far less history than a per-slot baseline; it is also
// the costliest (a refit every season, see Forecaster).
//
// Windows that never fired count as 0, as in forecast(). A window's value stays pending until the
// key's next window arrives, so a window fired again replaces it and is scored against the same
// forecast; an older window's correction scores null. No score before two of the shortest season
// (8 values without a season); on raw streams each record is a step of an unseasonal series.

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "stdlib/anomaly_internal.hpp"
#include "stdlib/forecast.hpp"

namespace aisle::stdlib::anomaly_detail {

namespace {

using dsl::Value;

constexpr uint8_t kForecastVersion = 1;
constexpr int64_t kMinSeasons = 2;
constexpr int64_t kMinValues = 8;
constexpr double kZ95 = 1.959963984540054;
constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

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

class ForecastAnomalyState final : public engine::OperatorState {
 public:
  std::optional<Forecaster> forecaster;
  int64_t pending_time = kNone;  // the last window, scored but not learned yet
  double pending_value = 0;
  bool predicted = false;  // the pending window's forecast, for its corrections
  double expected = 0, spread = 0;
  std::string slot_name;  // not saved

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kForecastVersion));
    engine::PutI64Ordered(out, pending_time);
    PutDouble(out, pending_value);
    out.push_back(predicted ? 1 : 0);
    PutDouble(out, expected);
    PutDouble(out, spread);
    out.push_back(forecaster ? 1 : 0);
    if (forecaster) forecaster->Save(out);
  }
  bool Load(std::string_view in) override {
    constexpr size_t kHead = 1 + 8 + 8 + 1 + 8 + 8 + 1;
    if (in.size() < kHead || static_cast<uint8_t>(in[0]) != kForecastVersion) return false;
    const char* p = in.data();
    const uint8_t has_prediction = static_cast<uint8_t>(p[17]);
    const uint8_t has_forecaster = static_cast<uint8_t>(p[34]);
    const double value = GetDouble(p + 9), mean = GetDouble(p + 18), sd = GetDouble(p + 26);
    if (has_prediction > 1 || has_forecaster > 1 || !std::isfinite(value) ||
        !std::isfinite(mean) || !std::isfinite(sd) || sd < 0)
      return false;
    std::optional<Forecaster> loaded;
    in.remove_prefix(kHead);
    if (has_forecaster) {
      loaded.emplace(ForecastOptions{});
      if (!loaded->Load(in)) return false;
    } else if (!in.empty()) {
      return false;
    }
    pending_time = engine::GetI64Ordered(p + 1);
    pending_value = value;
    predicted = has_prediction == 1;
    expected = mean;
    spread = sd;
    forecaster = std::move(loaded);
    return true;
  }
};

class ForecastAnomaly final : public engine::StatefulOperator {
 public:
  explicit ForecastAnomaly(int64_t season) : season_(season) {}

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<ForecastAnomalyState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<ForecastAnomalyState&>(base);
    const std::optional<double> x = AsNumber(args[0]);
    if (!x) return Value::Null();
    const int64_t window = ctx.window_size;
    if (window > 0 && state.pending_time != kNone) {
      if (ctx.time < state.pending_time) return Value::Null();  // too late to correct
      if (ctx.time == state.pending_time) {
        state.pending_value = *x;
        return Explain(state, *x, args[0], ctx, details);
      }
      Forecaster& f = Ensure(state, window);
      f.Add(state.pending_value);
      const int64_t missing = (ctx.time - state.pending_time) / window - 1;
      if (missing > static_cast<int64_t>(f.HistoryLimit())) {
        state.forecaster.reset();  // too long a gap: start over
      } else {
        for (int64_t i = 0; i < missing; ++i) f.Add(0.0);
      }
    }
    Forecaster& f = Ensure(state, window);
    const std::vector<int> seasons = SeasonsInWindows(season_, window);
    const int64_t needed = seasons.empty() ? kMinValues : kMinSeasons * seasons.front();
    state.predicted = false;
    if (f.Count() >= needed) {
      const Forecast forecast = f.Predict();
      if (forecast.error.empty() && !forecast.mean.empty() && std::isfinite(forecast.mean[0]) &&
          std::isfinite(forecast.upper[0] - forecast.lower[0])) {
        state.predicted = true;
        state.expected = forecast.mean[0];
        state.spread = std::max(0.0, (forecast.upper[0] - forecast.lower[0]) / (2 * kZ95));
      }
    }
    if (window > 0) {
      state.pending_time = ctx.time;
      state.pending_value = *x;
    }
    Value score = Explain(state, *x, args[0], ctx, details);
    if (window <= 0) f.Add(*x);
    return score;
  }

 private:
  Value Explain(ForecastAnomalyState& state, double x, const Value& like,
                const engine::CallContext& ctx, std::span<Value> details) const {
    details[kHistory] = Value::Int(state.forecaster ? state.forecaster->Count() : 0);
    if (!state.predicted) return Value::Null();
    details[kExpected] = InUnits(state.expected, like);
    details[kSpread] = InUnits(state.spread, like);
    SlotName(ctx.time, ctx.window_size, season_, state.slot_name);
    details[kSlot] = Value::String(state.slot_name);
    return Value::Decimal(ZScore(x, state.expected, state.spread));
  }

  Forecaster& Ensure(ForecastAnomalyState& state, int64_t window) const {
    if (!state.forecaster) {
      ForecastOptions o;
      o.horizon = 1;
      o.seasons = SeasonsInWindows(season_, window);
      o.level = 0.95;
      state.forecaster.emplace(std::move(o));
    }
    return *state.forecaster;
  }


  int64_t season_;
};

}  // namespace

std::unique_ptr<engine::StatefulOperator> MakeForecastAnomaly(int64_t season) {
  return std::make_unique<ForecastAnomaly>(season);
}

}  // namespace aisle::stdlib::anomaly_detail
