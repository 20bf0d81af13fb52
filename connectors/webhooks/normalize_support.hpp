#pragma once
// Shared by the Shopify, Lightspeed and engine-native webhook modules (internal to
// aisle_connectors): JSON that keeps each number's text (money is parsed exactly from it, never
// through a double), field readers that throw a FieldError naming the field (caught at each
// module's Normalize boundary), a canonical event writer, and the small parsers the signature
// headers and form bodies need.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/json/json_document.hpp"
#include "connectors/webhooks/webhook.hpp"

namespace aisle::connectors::webhooks::support {

// A malformed or missing field; its message is the Normalize Error's reason.
class FieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses JSON text into a document whose numbers keep their exact JSON text ("14.85",
// "5834451239105"), so ids and money never pass through a double (json/json_document.hpp).
// Nesting deeper than 64 levels is refused. Never throws.
Result<json::JsonDocument> ParseJsonKeepingNumberText(std::string_view text);

// Readers over such a value. `what` names the field in errors ("line_items[1].price").
// A missing or null member is nullopt for the Opt* forms and a FieldError for the others.
const json::JsonValue& Member(const json::JsonValue& object, std::string_view key, std::string_view what);
const json::JsonValue* OptMember(const json::JsonValue& object, std::string_view key);
// A string or number (numbers are already text) as text.
std::string Text(const json::JsonValue& object, std::string_view key, std::string_view what);
std::optional<std::string> OptText(const json::JsonValue& object, std::string_view key,
                                   std::string_view what);
// Money in 1/10,000 units from a decimal string or number, exact, half-even past four decimals.
int64_t Money(const json::JsonValue& object, std::string_view key, std::string_view what);
std::optional<int64_t> OptMoney(const json::JsonValue& object, std::string_view key,
                                std::string_view what);
// A number as canonical decimal text at four decimals ("2", "-1", "0.5"; "2.50" -> "2.5").
std::string DecimalText(const json::JsonValue& object, std::string_view key, std::string_view what);
// A 3-letter upper-case currency code; CheckCurrency throws unless `code` is one.
std::string CurrencyCode(const json::JsonValue& object, std::string_view key, std::string_view what);
void CheckCurrency(std::string_view code, std::string_view what);
// An integer.
int64_t Integer(const json::JsonValue& object, std::string_view key, std::string_view what);
// An RFC 3339 timestamp (any offset) as microseconds since the epoch.
int64_t Timestamp(const json::JsonValue& object, std::string_view key, std::string_view what);
std::optional<bool> OptBool(const json::JsonValue& object, std::string_view key, std::string_view what);
// The array member (missing or null: an empty array).
const json::JsonValue& ArrayOrEmpty(const json::JsonValue& object, std::string_view key,
                                   std::string_view what);

// `units` (1/10,000) times the decimal `qty`, rounded half to even to 1/10,000.
int64_t TimesQuantity(int64_t units, std::string_view qty, std::string_view what);
// a + b and -a, or a FieldError naming `what` on int64 overflow.
int64_t Add(int64_t a, int64_t b, std::string_view what);
int64_t Negate(int64_t a, std::string_view what);

// Writes one canonical event as a compact JSON object, keys in the order set. Money is written
// as decimal text in the currency's minor unit, or with four decimals when it has more.
class EventWriter {
 public:
  EventWriter(std::string_view type, std::string id, std::string_view store, int64_t ts,
              std::string_view source);
  EventWriter& Str(std::string_view key, std::string_view value);
  EventWriter& OptStr(std::string_view key, const std::optional<std::string>& value);
  EventWriter& Int(std::string_view key, int64_t value);
  EventWriter& Decimal(std::string_view key, std::string_view text);
  EventWriter& Bool(std::string_view key, bool value);
  EventWriter& Time(std::string_view key, int64_t micros);
  // Sets `currency` on first use; every money field of an event shares it. A FieldError unless
  // `currency` is a 3-letter upper-case code.
  EventWriter& Money(std::string_view key, int64_t units, std::string_view currency);
  std::string Finish() const;

 private:
  void Set(std::string_view key, std::string json_text);  // replaces a key set before, in place
  std::vector<std::pair<std::string, std::string>> fields_;  // key, the value's JSON text
  bool has_currency_ = false;
};

// The keyed hash that stands in for a customer id ("c_" + 16 hex digits of
// HMAC-SHA256(customer_key, platform ":" id)); nullopt without a key or an id.
std::optional<std::string> CustomerRef(const PlatformConfig& config, std::string_view platform,
                                       const std::optional<std::string>& id);

// "k1=v1, k2=v2" (separator `sep`, spaces around items and '=' ignored). nullopt when an item has
// no '='.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseParams(std::string_view text,
                                                                           char sep);
// Lowercase hex text -> raw bytes; nullopt unless an even number of hex digits (either case).
std::optional<std::string> FromHex(std::string_view hex);
// application/x-www-form-urlencoded -> name/value pairs ('+' is a space, %XX a byte); nullopt on
// a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);

// The first header of the names given.
std::optional<std::string_view> FindHeader(const Delivery& delivery,
                                           std::initializer_list<std::string_view> names);

}  // namespace aisle::connectors::webhooks::support
