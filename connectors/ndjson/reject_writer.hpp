#pragma once
// The reject file of an NDJSON import: one JSON object per line that could not be parsed.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "engine/core/result.hpp"

namespace aisle::connectors {

// Appends {"line":N,"reason":"...","raw":"..."} for each rejected line to a file, which is
// opened (for appending) on the first reject, so a clean import leaves no file. Bytes that are
// not UTF-8 are written as U+FFFD. With an empty path rejects are only counted. Movable, not
// thread-safe; the destructor flushes and closes.
class RejectWriter {
 public:
  explicit RejectWriter(std::string path);
  RejectWriter(RejectWriter&& other) noexcept;
  RejectWriter& operator=(RejectWriter&& other) noexcept;
  RejectWriter(const RejectWriter&) = delete;
  RejectWriter& operator=(const RejectWriter&) = delete;
  ~RejectWriter();

  // Records one rejected line (1-based `line`, the parser's `reason`, the line's bytes). The
  // reject is counted even when writing fails; the error names the path.
  Status Write(int64_t line, std::string_view reason, std::string_view raw);
  // Flushes buffered rejects to the file (a no-op before the first reject).
  Status Flush();

  // Rejects recorded so far.
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  void Close();

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t count_ = 0;
};

}  // namespace aisle::connectors
