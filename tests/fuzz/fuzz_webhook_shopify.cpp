// libFuzzer target for Shopify webhooks. The first input byte picks a mode and a topic:
//   even: the rest is the body, signed with the test secret so fuzzing reaches the normalizer
//         (authentication must pass, normalization must keep its promises);
//   odd:  the rest is the X-Shopify-Hmac-Sha256 header text over a fixed body (must not pass
//         unless it is the body's real digest).

#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/webhooks/shopify.hpp"
#include "tests/fuzz/webhook_fuzz_support.hpp"

namespace wh = aisle::connectors::webhooks;
using aisle::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTopics[] = {"orders/create", "orders/paid", "refunds/create",
                                        "inventory_levels/update"};
  static const std::string kSecret = "fuzz-secret";
  static const std::string kFixedBody = R"({"id":1,"financial_status":"paid","currency":"USD"})";
  const auto input = aisle::fuzz::Split(data, size);
  wh::PlatformConfig config;
  config.secrets = {"old-secret", kSecret};
  config.ids.stores["71234568001"] = "store-hb01";
  config.customer_key = "k";
  const bool header_mode = (input.mode & 1) != 0;
  const std::string body = header_mode ? kFixedBody : std::string(input.rest);
  wh::Headers headers;
  headers.Add("X-Shopify-Topic", kTopics[(input.mode >> 1) % 4]);
  headers.Add("X-Shopify-Shop-Domain", "fuzz.myshopify.com");
  headers.Add("X-Shopify-Webhook-Id", "w-1");
  const std::string signature = wh::Base64Of(wh::HmacSha256(kSecret, body));
  headers.Add((input.mode & 2) ? "shopify-hmac-sha256" : "X-Shopify-Hmac-Sha256",
              header_mode ? std::string(input.rest) : signature);
  const wh::Delivery delivery{"/webhooks/shopify", &headers, body, 0};
  const wh::AuthResult auth = wh::AuthenticateShopify(delivery, config);
  if (header_mode) {
    // Base64 has spellings that differ in unused bits: compare the decoded digest.
    const auto decoded = wh::FromBase64(input.rest);
    Check(!auth.ok() || (decoded && *decoded == wh::HmacSha256(kSecret, body)));
    Check(auth.reason.find(kSecret) == std::string::npos);
  } else {
    Check(auth.ok());
  }
  aisle::fuzz::CheckNormalized(wh::NormalizeShopify(delivery, config));
  return 0;
}
