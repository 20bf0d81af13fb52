#pragma once
// `distinct FIELD, ...`: per window, lets through only the first record of each combination of
// the group key and the fields (first in arrival order). The record of what each open window has
// seen is dropped when the window closes, so it never outgrows the open windows, and it is saved
// with them at a checkpoint, so a restart does not let a repeat through. A metric keeps one per
// partition (store). Owned by one metric operator; not thread-safe.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dsl/value.hpp"

namespace aisle::engine {

class WriteBatch;

class DistinctFilter {
 public:
  explicit DistinctFilter(std::vector<int> fields) : fields_(std::move(fields)) {}

  // Whether the record's fields are new in window `start` for `group_key`; records them if so.
  bool FirstSeen(int64_t start, std::string_view group_key, std::span<const dsl::Value> record);
  // Window `start` closed: forget what it saw.
  void Forget(int64_t start);
  size_t size() const;

  // State keys: `prefix` + [big-endian window start][u32 length][group key][encoded fields],
  // with empty values, so that one window's entries are one key range. Save writes the entries
  // seen since the last MarkSaved; the caller deletes a closed window's range.
  void Save(const std::string& prefix, WriteBatch& batch) const;
  void MarkSaved() { unsaved_.clear(); }
  // Every entry counts as not saved (state restored from an earlier layout).
  void MarkAllUnsaved();
  // One saved key, without its prefix; false when malformed. It counts as saved.
  bool Load(std::string_view rest);

 private:
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Seen = std::unordered_set<std::string, SvHash, std::equal_to<>>;

  std::vector<int> fields_;
  std::map<int64_t, Seen> seen_;  // by window start: [u32 length][group key][encoded fields]
  // By window start: entries of seen_ not saved yet (set elements keep their address).
  std::map<int64_t, std::vector<const std::string*>> unsaved_;
  std::string scratch_;
};

}  // namespace aisle::engine
