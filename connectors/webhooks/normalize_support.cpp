#include "connectors/webhooks/normalize_support.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>

#include "connectors/json/json_text.hpp"
#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors::webhooks::support {

namespace {

using Json = json::JsonValue;

std::string Quoted(const Json& value) { return value.Excerpt(48); }

[[noreturn]] void Fail(std::string_view what, std::string_view problem) {
  std::string message = "field '";
  message += what;
  message += "': ";
  message += problem;
  throw FieldError(message);
}

[[noreturn]] void FailGot(std::string_view what, std::string_view expected, const Json& got) {
  Fail(what, std::string(expected) + ", got " + Quoted(got));
}

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string MoneyText(int64_t units, std::string_view currency) {
  const int digits = dsl::MinorDigits(currency);
  const int64_t step = Pow10(4 - digits);
  return dsl::FormatUnits(units, units % step == 0 ? digits : 4);
}

}  // namespace

Result<json::JsonDocument> ParseJsonKeepingNumberText(std::string_view text) {
  return json::JsonDocument::Parse(text);
}

const Json* OptMember(const Json& object, std::string_view key) {
  const Json* member = object.find(key);
  if (member == nullptr || member->is_null()) return nullptr;
  return member;
}

const Json& Member(const Json& object, std::string_view key, std::string_view what) {
  if (!object.is_object()) FailGot(what, "expected the enclosing object", object);
  const Json* member = OptMember(object, key);
  if (member == nullptr) Fail(what, "missing");
  return *member;
}

std::optional<std::string> OptText(const Json& object, std::string_view key, std::string_view what) {
  const Json* member = OptMember(object, key);
  if (member == nullptr) return std::nullopt;
  if (!member->is_text()) FailGot(what, "expected a string or number", *member);
  return std::string(member->text());
}

std::string Text(const Json& object, std::string_view key, std::string_view what) {
  Member(object, key, what);
  auto text = OptText(object, key, what);
  if (text->empty()) Fail(what, "empty");
  return *text;
}

std::optional<int64_t> OptMoney(const Json& object, std::string_view key, std::string_view what) {
  const auto text = OptText(object, key, what);
  if (!text) return std::nullopt;
  const auto units = dsl::ParseMoneyUnits(*text);
  if (!units) FailGot(what, "expected a decimal amount", *OptMember(object, key));
  return units;
}

int64_t Money(const Json& object, std::string_view key, std::string_view what) {
  Member(object, key, what);
  return *OptMoney(object, key, what);
}

std::string DecimalText(const Json& object, std::string_view key, std::string_view what) {
  const std::string text = Text(object, key, what);
  // Canonical text of the value at four decimals: "1e2" -> "100", "2.50" -> "2.5". Whatever the
  // input spelled, the event parser reads it back.
  const auto units = dsl::ParseScaled(text, 4);
  if (!units) FailGot(what, "expected a number", Member(object, key, what));
  if (*units % 10000 == 0) return std::to_string(*units / 10000);
  std::string out = dsl::FormatUnits(*units, 4);
  while (out.back() == '0') out.pop_back();
  return out;
}

std::string CurrencyCode(const Json& object, std::string_view key, std::string_view what) {
  std::string code = Text(object, key, what);
  CheckCurrency(code, what);
  return code;
}

void CheckCurrency(std::string_view code, std::string_view what) {
  const bool ok = code.size() == 3 &&
                  std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) Fail(what, "expected a 3-letter ISO 4217 code, got \"" + std::string(code) + "\"");
}

int64_t Integer(const Json& object, std::string_view key, std::string_view what) {
  const std::string text = Text(object, key, what);
  const size_t digits_from = text[0] == '-' ? 1 : 0;
  const bool digits = text.size() > digits_from &&
                      text.find_first_not_of("0123456789", digits_from) == std::string::npos;
  const auto value = digits ? dsl::ParseScaled(text, 0) : std::nullopt;
  if (!value) FailGot(what, "expected an integer", Member(object, key, what));
  return *value;
}

int64_t Timestamp(const Json& object, std::string_view key, std::string_view what) {
  const std::string text = Text(object, key, what);
  const auto micros = dsl::ParseTimestamp(text);
  if (!micros) FailGot(what, "expected an RFC 3339 timestamp", Member(object, key, what));
  return *micros;
}

std::optional<bool> OptBool(const Json& object, std::string_view key, std::string_view what) {
  const Json* member = OptMember(object, key);
  if (member == nullptr) return std::nullopt;
  if (!member->is_bool()) FailGot(what, "expected true or false", *member);
  return member->boolean();
}

const Json& ArrayOrEmpty(const Json& object, std::string_view key, std::string_view what) {
  const Json* member = OptMember(object, key);
  if (member == nullptr) return Json::EmptyArray();
  if (!member->is_array()) FailGot(what, "expected an array", *member);
  return *member;
}

int64_t TimesQuantity(int64_t units, std::string_view qty, std::string_view what) {
  const auto scaled = dsl::ParseScaled(qty, 4);
  if (!scaled) Fail(what, "expected a quantity, got " + std::string(qty));
  const dsl::Int128 product = static_cast<dsl::Int128>(units) * *scaled;
  const dsl::Int128 limit = static_cast<dsl::Int128>(INT64_MAX) * 10000 - 10000;
  if (product > limit || product < -limit) Fail(what, "amount out of range");
  return dsl::DivRoundHalfEven(product, 10000);
}

int64_t Add(int64_t a, int64_t b, std::string_view what) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) Fail(what, "amount out of range");
  return sum;
}

int64_t Negate(int64_t a, std::string_view what) {
  if (a == INT64_MIN) Fail(what, "amount out of range");
  return -a;
}

EventWriter::EventWriter(std::string_view type, std::string id, std::string_view store, int64_t ts,
                         std::string_view source) {
  fields_.reserve(20);
  Str("type", type);
  Str("id", id);
  Str("store", store);
  Str("ts", dsl::FormatTimestamp(ts));
  Str("source", source);
}

void EventWriter::Set(std::string_view key, std::string value) {
  for (auto& [k, v] : fields_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  fields_.emplace_back(std::string(key), std::move(value));
}

EventWriter& EventWriter::Str(std::string_view key, std::string_view value) {
  std::string text;
  text.reserve(value.size() + 2);
  json::AppendQuoted(text, value);
  Set(key, std::move(text));
  return *this;
}

EventWriter& EventWriter::OptStr(std::string_view key, const std::optional<std::string>& value) {
  if (value && !value->empty()) Str(key, *value);
  return *this;
}

EventWriter& EventWriter::Int(std::string_view key, int64_t value) {
  Set(key, std::to_string(value));
  return *this;
}

EventWriter& EventWriter::Decimal(std::string_view key, std::string_view text) {
  // As a string: the event parser reads decimals from text, so the digits go through unchanged.
  return Str(key, text);
}

EventWriter& EventWriter::Bool(std::string_view key, bool value) {
  Set(key, value ? "true" : "false");
  return *this;
}

EventWriter& EventWriter::Time(std::string_view key, int64_t micros) {
  return Str(key, dsl::FormatTimestamp(micros));
}

EventWriter& EventWriter::Money(std::string_view key, int64_t units, std::string_view currency) {
  CheckCurrency(currency, "currency");
  if (!has_currency_) {
    Str("currency", currency);
    has_currency_ = true;
  }
  return Str(key, MoneyText(units, currency));
}

std::string EventWriter::Finish() const {
  size_t size = 2;
  for (const auto& [k, v] : fields_) size += k.size() + v.size() + 4;
  std::string out;
  out.reserve(size);
  out += '{';
  for (const auto& [k, v] : fields_) {
    if (out.size() > 1) out += ',';
    json::AppendQuoted(out, k);
    out += ':';
    out += v;
  }
  out += '}';
  return out;
}

std::optional<std::string> CustomerRef(const PlatformConfig& config, std::string_view platform,
                                       const std::optional<std::string>& id) {
  if (config.customer_key.empty() || !id || id->empty()) return std::nullopt;
  std::string data(platform);
  data += ':';
  data += *id;
  return "c_" + HexOf(HmacSha256(config.customer_key, data).substr(0, 8));
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseParams(std::string_view text,
                                                                           char sep) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t end = text.find(sep);
    const std::string_view item = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    out.emplace_back(std::string(Trim(item.substr(0, eq))), std::string(Trim(item.substr(eq + 1))));
  }
  return out;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]);
    const int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

namespace {

std::optional<std::string> FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexDigit(text[i + 1]);
      const int lo = HexDigit(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    const size_t end = body.find('&');
    const std::string_view item = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    auto name = FormDecode(item.substr(0, eq));
    auto value = FormDecode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string_view> FindHeader(const Delivery& delivery,
                                           std::initializer_list<std::string_view> names) {
  if (delivery.headers == nullptr) return std::nullopt;
  for (std::string_view name : names) {
    if (auto value = delivery.headers->Find(name)) return value;
  }
  return std::nullopt;
}

}  // namespace aisle::connectors::webhooks::support
