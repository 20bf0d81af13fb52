#include "connectors/sinks/stdout_sink.hpp"

#include <cerrno>
#include <cstring>

namespace aisle::connectors {

void StdoutSink::Emit(const engine::Emission& emission) {
  std::string line = engine::ToReadableLine(emission);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out_);
}

bool StdoutSink::Flush(std::string& error) {
  if (std::fflush(out_) != 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace aisle::connectors
