#include "connectors/sinks/jsonl_sink.hpp"

namespace aisle::connectors {

Result<std::unique_ptr<JsonlSink>> JsonlSink::Open(const std::string& path) {
  auto file = LineFile::Open(path);
  if (!file) return file.error();
  return std::unique_ptr<JsonlSink>(new JsonlSink(std::move(file).value()));
}

void JsonlSink::Emit(const engine::Emission& emission) {
  // A failed write keeps its lines gathered: Flush tries them again and reports the error.
  (void)file_.Append(engine::ToJson(emission));
}

bool JsonlSink::Flush(std::string& error) {
  Status s = file_.Flush(/*sync=*/true);
  if (!s.ok()) error = s.message();
  return s.ok();
}

}  // namespace aisle::connectors
