// The HTTP sink's request bodies, its settings from the serve config, and its factory.
#include <time.h>

#include <cctype>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "connectors/secret.hpp"
#include "connectors/sinks/http_sink.hpp"

namespace aisle::connectors {

namespace {

using Json = nlohmann::json;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// RFC 9110 token characters, for header names.
bool ValidHeaderName(const std::string& name) {
  static const std::string kSpecial = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecial.find(c) != std::string::npos;
  });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A string, or a secret reference resolved here.
Result<std::string> StringOrSecret(const Json& v, const std::string& where, const std::string& base_dir,
                                   const std::map<std::string, std::string>* env) {
  if (v.is_string()) return v.get<std::string>();
  return ResolveSecret(v, where, base_dir, env);
}

Result<int64_t> Integer(const Json& j, const char* key, int64_t fallback, int64_t low, int64_t high,
                        const std::string& where) {
  if (!j.contains(key)) return fallback;
  const Json& v = j.at(key);
  if (!v.is_number_integer()) return Error{where + "." + key + ": expected an integer"};
  const auto n = v.get<int64_t>();
  if (n < low || n > high)
    return Error{where + "." + key + ": must be between " + std::to_string(low) + " and " + std::to_string(high)};
  return n;
}

}  // namespace

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string HttpBody(const engine::Emission& emission, HttpBodyFormat format) {
  if (format == HttpBodyFormat::kJson) return engine::ToJson(emission);
  nlohmann::ordered_json body;
  body["text"] = SlackEscape(engine::ToReadableLine(emission));
  body["mrkdwn"] = false;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_unix_us) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;  // more than 31 years: not a real answer
    return std::stoll(std::string(value)) * 1'000'000;
  }
  // An HTTP date (RFC 9110, IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t at_us = static_cast<int64_t>(::timegm(&tm)) * 1'000'000;
  return std::max<int64_t>(0, at_us - now_unix_us);
}

Result<HttpSinkOptions> ParseHttpSinkOptions(const std::string& sink_json, const std::string& base_dir,
                                             const std::map<std::string, std::string>* env) {
  Json j;
  try {
    j = Json::parse(sink_json);
  } catch (const Json::parse_error& e) {
    return Error{std::string("sinks: not valid JSON: ") + e.what()};
  }
  if (!j.is_object()) return Error{"sinks: a sink is a JSON object"};
  static const std::set<std::string> kKeys = {"type",       "name",       "url",        "format",
                                              "headers",    "timeout_ms", "max_attempts", "backoff_ms",
                                              "max_backoff_ms", "rate_per_second", "burst"};
  std::string where = "sinks.webhook";
  if (!j.contains("name") || !j.at("name").is_string() || !ValidName(j.at("name").get<std::string>()))
    return Error{where + ": needs a \"name\" (letters, digits, '-', '_', '.'; it names the outbox folder)"};
  HttpSinkOptions o;
  o.name = j.at("name").get<std::string>();
  where = "sinks." + o.name;
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) return Error{where + ": unknown key '" + k + "'"};
  }
  if (!j.contains("type") || j.at("type") != "webhook") return Error{where + ": type must be \"webhook\""};
  if (!j.contains("url")) return Error{where + ": needs \"url\""};
  auto url = StringOrSecret(j.at("url"), where + ".url", base_dir, env);
  if (!url) return url.error();
  o.url = std::move(*url);
  // The URL may be a secret (a Slack webhook URL is one): the message names the setting only.
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0)
    return Error{where + ".url: expected an http:// or https:// URL"};
  if (j.contains("format")) {
    const Json& f = j.at("format");
    if (f == "json") {
      o.format = HttpBodyFormat::kJson;
    } else if (f == "slack") {
      o.format = HttpBodyFormat::kSlack;
    } else {
      return Error{where + ".format: expected \"json\" or \"slack\""};
    }
  }
  if (j.contains("headers")) {
    const Json& h = j.at("headers");
    if (!h.is_object()) return Error{where + ".headers: expected an object"};
    for (const auto& [name, v] : h.items()) {
      if (!ValidHeaderName(name)) return Error{where + ".headers: '" + name + "' is not a header name"};
      for (const char* own : {"Idempotency-Key", "Content-Type", "Content-Length", "Host"}) {
        if (EqualsIgnoreCase(name, own)) return Error{where + ".headers." + name + ": the sink sets it itself"};
      }
      auto value = StringOrSecret(v, where + ".headers." + name, base_dir, env);
      if (!value) return value.error();
      if (value->find_first_of("\r\n") != std::string::npos)
        return Error{where + ".headers." + name + ": a header value cannot contain a line break"};
      o.headers.emplace_back(name, std::move(*value));
    }
  }
  auto timeout = Integer(j, "timeout_ms", o.timeout_ms, 10, 120'000, where);
  if (!timeout) return timeout.error();
  o.timeout_ms = static_cast<int>(*timeout);
  auto attempts = Integer(j, "max_attempts", o.max_attempts, 1, 1000, where);
  if (!attempts) return attempts.error();
  o.max_attempts = static_cast<int>(*attempts);
  auto backoff = Integer(j, "backoff_ms", o.backoff_ms, 1, 3'600'000, where);
  if (!backoff) return backoff.error();
  o.backoff_ms = *backoff;
  auto max_backoff = Integer(j, "max_backoff_ms", o.max_backoff_ms, 1, 86'400'000, where);
  if (!max_backoff) return max_backoff.error();
  o.max_backoff_ms = *max_backoff;
  if (o.max_backoff_ms < o.backoff_ms) return Error{where + ": max_backoff_ms must be at least backoff_ms"};
  if (j.contains("rate_per_second")) {
    const Json& r = j.at("rate_per_second");
    if (!r.is_number() || r.get<double>() <= 0 || r.get<double>() > 10'000)
      return Error{where + ".rate_per_second: expected a number above 0, at most 10000"};
    o.rate_per_second = r.get<double>();
  }
  auto burst = Integer(j, "burst", o.burst, 1, 10'000, where);
  if (!burst) return burst.error();
  o.burst = static_cast<int>(*burst);
  return o;
}

std::string HttpSinkOutboxDir(const std::string& data_dir, const std::string& name) {
  return (std::filesystem::path(data_dir) / "outbox" / name).string();
}

Result<std::unique_ptr<HttpSink>> MakeHttpSink(const std::string& sink_json, const std::string& data_dir,
                                               const std::string& base_dir,
                                               const std::map<std::string, std::string>* env) {
  auto options = ParseHttpSinkOptions(sink_json, base_dir, env);
  if (!options) return options.error();
  const std::string dir = HttpSinkOutboxDir(data_dir, options->name);
  auto sink = HttpSink::Open(std::move(*options), dir);
  if (!sink) return sink.error();
  return std::move(sink).value();
}

}  // namespace aisle::connectors
