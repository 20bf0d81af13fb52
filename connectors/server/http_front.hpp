#pragma once
// The server's HTTP/1.1 front end: Boost.Beast over Asio, one event loop per thread, each
// connection on one loop (keep-alive; one request at a time per connection).
//
// Why not cpp-httplib, which the clients use: httplib gives each connection a thread, so every
// request costs that thread a wake-up and a sleep, and a delivery waiting for its group commit
// holds a thread. On 2 cores that capped `aisle serve` at 2,000-3,000 deliveries/s, and idle
// keep-alive connections beyond the pool waited for a thread.
// Here a request waiting for the disk holds no thread: the handler gets a Respond and calls it
// when the answer is known, from any thread.
//
// Limits: the body size (413, then the connection is closed, its body unread), a header limit of
// 64 KiB, and an idle timeout per connection. `Expect: 100-continue` is honoured.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::connectors::server {

struct HttpRequest {
  std::string method;  // "POST"
  std::string path;    // the request target without its query ("/webhooks/shopify")
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones ("Retry-After")
};

// Answers one request. Call it exactly once, from any thread; it only queues the write.
using Respond = std::function<void(HttpResponse)>;

struct HttpFrontOptions {
  std::string host = "127.0.0.1";
  int port = 0;                 // 0: any free port
  int threads = 2;              // event-loop threads
  int blocking_threads = 8;     // for Post(): work that may wait on the network
  int64_t max_body_bytes = 1 << 20;
  int idle_timeout_seconds = 60;  // a connection silent this long is closed
};

class HttpFront {
 public:
  // `handler` runs on an event-loop thread for every complete request; it must not block
  // (hand slow work to Post). It must not throw.
  using Handler = std::function<void(HttpRequest&&, Respond)>;

  HttpFront(HttpFrontOptions options, Handler handler);
  ~HttpFront();  // Stop()
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Binds and listens (port() is known after), then starts the threads.
  Status Start();
  int port() const;
  // Runs `job` on the blocking pool (for handlers that must wait, e.g. on a platform's API).
  void Post(std::function<void()> job);
  // Stops accepting, closes idle connections, waits until every request handed to the handler
  // has been answered and its answer written (or its connection failed), then joins the threads.
  // Idempotent.
  void Stop();

 private:
  friend class HttpSession;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace aisle::connectors::server
