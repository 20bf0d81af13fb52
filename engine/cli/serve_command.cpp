// `aisle serve`: the engine behind an HTTP server for POS webhooks and our own feeds, and
// `aisle deadletter list|show|drop` on its dead-letter store.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/ndjson/late_writer.hpp"
#include "connectors/server/config.hpp"
#include "connectors/server/inbox.hpp"
#include "connectors/server/metrics.hpp"
#include "connectors/server/routes.hpp"
#include "connectors/server/server.hpp"
#include "connectors/sinks/http_sink.hpp"
#include "connectors/sinks/jsonl_sink.hpp"
#include "connectors/sinks/outbox.hpp"
#include "connectors/sinks/stdout_sink.hpp"
#include "dsl/time.hpp"
#include "engine/cli/commands.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::cli {

namespace fs = std::filesystem;
namespace srv = connectors::server;

namespace {

void PrintError(const std::string& message) {
  std::fputs(("error: " + message + (message.empty() || message.back() != '\n' ? "\n" : "")).c_str(), stderr);
}

// Counts emissions by rule and kind and times them from the delivery that triggered them.
class MetricsSink final : public engine::Sink {
 public:
  MetricsSink(srv::Metrics& metrics, const srv::Server*& server) : metrics_(metrics), server_(server) {}
  void Emit(const engine::Emission& e) override {
    metrics_.Add("aisle_emissions_total", {{"rule", e.rule}, {"kind", std::string(engine::KindName(e.kind))}});
    if (server_ == nullptr) return;
    const int64_t received = server_->newest_receipt_us();
    if (received <= 0) return;
    const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    metrics_.Observe("aisle_ingest_to_emission_seconds", {}, static_cast<double>(now - received) / 1e6);
  }
  bool Flush(std::string&) override { return true; }

 private:
  srv::Metrics& metrics_;
  const srv::Server*& server_;
};

// The config at `path` (the defaults when empty); false after printing why it cannot be used.
bool LoadConfig(const std::string& path, srv::ServeConfig& config) {
  if (path.empty()) return true;
  auto loaded = srv::LoadServeConfig(path);
  if (!loaded) {
    PrintError(loaded.error().message);
    return false;
  }
  config = std::move(*loaded);
  return true;
}

bool SplitListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    return used == listen.size() - colon - 1 && port >= 0 && port <= 65535;
  } catch (const std::exception&) {
    return false;
  }
}

// Runs dead letters through the current normalizers (after a fix, or a config change); those
// that now normalize go into the inbox, where the next `aisle serve` pushes them into the engine,
// and leave the dead-letter store. They were authenticated when they arrived.
int ReplayDeadLetters(const DeadLetterArgs& args, srv::Inbox& inbox) {
  srv::ServeConfig config;
  if (!LoadConfig(args.config, config)) return 2;
  srv::RouteSet route_set(config);
  const std::vector<srv::Route> routes = route_set.routes();
  std::vector<srv::DeadLetter> letters;
  if (args.all) {
    letters = inbox.DeadLetters();
  } else if (auto one = inbox.FindDeadLetter(args.id)) {
    letters.push_back(std::move(*one));
  } else {
    PrintError(fmt::format("no dead letter {}", args.id));
    return 1;
  }
  int failed = 0;
  for (srv::DeadLetter& letter : letters) {
    const srv::Route* route = nullptr;
    for (const auto& r : routes) {
      if (r.path == letter.path) route = &r;
    }
    if (route == nullptr) {
      PrintError(fmt::format("dead letter {}: no route for {} in this config", letter.id, letter.path));
      ++failed;
      continue;
    }
    connectors::webhooks::Headers headers;
    for (const auto& [name, value] : letter.headers) headers.Add(name, value);
    connectors::webhooks::Delivery delivery;
    delivery.path = letter.path;
    delivery.headers = &headers;
    delivery.body = letter.body;
    delivery.now_us = letter.received_us;
    connectors::webhooks::Normalized normalized;
    srv::RouteError error;
    bool ok = route->normalize(delivery, normalized, error);
    std::string reason = error.reason;
    if (ok) {
      connectors::EventParser parser;
      engine::Event event;
      for (size_t i = 0; i < normalized.events.size() && ok; ++i) {
        if (!parser.Parse(normalized.events[i], event, reason)) {
          ok = false;
          reason = fmt::format("event {}: {}", i + 1, reason);
        }
      }
    }
    if (!ok) {
      ++letter.replays;
      (void)inbox.UpdateDeadLetter(letter);
      std::fprintf(stderr, "dead letter %llu: still fails: %s\n", static_cast<unsigned long long>(letter.id),
                   reason.c_str());
      ++failed;
      continue;
    }
    if (normalized.delivery_id.empty())
      normalized.delivery_id = route->platform + ":sha256:" + connectors::webhooks::Sha256Hex(letter.body);
    auto appended = inbox.Append(normalized.delivery_id, normalized.events);
    if (!appended || !appended->error.empty()) {
      PrintError(fmt::format("dead letter {}: {}", letter.id,
                             appended ? appended->error : appended.error().message));
      ++failed;
      continue;
    }
    (void)inbox.RemoveDeadLetter(letter.id);
    std::fprintf(stderr, "dead letter %llu: %s (%zu events)\n", static_cast<unsigned long long>(letter.id),
                 appended->duplicate ? "already delivered since; dropped" : "replayed into the inbox",
                 normalized.events.size());
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int RunServe(const ServeArgs& args) {
  // Signals are taken by one thread with sigwait: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  srv::ServeConfig config;
  if (!LoadConfig(args.config, config)) return 2;
  if (!args.listen.empty()) config.listen = args.listen;
  srv::ServerOptions options;
  if (!SplitListen(config.listen, options.host, options.port)) {
    PrintError("--listen: expected HOST:PORT, got '" + config.listen + "'");
    return 2;
  }
  options.max_body_bytes = config.max_body_bytes;
  options.max_pending = config.max_pending;
  options.retry_after_seconds = config.retry_after_seconds;
  options.threads = config.threads;
  options.api_threads = config.api_threads;
  options.checkpoint_seconds = config.checkpoint_seconds;
  if (config.clock_start_us) {
    const int64_t start = *config.clock_start_us;
    const auto origin = std::chrono::steady_clock::now();
    options.clock = [start, origin] {
      return start + std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - origin)
                         .count();
    };
  }

  // Webhook sinks outlive the engine, which hands them its last emissions when it closes; then
  // their delivery threads stop, and what they have not delivered stays in `<data>/outbox/<name>`.
  std::vector<std::unique_ptr<connectors::HttpSink>> webhooks;
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  engine::EngineOptions engine_options;
  engine_options.rules = {args.rules};
  engine_options.data_dir = (fs::path(args.data_dir) / "engine").string();
  engine_options.tables_dir = args.tables_dir;
  engine_options.shards = args.shards;
  auto opened = engine::Engine::Open(engine_options, registry);
  if (!opened) {
    std::fputs(opened.error().message.c_str(), stderr);
    if (opened.error().message.empty() || opened.error().message.back() != '\n') std::fputs("\n", stderr);
    return 1;
  }
  engine::Engine& eng = **opened;
  auto inbox = srv::Inbox::Open((fs::path(args.data_dir) / "inbox").string());
  if (!inbox) {
    PrintError(inbox.error().message);
    return 2;
  }

  srv::Metrics metrics;
  srv::DeclareServerMetrics(metrics);
  const srv::Server* running = nullptr;
  MetricsSink metrics_sink(metrics, running);
  eng.AddSink(&metrics_sink);
  connectors::StdoutSink readable;
  std::vector<std::unique_ptr<connectors::JsonlSink>> files;
  for (const srv::SinkSettings& sink : config.sinks) {
    if (sink.type == "stdout") {
      eng.AddSink(&readable);
    } else if (sink.type == "jsonl") {
      const auto j = nlohmann::json::parse(sink.raw);
      if (!j.contains("path") || !j.at("path").is_string()) {
        PrintError("sinks: a jsonl sink needs \"path\"");
        return 2;
      }
      auto file = connectors::JsonlSink::Open(j.at("path").get<std::string>());
      if (!file) {
        PrintError(file.error().message);
        return 2;
      }
      files.push_back(std::move(file).value());
      eng.AddSink(files.back().get());
    } else if (sink.type == "webhook") {
      const std::string base_dir = args.config.empty() ? std::string() : fs::path(args.config).parent_path().string();
      auto webhook = connectors::MakeHttpSink(sink.raw, args.data_dir, base_dir);
      if (!webhook) {
        PrintError(webhook.error().message);
        return 2;
      }
      webhooks.push_back(std::move(webhook).value());
      eng.AddSink(webhooks.back().get());
    } else {
      PrintError("sinks: unknown sink type '" + sink.type + "' (stdout, jsonl, webhook)");
      return 2;
    }
  }
  if (!args.out.empty()) {
    auto file = connectors::JsonlSink::Open(args.out);
    if (!file) {
      PrintError(file.error().message);
      return 2;
    }
    files.push_back(std::move(file).value());
    eng.AddSink(files.back().get());
  }
  connectors::LateWriter late((fs::path(args.data_dir) / "late.jsonl").string());
  eng.SetLateHandler([&late](const engine::LateEvent& e) { (void)late.Write(e); });
  eng.AddCheckpointHook([&late] { return late.Flush(); });

  options.before_scrape = [&webhooks](srv::Metrics& m) {
    for (const auto& sink : webhooks) {
      const srv::Labels labels = {{"sink", sink->name()}};
      m.Set("aisle_sink_failures_total", labels, static_cast<double>(sink->failed_attempts()));
      m.Set("aisle_sink_delivered_total", labels, static_cast<double>(sink->delivered()));
      m.Set("aisle_sink_dead_letters_total", labels, static_cast<double>(sink->dead_lettered()));
      m.Set("aisle_sink_outbox_depth", labels, static_cast<double>(sink->outbox().pending()));
    }
  };
  srv::RouteSet routes(config);
  srv::Server server(options, eng, **inbox, metrics, routes.routes());
  Status started = server.Start();
  if (!started) {
    PrintError(started.message());
    return 2;
  }
  running = &server;
  std::fprintf(stderr, "aisle serve: listening on http://%s:%d (%zu webhook routes)\n", options.host.c_str(),
               server.port(), routes.routes().size());
  if (!args.port_file.empty()) {
    std::ofstream(args.port_file) << server.port() << "\n";
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "aisle serve: %s: draining and checkpointing\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  Status stopped = server.Stop();
  running = nullptr;
  if (!stopped) {
    PrintError("final checkpoint failed: " + stopped.message());
    return 1;
  }
  std::fputs("aisle serve: stopped cleanly\n", stderr);
  return 0;
}

namespace {

// `aisle deadletter ... --sink NAME`: the emissions a webhook sink gave up on, in its outbox.
int RunSinkDeadLetter(const DeadLetterArgs& args) {
  const std::string dir = connectors::HttpSinkOutboxDir(args.data_dir, args.sink);
  if (!fs::exists(dir)) {
    PrintError(fmt::format("no outbox for sink '{}' in {}", args.sink, dir));
    return 2;
  }
  auto outbox = connectors::Outbox::Open(dir);
  if (!outbox) {
    PrintError(outbox.error().message + " (is `aisle serve` running on this data folder? stop it first)");
    return 2;
  }
  connectors::Outbox& box = **outbox;
  if (args.action == "stats") {
    std::printf("emissions waiting: %llu\ndead letters: %zu\n", static_cast<unsigned long long>(box.pending()),
                box.DeadLetters().size());
    return 0;
  }
  if (args.action == "list") {
    const auto letters = box.DeadLetters();
    for (const auto& l : letters) {
      std::printf("%llu\t%s\t%s\t%u attempts\t%s\n", static_cast<unsigned long long>(l.sequence),
                  dsl::FormatTimestamp(l.dead_us).c_str(), l.id.c_str(), l.attempts, l.reason.c_str());
    }
    std::fprintf(stderr, "%zu dead letters in sink '%s'\n", letters.size(), args.sink.c_str());
    return 0;
  }
  std::vector<uint64_t> ids;
  if (args.action == "replay" && args.all) {
    for (const auto& l : box.DeadLetters()) ids.push_back(l.sequence);
  } else {
    const auto letter = box.FindDeadLetter(args.id);
    if (!letter) {
      PrintError(fmt::format("no dead letter {} in sink '{}'", args.id, args.sink));
      return 1;
    }
    if (args.action == "show") {
      nlohmann::json j = {{"sequence", letter->sequence}, {"id", letter->id},         {"attempts", letter->attempts},
                          {"reason", letter->reason},     {"dead_at", dsl::FormatTimestamp(letter->dead_us)},
                          {"body", letter->body}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      return 0;
    }
    if (args.action == "body") {
      std::fwrite(letter->body.data(), 1, letter->body.size(), stdout);
      return 0;
    }
    ids.push_back(letter->sequence);
  }
  for (uint64_t id : ids) {
    if (args.action == "drop") {
      Status s = box.RemoveDeadLetter(id);
      if (!s) {
        PrintError(s.message());
        return 2;
      }
      std::fprintf(stderr, "dropped dead letter %llu\n", static_cast<unsigned long long>(id));
    } else if (args.action == "replay") {
      auto requeued = box.Requeue(id);
      if (!requeued) {
        PrintError(requeued.error().message);
        return 2;
      }
      std::fprintf(stderr, "dead letter %llu is back in the outbox (sent when `aisle serve` starts)\n",
                   static_cast<unsigned long long>(id));
    } else {
      PrintError("unknown action '" + args.action + "'");
      return 2;
    }
  }
  return 0;
}

}  // namespace

int RunDeadLetter(const DeadLetterArgs& args) {
  if (!args.sink.empty()) return RunSinkDeadLetter(args);
  auto inbox = srv::Inbox::Open((fs::path(args.data_dir) / "inbox").string());
  if (!inbox) {
    PrintError(inbox.error().message + " (is `aisle serve` running on this data folder? stop it first)");
    return 2;
  }
  if (args.action == "replay") return ReplayDeadLetters(args, **inbox);
  if (args.action == "stats") {
    std::printf("deliveries acknowledged: %llu\ndeliveries not yet checkpointed: %llu\nlast sequence: %llu\n"
                "dead letters: %zu\n",
                static_cast<unsigned long long>((*inbox)->delivery_count()),
                static_cast<unsigned long long>((*inbox)->pending()),
                static_cast<unsigned long long>((*inbox)->last_sequence()), (*inbox)->DeadLetters().size());
    return 0;
  }
  if (args.action == "list") {
    const auto letters = (*inbox)->DeadLetters();
    for (const auto& l : letters) {
      std::printf("%llu\t%s\t%s\t%zu bytes\t%s\n", static_cast<unsigned long long>(l.id),
                  dsl::FormatTimestamp(l.received_us).c_str(), l.path.c_str(), l.body.size(), l.reason.c_str());
    }
    std::fprintf(stderr, "%zu dead letters\n", letters.size());
    return 0;
  }
  const auto letter = (*inbox)->FindDeadLetter(args.id);
  if (!letter) {
    PrintError(fmt::format("no dead letter {}", args.id));
    return 1;
  }
  if (args.action == "show") {
    std::printf("%s\n", srv::DeadLetterJson(*letter).c_str());
    return 0;
  }
  if (args.action == "body") {
    std::fwrite(letter->body.data(), 1, letter->body.size(), stdout);
    return 0;
  }
  if (args.action == "drop") {
    Status s = (*inbox)->RemoveDeadLetter(args.id);
    if (!s) {
      PrintError(s.message());
      return 2;
    }
    std::fprintf(stderr, "dropped dead letter %llu\n", static_cast<unsigned long long>(args.id));
    return 0;
  }
  PrintError("unknown action '" + args.action + "'");
  return 2;
}

}  // namespace aisle::cli
