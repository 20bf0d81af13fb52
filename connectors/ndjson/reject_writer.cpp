#include "connectors/ndjson/reject_writer.hpp"

#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

namespace aisle::connectors {

RejectWriter::RejectWriter(std::string path) : path_(std::move(path)) {}

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
    return Error{"'" + path_ + "': cannot encode reject: " + e.what()};
  }
  if (!file_) {
    auto opened = LineFile::Open(path_);
    if (!opened) return opened.error();
    file_.emplace(std::move(opened).value());
  }
  return file_->Append(text);
}

Status RejectWriter::Flush() {
  return file_ ? file_->Flush(/*sync=*/true) : Status::Ok();
}

}  // namespace aisle::connectors
