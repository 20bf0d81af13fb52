#pragma once
// Lightspeed Retail X-Series webhooks (README section 3): a form-encoded body whose `payload`
// field holds the API 1.0 JSON object; sale.update (closed sales and returns) and
// inventory.update as canonical events. docs/connectors.md, "Lightspeed X-Series".

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

// Checks `X-Signature: signature=<hex>, algorithm=HMAC-SHA256` (HMAC of the raw form body keyed
// with the app's client secret; unverified, see the .cpp's assumptions) in constant time.
AuthResult AuthenticateLightspeed(const Delivery& delivery, const PlatformConfig& config);

// The webhook type comes from the path's last segment when it names one
// ("/webhooks/lightspeed/sale.update"), else from the form field `type`. Never throws.
Result<Normalized> NormalizeLightspeed(const Delivery& delivery, const PlatformConfig& config);

}  // namespace aisle::connectors::webhooks
