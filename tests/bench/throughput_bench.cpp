// Throughput from memory: synthetic line items, already parsed, pushed through engine::Engine
// (hourly takings per store, a rule on every closed hour), as an embedding program would.

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/bench/bench.hpp"
#include "tests/bench/synthetic_events.hpp"

namespace aisle::bench {

namespace {

// Counts emissions; safe to call from any thread (a sharded engine may emit from its shards).
class CountingSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission&) override { count_.fetch_add(1, std::memory_order_relaxed); }
  bool Flush(std::string&) override { return true; }
  int64_t count() const { return count_.load(); }

 private:
  std::atomic<int64_t> count_{0};
};

// User plus system CPU seconds of this process, every thread included.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int RunThroughput(const ThroughputArgs& args) {
  WorkDir work(args.work);
  if (work.path().empty()) {
    std::fputs("error: cannot create a work folder\n", stderr);
    return 2;
  }
  const SyntheticLineItems items{SyntheticOptions{}};
  engine::Event event;

  // What making the events costs on its own, to read the engine's figure against.
  double started = NowSeconds();
  int64_t checksum = 0;
  for (int64_t i = 0; i < args.events; ++i) {
    items.Make(i, event);
    checksum += static_cast<int64_t>(event.id().size());
  }
  const double make_seconds = NowSeconds() - started;
  ResultLine("inmem-make")
      .Add("events", args.events)
      .Add("seconds", make_seconds)
      .Add("checksum", checksum)
      .Print();

  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {args.rules.empty() ? BenchFile("hourly_revenue.aisle") : args.rules};
  options.data_dir = (std::filesystem::path(work.path()) / "state").string();
  options.shards = args.shards;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    std::fprintf(stderr, "error: %s\n", opened.error().message.c_str());
    return 1;
  }
  engine::Engine& eng = **opened;
  CountingSink sink;
  eng.AddSink(&sink);

  const double cpu_started = CpuSeconds();
  started = NowSeconds();
  for (int64_t i = 0; i < args.events; ++i) {
    items.Make(i, event);
    eng.Push(event);
  }
  Status finished = eng.Finish(true);
  const double seconds = NowSeconds() - started;
  const double cpu_seconds = CpuSeconds() - cpu_started;
  if (!finished.ok()) {
    std::fprintf(stderr, "error: %s\n", finished.message().c_str());
    return 1;
  }
  const engine::EngineStats stats = eng.stats();
  if (stats.accepted != args.events) {
    std::fprintf(stderr, "error: pushed %lld events, the engine accepted %lld\n",
                 static_cast<long long>(args.events), static_cast<long long>(stats.accepted));
    return 1;
  }
  ResultLine(fmt::format("inmem-s{}", args.shards))
      .Add("shards", static_cast<int64_t>(args.shards))
      .Add("events", args.events)
      .Add("seconds", seconds)
      .Add("cpu_seconds", cpu_seconds)
      .Add("emissions", sink.count())
      .Add("stores", static_cast<int64_t>(items.stores()))
      .Print();
  std::fprintf(stderr,
               "in-memory, %d shard(s): %lld events in %.2f s (%.0f events/s), %lld emissions\n",
               args.shards, static_cast<long long>(args.events), seconds,
               static_cast<double>(args.events) / seconds, static_cast<long long>(sink.count()));
  return 0;
}

}  // namespace aisle::bench
