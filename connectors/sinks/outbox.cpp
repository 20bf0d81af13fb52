#include "connectors/sinks/outbox.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "engine/runtime/key_codec.hpp"

namespace aisle::connectors {

namespace {

constexpr const char* kFamilies[] = {"outbox", "deadletters"};
constexpr size_t kEntries = 1, kDeadLetters = 2;  // handles; 0 is the default family
constexpr char kVersion = 1;

std::string U64Key(uint64_t v) {
  std::string out;
  engine::PutU64BE(out, v);
  return out;
}

uint64_t U64Of(std::string_view bytes) {
  return bytes.size() >= 8 ? engine::GetU64BE(bytes.data()) : 0;
}

using engine::PutU32;

void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads the fields written by PutU32/PutString/U64Key in order; any overrun marks it failed.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  uint32_t U32() {
    if (rest_.size() < 4) return Fail(), 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(rest_[static_cast<size_t>(i)]);
    rest_.remove_prefix(4);
    return v;
  }
  uint64_t U64() {
    if (rest_.size() < 8) return Fail(), 0;
    const uint64_t v = U64Of(rest_);
    rest_.remove_prefix(8);
    return v;
  }
  std::string String() {
    const uint32_t n = U32();
    if (!ok_ || rest_.size() < n) return Fail(), std::string();
    std::string s(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return s;
  }
  char Byte() {
    if (rest_.empty()) return Fail(), 0;
    const char c = rest_[0];
    rest_.remove_prefix(1);
    return c;
  }
  std::string Rest() {
    std::string s(rest_);
    rest_ = {};
    return s;
  }
  bool ok() const { return ok_; }

 private:
  void Fail() { ok_ = false; }
  std::string_view rest_;
  bool ok_ = true;
};

// Entry value: [version 1][u32 attempts][id][last_error][body to the end].
std::string EntryValue(std::string_view id, std::string_view body, uint32_t attempts,
                       std::string_view last_error) {
  std::string out;
  out.reserve(1 + 4 + 4 + id.size() + 4 + last_error.size() + body.size());
  out.push_back(kVersion);
  PutU32(out, attempts);
  PutString(out, id);
  PutString(out, last_error);
  out.append(body);
  return out;
}

std::optional<OutboxEntry> EntryOf(uint64_t sequence, std::string_view value) {
  Reader r(value);
  if (r.Byte() != kVersion) return std::nullopt;
  OutboxEntry e;
  e.sequence = sequence;
  e.attempts = r.U32();
  e.id = r.String();
  e.last_error = r.String();
  e.body = r.Rest();
  if (!r.ok()) return std::nullopt;
  return e;
}

// Dead-letter value: [version 1][u32 attempts][u64 dead_us][id][reason][body to the end].
std::string DeadLetterValue(const OutboxEntry& e, std::string_view reason, int64_t dead_us) {
  std::string out;
  out.push_back(kVersion);
  PutU32(out, e.attempts);
  out += U64Key(static_cast<uint64_t>(dead_us));
  PutString(out, e.id);
  PutString(out, reason);
  out.append(e.body);
  return out;
}

std::optional<OutboxDeadLetter> DeadLetterOf(uint64_t sequence, std::string_view value) {
  Reader r(value);
  if (r.Byte() != kVersion) return std::nullopt;
  OutboxDeadLetter d;
  d.sequence = sequence;
  d.attempts = r.U32();
  d.dead_us = static_cast<int64_t>(r.U64());
  d.id = r.String();
  d.reason = r.String();
  d.body = r.Rest();
  if (!r.ok()) return std::nullopt;
  return d;
}

}  // namespace

struct Outbox::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::atomic<uint64_t> next_sequence{1};
  // Every call into the database holds it. RocksDB is thread-safe, but its write group hands
  // the leader's role over through atomics in an uninstrumented library, which ThreadSanitizer
  // cannot see; the outbox has one writer a side (the engine's sink thread, the delivery thread)
  // and few writes, so one lock costs nothing and keeps the threaded tests checkable.
  mutable std::mutex mutex;

  ~Impl() {
    for (auto* h : handles) {
      if (db) db->DestroyColumnFamilyHandle(h);
    }
  }
  rocksdb::ColumnFamilyHandle* cf(size_t i) const { return handles[i]; }

  std::optional<OutboxDeadLetter> FindDeadLetter(uint64_t sequence) const {
    std::string value;
    if (!db->Get(rocksdb::ReadOptions(), cf(kDeadLetters), U64Key(sequence), &value).ok()) return std::nullopt;
    return DeadLetterOf(sequence, value);
  }

  uint64_t LastKey(size_t family) const {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(family)));
    it->SeekToLast();
    return it->Valid() ? U64Of(it->key().ToStringView()) : 0;
  }
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::~Outbox() = default;

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create outbox folder '" + dir + "': " + ec.message()};
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  options.max_background_jobs = 1;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilies) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &impl->handles, &raw);
  if (!s.ok()) return Error{"cannot open outbox in '" + dir + "': " + s.ToString()};
  impl->db.reset(raw);
  // Dead letters keep their sequence numbers, so new entries start after both families.
  impl->next_sequence = std::max(impl->LastKey(kEntries), impl->LastKey(kDeadLetters)) + 1;
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

Result<uint64_t> Outbox::Append(std::string_view id, std::string_view body) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const uint64_t sequence = impl_->next_sequence.fetch_add(1);
  const rocksdb::Status s =
      impl_->db->Put(rocksdb::WriteOptions(), impl_->cf(kEntries), U64Key(sequence), EntryValue(id, body, 0, {}));
  if (!s.ok()) return Error{"outbox write failed: " + s.ToString()};
  return sequence;
}

Status Outbox::Sync() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const rocksdb::Status s = impl_->db->SyncWAL();
  if (!s.ok()) return Error{"outbox sync failed: " + s.ToString()};
  return Status::Ok();
}

Result<std::optional<OutboxEntry>> Outbox::Next(uint64_t after) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kEntries)));
  for (it->Seek(U64Key(after + 1)); it->Valid(); it->Next()) {
    const uint64_t sequence = U64Of(it->key().ToStringView());
    auto entry = EntryOf(sequence, it->value().ToStringView());
    if (!entry) return Error{"outbox entry " + std::to_string(sequence) + " is malformed"};
    return std::optional<OutboxEntry>(std::move(*entry));
  }
  if (!it->status().ok()) return Error{"outbox read failed: " + it->status().ToString()};
  return std::optional<OutboxEntry>();
}

Status Outbox::Delivered(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const rocksdb::Status s = impl_->db->Delete(rocksdb::WriteOptions(), impl_->cf(kEntries), U64Key(sequence));
  if (!s.ok()) return Error{"outbox delete failed: " + s.ToString()};
  return Status::Ok();
}

Status Outbox::RecordFailure(const OutboxEntry& e) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const rocksdb::Status s = impl_->db->Put(rocksdb::WriteOptions(), impl_->cf(kEntries), U64Key(e.sequence),
                                           EntryValue(e.id, e.body, e.attempts, e.last_error));
  if (!s.ok()) return Error{"outbox write failed: " + s.ToString()};
  return Status::Ok();
}

Status Outbox::MoveToDeadLetters(const OutboxEntry& e, std::string_view reason, int64_t dead_us) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->cf(kEntries), U64Key(e.sequence));
  batch.Put(impl_->cf(kDeadLetters), U64Key(e.sequence), DeadLetterValue(e, reason, dead_us));
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Write(options, &batch);
  if (!s.ok()) return Error{"outbox write failed: " + s.ToString()};
  return Status::Ok();
}

uint64_t Outbox::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kEntries)));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

std::vector<OutboxDeadLetter> Outbox::DeadLetters() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<OutboxDeadLetter> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kDeadLetters)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (auto d = DeadLetterOf(U64Of(it->key().ToStringView()), it->value().ToStringView()))
      out.push_back(std::move(*d));
  }
  return out;
}

std::optional<OutboxDeadLetter> Outbox::FindDeadLetter(uint64_t sequence) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->FindDeadLetter(sequence);
}

Status Outbox::RemoveDeadLetter(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Delete(options, impl_->cf(kDeadLetters), U64Key(sequence));
  if (!s.ok()) return Error{"outbox delete failed: " + s.ToString()};
  return Status::Ok();
}

Result<uint64_t> Outbox::Requeue(uint64_t sequence) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto letter = impl_->FindDeadLetter(sequence);
  if (!letter) return Error{"no dead letter " + std::to_string(sequence)};
  const uint64_t fresh = impl_->next_sequence.fetch_add(1);
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->cf(kDeadLetters), U64Key(sequence));
  batch.Put(impl_->cf(kEntries), U64Key(fresh), EntryValue(letter->id, letter->body, 0, {}));
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Write(options, &batch);
  if (!s.ok()) return Error{"outbox write failed: " + s.ToString()};
  return fresh;
}

}  // namespace aisle::connectors
