// Shopify webhooks against tests/fixtures/pos/shopify: every manifest delivery and negative case,
// and the canonical events checked against the README's hand figures (the Harbor St basket:
// 1 x TOTE-NAT-01 at 24.00, 2 x MUG-12-BLU at 16.50 less 10 %, 8 % tax; total 58.00).

#include <catch2/catch.hpp>

#include "connectors/webhooks/shopify.hpp"
#include "tests/connectors/webhook_fixtures.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

namespace wh = aisle::connectors::webhooks;
using namespace aisle::testing;  // NOLINT: test file

namespace {

constexpr const char* kSecret = "test-shopify-client-secret-DO-NOT-USE";

wh::PlatformConfig Config() {
  wh::PlatformConfig config;
  config.secrets = {kSecret};
  config.ids.stores["71234568001"] = "store-hb01";
  config.ids.skus["46001000222"] = "MUG-12-BLU";
  config.customer_key = "test-customer-key";
  return config;
}

struct Built {
  wh::Headers headers;
  std::string body;
  wh::Delivery delivery;
};

// The manifest delivery for `file`, optionally with another topic (and then re-signed).
void Build(Built& b, const std::string& file, const std::string& topic = {}, std::string body = {}) {
  const auto manifest = PosManifest("shopify");
  for (const auto& d : manifest["deliveries"]) {
    if (d["file"] != file) continue;
    b.body = body.empty() ? ReadPosFixture("shopify/" + file) : body;
    nlohmann::json overrides = nlohmann::json::object();
    if (!topic.empty()) overrides["X-Shopify-Topic"] = topic;
    if (!topic.empty() || !body.empty()) {
      overrides["X-Shopify-Hmac-Sha256"] = wh::Base64Of(wh::HmacSha256(kSecret, b.body));
    }
    b.headers = HeadersOf(d["headers"], overrides);
  }
  REQUIRE(!b.body.empty());
  b.delivery = wh::Delivery{"/webhooks/shopify", &b.headers, b.body, 1741962000LL * 1000000};
}

std::vector<aisle::engine::Event> Normalize(const wh::Delivery& delivery, wh::Normalized* out = nullptr) {
  const auto config = Config();
  REQUIRE(wh::AuthenticateShopify(delivery, config).ok());
  auto normalized = wh::NormalizeShopify(delivery, config);
  INFO((normalized ? std::string() : normalized.error().message));
  REQUIRE(normalized);
  if (out != nullptr) *out = *normalized;
  return ParseEvents(normalized->events);
}

}  // namespace

TEST_CASE("every Shopify manifest delivery authenticates and normalizes to parseable events", "[webhook][shopify]") {
  const auto manifest = PosManifest("shopify");
  const auto config = Config();
  REQUIRE(manifest["deliveries"].size() == 4);
  for (const auto& d : manifest["deliveries"]) {
    INFO(d["file"].get<std::string>());
    const std::string body = ReadPosFixture("shopify/" + d["file"].get<std::string>());
    CHECK(body.size() == d["bytes"].get<size_t>());
    CHECK(wh::Sha256Hex(body) == d["sha256"].get<std::string>());
    const auto headers = HeadersOf(d["headers"]);
    const wh::Delivery delivery{"/webhooks/shopify", &headers, body, 0};
    CHECK(wh::AuthenticateShopify(delivery, config).ok() == d["expected_valid"].get<bool>());
    auto normalized = wh::NormalizeShopify(delivery, config);
    REQUIRE(normalized);
    CHECK(normalized->delivery_id ==
          "shopify:harbor-goods-dev.myshopify.com:" + d["headers"]["X-Shopify-Webhook-Id"].get<std::string>());
    CHECK(normalized->topic == d["headers"]["X-Shopify-Topic"].get<std::string>());
    CHECK_FALSE(normalized->events.empty());
    for (const auto& e : ParseEvents(normalized->events)) CHECK(StrOf(e, "source") == "shopify");
  }
}

TEST_CASE("every Shopify negative case is rejected as a bad signature", "[webhook][shopify]") {
  const auto manifest = PosManifest("shopify");
  const auto config = Config();
  REQUIRE(manifest["negative_cases"].size() == 3);
  for (const auto& n : manifest["negative_cases"]) {
    INFO(n["description"].get<std::string>());
    std::string body = ReadPosFixture("shopify/" + n["file"].get<std::string>());
    if (n.contains("body_transform")) {
      REQUIRE(n["body_transform"] == "compact re-serialization");
      const std::string compact = nlohmann::json::parse(body).dump();
      REQUIRE(compact != body);
      body = compact;
    }
    nlohmann::json original;
    for (const auto& d : manifest["deliveries"]) {
      if (d["file"] == n["file"]) original = d["headers"];
    }
    const auto headers = HeadersOf(original, n["headers_override"]);
    const wh::Delivery delivery{"/webhooks/shopify", &headers, body, 0};
    const auto auth = wh::AuthenticateShopify(delivery, config);
    CHECK_FALSE(n["expected_valid"].get<bool>());
    CHECK(auth.status == wh::AuthStatus::kBad);
    CHECK(auth.reason.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("Shopify signatures: a changed byte, rotation, the unprefixed header, a missing header", "[webhook][shopify]") {
  Built b;
  Build(b, "orders_create.json");
  auto config = Config();
  CHECK(wh::AuthenticateShopify(b.delivery, config).ok());

  std::string changed = b.body;
  changed[changed.size() / 2] ^= 0x01;
  wh::Delivery tampered = b.delivery;
  tampered.body = changed;
  CHECK(wh::AuthenticateShopify(tampered, config).status == wh::AuthStatus::kBad);

  // During a rotation both secrets are configured, the new one first.
  config.secrets = {"the-new-secret", kSecret};
  CHECK(wh::AuthenticateShopify(b.delivery, config).ok());
  config.secrets = {"the-new-secret"};
  CHECK(wh::AuthenticateShopify(b.delivery, config).status == wh::AuthStatus::kBad);
  config.secrets = {};
  CHECK(wh::AuthenticateShopify(b.delivery, config).status == wh::AuthStatus::kBad);

  // The newer Events mechanism: the same headers without the X- prefix.
  wh::Headers unprefixed;
  for (const auto& [name, value] : b.headers.entries()) {
    unprefixed.Add(name.rfind("X-", 0) == 0 ? name.substr(2) : name, value);
  }
  wh::Delivery events = b.delivery;
  events.headers = &unprefixed;
  CHECK(wh::AuthenticateShopify(events, Config()).ok());
  auto normalized = wh::NormalizeShopify(events, Config());
  REQUIRE(normalized);
  CHECK(normalized->events.size() == 3);

  wh::Headers none;
  none.Add("X-Shopify-Topic", "orders/create");
  wh::Delivery bare = b.delivery;
  bare.headers = &none;
  CHECK(wh::AuthenticateShopify(bare, Config()).status == wh::AuthStatus::kMissing);
}

TEST_CASE("orders/create maps the Harbor St basket to a sale and two line items", "[webhook][shopify]") {
  Built b;
  Build(b, "orders_create.json");
  const auto events = Normalize(b.delivery);
  REQUIRE(events.size() == 3);
  const auto& sale = events[0];
  REQUIRE(sale.kind() == aisle::dsl::StreamKind::kSale);
  CHECK(StrOf(sale, "id") == "shopify:harbor-goods-dev.myshopify.com:order:5834451239105");
  CHECK(StrOf(sale, "store") == "store-hb01");
  // processed_at 10:22:31 at -04:00 is 14:22:31 UTC.
  CHECK(TsOf(sale) == "2025-03-14T14:22:31Z");
  CHECK(StrOf(sale, "order") == "5834451239105");
  CHECK(ExtraOf(sale, "order_name") == "#1042");
  // 24.00 + 2 x 16.50 = 57.00, less 10 % of the mugs (3.30) = 53.70; tax 8 % = 4.296 -> 4.30.
  CHECK(UsdOf(sale, "subtotal") == 537000);
  CHECK(UsdOf(sale, "discount") == 33000);
  CHECK(UsdOf(sale, "tax") == 43000);
  CHECK(UsdOf(sale, "total") == 580000);
  CHECK(StrOf(sale, "tender") == "card");  // shopify_payments
  CHECK(StrOf(sale, "channel") == "pos");
  CHECK(StrOf(sale, "status") == "completed");
  CHECK(StrOf(sale, "staff") == "90215432001");
  CHECK(FieldOf(sale, "units").i == 3);
  const std::string customer = StrOf(sale, "customer");
  CHECK(customer.rfind("c_", 0) == 0);
  CHECK(customer.size() == 18);
  CHECK(customer.find("7012345678901") == std::string::npos);

  const auto& tote = events[1];
  REQUIRE(tote.kind() == aisle::dsl::StreamKind::kLineItem);
  CHECK(StrOf(tote, "sku") == "TOTE-NAT-01");
  CHECK(FieldOf(tote, "line").i == 1);
  CHECK(FieldOf(tote, "qty").d == 1.0);
  CHECK(UsdOf(tote, "price") == 240000);
  CHECK(UsdOf(tote, "discount") == 0);
  CHECK(UsdOf(tote, "tax") == 19200);  // 8 % of 24.00
  const auto& mug = events[2];
  CHECK(StrOf(mug, "sku") == "MUG-12-BLU");
  CHECK(StrOf(mug, "id") == "shopify:harbor-goods-dev.myshopify.com:order:5834451239105:line:14523001002");
  CHECK(FieldOf(mug, "qty").d == 2.0);
  CHECK(UsdOf(mug, "price") == 165000);
  CHECK(UsdOf(mug, "discount") == 33000);  // 10 % of 33.00
  CHECK(UsdOf(mug, "tax") == 23800);       // 8 % of 29.70 = 2.376 -> 2.38
  // The lines add up to the sale: (24.00 + 33.00 - 3.30) = 53.70 and 1.92 + 2.38 = 4.30.
  CHECK(UsdOf(tote, "price") + 2 * UsdOf(mug, "price") - UsdOf(mug, "discount") == UsdOf(sale, "subtotal"));
  CHECK(UsdOf(tote, "tax") + UsdOf(mug, "tax") == UsdOf(sale, "tax"));
}

TEST_CASE("orders/paid of another order (#1043, cash, Cafe beans) is a sale too", "[webhook][shopify]") {
  Built b;
  Build(b, "orders_paid.json");
  const auto events = Normalize(b.delivery);
  REQUIRE(events.size() == 2);
  CHECK(StrOf(events[0], "order") == "5834451239188");
  CHECK(StrOf(events[0], "tender") == "cash");
  // Not in the store map: the location passes through prefixed.
  CHECK(StrOf(events[0], "store") == "shopify-location:71234568002");
  CHECK(UsdOf(events[0], "total") == 151200);  // 14.00 + 8 % = 15.12
  CHECK(StrOf(events[0], "customer") == "<absent>");  // customer null
  CHECK(StrOf(events[1], "sku") == "COF-CAFE-250");
}

TEST_CASE("an order sent as orders/create and orders/paid is one sale: same ids, the engine drops the second", "[webhook][shopify]") {
  Built create;
  Build(create, "orders_create.json");
  Built paid;
  Build(paid, "orders_create.json", "orders/paid");
  wh::Normalized first;
  wh::Normalized second;
  Normalize(create.delivery, &first);
  Normalize(paid.delivery, &second);
  CHECK(first.topic == "orders/create");
  CHECK(second.topic == "orders/paid");
  REQUIRE(first.events.size() == 3);
  CHECK(first.events == second.events);

  TempDir dir;
  {
    std::ofstream rules(dir / "r.aisle");
    rules << "metric sales = sale | key store | window tumbling 1d | agg n = count(), revenue = sum(total)\n"
             "rule each on sales\n  when n > 0\n  emit alert to \"ops\" message \"{n} {revenue:money}\"\n";
  }
  std::vector<std::string> lines = first.events;
  lines.insert(lines.end(), second.events.begin(), second.events.end());
  const auto run = RunLines(dir / "r.aisle", dir / "state", lines, true);
  REQUIRE(run.error.empty());
  // 6 lines pushed, the 3 of the second topic are duplicates.
  CHECK(run.stats.duplicates == 3);
  REQUIRE(run.emissions.size() == 1);
  CHECK(run.emissions[0].message == "1 58.00 USD");
}

TEST_CASE("an unpaid, a cancelled order and an unknown topic yield no events, with a note", "[webhook][shopify]") {
  std::string body = ReadPosFixture("shopify/orders_create.json");
  const std::string paid = "\"financial_status\": \"paid\"";
  body.replace(body.find(paid), paid.size(), "\"financial_status\": \"pending\"");
  Built pending;
  Build(pending, "orders_create.json", "orders/create", body);
  wh::Normalized out;
  CHECK(Normalize(pending.delivery, &out).empty());
  CHECK(out.note.find("not paid yet") != std::string::npos);

  std::string cancelled_body = ReadPosFixture("shopify/orders_create.json");
  const std::string not_cancelled = "\"cancelled_at\": null";
  cancelled_body.replace(cancelled_body.find(not_cancelled), not_cancelled.size(),
                         "\"cancelled_at\": \"2025-03-14T11:00:00-04:00\"");
  Built cancelled;
  Build(cancelled, "orders_create.json", "orders/create", cancelled_body);
  CHECK(Normalize(cancelled.delivery, &out).empty());
  CHECK(out.note.find("cancelled") != std::string::npos);

  Built other;
  Build(other, "orders_create.json", "products/update");
  CHECK(Normalize(other.delivery, &out).empty());
  CHECK(out.note == "topic products/update ignored");
}

TEST_CASE("refunds/create: one mug back, 16.04 with 1.19 tax, restocked", "[webhook][shopify]") {
  Built b;
  Build(b, "refunds_create.json");
  const auto events = Normalize(b.delivery);
  REQUIRE(events.size() == 1);
  const auto& refund = events[0];
  REQUIRE(refund.kind() == aisle::dsl::StreamKind::kRefund);
  CHECK(StrOf(refund, "id") == "shopify:harbor-goods-dev.myshopify.com:refund:930000111");
  CHECK(StrOf(refund, "order") == "5834451239105");  // the sale's order
  CHECK(StrOf(refund, "refund") == "930000111");
  CHECK(StrOf(refund, "store") == "store-hb01");
  CHECK(TsOf(refund) == "2025-03-16T19:05:12Z");  // 15:05:12 -04:00
  // One mug: 16.50 less 10 % = 14.85, plus 8 % tax 1.188 -> 1.19: 16.04.
  CHECK(UsdOf(refund, "amount") == 160400);
  CHECK(UsdOf(refund, "tax") == 11900);
  CHECK(StrOf(refund, "sku") == "MUG-12-BLU");
  CHECK(FieldOf(refund, "qty").d == 1.0);
  CHECK(FieldOf(refund, "restock").b);
  CHECK(StrOf(refund, "reason") == "Chipped handle");
  CHECK(StrOf(refund, "staff") == "90215432002");
}

TEST_CASE("inventory_levels/update: the mug at Harbor St ends at 17", "[webhook][shopify]") {
  Built b;
  Build(b, "inventory_levels_update.json");
  const auto events = Normalize(b.delivery);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind() == aisle::dsl::StreamKind::kInventory);
  CHECK(StrOf(events[0], "sku") == "MUG-12-BLU");  // inventory item 46001000222 through the map
  CHECK(StrOf(events[0], "store") == "store-hb01");
  CHECK(FieldOf(events[0], "on_hand").d == 17.0);
  CHECK(TsOf(events[0]) == "2025-03-16T19:05:13Z");
  // Unmapped, the item id passes through with its kind.
  auto config = Config();
  config.ids.skus.clear();
  auto normalized = wh::NormalizeShopify(b.delivery, config);
  REQUIRE(normalized);
  CHECK(StrOf(ParseEvents(normalized->events)[0], "sku") == "shopify-inventory-item:46001000222");
}

TEST_CASE("malformed Shopify bodies are errors naming the field", "[webhook][shopify]") {
  auto reason_of = [](const std::string& body, const std::string& topic = "orders/create") {
    Built b;
    Build(b, "orders_create.json", topic, body);
    auto normalized = wh::NormalizeShopify(b.delivery, Config());
    REQUIRE_FALSE(normalized);
    return normalized.error().message;
  };
  std::string body = ReadPosFixture("shopify/orders_create.json");
  const std::string total = "\"total_price\": \"58.00\"";
  std::string bad_total = body;
  bad_total.replace(bad_total.find(total), total.size(), "\"total_price\": \"fifty-eight\"");
  CHECK(reason_of(bad_total) == "field 'total_price': expected a decimal amount, got \"fifty-eight\"");
  CHECK(reason_of(body.substr(0, body.size() / 2)).rfind("invalid JSON", 0) == 0);
  std::string bad_currency = body;
  const std::string currency = "\"currency\": \"USD\",\n  \"current_subtotal_price\"";
  bad_currency.replace(bad_currency.find(currency), 17, "\"currency\": \"usd\"");
  CHECK(reason_of(bad_currency) == "field 'currency': expected a 3-letter ISO 4217 code, got \"usd\"");
  CHECK(reason_of("[1, 2]") == "body is not a JSON object");
  CHECK(reason_of("{\"id\": 1}", "refunds/create") == "field 'order_id': missing");
  CHECK(reason_of("{\"inventory_item_id\": 1, \"location_id\": 2, \"available\": 3, \"updated_at\": \"soon\"}",
                  "inventory_levels/update") == "field 'updated_at': expected an RFC 3339 timestamp, got \"soon\"");
}

TEST_CASE("a refund of two lines is still one refund: amounts summed, no sku", "[webhook][shopify]") {
  auto refund = nlohmann::json::parse(ReadPosFixture("shopify/refunds_create.json"));
  // Add the tote (24.00 + 1.92 tax) not put back in stock; the transaction grows by 25.92.
  auto tote = refund["refund_line_items"][0];
  tote["id"] = 610000112;
  tote["line_item_id"] = 14523001001;
  tote["restock_type"] = "no_restock";
  tote["subtotal"] = 24.00;
  tote["total_tax"] = 1.92;
  tote["line_item"]["sku"] = "TOTE-NAT-01";
  refund["refund_line_items"].push_back(tote);
  refund["transactions"][0]["amount"] = "41.96";
  Built b;
  Build(b, "refunds_create.json", "refunds/create", refund.dump());
  const auto events = Normalize(b.delivery);
  REQUIRE(events.size() == 1);
  CHECK(UsdOf(events[0], "amount") == 419600);  // 16.04 + 25.92
  CHECK(UsdOf(events[0], "tax") == 31100);      // 1.19 + 1.92
  CHECK(FieldOf(events[0], "qty").d == 2.0);
  CHECK(FieldOf(events[0], "restock").b);  // the mug went back
  CHECK(StrOf(events[0], "sku") == "<absent>");
}
