// staffing(tx, traffic, tx_per_staff_hour = 12, traffic_per_staff_hour = 40, min_staff = 1,
//          open = 8h, close = 22h, min_shift = 4h, max_shift = 8h, season = 1w):
// the language's face of the staffing core (stdlib/staffing.hpp), a stateful function for rules
// on an hourly metric keyed by store.
//
// Each key keeps incremental Forecasters (stdlib/forecast.hpp) of its hourly transactions and,
// when the call gives them, its hourly foot traffic, fed as `forecast` feeds its one: hours that
// never fired count as 0, a gap longer than the history starts over, a correction is not learned
// twice. Once per local day of the store (CallContext::utc_offset), at the first record of the
// last opening hour (close - 1h) or later, it forecasts the next local day's 24 hours, staffs
// them (HourlyNeed, PlanShifts) and returns the planned staff-hours; other records give null.
//
// The plan waits for the last opening hour rather than the day's last hour (23:00) because an
// hourly metric fires only for hours with records: a store closed at night has no 23:00 record.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/key_codec.hpp"
#include "stdlib/forecast.hpp"
#include "stdlib/series_values.hpp"
#include "stdlib/staffing.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::stdlib {

using dsl::Type;
using dsl::Value;

namespace {

constexpr uint8_t kStateVersion = 1;
// Parameters, in the order RegisterStaffing declares them.
constexpr size_t kTx = 0, kTraffic = 1, kTxRate = 2, kTrafficRate = 3, kMinStaff = 4, kOpen = 5,
                 kClose = 6, kMinShift = 7, kMaxShift = 8, kSeason = 9;
// The details, in the order RegisterStaffing declares them.
constexpr size_t kDate = 0, kShifts = 1, kNeed = 2, kPeak = 3, kCsv = 4, kNeedCsv = 5;
// As forecast: no plan before two of the shortest season (two days of hours with season 1w).
constexpr int64_t kMinSeasons = 2;
constexpr int64_t kMinValues = 8;
// Steps forecast: the rest of today (at most 23 hours after the last opening hour's record) and
// the next local day.
constexpr int kHorizon = 2 * kHoursPerDay;
constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

class StaffingState final : public engine::OperatorState {
 public:
  std::optional<Forecaster> tx;
  std::optional<Forecaster> traffic;  // created by the first traffic value the call is given
  int64_t last_time = kNone;
  int64_t planned_day = kNone;  // local day (days since 1970-01-01) of the last plan's record
  // The last plan's text details, which the detail strings point into.
  std::string date, shifts, need, csv, need_csv;

  void Save(std::string& out) const override {
    out.push_back(static_cast<char>(kStateVersion));
    engine::PutI64Ordered(out, last_time);
    engine::PutI64Ordered(out, planned_day);
    for (const auto* f : {&tx, &traffic}) {
      std::string bytes;
      if (*f) (*f)->Save(bytes);
      out.push_back(*f ? 1 : 0);
      engine::PutU32(out, static_cast<uint32_t>(bytes.size()));
      out += bytes;
    }
  }
  bool Load(std::string_view in) override {
    if (in.size() < 17 || static_cast<uint8_t>(in[0]) != kStateVersion) return false;
    const int64_t last = engine::GetI64Ordered(in.data() + 1);
    const int64_t planned = engine::GetI64Ordered(in.data() + 9);
    in.remove_prefix(17);
    std::optional<Forecaster> loaded[2];
    for (auto& f : loaded) {
      if (in.size() < 5) return false;
      const bool present = in[0] != 0;
      const uint32_t size = engine::GetU32(in.data() + 1);
      in.remove_prefix(5);
      if (in.size() < size) return false;
      if (present) {
        f.emplace(ForecastOptions{});
        if (!f->Load(in.substr(0, size))) return false;
      }
      in.remove_prefix(size);
    }
    last_time = last;
    planned_day = planned;
    tx = std::move(loaded[0]);
    traffic = std::move(loaded[1]);
    return true;
  }
};

// The constants of a call, checked (CheckStaffing) before anything runs.
struct Settings {
  double tx_rate = 12, traffic_rate = 40;
  int min_staff = 1;
  ShiftRules rules{8, 22, 4, 8};
  int64_t season = 7 * dsl::kMicrosPerDay;
};

std::string Clock(int hour) { return fmt::format("{:02d}:00", hour); }

class StaffingFunction final : public engine::StatefulOperator {
 public:
  explicit StaffingFunction(std::optional<Settings> settings) : settings_(std::move(settings)) {}

  std::unique_ptr<engine::OperatorState> NewState() const override {
    return std::make_unique<StaffingState>();
  }

  Value Apply(engine::OperatorState& base, std::span<const Value> args,
              const engine::CallContext& ctx, std::span<Value> details) const override {
    auto& state = static_cast<StaffingState&>(base);
    if (!settings_ || ctx.window_size != dsl::kMicrosPerHour) return Value::Null();
    const std::optional<double> tx = AsNumber(args[kTx]);
    if (!tx) return Value::Null();
    if (ctx.time <= state.last_time) return Value::Null();  // a correction: already learned
    const std::optional<double> traffic =
        args.size() > kTraffic ? AsNumber(args[kTraffic]) : std::nullopt;
    Learn(state, *tx, traffic, ctx.time);

    const int64_t local = ctx.time + ctx.utc_offset;
    const int64_t day = dsl::FloorDiv(local, dsl::kMicrosPerDay);
    const int hour = static_cast<int>((local - day * dsl::kMicrosPerDay) / dsl::kMicrosPerHour);
    if (hour < settings_->rules.close_hour - 1 || day <= state.planned_day) return Value::Null();

    const std::vector<int> seasons = SeasonsInWindows(settings_->season, dsl::kMicrosPerHour);
    const int64_t needed = seasons.empty() ? kMinValues : kMinSeasons * seasons.front();
    // mean[0] is the next hour; the next local day starts 23 - hour steps later.
    const size_t first = static_cast<size_t>(kHoursPerDay - 1 - hour);
    auto next_day = [&](const Forecaster& f) -> std::optional<std::vector<double>> {
      if (f.Count() < needed) return std::nullopt;
      const Forecast forecast = f.Predict();
      if (!forecast.error.empty() || forecast.mean.size() < first + kHoursPerDay) return std::nullopt;
      return std::vector<double>(forecast.mean.begin() + static_cast<std::ptrdiff_t>(first),
                                 forecast.mean.begin() + static_cast<std::ptrdiff_t>(first + kHoursPerDay));
    };
    const std::optional<std::vector<double>> tx_forecast = next_day(*state.tx);
    if (!tx_forecast) return Value::Null();
    // Traffic counts only once it has history enough of its own: until then, transactions alone.
    std::optional<std::vector<double>> traffic_forecast;
    if (state.traffic && settings_->traffic_rate > 0) traffic_forecast = next_day(*state.traffic);
    Result<StaffingPlan> plan =
        Staffing(traffic_forecast ? *traffic_forecast : std::vector<double>{}, *tx_forecast,
                 settings_->tx_rate, settings_->min_staff, settings_->rules,
                 traffic_forecast ? settings_->traffic_rate : 0.0);
    if (!plan.ok()) return Value::Null();  // e.g. a need above 100,000 people
    state.planned_day = day;
    Describe(state, *plan, day + 1, details);
    return Value::Int(plan->staff_hours);
  }

 private:
  // Appends this hour (and zeros for the hours that never fired) to the key's series.
  void Learn(StaffingState& state, double tx, std::optional<double> traffic, int64_t time) const {
    const ForecastOptions options = Options();
    if (!state.tx) state.tx.emplace(options);
    if (traffic && !state.traffic) {
      // Aligned with the transactions from the hour traffic first comes.
      state.traffic.emplace(options);
    }
    if (state.last_time != kNone) {
      const int64_t missing = (time - state.last_time) / dsl::kMicrosPerHour - 1;
      if (missing > static_cast<int64_t>(state.tx->HistoryLimit())) {
        state.tx.emplace(options);  // too long a gap: start over
        if (state.traffic) state.traffic.emplace(options);
      } else {
        for (int64_t i = 0; i < missing; ++i) {
          state.tx->Add(0.0);
          if (state.traffic && state.traffic->Count() > 0) state.traffic->Add(0.0);
        }
      }
    }
    state.tx->Add(tx);
    if (state.traffic) state.traffic->Add(traffic.value_or(0.0));  // no visitors counted: 0
    state.last_time = time;
  }

  ForecastOptions Options() const {
    ForecastOptions o;
    o.horizon = kHorizon;
    o.seasons = SeasonsInWindows(settings_->season, dsl::kMicrosPerHour);
    return o;
  }

  // Fills the details from `plan`, for the local day `day` (days since 1970-01-01).
  void Describe(StaffingState& state, const StaffingPlan& plan, int64_t day,
                std::span<Value> details) const {
    int64_t y = 0;
    unsigned m = 0, d = 0;
    dsl::CivilFromDays(day, y, m, d);
    state.date = fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
    state.shifts.clear();
    for (const Shift& s : plan.shifts)
      state.shifts += fmt::format("{}{}-{} x{}", state.shifts.empty() ? "" : ", ", Clock(s.start),
                                  Clock(s.end), s.staff);
    state.need.clear();
    int peak = 0;
    for (int h = settings_->rules.open_hour; h < settings_->rules.close_hour; ++h) {
      const int n = plan.need[static_cast<size_t>(h)];
      state.need += fmt::format("{}{:02d}:{}", state.need.empty() ? "" : " ", h, n);
      peak = std::max(peak, n);
    }
    state.csv = ScheduleCsv(state.date, plan);
    state.need_csv = NeedCsv(state.date, plan);
    details[kDate] = Value::String(state.date);
    details[kShifts] = Value::String(state.shifts);
    details[kNeed] = Value::String(state.need);
    details[kPeak] = Value::Int(peak);
    details[kCsv] = Value::String(state.csv);
    details[kNeedCsv] = Value::String(state.need_csv);
  }

  std::optional<Settings> settings_;  // nullopt: constants the checker would have rejected
};

// Whole hours of a duration constant, or nullopt.
std::optional<int> WholeHours(const Value& v) {
  if (v.type != Type::kDuration || v.i % dsl::kMicrosPerHour != 0) return std::nullopt;
  const int64_t hours = v.i / dsl::kMicrosPerHour;
  if (hours < 0 || hours > kHoursPerDay) return std::nullopt;
  return static_cast<int>(hours);
}

// The call's settings from its constants, or the index of the first bad one and why.
std::optional<Settings> ReadSettings(std::span<const Value> a, int& bad, std::string& message) {
  Settings s;
  auto fail = [&](size_t index, std::string text) {
    bad = static_cast<int>(index);
    message = std::move(text);
    return std::nullopt;
  };
  const std::optional<double> tx_rate = PlainNumber(a[kTxRate]);
  if (!tx_rate || !(*tx_rate > 0))
    return fail(kTxRate, "tx_per_staff_hour is the transactions one person handles in an hour: a constant above 0");
  s.tx_rate = *tx_rate;
  const std::optional<double> traffic_rate = PlainNumber(a[kTrafficRate]);
  if (!traffic_rate || !(*traffic_rate >= 0))
    return fail(kTrafficRate, "traffic_per_staff_hour is the visitors one person serves in an hour: a constant of at least 0 (0 ignores traffic)");
  s.traffic_rate = *traffic_rate;
  if (a[kMinStaff].type != Type::kInt || a[kMinStaff].i < 0 || a[kMinStaff].i > 100'000)
    return fail(kMinStaff, "min_staff is the fewest people on the floor while open: a whole number from 0 to 100000");
  s.min_staff = static_cast<int>(a[kMinStaff].i);
  const char* kWhole = "{} must be a whole number of hours from 0h to 24h, e.g. {}";
  const std::optional<int> open = WholeHours(a[kOpen]), close = WholeHours(a[kClose]);
  const std::optional<int> min_shift = WholeHours(a[kMinShift]), max_shift = WholeHours(a[kMaxShift]);
  if (!open) return fail(kOpen, fmt::format(fmt::runtime(kWhole), "open", "8h"));
  if (!close) return fail(kClose, fmt::format(fmt::runtime(kWhole), "close", "22h"));
  if (*open >= *close || *open >= kHoursPerDay)
    return fail(kClose, fmt::format("the store must open before it closes: open {}h, close {}h", *open, *close));
  if (!min_shift || *min_shift < 1) return fail(kMinShift, "min_shift must be a whole number of hours from 1h to 24h, e.g. 4h");
  if (!max_shift || *max_shift < 1) return fail(kMaxShift, "max_shift must be a whole number of hours from 1h to 24h, e.g. 8h");
  if (*min_shift > *max_shift)
    return fail(kMaxShift, fmt::format("max_shift {}h is shorter than min_shift {}h", *max_shift, *min_shift));
  if (*min_shift > *close - *open)
    return fail(kMinShift, fmt::format("min_shift {}h is longer than the {}h the store is open", *min_shift, *close - *open));
  s.rules = {*open, *close, *min_shift, *max_shift};
  if (a[kSeason].type != Type::kDuration || a[kSeason].i < dsl::kMicrosPerHour)
    return fail(kSeason, "season must be a duration of at least 1h, e.g. 1w");
  s.season = a[kSeason].i;
  return s;
}

int CheckStaffing(std::span<const Value> args, std::string& message) {
  int bad = -1;
  ReadSettings(args, bad, message);
  return bad;
}

std::unique_ptr<engine::StatefulOperator> MakeStaffing(std::span<const Value> args) {
  int bad = -1;
  std::string message;
  return std::make_unique<StaffingFunction>(ReadSettings(args, bad, message));
}

Type StaffingType(std::span<const Type> a, std::string_view& error) {
  auto number = [](Type t) {
    return t == Type::kInt || t == Type::kDecimal || t == Type::kNull;
  };
  if (!number(a[kTx])) error = "staffing counts transactions: tx is a number";
  else if (!number(a[kTraffic])) error = "staffing counts visitors: traffic is a number";
  return Type::kInt;
}

}  // namespace

void RegisterStaffing(engine::OperatorRegistry& registry) {
  engine::FunctionDescriptor d;
  d.spec.name = "staffing";
  d.spec.kind = dsl::FunctionKind::kStateful;
  auto hours = [](int64_t n) { return Value::Duration(n * dsl::kMicrosPerHour); };
  d.spec.params = {
      {"tx", Type::kAny, true, Value::Null()},
      {"traffic", Type::kAny, false, Value::Null()},
      {"tx_per_staff_hour", Type::kDecimal, false, Value::Int(12), true},
      {"traffic_per_staff_hour", Type::kDecimal, false, Value::Int(40), true},
      {"min_staff", Type::kInt, false, Value::Int(1), true},
      {"open", Type::kDuration, false, hours(8), true},
      {"close", Type::kDuration, false, hours(22), true},
      {"min_shift", Type::kDuration, false, hours(4), true},
      {"max_shift", Type::kDuration, false, hours(8), true},
      {"season", Type::kDuration, false, Value::Duration(7 * dsl::kMicrosPerDay), true},
  };
  d.spec.result = StaffingType;
  d.spec.summary = "staff-hours planned for the store's next local day, from hourly forecasts";
  d.spec.details = {{"date", Type::kString},   {"shifts", Type::kString},
                    {"need", Type::kString},   {"peak", Type::kInt},
                    {"csv", Type::kString},    {"need_csv", Type::kString}};
  d.spec.check_constants = CheckStaffing;
  d.spec.local_time = true;
  d.stateful = MakeStaffing;
  registry.Register(std::move(d));
}

}  // namespace aisle::stdlib
