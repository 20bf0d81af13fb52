#include "connectors/ndjson/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "connectors/system_error.hpp"

namespace aisle::connectors {


Result<LineReader> LineReader::Open(const std::string& path, uint64_t start_offset,
                                    int64_t start_line, size_t block_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError(path, "cannot open", errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return SystemError(path, "cannot stat", error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return SystemError(path, "cannot read", EISDIR);
  }
  if (start_offset > 0 && ::lseek(fd, static_cast<off_t>(start_offset), SEEK_SET) < 0) {
    int error = errno;
    ::close(fd);
    return SystemError(path, "cannot seek to byte " + std::to_string(start_offset), error);
  }
  // Only a hint to the kernel's read-ahead; failure changes nothing.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return LineReader(fd, path, start_offset, start_line - 1, block_size == 0 ? 1 : block_size);
}

LineReader::LineReader(int fd, std::string path, uint64_t offset, int64_t line_number,
                       size_t block_size)
    : fd_(fd),
      path_(std::move(path)),
      buffer_(std::make_unique_for_overwrite<char[]>(block_size)),
      capacity_(block_size),
      at_file_start_(offset == 0),
      offset_(offset),
      line_number_(line_number) {}

LineReader::LineReader(LineReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      capacity_(std::exchange(other.capacity_, 0)),
      begin_(std::exchange(other.begin_, 0)),
      scan_(std::exchange(other.scan_, 0)),
      end_(std::exchange(other.end_, 0)),
      eof_(std::exchange(other.eof_, true)),
      at_file_start_(other.at_file_start_),
      offset_(other.offset_),
      line_number_(other.line_number_),
      status_(std::move(other.status_)) {}

LineReader& LineReader::operator=(LineReader&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    scan_ = std::exchange(other.scan_, 0);
    end_ = std::exchange(other.end_, 0);
    eof_ = std::exchange(other.eof_, true);
    at_file_start_ = other.at_file_start_;
    offset_ = other.offset_;
    line_number_ = other.line_number_;
    status_ = std::move(other.status_);
  }
  return *this;
}

LineReader::~LineReader() {
  Close();
}

void LineReader::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool LineReader::Fill() {
  // Keep the unfinished line, moved to the front; grow only when it fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    size_t grown = capacity_ * 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = grown;
  }
  while (true) {
    ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno != EINTR) {
      status_ = SystemError(path_, "read failed", errno);
      eof_ = true;
      return false;
    }
  }
}

bool LineReader::Next(std::string_view& line) {
  if (fd_ < 0 || !status_.ok()) return false;
  while (true) {
    const char* data = buffer_.get();
    const void* found = scan_ < end_ ? std::memchr(data + scan_, '\n', end_ - scan_) : nullptr;
    size_t line_end;  // one past the line's last byte
    size_t consumed;  // bytes of the line plus its newline
    if (found != nullptr) {
      line_end = static_cast<size_t>(static_cast<const char*>(found) - data);
      consumed = line_end + 1 - begin_;
    } else if (eof_) {
      if (begin_ == end_) return false;
      line_end = end_;
      consumed = end_ - begin_;
    } else {
      scan_ = end_;
      if (!Fill()) return false;
      continue;
    }
    size_t length = line_end - begin_;
    if (length > 0 && data[line_end - 1] == '\r') --length;
    line = std::string_view(data + begin_, length);
    if (at_file_start_) {
      at_file_start_ = false;
      if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    }
    begin_ += consumed;
    scan_ = begin_;
    offset_ += consumed;
    ++line_number_;
    return true;
  }
}

}  // namespace aisle::connectors
