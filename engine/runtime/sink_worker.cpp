#include "engine/runtime/sink_worker.hpp"

#include <chrono>
#include <vector>

namespace aisle::engine {

namespace {
constexpr size_t kBulk = 64;
constexpr auto kIdleWait = std::chrono::milliseconds(20);  // how often an idle worker looks at stop_
}  // namespace

SinkWorker::SinkWorker(std::function<void(Emission&&)> deliver) : deliver_(std::move(deliver)) {
  thread_ = std::thread([this] { Run(); });
}

SinkWorker::~SinkWorker() {
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

void SinkWorker::WaitDelivered(int64_t count) const {
  while (delivered_.load(std::memory_order_acquire) < count) std::this_thread::yield();
}

void SinkWorker::Run() {
  std::vector<Emission> items(kBulk);
  for (;;) {
    const size_t n = queue_.wait_dequeue_bulk_timed(items.begin(), kBulk, kIdleWait);
    for (size_t i = 0; i < n; ++i) deliver_(std::move(items[i]));
    if (n > 0) delivered_.fetch_add(static_cast<int64_t>(n), std::memory_order_release);
    // Stopping: the producers are gone, so an empty queue stays empty.
    if (n == 0 && stop_.load(std::memory_order_acquire)) return;
  }
}

}  // namespace aisle::engine
