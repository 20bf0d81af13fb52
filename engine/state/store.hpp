#pragma once
// Durable engine state in RocksDB (embedded, one folder). Column families as in
// docs/architecture.md: windows, meta, dedup, outbox, audit, approvals. RocksDB's headers stay in
// store.cpp. Not thread-safe: one owner writes; reads may come from the same thread only.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/result.hpp"

namespace aisle::engine {

enum class Family { kWindows, kMeta, kDedup, kOutbox, kAudit, kApprovals };

// The family named `name` ("windows", "meta", ...); false when there is none of that name.
bool FamilyNamed(std::string_view name, Family& out);

class StateStore;

// A set of writes to one store, applied atomically by StateStore::Write.
class WriteBatch {
 public:
  explicit WriteBatch(StateStore& store);
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void Put(Family family, std::string_view key, std::string_view value);
  void Delete(Family family, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(Family family, std::string_view begin, std::string_view end);
  size_t count() const;

  // Every key written from now on goes under `ns` (prepended): how the shards of one engine
  // keep their state apart in one batch. Empty: keys as given.
  void set_namespace(std::string_view ns);

 private:
  friend class StateStore;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class StateStore {
 public:
  // Opens (creating if needed) the store in `dir`.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir);
  ~StateStore();

  // Applies the batch atomically; `sync` waits for the write-ahead log to reach the disk.
  Status Write(WriteBatch& batch, bool sync = true);
  // Reads one key; `found` tells whether it exists.
  Status Get(Family family, std::string_view key, std::string& value, bool& found);
  // Calls `visit` for every key starting with `prefix`, in key order, until it returns false.
  Status Scan(Family family, std::string_view prefix,
              const std::function<bool(std::string_view key, std::string_view value)>& visit);

  // Reads (Get, Scan) from now on see only keys under `ns`, with `ns` taken off: a shard loads
  // its own state with the code that loads a lone pipeline's. Empty: every key. Set it only
  // while no other thread reads.
  void set_namespace(std::string_view ns);

 private:
  friend class WriteBatch;
  struct Impl;
  explicit StateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aisle::engine
