#pragma once
// The contract between `aisle serve`'s HTTP layer and the per-platform webhook code
// (connectors/webhooks/<platform>.{hpp,cpp}). A platform module does two things, both pure
// functions of their inputs (no I/O but through an ObjectFetcher, no clock but `now`):
//
//   1. Authenticate: check the delivery's signature (or auth code) over the raw bytes, in
//      constant time, before anything parses the body. kMissing/kBad -> 401, nothing stored.
//   2. Normalize: turn an authenticated body into canonical events (INTERFACES.md), as NDJSON
//      lines that connectors/ndjson/event_parser.hpp accepts. A malformed body is an Error
//      whose message is the reason (-> 400, raw bytes dead-lettered).
//
// Each platform's undocumented or unverified choices (see ../shared/fixtures/pos/README.md,
// "Open questions") are named in one place in its .cpp, in a block headed "Assumptions".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::connectors::webhooks {

// Request headers; names compare case-insensitively (HTTP), values are kept as received.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
  }
  // The first header of that name, or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

enum class AuthStatus {
  kOk,
  kMissing,  // no signature / auth header
  kBad,      // a signature that does not match any configured secret, or cannot be parsed
  kStale,    // a valid signature on a timestamp outside the replay window (our own scheme)
};

// Why authentication failed, for logs and the 401 body (never contains a secret).
struct AuthResult {
  AuthStatus status = AuthStatus::kOk;
  std::string reason;
  bool ok() const { return status == AuthStatus::kOk; }
};

// Maps platform object ids onto the canonical ids rules see. An id not in a map passes through
// prefixed with its kind ("shopify-location:123456", "square-variation:ABC"), so an unmapped
// event is still keyed consistently and visibly.
struct IdMaps {
  std::map<std::string, std::string> stores;  // platform location/outlet/merchant id -> store
  std::map<std::string, std::string> skus;    // platform variant/item/inventory-item id -> sku
  std::string StoreOf(std::string_view kind, std::string_view platform_id) const;
  std::string SkuOf(std::string_view kind, std::string_view platform_id) const;
};

// Per-platform settings from the server's config.
struct PlatformConfig {
  // Secrets to try, current first: two during a rotation (Shopify takes up to an hour to switch).
  std::vector<std::string> secrets;
  // Square signs the notification URL followed by the body: the URL exactly as subscribed.
  std::string notification_url;
  // Our own scheme's replay window (X-Retail-Signature), seconds.
  int64_t replay_window_seconds = 300;
  IdMaps ids;
  // Currency when the payload does not carry one (Lightspeed: a retailer setting).
  std::string default_currency = "USD";
  // Key of the HMAC that replaces a platform customer id in `sale.customer` (never the raw id);
  // empty: the customer is left out.
  std::string customer_key;
};

// Fetches a platform REST object when a webhook carries only ids (Square orders, Clover).
// `path` is relative to the platform's API base URL ("/v2/orders/ORDER_ID").
class ObjectFetcher {
 public:
  virtual ~ObjectFetcher() = default;
  // The response body on 2xx; an Error after retries are spent or on 4xx.
  virtual Result<std::string> Fetch(std::string_view path) = 0;
};

// One authenticated delivery after normalization.
struct Normalized {
  // The delivery's idempotency key, unique across platforms ("shopify:<shop>:<webhook id>").
  std::string delivery_id;
  std::string topic;  // the platform's event type ("orders/create", "payment.created", ...)
  // Canonical events, one JSON object per string (no newline). Each has a deterministic `id`
  // derived from the delivery or the business object, so a redelivery maps to the same ids.
  std::vector<std::string> events;
  // Why an authenticated delivery yields no events ("topic ignored", "verification request"),
  // empty otherwise. Such a delivery is still acknowledged with 200.
  std::string note;
};

// The request as the HTTP layer saw it.
struct Delivery {
  std::string_view path;  // "/webhooks/shopify"
  const Headers* headers = nullptr;
  std::string_view body;  // raw bytes, exactly as received
  int64_t now_us = 0;     // the server's (injectable) clock, microseconds since the epoch
};

// Constant-time comparison of two byte strings (time depends only on the lengths).
bool ConstantTimeEqual(std::string_view a, std::string_view b);
// HMAC-SHA256 of `data` keyed with `key` (OpenSSL), 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// SHA-256 of `data`, lowercase hex.
std::string Sha256Hex(std::string_view data);
// Lowercase hex / standard base64 of raw bytes, and base64 decoding (nullopt when malformed).
std::string HexOf(std::string_view bytes);
std::string Base64Of(std::string_view bytes);
std::optional<std::string> FromBase64(std::string_view text);

// Why Normalize failed, read from its Error: kMalformed -> 400 (the raw bytes are dead-lettered);
// kUpstream -> 503, so the platform retries: the body needs a platform API that is not configured
// or could not be reached (connection error, 5xx, 429, our credentials refused).
enum class NormalizeFailure { kMalformed, kUpstream };
// An Error that FailureOf reports as kUpstream (its message starts with "upstream: ").
Error UpstreamError(std::string_view reason);
NormalizeFailure FailureOf(const Error& error);

}  // namespace aisle::connectors::webhooks
