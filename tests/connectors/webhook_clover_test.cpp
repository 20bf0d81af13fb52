// Clover app webhooks and Hosted Checkout against tests/fixtures/pos/clover, with the REST
// objects of clover/api/*.json served by a map fetcher; figures hand-derived from the README's
// basket (total 58.00, tax 4.30, discount 3.30; refund 16.04 = 14.85 + 1.19; mug on hand 17).
#include <catch2/catch.hpp>

#include "connectors/webhooks/clover.hpp"
#include "dsl/time.hpp"
#include "tests/connectors/webhook_rest_support.hpp"

namespace wh = aisle::connectors::webhooks;
using wh::testing::FromManifest;
using wh::testing::MapFetcher;
using wh::testing::ParseAll;
using wh::testing::ReadFixture;

namespace {

constexpr const char* kAuthCode = "6d3f9a10-4b7e-4c21-9e55-a0b1c2d3e4f5";
constexpr const char* kCheckoutSecret = "test-clover-hco-signing-secret-DO-NOT-USE";
constexpr const char* kHarbor = "/v3/merchants/MHARBOR7TEST1";

wh::PlatformConfig Config() {
  wh::PlatformConfig config;
  config.secrets = {kAuthCode};
  config.ids.stores["MHARBOR7TEST1"] = "store-hb01";
  config.ids.skus["ITMTOTENAT001"] = "TOTE-NAT-01";
  return config;
}

MapFetcher FixtureApi() {
  MapFetcher fetcher;
  fetcher.Serve(std::string(kHarbor) + "/orders/ORD1HARBOR0A1", ReadFixture("clover/api/order_expanded.json"));
  fetcher.Serve(std::string(kHarbor) + "/payments/PAY1HARBOR0A1", ReadFixture("clover/api/payment.json"));
  fetcher.Serve(std::string(kHarbor) + "/refunds/RFD1HARBOR0A1", ReadFixture("clover/api/refund.json"));
  fetcher.Serve(std::string(kHarbor) + "/items/ITMMUG12BLU01", ReadFixture("clover/api/item_with_stock.json"));
  // No fixture has the Pier kiosk's coffee: a minimal item in the same shape.
  fetcher.Serve("/v3/merchants/MPIERKSK0TST2/items/ITMCAFE250G01",
                R"({"id":"ITMCAFE250G01","name":"Café 250 g","sku":"CAFE-250G","itemStock":{"quantity":40}})");
  return fetcher;
}

wh::testing::OwnedDelivery Fixture(const std::string& file) {
  const auto manifest = wh::testing::Manifest("clover");
  for (const auto& entry : manifest.at("deliveries")) {
    if (entry.at("file") == file) return FromManifest("clover", entry, entry.at("headers"));
  }
  FAIL("no manifest entry for " << file);
  return {};
}

int64_t At(const char* rfc3339) { return *aisle::dsl::ParseTimestamp(rfc3339); }

wh::Normalized NormalizeOk(const wh::testing::OwnedDelivery& d, wh::ObjectFetcher* fetcher) {
  auto result = wh::NormalizeClover(d.Get(), Config(), fetcher);
  INFO((result.ok() ? std::string() : result.error().message));
  REQUIRE(result.ok());
  return *result;
}

void CheckSale(const std::vector<wh::testing::Parsed>& events) {
  REQUIRE(events.size() >= 4);
  const auto& sale = events[0];
  CHECK(sale.Str("id") == "clover:order:ORD1HARBOR0A1");
  CHECK(sale.Str("store") == "store-hb01");
  CHECK(sale.Str("source") == "clover");
  // createdTime 1741962151000 ms = 2025-03-14T13:00:00Z (1741957200 s) + 4951 s = 14:22:31Z.
  CHECK(sale.event.ts() == At("2025-03-14T14:22:31Z"));
  CHECK(sale.Money("total") == 580000);     // 5800 cents
  CHECK(sale.Money("tax") == 43000);        // payment taxAmount 430
  CHECK(sale.Money("discount") == 33000);   // 10 % of 16.50 on each of two mug lines
  CHECK(sale.Money("subtotal") == 537000);  // 58.00 - 4.30
  CHECK(sale.Field("units").i == 3);        // one piece per Clover line
  CHECK(sale.Str("tender") == "card");
  CHECK(sale.Str("staff") == "EMPAVA0TEST01");
  CHECK(sale.Extra("update") == "MHARBOR7TEST1|O:ORD1HARBOR0A1|CREATE|1741962151000");
  const auto& tote = events[1];
  CHECK(tote.Str("sku") == "TOTE-NAT-01");
  CHECK(tote.Money("price") == 240000);
  CHECK(tote.Money("discount") == 0);
  CHECK(tote.Money("tax") == 19200);  // 8 % of 24.00
  for (size_t i : {2, 3}) {
    const auto& mug = events[i];
    CHECK(mug.Str("sku") == "clover-item:ITMMUG12BLU01");  // not in the map: prefixed
    CHECK(mug.Field("qty").d == 1.0);
    CHECK(mug.Money("price") == 165000);
    CHECK(mug.Money("discount") == 16500);  // 1.65
    CHECK(mug.Money("tax") == 11880);       // 8 % of 14.85 = 1.188, exact
  }
}

void CheckRefund(const wh::testing::Parsed& refund) {
  CHECK(refund.Str("id") == "clover:refund:RFD1HARBOR0A1");
  CHECK(refund.Money("amount") == 160400);  // 16.04
  CHECK(refund.Money("tax") == 11900);      // 1.19
  CHECK(refund.Str("order") == "ORD1HARBOR0A1");
  CHECK(refund.Str("staff") == "EMPBEN0TEST02");
  CHECK(refund.Field("qty").d == 1.0);
  // createdTime 1741979112000 = 13:00:00Z + 21912 s = 2025-03-14T19:05:12Z. The README puts the
  // return on 2025-03-16 (as Square's fixture does); Clover's fixture says the 14th.
  CHECK(refund.event.ts() == At("2025-03-14T19:05:12Z"));
}

}  // namespace

TEST_CASE("Clover manifest deliveries authenticate as expected_valid", "[webhook][clover]") {
  const auto manifest = wh::testing::Manifest("clover");
  for (const auto& entry : manifest.at("deliveries")) {
    INFO(entry.at("file"));
    const auto d = FromManifest("clover", entry, entry.at("headers"));
    const auto auth = wh::AuthenticateClover(d.Get(), Config());
    CHECK(auth.ok() == entry.at("expected_valid").get<bool>());
    if (entry.at("kind") == "verification_handshake") CHECK(auth.reason == "verification request");
  }
}

TEST_CASE("Clover manifest negative cases are all rejected", "[webhook][clover]") {
  const auto manifest = wh::testing::Manifest("clover");
  const auto& cases = manifest.at("negative_cases");
  REQUIRE(cases.size() == 2);
  for (const auto& neg : cases) {
    INFO(neg.at("description"));
    nlohmann::json headers;
    for (const auto& entry : manifest.at("deliveries")) {
      if (entry.at("file") == neg.at("file")) headers = entry.at("headers");
    }
    if (neg.contains("headers_override")) headers.update(neg.at("headers_override"));
    bool removed = false;
    if (neg.contains("headers_remove")) {
      for (const auto& name : neg.at("headers_remove")) headers.erase(name.get<std::string>());
      removed = true;
    }
    const auto d = FromManifest("clover", neg, headers);
    const auto auth = wh::AuthenticateClover(d.Get(), Config());
    CHECK_FALSE(neg.at("expected_valid").get<bool>());
    CHECK(auth.status == (removed ? wh::AuthStatus::kMissing : wh::AuthStatus::kBad));
    CHECK(auth.reason.find(kAuthCode) == std::string::npos);
  }
}

TEST_CASE("Clover auth code rotation", "[webhook][clover]") {
  const auto d = Fixture("notification_order_payment.json");
  wh::PlatformConfig config = Config();
  config.secrets = {"11111111-new-code", kAuthCode};
  CHECK(wh::AuthenticateClover(d.Get(), config).ok());
  config.secrets = {"11111111-new-code"};
  CHECK(wh::AuthenticateClover(d.Get(), config).status == wh::AuthStatus::kBad);
}

TEST_CASE("Clover verification request is acknowledged with the code in the note", "[webhook][clover]") {
  const auto out = NormalizeOk(Fixture("verification_request.json"), nullptr);
  CHECK(out.events.empty());
  CHECK(out.note == "verification request: verificationCode 5b0e4d2a-93c1-4f7e-b8a6-0c1d2e3f4a5b");
  // Without the header, anything but a bare verification body is kMissing.
  wh::testing::OwnedDelivery d;
  d.body = R"({"verificationCode":"x","merchants":{}})";
  CHECK(wh::AuthenticateClover(d.Get(), Config()).status == wh::AuthStatus::kMissing);
}

TEST_CASE("Clover order and payment updates fetch the order and yield the basket", "[webhook][clover]") {
  MapFetcher fetcher = FixtureApi();
  const auto d = Fixture("notification_order_payment.json");
  const auto out = NormalizeOk(d, &fetcher);
  CHECK(out.delivery_id == "clover:" + wh::Sha256Hex(d.body));
  CHECK(out.delivery_id == "clover:44641008fdd77dfaa7251e7543f8c895a49f7c3b134b4a0c2fb6575a0683d42b");
  const auto events = ParseAll(out.events);
  // O CREATE and O UPDATE of one order fetch it once; P CREATE fetches the payment, which (the
  // fixture being the payment's later state) already lists the refund.
  REQUIRE(events.size() == 5);
  CheckSale(events);
  CheckRefund(events[4]);
  CHECK(fetcher.requests.front() ==
        "/v3/merchants/MHARBOR7TEST1/orders/ORD1HARBOR0A1?expand=lineItems,lineItems.discounts,"
        "lineItems.taxRates,payments,employee,customers");
}

TEST_CASE("Clover refund notification yields the refund and the same sale ids", "[webhook][clover]") {
  MapFetcher fetcher = FixtureApi();
  const auto events = ParseAll(NormalizeOk(Fixture("notification_refund.json"), &fetcher).events);
  REQUIRE(events.size() == 5);  // refund (P UPDATE), then sale + 3 lines (O UPDATE)
  CheckRefund(events[0]);
  CHECK(events[1].Str("id") == "clover:order:ORD1HARBOR0A1");
  CHECK(events[1].Extra("update") == "MHARBOR7TEST1|O:ORD1HARBOR0A1|UPDATE|1741979113000");
}

TEST_CASE("Clover inventory updates across merchants; DELETE ignored", "[webhook][clover]") {
  MapFetcher fetcher = FixtureApi();
  const auto events = ParseAll(NormalizeOk(Fixture("notification_inventory.json"), &fetcher).events);
  REQUIRE(events.size() == 2);
  CHECK(events[0].Str("store") == "store-hb01");
  CHECK(events[0].Str("sku") == "MUG-12-BLU");  // the item's own sku
  CHECK(events[0].Field("on_hand").d == 17.0);
  CHECK(events[0].event.ts() == At("2025-03-14T19:05:14Z"));  // ts 1741979114000
  CHECK(events[1].Str("store") == "clover-merchant:MPIERKSK0TST2");
  CHECK(events[1].Str("sku") == "CAFE-250G");
  CHECK(events[1].Field("on_hand").d == 40.0);
  CHECK(fetcher.requests.size() == 2);  // nothing fetched for the DELETE
}

TEST_CASE("Clover employee and cash updates are ignored with a note, no fetch needed", "[webhook][clover]") {
  const auto out = NormalizeOk(Fixture("notification_employee_cash.json"), nullptr);
  CHECK(out.events.empty());
  CHECK(out.note == "ignored: E:EMPAVA0TEST01 (key E), CA:CSHADJ0TEST01 (key CA)");
}

TEST_CASE("Clover without a fetcher is an upstream error; malformed bodies are not", "[webhook][clover]") {
  auto upstream = wh::NormalizeClover(Fixture("notification_order_payment.json").Get(), Config(), nullptr);
  REQUIRE_FALSE(upstream.ok());
  CHECK(wh::FailureOf(upstream.error()) == wh::NormalizeFailure::kUpstream);
  CHECK(upstream.error().message.find("needs the Clover API (configure clover.api)") != std::string::npos);

  MapFetcher fetcher = FixtureApi();
  auto normalize = [&](std::string body) {
    wh::testing::OwnedDelivery d;
    d.body = std::move(body);
    return wh::NormalizeClover(d.Get(), Config(), &fetcher);
  };
  for (const char* body : {"[", R"({"appId":"A"})", R"({"merchants":{"M":[{"objectId":"O","type":"CREATE","ts":1}]}})",
                           R"({"merchants":{"M":[{"objectId":"O:1","type":"CREATE","ts":"1"}]}})"}) {
    INFO(body);
    auto bad = normalize(body);
    REQUIRE_FALSE(bad.ok());
    CHECK(wh::FailureOf(bad.error()) == wh::NormalizeFailure::kMalformed);
  }
  CHECK(normalize(R"({"appId":"A"})").error().message == "field 'merchants': missing");
  CHECK(normalize(R"({"merchants":{"M":[{"objectId":"O:1","type":"CREATE","ts":"1"}]}})").error().message ==
        "field 'merchants.M[0].ts': expected integer");
}

TEST_CASE("Clover Hosted Checkout signature: valid, stale, changed, missing, rotated", "[webhook][clover]") {
  const auto manifest = wh::testing::Manifest("clover");
  const auto& hco = manifest.at("hosted_checkout");
  auto d = FromManifest("clover", hco, hco.at("headers"));
  d.path = "/webhooks/clover/checkout";
  wh::PlatformConfig config;
  config.secrets = {kCheckoutSecret};
  const int64_t t = 1741962690;  // the header's t=
  d.now_us = (t + 10) * 1'000'000;
  CHECK(wh::AuthenticateCloverCheckout(d.Get(), config).ok() == hco.at("expected_valid").get<bool>());
  d.now_us = (t + 301) * 1'000'000;  // outside the 300 s window
  CHECK(wh::AuthenticateCloverCheckout(d.Get(), config).status == wh::AuthStatus::kStale);
  d.now_us = (t - 301) * 1'000'000;
  CHECK(wh::AuthenticateCloverCheckout(d.Get(), config).status == wh::AuthStatus::kStale);
  d.now_us = t * 1'000'000;
  auto changed = d;
  changed.body[10] ^= 1;
  CHECK(wh::AuthenticateCloverCheckout(changed.Get(), config).status == wh::AuthStatus::kBad);
  config.secrets = {"new-secret", kCheckoutSecret};
  CHECK(wh::AuthenticateCloverCheckout(d.Get(), config).ok());
  wh::testing::OwnedDelivery bare;
  bare.body = d.body;
  CHECK(wh::AuthenticateCloverCheckout(bare.Get(), config).status == wh::AuthStatus::kMissing);
  bare.headers.Add("Clover-Signature", "v1=abc");
  CHECK(wh::AuthenticateCloverCheckout(bare.Get(), config).status == wh::AuthStatus::kBad);

  auto out = wh::NormalizeCloverCheckout(d.Get(), config);
  REQUIRE(out.ok());
  CHECK(out->events.empty());
  CHECK(out->delivery_id == "clover-checkout:MHARBOR7TEST1:PAY2HCO00TST1");
  CHECK(out->topic == "checkout.PAYMENT");
}
