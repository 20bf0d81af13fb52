// ReplayNdjson with a real engine: the position it saves with each checkpoint, resuming from it,
// --from-start, and files that changed under a saved position.

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "connectors/ndjson/file_source.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::connectors::RejectWriter;
using aisle::connectors::ReplayNdjson;
using aisle::connectors::ReplayOptions;
using aisle::connectors::ReplayReport;
using aisle::testing::Sale;
using aisle::testing::TempDir;

namespace {

constexpr const char* kRules =
    "metric h = sale | key store | window tumbling 1h | agg n = count()\n";

// Sales `from`..`to` (ids s<N>), one a minute from 10:00, each on its own line.
std::string Sales(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i)
    out += Sale(fmt::format("s{}", i), "S1",
                fmt::format("2025-03-14T{:02}:{:02}:00Z", 10 + i / 60, i % 60), "1.00") +
           "\n";
  return out;
}

struct Run {
  ReplayReport report;
  std::string error;
  int64_t accepted = 0, duplicates = 0;
  int64_t resumed_at = 0;  // the line on_resume was told; 0: not resumed
};

// Opens an engine on `data`, replays `events` and ends the input (without --final), unless
// `crash`: then the engine goes without Finish, as a killed process would.
Run Replay(const TempDir& dir, const std::string& data, const std::string& events,
           bool from_start = false, int64_t checkpoint_every = 0, bool crash = false) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  aisle::engine::EngineOptions options;
  options.rules = {dir.Write("r.aisle", kRules)};
  options.data_dir = data;
  options.checkpoint_every = checkpoint_every;
  auto engine = aisle::engine::Engine::Open(options, registry);
  REQUIRE(engine.ok());
  RejectWriter rejects(dir / "rejects.jsonl");
  Run run;
  ReplayOptions replay;
  replay.from_start = from_start;
  replay.on_resume = [&run](const std::string&, int64_t line) { run.resumed_at = line; };
  auto report = ReplayNdjson(events, **engine, rejects, replay);
  if (!report) {
    run.error = report.error().message;
    return run;
  }
  run.report = *report;
  if (!crash) REQUIRE((*engine)->Finish(false).ok());
  const auto stats = (*engine)->stats();
  run.accepted = stats.accepted;
  run.duplicates = stats.duplicates;
  return run;
}

}  // namespace

TEST_CASE("replay resumes a file after the last line its state holds", "[connectors][replay]") {
  TempDir dir;
  const std::string events = dir.Write("events.ndjson", Sales(0, 9));
  Run first = Replay(dir, dir / "state", events);
  REQUIRE(first.error.empty());
  CHECK(first.resumed_at == 0);
  CHECK(first.report.lines == 10);
  CHECK(first.accepted == 10);
  // The file grows; the next replay reads only the new lines, numbered on from the old ones.
  std::ofstream(events, std::ios::app) << "\n" << Sales(10, 14);
  Run second = Replay(dir, dir / "state", events);
  REQUIRE(second.error.empty());
  CHECK(second.resumed_at == 11);
  CHECK(second.report.first_line == 11);
  CHECK(second.report.lines == 6);  // the blank line too
  CHECK(second.report.events == 5);
  CHECK(second.report.bytes == std::filesystem::file_size(events) - Sales(0, 9).size());
  CHECK(second.accepted == 5);
  CHECK(second.duplicates == 0);
  // Read to its end: nothing more.
  Run third = Replay(dir, dir / "state", events);
  REQUIRE(third.error.empty());
  CHECK(third.resumed_at == 17);
  CHECK(third.report.lines == 0);
  // From the start: every event again, each dropped by its id.
  Run again = Replay(dir, dir / "state", events, /*from_start=*/true);
  REQUIRE(again.error.empty());
  CHECK(again.resumed_at == 0);
  CHECK(again.report.lines == 16);
  CHECK(again.accepted == 0);
  CHECK(again.duplicates == 15);
}

TEST_CASE("a checkpoint inside a push saves the position past that event's line",
          "[connectors][replay]") {
  TempDir dir;
  const std::string events = dir.Write("events.ndjson", Sales(0, 6));
  // A checkpoint after every third event, then a crash: the state holds events 1-6, and the
  // position must be past line 6, not line 5 (nor past line 7, whose event it does not hold).
  Run crashed = Replay(dir, dir / "state", events, false, /*checkpoint_every=*/3, /*crash=*/true);
  REQUIRE(crashed.error.empty());
  Run resumed = Replay(dir, dir / "state", events);
  REQUIRE(resumed.error.empty());
  CHECK(resumed.resumed_at == 7);
  CHECK(resumed.accepted == 1);
  CHECK(resumed.duplicates == 0);
}

TEST_CASE("a file that changed under its saved position is an error", "[connectors][replay]") {
  TempDir dir;
  const std::string events = dir.Write("events.ndjson", Sales(0, 9));
  REQUIRE(Replay(dir, dir / "state", events).error.empty());
  SECTION("shorter") {
    dir.Write("events.ndjson", Sales(0, 4));
    Run run = Replay(dir, dir / "state", events);
    CHECK(run.error.find("is shorter") != std::string::npos);
    CHECK(run.error.find("line 10") != std::string::npos);
    CHECK(run.error.find("the file changed") != std::string::npos);
    // --from-start reads it anyway.
    CHECK(Replay(dir, dir / "state", events, /*from_start=*/true).error.empty());
  }
  SECTION("no line end at the position") {
    dir.Write("events.ndjson", "x" + Sales(0, 12));
    Run run = Replay(dir, dir / "state", events);
    CHECK(run.error.find("has no line end") != std::string::npos);
  }
}
