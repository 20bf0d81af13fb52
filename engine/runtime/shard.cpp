#include "engine/runtime/shard.hpp"

namespace aisle::engine {

Shard::Shard(std::unique_ptr<Pipeline> pipeline, EmissionQueue& emissions, DedupFilter* dedup)
    : pipeline_(std::move(pipeline)),
      emissions_(emissions),
      emission_token_(emissions),
      inbox_(kBatches + 4),
      free_(kBatches),
      dedup_(dedup) {
  emit_ = [this](Emission&& e) {
    emissions_.enqueue(emission_token_, std::move(e));
    emitted_.fetch_add(1, std::memory_order_release);
  };
  storage_.reserve(kBatches);
  for (size_t i = 0; i < kBatches; ++i) {
    storage_.push_back(std::make_unique<Batch>());
    storage_.back()->events.resize(kBatchEvents);
    free_.enqueue(storage_.back().get());
  }
  thread_ = std::thread([this] { Run(); });
}

Shard::~Shard() {
  Flush();
  Send(Command::kStop);
  thread_.join();
}

Shard::Batch* Shard::Filling(bool wait) {
  if (filling_) return filling_;
  Batch* b = nullptr;
  if (wait) free_.wait_dequeue(b);
  else if (!free_.try_dequeue(b)) return nullptr;
  b->size = 0;
  filling_ = b;
  return b;
}

namespace {
int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Shard::Push(const Event& event) {
  Batch* b = Filling(/*wait=*/true);
  b->events[b->size++] = event;
  SendIfDue();
}

bool Shard::TryPush(const Event& event) {
  Batch* b = Filling(/*wait=*/false);
  if (!b) return false;
  b->events[b->size++] = event;
  SendIfDue();
  return true;
}

void Shard::SendIfDue() {
  if (filling_->size == kBatchEvents) {
    Flush();
    return;
  }
  const int64_t now = NowNanos();
  if (filling_->size == 1) filling_since_ = now;
  if (now - filling_since_ >= kMaxHoldNanos && queued_.load(std::memory_order_acquire) == 0) Flush();
}

void Shard::Flush() {
  if (!filling_ || filling_->size == 0) return;
  queued_.fetch_add(1, std::memory_order_acq_rel);
  inbox_.enqueue(Item{Command::kEvents, filling_});
  filling_ = nullptr;
}

void Shard::Send(Command command) { inbox_.enqueue(Item{command, nullptr}); }

void Shard::Pause() {
  Flush();
  Send(Command::kPause);
  paused_.wait();
}

void Shard::Resume() { resume_.signal(); }

void Shard::Run() {
  for (;;) {
    Item item;
    inbox_.wait_dequeue(item);
    switch (item.command) {
      case Command::kEvents: {
        Batch* b = item.batch;
        for (size_t i = 0; i < b->size; ++i) {
          const Event& e = b->events[i];
          if (dedup_ && !dedup_->FirstSeen(e.id(), e.ts(), pipeline_->max_event_time())) {
            duplicates_.fetch_add(1, std::memory_order_release);
            continue;
          }
          pipeline_->Process(e, emit_);
        }
        free_.enqueue(b);
        queued_.fetch_sub(1, std::memory_order_acq_rel);
        break;
      }
      case Command::kPause:
        paused_.signal();
        resume_.wait();
        break;
      case Command::kStop:
        return;
    }
  }
}

}  // namespace aisle::engine
