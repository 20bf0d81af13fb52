// Recovery after a kill (tests/bench/recovery_state.aisle). A child process (this program again,
// `recovery-build`) fills a data folder with one open window per store, SKU and hour, takes a
// checkpoint and waits; the parent kills it with SIGKILL, measures the folder, and times
// engine::Engine::Open on it: RocksDB's recovery of its log plus the engine's load of every window.

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dsl/schema.hpp"
#include "dsl/time.hpp"
#include "dsl/value.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/bench/bench.hpp"

extern char** environ;

namespace aisle::bench {

namespace fs = std::filesystem;

namespace {

// Bytes on disk per window right after the checkpoint (RocksDB log and tables of the windows and
// the dedup ids), measured with this rule file; used only to size the run, the figure reported is
// the folder's.
constexpr double kBytesPerGroup = 150;
constexpr int64_t kStartUs = 1'736'121'600'000'000;  // 2025-01-06T00:00:00Z

engine::EngineOptions Options(const std::string& data, int shards) {
  engine::EngineOptions options;
  options.rules = {BenchFile("recovery_state.aisle")};
  options.data_dir = data;
  options.shards = shards;
  // Checkpoints as in production (each writes what changed since the last), so RocksDB flushes its
  // memtables as it goes and a restart replays only the log written since the last flush.
  options.checkpoint_every = 100'000;
  return options;
}

struct FolderSize {
  uint64_t allocated = 0;  // what `du` shows
  uint64_t apparent = 0;   // the sum of file sizes
};

FolderSize Measure(const std::string& dir) {
  FolderSize size;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    size.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    size.apparent += static_cast<uint64_t>(st.st_size);
  }
  return size;
}

}  // namespace

int RunRecoveryBuild(const RecoveryBuildArgs& args) {
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  auto opened = engine::Engine::Open(Options(args.data, 1), registry);
  if (!opened) {
    std::fprintf(stderr, "error: %s\n", opened.error().message.c_str());
    return 1;
  }
  engine::Engine& eng = **opened;

  const dsl::StreamSchema& schema = dsl::Schema(dsl::StreamKind::kLineItem);
  const int sku_slot = *schema.Slot("sku"), qty_slot = *schema.Slot("qty"),
            price_slot = *schema.Slot("price");
  const dsl::Currency usd = dsl::PackCurrency("USD");
  std::vector<std::string> stores, skus;
  for (int s = 0; s < args.stores; ++s) stores.push_back(fmt::format("S{:04}", s + 1));
  for (int k = 0; k < args.skus; ++k) skus.push_back(fmt::format("SKU-{:05}", k + 1));

  // Hour by hour, SKU by SKU, every store: each store's time increases, and each event opens a
  // window of its own.
  const double started = NowSeconds();
  engine::Event event;
  int64_t pushed = 0;
  for (int64_t hour = 0; pushed < args.groups; ++hour) {
    for (int k = 0; k < args.skus && pushed < args.groups; ++k) {
      const int64_t ts =
          kStartUs + hour * dsl::kMicrosPerHour + k * (dsl::kMicrosPerHour / args.skus);
      for (int s = 0; s < args.stores && pushed < args.groups; ++s) {
        event.Reset(dsl::StreamKind::kLineItem);
        event.SetString(dsl::kSlotId, fmt::format("r-{}", pushed));
        event.SetString(dsl::kSlotStore, stores[static_cast<size_t>(s)]);
        event.Set(dsl::kSlotTs, dsl::Value::Timestamp(ts));
        event.SetString(dsl::kSlotSource, "file");
        event.SetString(dsl::kSlotCurrency, "USD");
        event.SetString(sku_slot, skus[static_cast<size_t>(k)]);
        event.Set(qty_slot, dsl::Value::Decimal(static_cast<double>(1 + pushed % 3)));
        event.Set(price_slot, dsl::Value::Money((99 + (k % 50) * 100) * 100, usd));
        eng.Push(event);
        ++pushed;
      }
    }
  }
  const double push_seconds = NowSeconds() - started;
  const double checkpoint_started = NowSeconds();
  Status s = eng.Checkpoint();
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("ready\tevents=%lld\tpush_seconds=%.3f\tcheckpoint_seconds=%.3f\twindows=%zu\n",
              static_cast<long long>(pushed), push_seconds, NowSeconds() - checkpoint_started,
              eng.stats().open_windows);
  std::fflush(stdout);
  for (;;) ::pause();  // until the parent's SIGKILL
}

int RunRecovery(const RecoveryArgs& args) {
  WorkDir work(args.work);
  if (work.path().empty()) {
    std::fputs("error: cannot create a work folder\n", stderr);
    return 2;
  }
  const std::string data = (fs::path(work.path()) / "state").string();
  const int64_t groups =
      args.groups > 0
          ? args.groups
          : static_cast<int64_t>(static_cast<double>(args.state_mb) * 1e6 / kBytesPerGroup);

  int out[2];
  if (::pipe(out) != 0) {
    std::perror("pipe");
    return 2;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> argv_text = {
      "aisle_bench", "recovery-build",         "--data",   data,
      "--groups",    std::to_string(groups),   "--stores", std::to_string(args.stores),
      "--skus",      std::to_string(args.skus)};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  const double started = NowSeconds();
  int spawned = posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    std::fprintf(stderr, "error: cannot start the state builder: %s\n", std::strerror(spawned));
    ::close(out[0]);
    return 2;
  }
  std::string report;
  char buffer[512];
  ssize_t n = 0;
  while (report.find('\n') == std::string::npos && (n = ::read(out[0], buffer, sizeof(buffer))) > 0)
    report.append(buffer, static_cast<size_t>(n));
  ::close(out[0]);
  const double build_seconds = NowSeconds() - started;
  ::kill(child, SIGKILL);
  int status = 0;
  struct rusage usage {};
  ::wait4(child, &status, 0, &usage);  // the builder's peak resident memory comes with it
  if (report.rfind("ready\t", 0) != 0) {
    std::fputs("error: the state builder stopped before its checkpoint\n", stderr);
    return 1;
  }
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    std::fputs("error: the state builder was not killed by SIGKILL\n", stderr);
    return 1;
  }
  const FolderSize size = Measure(data);

  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  const double open_started = NowSeconds();
  auto opened = engine::Engine::Open(Options(data, args.shards), registry);
  const double seconds = NowSeconds() - open_started;
  if (!opened) {
    std::fprintf(stderr, "error: recovery failed: %s\n", opened.error().message.c_str());
    return 1;
  }
  const auto windows = static_cast<int64_t>((*opened)->stats().open_windows);
  ResultLine result("recovery");
  result.Add("groups", groups)
      .Add("state_bytes", static_cast<int64_t>(size.allocated))
      .Add("apparent_bytes", static_cast<int64_t>(size.apparent))
      .Add("seconds", seconds)
      .Add("windows", windows)
      .Add("build_seconds", build_seconds)
      .Add("builder_peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024);
  // The builder's own figures: "ready<TAB>events=...<TAB>windows=...".
  int64_t built_windows = -1;
  std::string_view fields(report.data(), report.find('\n'));
  for (size_t at = fields.find('\t'); at != std::string_view::npos;) {
    const size_t next = fields.find('\t', at + 1);
    const std::string_view field =
        fields.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
    const size_t eq = field.find('=');
    if (eq != std::string_view::npos) {
      result.Add("builder_" + std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
      if (field.substr(0, eq) == "windows")
        built_windows = std::stoll(std::string(field.substr(eq + 1)));
    }
    at = next;
  }
  result.Print();
  std::fprintf(stderr,
               "recovery: %.1f MB on disk (%lld groups) opened in %.2f s; built in %.1f s\n",
               static_cast<double>(size.allocated) / 1e6, static_cast<long long>(groups), seconds,
               build_seconds);
  if (windows != built_windows) {
    std::fprintf(stderr, "error: %lld windows built, %lld recovered\n",
                 static_cast<long long>(built_windows), static_cast<long long>(windows));
    return 1;
  }
  return 0;
}

}  // namespace aisle::bench
