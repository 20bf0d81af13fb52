#include "connectors/webhooks/shopify.hpp"

// Assumptions (see tests/fixtures/pos/README.md, "Open questions")
// - The newer "Events" delivery sends the same headers without the `X-` prefix
//   (shopify-hmac-sha256, shopify-topic, shopify-shop-domain, shopify-webhook-id,
//   shopify-event-id); either spelling is accepted. When no webhook id is sent, the event id
//   stands in for it in the delivery id.
// - Webhooks sent by hand from a store admin's Notifications page are not signed with the app
//   secret [S6]; they fail authentication like any other bad signature.
// - An order is a sale once paid: orders/create and orders/paid both map a paid order to the same
//   event ids (derived from shop + order id), so whichever arrives second is dropped by the
//   engine's dedup. An order created unpaid (financial_status pending/authorized) yields no event
//   until orders/paid; a cancelled or voided order yields none.
// - `payment_gateway_names` carries labels only: "cash" -> cash, "gift_card" -> gift_card,
//   "shopify_payments" and other processors -> card, two or more different tenders -> split.
// - One `refund` event per refund, whatever its number of lines (rules count refunds): amount =
//   the successful refund transactions (or, without any, the lines' subtotal + tax), tax = the
//   lines' tax; sku/qty/restock only when the refund has exactly one line (several lines: qty is
//   their sum, restock true when any line goes back to stock, no sku).
// - Staff ids are Shopify user ids as text (no staff map in the contract).
// - An order without a location_id (online) is stored under StoreOf("shopify-shop", domain).

#include <set>

#include "connectors/webhooks/normalize_support.hpp"

namespace aisle::connectors::webhooks {

namespace {

using json = connectors::json::JsonValue;
using support::EventWriter;
using support::FieldError;

constexpr std::string_view kSource = "shopify";

struct Context {
  const Delivery& delivery;
  const PlatformConfig& config;
  std::string shop;
  Normalized out;
};

std::string Tender(const json& order) {
  std::set<std::string> kinds;
  for (const json& name : support::ArrayOrEmpty(order, "payment_gateway_names", "payment_gateway_names")) {
    if (!name.is_string()) continue;
    const std::string label(name.text());
    if (label == "cash") {
      kinds.insert("cash");
    } else if (label == "gift_card") {
      kinds.insert("gift_card");
    } else if (label == "manual" || label.empty()) {
      kinds.insert("other");
    } else {
      kinds.insert("card");
    }
  }
  if (kinds.empty()) return {};
  if (kinds.size() > 1) return "split";
  return *kinds.begin();
}

std::string StoreOf(const Context& ctx, const json& object, std::string_view what) {
  if (auto location = support::OptText(object, "location_id", what)) {
    return ctx.config.ids.StoreOf("shopify-location", *location);
  }
  return ctx.config.ids.StoreOf("shopify-shop", ctx.shop);
}

std::string SkuOfLine(const Context& ctx, const json& line, const std::string& what) {
  if (auto sku = support::OptText(line, "sku", what + ".sku"); sku && !sku->empty()) return *sku;
  if (auto variant = support::OptText(line, "variant_id", what + ".variant_id")) {
    return ctx.config.ids.SkuOf("shopify-variant", *variant);
  }
  return {};
}

// orders/create and orders/paid: the same ids for the same order, whichever topic brings it.
void NormalizeOrder(Context& ctx, const json& order) {
  const std::string order_id = support::Text(order, "id", "id");
  const std::string financial = support::OptText(order, "financial_status", "financial_status").value_or("");
  if (support::OptMember(order, "cancelled_at") != nullptr || financial == "voided") {
    ctx.out.note = "order " + order_id + " is cancelled or voided: no sale";
    return;
  }
  if (financial != "paid" && financial != "partially_paid" && financial != "partially_refunded" &&
      financial != "refunded") {
    ctx.out.note = "order " + order_id + " not paid yet (financial_status '" + financial +
                   "'): the sale comes with orders/paid";
    return;
  }
  const std::string currency = support::CurrencyCode(order, "currency", "currency");
  const std::string store = StoreOf(ctx, order, "location_id");
  const char* ts_key = support::OptMember(order, "processed_at") != nullptr ? "processed_at" : "created_at";
  const int64_t ts = support::Timestamp(order, ts_key, ts_key);
  const auto staff = support::OptText(order, "user_id", "user_id");
  const std::string base = "shopify:" + ctx.shop + ":order:" + order_id;
  std::optional<std::string> customer_id;
  if (const json* customer = support::OptMember(order, "customer")) {
    customer_id = support::OptText(*customer, "id", "customer.id");
  }
  const std::string source_name = support::OptText(order, "source_name", "source_name").value_or("");

  const json& lines = support::ArrayOrEmpty(order, "line_items", "line_items");
  int64_t units = 0;
  std::vector<std::string> line_events;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& line = lines[i];
    const std::string what = "line_items[" + std::to_string(i) + "]";
    const std::string line_id = support::Text(line, "id", what + ".id");
    const int64_t qty = support::Integer(line, "quantity", what + ".quantity");
    units = support::Add(units, qty, what + ".quantity");
    int64_t discount = 0;
    const json& allocations = support::ArrayOrEmpty(line, "discount_allocations", what + ".discount_allocations");
    for (size_t k = 0; k < allocations.size(); ++k) {
      const std::string item = what + ".discount_allocations[" + std::to_string(k) + "].amount";
      discount = support::Add(discount, support::Money(allocations[k], "amount", item), item);
    }
    int64_t tax = 0;
    const json& tax_lines = support::ArrayOrEmpty(line, "tax_lines", what + ".tax_lines");
    for (size_t k = 0; k < tax_lines.size(); ++k) {
      const std::string item = what + ".tax_lines[" + std::to_string(k) + "].price";
      tax = support::Add(tax, support::Money(tax_lines[k], "price", item), item);
    }
    EventWriter event("line_item", base + ":line:" + line_id, store, ts, kSource);
    event.Str("order", order_id).Int("line", static_cast<int64_t>(i) + 1);
    const std::string sku = SkuOfLine(ctx, line, what);
    if (!sku.empty()) event.Str("sku", sku);
    event.OptStr("product", support::OptText(line, "product_id", what + ".product_id"))
        .Decimal("qty", std::to_string(qty))
        .Money("price", support::Money(line, "price", what + ".price"), currency)
        .Money("discount", discount, currency)
        .Money("tax", tax, currency)
        .OptStr("staff", staff)
        .Str("line_ref", line_id);
    line_events.push_back(event.Finish());
  }

  EventWriter sale("sale", base, store, ts, kSource);
  sale.Str("order", order_id)
      .Money("total", support::Money(order, "total_price", "total_price"), currency)
      .Money("subtotal", support::Money(order, "subtotal_price", "subtotal_price"), currency)
      .Money("discount", support::OptMoney(order, "total_discounts", "total_discounts").value_or(0), currency)
      .Money("tax", support::OptMoney(order, "total_tax", "total_tax").value_or(0), currency);
  const std::string tender = Tender(order);
  if (!tender.empty()) sale.Str("tender", tender);
  sale.OptStr("staff", staff)
      .OptStr("customer", support::CustomerRef(ctx.config, kSource, customer_id))
      .Str("channel", source_name == "pos" ? "pos" : "online")
      .Str("status", "completed")
      .Int("units", units)
      .OptStr("order_name", support::OptText(order, "name", "name"));
  ctx.out.events.push_back(sale.Finish());
  for (std::string& line : line_events) ctx.out.events.push_back(std::move(line));
}

void NormalizeRefund(Context& ctx, const json& refund) {
  const std::string refund_id = support::Text(refund, "id", "id");
  const std::string order_id = support::Text(refund, "order_id", "order_id");
  const char* ts_key = support::OptMember(refund, "processed_at") != nullptr ? "processed_at" : "created_at";
  const int64_t ts = support::Timestamp(refund, ts_key, ts_key);
  std::string currency;
  std::string store;
  bool have_transaction = false;
  int64_t amount = 0;
  const json& transactions = support::ArrayOrEmpty(refund, "transactions", "transactions");
  for (size_t i = 0; i < transactions.size(); ++i) {
    const json& t = transactions[i];
    const std::string what = "transactions[" + std::to_string(i) + "]";
    if (support::OptText(t, "kind", what + ".kind").value_or("") != "refund") continue;
    const std::string status = support::OptText(t, "status", what + ".status").value_or("success");
    if (status != "success") continue;
    amount = support::Add(amount, support::Money(t, "amount", what + ".amount"), what + ".amount");
    have_transaction = true;
    if (currency.empty() && support::OptMember(t, "currency") != nullptr) {
      currency = support::CurrencyCode(t, "currency", what + ".currency");
    }
    if (store.empty() && support::OptMember(t, "location_id") != nullptr) store = StoreOf(ctx, t, what + ".location_id");
  }

  const json& lines = support::ArrayOrEmpty(refund, "refund_line_items", "refund_line_items");
  int64_t tax = 0;
  int64_t lines_amount = 0;
  int64_t qty = 0;
  bool restock = false;
  std::string sku;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& line = lines[i];
    const std::string what = "refund_line_items[" + std::to_string(i) + "]";
    const int64_t line_tax = support::OptMoney(line, "total_tax", what + ".total_tax").value_or(0);
    tax = support::Add(tax, line_tax, what + ".total_tax");
    lines_amount = support::Add(lines_amount, line_tax, what + ".total_tax");
    lines_amount = support::Add(lines_amount, support::OptMoney(line, "subtotal", what + ".subtotal").value_or(0),
                                what + ".subtotal");
    qty = support::Add(qty, support::Integer(line, "quantity", what + ".quantity"), what + ".quantity");
    const std::string restock_type = support::OptText(line, "restock_type", what + ".restock_type").value_or("");
    restock = restock || (!restock_type.empty() && restock_type != "no_restock");
    if (store.empty() && support::OptMember(line, "location_id") != nullptr) store = StoreOf(ctx, line, what + ".location_id");
    if (currency.empty()) {
      if (const json* set = support::OptMember(line, "subtotal_set")) {
        if (const json* shop_money = support::OptMember(*set, "shop_money")) {
          if (support::OptMember(*shop_money, "currency_code") != nullptr) {
            currency = support::CurrencyCode(*shop_money, "currency_code", what + ".subtotal_set.shop_money.currency_code");
          }
        }
      }
    }
    if (lines.size() == 1) {
      if (const json* item = support::OptMember(line, "line_item")) sku = SkuOfLine(ctx, *item, what + ".line_item");
    }
  }
  if (currency.empty()) currency = ctx.config.default_currency;
  if (store.empty()) store = ctx.config.ids.StoreOf("shopify-shop", ctx.shop);
  if (!have_transaction) amount = lines_amount;

  EventWriter event("refund", "shopify:" + ctx.shop + ":refund:" + refund_id, store, ts, kSource);
  event.Str("order", order_id)
      .Str("refund", refund_id)
      .Money("amount", amount, currency)
      .Money("tax", tax, currency)
      .OptStr("reason", support::OptText(refund, "note", "note"))
      .OptStr("staff", support::OptText(refund, "user_id", "user_id"));
  if (!sku.empty()) event.Str("sku", sku);
  if (!lines.empty()) event.Decimal("qty", std::to_string(qty)).Bool("restock", restock);
  ctx.out.events.push_back(event.Finish());
}

void NormalizeInventoryLevel(Context& ctx, const json& level) {
  const std::string item = support::Text(level, "inventory_item_id", "inventory_item_id");
  const std::string location = support::Text(level, "location_id", "location_id");
  const auto available = support::OptText(level, "available", "available");
  if (!available) {
    ctx.out.note = "inventory item " + item + " is not tracked at location " + location;
    return;
  }
  const std::string updated_at = support::Text(level, "updated_at", "updated_at");
  const int64_t ts = support::Timestamp(level, "updated_at", "updated_at");
  // The level has no id of its own: item, location and the update time name this state.
  EventWriter event("inventory",
                    "shopify:" + ctx.shop + ":inventory:" + item + ":" + location + ":" + updated_at,
                    ctx.config.ids.StoreOf("shopify-location", location), ts, kSource);
  event.Str("sku", ctx.config.ids.SkuOf("shopify-inventory-item", item))
      .Decimal("on_hand", support::DecimalText(level, "available", "available"));
  ctx.out.events.push_back(event.Finish());
}

}  // namespace

AuthResult AuthenticateShopify(const Delivery& delivery, const PlatformConfig& config) {
  const auto header = support::FindHeader(delivery, {"X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256"});
  if (!header || header->empty()) return {AuthStatus::kMissing, "no X-Shopify-Hmac-Sha256 header"};
  const auto digest = FromBase64(*header);
  if (!digest || digest->size() != 32) {
    return {AuthStatus::kBad, "X-Shopify-Hmac-Sha256 is not a base64 SHA-256 digest"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no Shopify secret configured"};
  for (const std::string& secret : config.secrets) {
    if (ConstantTimeEqual(HmacSha256(secret, delivery.body), *digest)) return {};
  }
  return {AuthStatus::kBad, "X-Shopify-Hmac-Sha256 matches no configured secret"};
}

Result<Normalized> NormalizeShopify(const Delivery& delivery, const PlatformConfig& config) {
  try {
    const auto topic = support::FindHeader(delivery, {"X-Shopify-Topic", "Shopify-Topic"});
    if (!topic || topic->empty()) return Error{"missing header X-Shopify-Topic"};
    const auto shop = support::FindHeader(delivery, {"X-Shopify-Shop-Domain", "Shopify-Shop-Domain"});
    if (!shop || shop->empty()) return Error{"missing header X-Shopify-Shop-Domain"};
    auto webhook_id = support::FindHeader(delivery, {"X-Shopify-Webhook-Id", "Shopify-Webhook-Id"});
    if (!webhook_id || webhook_id->empty()) {
      webhook_id = support::FindHeader(delivery, {"X-Shopify-Event-Id", "Shopify-Event-Id"});
    }
    if (!webhook_id || webhook_id->empty()) return Error{"missing header X-Shopify-Webhook-Id"};

    Context ctx{delivery, config, std::string(*shop), {}};
    ctx.out.delivery_id = "shopify:" + ctx.shop + ":" + std::string(*webhook_id);
    ctx.out.topic = std::string(*topic);
    const bool order = *topic == "orders/create" || *topic == "orders/paid";
    const bool refund = *topic == "refunds/create";
    const bool inventory = *topic == "inventory_levels/update";
    if (!order && !refund && !inventory) {
      ctx.out.note = "topic " + ctx.out.topic + " ignored";
      return std::move(ctx.out);
    }
    auto body = support::ParseJsonKeepingNumberText(delivery.body);
    if (!body) return body.error();
    if (!body->root().is_object()) return Error{"body is not a JSON object"};
    if (order) NormalizeOrder(ctx, body->root());
    if (refund) NormalizeRefund(ctx, body->root());
    if (inventory) NormalizeInventoryLevel(ctx, body->root());
    return std::move(ctx.out);
  } catch (const std::exception& e) {
    return Error{e.what()};
  } catch (...) {
    return Error{"internal error"};
  }
}

}  // namespace aisle::connectors::webhooks
