#include "engine/runtime/recent_emissions.hpp"

#include <algorithm>

#include "dsl/time.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

namespace {
constexpr char kVersion = 1;
}

bool RecentEmissions::Within(std::string_view key, int64_t time, int64_t period) const {
  auto it = latest_.find(key);
  if (it == latest_.end()) return false;
  // Later than `time - period`, written so that it cannot overflow.
  return it->second >= time || time - it->second < period;
}

void RecentEmissions::Record(std::string_view key, int64_t time) {
  auto it = latest_.find(key);
  if (it == latest_.end()) latest_.emplace(std::string(key), time);
  else it->second = std::max(it->second, time);
  if (time <= newest_) return;
  const bool new_day = newest_ == INT64_MIN ||
                       dsl::FloorDiv(time, dsl::kMicrosPerDay) > dsl::FloorDiv(newest_, dsl::kMicrosPerDay);
  newest_ = time;
  if (!new_day) return;
  // The key holding the newest time is never forgotten, so after a restart the newest time is
  // the latest one remembered.
  for (auto e = latest_.begin(); e != latest_.end();) {
    if (newest_ - e->second > horizon_) e = latest_.erase(e);
    else ++e;
  }
}

void RecentEmissions::Save(WriteBatch& batch, std::string_view prefix) const {
  std::string key, value;
  for (const auto& [k, time] : latest_) {
    key.assign(prefix);
    key += k;
    value.assign(1, kVersion);
    PutI64Ordered(value, time);
    batch.Put(Family::kWindows, key, value);
  }
}

bool RecentEmissions::Load(StateStore& store, std::string_view prefix, std::string& error) {
  bool ok = true;
  Status s = store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
    if (value.size() != 9 || value[0] != kVersion) return ok = false;
    const int64_t time = GetI64Ordered(value.data() + 1);
    latest_[std::string(key.substr(prefix.size()))] = time;
    newest_ = std::max(newest_, time);
    return true;
  });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "unreadable saved emission times";
  return ok;
}

}  // namespace aisle::engine
