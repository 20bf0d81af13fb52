#include "connectors/csv/csv_source.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/ndjson/line_reader.hpp"
#include "connectors/webhooks/webhook.hpp"
#include "dsl/csv.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

// Local time in `format` (date::parse), in `zone` (UTC when null), to microseconds since the epoch.
bool ParseLocalTime(const std::string& text, const std::string& format, const date::time_zone* zone,
                    int64_t& micros) {
  std::istringstream in(text);
  date::local_time<std::chrono::microseconds> local;
  in >> date::parse(format, local);
  if (in.fail()) return false;
  in >> std::ws;
  if (!in.eof()) return false;  // text after the time
  if (zone == nullptr) {
    micros = local.time_since_epoch().count();
    return true;
  }
  try {
    micros = zone->to_sys(local, date::choose::earliest).time_since_epoch().count();
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

Result<CsvMapping> ParseCsvMapping(std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Error{std::string("not valid JSON: ") + e.what()};
  }
  if (!j.is_object()) return Error{"expected a JSON object"};
  for (const auto& [k, v] : j.items()) {
    if (k != "type" && k != "source" && k != "fields") return Error{"unknown key '" + k + "'"};
  }
  CsvMapping m;
  if (!j.contains("type") || !j.at("type").is_string()) return Error{"\"type\": expected an event type"};
  const dsl::StreamSchema* schema = dsl::FindStream(j.at("type").get<std::string>());
  if (schema == nullptr)
    return Error{"\"type\": '" + j.at("type").get<std::string>() +
                 "' is not an event type (sale, line_item, refund, inventory, shift, traffic)"};
  m.kind = schema->kind;
  if (j.contains("source")) {
    if (!j.at("source").is_string() || j.at("source").get<std::string>().empty())
      return Error{"\"source\": expected a non-empty string"};
    m.source = j.at("source").get<std::string>();
  }
  if (!j.contains("fields") || !j.at("fields").is_object() || j.at("fields").empty())
    return Error{"\"fields\": expected an object mapping fields to columns"};
  for (const auto& [name, spec] : j.at("fields").items()) {
    const std::string where = "fields." + name;
    if (name == "type" || name == "source") return Error{where + ": set by the mapping's \"" + name + "\""};
    CsvFieldMapping f;
    f.field = name;
    if (spec.is_string()) {
      f.column = spec.get<std::string>();
    } else if (spec.is_object()) {
      for (const auto& [k, v] : spec.items()) {
        if (k != "column" && k != "value" && k != "prefix" && k != "format" && k != "timezone")
          return Error{where + ": unknown key '" + k + "'"};
        if (!v.is_string()) return Error{where + "." + k + ": expected a string"};
      }
      if (spec.contains("column") == spec.contains("value"))
        return Error{where + ": give exactly one of \"column\" and \"value\""};
      if (spec.contains("column")) f.column = spec.at("column").get<std::string>();
      if (spec.contains("value")) f.constant = spec.at("value").get<std::string>();
      if (spec.contains("prefix")) f.prefix = spec.at("prefix").get<std::string>();
      if (spec.contains("format") || spec.contains("timezone")) {
        if (name != "ts") return Error{where + ": \"format\" and \"timezone\" apply to ts only"};
        f.format = spec.value("format", std::string("%Y-%m-%d %H:%M:%S"));
        if (spec.contains("timezone")) {
          try {
            f.zone = date::locate_zone(spec.at("timezone").get<std::string>());
          } catch (const std::exception&) {
            return Error{where + ".timezone: no time zone '" + spec.at("timezone").get<std::string>() + "'"};
          }
        }
      }
    } else {
      return Error{where + ": expected a column name or {\"column\": ...} / {\"value\": ...}"};
    }
    if (f.column.empty() && f.constant.empty()) return Error{where + ": empty column name or value"};
    m.fields.push_back(std::move(f));
  }
  for (const char* required : {"store", "ts"}) {
    bool found = false;
    for (const auto& f : m.fields) found = found || f.field == required;
    if (!found) return Error{std::string("fields: \"") + required + "\" must be mapped"};
  }
  return m;
}

Result<CsvMapping> LoadCsvMapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read CSV mapping " + path};
  std::ostringstream text;
  text << in.rdbuf();
  auto mapping = ParseCsvMapping(text.str());
  if (!mapping) return Error{path + ": " + mapping.error().message};
  return mapping;
}

Result<CsvRowMapper> CsvRowMapper::Bind(const CsvMapping& mapping, const std::vector<std::string>& header) {
  CsvRowMapper m;
  m.mapping_ = mapping;
  m.header_size_ = header.size();
  for (const auto& f : mapping.fields) {
    if (f.field == "id") m.has_id_ = true;
    if (f.column.empty()) {
      m.columns_.push_back(-1);
      continue;
    }
    int found = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == f.column) found = static_cast<int>(i);
    }
    if (found < 0) return Error{"the header has no column '" + f.column + "' (mapped to " + f.field + ")"};
    m.columns_.push_back(found);
  }
  return m;
}

bool CsvRowMapper::Map(const std::vector<std::string>& row, std::string& line, std::string& reason) const {
  if (row.size() != header_size_) {
    reason = fmt::format("{} fields, the header has {}", row.size(), header_size_);
    return false;
  }
  const dsl::StreamSchema& schema = dsl::Schema(mapping_.kind);
  Json out = Json::object();
  out["type"] = std::string(schema.name);
  out["source"] = mapping_.source;
  for (size_t i = 0; i < mapping_.fields.size(); ++i) {
    const CsvFieldMapping& f = mapping_.fields[i];
    const std::string& cell = columns_[i] < 0 ? f.constant : row[static_cast<size_t>(columns_[i])];
    if (cell.empty()) continue;
    std::string text = f.prefix + cell;
    if (f.field == "ts" && !f.format.empty()) {
      int64_t micros = 0;
      if (!ParseLocalTime(cell, f.format, f.zone, micros)) {
        reason = fmt::format("ts: \"{}\" does not match the format \"{}\"", cell, f.format);
        return false;
      }
      text = dsl::FormatTimestamp(micros);
    }
    const auto slot = schema.Slot(f.field);
    if (slot && schema.fields[static_cast<size_t>(*slot)].type == dsl::Type::kBool) {
      if (text == "true" || text == "1" || text == "yes" || text == "TRUE" || text == "True") {
        out[f.field] = true;
      } else if (text == "false" || text == "0" || text == "no" || text == "FALSE" || text == "False") {
        out[f.field] = false;
      } else {
        reason = fmt::format("{}: \"{}\" is not true or false", f.field, text);
        return false;
      }
      continue;
    }
    out[f.field] = std::move(text);
  }
  if (!has_id_) {
    std::string joined;
    for (const auto& cell : row) {
      joined += cell;
      joined += '\x1f';
    }
    out["id"] = "csv:" + webhooks::Sha256Hex(joined);
  }
  try {
    line = out.dump();
  } catch (const Json::exception&) {
    reason = "a cell is not valid UTF-8";
    return false;
  }
  return true;
}

Result<ReplayReport> ReplayCsv(const std::string& path, const CsvMapping& mapping, engine::Engine& engine,
                               RejectWriter& rejects, const ReplayOptions& options) {
  std::error_code ec;
  const std::string source = fs::canonical(path, ec).string();
  if (ec) return Error{"'" + path + "': cannot open: " + ec.message()};
  // The header, read from the start whether or not this replay resumes.
  auto head = LineReader::Open(path);
  if (!head) return head.error();
  std::vector<std::string> header;
  int64_t header_line = 0;
  std::string error;
  {
    dsl::CsvRecordReader records([&head](std::string& out) {
      std::string_view l;
      if (!head->Next(l)) return false;
      out.assign(l);
      return true;
    });
    if (!records.Next(header, header_line, error)) return Error{"'" + path + "': empty file, no header"};
    if (!error.empty()) return Error{"'" + path + "': line 1: header: " + error};
  }
  const uint64_t header_end = head->offset();
  const int64_t header_lines = head->line_number();
  auto mapper = CsvRowMapper::Bind(mapping, header);
  if (!mapper) return Error{"'" + path + "': " + mapper.error().message};

  FilePosition start{header_end, header_lines};
  const std::string saved = options.from_start ? std::string() : engine.SourcePosition(source);
  if (!saved.empty()) {
    if (!DecodeFilePosition(saved, start)) return Error{"'" + path + "': the saved position in it is unreadable"};
    Status s = CheckResumable(path, start);
    if (!s.ok()) return Error{s.message()};
    if (options.on_resume) options.on_resume(path, start.line + 1);
  }
  auto reader = LineReader::Open(path, start.offset, start.line + 1);
  if (!reader) return reader.error();
  dsl::CsvRecordReader records([&reader](std::string& out) {
    std::string_view l;
    if (!reader->Next(l)) return false;
    out.assign(l);
    return true;
  });
  EventParser parser;
  engine::Event event;
  std::string line, reason, position;
  std::vector<std::string> row;
  int64_t row_line = 0;
  ReplayReport report;
  report.first_line = start.line + 1;
  const int64_t line_base = start.line;  // the reader numbers physical lines from 1
  while (records.Next(row, row_line, error)) {
    ++report.lines;
    const int64_t number = line_base + row_line;
    EncodeFilePosition(reader->offset(), reader->line_number(), position);
    engine.SetSourcePosition(source, position);
    if (error.empty() && row.size() == 1 && row[0].find_first_not_of(" \t") == std::string::npos) continue;
    if (!error.empty()) {
      reason = error;
    } else if (mapper->Map(row, line, reason) && parser.Parse(line, event, reason)) {
      ++report.events;
      engine.Push(event);
      continue;
    }
    ++report.rejected;
    std::string raw;
    for (size_t i = 0; i < row.size(); ++i) raw += (i ? "," : "") + row[i];
    Status s = rejects.Write(number, reason, raw);
    if (!s.ok()) return Error{s.message()};
  }
  if (!reader->status().ok()) return Error{reader->status().message()};
  report.bytes = reader->offset() - start.offset;
  Status s = rejects.Flush();
  if (!s.ok()) return Error{s.message()};
  return report;
}

}  // namespace aisle::connectors
