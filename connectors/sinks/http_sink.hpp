#pragma once
// A sink that POSTs each emission to an HTTP(S) endpoint (a Slack incoming webhook, or any JSON
// receiver), through a durable outbox, so a receiver that is down loses nothing
// (docs/connectors.md, "Sinks").
//
// Emit renders the request body and appends it to the outbox; Flush syncs the outbox, so what
// was emitted before an engine checkpoint survives a crash. A delivery thread per sink reads the
// outbox in order and POSTs one entry at a time, with `Idempotency-Key: <emission id>`:
//   2xx                      delivered: the entry is deleted
//   4xx but 408 and 429      permanent: the entry moves to the dead letters at once
//   anything else, no reply  retried after a backoff (exponential, with jitter), or after the
//                            Retry-After the receiver sent; after `max_attempts` failed
//                            attempts the entry moves to the dead letters
// Delivery is at least once: a crash between the receiver's reply and the outbox's delete sends
// the entry again, with the same Idempotency-Key. Entries are delivered in emission order; one
// that fails holds back those after it until it is delivered or dead-lettered.
//
// Thread-safe: Emit and Flush may be called from any one thread while the delivery thread runs.
// The destructor stops the delivery thread (waiting for a request in flight, at most
// `timeout_ms`); what is undelivered stays in the outbox for the next run.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/sinks/outbox.hpp"
#include "engine/core/result.hpp"
#include "engine/emit/emission.hpp"

namespace httplib {
class Client;
}  // namespace httplib

namespace aisle::connectors {

enum class HttpBodyFormat {
  kJson,   // the emission's JSON object (INTERFACES.md, "Emissions"), as the JSONL sink writes it
  kSlack,  // {"text": <the readable line, Slack-escaped>, "mrkdwn": false}
};

struct HttpSinkOptions {
  std::string name;  // names the sink and its outbox folder: letters, digits, '-', '_', '.'
  std::string url;   // http:// or https://, with the path (and query) to POST to
  HttpBodyFormat format = HttpBodyFormat::kJson;
  // Extra request headers (an Authorization header, say). Idempotency-Key and Content-Type are
  // the sink's own.
  std::vector<std::pair<std::string, std::string>> headers;
  int timeout_ms = 5000;          // connect, read and write timeouts of one request
  int max_attempts = 8;           // failed attempts before an entry is dead-lettered
  int64_t backoff_ms = 500;       // the first retry's backoff; each next one doubles
  int64_t max_backoff_ms = 60'000;
  int64_t max_retry_after_ms = 600'000;  // a longer Retry-After is cut to this
  double rate_per_second = 0;     // requests per second (retries included); 0 = unlimited
  int burst = 1;                  // requests that may go at once after an idle spell
  uint64_t jitter_seed = 0;       // 0: seeded from std::random_device
  // Monotonic clock in microseconds (the rate limit's); default std::chrono::steady_clock.
  std::function<int64_t()> now_us;
  // Waits `micros` (backoff, Retry-After, rate limit). Default: a wait that the destructor cuts
  // short. Tests inject one that records the wait and advances their clock.
  std::function<void(int64_t micros)> sleep_us;
};

class HttpSink final : public engine::Sink {
 public:
  // Opens (creating) the outbox in `outbox_dir` and starts the delivery thread, which first
  // delivers what a previous run left.
  static Result<std::unique_ptr<HttpSink>> Open(HttpSinkOptions options, const std::string& outbox_dir);
  ~HttpSink() override;
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  void Emit(const engine::Emission& emission) override;
  // Syncs the outbox: what was emitted so far survives a crash. Does not wait for delivery.
  bool Flush(std::string& error) override;

  // The outbox, for its dead letters (thread-safe).
  Outbox& outbox() { return *outbox_; }
  uint64_t delivered() const { return delivered_.load(); }
  uint64_t dead_lettered() const { return dead_lettered_.load(); }
  uint64_t failed_attempts() const { return failed_attempts_.load(); }
  const std::string& name() const { return options_.name; }
  std::string last_error() const;

 private:
  HttpSink(HttpSinkOptions options, std::unique_ptr<Outbox> outbox, std::string origin, std::string path);
  void Run();
  void Deliver(httplib::Client& client, OutboxEntry entry);
  bool Sleep(int64_t micros);  // false when stopping
  bool TakeToken();            // false when stopping
  int64_t BackoffMicros(uint32_t attempts);
  void SetError(std::string error);
  bool stopping() const;

  HttpSinkOptions options_;
  std::unique_ptr<Outbox> outbox_;
  std::string origin_;  // "https://hooks.slack.com"
  std::string path_;    // the URL's path and query, e.g. "/hooks/ops"

  // Emit's appends that failed, tried again by Flush (engine thread only, but guarded).
  std::mutex emit_mutex_;
  std::vector<std::pair<std::string, std::string>> unwritten_;
  std::string emit_error_;

  mutable std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t appended_ = 0;  // bumped by Emit, so the delivery thread misses no wake-up
  std::string last_error_;

  // Delivery thread only.
  uint64_t cursor_ = 0;  // the last sequence delivered or dead-lettered this run
  int64_t next_allowed_us_ = 0;  // the rate limit: the theoretical arrival time (GCRA)
  bool rate_started_ = false;
  std::mt19937_64 rng_;

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> failed_attempts_{0};
  std::thread thread_;
};

// The body of an emission in `format`.
std::string HttpBody(const engine::Emission& emission, HttpBodyFormat format);
// Slack's escaping of text: & -> &amp;, < -> &lt;, > -> &gt; (nothing else).
std::string SlackEscape(std::string_view text);
// A Retry-After value (delta seconds or an HTTP date) in microseconds from `now_unix_us`; none
// when it is neither.
std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_unix_us);

// The sink's settings from its serve-config object:
//   {"type": "webhook", "name": "slack-ops", "url": "https://hooks.slack.com/services/...",
//    "format": "slack", "max_attempts": 8, "rate_per_second": 1, "burst": 1,
//    "headers": {"Authorization": {"env": "OPS_TOKEN"}}, "timeout_ms": 5000,
//    "backoff_ms": 500, "max_backoff_ms": 60000}
// `url` and each header value may be a secret reference ({"env": NAME} or {"file": PATH},
// relative to `base_dir`), resolved here.
Result<HttpSinkOptions> ParseHttpSinkOptions(const std::string& sink_json, const std::string& base_dir,
                                             const std::map<std::string, std::string>* env = nullptr);
// The outbox folder of sink `name` in the serve data folder: `<data_dir>/outbox/<name>`.
std::string HttpSinkOutboxDir(const std::string& data_dir, const std::string& name);
// Parses the settings and opens the sink on its outbox in `data_dir`.
Result<std::unique_ptr<HttpSink>> MakeHttpSink(const std::string& sink_json, const std::string& data_dir,
                                               const std::string& base_dir = {},
                                               const std::map<std::string, std::string>* env = nullptr);

}  // namespace aisle::connectors
