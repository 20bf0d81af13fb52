// forecast(value, horizon, season = 1w, level = 95%, method = "auto"): the language's face of the
// forecasting core (stdlib/forecast.hpp), a stateful function for rules on windowed metrics.
//
// Each key (the metric's group) keeps an incremental Forecaster fed with the value of every
// window as it fires. The result is the forecast total over the next `horizon` (one window when
// left out); the details are the next window's forecast, the bounds of the total's prediction
// interval, the one-step error's standard deviation (what safety stock needs) and the model.
//
// Windows that never fired (an hour without sales) count as 0, so the series keeps its seasonal
// alignment; a gap longer than the forecaster's history starts the series over. A window fired
// again (a correction) is not learned twice: the forecaster keeps the value it first saw.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include <boost/math/distributions/normal.hpp>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/key_codec.hpp"
#include "stdlib/forecast.hpp"
#include "stdlib/series_values.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;

namespace {

// Version 2 added `negative_seen`; version 1 states read as never having seen one.
constexpr uint8_t kStateVersion = 2;
// The details, in the order RegisterForecast declares them.
constexpr size_t kNext = 0, kLower = 1, kUpper = 2, kErrorSd = 3, kModel = 4;
// No forecast before this many windows of the shortest season (or this many windows without a
// season): a model fitted on less says little.
constexpr int64_t kMinSeasons = 2;
constexpr int64_t kMinValues = 8;

class ForecastState final : public engine::OperatorState {
 public:
  std::optional<Forecaster> forecaster;
  int64_t last_time = std::numeric_limits<int64_t>::min();
  bool negative_seen = false;  // a series that never went below 0 is not forecast below it
  std::string model;  // the last forecast's model, which a detail's string points into

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kStateVersion));
    engine::PutI64Ordered(out, last_time);
    out.push_back(negative_seen ? 1 : 0);
    if (forecaster) forecaster->Save(out);
  }
  bool Load(std::string_view in) override {
    const size_t header = in.empty() ? 0 : static_cast<uint8_t>(in[0]) == 1 ? 9 : 10;
    if (in.empty() || static_cast<uint8_t>(in[0]) > kStateVersion || in.size() < header) return false;
    last_time = engine::GetI64Ordered(in.data() + 1);
    negative_seen = header == 10 && in[9] != 0;
    in.remove_prefix(header);
    if (in.empty()) {
      forecaster.reset();
      return true;
    }
    Forecaster loaded{ForecastOptions{}};
    if (!loaded.Load(in)) return false;
    forecaster = std::move(loaded);
    return true;
  }
};


class ForecastFunction final : public engine::StatefulOperator {
 public:
  ForecastFunction(int64_t horizon, int64_t season, double level, Method method)
      : horizon_(horizon), season_(season), level_(level), method_(method) {}

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<ForecastState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<ForecastState&>(base);
    const std::optional<double> x = AsNumber(args[0]);
    if (ctx.window_size <= 0 || !x) return Value::Null();  // a raw stream has no series
    if (ctx.time <= state.last_time) return Value::Null();  // a correction: already learned
    if (!state.forecaster) state.forecaster.emplace(Options(ctx.window_size));
    Forecaster& f = *state.forecaster;
    if (state.last_time != std::numeric_limits<int64_t>::min()) {
      const int64_t missing = (ctx.time - state.last_time) / ctx.window_size - 1;
      if (missing > static_cast<int64_t>(f.HistoryLimit())) {
        f = Forecaster(Options(ctx.window_size));  // too long a gap: start over
      } else {
        for (int64_t i = 0; i < missing; ++i) f.Add(0.0);
      }
    }
    f.Add(*x);
    state.last_time = ctx.time;
    if (*x < 0) state.negative_seen = true;
    const std::vector<int> seasons = SeasonsInWindows(season_, ctx.window_size);
    const int64_t needed = seasons.empty() ? kMinValues : kMinSeasons * seasons.front();
    if (f.Count() < needed) return Value::Null();
    const Forecast forecast = f.Predict();
    if (!forecast.error.empty() || forecast.mean.empty()) return Value::Null();
    // Sales, units and visits do not go below 0: neither do their forecasts.
    const double floor = state.negative_seen ? -std::numeric_limits<double>::infinity() : 0.0;
    double total = 0, lower = 0, upper = 0;
    for (size_t i = 0; i < forecast.mean.size(); ++i) {
      total += std::max(forecast.mean[i], floor);
      lower += std::max(forecast.lower[i], floor);
      upper += std::max(forecast.upper[i], floor);
    }
    auto in_units = [&](double y) {
      if (!std::isfinite(y)) return Value::Null();
      if (args[0].type != Type::kMoney) return Value::Decimal(y);
      return Value::Money(std::llround(y * static_cast<double>(dsl::kMoneyScale)), args[0].currency);
    };
    details[kNext] = in_units(std::max(forecast.mean[0], floor));
    details[kLower] = in_units(lower);
    details[kUpper] = in_units(upper);
    // The one-step interval is mean +- z * sd: its half-width over z.
    const double z = ZOf(level_);
    if (z > 0) details[kErrorSd] = in_units((forecast.upper[0] - forecast.lower[0]) / (2 * z));  // unclipped
    state.model = forecast.model;
    details[kModel] = Value::String(state.model);
    return in_units(total);
  }

 private:
  ForecastOptions Options(int64_t window) const {
    ForecastOptions o;
    o.horizon = static_cast<int>(std::clamp<int64_t>(
        horizon_ > 0 ? (horizon_ + window - 1) / window : 1, 1, 10'000));
    o.seasons = SeasonsInWindows(season_, window);
    o.level = level_;
    o.method = method_;
    return o;
  }
  static double ZOf(double level);

  int64_t horizon_;  // 0: one window
  int64_t season_;
  double level_;
  Method method_;
};

double ForecastFunction::ZOf(double level) {
  if (!(level > 0 && level < 1)) return 0;
  return boost::math::quantile(boost::math::normal_distribution<double>(), (1 + level) / 2);
}

std::unique_ptr<engine::StatefulOperator> MakeForecast(std::span<const Value> args) {
  const std::string_view name = args[4].str();
  Method method = Method::kAuto;
  if (name == "ets") method = Method::kEts;
  else if (name == "seasonal_naive") method = Method::kSeasonalNaive;
  else if (name == "naive") method = Method::kNaive;
  else if (name == "croston") method = Method::kCroston;
  else if (name == "sba") method = Method::kSba;
  else if (name == "tsb") method = Method::kTsb;
  const double level = args[3].type == Type::kPercent || args[3].type == Type::kDecimal ? args[3].d : 0.95;
  return std::make_unique<ForecastFunction>(args[1].i, args[2].i, level, method);
}

Type ForecastType(std::span<const Type> a, std::string_view& error) {
  if (a[0] != Type::kInt && a[0] != Type::kDecimal && a[0] != Type::kPercent &&
      a[0] != Type::kMoney && a[0] != Type::kNull)
    error = "forecast needs a number or money";
  return a[0] == Type::kMoney ? Type::kMoney : Type::kDecimal;
}

}  // namespace

void RegisterForecast(engine::OperatorRegistry& registry) {
  engine::FunctionDescriptor d;
  d.spec.name = "forecast";
  d.spec.kind = dsl::FunctionKind::kStateful;
  d.spec.params = {
      {"value", Type::kAny, true, Value::Null()},
      {"horizon", Type::kDuration, false, Value::Duration(0), true},
      {"season", Type::kDuration, false, Value::Duration(7 * dsl::kMicrosPerDay), true},
      {"level", Type::kPercent, false, Value::Percent(0.95), true},
      {"method", Type::kString, false, Value::String("auto"), true,
       {"auto", "ets", "seasonal_naive", "naive", "croston", "sba", "tsb"}},
  };
  d.spec.result = ForecastType;
  d.spec.summary = "forecast total of a windowed value over the next horizon, learned per key";
  d.spec.details = {{"next", Type::kAny},
                    {"lower", Type::kAny},
                    {"upper", Type::kAny},
                    {"error_sd", Type::kAny},
                    {"model", Type::kString}};
  d.stateful = MakeForecast;
  registry.Register(std::move(d));
}

}  // namespace aisle::stdlib
