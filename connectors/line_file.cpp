#include "connectors/line_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "connectors/system_error.hpp"

namespace aisle::connectors {

namespace {

// Where the last whole line of the file ends: just past its last newline (0 when it has none).
Result<uint64_t> WholeLinesEnd(int fd, const std::string& path, uint64_t size) {
  char block[4096];
  uint64_t end = size;
  while (end > 0) {
    const uint64_t begin = end > sizeof block ? end - sizeof block : 0;
    const auto want = static_cast<size_t>(end - begin);
    ssize_t n = ::pread(fd, block, want, static_cast<off_t>(begin));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(want))
      return SystemError(path, "cannot read", n < 0 ? errno : EIO);
    const void* found = ::memrchr(block, '\n', want);
    if (found != nullptr)
      return begin + static_cast<uint64_t>(static_cast<const char*>(found) - block) + 1;
    end = begin;
  }
  return uint64_t{0};
}
}  // namespace

Result<LineFile> LineFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) return SystemError(path, "cannot open", errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return SystemError(path, "cannot stat", error);
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  auto whole = WholeLinesEnd(fd, path, size);
  if (!whole) {
    ::close(fd);
    return whole.error();
  }
  // A partial last line is what a process killed in the middle of a write (or a full disk, under
  // an older version) leaves. It is cut off rather than ended with a newline: it is never valid
  // JSON, and it was not covered by a checkpoint (a checkpoint flushes its lines before it writes
  // the state), so the replay after the crash writes that line again, whole.
  if (*whole < size && ::ftruncate(fd, static_cast<off_t>(*whole)) != 0) {
    int error = errno;
    ::close(fd);
    return SystemError(path, "cannot cut the partial last line", error);
  }
  return LineFile(fd, path, *whole, size - *whole);
}

LineFile::LineFile(LineFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      gathered_(std::move(other.gathered_)),
      size_(other.size_),
      repaired_bytes_(other.repaired_bytes_) {}

LineFile& LineFile::operator=(LineFile&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    gathered_ = std::move(other.gathered_);
    size_ = other.size_;
    repaired_bytes_ = other.repaired_bytes_;
  }
  return *this;
}

LineFile::~LineFile() {
  Close();
}

void LineFile::Close() {
  if (fd_ < 0) return;
  (void)WriteGathered();
  ::close(fd_);
  fd_ = -1;
}

Status LineFile::Append(std::string_view line) {
  gathered_.append(line);
  gathered_.push_back('\n');
  return gathered_.size() >= kBufferBytes ? WriteGathered() : Status::Ok();
}

Status LineFile::Flush(bool sync) {
  Status s = WriteGathered();
  if (s.ok() && sync && ::fsync(fd_) != 0) return SystemError(path_, "cannot sync", errno);
  return s;
}

Status LineFile::WriteGathered() {
  size_t done = 0;
  while (done < gathered_.size()) {
    ssize_t n = ::write(fd_, gathered_.data() + done, gathered_.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int error = n < 0 ? errno : ENOSPC;
    // Cut the part that went out, so the file ends with a whole line again; the lines stay
    // gathered for the next try. If even that fails, go on from where the write stopped.
    if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      gathered_.erase(0, done);
      size_ += done;
    }
    return SystemError(path_, "cannot write", error);
  }
  size_ += gathered_.size();
  gathered_.clear();
  return Status::Ok();
}

}  // namespace aisle::connectors
