#include "connectors/ndjson/file_source.hpp"

#include <filesystem>
#include <fstream>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/ndjson/line_reader.hpp"
#include "engine/runtime/key_codec.hpp"

namespace aisle::connectors {

namespace fs = std::filesystem;

// A source position: [version 1][u64 byte offset just past the line][u64 its line number].
namespace {
constexpr char kPositionVersion = 1;
}  // namespace

void EncodeFilePosition(uint64_t offset, int64_t line, std::string& out) {
  out.assign(1, kPositionVersion);
  engine::PutU64BE(out, offset);
  engine::PutU64BE(out, static_cast<uint64_t>(line));
}

bool DecodeFilePosition(std::string_view in, FilePosition& out) {
  if (in.size() != 17 || in[0] != kPositionVersion) return false;
  out.offset = engine::GetU64BE(in.data() + 1);
  out.line = static_cast<int64_t>(engine::GetU64BE(in.data() + 9));
  return out.line > 0;
}

// Whether the file still fits a position saved in it: at least that long, and a line ended
// there (a position is just past a newline, or at the end of a last line without one).
Status CheckResumable(const std::string& path, const FilePosition& at) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Error{"'" + path + "': cannot stat: " + ec.message()};
  const std::string where =
      "line " + std::to_string(at.line) + ", byte " + std::to_string(at.offset);
  const std::string advice =
      ": replay it from the start (events seen before are dropped by id) "
      "or into a fresh state folder";
  if (size < at.offset)
    return Error{"'" + path + "' is shorter (" + std::to_string(size) + " bytes) than where the " +
                 "last replay of it stopped (" + where + "): the file changed" + advice};
  if (size == at.offset) return Status::Ok();
  std::ifstream in(path, std::ios::binary);
  char before = 0;
  if (!in.seekg(static_cast<std::streamoff>(at.offset - 1)) || !in.get(before))
    return Error{"'" + path + "': cannot read byte " + std::to_string(at.offset - 1)};
  if (before != '\n')
    return Error{"'" + path + "' has no line end where the last replay of it stopped (" + where +
                 "): the file changed" + advice};
  return Status::Ok();
}


Result<ReplayReport> ReplayNdjson(const std::string& path, engine::Engine& engine,
                                  RejectWriter& rejects, const ReplayOptions& options) {
  std::error_code ec;
  const std::string source = fs::canonical(path, ec).string();
  if (ec) return Error{"'" + path + "': cannot open: " + ec.message()};
  FilePosition start;
  const std::string saved = options.from_start ? std::string() : engine.SourcePosition(source);
  if (!saved.empty()) {
    if (!DecodeFilePosition(saved, start))
      return Error{"'" + path + "': the saved position in it is unreadable"};
    Status s = CheckResumable(path, start);
    if (!s.ok()) return Error{s.message()};
  }
  auto reader = LineReader::Open(path, start.offset, start.line + 1);
  if (!reader) return reader.error();
  if (!saved.empty() && options.on_resume) options.on_resume(path, start.line + 1);

  EventParser parser;
  engine::Event event;
  std::string reason, position;
  ReplayReport report;
  report.first_line = start.line + 1;
  std::string_view line;
  while (reader->Next(line)) {
    ++report.lines;
    // Before the push: a checkpoint inside it must hold the position past this line.
    EncodeFilePosition(reader->offset(), reader->line_number(), position);
    engine.SetSourcePosition(source, position);
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
  report.bytes = reader->offset() - start.offset;
  Status s = rejects.Flush();
  if (!s.ok()) return Error{s.message()};
  return report;
}

}  // namespace aisle::connectors
