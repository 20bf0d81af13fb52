#pragma once
// ApiClient: an ObjectFetcher over HTTP(S) (cpp-httplib) for the platforms whose webhooks carry
// only ids (Square orders, Clover). GET base_url + path with a bearer token, retrying transient
// failures with exponential backoff and jitter.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

struct ApiClientOptions {
  // "https://connect.squareup.com", "https://api.clover.com", "http://127.0.0.1:8080" (no path).
  std::string base_url;
  // Sent as "Authorization: Bearer <token>"; never logged or put into an error message.
  std::string bearer_token;
  // More request headers, e.g. {"Square-Version", "2025-01-23"}.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};
  // Attempts in all, the first included (>= 1).
  int max_attempts = 4;
  // Backoff before retry n (1-based) is min(max_backoff, base_backoff * 2^(n-1)); with jitter, a
  // deterministic value in [half of that, all of it] drawn from jitter_seed, the path and n.
  std::chrono::milliseconds base_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  bool jitter = true;
  uint64_t jitter_seed = 0;
  // A 429's Retry-After (delta seconds) is waited for when it is at most this; a longer one ends
  // the retries (a webhook handler cannot wait minutes; the platform redelivers later).
  std::chrono::milliseconds max_retry_after{10000};
  // Waits between attempts; default std::this_thread::sleep_for. Tests record instead.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// Options for Square's API: bearer token plus the Square-Version header.
ApiClientOptions SquareApiOptions(std::string access_token, std::string square_version = "2025-01-23",
                                  std::string base_url = "https://connect.squareup.com");
// Options for Clover's REST API (v3): bearer token.
ApiClientOptions CloverApiOptions(std::string api_token,
                                  std::string base_url = "https://api.clover.com");

// Thread-safe: each Fetch opens its own connection and keeps no mutable state.
// Retries connection errors, 429 and 5xx; not other statuses. Errors after retries are spent,
// and 401/403 (our credentials), are UpstreamError (FailureOf -> kUpstream, the server answers
// 503 and the platform redelivers); 404 and other 4xx are plain errors (the object is gone or the
// request is wrong: the delivery is dead-lettered). Messages name the path and status, never the token.
class ApiClient : public ObjectFetcher {
 public:
  explicit ApiClient(ApiClientOptions options);
  Result<std::string> Fetch(std::string_view path) override;

  // The backoff before retry `retry` (1-based) of `path`, jitter included (exposed for tests).
  std::chrono::milliseconds BackoffFor(std::string_view path, int retry) const;

 private:
  ApiClientOptions options_;
};

}  // namespace aisle::connectors::webhooks
