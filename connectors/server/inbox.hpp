#pragma once
// The server's durable inbox: what `aisle serve` has acknowledged, in a RocksDB folder of its own
// (`<data>/inbox`), apart from the engine's state.
//
// A delivery is acknowledged (HTTP 200) only once Append has returned: its canonical events are
// then in the `inbox` family under the next sequence number, and its delivery id in `deliveries`,
// both in one write batch through the write-ahead log with sync (concurrent appends share one
// fsync: RocksDB's group commit). The engine consumes the inbox in sequence order and records,
// with each checkpoint, the last sequence it holds (Engine::SetSourcePosition("inbox", ...)); at
// start the server pushes everything after that again, so nothing acknowledged is lost, and
// Trim drops what a checkpoint covers.
//
// Dead letters (`deadletters` family) keep the raw bytes of authenticated deliveries that could
// not be normalized, with the reason, until an operator replays or drops them.
//
// Thread-safe: Append, AddDeadLetter and the readers may run on any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::connectors::server {

struct AppendOutcome {
  uint64_t sequence = 0;   // the delivery's sequence number (0 for a duplicate)
  bool duplicate = false;  // the delivery id was appended before: nothing was written
  // Not empty when nothing was written: with `sequence` 0 the delivery was refused before a
  // sequence was given (no id, or the duplicate check could not read); otherwise the write failed
  // and `sequence` was used up (the consumer must skip it).
  std::string error;
};

struct AppendRequest {
  std::string_view delivery_id;
  const std::vector<std::string>* events = nullptr;  // canonical NDJSON lines
};

// An authenticated delivery the server could not normalize (HTTP 400), kept byte for byte.
struct DeadLetter {
  uint64_t id = 0;
  int64_t received_us = 0;  // server clock
  std::string path;         // "/webhooks/shopify"
  std::string platform;     // "shopify"
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int replays = 0;  // times `aisle deadletter replay` tried it
};

class Inbox {
 public:
  // Opens (creating) the inbox folder. One process at a time (RocksDB's lock).
  static Result<std::unique_ptr<Inbox>> Open(const std::string& dir);
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Appends a delivery's events (canonical NDJSON lines) durably, unless its id was appended
  // before. `delivery_id` must not be empty. An Error (bad input, or the duplicate check could not
  // read) means nothing was written and no sequence was used; a failed write is reported in
  // AppendOutcome::error.
  Result<AppendOutcome> Append(std::string_view delivery_id, const std::vector<std::string>& events);
  // Appends many deliveries in one synced write (group commit), in order: outcome i is request
  // i's. A delivery id seen earlier in the same batch is a duplicate too.
  std::vector<AppendOutcome> AppendBatch(const std::vector<AppendRequest>& requests);

  // Calls `fn(sequence, events)` for every delivery after `after`, in sequence order; stops early
  // when `fn` returns false.
  Status ReadAfter(uint64_t after,
                   const std::function<bool(uint64_t, std::vector<std::string>&&)>& fn) const;
  // The newest sequence number appended (0 when empty).
  uint64_t last_sequence() const;
  // Drops deliveries up to and including `through` (a checkpoint covers them). Their ids stay
  // in `deliveries`, so a redelivery is still recognised.
  Status Trim(uint64_t through);
  // Forgets delivery ids recorded before `before_us` (server clock), keeping the table bounded.
  Status ForgetDeliveriesBefore(int64_t before_us);
  // Deliveries in the inbox (not yet trimmed).
  uint64_t pending() const;
  // Delivery ids remembered (every delivery acknowledged, until ForgetDeliveriesBefore).
  uint64_t delivery_count() const;

  // Stores a dead letter; returns its id (ids grow, never reused).
  Result<uint64_t> AddDeadLetter(DeadLetter letter);
  std::vector<DeadLetter> DeadLetters() const;
  std::optional<DeadLetter> FindDeadLetter(uint64_t id) const;
  Status UpdateDeadLetter(const DeadLetter& letter);
  Status RemoveDeadLetter(uint64_t id);

 private:
  struct Impl;
  explicit Inbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// DeadLetter <-> the JSON object `aisle deadletter show` prints and the store keeps (the body as
// base64 when it is not valid UTF-8, as `body_base64`).
std::string DeadLetterJson(const DeadLetter& letter);
std::optional<DeadLetter> DeadLetterFromJson(std::string_view json);

}  // namespace aisle::connectors::server
