#include "connectors/webhooks/lightspeed.hpp"

// Assumptions (see tests/fixtures/pos/README.md, "Open questions")
// - Signature (unverified, question 1): `X-Signature: signature=<hex>, algorithm=HMAC-SHA256`,
//   HMAC-SHA256 of the raw form body keyed with the app client_secret. Items may come in any
//   order; an `algorithm` other than HMAC-SHA256 is refused. Until confirmed against a live
//   delivery, deploy with a source-IP allow list or a secret path token as well.
// - The webhook type is taken from the URL path (one URL per type, e.g.
//   /webhooks/lightspeed/sale.update), else from the `type` form field, which the docs do not
//   promise (question 1).
// - A return is a CLOSED sale whose quantities are all negative (or zero): it becomes one
//   `refund` (amount = -totals.total_payment, tax = -total_tax) linked to `return_for` (question
//   2: not confirmed in the 1.0 payload; without it the refund has no order). A sale mixing
//   positive and negative quantities (an exchange) stays a sale whose returned lines carry
//   negative qty.
// - Closed statuses: CLOSED, ONACCOUNT_CLOSED, LAYBY_CLOSED. Anything else (SAVED = parked,
//   ONACCOUNT, LAYBY, VOIDED, ...) is "not a closed sale" and yields no events.
// - sale.update can fire again for the same sale: every event id derives from the sale id, so a
//   later update of a sale already counted is dropped by the engine's dedup.
// - inventory.update fields (question 2) are the 1.0 inventory record: outlet_id, product_id,
//   count (absolute), product.sku. The payload has no time: the event time is the receipt time.
// - The store is config.ids.StoreOf("lightspeed-register", register_id) for sales (the register
//   -> outlet map lives in the id map) and StoreOf("lightspeed-outlet", outlet_id) for inventory.
// - Currency is config.default_currency (a retailer setting, not in the payload).
// - Tender labels: "cash" -> cash, "gift"/"voucher" -> gift_card, "card"/"credit"/"debit"/"eftpos"
//   -> card (case-insensitive substrings), two or more different tenders -> split, else other.

#include <algorithm>
#include <cctype>
#include <set>

#include "connectors/webhooks/normalize_support.hpp"
#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors::webhooks {

namespace {

using json = connectors::json::JsonValue;
using support::EventWriter;

constexpr std::string_view kSource = "lightspeed";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string TenderOf(const json& sale) {
  std::set<std::string> kinds;
  const json& payments = support::ArrayOrEmpty(sale, "register_sale_payments", "register_sale_payments");
  for (size_t i = 0; i < payments.size(); ++i) {
    const std::string what = "register_sale_payments[" + std::to_string(i) + "]";
    auto label = support::OptText(payments[i], "name", what + ".name");
    if (!label) label = support::OptText(payments[i], "label", what + ".label");
    const std::string name = Lower(label.value_or(""));
    auto has = [&](std::string_view word) { return name.find(word) != std::string::npos; };
    if (has("cash")) {
      kinds.insert("cash");
    } else if (has("gift") || has("voucher")) {
      kinds.insert("gift_card");
    } else if (has("card") || has("credit") || has("debit") || has("eftpos")) {
      kinds.insert("card");
    } else {
      kinds.insert("other");
    }
  }
  if (kinds.empty()) return {};
  if (kinds.size() > 1) return "split";
  return *kinds.begin();
}

// "2025-03-14 14:31:07" is UTC without an offset.
int64_t SaleTime(const json& sale) {
  std::string text = support::Text(sale, "sale_date", "sale_date");
  const bool has_zone = text.size() > 19;
  auto micros = dsl::ParseTimestamp(has_zone ? text : text + "Z");
  if (!micros) throw support::FieldError("field 'sale_date': expected \"YYYY-MM-DD HH:MM:SS\" (UTC), got \"" + text + "\"");
  return *micros;
}

bool IsClosed(std::string_view status) {
  return status == "CLOSED" || status == "ONACCOUNT_CLOSED" || status == "LAYBY_CLOSED";
}

struct Line {
  std::string what;
  const json* object;
  std::string qty;   // decimal text
  int64_t qty_units;  // 1/10,000
};

void NormalizeSale(const json& sale, const PlatformConfig& config, Normalized& out) {
  const std::string sale_id = support::Text(sale, "id", "id");
  const std::string status = support::Text(sale, "status", "status");
  if (!IsClosed(status)) {
    out.note = "not a closed sale (status " + status + ")";
    return;
  }
  const std::string& currency = config.default_currency;
  const std::string store = config.ids.StoreOf("lightspeed-register", support::Text(sale, "register_id", "register_id"));
  const int64_t ts = SaleTime(sale);
  const auto staff = support::OptText(sale, "user_id", "user_id");
  const json& totals = support::Member(sale, "totals", "totals");

  std::vector<Line> lines;
  bool any_positive = false;
  bool any_negative = false;
  const json& products = support::ArrayOrEmpty(sale, "register_sale_products", "register_sale_products");
  for (size_t i = 0; i < products.size(); ++i) {
    Line line{"register_sale_products[" + std::to_string(i) + "]", &products[i], {}, 0};
    line.qty = support::DecimalText(products[i], "quantity", line.what + ".quantity");
    const auto qty_units = dsl::ParseMoneyUnits(line.qty);  // canonical text: always parses
    if (!qty_units) throw support::FieldError("field '" + line.what + ".quantity': out of range");
    line.qty_units = *qty_units;
    any_positive = any_positive || line.qty_units > 0;
    any_negative = any_negative || line.qty_units < 0;
    lines.push_back(std::move(line));
  }

  if (any_negative && !any_positive) {
    // A return: one refund for the whole return sale.
    EventWriter refund("refund", "lightspeed:refund:" + sale_id, store, ts, kSource);
    refund.OptStr("order", support::OptText(sale, "return_for", "return_for"))
        .Str("refund", sale_id)
        .Money("amount", support::Negate(support::Money(totals, "total_payment", "totals.total_payment"), "totals.total_payment"), currency)
        .Money("tax", support::Negate(support::Money(sale, "total_tax", "total_tax"), "total_tax"), currency)
        .OptStr("reason", support::OptText(sale, "note", "note"))
        .OptStr("staff", staff);
    int64_t units = 0;
    for (const Line& line : lines) units = support::Add(units, support::Negate(line.qty_units, line.what), line.what);
    if (lines.size() == 1) {
      const json& product = *lines[0].object;
      auto sku = support::OptText(product, "sku", lines[0].what + ".sku");
      if (!sku || sku->empty()) {
        sku = config.ids.SkuOf("lightspeed-product", support::Text(product, "product_id", lines[0].what + ".product_id"));
      }
      refund.Str("sku", *sku);
    }
    if (!lines.empty()) refund.Decimal("qty", dsl::FormatUnits(units, units % 10000 == 0 ? 0 : 4));
    out.events.push_back(refund.Finish());
    return;
  }

  const std::string base = "lightspeed:sale:" + sale_id;
  int64_t discount_total = 0;
  int64_t units = 0;
  bool whole_units = true;
  std::vector<std::string> line_events;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const json& product = *line.object;
    const int64_t price = support::Money(product, "price", line.what + ".price");
    const int64_t unit_discount = support::OptMoney(product, "discount", line.what + ".discount").value_or(0);
    // Lightspeed's `price` is after the discount: the list price adds it back.
    const int64_t discount = support::TimesQuantity(unit_discount, line.qty, line.what + ".discount");
    discount_total = support::Add(discount_total, discount, line.what + ".discount");
    units = support::Add(units, line.qty_units, line.what + ".quantity");
    whole_units = whole_units && line.qty_units % 10000 == 0;
    auto sku = support::OptText(product, "sku", line.what + ".sku");
    const auto product_id = support::OptText(product, "product_id", line.what + ".product_id");
    if ((!sku || sku->empty()) && product_id) sku = config.ids.SkuOf("lightspeed-product", *product_id);
    const std::string line_id = support::Text(product, "id", line.what + ".id");
    EventWriter event("line_item", base + ":line:" + line_id, store, ts, kSource);
    event.Str("order", sale_id)
        .Int("line", static_cast<int64_t>(i) + 1)
        .OptStr("sku", sku)
        .OptStr("product", product_id)
        .Decimal("qty", line.qty)
        .Money("price", support::Add(price, unit_discount, line.what + ".price"), currency)
        .Money("discount", discount, currency)
        .Money("tax", support::OptMoney(product, "tax_total", line.what + ".tax_total").value_or(0), currency)
        .OptStr("staff", staff)
        .Str("line_ref", line_id);
    line_events.push_back(event.Finish());
  }

  std::optional<std::string> customer_id = support::OptText(sale, "customer_id", "customer_id");
  EventWriter event("sale", base, store, ts, kSource);
  event.Str("order", sale_id)
      .Money("total", support::Money(totals, "total_payment", "totals.total_payment"), currency)
      .Money("subtotal", support::Money(sale, "total_price", "total_price"), currency)
      .Money("discount", discount_total, currency)
      .Money("tax", support::Money(sale, "total_tax", "total_tax"), currency);
  const std::string tender = TenderOf(sale);
  if (!tender.empty()) event.Str("tender", tender);
  event.OptStr("staff", staff)
      .OptStr("customer", support::CustomerRef(config, kSource, customer_id))
      .Str("channel", "pos")
      .Str("status", "completed");
  if (whole_units) event.Int("units", units / 10000);
  event.OptStr("order_name", support::OptText(sale, "invoice_number", "invoice_number"));
  out.events.push_back(event.Finish());
  for (std::string& line : line_events) out.events.push_back(std::move(line));
}

void NormalizeInventory(const json& record, const PlatformConfig& config, int64_t now_us,
                        Normalized& out) {
  const std::string outlet = support::Text(record, "outlet_id", "outlet_id");
  std::optional<std::string> sku;
  if (const json* product = support::OptMember(record, "product")) {
    sku = support::OptText(*product, "sku", "product.sku");
  }
  if (!sku || sku->empty()) {
    sku = config.ids.SkuOf("lightspeed-product", support::Text(record, "product_id", "product_id"));
  }
  // No time and no delivery id in the payload: the content hash (the delivery id) names this state.
  EventWriter event("inventory", out.delivery_id, config.ids.StoreOf("lightspeed-outlet", outlet),
                    now_us, kSource);
  event.Str("sku", *sku).Decimal("on_hand", support::DecimalText(record, "count", "count"));
  out.events.push_back(event.Finish());
}

}  // namespace

AuthResult AuthenticateLightspeed(const Delivery& delivery, const PlatformConfig& config) {
  const auto header = support::FindHeader(delivery, {"X-Signature"});
  if (!header || header->empty()) return {AuthStatus::kMissing, "no X-Signature header"};
  const auto params = support::ParseParams(*header, ',');
  if (!params) return {AuthStatus::kBad, "X-Signature does not parse"};
  std::optional<std::string> digest;
  for (const auto& [name, value] : *params) {
    if (name == "algorithm" && Lower(value) != "hmac-sha256") {
      return {AuthStatus::kBad, "X-Signature algorithm is not HMAC-SHA256"};
    }
    if (name == "signature" && !digest) digest = support::FromHex(value);
  }
  if (!digest || digest->size() != 32) {
    return {AuthStatus::kBad, "X-Signature has no hex SHA-256 signature"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no Lightspeed secret configured"};
  for (const std::string& secret : config.secrets) {
    if (ConstantTimeEqual(HmacSha256(secret, delivery.body), *digest)) return {};
  }
  return {AuthStatus::kBad, "X-Signature matches no configured secret"};
}

Result<Normalized> NormalizeLightspeed(const Delivery& delivery, const PlatformConfig& config) {
  try {
    const auto form = support::ParseForm(delivery.body);
    if (!form) return Error{"body is not form-encoded (a malformed % escape)"};
    const std::string* payload = nullptr;
    const std::string* type_field = nullptr;
    for (const auto& [name, value] : *form) {
      if (name == "payload" && payload == nullptr) payload = &value;
      if (name == "type" && type_field == nullptr) type_field = &value;
    }
    std::string type;
    const std::string_view path = delivery.path;
    const std::string_view last = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
    if (last.find('.') != std::string_view::npos) {
      type = std::string(last);
    } else if (type_field != nullptr) {
      type = *type_field;
    } else {
      return Error{"cannot tell the webhook type: no 'type' form field and the path names none"};
    }
    if (payload == nullptr) return Error{"form field 'payload' missing"};

    Normalized out;
    out.topic = type;
    out.delivery_id = "lightspeed:" + Sha256Hex(type + ":" + *payload);
    if (type != "sale.update" && type != "inventory.update") {
      out.note = "topic " + type + " ignored";
      return out;
    }
    auto body = support::ParseJsonKeepingNumberText(*payload);
    if (!body) return Error{"payload: " + body.error().message};
    if (!body->root().is_object()) return Error{"payload is not a JSON object"};
    if (type == "sale.update") {
      NormalizeSale(body->root(), config, out);
    } else {
      NormalizeInventory(body->root(), config, delivery.now_us, out);
    }
    return out;
  } catch (const std::exception& e) {
    return Error{e.what()};
  } catch (...) {
    return Error{"internal error"};
  }
}

}  // namespace aisle::connectors::webhooks
