#include "connectors/webhooks/square.hpp"

#include <string>
#include <vector>

#include "connectors/webhooks/json_fields.hpp"
#include "dsl/money.hpp"

// Assumptions (see tests/fixtures/pos/README.md, "Open questions")
// - Square's retry window is 24 h or 72 h (the docs disagree): we do not reject old deliveries by
//   `created_at`; the server's dedup on delivery_id ("square:" + event_id) absorbs redeliveries.
// - The `square-version` header is not among the documented delivery headers: the body's shape is
//   read defensively (every field we need is checked and named in errors), not by version.
// - labor.shift.* duplicates labor.timecard.* for the same work period: shift events are ignored
//   and timecards are the only source of `shift` events.
// - order.created is documented as fired by CreateOrder only (never the POS app): it is handled
//   like order.updated, and both yield the sale only for a COMPLETED order.
// - A refund's item-level data lives in its return order (`returns[]`, `return_amounts`): the
//   first return's `source_order_id` is taken as the original order.

namespace aisle::connectors::webhooks {

namespace {

constexpr std::string_view kSource = "square";
constexpr std::string_view kNeedsApi = "needs the Square API (configure square.api)";

using nlohmann::json;

using json_fields::Dump;
using json_fields::Wrap;

struct Money {
  int64_t amount = 0;
  std::string currency;
};

Money MoneyField(const json& object, std::string_view key, std::string_view path) {
  const std::string here = std::string(path) + "." + std::string(key);
  const json& money = Member(object, key, path);
  const int64_t amount = IntField(money, "amount", here);
  // 10^15 minor units (10^13 dollars) is past any real amount and keeps sums from overflowing.
  constexpr int64_t kLimit = 1'000'000'000'000'000;
  if (amount > kLimit || amount < -kLimit) throw FieldError("field '" + here + ".amount': out of range");
  return Money{amount, StringField(money, "currency", here)};
}

std::optional<Money> OptionalMoney(const json& object, std::string_view key, std::string_view path) {
  if (OptionalMember(object, key, path) == nullptr) return std::nullopt;
  return MoneyField(object, key, path);
}

std::string Text(const Money& money, std::string_view path) {
  return MinorUnitsText(money.amount, money.currency, path);
}

// Square tender types -> canonical tender.
std::string TenderOf(const json& order) {
  const json* tenders = OptionalMember(order, "tenders", "order");
  if (tenders == nullptr || !tenders->is_array() || tenders->empty()) return "other";
  if (tenders->size() > 1) return "split";
  const std::string type = OptionalString((*tenders)[0], "type", "order.tenders[0]");
  if (type == "CARD") return "card";
  if (type == "CASH") return "cash";
  if (type == "SQUARE_GIFT_CARD") return "gift_card";
  if (type == "WALLET") return "wallet";
  return "other";
}

// The sale and its line items from a RetrieveOrder response, or a note when it is not COMPLETED.
struct OrderEvents {
  std::vector<std::string> events;
  std::string note;
};

OrderEvents EventsFromOrder(std::string_view order_body, const PlatformConfig& config,
                            const std::string& staff) {
  const json response = ParseJson(order_body, "the RetrieveOrder response");
  const json& order = Member(response, "order", "");
  const std::string order_id = StringField(order, "id", "order");
  const std::string state = StringField(order, "state", "order");
  if (state != "COMPLETED") return {{}, "order " + order_id + " is " + state + ": no sale until COMPLETED"};
  const std::string store = config.ids.StoreOf("square-location", StringField(order, "location_id", "order"));
  std::string when = OptionalString(order, "closed_at", "order");
  if (when.empty()) when = StringField(order, "updated_at", "order");
  const std::string ts = UtcTimestamp(when, "order.closed_at");

  const Money total = MoneyField(order, "total_money", "order");
  const Money tax = OptionalMoney(order, "total_tax_money", "order").value_or(Money{0, total.currency});
  const Money discount =
      OptionalMoney(order, "total_discount_money", "order").value_or(Money{0, total.currency});
  const Money tip = OptionalMoney(order, "total_tip_money", "order").value_or(Money{0, total.currency});
  if (tax.currency != total.currency || discount.currency != total.currency ||
      tip.currency != total.currency) {
    throw FieldError("order: money in more than one currency");
  }
  const std::string sale_id = "square:order:" + order_id;

  OrderEvents out;
  int64_t units = 0;
  const json* lines = OptionalMember(order, "line_items", "order");
  if (lines != nullptr && !lines->is_array()) throw FieldError("field 'order.line_items': expected array");
  if (lines != nullptr) {
    for (size_t i = 0; i < lines->size(); ++i) {
      const std::string path = "order.line_items[" + std::to_string(i) + "]";
      const json& line = (*lines)[i];
      const std::string qty = DecimalText(StringField(line, "quantity", path), path + ".quantity");
      // units counts whole pieces; a fractional (weighed) line counts once.
      const int64_t scaled = *dsl::ParseScaled(qty, 4);
      if (__builtin_add_overflow(units, scaled % 10000 == 0 ? scaled / 10000 : 1, &units)) {
        throw FieldError("field '" + path + ".quantity': units out of range");
      }
      const std::string uid = OptionalString(line, "uid", path);
      json event = {{"type", "line_item"},
                    {"id", sale_id + ":line:" + (uid.empty() ? std::to_string(i + 1) : uid)},
                    {"store", store},
                    {"ts", ts},
                    {"source", kSource},
                    {"currency", total.currency},
                    {"order", order_id},
                    {"line", static_cast<int64_t>(i + 1)},
                    {"qty", qty}};
      const std::string variation = OptionalString(line, "catalog_object_id", path);
      if (!variation.empty()) {
        event["sku"] = config.ids.SkuOf("square-variation", variation);
        event["product"] = variation;
      }
      for (const auto& [key, field] : {std::pair{"price", "base_price_money"},
                                       std::pair{"discount", "total_discount_money"},
                                       std::pair{"tax", "total_tax_money"}}) {
        if (const auto money = OptionalMoney(line, field, path)) {
          if (money->currency != total.currency) throw FieldError(path + ": money in another currency");
          event[key] = Text(*money, path + "." + field);
        }
      }
      if (!staff.empty()) event["staff"] = staff;
      out.events.push_back(Dump(event));
    }
  }
  json sale = {{"type", "sale"},
               {"id", sale_id},
               {"store", store},
               {"ts", ts},
               {"source", kSource},
               {"currency", total.currency},
               {"order", order_id},
               {"total", Text(total, "order.total_money")},
               {"subtotal", Text(Money{total.amount - tax.amount - tip.amount, total.currency}, "order")},
               {"discount", Text(discount, "order.total_discount_money")},
               {"tax", Text(tax, "order.total_tax_money")},
               {"tender", TenderOf(order)},
               {"channel", "pos"},
               {"status", "completed"},
               {"units", units}};
  if (!staff.empty()) sale["staff"] = staff;
  const std::string customer =
      CustomerHash(config.customer_key, kSource, OptionalString(order, "customer_id", "order"));
  if (!customer.empty()) sale["customer"] = customer;
  out.events.insert(out.events.begin(), Dump(sale));
  return out;
}

Result<Normalized> FromOrder(Normalized out, const std::string& order_id, const std::string& staff,
                             const PlatformConfig& config, ObjectFetcher* fetcher) {
  if (fetcher == nullptr) return UpstreamError(std::string(out.topic) + " " + std::string(kNeedsApi));
  Result<std::string> body = fetcher->Fetch("/v2/orders/" + PathSegment(order_id));
  if (!body) return Wrap(body.error(), "fetching order " + order_id);
  OrderEvents events = EventsFromOrder(*body, config, staff);
  out.events = std::move(events.events);
  out.note = std::move(events.note);
  return out;
}

Result<Normalized> Payment(Normalized out, const json& object, const PlatformConfig& config,
                           ObjectFetcher* fetcher) {
  const std::string path = "data.object.payment";
  const json& payment = Member(object, "payment", "data.object");
  const std::string status = StringField(payment, "status", path);
  if (status != "COMPLETED") {
    out.note = "payment " + status + ": no sale until COMPLETED";
    return out;
  }
  std::string staff = OptionalString(payment, "team_member_id", path);
  if (staff.empty()) staff = OptionalString(payment, "employee_id", path);
  return FromOrder(std::move(out), StringField(payment, "order_id", path), staff, config, fetcher);
}

Result<Normalized> Order(Normalized out, const json& object, const PlatformConfig& config,
                         ObjectFetcher* fetcher) {
  const std::string key = out.topic == "order.created" ? "order_created" : "order_updated";
  const std::string path = "data.object." + key;
  const json& thin = Member(object, key, "data.object");
  const std::string state = StringField(thin, "state", path);
  if (state != "COMPLETED") {
    out.note = "order " + state + ": no sale until COMPLETED";
    return out;
  }
  // The order carries no team member: the sale's staff comes from payment events only.
  return FromOrder(std::move(out), StringField(thin, "order_id", path), "", config, fetcher);
}

Result<Normalized> Refund(Normalized out, const json& object, const PlatformConfig& config,
                          ObjectFetcher* fetcher) {
  const std::string path = "data.object.refund";
  const json& refund = Member(object, "refund", "data.object");
  const std::string refund_id = StringField(refund, "id", path);
  const std::string status = StringField(refund, "status", path);
  if (status != "COMPLETED") {
    out.note = "refund " + status + ": no refund event until COMPLETED";
    return out;
  }
  const Money amount = MoneyField(refund, "amount_money", path);
  json event = {{"type", "refund"},
                {"id", "square:refund:" + refund_id},
                {"store", config.ids.StoreOf("square-location", StringField(refund, "location_id", path))},
                {"ts", UtcTimestamp(StringField(refund, "created_at", path), path + ".created_at")},
                {"source", kSource},
                {"currency", amount.currency},
                {"refund", refund_id},
                {"amount", Text(amount, path + ".amount_money")},
                {"payment", StringField(refund, "payment_id", path)}};
  const std::string reason = OptionalString(refund, "reason", path);
  if (!reason.empty()) event["reason"] = reason;
  const std::string staff = OptionalString(refund, "team_member_id", path);
  if (!staff.empty()) event["staff"] = staff;
  const std::string return_order = OptionalString(refund, "order_id", path);
  if (fetcher != nullptr && !return_order.empty()) {
    Result<std::string> body = fetcher->Fetch("/v2/orders/" + PathSegment(return_order));
    if (!body) return Wrap(body.error(), "fetching return order " + return_order);
    const json response = ParseJson(*body, "the RetrieveOrder response");
    const json& order = Member(response, "order", "");
    if (const json* returns = OptionalMember(order, "returns", "order");
        returns != nullptr && returns->is_array() && !returns->empty()) {
      const std::string source = OptionalString((*returns)[0], "source_order_id", "order.returns[0]");
      if (!source.empty()) event["order"] = source;
      const json* items = OptionalMember((*returns)[0], "return_line_items", "order.returns[0]");
      if (returns->size() == 1 && items != nullptr && items->is_array() && items->size() == 1) {
        const std::string item_path = "order.returns[0].return_line_items[0]";
        const std::string variation = OptionalString((*items)[0], "catalog_object_id", item_path);
        if (!variation.empty()) event["sku"] = config.ids.SkuOf("square-variation", variation);
        event["qty"] = DecimalText(StringField((*items)[0], "quantity", item_path), item_path + ".quantity");
      }
    }
    if (const json* amounts = OptionalMember(order, "return_amounts", "order")) {
      if (const auto tax = OptionalMoney(*amounts, "tax_money", "order.return_amounts")) {
        if (tax->currency != amount.currency) throw FieldError("order.return_amounts: money in another currency");
        event["tax"] = Text(*tax, "order.return_amounts.tax_money");
      }
    }
  }
  out.events.push_back(Dump(event));
  return out;
}

Normalized Inventory(Normalized out, const json& object, const PlatformConfig& config) {
  const json& counts = Member(object, "inventory_counts", "data.object");
  if (!counts.is_array()) throw FieldError("field 'data.object.inventory_counts': expected array");
  for (size_t i = 0; i < counts.size(); ++i) {
    const std::string path = "data.object.inventory_counts[" + std::to_string(i) + "]";
    const json& count = counts[i];
    // Only IN_STOCK is on hand; SOLD, WASTE, IN_TRANSIT... are other buckets of the same item.
    if (StringField(count, "state", path) != "IN_STOCK") continue;
    const std::string variation = StringField(count, "catalog_object_id", path);
    const std::string location = StringField(count, "location_id", path);
    const std::string calculated_at = StringField(count, "calculated_at", path);
    const std::string ts = UtcTimestamp(calculated_at, path + ".calculated_at");
    json event = {{"type", "inventory"},
                  {"id", "square:inventory:" + location + ":" + variation + ":" + ts},
                  {"store", config.ids.StoreOf("square-location", location)},
                  {"ts", ts},
                  {"source", kSource},
                  {"sku", config.ids.SkuOf("square-variation", variation)},
                  {"on_hand", DecimalText(StringField(count, "quantity", path), path + ".quantity")},
                  {"reason", "count"}};
    out.events.push_back(Dump(event));
  }
  if (out.events.empty()) out.note = "no IN_STOCK counts";
  return out;
}

Normalized Timecard(Normalized out, const json& object, const PlatformConfig& config) {
  const std::string path = "data.object.timecard";
  const json& card = Member(object, "timecard", "data.object");
  const std::string card_id = StringField(card, "id", path);
  json base = {{"type", "shift"},
               {"store", config.ids.StoreOf("square-location", StringField(card, "location_id", path))},
               {"source", kSource},
               {"staff", StringField(card, "team_member_id", path)},
               {"shift", card_id}};
  if (const json* wage = OptionalMember(card, "wage", path)) {
    const std::string title = OptionalString(*wage, "title", path + ".wage");
    if (!title.empty()) base["role"] = title;
    if (const auto rate = OptionalMoney(*wage, "hourly_rate", path + ".wage")) {
      base["wage"] = Text(*rate, path + ".wage.hourly_rate");
      base["currency"] = rate->currency;
    }
  }
  const std::string id_prefix = "square:timecard:" + card_id + ":";
  auto emit = [&](std::string action, std::string id_suffix, std::string_view when, std::string where) {
    json event = base;
    event["id"] = id_prefix + id_suffix;
    event["action"] = std::move(action);
    event["ts"] = UtcTimestamp(when, where);
    out.events.push_back(Dump(event));
  };
  emit("clock_in", "clock_in", StringField(card, "start_at", path), path + ".start_at");
  if (const json* breaks = OptionalMember(card, "breaks", path)) {
    if (!breaks->is_array()) throw FieldError("field '" + path + ".breaks': expected array");
    for (size_t i = 0; i < breaks->size(); ++i) {
      const std::string where = path + ".breaks[" + std::to_string(i) + "]";
      const json& brk = (*breaks)[i];
      std::string break_id = OptionalString(brk, "id", where);
      if (break_id.empty()) break_id = std::to_string(i + 1);
      emit("break_start", "break_start:" + break_id, StringField(brk, "start_at", where), where + ".start_at");
      const std::string end = OptionalString(brk, "end_at", where);
      if (!end.empty()) emit("break_end", "break_end:" + break_id, end, where + ".end_at");
    }
  }
  if (OptionalString(card, "status", path) == "CLOSED") {
    emit("clock_out", "clock_out", StringField(card, "end_at", path), path + ".end_at");
  }
  return out;
}

Result<Normalized> Dispatch(const Delivery& delivery, const PlatformConfig& config,
                            ObjectFetcher* fetcher) {
  const json body = ParseJson(delivery.body, "the body");
  Normalized out;
  out.topic = StringField(body, "type", "");
  out.delivery_id = "square:" + StringField(body, "event_id", "");
  const std::string& topic = out.topic;
  const bool payment = topic == "payment.created" || topic == "payment.updated";
  const bool order = topic == "order.created" || topic == "order.updated";
  const bool refund = topic == "refund.created" || topic == "refund.updated";
  const bool inventory = topic == "inventory.count.updated";
  const bool timecard = topic == "labor.timecard.created" || topic == "labor.timecard.updated";
  if (!(payment || order || refund || inventory || timecard)) {
    out.note = "topic " + topic + " ignored";
    return out;
  }
  const json& object = Member(Member(body, "data", ""), "object", "data");
  if (payment) return Payment(std::move(out), object, config, fetcher);
  if (order) return Order(std::move(out), object, config, fetcher);
  if (refund) return Refund(std::move(out), object, config, fetcher);
  if (inventory) return Inventory(std::move(out), object, config);
  return Timecard(std::move(out), object, config);
}

}  // namespace

AuthResult AuthenticateSquare(const Delivery& delivery, const PlatformConfig& config) {
  const auto signature =
      delivery.headers == nullptr ? std::nullopt : delivery.headers->Find("x-square-hmacsha256-signature");
  if (!signature) {
    const bool legacy = delivery.headers != nullptr && delivery.headers->Find("x-square-signature");
    return {AuthStatus::kMissing, legacy ? "only the legacy x-square-signature (HMAC-SHA1), which is not accepted"
                                         : "no x-square-hmacsha256-signature header"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no Square signature key configured"};
  std::string signed_bytes = config.notification_url;
  signed_bytes += delivery.body;
  bool match = false;
  // Every key is tried (no early exit), so timing does not tell which one matched.
  for (const std::string& key : config.secrets) {
    match |= ConstantTimeEqual(Base64Of(HmacSha256(key, signed_bytes)), *signature);
  }
  if (!match) {
    return {AuthStatus::kBad,
            "x-square-hmacsha256-signature does not match (is the notification URL exactly the subscribed one?)"};
  }
  return {};
}

Result<Normalized> NormalizeSquare(const Delivery& delivery, const PlatformConfig& config,
                                   ObjectFetcher* fetcher) {
  try {
    return Dispatch(delivery, config, fetcher);
  } catch (const FieldError& e) {
    return Error{e.what()};
  } catch (const std::exception& e) {
    return Error{std::string("square: ") + e.what()};
  } catch (...) {
    return Error{"square: unexpected error"};
  }
}

}  // namespace aisle::connectors::webhooks
