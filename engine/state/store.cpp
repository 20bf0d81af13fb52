#include "engine/state/store.hpp"

#include <array>
#include <filesystem>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

namespace aisle::engine {

namespace {
constexpr std::array<const char*, 6> kFamilyNames = {"windows", "meta",  "dedup",
                                                     "outbox",  "audit", "approvals"};
// One memory budget for every column family's memtables and one block cache, sized on purpose
// (RocksDB's defaults would let each family keep two 64 MB memtables).
constexpr size_t kWriteBufferBudget = 64 << 20;
constexpr size_t kBlockCacheBytes = 64 << 20;

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

bool FamilyNamed(std::string_view name, Family& out) {
  for (size_t i = 0; i < kFamilyNames.size(); ++i) {
    if (name == kFamilyNames[i]) {
      out = static_cast<Family>(i);
      return true;
    }
  }
  return false;
}

struct StateStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string ns;  // what reads are confined to (set_namespace)
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // index = Family
  rocksdb::ColumnFamilyHandle* handle(Family f) { return handles[static_cast<size_t>(f) + 1]; }
  ~Impl() {
    for (auto* h : handles)
      if (db && h) db->DestroyColumnFamilyHandle(h);
    if (db) db->Close();
  }
};

struct WriteBatch::Impl {
  StateStore::Impl* store;
  rocksdb::WriteBatch batch;
  std::string ns, scratch, scratch_end;
  // The key under the namespace (a view into `out` or `key`, valid until `out` changes).
  rocksdb::Slice Key(std::string_view key, std::string& out) {
    if (ns.empty()) return ToSlice(key);
    out.assign(ns);
    out.append(key);
    return ToSlice(out);
  }
};

WriteBatch::WriteBatch(StateStore& store) : impl_(std::make_unique<Impl>()) {
  impl_->store = store.impl_.get();
}
WriteBatch::~WriteBatch() = default;

// Batch operations fail only on misuse (a family that does not exist); Write reports the status.
void WriteBatch::Put(Family family, std::string_view key, std::string_view value) {
  (void)impl_->batch.Put(impl_->store->handle(family), impl_->Key(key, impl_->scratch), ToSlice(value));
}
void WriteBatch::Delete(Family family, std::string_view key) {
  (void)impl_->batch.Delete(impl_->store->handle(family), impl_->Key(key, impl_->scratch));
}
void WriteBatch::DeleteRange(Family family, std::string_view begin, std::string_view end) {
  (void)impl_->batch.DeleteRange(impl_->store->handle(family), impl_->Key(begin, impl_->scratch),
                                 impl_->Key(end, impl_->scratch_end));
}
size_t WriteBatch::count() const { return static_cast<size_t>(impl_->batch.Count()); }
void WriteBatch::set_namespace(std::string_view ns) { impl_->ns.assign(ns); }

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create state folder '" + dir + "': " + ec.message()};

  auto cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 16 << 20;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(kWriteBufferBudget, cache);
  db_options.max_background_jobs = 2;
  // Table files are opened on one thread: the default starts 16 threads per column family at
  // every open, which costs more than the few files a state folder holds.
  db_options.max_file_opening_threads = 1;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const char* name : kFamilyNames) families.emplace_back(name, cf_options);

  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &impl->handles, &raw);
  if (!s.ok()) return Error{"cannot open state in '" + dir + "': " + s.ToString()};
  impl->db.reset(raw);
  return std::unique_ptr<StateStore>(new StateStore(std::move(impl)));
}

Status StateStore::Write(WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  rocksdb::Status s = impl_->db->Write(options, &batch.impl_->batch);
  if (!s.ok()) return Error{"state write failed: " + s.ToString()};
  batch.impl_->batch.Clear();
  return Status::Ok();
}

void StateStore::set_namespace(std::string_view ns) { impl_->ns.assign(ns); }

Status StateStore::Get(Family family, std::string_view key, std::string& value, bool& found) {
  const std::string full = impl_->ns + std::string(key);
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->handle(family), ToSlice(full), &value);
  found = s.ok();
  if (s.ok() || s.IsNotFound()) return Status::Ok();
  return Error{"state read failed: " + s.ToString()};
}

Status StateStore::Scan(Family family, std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handle(family)));
  const std::string full = impl_->ns + std::string(prefix);
  for (it->Seek(ToSlice(full)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    std::string_view key(k.data(), k.size());
    if (key.substr(0, full.size()) != full) break;
    key.remove_prefix(impl_->ns.size());
    rocksdb::Slice v = it->value();
    if (!visit(key, std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok()) return Error{"state scan failed: " + it->status().ToString()};
  return Status::Ok();
}

}  // namespace aisle::engine
