#include "connectors/webhooks/api_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <thread>

namespace aisle::connectors::webhooks {

namespace {

// splitmix64: a well-mixed 64-bit value from a counter (jitter without shared RNG state).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Retry-After as delta seconds; nullopt for an HTTP-date or garbage (then our own backoff applies).
std::optional<std::chrono::milliseconds> RetryAfter(const httplib::Response& response) {
  if (!response.has_header("Retry-After")) return std::nullopt;
  const std::string text = response.get_header_value("Retry-After");
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0 || seconds > 86400) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(seconds * 1000);
}

std::string Describe(std::string_view path, std::string_view what) {
  std::string out = "GET ";
  out += path;
  out += ": ";
  out += what;
  return out;
}

}  // namespace

ApiClientOptions SquareApiOptions(std::string access_token, std::string square_version,
                                  std::string base_url) {
  ApiClientOptions options;
  options.base_url = std::move(base_url);
  options.bearer_token = std::move(access_token);
  options.headers.emplace_back("Square-Version", std::move(square_version));
  return options;
}

ApiClientOptions CloverApiOptions(std::string api_token, std::string base_url) {
  ApiClientOptions options;
  options.base_url = std::move(base_url);
  options.bearer_token = std::move(api_token);
  return options;
}

ApiClient::ApiClient(ApiClientOptions options) : options_(std::move(options)) {
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  }
}

std::chrono::milliseconds ApiClient::BackoffFor(std::string_view path, int retry) const {
  int64_t delay = options_.base_backoff.count();
  const int64_t cap = options_.max_backoff.count();
  for (int i = 1; i < retry && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  if (!options_.jitter || delay <= 0) return std::chrono::milliseconds(delay);
  const uint64_t r = Mix(options_.jitter_seed ^ Mix(Fnv1a(path) + static_cast<uint64_t>(retry)));
  const int64_t half = delay / 2;
  return std::chrono::milliseconds(half + static_cast<int64_t>(r % static_cast<uint64_t>(delay - half + 1)));
}

Result<std::string> ApiClient::Fetch(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Error{Describe(path, "the path must start with '/'")};
  }
  try {
    httplib::Client client(options_.base_url);
    if (!client.is_valid()) {
      return UpstreamError("the API base URL is not a valid http(s) URL (configure the platform's api.base_url)");
    }
    const auto connect_us = std::chrono::duration_cast<std::chrono::microseconds>(options_.connect_timeout).count();
    const auto read_us = std::chrono::duration_cast<std::chrono::microseconds>(options_.read_timeout).count();
    client.set_connection_timeout(static_cast<time_t>(connect_us / 1000000), static_cast<time_t>(connect_us % 1000000));
    client.set_read_timeout(static_cast<time_t>(read_us / 1000000), static_cast<time_t>(read_us % 1000000));
    client.set_follow_location(false);
    httplib::Headers headers;
    headers.emplace("Accept", "application/json");
    if (!options_.bearer_token.empty()) {
      headers.emplace("Authorization", "Bearer " + options_.bearer_token);
    }
    for (const auto& [name, value] : options_.headers) headers.emplace(name, value);
    const std::string target(path);

    std::string last;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      std::optional<std::chrono::milliseconds> wait;
      const httplib::Result response = client.Get(target, headers);
      if (!response) {
        last = Describe(path, "connection failed (" + httplib::to_string(response.error()) + ")");
      } else {
        const int status = response->status;
        if (status >= 200 && status < 300) return response->body;
        last = Describe(path, "HTTP " + std::to_string(status));
        if (status == 429) {
          wait = RetryAfter(*response);
          if (wait && *wait > options_.max_retry_after) {
            return UpstreamError(last + ", Retry-After " + std::to_string(wait->count() / 1000) +
                                 " s is longer than we wait");
          }
        } else if (status < 500) {
          if (status == 401 || status == 403) {
            return UpstreamError(last + " (check the platform's API token and its permissions)");
          }
          return Error{last};
        }
      }
      if (attempt == options_.max_attempts) break;
      options_.sleep(wait ? *wait : BackoffFor(path, attempt));
    }
    return UpstreamError(last + " after " + std::to_string(options_.max_attempts) + " attempts");
  } catch (const std::exception& e) {
    return UpstreamError(Describe(path, std::string("client error: ") + e.what()));
  } catch (...) {
    return UpstreamError(Describe(path, "client error"));
  }
}

}  // namespace aisle::connectors::webhooks
