#pragma once
// The sink thread of a sharded engine: drains the emission queue the shards fill and hands each
// emission to the delivery function, in each shard's order. Sinks are thus called on one thread
// only, and no shard ever waits for a sink.

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "engine/runtime/shard.hpp"

namespace aisle::engine {

class SinkWorker {
 public:
  explicit SinkWorker(std::function<void(Emission&&)> deliver);
  // Delivers what is queued, then stops. Stop the producers first.
  ~SinkWorker();
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;

  // Returns once `count` emissions in all have been delivered; what was delivered then
  // happens-before the return.
  void WaitDelivered(int64_t count) const;
  int64_t delivered() const { return delivered_.load(std::memory_order_acquire); }
  // Where the shards put their emissions.
  EmissionQueue& queue() { return queue_; }

 private:
  void Run();

  EmissionQueue queue_;
  std::function<void(Emission&&)> deliver_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace aisle::engine
