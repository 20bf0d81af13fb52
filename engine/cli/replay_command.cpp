#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "connectors/csv/csv_source.hpp"
#include "connectors/ndjson/file_source.hpp"
#include "connectors/ndjson/late_writer.hpp"
#include "connectors/sinks/jsonl_sink.hpp"
#include "connectors/sinks/stdout_sink.hpp"
#include "engine/cli/commands.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::cli {

namespace fs = std::filesystem;

namespace {

// A fresh temporary folder, removed when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "aisle-replay-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int RunReplay(const ReplayArgs& args) {
  std::unique_ptr<TempDir> temp;
  std::string data_dir = args.data_dir;
  if (data_dir.empty()) {
    temp = std::make_unique<TempDir>();
    if (temp->path().empty()) {
      std::fputs("error: cannot create a temporary state folder\n", stderr);
      return 2;
    }
    data_dir = temp->path();
  }
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {args.rules};
  options.data_dir = data_dir;
  options.tables_dir = args.tables_dir;
  options.shards = args.shards;
  options.checkpoint_every = args.checkpoint_every;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    std::fputs(opened.error().message.c_str(), stderr);
    if (opened.error().message.empty() || opened.error().message.back() != '\n') std::fputs("\n", stderr);
    return 1;
  }
  engine::Engine& eng = **opened;
  if (!eng.notice().empty()) std::fputs(("note: " + eng.notice() + "\n").c_str(), stderr);

  connectors::StdoutSink readable;
  if (!args.quiet) eng.AddSink(&readable);
  std::unique_ptr<connectors::JsonlSink> jsonl;
  if (!args.out.empty()) {
    auto sink = connectors::JsonlSink::Open(args.out);
    if (!sink) {
      std::fputs(("error: " + sink.error().message + "\n").c_str(), stderr);
      return 2;
    }
    jsonl = std::move(sink).value();
    if (jsonl->repaired_bytes() > 0)
      std::fputs(fmt::format("note: cut a partial last line ({} bytes) off '{}': an earlier run was "
                             "interrupted while writing it, and writes it again now\n",
                             jsonl->repaired_bytes(), args.out)
                     .c_str(),
                 stderr);
    eng.AddSink(jsonl.get());
  }
  std::string reject_path = args.rejects;
  if (reject_path.empty())
    reject_path = args.data_dir.empty() ? "aisle-rejects.jsonl" : (fs::path(data_dir) / "rejects.jsonl").string();
  connectors::RejectWriter rejects(reject_path);
  std::string late_path = args.late;
  if (late_path.empty())
    late_path = args.data_dir.empty() ? "aisle-late.jsonl" : (fs::path(data_dir) / "late.jsonl").string();
  connectors::LateWriter late(late_path);
  Status late_status = Status::Ok();
  eng.SetLateHandler([&](const engine::LateEvent& e) {
    Status s = late.Write(e);
    if (!s.ok() && late_status.ok()) late_status = s;
  });
  // What was written before a checkpoint must survive a crash after it, as the sinks' lines do.
  eng.AddCheckpointHook([&rejects] { return rejects.Flush(); });
  eng.AddCheckpointHook([&late, &late_status] {
    Status s = late.Flush();
    return s.ok() ? late_status : s;
  });
  connectors::ReplayOptions replay_options;
  replay_options.from_start = args.from_start;
  replay_options.on_resume = [](const std::string& path, int64_t line) {
    std::fputs(fmt::format("resuming {} at line {}\n", path, line).c_str(), stderr);
  };

  auto started = std::chrono::steady_clock::now();
  connectors::ReplayReport total;
  std::optional<connectors::CsvMapping> csv_mapping;
  if (!args.csv_mapping.empty()) {
    auto mapping = connectors::LoadCsvMapping(args.csv_mapping);
    if (!mapping) {
      std::fputs(("error: " + mapping.error().message + "\n").c_str(), stderr);
      return 2;
    }
    csv_mapping = std::move(*mapping);
  }
  for (const std::string& file : args.events) {
    const bool csv = fs::path(file).extension() == ".csv";
    if (csv && !csv_mapping) {
      std::fputs(("error: '" + file + "' is CSV: give its column mapping with --csv-mapping FILE\n").c_str(), stderr);
      (void)eng.Finish(false);
      return 2;
    }
    auto report = csv ? connectors::ReplayCsv(file, *csv_mapping, eng, rejects, replay_options)
                      : connectors::ReplayNdjson(file, eng, rejects, replay_options);
    if (!report) {
      std::fputs(("error: " + report.error().message + "\n").c_str(), stderr);
      (void)eng.Finish(false);
      return 2;
    }
    total.lines += report->lines;
    total.events += report->events;
    total.rejected += report->rejected;
    total.bytes += report->bytes;
  }
  Status finished = eng.Finish(args.final);  // its checkpoint flushes the late events too
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!finished.ok()) {
    std::fputs(("error: " + finished.message() + "\n").c_str(), stderr);
    return 2;
  }
  engine::EngineStats s = eng.stats();
  std::string summary = fmt::format(
      "replayed {} lines: {} events accepted, {} duplicates, {} rejected{}, {} late{}, "
      "{} corrections; {} emissions; {} windows open{}\n"
      "{:.2f} s, {:.0f} events/s, {:.1f} MB/s, {}\n",
      total.lines, s.accepted, s.duplicates, total.rejected,
      total.rejected > 0 ? " (see " + reject_path + ")" : std::string(), s.late,
      s.late > 0 ? " (see " + late_path + ")" : std::string(), s.corrections, s.emissions,
      s.open_windows, args.final ? "" : " (kept for the next replay; --final closes them)", seconds,
      seconds > 0 ? static_cast<double>(total.events) / seconds : 0.0,
      seconds > 0 ? static_cast<double>(total.bytes) / seconds / 1e6 : 0.0,
      s.shards > 1 ? fmt::format("{} shards", s.shards)
                   : eng.shard_blocker().empty() ? std::string("1 shard")
                                                 : "1 shard (" + eng.shard_blocker() + ")");
  if (s.suppressed + s.deduped + s.throttled + s.held > 0)
    summary += fmt::format("emission control: {} suppressed, {} deduped, {} throttled, {} held for digests\n",
                           s.suppressed, s.deduped, s.throttled, s.held);
  std::fputs(summary.c_str(), stderr);
  return 0;
}

}  // namespace aisle::cli
