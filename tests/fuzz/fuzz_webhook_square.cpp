// libFuzzer target for Square webhooks. The first input byte picks a mode:
//   0: the rest is the body, signed with the test key so it reaches NormalizeSquare; the fetcher
//      serves the fixture order for any /v2/orders/ path;
//   1: the rest is "<body>\0<API response>": the fetcher returns the fuzzed response;
//   2: the rest is the signature header text over the fixture payment body.
// Promises: nothing crashes or throws; a signed body authenticates; every produced line parses
// with EventParser; errors have a one-line reason; a fuzzed signature never authenticates
// unless it is the real one.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/webhooks/square.hpp"
#include "tests/fuzz/webhook_fuzz_support.hpp"

namespace wh = aisle::connectors::webhooks;

namespace {

using aisle::fuzz::Check;
using aisle::fuzz::CheckNormalized;
using aisle::fuzz::ReadFixture;

class Fetcher : public wh::ObjectFetcher {
 public:
  std::string_view fuzzed;
  bool use_fuzzed = false;
  aisle::Result<std::string> Fetch(std::string_view path) override {
    Check(!path.empty() && path.front() == '/');
    if (use_fuzzed) return std::string(fuzzed);
    static const std::string order = ReadFixture("square/api/retrieve_order_response.json");
    if (path.rfind("/v2/orders/", 0) == 0) return order;
    return aisle::Error{"HTTP 404"};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  wh::PlatformConfig config;
  config.secrets = {"test-square-signature-key-DO-NOT-USE"};
  config.notification_url = "https://hooks.example.test/pos/square/v1";
  config.ids.stores["LHB01TESTLOC1"] = "store-hb01";
  Fetcher fetcher;
  wh::Headers headers;
  if (mode == 2) {
    static const std::string body = ReadFixture("square/payment_created.json");
    const std::string value(rest.substr(0, rest.find('\n')));
    headers.Add("x-square-hmacsha256-signature", value);
    const wh::Delivery delivery{"/webhooks/square", &headers, body, 0};
    const wh::AuthResult auth = wh::AuthenticateSquare(delivery, config);
    const std::string real = wh::Base64Of(wh::HmacSha256(config.secrets[0], config.notification_url + body));
    Check(auth.ok() == (value == real));
    return 0;
  }
  std::string_view body = rest;
  if (mode == 1) {
    const auto [before, api] = aisle::fuzz::SplitAtNul(rest);
    body = before;
    fetcher.fuzzed = api;
    fetcher.use_fuzzed = true;
  }
  headers.Add("x-square-hmacsha256-signature",
              wh::Base64Of(wh::HmacSha256(config.secrets[0], config.notification_url + std::string(body))));
  const wh::Delivery delivery{"/webhooks/square", &headers, body, 0};
  Check(wh::AuthenticateSquare(delivery, config).ok());
  for (wh::ObjectFetcher* api : {static_cast<wh::ObjectFetcher*>(&fetcher), static_cast<wh::ObjectFetcher*>(nullptr)}) {
    const auto result = wh::NormalizeSquare(delivery, config, api);
    CheckNormalized(result);
    Check(!result || result->delivery_id.rfind("square:", 0) == 0);
  }
  return 0;
}
