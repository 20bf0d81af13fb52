#pragma once
// Canonical NDJSON events (INTERFACES.md): one JSON object a line -> an engine::Event.

#include <memory>
#include <string>
#include <string_view>

#include "engine/core/event.hpp"

namespace aisle::connectors {

// Parses canonical event lines into events, strictly: a line either becomes a complete, typed
// event or is rejected with a one-line reason. Keeps its JSON parser and buffers across calls, so
// parsing does not allocate once warm. Not thread-safe: one parser per thread. Movable.
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(EventParser&&) noexcept;
  EventParser& operator=(EventParser&&) noexcept;
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses one line (without its newline) into `event`. On success returns true and `event` holds
  // the typed fields in their schema slots plus unknown keys as extras; on failure returns false,
  // sets `reason` (one line, e.g. "field 'total': expected money, got \"abc\"") and leaves `event`
  // in an unspecified but valid state. Never throws, whatever the bytes.
  bool Parse(std::string_view line, engine::Event& event, std::string& reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aisle::connectors
