#pragma once
// Replays a canonical NDJSON file into an engine: each line parsed, bad lines to the reject file
// with their line number and reason, blank lines skipped; the run goes on past every bad line.
//
// The file is a source of the engine, named by its canonical absolute path: before each line's
// event is pushed, the position just past that line is given to Engine::SetSourcePosition, so a
// checkpoint (automatic ones happen inside Push) saves the position of the last event it holds.
// A later replay of the same file with the same state resumes there: after a crash, events
// since the last checkpoint are read again and nothing before it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "connectors/ndjson/reject_writer.hpp"
#include "engine/core/result.hpp"
#include "engine/engine.hpp"

namespace aisle::connectors {

struct ReplayReport {
  int64_t lines = 0;       // lines read by this replay, blank ones included
  int64_t events = 0;      // lines that parsed into events (duplicates included)
  int64_t rejected = 0;    // lines written to the reject file
  uint64_t bytes = 0;      // bytes read by this replay
  int64_t first_line = 1;  // the line reading started at (after 1 when resumed)
};

struct ReplayOptions {
  // Reads from the first line even when the engine saved a position in the file (events seen
  // before are still dropped by their ids, within the dedup retention).
  bool from_start = false;
  // Told the file and the line reading resumes at, before reading, when it resumes.
  std::function<void(const std::string& path, int64_t line)> on_resume;
};

// Where a file source has read up to, as saved with a checkpoint (Engine::SetSourcePosition):
// [version 1][u64 byte offset just past the last line read][u64 that line's number].
struct FilePosition {
  uint64_t offset = 0;
  int64_t line = 0;  // 0: before the first line
};
void EncodeFilePosition(uint64_t offset, int64_t line, std::string& out);
bool DecodeFilePosition(std::string_view in, FilePosition& out);
// Whether the file still fits a position saved in it: at least that long, and a line ended there.
Status CheckResumable(const std::string& path, const FilePosition& at);

// Reads `path` to its end, from the saved position unless `from_start`. Fails when the file
// cannot be read, a reject cannot be written, or the file is shorter than the saved position
// (it changed since: nothing sensible to resume).
Result<ReplayReport> ReplayNdjson(const std::string& path, engine::Engine& engine,
                                  RejectWriter& rejects, const ReplayOptions& options = {});

}  // namespace aisle::connectors
