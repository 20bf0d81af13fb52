#pragma once
// Replays a canonical NDJSON file into an engine: each line parsed, bad lines to the reject file
// with their line number and reason, blank lines skipped; the run goes on past every bad line.

#include <cstdint>
#include <string>

#include "connectors/ndjson/reject_writer.hpp"
#include "engine/core/result.hpp"
#include "engine/engine.hpp"

namespace aisle::connectors {

struct ReplayReport {
  int64_t lines = 0;     // lines read, blank ones included
  int64_t events = 0;    // lines that parsed into events (duplicates included)
  int64_t rejected = 0;  // lines written to the reject file
  uint64_t bytes = 0;
};

// Reads `path` to its end. Fails only when the file cannot be read or a reject cannot be written.
Result<ReplayReport> ReplayNdjson(const std::string& path, engine::Engine& engine,
                                  RejectWriter& rejects);

}  // namespace aisle::connectors
