#include "connectors/ndjson/file_source.hpp"

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/ndjson/line_reader.hpp"

namespace aisle::connectors {

Result<ReplayReport> ReplayNdjson(const std::string& path, engine::Engine& engine,
                                  RejectWriter& rejects) {
  auto reader = LineReader::Open(path);
  if (!reader) return reader.error();
  EventParser parser;
  engine::Event event;
  std::string reason;
  ReplayReport report;
  std::string_view line;
  while (reader->Next(line)) {
    ++report.lines;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!parser.Parse(line, event, reason)) {
      ++report.rejected;
      Status s = rejects.Write(reader->line_number(), reason, line);
      if (!s.ok()) return Error{s.message()};
      continue;
    }
    ++report.events;
    engine.Push(event);
  }
  if (!reader->status().ok()) return Error{reader->status().message()};
  report.bytes = reader->offset();
  Status s = rejects.Flush();
  if (!s.ok()) return Error{s.message()};
  return report;
}

}  // namespace aisle::connectors
