#pragma once
// Appends each emission as one JSON object a line (INTERFACES.md, "Emissions") to a file.

#include <cstdio>
#include <memory>
#include <string>

#include "engine/core/result.hpp"
#include "engine/emit/emission.hpp"

namespace aisle::connectors {

class JsonlSink final : public engine::Sink {
 public:
  // Opens `path` for appending (created if missing).
  static Result<std::unique_ptr<JsonlSink>> Open(const std::string& path);
  ~JsonlSink() override;

  void Emit(const engine::Emission& emission) override;
  // Flushes and fsyncs, so what was emitted survives a crash.
  bool Flush(std::string& error) override;

 private:
  JsonlSink(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
  bool failed_ = false;
};

}  // namespace aisle::connectors
