#pragma once
// Shared by the webhook fuzz targets: the promises every normalizer keeps whatever the bytes.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/webhooks/webhook.hpp"
#include "engine/core/event.hpp"

namespace aisle::fuzz {

inline void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// A normalize result: an Error has a one-line reason; a Normalized has a delivery id and events
// that each parse as canonical events, with an id and a store.
inline void CheckNormalized(const Result<connectors::webhooks::Normalized>& result) {
  static connectors::EventParser parser;
  static engine::Event event;
  if (!result) {
    Check(!result.error().message.empty());
    return;
  }
  Check(!result->delivery_id.empty());
  std::string reason;
  for (const std::string& line : result->events) {
    Check(line.find('\n') == std::string::npos);
    reason.clear();
    Check(parser.Parse(line, event, reason));
    Check(!event.id().empty() && !event.store().empty());
  }
  // A note explains why there are no events.
  Check(result->note.empty() || result->events.empty());
}

// The first byte of a fuzz input picks a mode; the rest is the payload.
struct Input {
  uint8_t mode = 0;
  std::string_view rest;
};

inline Input Split(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  return {data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

// Splits at the first NUL: what comes before is the body, what comes after (if any) is what a
// fuzzed platform API answers.
struct BodyAndApi {
  std::string_view body;
  std::string_view api;
};
inline BodyAndApi SplitAtNul(std::string_view rest) {
  const size_t nul = rest.find('\0');
  if (nul == std::string_view::npos) return {rest, {}};
  return {rest.substr(0, nul), rest.substr(nul + 1)};
}

#ifdef AISLE_POS_FIXTURES
// A file of the POS fixtures, byte for byte.
inline std::string ReadFixture(const char* relative) {
  std::ifstream in(std::string(AISLE_POS_FIXTURES) + "/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
#endif

}  // namespace aisle::fuzz
