#pragma once
// A sink's durable outbox: what the engine emitted and the receiver has not yet acknowledged, in
// a RocksDB folder of its own (`<data>/outbox/<sink name>`), apart from the engine's state.
//
// Append writes an entry under the next sequence number through the write-ahead log without
// sync (the engine emits between checkpoints, and an emission costs one log append); Sync makes
// every entry appended so far durable, and the sink's Flush calls it, so what was emitted before
// an engine checkpoint is on disk before the checkpoint is written. A delivered entry is deleted;
// one that cannot be delivered moves to the `deadletters` family with its reason, where it stays
// until an operator requeues or drops it.
//
// Entries and dead letters are versioned, length-prefixed binary values (docs/connectors.md,
// "Sinks"). Thread-safe (calls are serialised: there are few): the engine's sink thread appends
// while the delivery thread reads and deletes. One process at a time (RocksDB's lock).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::connectors {

// An emission waiting for delivery.
struct OutboxEntry {
  uint64_t sequence = 0;
  std::string id;          // the emission's deterministic id (the Idempotency-Key)
  std::string body;        // the request body, rendered when the emission was made
  uint32_t attempts = 0;   // failed deliveries so far
  std::string last_error;  // of the last failed delivery
};

// An emission the sink gave up on.
struct OutboxDeadLetter {
  uint64_t sequence = 0;  // its outbox sequence number, which names it
  std::string id;
  std::string body;
  uint32_t attempts = 0;
  std::string reason;       // "HTTP 400: ...", "8 attempts, last: connection refused"
  int64_t dead_us = 0;      // wall clock when it was given up, microseconds since the epoch
};

class Outbox {
 public:
  // Opens (creating) the outbox folder.
  static Result<std::unique_ptr<Outbox>> Open(const std::string& dir);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends an entry (not synced: see Sync). Returns its sequence number.
  Result<uint64_t> Append(std::string_view id, std::string_view body);
  // Makes everything appended so far durable (fsync of the write-ahead log).
  Status Sync();

  // The first entry after sequence `after`, or none.
  Result<std::optional<OutboxEntry>> Next(uint64_t after) const;
  // The entry was delivered: deletes it (not synced; a crash may deliver it again).
  Status Delivered(uint64_t sequence);
  // Records a failed delivery (attempts and last error), so a restart keeps counting.
  Status RecordFailure(const OutboxEntry& entry);
  // Moves the entry to the dead letters with `reason` (synced).
  Status MoveToDeadLetters(const OutboxEntry& entry, std::string_view reason, int64_t dead_us);
  // Entries waiting for delivery.
  uint64_t pending() const;

  // Dead letters, oldest first.
  std::vector<OutboxDeadLetter> DeadLetters() const;
  std::optional<OutboxDeadLetter> FindDeadLetter(uint64_t sequence) const;
  Status RemoveDeadLetter(uint64_t sequence);
  // Puts a dead letter back at the end of the outbox with its attempts reset; returns the new
  // sequence number.
  Result<uint64_t> Requeue(uint64_t sequence);

 private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aisle::connectors
