#pragma once
// Canonical event lines for tests (INTERFACES.md): one NDJSON object each.

#include <string>

#include <fmt/format.h>

namespace aisle::testing {

// A completed USD sale of `total` ("12.50") at `ts` (RFC 3339).
inline std::string Sale(const std::string& id, const std::string& store, const std::string& ts,
                        const std::string& total) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"{}","source":"file","currency":"USD","total":"{}","status":"completed"}})",
      id, store, ts, total);
}

}  // namespace aisle::testing
