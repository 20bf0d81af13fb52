#include "engine/runtime/distinct_filter.hpp"

#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"

namespace aisle::engine {

bool DistinctFilter::FirstSeen(int64_t start, std::string_view group_key,
                               std::span<const dsl::Value> record) {
  scratch_.clear();
  PutU32(scratch_, static_cast<uint32_t>(group_key.size()));
  scratch_ += group_key;
  for (int f : fields_) EncodeValue(record[static_cast<size_t>(f)], scratch_);
  Seen& seen = seen_[start];
  if (seen.find(std::string_view(scratch_)) != seen.end()) return false;
  seen.insert(scratch_);
  return true;
}

size_t DistinctFilter::size() const {
  size_t n = 0;
  for (const auto& [start, seen] : seen_) n += seen.size();
  return n;
}

void DistinctFilter::Save(const std::string& prefix, WriteBatch& batch) const {
  std::string key;
  for (const auto& [start, seen] : seen_) {
    for (const std::string& entry : seen) {
      key = prefix;
      PutI64Ordered(key, start);
      key += entry;
      batch.Put(Family::kWindows, key, {});
    }
  }
}

bool DistinctFilter::Load(std::string_view rest) {
  if (rest.size() < 12) return false;
  const int64_t start = GetI64Ordered(rest.data());
  std::string_view entry = rest.substr(8);
  if (GetU32(entry.data()) > entry.size() - 4) return false;
  seen_[start].emplace(entry);
  return true;
}

void DistinctFilter::Forget(int64_t start, std::string_view group_key) {
  auto it = seen_.find(start);
  if (it == seen_.end()) return;
  // Entries are [u32 length][group key][encoded fields].
  std::string prefix;
  PutU32(prefix, static_cast<uint32_t>(group_key.size()));
  prefix += group_key;
  for (auto e = it->second.begin(); e != it->second.end();) {
    if (e->starts_with(prefix)) e = it->second.erase(e);
    else ++e;
  }
  if (it->second.empty()) seen_.erase(it);
}

}  // namespace aisle::engine
