#pragma once
// The engine's own webhook formats (README section 5), signed with
// `X-Retail-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>` and deduplicated on
// `X-Retail-Event-Id`. Three endpoints, told apart by the path's last segment:
//   /traffic  retail.traffic_count.v1 or retail.traffic_count_batch.v1 -> `traffic` events
//   /shifts   retail.staff_clock.v1 -> one `shift` event
//   /events   canonical NDJSON, each line checked by EventParser; one bad line fails the batch
// docs/connectors.md, "Engine-native feeds".

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

// kMissing without the header, kBad when it does not parse or no secret matches, kStale when
// the signature matches but |now - t| exceeds config.replay_window_seconds.
AuthResult AuthenticateNative(const Delivery& delivery, const PlatformConfig& config);

// Dispatches on delivery.path. Never throws.
Result<Normalized> NormalizeNative(const Delivery& delivery, const PlatformConfig& config);

}  // namespace aisle::connectors::webhooks
