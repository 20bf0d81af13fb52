// `aisle_bench smoke`: every measurement at a tiny size, so that ctest proves the benchmarks still
// run and their emissions still match what they pushed. Times are printed, never checked.

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/bench/bench.hpp"
#include "tests/bench/synthetic_events.hpp"

namespace aisle::bench {

int RunSmoke(const SmokeArgs& args) {
  WorkDir work(args.work);
  if (work.path().empty()) {
    std::fputs("error: cannot create a work folder\n", stderr);
    return 2;
  }
  for (int shards : {1, 2}) {
    ThroughputArgs throughput;
    throughput.events = 20'000;
    throughput.shards = shards;
    throughput.work = work.path();
    if (int rc = RunThroughput(throughput); rc != 0) return rc;
  }

  LatencyArgs latency;
  latency.rate = 20'000;
  latency.seconds = 0.5;
  latency.warmup = 0.1;
  latency.work = work.path();
  if (int rc = RunLatency(latency); rc != 0) return rc;

  RecoveryArgs recovery;
  recovery.groups = 30'000;
  recovery.stores = 100;
  recovery.skus = 200;
  recovery.work = work.path();
  if (int rc = RunRecovery(recovery); rc != 0) return rc;

  // A small file of the same line items in canonical NDJSON: every line must parse.
  const std::string file = (std::filesystem::path(work.path()) / "events.ndjson").string();
  {
    const SyntheticLineItems items{SyntheticOptions{}};
    std::ofstream out(file, std::ios::binary);
    for (int64_t i = 0; i < 5'000; ++i) out << items.JsonLine(i) << '\n';
  }
  ParseArgs parse;
  parse.file = file;
  return RunParse(parse);
}

}  // namespace aisle::bench
