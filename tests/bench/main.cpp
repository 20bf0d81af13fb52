// `aisle_bench`: argument parsing only (CLI11 is included here and nowhere else); the
// measurements live in *_bench.cpp. scripts/bench.sh runs them and tests/bench/report.py prints
// the table.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "tests/bench/bench.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Aisle's benchmarks: result lines on stdout, notes on stderr"};
  app.require_subcommand(1);

  aisle::bench::ThroughputArgs throughput;
  auto* throughput_cmd = app.add_subcommand("throughput", "Push synthetic line items from memory");
  throughput_cmd->add_option("--events", throughput.events, "Line items")->capture_default_str();
  throughput_cmd->add_option("--shards", throughput.shards, "Engine shards")->capture_default_str();
  throughput_cmd->add_option("--rules", throughput.rules,
                             "Rule file (default: hourly_revenue.aisle)");
  throughput_cmd->add_option("--work", throughput.work, "Folder for the state (default: temp)");

  aisle::bench::LatencyArgs latency;
  auto* latency_cmd = app.add_subcommand("latency", "Ingest-to-emission latency at a fixed rate");
  latency_cmd->add_option("--rate", latency.rate, "Offered events per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  latency_cmd->add_option("--seconds", latency.seconds, "Measured seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  latency_cmd->add_option("--warmup", latency.warmup, "Seconds before measuring")
      ->capture_default_str();
  latency_cmd->add_option("--shards", latency.shards, "Engine shards")->capture_default_str();
  latency_cmd->add_option("--work", latency.work, "Folder for the state (default: temp)");

  aisle::bench::RecoveryArgs recovery;
  auto* recovery_cmd =
      app.add_subcommand("recovery", "Time to reopen the state of a killed engine");
  recovery_cmd->add_option("--state-mb", recovery.state_mb, "Target state size on disk, MB")
      ->capture_default_str();
  recovery_cmd->add_option("--groups", recovery.groups,
                           "Store x SKU x hour windows (overrides --state-mb)");
  recovery_cmd->add_option("--stores", recovery.stores, "Stores")->capture_default_str();
  recovery_cmd->add_option("--skus", recovery.skus, "SKUs")->capture_default_str();
  recovery_cmd->add_option("--shards", recovery.shards, "Engine shards when reopening")
      ->capture_default_str();
  recovery_cmd->add_option("--work", recovery.work, "Folder for the state (default: temp)");

  aisle::bench::RecoveryBuildArgs build;
  auto* build_cmd =
      app.add_subcommand("recovery-build", "(internal) build state for `recovery`, then wait");
  build_cmd->add_option("--data", build.data, "State folder")->required();
  build_cmd->add_option("--groups", build.groups, "Windows to build")->required();
  build_cmd->add_option("--stores", build.stores, "Stores")->capture_default_str();
  build_cmd->add_option("--skus", build.skus, "SKUs")->capture_default_str();

  aisle::bench::ParseArgs parse;
  auto* parse_cmd =
      app.add_subcommand("parse", "Read and parse an NDJSON file: the physical reference");
  parse_cmd->add_option("--file", parse.file, "NDJSON file")->required();
  parse_cmd->add_option("--repeat", parse.repeat, "Passes per measurement (the fastest counts)")
      ->capture_default_str();

  aisle::bench::SmokeArgs smoke;
  auto* smoke_cmd = app.add_subcommand("smoke", "Every measurement at a tiny size (ctest)");
  smoke_cmd->add_option("--work", smoke.work, "Work folder (default: temp)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*throughput_cmd) return aisle::bench::RunThroughput(throughput);
    if (*latency_cmd) return aisle::bench::RunLatency(latency);
    if (*recovery_cmd) return aisle::bench::RunRecovery(recovery);
    if (*build_cmd) return aisle::bench::RunRecoveryBuild(build);
    if (*parse_cmd) return aisle::bench::RunParse(parse);
    if (*smoke_cmd) return aisle::bench::RunSmoke(smoke);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aisle_bench: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
