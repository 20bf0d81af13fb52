#include "connectors/server/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "connectors/secret.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors::server {

namespace {

using Json = nlohmann::json;

const std::set<std::string> kPlatforms = {"shopify", "square", "lightspeed", "clover", "native"};

Result<std::vector<std::string>> Secrets(const Json& list, const std::string& where,
                                         const std::string& base_dir,
                                         const std::map<std::string, std::string>* env) {
  if (!list.is_array() || list.empty()) return Error{where + ": expected a non-empty array of secrets"};
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    auto secret = ResolveSecret(list[i], where + "[" + std::to_string(i) + "]", base_dir, env);
    if (!secret) return secret.error();
    out.push_back(std::move(*secret));
  }
  return out;
}

Result<std::map<std::string, std::string>> StringMap(const Json& j, const std::string& where) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return Error{where + ": expected an object of strings"};
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return Error{where + "." + k + ": expected a string"};
    out[k] = v.get<std::string>();
  }
  return out;
}

template <typename T>
Result<T> Number(const Json& parent, const char* key, T fallback, T low, T high, const std::string& where) {
  if (!parent.contains(key)) return fallback;
  const Json& v = parent.at(key);
  if (!v.is_number_integer()) return Error{where + "." + key + ": expected an integer"};
  const auto n = v.get<int64_t>();
  if (n < static_cast<int64_t>(low) || n > static_cast<int64_t>(high))
    return Error{where + "." + key + ": must be between " + std::to_string(low) + " and " + std::to_string(high)};
  return static_cast<T>(n);
}

Result<PlatformSettings> Platform(const std::string& name, const Json& j, const std::string& base_dir,
                                  const std::map<std::string, std::string>* env) {
  const std::string where = "platforms." + name;
  if (!j.is_object()) return Error{where + ": expected an object"};
  static const std::set<std::string> kKeys = {"secrets", "notification_url", "replay_window_seconds",
                                              "stores", "skus", "currency", "api", "checkout_secrets"};
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) return Error{where + ": unknown key '" + k + "'"};
  }
  PlatformSettings p;
  if (!j.contains("secrets")) return Error{where + ": needs \"secrets\""};
  auto secrets = Secrets(j.at("secrets"), where + ".secrets", base_dir, env);
  if (!secrets) return secrets.error();
  p.webhook.secrets = std::move(*secrets);
  if (j.contains("notification_url")) {
    if (!j.at("notification_url").is_string()) return Error{where + ".notification_url: expected a string"};
    p.webhook.notification_url = j.at("notification_url").get<std::string>();
  } else if (name == "square") {
    return Error{where + ": Square signs the notification URL: set \"notification_url\" exactly as subscribed"};
  }
  auto window = Number<int64_t>(j, "replay_window_seconds", 300, 1, 86'400, where);
  if (!window) return window.error();
  p.webhook.replay_window_seconds = *window;
  if (j.contains("stores")) {
    auto m = StringMap(j.at("stores"), where + ".stores");
    if (!m) return m.error();
    p.webhook.ids.stores = std::move(*m);
  }
  if (j.contains("skus")) {
    auto m = StringMap(j.at("skus"), where + ".skus");
    if (!m) return m.error();
    p.webhook.ids.skus = std::move(*m);
  }
  if (j.contains("currency")) {
    if (!j.at("currency").is_string() || j.at("currency").get<std::string>().size() != 3)
      return Error{where + ".currency: expected an ISO 4217 code"};
    p.webhook.default_currency = j.at("currency").get<std::string>();
  }
  if (j.contains("api")) {
    const Json& a = j.at("api");
    if (!a.is_object() || !a.contains("base_url") || !a.at("base_url").is_string())
      return Error{where + ".api: needs \"base_url\""};
    ApiSettings api;
    api.base_url = a.at("base_url").get<std::string>();
    if (a.contains("token")) {
      auto token = ResolveSecret(a.at("token"), where + ".api.token", base_dir, env);
      if (!token) return token.error();
      api.token = std::move(*token);
    }
    auto attempts = Number<int>(a, "max_attempts", 4, 1, 20, where + ".api");
    if (!attempts) return attempts.error();
    api.max_attempts = *attempts;
    auto timeout = Number<int>(a, "timeout_ms", 3000, 10, 60'000, where + ".api");
    if (!timeout) return timeout.error();
    api.timeout_ms = *timeout;
    p.api = std::move(api);
  }
  if (j.contains("checkout_secrets")) {
    auto s = Secrets(j.at("checkout_secrets"), where + ".checkout_secrets", base_dir, env);
    if (!s) return s.error();
    p.checkout_secrets = std::move(*s);
  }
  return p;
}

}  // namespace

Result<ServeConfig> ParseServeConfig(std::string_view text, const std::string& base_dir,
                                     const std::map<std::string, std::string>* env) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Error{std::string("not valid JSON: ") + e.what()};
  }
  if (!j.is_object()) return Error{"expected a JSON object"};
  static const std::set<std::string> kKeys = {"listen", "limits", "checkpoint_seconds", "platforms",
                                              "sinks", "clock", "customer_key"};
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) return Error{"unknown key '" + k + "'"};
  }
  ServeConfig c;
  if (j.contains("listen")) {
    if (!j.at("listen").is_string()) return Error{"listen: expected \"HOST:PORT\""};
    c.listen = j.at("listen").get<std::string>();
  }
  if (j.contains("limits")) {
    const Json& l = j.at("limits");
    if (!l.is_object()) return Error{"limits: expected an object"};
    static const std::set<std::string> kLimits = {"max_body_bytes", "max_pending", "retry_after_seconds",
                                                  "threads", "api_threads"};
    for (const auto& [k, v] : l.items()) {
      if (!kLimits.count(k)) return Error{"limits: unknown key '" + k + "'"};
    }
    auto body = Number<int64_t>(l, "max_body_bytes", c.max_body_bytes, 1024, int64_t{1} << 30, "limits");
    if (!body) return body.error();
    c.max_body_bytes = *body;
    auto pending = Number<int64_t>(l, "max_pending", c.max_pending, 1, 10'000'000, "limits");
    if (!pending) return pending.error();
    c.max_pending = *pending;
    auto retry = Number<int>(l, "retry_after_seconds", c.retry_after_seconds, 1, 3600, "limits");
    if (!retry) return retry.error();
    c.retry_after_seconds = *retry;
    auto threads = Number<int>(l, "threads", c.threads, 0, 256, "limits");
    if (!threads) return threads.error();
    c.threads = *threads;
    auto api_threads = Number<int>(l, "api_threads", c.api_threads, 1, 256, "limits");
    if (!api_threads) return api_threads.error();
    c.api_threads = *api_threads;
  }
  auto every = Number<int>(j, "checkpoint_seconds", c.checkpoint_seconds, 1, 3600, "config");
  if (!every) return every.error();
  c.checkpoint_seconds = *every;
  std::string customer_key;
  if (j.contains("customer_key")) {
    auto key = ResolveSecret(j.at("customer_key"), "customer_key", base_dir, env);
    if (!key) return key.error();
    customer_key = std::move(*key);
  }
  if (j.contains("platforms")) {
    const Json& ps = j.at("platforms");
    if (!ps.is_object()) return Error{"platforms: expected an object"};
    for (const auto& [name, p] : ps.items()) {
      if (!kPlatforms.count(name))
        return Error{"platforms: unknown platform '" + name + "' (shopify, square, lightspeed, clover, native)"};
      auto settings = Platform(name, p, base_dir, env);
      if (!settings) return settings.error();
      settings->webhook.customer_key = customer_key;
      c.platforms[name] = std::move(*settings);
    }
  }
  if (j.contains("sinks")) {
    if (!j.at("sinks").is_array()) return Error{"sinks: expected an array"};
    for (const auto& s : j.at("sinks")) {
      if (!s.is_object() || !s.contains("type") || !s.at("type").is_string())
        return Error{"sinks: each sink is an object with a \"type\""};
      c.sinks.push_back({s.at("type").get<std::string>(), s.dump()});
    }
  }
  if (j.contains("clock")) {
    const Json& clock = j.at("clock");
    if (!clock.is_object() || !clock.contains("start") || !clock.at("start").is_string())
      return Error{"clock: expected {\"start\": \"RFC 3339 instant\"} (tests only)"};
    const auto start = dsl::ParseTimestamp(clock.at("start").get<std::string>());
    if (!start) return Error{"clock.start: not an RFC 3339 instant"};
    c.clock_start_us = *start;
  }
  return c;
}

Result<ServeConfig> LoadServeConfig(const std::string& path, const std::map<std::string, std::string>* env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read config " + path};
  std::ostringstream text;
  text << in.rdbuf();
  auto config = ParseServeConfig(text.str(), std::filesystem::path(path).parent_path().string(), env);
  if (!config) return Error{path + ": " + config.error().message};
  return config;
}

}  // namespace aisle::connectors::server
