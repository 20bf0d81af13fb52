#include "engine/runtime/join_operator.hpp"

#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

using dsl::Value;

namespace {
constexpr char kStateVersion = 1;
constexpr char kPairTag = 'J';
constexpr char kMarkTag = 'F';
}  // namespace

JoinOperator::JoinOperator(const dsl::plan::Metric& plan) : plan_(plan), join_(*plan.join) {
  copied_[0] = join_.copied[0].size();
  copied_[1] = join_.copied[1].size();
  record_.resize(plan_.output.size());
}

bool JoinOperator::Add(int input, std::span<const Value> record, int64_t time) {
  const int side = input == join_.left ? 0 : 1;
  const Value& end_value = record[static_cast<size_t>(join_.window_end[side])];
  const int64_t end = end_value.type == dsl::Type::kTimestamp ? end_value.i : time;
  if (end <= fired_through_) return false;
  key_scratch_.clear();
  for (int k : join_.keys[side]) EncodeValue(record[static_cast<size_t>(k)], key_scratch_);
  Window& window = windows_[time];
  window.end = std::max(window.end, end);
  auto it = window.by_key.find(std::string_view(key_scratch_));
  if (it == window.by_key.end()) it = window.by_key.emplace(key_scratch_, Pair()).first;
  Pair& pair = it->second;
  pair.side[side].clear();
  for (int f : join_.copied[side]) EncodeValue(record[static_cast<size_t>(f)], pair.side[side]);
  pair.has[side] = true;
  return true;
}

bool JoinOperator::HasDue(int64_t watermark) const {
  for (const auto& [start, window] : windows_) {
    if (start >= watermark) break;
    if (window.end <= watermark) return true;
  }
  return false;
}

void JoinOperator::Fire(int64_t watermark, const PlainRecordHandler& emit) {
  for (auto it = windows_.begin(); it != windows_.end() && it->first < watermark;) {
    const int64_t start = it->first;
    const int64_t end = it->second.end;
    if (end > watermark) {
      ++it;
      continue;
    }
    for (const auto& [key, pair] : it->second.by_key) {  // key order
      if (!pair.has[0] || (!pair.has[1] && !join_.outer)) continue;
      decoded_.clear();
      if (!DecodeValues(key, decoded_)) continue;
      const size_t keys = decoded_.size();
      if (!DecodeValues(pair.side[0], decoded_) || decoded_.size() != keys + copied_[0]) continue;
      if (pair.has[1] && (!DecodeValues(pair.side[1], decoded_) ||
                          decoded_.size() != keys + copied_[0] + copied_[1]))
        continue;
      decoded_.resize(keys + copied_[0] + copied_[1]);  // a left join's missing right: nulls
      std::copy(decoded_.begin(), decoded_.end(), record_.begin());
      record_[static_cast<size_t>(plan_.window_start_field)] = Value::Timestamp(start);
      record_[static_cast<size_t>(plan_.window_end_field)] = Value::Timestamp(end);
      emit(record_, key, start);
    }
    it = windows_.erase(it);
  }
  fired_through_ = std::max(fired_through_, watermark);
}

size_t JoinOperator::buffered() const {
  size_t n = 0;
  for (const auto& [start, window] : windows_) n += window.by_key.size();
  return n;
}

std::string JoinOperator::Prefix() const {
  std::string p;
  PutU64BE(p, plan_.fingerprint);
  return p;
}

// Keys: [fingerprint]['J'][u32 length][join key][big-endian window start]
//       -> [version][window end][flags: bit 0 left, bit 1 right][u32 length][left][u32
//       length][right] [fingerprint]['F'] -> fired-through mark
void JoinOperator::Save(WriteBatch& batch) const {
  const std::string prefix = Prefix();
  std::string range_end;
  PutU64BE(range_end, plan_.fingerprint + 1);
  if (plan_.fingerprint == UINT64_MAX) range_end.assign(9, '\xff');
  batch.DeleteRange(Family::kWindows, prefix, range_end);
  std::string key, value;
  for (const auto& [start, window] : windows_) {
    for (const auto& [join_key, pair] : window.by_key) {
      key = prefix;
      key.push_back(kPairTag);
      PutU32(key, static_cast<uint32_t>(join_key.size()));
      key += join_key;
      PutI64Ordered(key, start);
      value.clear();
      value.push_back(kStateVersion);
      PutI64Ordered(value, window.end);
      value.push_back(static_cast<char>((pair.has[0] ? 1 : 0) | (pair.has[1] ? 2 : 0)));
      for (int s = 0; s < 2; ++s) {
        PutU32(value, static_cast<uint32_t>(pair.side[s].size()));
        value += pair.side[s];
      }
      batch.Put(Family::kWindows, key, value);
    }
  }
  key = prefix;
  key.push_back(kMarkTag);
  value.clear();
  PutI64Ordered(value, fired_through_);
  batch.Put(Family::kWindows, key, value);
}

bool JoinOperator::Load(StateStore& store, std::string& error) {
  const std::string prefix = Prefix();
  bool ok = true;
  Status s =
      store.Scan(Family::kWindows, prefix, [&](std::string_view key, std::string_view value) {
        std::string_view rest = key.substr(prefix.size());
        if (rest.size() == 1 && rest[0] == kMarkTag) {
          if (value.size() != 8) return ok = false;
          fired_through_ = GetI64Ordered(value.data());
          return true;
        }
        if (rest.size() < 13 || rest[0] != kPairTag) return ok = false;
        const uint32_t n = GetU32(rest.data() + 1);
        if (rest.size() != 1 + 4 + size_t{n} + 8) return ok = false;
        std::string join_key(rest.substr(5, n));
        const int64_t start = GetI64Ordered(rest.data() + 5 + n);
        if (value.size() < 10 || value[0] != kStateVersion) return ok = false;
        Pair pair;
        const int64_t end = GetI64Ordered(value.data() + 1);
        const auto flags = static_cast<unsigned char>(value[9]);
        pair.has[0] = (flags & 1) != 0;
        pair.has[1] = (flags & 2) != 0;
        size_t pos = 10;
        for (int side = 0; side < 2; ++side) {
          if (pos + 4 > value.size()) return ok = false;
          const uint32_t len = GetU32(value.data() + pos);
          pos += 4;
          if (pos + len > value.size()) return ok = false;
          pair.side[side].assign(value.substr(pos, len));
          pos += len;
        }
        Window& window = windows_[start];
        window.end = std::max(window.end, end);
        window.by_key.emplace(std::move(join_key), std::move(pair));
        return true;
      });
  if (!s.ok()) {
    error = s.message();
    return false;
  }
  if (!ok) error = "join '" + plan_.name + "': unreadable saved state";
  return ok;
}

}  // namespace aisle::engine
