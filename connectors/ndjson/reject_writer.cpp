#include "connectors/ndjson/reject_writer.hpp"

#include <cerrno>
#include <exception>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

namespace aisle::connectors {

namespace {
Error FileError(const std::string& path, std::string_view what, int error) {
  std::string message = "'" + path + "': ";
  message += what;
  if (error != 0) {
    message += ": ";
    message += std::error_code(error, std::generic_category()).message();
  }
  return Error{std::move(message)};
}
}  // namespace

RejectWriter::RejectWriter(std::string path) : path_(std::move(path)) {}

RejectWriter::RejectWriter(RejectWriter&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      count_(std::exchange(other.count_, 0)) {}

RejectWriter& RejectWriter::operator=(RejectWriter&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

RejectWriter::~RejectWriter() {
  Close();
}

void RejectWriter::Close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

Status RejectWriter::Write(int64_t line, std::string_view reason, std::string_view raw) {
  ++count_;
  if (path_.empty()) return Status::Ok();
  std::string text;
  try {
    nlohmann::ordered_json object;
    object["line"] = line;
    object["reason"] = std::string(reason);
    object["raw"] = std::string(raw);
    text = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return FileError(path_, std::string("cannot encode reject: ") + e.what(), 0);
  }
  text += '\n';
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "ab");
    if (file_ == nullptr) return FileError(path_, "cannot open reject file", errno);
  }
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    return FileError(path_, "cannot write reject file", errno);
  }
  return Status::Ok();
}

Status RejectWriter::Flush() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    return FileError(path_, "cannot write reject file", errno);
  }
  return Status::Ok();
}

}  // namespace aisle::connectors
