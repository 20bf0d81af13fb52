#pragma once
// `aisle serve --config FILE`: a JSON object (docs/connectors.md has the full reference).
//
//   {
//     "listen": "127.0.0.1:8080",
//     "limits": {"max_body_bytes": 1048576, "max_pending": 20000, "retry_after_seconds": 1,
//                "threads": 2, "api_threads": 8},
//     "checkpoint_seconds": 5,
//     "platforms": {
//       "shopify": {"secrets": [{"env": "AISLE_SHOPIFY_SECRET"}], "stores": {"655441491": "hb01"}},
//       "square": {"secrets": [{"file": "/etc/aisle/square.key"}],
//                  "notification_url": "https://hooks.example.com/webhooks/square",
//                  "api": {"base_url": "https://connect.squareup.com", "token": {"env": "SQ_TOKEN"}}},
//       "native": {"secrets": [{"env": "AISLE_INGEST_SECRET"}], "replay_window_seconds": 300}
//     },
//     "sinks": [{"type": "jsonl", "path": "emissions.jsonl"}]
//   }
//
// "customer_key" (a secret) keys the hash that replaces platform customer ids in events; without
// it events carry no customer.
// Secrets are never written in the file: each is {"env": NAME} or {"file": PATH} (one trailing
// newline trimmed), resolved at load; an unset variable or unreadable file is an error naming the
// reference, never the value. Error messages never contain a secret.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/webhooks/webhook.hpp"
#include "engine/core/result.hpp"

namespace aisle::connectors::server {

// A platform's REST API, for webhooks that carry only ids (Square, Clover).
struct ApiSettings {
  std::string base_url;
  std::string token;  // resolved secret
  int max_attempts = 4;
  int timeout_ms = 3000;
};

struct PlatformSettings {
  webhooks::PlatformConfig webhook;           // secrets, notification URL, id maps, ...
  std::optional<ApiSettings> api;             // when configured
  std::vector<std::string> checkout_secrets;  // Clover Hosted Checkout signing secrets
};

// One sink as configured; the serve command builds it (sinks are the connectors' business).
struct SinkSettings {
  std::string type;  // "stdout", "jsonl", "webhook"
  std::string raw;   // the sink's JSON object, for its own parser
};

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  int64_t max_body_bytes = 1 << 20;
  int64_t max_pending = 20'000;  // deliveries acknowledged but not yet in the engine
  int retry_after_seconds = 1;
  int threads = 0;               // HTTP event-loop threads (0: one per core)
  int api_threads = 8;           // for deliveries that wait on a platform's API (Square, Clover)
  int checkpoint_seconds = 5;    // engine checkpoint (and inbox trim) period while events flow
  std::map<std::string, PlatformSettings> platforms;  // "shopify", "square", ... "native"
  std::vector<SinkSettings> sinks;
  // Tests only: the server's clock starts at this instant (microseconds) and runs on, so
  // fixtures stamped in 2025 are inside their replay window.
  std::optional<int64_t> clock_start_us;
};

// Reads and validates the config; `env` looks up environment variables (injectable for tests).
Result<ServeConfig> LoadServeConfig(const std::string& path,
                                    const std::map<std::string, std::string>* env = nullptr);
Result<ServeConfig> ParseServeConfig(std::string_view json, const std::string& base_dir,
                                     const std::map<std::string, std::string>* env = nullptr);

}  // namespace aisle::connectors::server
