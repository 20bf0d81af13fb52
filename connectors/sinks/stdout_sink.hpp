#pragma once
// Writes each emission as one readable line to a stream (stdout by default).

#include <cstdio>

#include "engine/emit/emission.hpp"

namespace aisle::connectors {

class StdoutSink final : public engine::Sink {
 public:
  explicit StdoutSink(std::FILE* out = stdout) : out_(out) {}
  void Emit(const engine::Emission& emission) override;
  bool Flush(std::string& error) override;

 private:
  std::FILE* out_;
};

}  // namespace aisle::connectors
