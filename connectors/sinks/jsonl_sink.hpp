#pragma once
// Appends each emission as one JSON object a line (INTERFACES.md, "Emissions") to a file.

#include <memory>
#include <string>

#include "connectors/line_file.hpp"
#include "engine/core/result.hpp"
#include "engine/emit/emission.hpp"

namespace aisle::connectors {

// Lines go out whole only (LineFile): a crash never leaves half an emission in the file.
class JsonlSink final : public engine::Sink {
 public:
  // Opens `path` for appending (created if missing), cutting off a partial last line.
  static Result<std::unique_ptr<JsonlSink>> Open(const std::string& path);

  void Emit(const engine::Emission& emission) override;
  // Writes and fsyncs, so what was emitted survives a crash. The engine calls it at every
  // checkpoint, before the state is written.
  bool Flush(std::string& error) override;

  // Bytes of a partial last line cut off when the file was opened.
  uint64_t repaired_bytes() const { return file_.repaired_bytes(); }

 private:
  explicit JsonlSink(LineFile file) : file_(std::move(file)) {}
  LineFile file_;
};

}  // namespace aisle::connectors
