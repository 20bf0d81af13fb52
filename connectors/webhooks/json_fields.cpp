#include "connectors/webhooks/json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <climits>

#include "connectors/webhooks/webhook.hpp"
#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors::webhooks {

namespace {

std::string Joined(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

[[noreturn]] void Fail(std::string_view path, std::string_view expected) {
  std::string message = "field '";
  message += path;
  message += "': ";
  message += expected;
  throw FieldError(message);
}

}  // namespace

nlohmann::json ParseJson(std::string_view text, std::string_view what) {
  nlohmann::json out = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    std::string message(what);
    message += " is not valid JSON";
    throw FieldError(message);
  }
  return out;
}

const nlohmann::json* OptionalMember(const nlohmann::json& object, std::string_view key,
                                     std::string_view path) {
  if (!object.is_object()) Fail(path.empty() ? std::string_view("(body)") : path, "expected an object");
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json& Member(const nlohmann::json& object, std::string_view key,
                             std::string_view path) {
  const nlohmann::json* member = OptionalMember(object, key, path);
  if (member == nullptr) Fail(Joined(path, key), "missing");
  return *member;
}

std::string StringField(const nlohmann::json& object, std::string_view key, std::string_view path) {
  const nlohmann::json& member = Member(object, key, path);
  if (!member.is_string()) Fail(Joined(path, key), "expected string");
  const auto& text = member.get_ref<const std::string&>();
  if (text.empty()) Fail(Joined(path, key), "expected a non-empty string");
  return text;
}

std::string OptionalString(const nlohmann::json& object, std::string_view key,
                           std::string_view path) {
  const nlohmann::json* member = OptionalMember(object, key, path);
  if (member == nullptr) return {};
  if (!member->is_string()) Fail(Joined(path, key), "expected string");
  return member->get<std::string>();
}

int64_t IntField(const nlohmann::json& object, std::string_view key, std::string_view path) {
  const nlohmann::json& member = Member(object, key, path);
  if (member.is_number_integer()) {
    if (member.is_number_unsigned() &&
        member.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Fail(Joined(path, key), "integer out of range");
    }
    return member.get<int64_t>();
  }
  Fail(Joined(path, key), "expected integer");
}

std::string MinorUnitsText(int64_t amount, std::string_view currency, std::string_view path) {
  const bool code_ok = currency.size() == 3 &&
                       std::all_of(currency.begin(), currency.end(),
                                   [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!code_ok) Fail(path, "expected a 3-letter ISO 4217 currency");
  const int digits = dsl::MinorDigits(currency);
  int64_t scale = 1;
  for (int i = digits; i < 4; ++i) scale *= 10;
  // Amounts beyond +-9.2e14 major units do not fit 1/10,000 units in int64.
  if (amount > INT64_MAX / scale || amount < -(INT64_MAX / scale)) Fail(path, "amount out of range");
  return dsl::FormatUnits(amount * scale, digits);
}

std::string UtcTimestamp(std::string_view rfc3339, std::string_view path) {
  const std::optional<int64_t> micros = dsl::ParseTimestamp(rfc3339);
  if (!micros) Fail(path, "expected RFC 3339 timestamp");
  return dsl::FormatTimestamp(*micros);
}

std::string UtcFromMillis(int64_t millis, std::string_view path) {
  // Years 1970..9999: Clover times are recent, and formatting stays in range on fuzzed values.
  constexpr int64_t kMax = 253402300799000;
  if (millis < 0 || millis > kMax) Fail(path, "time out of range");
  return dsl::FormatTimestamp(millis * 1000);
}

std::string DecimalText(std::string_view text, std::string_view path) {
  if (!dsl::ParseScaled(text, 4)) Fail(path, "expected decimal text");
  return std::string(text);
}

namespace json_fields {

std::string Dump(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Error Wrap(const Error& error, std::string_view context) {
  std::string message(context);
  message += ": ";
  if (FailureOf(error) == NormalizeFailure::kUpstream) {
    message += std::string_view(error.message).substr(std::string_view("upstream: ").size());
    return UpstreamError(message);
  }
  message += error.message;
  return Error{std::move(message)};
}

}  // namespace json_fields

std::string CustomerHash(std::string_view key, std::string_view platform, std::string_view id) {
  if (key.empty() || id.empty()) return {};
  std::string data(platform);
  data += ':';
  data += id;
  return "c_" + HexOf(HmacSha256(key, data).substr(0, 8));
}

std::string PathSegment(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace aisle::connectors::webhooks
