#pragma once
// Shared by the Square and Clover webhook tests: fixture files, manifests, a map-backed
// ObjectFetcher, and parsing produced lines back through the canonical EventParser.

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/webhooks/webhook.hpp"
#include "dsl/time.hpp"
#include "engine/core/event.hpp"

namespace aisle::connectors::webhooks::testing {

inline std::string ReadFixture(const std::string& relative) {
  std::ifstream in(std::string(AISLE_POS_FIXTURES) + "/" + relative, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline nlohmann::json Manifest(const std::string& platform) {
  return nlohmann::json::parse(ReadFixture(platform + "/manifest.json"));
}

// Serves fixed bodies by path (the part before '?' when `ignore_query`), records each request;
// an unknown path is an Error like ApiClient's 404.
class MapFetcher : public ObjectFetcher {
 public:
  explicit MapFetcher(bool ignore_query = true) : ignore_query_(ignore_query) {}
  void Serve(std::string path, std::string body) { bodies_[std::move(path)] = std::move(body); }
  Result<std::string> Fetch(std::string_view path) override {
    requests.emplace_back(path);
    std::string key(path);
    if (ignore_query_) key = key.substr(0, key.find('?'));
    const auto it = bodies_.find(key);
    if (it == bodies_.end()) return Error{"GET " + key + ": HTTP 404"};
    return it->second;
  }
  std::vector<std::string> requests;

 private:
  bool ignore_query_;
  std::map<std::string, std::string> bodies_;
};

// One produced line parsed back: the event plus named access to its fields.
struct Parsed {
  engine::Event event;
  std::string line;
  dsl::Value Field(std::string_view name) const {
    const auto slot = event.schema().Slot(name);
    REQUIRE(slot);
    return event.Get(*slot);
  }
  std::string Str(std::string_view name) const { return std::string(Field(name).str()); }
  int64_t Money(std::string_view name) const {
    const dsl::Value v = Field(name);
    REQUIRE(v.type == dsl::Type::kMoney);
    return v.i;
  }
  std::string Extra(std::string_view name) const {
    std::string_view text;
    return event.FindExtra(name, text) ? std::string(text) : std::string("<absent>");
  }
  std::string Ts() const { return dsl::FormatTimestamp(event.ts()); }
};

// Every line must parse; returns them in order.
inline std::vector<Parsed> ParseAll(const std::vector<std::string>& lines) {
  std::vector<Parsed> out;
  EventParser parser;
  for (const std::string& line : lines) {
    Parsed parsed;
    parsed.line = line;
    std::string reason;
    INFO(line);
    const bool ok = parser.Parse(line, parsed.event, reason);
    INFO(reason);
    REQUIRE(ok);
    out.push_back(std::move(parsed));
  }
  return out;
}

// A Delivery over `body` with the manifest's headers (owned by the returned struct).
struct OwnedDelivery {
  Headers headers;
  std::string body;
  std::string path;
  int64_t now_us = 0;
  Delivery Get() const { return Delivery{path, &headers, body, now_us}; }
};

inline OwnedDelivery FromManifest(const std::string& platform, const nlohmann::json& entry,
                                  const nlohmann::json& headers) {
  OwnedDelivery out;
  out.body = ReadFixture(platform + "/" + entry.at("file").get<std::string>());
  out.path = "/webhooks/" + platform;
  for (const auto& [name, value] : headers.items()) out.headers.Add(name, value.get<std::string>());
  return out;
}

}  // namespace aisle::connectors::webhooks::testing
