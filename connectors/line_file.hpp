#pragma once
// An append-only file of whole lines, for the JSONL outputs (emissions, rejects, late events):
// a reader of the file never sees half a line, even after the writing process was killed.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/result.hpp"

namespace aisle::connectors {

// Lines are gathered in memory and written only whole: when kBufferBytes have gathered, and on
// Flush. A write the system cuts short (full disk) is cut back to the last whole line. A file
// that already ends in a partial line (a process killed in the middle of a write) has that
// partial line cut off when it is opened. Owns its file descriptor; movable, not copyable, not
// thread-safe. The destructor writes what is gathered (without reporting errors: call Flush).
class LineFile {
 public:
  static constexpr size_t kBufferBytes = size_t{64} << 10;

  // Opens `path` for appending (created if missing) and repairs a partial last line. Errors name
  // the path and the system's reason.
  static Result<LineFile> Open(const std::string& path);

  LineFile(LineFile&& other) noexcept;
  LineFile& operator=(LineFile&& other) noexcept;
  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;
  ~LineFile();

  // Adds `line` and a newline. The line must hold no newline of its own. Fails only when the
  // gathered lines had to be written and could not be.
  Status Append(std::string_view line);
  // Writes every gathered line; with `sync`, waits until they reach the disk.
  Status Flush(bool sync);

  // Bytes of a partial last line cut off when the file was opened (0 when it ended whole).
  uint64_t repaired_bytes() const { return repaired_bytes_; }
  const std::string& path() const { return path_; }

 private:
  LineFile(int fd, std::string path, uint64_t size, uint64_t repaired)
      : fd_(fd), path_(std::move(path)), size_(size), repaired_bytes_(repaired) {}
  Status WriteGathered();
  void Close();

  int fd_ = -1;
  std::string path_;
  std::string gathered_;  // whole lines not written yet
  uint64_t size_ = 0;     // the file's size: where its last whole line ends
  uint64_t repaired_bytes_ = 0;
};

}  // namespace aisle::connectors
