#pragma once
// The webhook server behind `aisle serve`: HTTP on a loopback or LAN address (http_front.hpp:
// Beast event loops), one route per platform, the durable inbox with its group-commit thread, and
// the thread that feeds the engine.
//
// A request is authenticated and normalized on an event-loop thread (on the blocking pool when
// its route may call a platform's API), then handed to the commit thread, which appends every
// delivery waiting into the inbox in one synced write and answers them all. It is answered:
//   413 over the size limit (before any work);
//   401 when the platform's authentication fails (nothing stored);
//   503 + Retry-After when more than `max_pending` acknowledged deliveries wait for the engine;
//   400 with {"error": ...} when an authenticated body cannot be normalized: its raw bytes and
//       the reason go to the dead-letter store first;
//   503 when normalization needed the platform's API and it failed (the platform retries);
//   200 once the delivery's canonical events are in the inbox, synced to disk, or when its
//       delivery id was seen before (a duplicate: nothing is counted again).
// The engine runs on one ingest thread (it is the engine's router), which takes acknowledged
// deliveries in sequence order, records the inbox position with each checkpoint and trims what
// a checkpoint covers (connectors/server/inbox.hpp).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/server/http_front.hpp"
#include "connectors/server/inbox.hpp"
#include "connectors/server/metrics.hpp"
#include "connectors/webhooks/webhook.hpp"
#include "engine/core/event.hpp"
#include "engine/core/result.hpp"

namespace aisle::engine {
class Engine;
}

namespace aisle::connectors::server {

// Why normalization failed: the body (400, dead-lettered) or an upstream API (503, retried).
enum class FailureKind { kMalformed, kUpstream };

struct RouteError {
  FailureKind kind = FailureKind::kMalformed;
  std::string reason;
};

// One webhook endpoint. The functions are pure but for the route's own fetcher; they run on
// several threads concurrently, so they must be thread-safe.
struct Route {
  std::string path;      // "/webhooks/shopify"
  std::string platform;  // metric label and dead-letter tag
  bool may_block = false;  // normalize may wait on the network (a platform's API)
  std::function<webhooks::AuthResult(const webhooks::Delivery&)> authenticate;
  // Canonical events or why not.
  std::function<bool(const webhooks::Delivery&, webhooks::Normalized&, RouteError&)> normalize;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port)
  int64_t max_body_bytes = 1 << 20;
  int64_t max_pending = 20'000;
  int retry_after_seconds = 1;
  int threads = 0;       // event-loop threads (0: one per core)
  int api_threads = 8;   // threads for routes that may wait on a platform's API
  int checkpoint_seconds = 5;
  // Microseconds since the epoch; the server's clock for signatures' replay windows.
  std::function<int64_t()> clock;
  // Called before `GET /metrics` renders, to copy figures kept elsewhere (the sinks') in.
  std::function<void(Metrics&)> before_scrape;
};

class Server {
 public:
  Server(ServerOptions options, engine::Engine& engine, Inbox& inbox, Metrics& metrics,
         std::vector<Route> routes);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Pushes what the inbox holds beyond the engine's checkpointed position, binds the socket and
  // starts serving. Returns once requests are being accepted (or an Error: nothing runs).
  Status Start();
  int port() const { return port_; }
  // Blocks until Stop has finished (from another thread or a signal).
  void Wait();
  // Graceful stop: stop accepting, finish requests in flight, push every acknowledged delivery
  // into the engine, checkpoint, trim the inbox. Idempotent; returns the checkpoint's status.
  Status Stop();

  // Emission latency: the sink wrapper reads when the newest pushed delivery was received.
  int64_t newest_receipt_us() const { return newest_receipt_us_.load(std::memory_order_relaxed); }

 private:
  struct Item {
    uint64_t sequence = 0;
    bool failed = false;  // the append failed: the sequence carries nothing
    std::vector<engine::Event> events;
    int64_t received_us = 0;
  };
  // A normalized delivery waiting for the commit thread.
  struct Pending {
    const Route* route = nullptr;
    std::string delivery_id;
    std::vector<std::string> lines;     // canonical NDJSON, as stored
    std::vector<engine::Event> events;  // the same, parsed
    std::string note;
    int64_t received_us = 0;
    Respond respond;
  };

  void Dispatch(HttpRequest&& request, Respond respond);
  void HandleWebhook(const Route& route, HttpRequest& request, const Respond& respond);
  void CommitLoop();
  void Commit(std::vector<Pending>& batch);
  void IngestLoop();
  Status Replay();
  void Enqueue(std::vector<Item>& items);
  Status CheckpointAndTrim();
  void StopThreads();  // the commit thread (after draining), then the ingest thread
  void UpdateGauges();

  ServerOptions options_;
  engine::Engine& engine_;
  Inbox& inbox_;
  Metrics& metrics_;
  std::vector<Route> routes_;
  std::unique_ptr<HttpFront> http_;
  std::thread commit_thread_, ingest_thread_;
  int port_ = 0;

  std::mutex commit_mutex_;
  std::condition_variable commit_cv_;
  std::vector<Pending> commit_queue_;  // under commit_mutex_
  bool commit_stopping_ = false;       // under commit_mutex_

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::map<uint64_t, Item> queue_;  // by sequence; the ingest thread takes them in order
  bool stopping_ = false;           // under queue_mutex_

  std::atomic<uint64_t> pushed_through_{0};  // newest sequence the engine holds
  std::atomic<int64_t> acknowledged_{0};     // deliveries appended but not yet pushed
  std::atomic<int64_t> newest_receipt_us_{0};
  std::atomic<bool> ready_{false};
  std::mutex stop_mutex_;
  bool stopped_ = false;
  Status stop_status_;
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  bool finished_ = false;  // under wait_mutex_: Stop has finished
};

// The metric families the server and its sinks update (declared once, before serving).
void DeclareServerMetrics(Metrics& metrics);

}  // namespace aisle::connectors::server
