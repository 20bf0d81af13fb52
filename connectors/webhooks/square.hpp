#pragma once
// Square webhooks (payment.*, order.*, refund.*, inventory.count.updated, labor.timecard.*):
// signature check and normalization into canonical events. See docs/connectors.md, "Square".

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

// x-square-hmacsha256-signature = base64 HMAC-SHA256(signature key, notification_url + body),
// tried against each of config.secrets. The legacy HMAC-SHA1 x-square-signature is not accepted.
AuthResult AuthenticateSquare(const Delivery& delivery, const PlatformConfig& config);

// Events from an authenticated body. Payment and order events fetch the order
// (/v2/orders/{id}) through `fetcher`; without one they fail with an UpstreamError
// ("needs the Square API (configure square.api)"). A refund fetches its return order when a
// fetcher is given (for the original order and the tax) and is emitted without them otherwise.
Result<Normalized> NormalizeSquare(const Delivery& delivery, const PlatformConfig& config,
                                   ObjectFetcher* fetcher);

}  // namespace aisle::connectors::webhooks
