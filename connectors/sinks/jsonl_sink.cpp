#include "connectors/sinks/jsonl_sink.hpp"

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace aisle::connectors {

Result<std::unique_ptr<JsonlSink>> JsonlSink::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return Error{"cannot open '" + path + "': " + std::strerror(errno)};
  return std::unique_ptr<JsonlSink>(new JsonlSink(f, path));
}

JsonlSink::~JsonlSink() {
  if (file_) std::fclose(file_);
}

void JsonlSink::Emit(const engine::Emission& emission) {
  std::string line = engine::ToJson(emission);
  line.push_back('\n');
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) failed_ = true;
}

bool JsonlSink::Flush(std::string& error) {
  if (failed_ || std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) {
    error = "cannot write '" + path_ + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace aisle::connectors
