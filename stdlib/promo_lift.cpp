// promo_lift(value, promo, season = 1w, method = "auto", margin = null, promo_margin = null): the
// lift of a promotion against the baseline the forecasting core (stdlib/forecast.hpp) learns from
// the windows without one; a stateful function for rules on windowed metrics.
//
// Each key (the metric's group) keeps an incremental Forecaster. Every window, the baseline is the
// forecaster's one-step forecast made before the window's value is known (out of sample). A window
// without a promotion then feeds its actual value; a promotion window (or one whose flag is null)
// feeds the baseline instead, a stand-in, so the promotion's extra (or lost) units never enter the
// baseline while the series keeps its seasonal slots. Before any forecast can be made, the actual
// value stands in. Windows that never fired count as 0, a gap longer than the forecaster's history
// starts the series over, and a window fired again (a correction) is not learned twice, as for
// forecast().
//
// In a promotion window the result is lift = actual / baseline - 1 (a percent); the details give
// the baseline, the incremental units (actual - baseline) and, with the regular and promoted unit
// margins, the margin arithmetic of PromoMarginOf (margin.hpp). Outside promotions, and until two
// seasons of windows are known (8 windows without a season), everything is null.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/key_codec.hpp"
#include "stdlib/forecast.hpp"
#include "stdlib/margin.hpp"
#include "stdlib/series_values.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;

namespace {

constexpr uint8_t kStateVersion = 1;
// The details, in the order RegisterPromoLift declares them.
constexpr size_t kBaseline = 0, kIncremental = 1, kErosion = 2, kIncrementalMargin = 3,
                 kNetMargin = 4;
// As forecast(): no baseline before two seasons of windows (8 windows without a season).
constexpr int64_t kMinSeasons = 2;
constexpr int64_t kMinValues = 8;

class PromoLiftState final : public engine::OperatorState {
 public:
  std::optional<Forecaster> forecaster;
  int64_t last_time = std::numeric_limits<int64_t>::min();

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kStateVersion));
    engine::PutI64Ordered(out, last_time);
    if (forecaster) forecaster->Save(out);
  }
  bool Load(std::string_view in) override {
    if (in.size() < 9 || static_cast<uint8_t>(in[0]) != kStateVersion) return false;
    last_time = engine::GetI64Ordered(in.data() + 1);
    in.remove_prefix(9);
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


class PromoLift final : public engine::StatefulOperator {
 public:
  PromoLift(int64_t season, Method method) : season_(season), method_(method) {}

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<PromoLiftState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<PromoLiftState&>(base);
    const std::optional<double> actual = AsNumber(args[0]);
    if (ctx.window_size <= 0 || !actual) return Value::Null();  // a raw stream has no series
    if (ctx.time <= state.last_time) return Value::Null();      // a correction: already learned
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
    state.last_time = ctx.time;

    // The baseline: the forecast of this window from the windows before it. Demand below zero
    // means none.
    std::optional<double> baseline;
    const std::vector<int> seasons = SeasonsInWindows(season_, ctx.window_size);
    const int64_t needed = seasons.empty() ? kMinValues : kMinSeasons * seasons.front();
    if (f.Count() > 0) {
      const Forecast forecast = f.Predict();
      if (forecast.error.empty() && !forecast.mean.empty() && std::isfinite(forecast.mean[0]))
        baseline = std::max(0.0, forecast.mean[0]);
    }
    const bool promo = args[1].type == Type::kBool && args[1].b;
    const bool regular = args[1].type == Type::kBool && !args[1].b;
    f.Add(regular || !baseline ? *actual : *baseline);
    if (!promo || !baseline || f.Count() - 1 < needed) return Value::Null();

    auto in_units = [&](double y) {
      if (!std::isfinite(y)) return Value::Null();
      if (args[0].type != Type::kMoney) return Value::Decimal(y);
      return Value::Money(std::llround(y * static_cast<double>(dsl::kMoneyScale)),
                          args[0].currency);
    };
    details[kBaseline] = in_units(*baseline);
    details[kIncremental] = in_units(*actual - *baseline);
    const Value& margin = args[4];
    const Value& promo_margin = args[5];
    if (args[0].type != Type::kMoney && margin.type == Type::kMoney &&
        promo_margin.type == Type::kMoney && margin.currency == promo_margin.currency) {
      if (auto m = PromoMarginOf(*actual, *baseline, margin.i, promo_margin.i)) {
        details[kErosion] = Value::Money(m->erosion, margin.currency);
        details[kIncrementalMargin] = Value::Money(m->incremental_margin, margin.currency);
        details[kNetMargin] = Value::Money(m->net, margin.currency);
      }
    }
    if (*baseline <= 0) return Value::Null();
    return Value::Percent(*actual / *baseline - 1);
  }

 private:
  ForecastOptions Options(int64_t window) const {
    ForecastOptions o;
    o.horizon = 1;
    o.seasons = SeasonsInWindows(season_, window);
    o.method = method_;
    return o;
  }

  int64_t season_;
  Method method_;
};

std::unique_ptr<engine::StatefulOperator> MakePromoLift(std::span<const Value> args) {
  const std::string_view name = args[3].str();
  Method method = Method::kAuto;
  if (name == "ets")
    method = Method::kEts;
  else if (name == "seasonal_naive")
    method = Method::kSeasonalNaive;
  else if (name == "naive")
    method = Method::kNaive;
  else if (name == "croston")
    method = Method::kCroston;
  else if (name == "sba")
    method = Method::kSba;
  else if (name == "tsb")
    method = Method::kTsb;
  return std::make_unique<PromoLift>(args[2].i, method);
}

Type PromoLiftType(std::span<const Type> a, std::string_view& error) {
  if (a[0] != Type::kInt && a[0] != Type::kDecimal && a[0] != Type::kPercent &&
      a[0] != Type::kMoney && a[0] != Type::kNull)
    error = "promo_lift needs a number (units) or money";
  else if ((a[4] == Type::kMoney || a[5] == Type::kMoney) && a[0] == Type::kMoney)
    error = "promo_lift: margins per unit need a value in units, not money";
  return Type::kPercent;
}

}  // namespace

void RegisterPromoLift(engine::OperatorRegistry& registry) {
  engine::FunctionDescriptor d;
  d.spec.name = "promo_lift";
  d.spec.kind = dsl::FunctionKind::kStateful;
  d.spec.params = {
      {"value", Type::kAny, true, Value::Null()},
      {"promo", Type::kBool, true, Value::Null()},
      {"season", Type::kDuration, false, Value::Duration(7 * dsl::kMicrosPerDay), true},
      {"method",
       Type::kString,
       false,
       Value::String("auto"),
       true,
       {"auto", "ets", "seasonal_naive", "naive", "croston", "sba", "tsb"}},
      {"margin", Type::kMoney, false, Value::Null()},
      {"promo_margin", Type::kMoney, false, Value::Null()},
  };
  d.spec.result = PromoLiftType;
  d.spec.summary =
      "a promotion window's lift over the baseline learned from windows without one, per key";
  d.spec.details = {{"baseline", Type::kAny},
                    {"incremental", Type::kAny},
                    {"margin_erosion", Type::kMoney},
                    {"incremental_margin", Type::kMoney},
                    {"net_margin", Type::kMoney}};
  d.stateful = MakePromoLift;
  registry.Register(std::move(d));
}

}  // namespace aisle::stdlib
