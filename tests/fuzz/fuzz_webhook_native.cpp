// libFuzzer target for the engine-native webhooks. The first input byte picks a mode:
//   even: the rest is the body, signed now with the test secret and posted to /traffic, /shifts or
//         /events (bits 1-2); authentication must pass and normalization keep its promises;
//   odd:  the rest is the X-Retail-Signature header text over a fixed body (bit 1: the clock is
//         far from any plausible t).

#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/webhooks/native.hpp"
#include "tests/fuzz/webhook_fuzz_support.hpp"

namespace wh = aisle::connectors::webhooks;
using aisle::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kSecret = "fuzz-secret";
  static const char* const kPaths[] = {"/ingest/traffic", "/ingest/shifts", "/ingest/events",
                                       "/ingest/other"};
  constexpr int64_t kNow = 1741960800;
  const auto input = aisle::fuzz::Split(data, size);
  wh::PlatformConfig config;
  config.secrets = {"old", kSecret};
  const bool header_mode = (input.mode & 1) != 0;
  const std::string body = header_mode ? std::string("{}") : std::string(input.rest);
  const std::string t = std::to_string(kNow);
  const std::string signature = "t=" + t + ",v1=" + wh::HexOf(wh::HmacSha256(kSecret, t + "." + body));
  wh::Headers headers;
  headers.Add("X-Retail-Signature", header_mode ? std::string(input.rest) : signature);
  headers.Add("X-Retail-Event-Id", "01JPB3T8Q6ZQ7M4V1N2C3D4E5F");
  const int64_t now = (header_mode && (input.mode & 2)) ? -kNow : kNow;
  const wh::Delivery delivery{kPaths[(input.mode >> 1) % 4], &headers, body, now * 1000000};
  const wh::AuthResult auth = wh::AuthenticateNative(delivery, config);
  if (header_mode) {
    Check(!(auth.ok() && now < 0));
  } else {
    Check(auth.ok());
  }
  aisle::fuzz::CheckNormalized(wh::NormalizeNative(delivery, config));
  return 0;
}
