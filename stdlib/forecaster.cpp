// The incremental Forecaster and its saved state.
//
// Saved state, version 1, all integers little-endian:
//   u8 version (1) | u32 payload length | payload
//   payload: i32 horizon | u32 #seasons | i32 season... | f64 level | u8 method |
//            f64 intermittent_alpha | f64 tsb_beta | i64 count | u64 fitted_size |
//            u64 #history | f64 value...
// The fitted model is not saved: it is a deterministic function of the history and fitted_size
// (fit on the prefix, then per-value updates), rebuilt by Load.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "stdlib/forecast.hpp"
#include "stdlib/forecast_internal.hpp"

namespace aisle::stdlib {
namespace {

constexpr uint8_t kStateVersion = 1;
// Sanity bounds on loaded options, far above any real use, so garbage cannot ask for gigabytes.
constexpr int kMaxHorizon = 1 << 20;
constexpr uint32_t kMaxSeasons = 16;
constexpr int kMaxSeason = 1 << 20;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutF64(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutU64(out, bits);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (in_.size() < 1) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t& v) {
    if (in_.size() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool F64(double& v) {
    uint64_t bits;
    if (!U64(bits)) return false;
    std::memcpy(&v, &bits, sizeof v);
    return std::isfinite(v);
  }
  size_t Left() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace

Forecaster::Forecaster(ForecastOptions options) : options_(std::move(options)) {
  options_.regressors.clear();
}
Forecaster::~Forecaster() = default;
Forecaster::Forecaster(Forecaster&&) noexcept = default;
Forecaster& Forecaster::operator=(Forecaster&&) noexcept = default;

size_t Forecaster::HistoryLimit() const {
  int longest = 1;
  for (int s : options_.seasons) longest = std::max(longest, s);
  return std::max<size_t>(200, 6 * static_cast<size_t>(longest));
}

size_t Forecaster::RefitEvery() const {
  int longest = 1;
  for (int s : options_.seasons) longest = std::max(longest, s);
  return std::max<size_t>(24, static_cast<size_t>(longest));
}

void Forecaster::Add(double y) {
  if (!std::isfinite(y)) return;
  history_.push_back(y);
  ++count_;
  if (model_) model_->Update(y);
  if (history_.size() - fitted_size_ >= RefitEvery()) Refit();
}

void Forecaster::Refit() {
  if (history_.size() > HistoryLimit()) {
    history_.erase(history_.begin(), history_.end() - static_cast<std::ptrdiff_t>(HistoryLimit()));
  }
  auto model = forecast_detail::FitModel(history_, options_, nullptr);
  fitted_size_ = history_.size();
  model_ = model ? std::make_unique<forecast_detail::FittedModel>(std::move(*model)) : nullptr;
}

Forecast Forecaster::Predict() const {
  Forecast out;
  if (history_.empty()) {
    out.error = "no values added yet";
    return out;
  }
  if (options_.horizon < 1 || !(options_.level > 0 && options_.level < 1)) {
    out.error = "horizon must be at least 1 and level in (0, 1)";
    return out;
  }
  if (model_) return model_->Predict(options_.horizon, options_.level);
  return ForecastSeries(history_, options_);
}

void Forecaster::Save(std::string& out) const {
  std::string payload;
  PutU32(payload, static_cast<uint32_t>(options_.horizon));
  PutU32(payload, static_cast<uint32_t>(options_.seasons.size()));
  for (int s : options_.seasons) PutU32(payload, static_cast<uint32_t>(s));
  PutF64(payload, options_.level);
  payload.push_back(static_cast<char>(options_.method));
  PutF64(payload, options_.intermittent_alpha);
  PutF64(payload, options_.tsb_beta);
  PutU64(payload, static_cast<uint64_t>(count_));
  PutU64(payload, fitted_size_);
  PutU64(payload, history_.size());
  for (double v : history_) PutF64(payload, v);
  out.push_back(static_cast<char>(kStateVersion));
  PutU32(out, static_cast<uint32_t>(payload.size()));
  out += payload;
}

bool Forecaster::Load(std::string_view in) {
  Reader header(in);
  uint8_t version;
  uint32_t length;
  if (!header.U8(version) || version != kStateVersion || !header.U32(length)) return false;
  if (header.Left() != length) return false;
  Reader r(in.substr(5));
  ForecastOptions options;
  uint32_t u32;
  if (!r.U32(u32)) return false;
  options.horizon = static_cast<int32_t>(u32);
  if (options.horizon < 1 || options.horizon > kMaxHorizon) return false;
  uint32_t seasons;
  if (!r.U32(seasons) || seasons > kMaxSeasons) return false;
  for (uint32_t i = 0; i < seasons; ++i) {
    if (!r.U32(u32)) return false;
    const int s = static_cast<int32_t>(u32);
    if (s < 0 || s > kMaxSeason) return false;
    options.seasons.push_back(s);
  }
  uint8_t method;
  if (!r.F64(options.level) || !(options.level > 0 && options.level < 1)) return false;
  if (!r.U8(method) || method > static_cast<uint8_t>(Method::kTsb)) return false;
  options.method = static_cast<Method>(method);
  if (!r.F64(options.intermittent_alpha) || !r.F64(options.tsb_beta)) return false;
  uint64_t count, fitted, size;
  if (!r.U64(count) || !r.U64(fitted) || !r.U64(size)) return false;
  if (count > static_cast<uint64_t>(INT64_MAX) || size > count || fitted > size) return false;
  if (size > r.Left() / 8 || r.Left() != size * 8) return false;
  Forecaster loaded(options);
  if (size > loaded.HistoryLimit() + loaded.RefitEvery()) return false;
  loaded.history_.resize(size);
  for (auto& v : loaded.history_) {
    if (!r.F64(v)) return false;
  }
  loaded.count_ = static_cast<int64_t>(count);
  loaded.fitted_size_ = static_cast<size_t>(fitted);
  if (fitted > 0) {
    // Rebuild the model exactly as it was: fitted on the prefix, then updated value by value.
    auto model = forecast_detail::FitModel(
        std::span<const double>(loaded.history_).first(loaded.fitted_size_), loaded.options_, nullptr);
    if (model) {
      loaded.model_ = std::make_unique<forecast_detail::FittedModel>(std::move(*model));
      for (size_t i = loaded.fitted_size_; i < size; ++i) loaded.model_->Update(loaded.history_[i]);
    }
  }
  *this = std::move(loaded);
  return true;
}

}  // namespace aisle::stdlib
