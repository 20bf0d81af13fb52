#pragma once
// Sequential line reading of large NDJSON files, resumable at a byte offset.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/result.hpp"

namespace aisle::connectors {

// Reads a file front to back in large blocks and yields its lines without the "\n" (and without a
// "\r" before it). Empty lines are yielded too (callers skip blank lines); a last line without a
// newline is yielded; a UTF-8 byte order mark at the start of the file is dropped. A block grows
// to hold a line longer than itself. Owns its file descriptor; movable, not copyable, not
// thread-safe.
class LineReader {
 public:
  // Default size of one read, and the initial buffer size.
  static constexpr size_t kDefaultBlockSize = size_t{1} << 20;

  // Opens `path` for reading from byte `start_offset`, numbering its first line `start_line` (a
  // resumed replay passes the offset() and line_number() + 1 it stopped at). Errors name the
  // path and the system's reason.
  static Result<LineReader> Open(const std::string& path, uint64_t start_offset = 0,
                                 int64_t start_line = 1, size_t block_size = kDefaultBlockSize);

  LineReader(LineReader&& other) noexcept;
  LineReader& operator=(LineReader&& other) noexcept;
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  ~LineReader();

  // Sets `line` to the next line (valid until the next call) and returns true; returns false at
  // the end of the file or when a read fails (then status() is not ok).
  bool Next(std::string_view& line);

  // 1-based number of the line last returned (start_line - 1 before the first).
  int64_t line_number() const { return line_number_; }
  // Byte offset just past the line last returned, its newline included: where to resume.
  uint64_t offset() const { return offset_; }
  // Ok unless a read failed.
  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(int fd, std::string path, uint64_t offset, int64_t line_number, size_t block_size);
  bool Fill();
  void Close();

  int fd_ = -1;
  std::string path_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first unread byte in buffer_
  size_t scan_ = 0;   // bytes in [begin_, scan_) hold no newline
  size_t end_ = 0;    // one past the last byte read into buffer_
  bool eof_ = false;
  bool at_file_start_ = false;  // the next line starts at byte 0 (may carry a BOM)
  uint64_t offset_ = 0;
  int64_t line_number_ = 0;
  Status status_;
};

}  // namespace aisle::connectors
