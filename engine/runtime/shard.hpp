#pragma once
// A shard: one thread that runs a pipeline over the stores the router sends it, and owns their
// state. The router (one thread: whoever pushes events) copies each event into the batch it is
// filling for the shard and hands full batches over a lock-free queue; the shard returns them
// empty over another, so events are copied into storage that is reused and the hot path does
// not allocate. The batches are the bound: when all of a shard's batches are queued, Push waits
// and TryPush refuses — nothing is ever dropped.
//
// Batching adapts to the load: a batch goes when it is full, or when the shard is idle and the
// batch's first event has waited kMaxHold, so at low rates events travel within microseconds
// (latency) and under load they travel in full batches (throughput: one hand-over, and at most
// one wake-up of the shard, per batch). A source that pauses calls Flush.
//
// Emissions go, in the order the shard made them, to the engine's emission queue, drained by one
// sink thread. The engine's other threads touch the pipeline only while the shard is paused at a
// barrier (Pause .. Resume): checkpoints, the final firing, statistics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "engine/core/event.hpp"
#include "engine/emit/emission.hpp"
#include "engine/runtime/dedup.hpp"
#include "engine/runtime/pipeline.hpp"

namespace aisle::engine {

using EmissionQueue = moodycamel::BlockingConcurrentQueue<Emission>;

class Shard {
 public:
  static constexpr size_t kBatchEvents = 256;  // events per batch
  static constexpr size_t kBatches = 64;       // batches per shard: the queue's bound
  static constexpr int64_t kMaxHoldNanos = 50'000;  // longest an event waits for company

  // `dedup` (may be null) drops events whose id this shard has seen; not owned.
  Shard(std::unique_ptr<Pipeline> pipeline, EmissionQueue& emissions, DedupFilter* dedup = nullptr);
  ~Shard();  // stops the thread; what was queued is processed first
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Router side: copies `event` into the batch being filled, sending it when it is full or the
  // shard is idle. Push waits while every batch is in use; TryPush returns false instead.
  void Push(const Event& event);
  bool TryPush(const Event& event);
  // Whether Push can take an event now without waiting (a batch with room is at hand).
  bool Reserve() { return Filling(/*wait=*/false) != nullptr; }
  // Sends the batch being filled, if it holds any event.
  void Flush();

  // Sends what is being filled and stops the shard once it has processed everything sent
  // before; returns when it has stopped. The pipeline is then the caller's until Resume.
  void Pause();
  void Resume();

  // Only while paused (or before the first Push).
  Pipeline& pipeline() { return *pipeline_; }
  // Emits into the emission queue in the shard's own order; only while paused.
  const EmissionHandler& emit() const { return emit_; }
  // Emissions this shard has queued; exact while paused.
  int64_t emitted() const { return emitted_.load(std::memory_order_acquire); }
  // Events dropped as duplicates; exact while paused.
  int64_t duplicates() const { return duplicates_.load(std::memory_order_acquire); }

 private:
  struct Batch {
    std::vector<Event> events;
    size_t size = 0;
  };
  enum class Command : uint8_t { kEvents, kPause, kStop };
  struct Item {
    Command command = Command::kEvents;
    Batch* batch = nullptr;
  };

  void Run();
  // The batch to fill, taking a free one (waiting when `wait`); null when none is free.
  Batch* Filling(bool wait);
  void Send(Command command);
  // After an event was added: sends the batch if it is full, or the shard idles and it waited.
  void SendIfDue();

  std::unique_ptr<Pipeline> pipeline_;
  EmissionQueue& emissions_;
  moodycamel::ProducerToken emission_token_;
  EmissionHandler emit_;
  std::vector<std::unique_ptr<Batch>> storage_;
  moodycamel::BlockingConcurrentQueue<Item> inbox_;       // router -> shard
  moodycamel::BlockingConcurrentQueue<Batch*> free_;      // shard -> router
  moodycamel::LightweightSemaphore paused_, resume_;
  Batch* filling_ = nullptr;                 // router side
  int64_t filling_since_ = 0;                // steady clock, ns: when its first event came
  std::atomic<int> queued_{0};               // batches sent, not yet processed
  std::atomic<int64_t> emitted_{0};
  DedupFilter* dedup_;
  std::atomic<int64_t> duplicates_{0};
  std::thread thread_;
};

}  // namespace aisle::engine
