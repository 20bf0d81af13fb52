#pragma once
// Reads the POS webhook fixtures (tests/fixtures/pos, byte for byte) and their manifests, builds
// deliveries from them, and reads canonical events back through EventParser. For tests only.

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/webhooks/webhook.hpp"
#include "dsl/schema.hpp"
#include "dsl/time.hpp"
#include "engine/core/event.hpp"

namespace aisle::testing {

inline std::string ReadPosFixture(const std::string& relative) {
  std::ifstream in(std::string(AISLE_POS_FIXTURES) + "/" + relative, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline nlohmann::json PosManifest(const std::string& folder) {
  return nlohmann::json::parse(ReadPosFixture(folder + "/manifest.json"));
}

// The manifest's headers, with `overrides` replacing values of the same name.
inline connectors::webhooks::Headers HeadersOf(const nlohmann::json& headers,
                                               const nlohmann::json& overrides = nlohmann::json::object()) {
  connectors::webhooks::Headers out;
  for (const auto& [name, value] : headers.items()) {
    out.Add(name, overrides.contains(name) ? overrides[name].get<std::string>() : value.get<std::string>());
  }
  return out;
}

// Every event of `lines` parsed by the canonical parser (each must parse).
inline std::vector<engine::Event> ParseEvents(const std::vector<std::string>& lines) {
  connectors::EventParser parser;
  std::vector<engine::Event> events;
  for (const std::string& line : lines) {
    engine::Event event;
    std::string reason;
    INFO(line);
    REQUIRE(parser.Parse(line, event, reason));
    CHECK(reason.empty());
    events.push_back(event);
  }
  return events;
}

inline dsl::Value FieldOf(const engine::Event& event, std::string_view field) {
  const auto slot = event.schema().Slot(field);
  REQUIRE(slot);
  return event.Get(*slot);
}

// Money in 1/10,000 units, checking the currency is USD.
inline int64_t UsdOf(const engine::Event& event, std::string_view field) {
  const dsl::Value v = FieldOf(event, field);
  REQUIRE(v.type == dsl::Type::kMoney);
  char code[4];
  CHECK(dsl::CurrencyCode(v.currency, code) == "USD");
  return v.i;
}

inline std::string StrOf(const engine::Event& event, std::string_view field) {
  const dsl::Value v = FieldOf(event, field);
  if (v.is_null()) return "<absent>";
  REQUIRE(v.type == dsl::Type::kString);
  return std::string(v.str());
}

inline std::string ExtraOf(const engine::Event& event, std::string_view name) {
  std::string_view text;
  if (!event.FindExtra(name, text)) return "<absent>";
  return std::string(text);
}

inline std::string TsOf(const engine::Event& event, std::string_view field = "ts") {
  const dsl::Value v = FieldOf(event, field);
  REQUIRE(v.type == dsl::Type::kTimestamp);
  return dsl::FormatTimestamp(v.i);
}

}  // namespace aisle::testing
