// libFuzzer target for Clover webhooks. The first input byte picks a mode:
//   0: the rest is an app-webhook body with the right X-Clover-Auth; the fetcher serves the
//      fixture order / payment / refund / item for any path of that kind;
//   1: the rest is "<body>\0<API response>": every fetch returns the fuzzed response;
//   2: the rest is a Clover-Signature header (first line) over the fixture checkout body, then
//      the checkout body is normalized from the rest.
// Promises: nothing crashes or throws; every produced line parses with EventParser; errors have
// a reason; a fuzzed checkout signature never authenticates unless its v1 is the real one.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/webhooks/clover.hpp"
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
    static const std::string order = ReadFixture("clover/api/order_expanded.json");
    static const std::string payment = ReadFixture("clover/api/payment.json");
    static const std::string refund = ReadFixture("clover/api/refund.json");
    static const std::string item = ReadFixture("clover/api/item_with_stock.json");
    if (path.find("/orders/") != std::string_view::npos) return order;
    if (path.find("/payments/") != std::string_view::npos) return payment;
    if (path.find("/refunds/") != std::string_view::npos) return refund;
    if (path.find("/items/") != std::string_view::npos) return item;
    return aisle::Error{"HTTP 404"};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  wh::PlatformConfig config;
  config.secrets = {"6d3f9a10-4b7e-4c21-9e55-a0b1c2d3e4f5"};
  config.ids.stores["MHARBOR7TEST1"] = "store-hb01";
  wh::Headers headers;
  if (mode == 2) {
    static const std::string body = ReadFixture("clover/hosted_checkout_payment.json");
    const size_t newline = rest.find('\n');
    const std::string value(rest.substr(0, newline));
    headers.Add("Clover-Signature", value);
    wh::PlatformConfig checkout = config;
    checkout.secrets = {"test-clover-hco-signing-secret-DO-NOT-USE"};
    const wh::Delivery delivery{"/webhooks/clover/checkout", &headers, body, 1741962690LL * 1000000};
    const wh::AuthResult auth = wh::AuthenticateCloverCheckout(delivery, checkout);
    if (auth.ok()) {
      const std::string real = wh::HexOf(wh::HmacSha256(checkout.secrets[0], "1741962690." + body));
      std::string lower = value;
      for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
      Check(lower.find("v1=" + real) != std::string::npos);
    }
    const std::string_view other = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    const wh::Delivery fuzzed{"/webhooks/clover/checkout", &headers, other, 0};
    (void)wh::AuthenticateCloverCheckout(fuzzed, checkout);
    CheckNormalized(wh::NormalizeCloverCheckout(fuzzed, checkout));
    return 0;
  }
  Fetcher fetcher;
  std::string_view body = rest;
  if (mode == 1) {
    const auto [before, api] = aisle::fuzz::SplitAtNul(rest);
    body = before;
    fetcher.fuzzed = api;
    fetcher.use_fuzzed = true;
  }
  headers.Add("X-Clover-Auth", config.secrets[0]);
  const wh::Delivery delivery{"/webhooks/clover", &headers, body, 0};
  Check(wh::AuthenticateClover(delivery, config).ok());
  CheckNormalized(wh::NormalizeClover(delivery, config, &fetcher));
  CheckNormalized(wh::NormalizeClover(delivery, config, nullptr));
  return 0;
}
