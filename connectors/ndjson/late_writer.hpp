#pragma once
// The late-events output: one JSON object a line for each event that came after its window
// closed for good, with the metric that refused it and that metric's allowed lateness. The event
// is written back in canonical NDJSON form (INTERFACES.md), so a backfill can replay it. The file
// is created on the first late event; lines go out whole only (LineFile).

#include <cstdint>
#include <optional>
#include <string>

#include "connectors/line_file.hpp"
#include "engine/core/late_event.hpp"
#include "engine/core/result.hpp"

namespace aisle::connectors {

class LateWriter {
 public:
  explicit LateWriter(std::string path);
  LateWriter(const LateWriter&) = delete;
  LateWriter& operator=(const LateWriter&) = delete;

  // Records one late event; the count grows even when writing fails (the error names the path).
  Status Write(const engine::LateEvent& late);
  // Writes the gathered lines and syncs the file. A replay calls it at every checkpoint
  // (Engine::AddCheckpointHook), while no shard runs.
  Status Flush();

  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<LineFile> file_;
  uint64_t count_ = 0;
};

// An event as one canonical NDJSON object (no newline): money as exact decimal strings beside
// its `currency`, instants as RFC 3339, extra fields as strings.
std::string CanonicalEventJson(const engine::Event& event);

}  // namespace aisle::connectors
