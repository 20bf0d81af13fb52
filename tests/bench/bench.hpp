#pragma once
// The benchmark program `aisle_bench` (`make bench`, scripts/bench.sh): one function per
// measurement, apart from argument parsing (main.cpp). Each prints its figures as result lines on
// stdout (see ResultLine) for tests/bench/report.py to put in the table, and notes on stderr.
// Figures are reported, never asserted; a run fails (non-zero exit) only when the engine fails or
// its output does not match what was pushed.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aisle::bench {

// Rule files of the benchmarks, in tests/bench.
std::string BenchFile(const std::string& name);

// One result line: `result<TAB>name=NAME<TAB>key=value...`, in the order the fields were added.
class ResultLine {
 public:
  explicit ResultLine(std::string name) { fields_.emplace_back("name", std::move(name)); }
  ResultLine& Add(const std::string& key, const std::string& value);
  ResultLine& Add(const std::string& key, int64_t value);
  ResultLine& Add(const std::string& key, double value);
  // Writes the line to stdout and flushes it.
  void Print() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Seconds on the steady clock since an arbitrary origin.
double NowSeconds();

// A fresh folder under `parent` (the system temp folder when empty), removed with its contents
// at scope exit.
class WorkDir {
 public:
  explicit WorkDir(const std::string& parent);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }  // empty when it could not be created

 private:
  std::string path_;
};

// Events pushed through engine::Engine from memory: already-parsed line items, no JSON.
struct ThroughputArgs {
  int64_t events = 10'000'000;
  int shards = 1;
  std::string rules;  // default: hourly_revenue.aisle
  std::string work;   // parent of the state folder; default: the system temp folder
};
int RunThroughput(const ThroughputArgs& args);

// Ingest-to-emission latency at a fixed offered rate, paced on the steady clock.
struct LatencyArgs {
  double rate = 50'000;  // events per second
  double seconds = 10;   // measured, after `warmup`
  double warmup = 1;
  int shards = 1;
  std::string work;
};
int RunLatency(const LatencyArgs& args);

// Recovery after SIGKILL: a child builds and checkpoints window state, is killed, and the time
// to open an engine on its folder is measured.
struct RecoveryArgs {
  int64_t state_mb = 1024;  // target size of the state on disk (reached approximately)
  int64_t groups = 0;       // store x SKU x hour windows to build; 0: from state_mb
  int stores = 1000;
  int skus = 5000;
  int shards = 1;
  std::string work;
};
int RunRecovery(const RecoveryArgs& args);

// The child's part of RunRecovery: builds `groups` windows in `data`, checkpoints, reports
// `ready` on stdout and waits to be killed.
struct RecoveryBuildArgs {
  std::string data;
  int64_t groups = 0;
  int stores = 1000;
  int skus = 5000;
};
int RunRecoveryBuild(const RecoveryBuildArgs& args);

// The physical reference on an NDJSON file: reading it, parsing its JSON with simdjson, and
// parsing it into engine events with the connector's EventParser.
struct ParseArgs {
  std::string file;
  int repeat = 1;  // passes over the file per measurement; the fastest is reported
};
int RunParse(const ParseArgs& args);

// Every measurement at a tiny size, for ctest: proves the program works, times nothing.
struct SmokeArgs {
  std::string work;
};
int RunSmoke(const SmokeArgs& args);

}  // namespace aisle::bench
