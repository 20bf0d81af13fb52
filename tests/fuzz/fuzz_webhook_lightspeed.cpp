// libFuzzer target for Lightspeed X-Series webhooks. The first input byte picks a mode:
//   even: the rest is the form body, signed with the test secret (authentication must pass,
//         normalization must keep its promises); bit 1 routes by path instead of the form field;
//   odd:  the rest is the X-Signature header text over a fixed body.

#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/webhooks/lightspeed.hpp"
#include "tests/fuzz/webhook_fuzz_support.hpp"

namespace wh = aisle::connectors::webhooks;
using aisle::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kSecret = "fuzz-secret";
  static const std::string kFixedBody = "payload=%7B%7D&type=sale.update";
  static const char* const kPaths[] = {"/webhooks/lightspeed", "/webhooks/lightspeed/sale.update",
                                       "/webhooks/lightspeed/inventory.update",
                                       "/webhooks/lightspeed/product.update"};
  const auto input = aisle::fuzz::Split(data, size);
  wh::PlatformConfig config;
  config.secrets = {kSecret};
  const bool header_mode = (input.mode & 1) != 0;
  const std::string body = header_mode ? kFixedBody : std::string(input.rest);
  const std::string hex = wh::HexOf(wh::HmacSha256(kSecret, body));
  wh::Headers headers;
  headers.Add("X-Signature", header_mode ? std::string(input.rest)
                                         : "signature=" + hex + ", algorithm=HMAC-SHA256");
  const wh::Delivery delivery{kPaths[(input.mode >> 1) % 4], &headers, body, 1742151904LL * 1000000};
  const wh::AuthResult auth = wh::AuthenticateLightspeed(delivery, config);
  if (header_mode) {
    // Passing needs the real digest (hex in either case) in the header.
    std::string lower(input.rest);
    for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    Check(!auth.ok() || lower.find(hex) != std::string::npos);
  } else {
    Check(auth.ok());
  }
  aisle::fuzz::CheckNormalized(wh::NormalizeLightspeed(delivery, config));
  return 0;
}
