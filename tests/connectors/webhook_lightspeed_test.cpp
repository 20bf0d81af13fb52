// Lightspeed X-Series webhooks against tests/fixtures/pos/lightspeed_x: every manifest delivery and
// negative case, and the canonical events against the README's hand figures. Lightspeed sends
// money as JSON numbers with tax-exclusive unit prices after discount and tax per unit.

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>

#include "connectors/webhooks/lightspeed.hpp"
#include "tests/connectors/webhook_fixtures.hpp"

namespace wh = aisle::connectors::webhooks;
using namespace aisle::testing;  // NOLINT: test file

namespace {

constexpr const char* kSecret = "test-lightspeed-x-client-secret-DO-NOT-USE";
constexpr int64_t kNow = 1742151904LL * 1000000;  // 2025-03-16T19:05:04Z

wh::PlatformConfig Config() {
  wh::PlatformConfig config;
  config.secrets = {kSecret};
  config.ids.stores["0adfd74a-1b2c-11ef-e8a9-2c1a3f0b9d01"] = "store-hb01";  // register -> store
  config.ids.stores["0adfd74a-1b2c-11ef-e8a9-2c1a3f0b9a01"] = "store-hb01";  // outlet -> store
  return config;
}

std::string SignatureOf(std::string_view body, const std::string& secret = kSecret) {
  return "signature=" + wh::HexOf(wh::HmacSha256(secret, body)) + ", algorithm=HMAC-SHA256";
}

struct Run {
  wh::Normalized out;
  std::vector<aisle::engine::Event> events;
};

Run Normalize(const std::string& file, const std::string& path = "/webhooks/lightspeed") {
  const std::string body = ReadPosFixture("lightspeed_x/" + file);
  wh::Headers headers;
  headers.Add("X-Signature", SignatureOf(body));
  const wh::Delivery delivery{path, &headers, body, kNow};
  REQUIRE(wh::AuthenticateLightspeed(delivery, Config()).ok());
  auto normalized = wh::NormalizeLightspeed(delivery, Config());
  INFO((normalized ? std::string() : normalized.error().message));
  REQUIRE(normalized);
  return {*normalized, ParseEvents(normalized->events)};
}

std::string ErrorOf(const std::string& body, const std::string& path = "/webhooks/lightspeed") {
  wh::Headers headers;
  const wh::Delivery delivery{path, &headers, body, kNow};
  auto normalized = wh::NormalizeLightspeed(delivery, Config());
  REQUIRE_FALSE(normalized);
  return normalized.error().message;
}

}  // namespace

TEST_CASE("every Lightspeed manifest delivery authenticates and normalizes", "[webhook][lightspeed]") {
  const auto manifest = PosManifest("lightspeed_x");
  REQUIRE(manifest["deliveries"].size() == 4);
  for (const auto& d : manifest["deliveries"]) {
    const std::string file = d["file"].get<std::string>();
    INFO(file);
    const std::string body = ReadPosFixture("lightspeed_x/" + file);
    CHECK(wh::Sha256Hex(body) == d["sha256"].get<std::string>());
    const auto headers = HeadersOf(d["headers"]);
    const wh::Delivery delivery{"/webhooks/lightspeed", &headers, body, kNow};
    CHECK(wh::AuthenticateLightspeed(delivery, Config()).ok() == d["expected_valid"].get<bool>());
    auto normalized = wh::NormalizeLightspeed(delivery, Config());
    REQUIRE(normalized);
    // The idempotency key: sha256(type ':' payload), the payload as the .payload.json file holds it.
    const std::string type = d["webhook_type"].get<std::string>();
    CHECK(normalized->topic == type);
    CHECK(normalized->delivery_id ==
          "lightspeed:" + wh::Sha256Hex(type + ":" + ReadPosFixture("lightspeed_x/" + d["payload_file"].get<std::string>())));
    for (const auto& e : ParseEvents(normalized->events)) CHECK(StrOf(e, "source") == "lightspeed");
  }
}

TEST_CASE("every Lightspeed negative case is a bad signature", "[webhook][lightspeed]") {
  const auto manifest = PosManifest("lightspeed_x");
  REQUIRE(manifest["negative_cases"].size() == 2);
  for (const auto& n : manifest["negative_cases"]) {
    INFO(n["description"].get<std::string>());
    const std::string body = ReadPosFixture("lightspeed_x/" + n["file"].get<std::string>());
    nlohmann::json original;
    for (const auto& d : manifest["deliveries"]) {
      if (d["file"] == n["file"]) original = d["headers"];
    }
    const auto headers = HeadersOf(original, n["headers_override"]);
    const wh::Delivery delivery{"/webhooks/lightspeed", &headers, body, kNow};
    CHECK_FALSE(n["expected_valid"].get<bool>());
    CHECK(wh::AuthenticateLightspeed(delivery, Config()).status == wh::AuthStatus::kBad);
  }
}

TEST_CASE("Lightspeed signatures: a changed byte, rotation, header forms", "[webhook][lightspeed]") {
  const std::string body = ReadPosFixture("lightspeed_x/sale_update_closed.form");
  auto check = [&](const std::string& header, std::string_view signed_body, const std::vector<std::string>& secrets) {
    wh::Headers headers;
    if (!header.empty()) headers.Add("x-signature", header);
    wh::PlatformConfig config = Config();
    config.secrets = secrets;
    return wh::AuthenticateLightspeed(wh::Delivery{"/webhooks/lightspeed", &headers, signed_body, kNow}, config).status;
  };
  const std::string good = SignatureOf(body);
  CHECK(check(good, body, {kSecret}) == wh::AuthStatus::kOk);
  std::string changed = body;
  changed[10] ^= 0x20;
  CHECK(check(good, changed, {kSecret}) == wh::AuthStatus::kBad);
  CHECK(check(good, body, {"rotated-in", kSecret}) == wh::AuthStatus::kOk);
  CHECK(check(good, body, {"rotated-in"}) == wh::AuthStatus::kBad);
  const std::string hex = wh::HexOf(wh::HmacSha256(kSecret, body));
  CHECK(check("algorithm=HMAC-SHA256,signature=" + hex, body, {kSecret}) == wh::AuthStatus::kOk);
  CHECK(check("signature=" + hex, body, {kSecret}) == wh::AuthStatus::kOk);
  CHECK(check("signature=" + hex + ", algorithm=HMAC-SHA1", body, {kSecret}) == wh::AuthStatus::kBad);
  CHECK(check("signature=" + hex.substr(1) + ", algorithm=HMAC-SHA256", body, {kSecret}) == wh::AuthStatus::kBad);
  CHECK(check(hex, body, {kSecret}) == wh::AuthStatus::kBad);
  CHECK(check("", body, {kSecret}) == wh::AuthStatus::kMissing);
}

TEST_CASE("a closed Lightspeed sale is the Harbor St basket: 58.00 with 4.30 tax and 3.30 off", "[webhook][lightspeed]") {
  const auto run = Normalize("sale_update_closed.form");
  REQUIRE(run.events.size() == 3);
  const auto& sale = run.events[0];
  REQUIRE(sale.kind() == aisle::dsl::StreamKind::kSale);
  CHECK(StrOf(sale, "id") == "lightspeed:sale:0a6f1c2e-0b01-11ef-f5a1-8d2c9e0b7a11");
  CHECK(StrOf(sale, "store") == "store-hb01");
  CHECK(TsOf(sale) == "2025-03-14T14:31:07Z");  // sale_date is UTC without an offset
  CHECK(UsdOf(sale, "total") == 580000);        // totals.total_payment 58
  CHECK(UsdOf(sale, "subtotal") == 537000);     // total_price 53.7
  CHECK(UsdOf(sale, "tax") == 43000);           // total_tax 4.3
  CHECK(UsdOf(sale, "discount") == 33000);      // 1.65 per mug x 2
  CHECK(StrOf(sale, "tender") == "card");       // "Credit Card"
  CHECK(StrOf(sale, "staff") == "0adfd74a-1b2c-11ef-e8a9-2c1a3f0b7e01");
  CHECK(StrOf(sale, "customer") == "<absent>");  // no customer_key configured
  CHECK(FieldOf(sale, "units").i == 3);
  CHECK(ExtraOf(sale, "order_name") == "HG-1187");

  const auto& tote = run.events[1];
  CHECK(StrOf(tote, "sku") == "TOTE-NAT-01");
  CHECK(UsdOf(tote, "price") == 240000);
  CHECK(UsdOf(tote, "tax") == 19200);
  const auto& mug = run.events[2];
  CHECK(StrOf(mug, "sku") == "MUG-12-BLU");
  CHECK(FieldOf(mug, "line").i == 2);
  CHECK(FieldOf(mug, "qty").d == 2.0);
  // price 14.85 is after the 1.65 discount: the unit list price is 16.50.
  CHECK(UsdOf(mug, "price") == 165000);
  CHECK(UsdOf(mug, "discount") == 33000);
  // Tax stays exact per line (1.188 x 2 = 2.376); the lines' 4.296 against the sale's 4.30 is
  // Lightspeed's own rounding drift (README).
  CHECK(UsdOf(mug, "tax") == 23760);
  CHECK(UsdOf(tote, "tax") + UsdOf(mug, "tax") == 42960);
}

TEST_CASE("a Lightspeed return (negative quantities) is one refund of 16.04 with 1.19 tax", "[webhook][lightspeed]") {
  const auto run = Normalize("sale_update_return.form");
  REQUIRE(run.events.size() == 1);
  const auto& refund = run.events[0];
  REQUIRE(refund.kind() == aisle::dsl::StreamKind::kRefund);
  CHECK(StrOf(refund, "id") == "lightspeed:refund:0a6f1c2e-0b01-11ef-f5a1-8d2c9e0b7a19");
  CHECK(StrOf(refund, "order") == "0a6f1c2e-0b01-11ef-f5a1-8d2c9e0b7a11");  // return_for: the sale above
  CHECK(StrOf(refund, "refund") == "0a6f1c2e-0b01-11ef-f5a1-8d2c9e0b7a19");
  CHECK(TsOf(refund) == "2025-03-16T19:05:02Z");
  CHECK(UsdOf(refund, "amount") == 160400);  // -totals.total_payment = 16.04 = 14.85 + 1.19
  CHECK(UsdOf(refund, "tax") == 11900);
  CHECK(StrOf(refund, "sku") == "MUG-12-BLU");
  CHECK(FieldOf(refund, "qty").d == 1.0);
  CHECK(StrOf(refund, "reason") == "Chipped handle");
  CHECK(StrOf(refund, "staff") == "0adfd74a-1b2c-11ef-e8a9-2c1a3f0b7e02");
}

TEST_CASE("a parked Lightspeed sale is not a closed sale", "[webhook][lightspeed]") {
  const auto run = Normalize("sale_update_parked.form");
  CHECK(run.events.empty());
  CHECK(run.out.note == "not a closed sale (status SAVED)");
}

TEST_CASE("Lightspeed inventory.update: the mug at Harbor St ends at 17", "[webhook][lightspeed]") {
  const auto run = Normalize("inventory_update.form");
  REQUIRE(run.events.size() == 1);
  const auto& inventory = run.events[0];
  CHECK(inventory.kind() == aisle::dsl::StreamKind::kInventory);
  CHECK(StrOf(inventory, "sku") == "MUG-12-BLU");
  CHECK(StrOf(inventory, "store") == "store-hb01");
  CHECK(FieldOf(inventory, "on_hand").d == 17.0);
  CHECK(TsOf(inventory) == "2025-03-16T19:05:04Z");  // no time in the payload: the receipt time
  CHECK(StrOf(inventory, "id") == run.out.delivery_id);
}

TEST_CASE("the Lightspeed type comes from the path before the form field", "[webhook][lightspeed]") {
  // The closed sale's form says type=sale.update; a path naming another type wins.
  const auto run = Normalize("sale_update_closed.form", "/webhooks/lightspeed/customer.update");
  CHECK(run.out.topic == "customer.update");
  CHECK(run.out.note == "topic customer.update ignored");
  CHECK(run.events.empty());
  // Without a type field, the path tells.
  const std::string payload = ReadPosFixture("lightspeed_x/inventory_update.form");
  const std::string form = payload.substr(0, payload.find("&type="));
  wh::Headers headers;
  const wh::Delivery delivery{"/webhooks/lightspeed/inventory.update", &headers, form, kNow};
  auto normalized = wh::NormalizeLightspeed(delivery, Config());
  REQUIRE(normalized);
  CHECK(normalized->events.size() == 1);
  CHECK(ErrorOf(form) == "cannot tell the webhook type: no 'type' form field and the path names none");
}

TEST_CASE("malformed Lightspeed bodies are errors naming the field", "[webhook][lightspeed]") {
  CHECK(ErrorOf("payload=%7B%2&type=sale.update") == "body is not form-encoded (a malformed % escape)");
  CHECK(ErrorOf("type=sale.update") == "form field 'payload' missing");
  CHECK(ErrorOf("payload=%7B&type=sale.update").rfind("payload: invalid JSON", 0) == 0);
  CHECK(ErrorOf("payload=%7B%22id%22%3A%22s1%22%2C%22status%22%3A%22CLOSED%22%7D&type=sale.update") ==
        "field 'register_id': missing");
  const std::string closed = ReadPosFixture("lightspeed_x/sale_update_closed.form");
  std::string bad_date = closed;
  const std::string date = "2025-03-14+14%3A31%3A07";
  bad_date.replace(bad_date.find(date), date.size(), "yesterday");
  CHECK(ErrorOf(bad_date).rfind("field 'sale_date'", 0) == 0);
  std::string bad_price = closed;
  const std::string price = "%22price%22%3A24%2C";
  bad_price.replace(bad_price.find(price), price.size(), "%22price%22%3Atrue%2C");
  CHECK(ErrorOf(bad_price) == "field 'register_sale_products[0].price': expected a string or number, got true");
}

TEST_CASE("a Lightspeed exchange (one line in, one back) stays a sale with a negative line", "[webhook][lightspeed]") {
  auto sale = nlohmann::json::parse(ReadPosFixture("lightspeed_x/sale_update_closed.payload.json"));
  sale["register_sale_products"][1]["quantity"] = -1;
  std::string form = "payload=";
  for (unsigned char c : sale.dump()) {
    if (std::isalnum(c) != 0) {
      form += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      form += buf;
    }
  }
  form += "&type=sale.update";
  wh::Headers headers;
  const wh::Delivery delivery{"/webhooks/lightspeed", &headers, form, kNow};
  auto normalized = wh::NormalizeLightspeed(delivery, Config());
  REQUIRE(normalized);
  const auto events = ParseEvents(normalized->events);
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind() == aisle::dsl::StreamKind::kSale);
  CHECK(FieldOf(events[0], "units").i == 0);  // 1 tote - 1 mug
  CHECK(FieldOf(events[2], "qty").d == -1.0);
  CHECK(UsdOf(events[2], "discount") == -16500);  // 1.65 x -1
  CHECK(UsdOf(events[0], "discount") == -16500);
}
