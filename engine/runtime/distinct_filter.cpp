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
  unsaved_[start].push_back(&*seen.insert(scratch_).first);
  return true;
}

void DistinctFilter::Forget(int64_t start) {
  seen_.erase(start);
  unsaved_.erase(start);
}

size_t DistinctFilter::size() const {
  size_t n = 0;
  for (const auto& [start, seen] : seen_) n += seen.size();
  return n;
}

void DistinctFilter::Save(const std::string& prefix, WriteBatch& batch) const {
  std::string key;
  for (const auto& [start, entries] : unsaved_) {
    key = prefix;
    PutI64Ordered(key, start);
    const size_t base = key.size();
    for (const std::string* entry : entries) {
      key.resize(base);
      key += *entry;
      batch.Put(Family::kWindows, key, {});
    }
  }
}

void DistinctFilter::MarkAllUnsaved() {
  unsaved_.clear();
  for (const auto& [start, seen] : seen_) {
    auto& entries = unsaved_[start];
    for (const std::string& entry : seen) entries.push_back(&entry);
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

}  // namespace aisle::engine
