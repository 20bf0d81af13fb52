#pragma once
// The reject file of an NDJSON import: one JSON object per line that could not be parsed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/line_file.hpp"
#include "engine/core/result.hpp"

namespace aisle::connectors {

// Appends {"line":N,"reason":"...","raw":"..."} for each rejected line to a file, which is
// opened (for appending) on the first reject, so a clean import leaves no file. Bytes that are
// not UTF-8 are written as U+FFFD. With an empty path rejects are only counted. Lines go out
// whole only (LineFile). Movable, not thread-safe; the destructor writes what is gathered.
class RejectWriter {
 public:
  explicit RejectWriter(std::string path);
  RejectWriter(RejectWriter&& other) noexcept = default;
  RejectWriter& operator=(RejectWriter&& other) noexcept = default;
  RejectWriter(const RejectWriter&) = delete;
  RejectWriter& operator=(const RejectWriter&) = delete;

  // Records one rejected line (1-based `line`, the parser's `reason`, the line's bytes). The
  // reject is counted even when writing fails; the error names the path.
  Status Write(int64_t line, std::string_view reason, std::string_view raw);
  // Writes the gathered rejects to the file and syncs it (a no-op before the first reject). A
  // replay calls it at every checkpoint (Engine::AddCheckpointHook) and at the end of a file.
  Status Flush();

  // Rejects recorded so far.
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<LineFile> file_;
  uint64_t count_ = 0;
};

}  // namespace aisle::connectors
