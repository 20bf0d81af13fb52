#pragma once
// Clover app webhooks (orders, payments, inventory; auth code in X-Clover-Auth) and Hosted
// Checkout webhooks (Clover-Signature HMAC). See docs/connectors.md, "Clover".

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

// X-Clover-Auth equal (constant time) to one of config.secrets (the app's auth codes). A body of
// the form {"verificationCode": "..."} without the header is the dashboard's URL verification:
// kOk with reason "verification request" (Normalize then yields no events, and its note carries
// the code for the log, since someone has to paste it into the dashboard).
AuthResult AuthenticateClover(const Delivery& delivery, const PlatformConfig& config);

// One delivery batches updates of several merchants. Each O: / P: / I: update is fetched through
// `fetcher` (Clover REST v3) and becomes sale + line_items / refunds / inventory; DELETEs, E:
// (employee records, not shifts) and other keys are ignored. Without a fetcher, a delivery with
// such an update fails with an UpstreamError ("needs the Clover API (configure clover.api)").
Result<Normalized> NormalizeClover(const Delivery& delivery, const PlatformConfig& config,
                                   ObjectFetcher* fetcher);

// Hosted Checkout: `Clover-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
// against each of config.secrets (the signing secrets); kStale when |now - t| exceeds
// config.replay_window_seconds (checked after the signature, so kStale means a genuine but old one).
AuthResult AuthenticateCloverCheckout(const Delivery& delivery, const PlatformConfig& config);
// A checkout payment yields no events (its order arrives through the app webhooks); the result
// gives the delivery id and a note.
Result<Normalized> NormalizeCloverCheckout(const Delivery& delivery, const PlatformConfig& config);

}  // namespace aisle::connectors::webhooks
