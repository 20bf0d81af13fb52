// Ingest-to-emission latency at a fixed offered rate (tests/bench/latency.aisle). Events are made
// ahead of their turn and pushed on a steady-clock schedule; a sink stamps each emission as it
// arrives. A rule on the raw stream is matched to its event by the id in its message; a rule on
// each closed hourly window is matched to the push that moved its store's watermark past the
// window's end (the first event whose time minus the stream's delay reaches it).

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/bench/bench.hpp"
#include "tests/bench/synthetic_events.hpp"

namespace aisle::bench {

namespace {

using Clock = std::chrono::steady_clock;

// The `delay` of line_item in latency.aisle, and the size of its windows.
constexpr int64_t kStreamDelayUs = dsl::kMicrosPerMinute;
constexpr int64_t kWindowUs = dsl::kMicrosPerHour;
constexpr double kBigQty = 8;  // big_qty's threshold

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

uint64_t WindowKey(int store, int64_t end) {
  return (static_cast<uint64_t>(store) << 40) ^ static_cast<uint64_t>(end / kWindowUs);
}

// Stamps each emission with the steady clock before anything else; safe from any thread.
class StampingSink final : public engine::Sink {
 public:
  struct Hit {
    int64_t ns;
    int64_t event;  // index of the line item, from the id in the message
  };
  struct Close {
    int64_t ns;
    std::string store;
    int64_t end;
  };

  void Emit(const engine::Emission& e) override {
    const int64_t now = NowNs();
    std::lock_guard<std::mutex> lock(mu_);
    if (e.rule == "big_qty") {
      int64_t index = -1;
      if (e.message.size() > 3 && e.message.compare(0, 3, "li-") == 0)
        std::from_chars(e.message.data() + 3, e.message.data() + e.message.size(), index);
      hits_.push_back({now, index});
    } else if (e.rule == "hour_closed" && e.window) {
      closes_.push_back({now, e.store, e.window->second});
    } else {
      ++other_;
    }
  }
  bool Flush(std::string&) override { return true; }

  // Read after the engine has finished.
  const std::vector<Hit>& hits() const { return hits_; }
  const std::vector<Close>& closes() const { return closes_; }
  int64_t other() const { return other_; }
  void Reserve(size_t hits, size_t closes) {
    hits_.reserve(hits);
    closes_.reserve(closes);
  }

 private:
  std::mutex mu_;
  std::vector<Hit> hits_;
  std::vector<Close> closes_;
  int64_t other_ = 0;
};

// Nearest-rank percentile of sorted values.
int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

void PrintLatency(const std::string& name, std::vector<int64_t> ns, int shards, double rate,
                  int64_t unmatched) {
  std::sort(ns.begin(), ns.end());
  auto us = [](int64_t v) { return static_cast<double>(v) / 1e3; };
  ResultLine(name)
      .Add("shards", static_cast<int64_t>(shards))
      .Add("rate", rate)
      .Add("samples", static_cast<int64_t>(ns.size()))
      .Add("p50_us", us(Percentile(ns, 0.50)))
      .Add("p99_us", us(Percentile(ns, 0.99)))
      .Add("p999_us", us(Percentile(ns, 0.999)))
      .Add("max_us", us(ns.empty() ? 0 : ns.back()))
      .Add("unmatched", unmatched)
      .Print();
}

}  // namespace

int RunLatency(const LatencyArgs& args) {
  WorkDir work(args.work);
  if (work.path().empty()) {
    std::fputs("error: cannot create a work folder\n", stderr);
    return 2;
  }
  // Event time runs fast enough that about three windows a second close per store: enough
  // window closes for a p99.9 in a few seconds, with some 60 lines in each store's hour.
  SyntheticOptions synthetic;
  synthetic.step_us = static_cast<int64_t>(3.2 * static_cast<double>(kWindowUs) / args.rate);
  const SyntheticLineItems items(synthetic);

  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {BenchFile("latency.aisle")};
  options.data_dir = (std::filesystem::path(work.path()) / "state").string();
  options.shards = args.shards;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    std::fprintf(stderr, "error: %s\n", opened.error().message.c_str());
    return 1;
  }
  engine::Engine& eng = **opened;
  StampingSink sink;
  eng.AddSink(&sink);

  const auto total = static_cast<int64_t>((args.warmup + args.seconds) * args.rate);
  const auto warm = static_cast<int64_t>(args.warmup * args.rate);
  sink.Reserve(static_cast<size_t>(total / 10), static_cast<size_t>(total / 10));
  std::vector<int64_t> pushed(static_cast<size_t>(total)), scheduled(static_cast<size_t>(total));
  // Per store, the ends of windows that hold events and have not closed yet, oldest first; and
  // for each closing window, the index of the event whose push closes it.
  std::vector<std::deque<int64_t>> pending(static_cast<size_t>(items.stores()));
  std::unordered_map<uint64_t, int64_t> closed_by;
  int64_t expected_hits = 0, behind = 0;

  engine::Event event;
  const double interval_ns = 1e9 / args.rate;
  const int64_t start = NowNs() + 1'000'000;
  for (int64_t i = 0; i < total; ++i) {
    items.Make(i, event);
    const int store = items.store_of(i);
    const int64_t ts = items.time_of(i);
    auto& ends = pending[static_cast<size_t>(store)];
    while (!ends.empty() && ts - kStreamDelayUs >= ends.front()) {
      closed_by.emplace(WindowKey(store, ends.front()), i);
      ends.pop_front();
    }
    const int64_t end = dsl::FloorDiv(ts, kWindowUs) * kWindowUs + kWindowUs;
    if (ends.empty() || ends.back() != end) ends.push_back(end);
    if (items.qty_of(i) >= kBigQty) ++expected_hits;

    // Wait for this event's turn: sleep while far from it, then spin. The pushing thread keeps its
    // core, as an ingest thread under load would; the shards have the others.
    const int64_t due = start + std::llround(static_cast<double>(i) * interval_ns);
    int64_t now = NowNs();
    while (now < due) {
      if (due - now > 200'000)
        std::this_thread::sleep_for(std::chrono::nanoseconds(due - now - 100'000));
      else
        CpuRelax();
      now = NowNs();
    }
    if (now - due > 1'000'000) ++behind;
    scheduled[static_cast<size_t>(i)] = due;
    pushed[static_cast<size_t>(i)] = now;
    eng.Push(event);
  }
  const double elapsed = static_cast<double>(NowNs() - pushed[static_cast<size_t>(warm)]) / 1e9;
  Status finished = eng.Finish(false);
  if (!finished.ok()) {
    std::fprintf(stderr, "error: %s\n", finished.message().c_str());
    return 1;
  }

  std::vector<int64_t> from_push, from_schedule;
  int64_t unmatched = 0;
  for (const auto& hit : sink.hits()) {
    if (hit.event < 0 || hit.event >= total) {
      ++unmatched;
      continue;
    }
    if (hit.event < warm) continue;
    from_push.push_back(hit.ns - pushed[static_cast<size_t>(hit.event)]);
    from_schedule.push_back(hit.ns - scheduled[static_cast<size_t>(hit.event)]);
  }
  std::unordered_map<std::string, int> store_index;
  for (int s = 0; s < items.stores(); ++s) store_index.emplace(items.store_name(s), s);
  std::vector<int64_t> window_from_push;
  int64_t window_unmatched = 0;
  for (const auto& close : sink.closes()) {
    auto s = store_index.find(close.store);
    auto by =
        s == store_index.end() ? closed_by.end() : closed_by.find(WindowKey(s->second, close.end));
    if (by == closed_by.end()) {
      ++window_unmatched;
      continue;
    }
    if (by->second < warm) continue;
    window_from_push.push_back(close.ns - pushed[static_cast<size_t>(by->second)]);
  }

  const double achieved = static_cast<double>(total - warm) / elapsed;
  PrintLatency(fmt::format("latency-stream-s{}", args.shards), from_push, args.shards, achieved,
               unmatched);
  PrintLatency(fmt::format("latency-stream-sched-s{}", args.shards), from_schedule, args.shards,
               achieved, unmatched);
  PrintLatency(fmt::format("latency-window-s{}", args.shards), window_from_push, args.shards,
               achieved, window_unmatched);
  ResultLine(fmt::format("latency-run-s{}", args.shards))
      .Add("offered", args.rate)
      .Add("achieved", achieved)
      .Add("events", total - warm)
      .Add("behind_1ms", behind)
      .Add("hits", static_cast<int64_t>(sink.hits().size()))
      .Add("expected_hits", expected_hits)
      .Add("window_closes", static_cast<int64_t>(sink.closes().size()))
      .Print();
  std::fprintf(
      stderr,
      "latency, %d shard(s): %lld events at %.0f/s offered (%.0f/s achieved, %lld pushed over "
      "1 ms late); %zu stream-rule and %zu window emissions\n",
      args.shards, static_cast<long long>(total), args.rate, achieved,
      static_cast<long long>(behind), sink.hits().size(), sink.closes().size());
  if (unmatched + window_unmatched + sink.other() > 0 ||
      static_cast<int64_t>(sink.hits().size()) != expected_hits) {
    std::fprintf(
        stderr,
        "error: emissions do not match the events pushed: %zu stream-rule emissions for %lld "
        "expected, %lld unmatched, %lld windows unmatched, %lld unknown\n",
        sink.hits().size(), static_cast<long long>(expected_hits),
        static_cast<long long>(unmatched), static_cast<long long>(window_unmatched),
        static_cast<long long>(sink.other()));
    return 1;
  }
  return 0;
}

}  // namespace aisle::bench
