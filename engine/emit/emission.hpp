#pragma once
// What a firing rule produces (INTERFACES.md, "Emissions"), and the sink interface that delivers
// it. Values are rendered once, when the emission is made: emissions are rare next to events.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dsl/plan.hpp"
#include "dsl/value.hpp"

namespace aisle::engine {

struct Emission {
  std::string id;  // deterministic: rule set, rule, key, window
  dsl::plan::EmitKind kind = dsl::plan::EmitKind::kAlert;
  std::string rule;
  dsl::plan::Severity severity = dsl::plan::Severity::kWarning;
  std::string store;
  std::string channel;
  // Name -> JSON text of the value ("\"S012\"", "12.5", "\"23.40 USD\"").
  std::vector<std::pair<std::string, std::string>> key;
  std::optional<std::pair<int64_t, int64_t>> window;  // [start, end), microseconds
  std::vector<std::pair<std::string, std::string>> values;
  std::string message;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string ruleset;
  int64_t ts = 0;  // event time of the emission
  bool correction = false;
};

std::string_view KindName(dsl::plan::EmitKind kind);
std::string_view SeverityName(dsl::plan::Severity severity);

// The emission as one JSON object (no newline), fields in the order of INTERFACES.md.
std::string ToJson(const Emission& e);
// One readable line for a terminal: time, severity, rule, store, message.
std::string ToReadableLine(const Emission& e);

// A value as JSON text: money as "23.40 USD" (the currency's minor digits), timestamps as
// RFC 3339 strings, durations as "90s"-style strings, decimals as numbers.
std::string ValueJson(const dsl::Value& v);
// A value as message text, with an optional format spec: money, int, .Nf, .N%.
// `local %...` patterns render times in the IANA zone `timezone` (UTC when empty or unknown).
std::string FormatValue(const dsl::Value& v, std::string_view spec, std::string_view timezone = {});

// Receives emissions. Implementations live in connectors/ (stdout, JSONL file, ...).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Emit(const Emission& emission) = 0;
  // Makes everything emitted so far durable or visible; false with `error` on failure.
  virtual bool Flush(std::string& error) = 0;
};

}  // namespace aisle::engine
