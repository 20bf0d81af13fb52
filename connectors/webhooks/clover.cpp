#include "connectors/webhooks/clover.hpp"

#include <charconv>
#include <set>
#include <string>
#include <vector>

#include "connectors/webhooks/json_fields.hpp"
#include "dsl/money.hpp"

// Assumptions (see tests/fixtures/pos/README.md, "Open questions")
// - Clover documents no retry policy and does not guarantee delivery: nothing here depends on
//   redelivery; reconciliation polling is the server's business.
// - X-Clover-Auth is a static token, not an HMAC: the body is only a hint, and every O:/P:/I:
//   object is re-fetched through the REST API before it becomes an event.
// - There is no refund key: a refund surfaces as a P: UPDATE (and an O: UPDATE); refunds are
//   found through the payment's `refunds` and fetched one by one.
// - There is no shift key: E: covers the employee record only and is ignored.
// - REST shapes follow tests/fixtures/pos/clover/api/*.json (illustrative, field names unconfirmed
//   against the live v3 API): order `state` "locked" = paid; line `price` in cents per unit,
//   `unitQty` in thousandths, discounts by `percentage` or `amount` (cents), tax `rate` in
//   1/100,000 of a percent; payment `taxAmount` and `tender.labelKey`; refund `status` SUCCESS.
// - Hosted Checkout: header layout `t=<unix>,v1=<hex>`, hex encoding and the body key names
//   (createdTime, status, type, id, merchantId) are inferred from prose.

namespace aisle::connectors::webhooks {

namespace {

constexpr std::string_view kSource = "clover";
using nlohmann::json;

using json_fields::Dump;
using json_fields::Wrap;

// Fetches `path` and parses it; an Error (fetch failure) or the JSON.
struct Fetched {
  std::optional<Error> error;
  json value;
};

Fetched FetchJson(ObjectFetcher& fetcher, const std::string& path, std::string_view what) {
  Result<std::string> body = fetcher.Fetch(path);
  if (!body) return {Wrap(body.error(), "fetching " + std::string(what)), {}};
  return {std::nullopt, ParseJson(*body, what)};
}

// The ids in `{"elements": [{"id": ...}, ...]}` (Clover's expanded collections).
std::vector<std::string> ElementIds(const json& object, std::string_view key, std::string_view path) {
  std::vector<std::string> ids;
  const json* collection = OptionalMember(object, key, path);
  if (collection == nullptr) return ids;
  const std::string here = std::string(path) + "." + std::string(key);
  const json* elements = OptionalMember(*collection, "elements", here);
  if (elements == nullptr) return ids;
  if (!elements->is_array()) throw FieldError("field '" + here + ".elements': expected array");
  for (size_t i = 0; i < elements->size(); ++i) {
    ids.push_back(StringField((*elements)[i], "id", here + ".elements[" + std::to_string(i) + "]"));
  }
  return ids;
}

std::string NestedId(const json& object, std::string_view key, std::string_view path) {
  const json* ref = OptionalMember(object, key, path);
  if (ref == nullptr) return {};
  return OptionalString(*ref, "id", std::string(path) + "." + std::string(key));
}

std::string TenderOf(std::string_view label_key) {
  if (label_key == "com.clover.tender.cash") return "cash";
  if (label_key == "com.clover.tender.credit_card" || label_key == "com.clover.tender.debit_card") return "card";
  if (label_key == "com.clover.tender.gift_card" || label_key == "com.clover.tender.external_gift_card")
    return "gift_card";
  return "other";
}

// Money in 1/10,000 units as canonical text with the currency's minor digits (or more when the
// amount has them, e.g. a per-line tax of 1.188).
std::string UnitsText(int64_t units, std::string_view currency) {
  const int digits = dsl::MinorDigits(currency);
  int shown = digits;
  int64_t rest = units;
  int64_t scale = 1;
  for (int i = digits; i < 4; ++i) scale *= 10;
  while (shown < 4 && rest % scale != 0) {
    ++shown;
    scale /= 10;
  }
  return dsl::FormatUnits(units, shown);
}

class Batch {
 public:
  Batch(const PlatformConfig& config, ObjectFetcher* fetcher, Normalized& out)
      : config_(config), fetcher_(fetcher), out_(out) {}

  // Handles one update; an Error ends the delivery.
  std::optional<Error> Update(const std::string& merchant, const json& update, const std::string& path) {
    const std::string object_id = StringField(update, "objectId", path);
    const std::string type = StringField(update, "type", path);
    const int64_t ts = IntField(update, "ts", path);
    const size_t colon = object_id.find(':');
    if (colon == std::string::npos || colon + 1 == object_id.size()) {
      throw FieldError("field '" + path + ".objectId': expected <KEY>:<id>, got \"" + object_id + "\"");
    }
    const std::string key = object_id.substr(0, colon);
    const std::string id = object_id.substr(colon + 1);
    update_key_ = merchant + "|" + object_id + "|" + type + "|" + std::to_string(ts);
    if (key != "O" && key != "P" && key != "I") {
      Ignore(object_id + " (key " + key + ")");
      return std::nullopt;
    }
    if (type == "DELETE") {
      Ignore(object_id + " DELETE");
      return std::nullopt;
    }
    // One fetch per object and delivery: a batch often carries CREATE and UPDATE of one order.
    if (!seen_.insert(merchant + "|" + object_id).second) return std::nullopt;
    if (fetcher_ == nullptr) return UpstreamError(object_id + " needs the Clover API (configure clover.api)");
    const std::string base = "/v3/merchants/" + PathSegment(merchant);
    if (key == "O") return Order(merchant, base, id);
    if (key == "P") return Payment(merchant, base, id);
    return Item(merchant, base, id, ts);
  }

  void Finish() {
    if (out_.events.empty()) {
      out_.note = ignored_.empty() ? "no updates yield events" : "ignored: " + ignored_;
    }
  }

 private:
  void Ignore(const std::string& what) {
    if (!ignored_.empty()) ignored_ += ", ";
    ignored_ += what;
  }

  void Emit(json event) {
    event["update"] = update_key_;
    out_.events.push_back(Dump(event));
  }

  std::optional<Error> Order(const std::string& merchant, const std::string& base, const std::string& id) {
    Fetched fetched = FetchJson(*fetcher_, base + "/orders/" + PathSegment(id) +
                                               "?expand=lineItems,lineItems.discounts,lineItems.taxRates,"
                                               "payments,employee,customers",
                                "order " + id);
    if (fetched.error) return fetched.error;
    const json& order = fetched.value;
    const std::string p = "order";
    const std::string order_id = StringField(order, "id", p);
    const std::string state = OptionalString(order, "state", p);
    if (state != "locked") {
      Ignore("O:" + id + " (state " + (state.empty() ? "none" : state) + ", not paid)");
      return std::nullopt;
    }
    std::string currency = OptionalString(order, "currency", p);
    if (currency.empty()) currency = config_.default_currency;
    const std::string store = config_.ids.StoreOf("clover-merchant", merchant);
    const std::string ts = UtcFromMillis(IntField(order, "createdTime", p), "order.createdTime");
    const std::string staff = NestedId(order, "employee", p);
    const std::string sale_id = "clover:order:" + order_id;
    // Validates the currency once (MinorUnitsText throws on a bad code).
    const std::string total = MinorUnitsText(IntField(order, "total", p), currency, "order.total");

    std::vector<json> lines;
    int64_t discount_units = 0;
    int64_t units = 0;
    if (const json* items = OptionalMember(order, "lineItems", p)) {
      const json* elements = OptionalMember(*items, "elements", "order.lineItems");
      if (elements != nullptr && !elements->is_array()) throw FieldError("field 'order.lineItems.elements': expected array");
      for (size_t i = 0; elements != nullptr && i < elements->size(); ++i) {
        const std::string lp = "order.lineItems.elements[" + std::to_string(i) + "]";
        const json& line = (*elements)[i];
        const std::string line_id = StringField(line, "id", lp);
        const int64_t price = IntField(line, "price", lp);
        // Quantity in thousandths: unitQty for unit-priced items, else one piece per line.
        int64_t qty_milli = 1000;
        if (OptionalMember(line, "unitQty", lp) != nullptr) qty_milli = IntField(line, "unitQty", lp);
        if (price < -(int64_t{1} << 40) || price > (int64_t{1} << 40) || qty_milli < 0 || qty_milli > (int64_t{1} << 30)) {
          throw FieldError("field '" + lp + "': price or unitQty out of range");
        }
        units += qty_milli % 1000 == 0 ? qty_milli / 1000 : 1;
        // 1/10,000 units: cents * 100.
        const int64_t gross = dsl::DivRoundHalfEven(dsl::Int128{price} * 100 * qty_milli, 1000);
        int64_t discount = 0;
        if (const json* discounts = OptionalMember(line, "discounts", lp)) {
          const json* elems = OptionalMember(*discounts, "elements", lp + ".discounts");
          for (size_t d = 0; elems != nullptr && elems->is_array() && d < elems->size(); ++d) {
            const std::string dp = lp + ".discounts.elements[" + std::to_string(d) + "]";
            const json& disc = (*elems)[d];
            if (OptionalMember(disc, "percentage", dp) != nullptr) {
              const int64_t pct = IntField(disc, "percentage", dp);
              if (pct < 0 || pct > 100) throw FieldError("field '" + dp + ".percentage': out of range");
              discount += dsl::DivRoundHalfEven(dsl::Int128{gross} * pct, 100);
            } else if (OptionalMember(disc, "amount", dp) != nullptr) {
              const int64_t amount = IntField(disc, "amount", dp);  // negative cents in Clover
              if (amount < -(int64_t{1} << 40) || amount > (int64_t{1} << 40)) throw FieldError("field '" + dp + ".amount': out of range");
              discount += (amount < 0 ? -amount : amount) * 100;
            }
          }
        }
        int64_t rate_sum = 0;  // 1/100,000 of a percent: 800000 = 8 %
        if (const json* rates = OptionalMember(line, "taxRates", lp)) {
          const json* elems = OptionalMember(*rates, "elements", lp + ".taxRates");
          for (size_t r = 0; elems != nullptr && elems->is_array() && r < elems->size(); ++r) {
            const int64_t rate = IntField((*elems)[r], "rate", lp + ".taxRates.elements[" + std::to_string(r) + "]");
            if (rate < 0 || rate > 100 * 100000) throw FieldError("field '" + lp + ".taxRates': rate out of range");
            rate_sum += rate;
          }
        }
        const int64_t tax = dsl::DivRoundHalfEven(dsl::Int128{gross - discount} * rate_sum, 10'000'000);
        discount_units += discount;
        json event = {{"type", "line_item"},
                      {"id", sale_id + ":line:" + line_id},
                      {"store", store},
                      {"ts", ts},
                      {"source", kSource},
                      {"currency", currency},
                      {"order", order_id},
                      {"line", static_cast<int64_t>(i + 1)},
                      {"qty", dsl::FormatUnits(qty_milli * 10, qty_milli % 1000 == 0 ? 0 : 3)},
                      {"price", UnitsText(price * 100, currency)},
                      {"discount", UnitsText(discount, currency)},
                      {"tax", UnitsText(tax, currency)}};
        const std::string item = NestedId(line, "item", lp);
        if (!item.empty()) {
          event["product"] = item;
          event["sku"] = config_.ids.SkuOf("clover-item", item);
        }
        if (!staff.empty()) event["staff"] = staff;
        lines.push_back(std::move(event));
      }
    }
    // Tax and tender come from the order's payments (README section 6: Σ payment taxAmount).
    int64_t tax_cents = 0;
    std::vector<std::string> tenders;
    for (const std::string& payment_id : ElementIds(order, "payments", p)) {
      Fetched payment = FetchJson(*fetcher_, base + "/payments/" + PathSegment(payment_id) + "?expand=tender",
                                  "payment " + payment_id);
      if (payment.error) return payment.error;
      const std::string pp = "payment";
      if (OptionalString(payment.value, "result", pp) != "SUCCESS") continue;
      const int64_t tax = OptionalMember(payment.value, "taxAmount", pp) ? IntField(payment.value, "taxAmount", pp) : 0;
      if (tax < -(int64_t{1} << 40) || tax > (int64_t{1} << 40)) throw FieldError("field 'payment.taxAmount': out of range");
      tax_cents += tax;
      const json* tender = OptionalMember(payment.value, "tender", pp);
      tenders.push_back(TenderOf(tender ? OptionalString(*tender, "labelKey", "payment.tender") : ""));
    }
    const int64_t total_cents = IntField(order, "total", p);
    json sale = {{"type", "sale"},
                 {"id", sale_id},
                 {"store", store},
                 {"ts", ts},
                 {"source", kSource},
                 {"currency", currency},
                 {"order", order_id},
                 {"total", total},
                 {"subtotal", MinorUnitsText(total_cents - tax_cents, currency, "order.total")},
                 {"discount", UnitsText(discount_units, currency)},
                 {"tax", MinorUnitsText(tax_cents, currency, "payment.taxAmount")},
                 {"tender", tenders.empty() ? "other" : tenders.size() > 1 ? "split" : tenders[0]},
                 {"channel", "pos"},
                 {"status", "completed"},
                 {"units", units}};
    if (!staff.empty()) sale["staff"] = staff;
    const std::vector<std::string> customers = ElementIds(order, "customers", p);
    if (!customers.empty()) {
      const std::string customer = CustomerHash(config_.customer_key, kSource, customers[0]);
      if (!customer.empty()) sale["customer"] = customer;
    }
    Emit(std::move(sale));
    for (json& line : lines) Emit(std::move(line));
    return std::nullopt;
  }

  std::optional<Error> Payment(const std::string& merchant, const std::string& base, const std::string& id) {
    Fetched payment = FetchJson(*fetcher_, base + "/payments/" + PathSegment(id) + "?expand=refunds",
                                "payment " + id);
    if (payment.error) return payment.error;
    const std::vector<std::string> refunds = ElementIds(payment.value, "refunds", "payment");
    if (refunds.empty()) {
      Ignore("P:" + id + " (no refunds; the sale comes from its order)");
      return std::nullopt;
    }
    for (const std::string& refund_id : refunds) {
      Fetched fetched = FetchJson(*fetcher_, base + "/refunds/" + PathSegment(refund_id) + "?expand=lineItems,employee",
                                  "refund " + refund_id);
      if (fetched.error) return fetched.error;
      const json& refund = fetched.value;
      const std::string rp = "refund";
      const std::string status = OptionalString(refund, "status", rp);
      if (!status.empty() && status != "SUCCESS") {
        Ignore("refund " + refund_id + " (status " + status + ")");
        continue;
      }
      const std::string& currency = config_.default_currency;  // refunds carry no currency
      json event = {{"type", "refund"},
                    {"id", "clover:refund:" + StringField(refund, "id", rp)},
                    {"store", config_.ids.StoreOf("clover-merchant", merchant)},
                    {"ts", UtcFromMillis(IntField(refund, "createdTime", rp), "refund.createdTime")},
                    {"source", kSource},
                    {"currency", currency},
                    {"refund", refund_id},
                    {"amount", MinorUnitsText(IntField(refund, "amount", rp), currency, "refund.amount")},
                    {"payment", id}};
      if (OptionalMember(refund, "taxAmount", rp) != nullptr) {
        event["tax"] = MinorUnitsText(IntField(refund, "taxAmount", rp), currency, "refund.taxAmount");
      }
      const std::string order = NestedId(refund, "orderRef", rp);
      if (!order.empty()) event["order"] = order;
      const std::string staff = NestedId(refund, "employee", rp);
      if (!staff.empty()) event["staff"] = staff;
      const std::vector<std::string> lines = ElementIds(refund, "lineItems", rp);
      if (!lines.empty()) event["qty"] = std::to_string(lines.size());  // one piece per Clover line
      Emit(std::move(event));
    }
    return std::nullopt;
  }

  std::optional<Error> Item(const std::string& merchant, const std::string& base, const std::string& id, int64_t ts) {
    Fetched fetched = FetchJson(*fetcher_, base + "/items/" + PathSegment(id) + "?expand=itemStock", "item " + id);
    if (fetched.error) return fetched.error;
    const json& item = fetched.value;
    const json* stock = OptionalMember(item, "itemStock", "item");
    std::string on_hand;
    if (stock != nullptr) {
      const json* quantity = OptionalMember(*stock, "quantity", "item.itemStock");
      if (quantity == nullptr) quantity = OptionalMember(*stock, "stockCount", "item.itemStock");
      if (quantity != nullptr) {
        if (!quantity->is_number()) throw FieldError("field 'item.itemStock.quantity': expected number");
        on_hand = DecimalText(quantity->dump(), "item.itemStock.quantity");
      }
    }
    if (on_hand.empty()) {
      Ignore("I:" + id + " (no stock tracked)");
      return std::nullopt;
    }
    // A configured map wins; else the item's own SKU; else the prefixed item id.
    std::string sku = OptionalString(item, "sku", "item");
    if (config_.ids.skus.count(id) != 0 || sku.empty()) sku = config_.ids.SkuOf("clover-item", id);
    const std::string when = UtcFromMillis(ts, "ts");
    json event = {{"type", "inventory"},
                  {"id", "clover:inventory:" + merchant + ":" + id + ":" + std::to_string(ts)},
                  {"store", config_.ids.StoreOf("clover-merchant", merchant)},
                  {"ts", when},
                  {"source", kSource},
                  {"sku", sku},
                  {"on_hand", on_hand},
                  {"reason", "count"}};
    Emit(std::move(event));
    return std::nullopt;
  }

  const PlatformConfig& config_;
  ObjectFetcher* fetcher_;
  Normalized& out_;
  std::set<std::string> seen_;
  std::string ignored_;
  std::string update_key_;
};

// The verification code when the body is exactly {"verificationCode": "<text>"}.
std::optional<std::string> VerificationCode(std::string_view body) {
  if (body.size() > 1024) return std::nullopt;
  const json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object() || value.size() != 1) return std::nullopt;
  const auto it = value.find("verificationCode");
  if (it == value.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Result<Normalized> DispatchClover(const Delivery& delivery, const PlatformConfig& config,
                                  ObjectFetcher* fetcher) {
  Normalized out;
  out.delivery_id = "clover:" + Sha256Hex(delivery.body);
  if (const auto code = VerificationCode(delivery.body)) {
    out.topic = "verification";
    // Not a secret: a one-time code the dashboard user must paste back; the server logs notes.
    out.note = "verification request: verificationCode " + *code;
    return out;
  }
  const json body = ParseJson(delivery.body, "the body");
  out.topic = "notification";
  const json& merchants = Member(body, "merchants", "");
  if (!merchants.is_object()) throw FieldError("field 'merchants': expected an object");
  Batch batch(config, fetcher, out);
  for (const auto& [merchant, updates] : merchants.items()) {
    const std::string path = "merchants." + merchant;
    if (merchant.empty()) throw FieldError("field 'merchants': empty merchant id");
    if (!updates.is_array()) throw FieldError("field '" + path + "': expected array");
    for (size_t i = 0; i < updates.size(); ++i) {
      if (auto error = batch.Update(merchant, updates[i], path + "[" + std::to_string(i) + "]")) {
        return std::move(*error);
      }
    }
  }
  batch.Finish();
  return out;
}

}  // namespace

AuthResult AuthenticateClover(const Delivery& delivery, const PlatformConfig& config) {
  const auto auth = delivery.headers == nullptr ? std::nullopt : delivery.headers->Find("X-Clover-Auth");
  if (!auth) {
    if (VerificationCode(delivery.body)) return {AuthStatus::kOk, "verification request"};
    return {AuthStatus::kMissing, "no X-Clover-Auth header"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no Clover auth code configured"};
  bool match = false;
  for (const std::string& code : config.secrets) match |= ConstantTimeEqual(code, *auth);
  if (!match) return {AuthStatus::kBad, "X-Clover-Auth does not match the configured auth code"};
  return {};
}

Result<Normalized> NormalizeClover(const Delivery& delivery, const PlatformConfig& config,
                                   ObjectFetcher* fetcher) {
  try {
    return DispatchClover(delivery, config, fetcher);
  } catch (const FieldError& e) {
    return Error{e.what()};
  } catch (const std::exception& e) {
    return Error{std::string("clover: ") + e.what()};
  } catch (...) {
    return Error{"clover: unexpected error"};
  }
}

AuthResult AuthenticateCloverCheckout(const Delivery& delivery, const PlatformConfig& config) {
  const auto header = delivery.headers == nullptr ? std::nullopt : delivery.headers->Find("Clover-Signature");
  if (!header) return {AuthStatus::kMissing, "no Clover-Signature header"};
  std::string_view timestamp;
  std::vector<std::string_view> signatures;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.substr(0, 2) == "t=") timestamp = part.substr(2);
    if (part.substr(0, 3) == "v1=") signatures.push_back(part.substr(3));
  }
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size() ||
      signatures.empty() || seconds < 0 || seconds > 253402300799) {
    return {AuthStatus::kBad, "Clover-Signature is not t=<unix seconds>,v1=<hex>"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no Clover Hosted Checkout signing secret configured"};
  std::string signed_bytes(timestamp);
  signed_bytes += '.';
  signed_bytes += delivery.body;
  bool match = false;
  for (const std::string& secret : config.secrets) {
    const std::string expected = HexOf(HmacSha256(secret, signed_bytes));
    for (std::string_view signature : signatures) {
      std::string lower(signature);
      for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
      match |= ConstantTimeEqual(expected, lower);
    }
  }
  if (!match) return {AuthStatus::kBad, "Clover-Signature v1 does not match"};
  const int64_t now_s = delivery.now_us / 1'000'000;
  const int64_t age = now_s > seconds ? now_s - seconds : seconds - now_s;
  if (age > config.replay_window_seconds) {
    return {AuthStatus::kStale, "Clover-Signature timestamp is " + std::to_string(age) +
                                    " s from now (window " + std::to_string(config.replay_window_seconds) + " s)"};
  }
  return {};
}

Result<Normalized> NormalizeCloverCheckout(const Delivery& delivery, const PlatformConfig& config) {
  (void)config;
  try {
    const json body = ParseJson(delivery.body, "the body");
    Normalized out;
    const std::string id = StringField(body, "id", "");
    out.delivery_id = "clover-checkout:" + StringField(body, "merchantId", "") + ":" + id;
    out.topic = "checkout." + StringField(body, "type", "");
    out.note = "hosted checkout " + out.topic + " " + id + " " + OptionalString(body, "status", "") +
               ": the sale comes from the order's app webhook";
    return out;
  } catch (const FieldError& e) {
    return Error{e.what()};
  } catch (const std::exception& e) {
    return Error{std::string("clover checkout: ") + e.what()};
  } catch (...) {
    return Error{"clover checkout: unexpected error"};
  }
}

}  // namespace aisle::connectors::webhooks
