#include "connectors/server/inbox.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "connectors/webhooks/webhook.hpp"
#include "engine/runtime/key_codec.hpp"

namespace aisle::connectors::server {

namespace {

constexpr const char* kFamilies[] = {"inbox", "deliveries", "deadletters"};
constexpr size_t kInbox = 1, kDeliveries = 2, kDeadLetters = 3;  // handles; 0 is default
constexpr const char* kNextDeadLetterKey = "next_deadletter";

std::string U64Key(uint64_t v) {
  std::string out;
  engine::PutU64BE(out, v);
  return out;
}

uint64_t U64Of(std::string_view key) {
  return key.size() >= 8 ? engine::GetU64BE(key.data()) : 0;
}

// deliveries value: [u64 sequence][i64 received_us], both big-endian.
std::string DeliveryValue(uint64_t sequence, int64_t received_us) {
  return U64Key(sequence) + U64Key(static_cast<uint64_t>(received_us));
}

std::string Join(const std::vector<std::string>& lines) {
  size_t size = 0;
  for (const auto& l : lines) size += l.size() + 1;
  std::string out;
  out.reserve(size);
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Inbox::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::atomic<uint64_t> next_sequence{1};
  std::mutex append_mutex;  // one appender at a time: sequences and duplicate checks
  std::mutex deadletter_mutex;

  ~Impl() {
    for (auto* h : handles) {
      if (db) db->DestroyColumnFamilyHandle(h);
    }
  }
  rocksdb::ColumnFamilyHandle* cf(size_t i) const { return handles[i]; }
};

Inbox::Inbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Inbox::~Inbox() = default;

Result<std::unique_ptr<Inbox>> Inbox::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create inbox folder '" + dir + "': " + ec.message()};
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  options.max_background_jobs = 2;
  // Concurrent synced writers share one fsync (RocksDB's write group). Waiting writers block
  // rather than spin and yield: the request threads outnumber the cores.
  options.enable_pipelined_write = false;
  options.enable_write_thread_adaptive_yield = false;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilies) {
    rocksdb::ColumnFamilyOptions family;
    if (std::string_view(name) == "deliveries") {
      // Nearly every lookup is for an id never seen: Bloom filters (on the table files and the
      // memtable) answer those without reading blocks.
      family.OptimizeForPointLookup(/*block_cache_size_mb=*/8);
    }
    families.emplace_back(name, family);
  }
  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &impl->handles, &raw);
  if (!s.ok()) return Error{"cannot open inbox in '" + dir + "': " + s.ToString()};
  impl->db.reset(raw);
  std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions(), impl->cf(kInbox)));
  it->SeekToLast();
  uint64_t last = it->Valid() ? U64Of(it->key().ToStringView()) : 0;
  // A trimmed inbox still remembers where its sequence was, through the delivery ids.
  std::string stored;
  if (impl->db->Get(rocksdb::ReadOptions(), impl->cf(0), "last_sequence", &stored).ok())
    last = std::max(last, U64Of(stored));
  impl->next_sequence = last + 1;
  return std::unique_ptr<Inbox>(new Inbox(std::move(impl)));
}

Result<AppendOutcome> Inbox::Append(std::string_view delivery_id,
                                    const std::vector<std::string>& events) {
  if (delivery_id.empty()) return Error{"a delivery needs an id"};
  std::vector<AppendOutcome> outcomes = AppendBatch({AppendRequest{delivery_id, &events}});
  if (outcomes[0].sequence == 0 && !outcomes[0].error.empty()) return Error{outcomes[0].error};
  return std::move(outcomes[0]);
}

std::vector<AppendOutcome> Inbox::AppendBatch(const std::vector<AppendRequest>& requests) {
  std::vector<AppendOutcome> outcomes(requests.size());
  std::lock_guard<std::mutex> lock(impl_->append_mutex);
  std::unordered_set<std::string_view> in_batch;
  rocksdb::WriteBatch batch;
  const int64_t now = NowMicros();
  bool any = false;
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string_view id = requests[i].delivery_id;
    AppendOutcome& out = outcomes[i];
    if (id.empty()) {
      out.error = "a delivery needs an id";
      continue;
    }
    if (in_batch.count(id) > 0) {
      out.duplicate = true;
      continue;
    }
    std::string seen;
    const rocksdb::Status s =
        impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(kDeliveries), rocksdb::Slice(id.data(), id.size()), &seen);
    if (s.ok()) {
      out.duplicate = true;
      continue;
    }
    if (!s.IsNotFound()) {
      out.error = "inbox read failed: " + s.ToString();
      continue;
    }
    in_batch.insert(id);
    out.sequence = impl_->next_sequence.fetch_add(1);
    batch.Put(impl_->cf(kInbox), U64Key(out.sequence), Join(*requests[i].events));
    batch.Put(impl_->cf(kDeliveries), rocksdb::Slice(id.data(), id.size()), DeliveryValue(out.sequence, now));
    any = true;
  }
  if (!any) return outcomes;
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Write(options, &batch);
  if (!s.ok()) {
    for (AppendOutcome& out : outcomes) {
      if (out.sequence != 0) out.error = "inbox write failed: " + s.ToString();
    }
  }
  return outcomes;
}

Status Inbox::ReadAfter(uint64_t after,
                        const std::function<bool(uint64_t, std::vector<std::string>&&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kInbox)));
  for (it->Seek(U64Key(after + 1)); it->Valid(); it->Next()) {
    if (!fn(U64Of(it->key().ToStringView()), Split(it->value().ToStringView()))) break;
  }
  if (!it->status().ok()) return Error{"inbox read failed: " + it->status().ToString()};
  return Status::Ok();
}

uint64_t Inbox::last_sequence() const { return impl_->next_sequence.load() - 1; }

Status Inbox::Trim(uint64_t through) {
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(0), "last_sequence", U64Key(last_sequence()));
  batch.DeleteRange(impl_->cf(kInbox), U64Key(0), U64Key(through + 1));
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Write(options, &batch);
  if (!s.ok()) return Error{"inbox trim failed: " + s.ToString()};
  return Status::Ok();
}

Status Inbox::ForgetDeliveriesBefore(int64_t before_us) {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kDeliveries)));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view v = it->value().ToStringView();
    if (v.size() == 16 && static_cast<int64_t>(U64Of(v.substr(8))) < before_us)
      batch.Delete(impl_->cf(kDeliveries), it->key());
  }
  if (!it->status().ok()) return Error{"inbox read failed: " + it->status().ToString()};
  const rocksdb::Status s = impl_->db->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) return Error{"inbox write failed: " + s.ToString()};
  return Status::Ok();
}

uint64_t Inbox::pending() const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kInbox)));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

uint64_t Inbox::delivery_count() const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kDeliveries)));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

Result<uint64_t> Inbox::AddDeadLetter(DeadLetter letter) {
  std::lock_guard<std::mutex> lock(impl_->deadletter_mutex);
  std::string next;
  uint64_t id = 1;
  if (impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(0), kNextDeadLetterKey, &next).ok())
    id = U64Of(next);
  letter.id = id;
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(kDeadLetters), U64Key(id), DeadLetterJson(letter));
  batch.Put(impl_->cf(0), kNextDeadLetterKey, U64Key(id + 1));
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Write(options, &batch);
  if (!s.ok()) return Error{"dead-letter write failed: " + s.ToString()};
  return id;
}

std::vector<DeadLetter> Inbox::DeadLetters() const {
  std::vector<DeadLetter> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kDeadLetters)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (auto letter = DeadLetterFromJson(it->value().ToStringView())) out.push_back(std::move(*letter));
  }
  return out;
}

std::optional<DeadLetter> Inbox::FindDeadLetter(uint64_t id) const {
  std::string value;
  if (!impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(kDeadLetters), U64Key(id), &value).ok())
    return std::nullopt;
  return DeadLetterFromJson(value);
}

Status Inbox::UpdateDeadLetter(const DeadLetter& letter) {
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s =
      impl_->db->Put(options, impl_->cf(kDeadLetters), U64Key(letter.id), DeadLetterJson(letter));
  if (!s.ok()) return Error{"dead-letter write failed: " + s.ToString()};
  return Status::Ok();
}

Status Inbox::RemoveDeadLetter(uint64_t id) {
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = impl_->db->Delete(options, impl_->cf(kDeadLetters), U64Key(id));
  if (!s.ok()) return Error{"dead-letter delete failed: " + s.ToString()};
  return Status::Ok();
}

std::string DeadLetterJson(const DeadLetter& letter) {
  nlohmann::ordered_json j;
  j["id"] = letter.id;
  j["received_us"] = letter.received_us;
  j["path"] = letter.path;
  j["platform"] = letter.platform;
  j["reason"] = letter.reason;
  nlohmann::ordered_json headers = nlohmann::ordered_json::array();
  for (const auto& [name, value] : letter.headers) headers.push_back({name, value});
  j["headers"] = std::move(headers);
  j["replays"] = letter.replays;
  j["body"] = letter.body;
  try {
    return j.dump();
  } catch (const nlohmann::json::exception&) {
    // Not UTF-8 (the reason may be that): keep the exact bytes as base64.
    j.erase("body");
    j["body_base64"] = webhooks::Base64Of(letter.body);
    nlohmann::ordered_json safe;
    for (auto& [key, value] : j.items()) safe[key] = value;
    return safe.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

std::optional<DeadLetter> DeadLetterFromJson(std::string_view json) {
  try {
    const auto j = nlohmann::json::parse(json);
    DeadLetter letter;
    letter.id = j.at("id").get<uint64_t>();
    letter.received_us = j.at("received_us").get<int64_t>();
    letter.path = j.at("path").get<std::string>();
    letter.platform = j.at("platform").get<std::string>();
    letter.reason = j.at("reason").get<std::string>();
    for (const auto& h : j.at("headers"))
      letter.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
    letter.replays = j.value("replays", 0);
    if (j.contains("body")) {
      letter.body = j.at("body").get<std::string>();
    } else {
      auto bytes = webhooks::FromBase64(j.at("body_base64").get<std::string>());
      if (!bytes) return std::nullopt;
      letter.body = std::move(*bytes);
    }
    return letter;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace aisle::connectors::server
