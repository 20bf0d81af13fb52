#pragma once
// Helpers the REST-backed normalizers (Square, Clover) share: reading required JSON fields with
// errors that name the field, and turning platform money and time into canonical text. Internal
// to connectors/webhooks; FieldError never leaves a Normalize function.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/core/result.hpp"

namespace aisle::connectors::webhooks {

// A missing or mistyped field: `what()` is the reason Normalize returns ("field
// 'data.object.payment.status': expected string").
class FieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a body or API response; throws FieldError naming `what` when it is not JSON.
nlohmann::json ParseJson(std::string_view text, std::string_view what);

// The member `key` of `object` (`path` names `object` in errors); throws FieldError when `object`
// is not an object or the member is absent or null.
const nlohmann::json& Member(const nlohmann::json& object, std::string_view key,
                             std::string_view path);
// nullptr when absent or null; throws when `object` is not an object.
const nlohmann::json* OptionalMember(const nlohmann::json& object, std::string_view key,
                                     std::string_view path);
// A required string / integer member (integers must be JSON integers, not floats or text).
std::string StringField(const nlohmann::json& object, std::string_view key, std::string_view path);
int64_t IntField(const nlohmann::json& object, std::string_view key, std::string_view path);
// An optional string member: empty when absent or null; throws when present with another type.
std::string OptionalString(const nlohmann::json& object, std::string_view key,
                           std::string_view path);

// An amount in the currency's smallest unit (Square `amount`, Clover cents) as canonical decimal
// text: (5800, "USD") -> "58.00", (500, "JPY") -> "500". Throws FieldError on a currency that is
// not three upper-case letters or an amount that does not fit.
std::string MinorUnitsText(int64_t amount, std::string_view currency, std::string_view path);
// RFC 3339 text with any offset -> the same instant in UTC ("2025-03-14T13:00:00Z").
std::string UtcTimestamp(std::string_view rfc3339, std::string_view path);
// Unix milliseconds (Clover) -> RFC 3339 UTC; throws outside 1970..9999.
std::string UtcFromMillis(int64_t millis, std::string_view path);
// Decimal text ("2", "1.5") checked exactly and returned as written; throws when malformed.
std::string DecimalText(std::string_view text, std::string_view path);
// `sale.customer`: "c_" + hex of the first 8 bytes of HMAC-SHA256(key, platform ":" id), the
// scheme docs/connectors.md gives for every platform; empty without a key or an id.
std::string CustomerHash(std::string_view key, std::string_view platform, std::string_view id);

namespace json_fields {
// An event object as one compact line (invalid UTF-8 replaced).
std::string Dump(const nlohmann::json& event);
// `error` with `context` in front ("order ORD1: ..."), still an upstream error when it was one.
Error Wrap(const Error& error, std::string_view context);
}  // namespace json_fields

// An id percent-encoded for a URL path segment (all but A-Z a-z 0-9 - . _ ~), so an id from a
// body cannot change the path it is fetched under.
std::string PathSegment(std::string_view id);

}  // namespace aisle::connectors::webhooks
