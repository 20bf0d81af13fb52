#pragma once
// Shopify webhooks (README section 1): X-Shopify-Hmac-Sha256 authentication and the topics
// orders/create, orders/paid, refunds/create and inventory_levels/update as canonical events.
// docs/connectors.md, "Shopify", describes the mapping and the id scheme.

#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks {

// Checks the base64 HMAC-SHA256 of the raw body (X-Shopify-Hmac-Sha256, or the newer unprefixed
// shopify-hmac-sha256) against each configured secret, in constant time.
AuthResult AuthenticateShopify(const Delivery& delivery, const PlatformConfig& config);

// Turns an authenticated delivery into canonical events. Never throws.
Result<Normalized> NormalizeShopify(const Delivery& delivery, const PlatformConfig& config);

}  // namespace aisle::connectors::webhooks
