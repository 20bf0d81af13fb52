#include "connectors/server/server.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "dsl/schema.hpp"
#include "engine/engine.hpp"

namespace aisle::connectors::server {

namespace {

constexpr const char* kInboxSource = "inbox";

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

const char* AuthReason(webhooks::AuthStatus status) {
  switch (status) {
    case webhooks::AuthStatus::kMissing: return "signature_missing";
    case webhooks::AuthStatus::kBad: return "signature_invalid";
    case webhooks::AuthStatus::kStale: return "signature_stale";
    case webhooks::AuthStatus::kOk: break;
  }
  return "ok";
}

// Connects to the listening socket and hangs up, so a thread blocked in accept() returns.
void WakeAccept(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const std::string target = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, target.c_str(), &addr.sin_addr) == 1)
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(fd);
}

uint64_t ParsePosition(const std::string& text) {
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

void DeclareServerMetrics(Metrics& m) {
  m.DeclareCounter("aisle_http_requests_total", "HTTP requests answered, by route and status.");
  m.DeclareCounter("aisle_events_received_total",
                   "Canonical events acknowledged, by platform and event type.");
  m.DeclareCounter("aisle_deliveries_total", "Webhook deliveries acknowledged, by platform and outcome.");
  m.DeclareCounter("aisle_rejects_total", "Deliveries refused, by platform and reason.");
  m.DeclareCounter("aisle_emissions_total", "Emissions made, by rule and kind.");
  m.DeclareCounter("aisle_sink_failures_total", "Failed sink deliveries, by sink.");
  m.DeclareGauge("aisle_ingest_queue_depth", "Deliveries acknowledged but not yet in the engine.");
  m.DeclareGauge("aisle_inbox_sequence", "Newest inbox sequence pushed into the engine.");
  m.DeclareGauge("aisle_open_windows", "Windows open in the engine.");
  m.DeclareGauge("aisle_late_events", "Events that came after their window closed, since start.");
  m.DeclareGauge("aisle_ready", "1 when the server accepts deliveries.");
  m.DeclareHistogram("aisle_request_duration_seconds",
                     "Time to answer a webhook request, by route.",
                     {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  m.DeclareHistogram("aisle_ingest_to_emission_seconds",
                     "From receiving the delivery that triggered it to an emission reaching the sinks.",
                     {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
}

Server::Server(ServerOptions options, engine::Engine& engine, Inbox& inbox, Metrics& metrics,
               std::vector<Route> routes)
    : options_(std::move(options)),
      engine_(engine),
      inbox_(inbox),
      metrics_(metrics),
      routes_(std::move(routes)),
      http_(std::make_unique<httplib::Server>()) {
  if (!options_.clock) options_.clock = WallMicros;
}

Server::~Server() {
  (void)Stop();
}

void Server::InstallRoutes() {
  http_->set_payload_max_length(static_cast<size_t>(options_.max_body_bytes));
  // Without TCP_NODELAY a response written in two segments waits for the client's delayed ACK
  // (Nagle's algorithm): a fixed 40 ms on every request.
  http_->set_tcp_nodelay(true);
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    // Label only paths the server knows, so stray requests cannot grow the series without bound.
    std::string route = "other";
    if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/metrics") route = req.path;
    for (const Route& r : routes_) {
      if (r.path == req.path) route = r.path;
    }
    metrics_.Add("aisle_http_requests_total", {{"route", route}, {"status", std::to_string(res.status)}});
  });
  // Over the size limit httplib answers 413 before a handler runs: give it a JSON body.
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      Reply(res, 413, {{"error", "payload_too_large"}});
    } else if (res.status == 404) {
      Reply(res, 404, {{"error", "not_found"}});
    }
  });

  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = ready_.load() && acknowledged_.load() < options_.max_pending;
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    metrics_.Set("aisle_ingest_queue_depth", {}, static_cast<double>(acknowledged_.load()));
    metrics_.Set("aisle_ready", {}, ready_.load() ? 1 : 0);
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });

  for (const Route& route : routes_) {
    http_->Post(route.path, [this, &route](const httplib::Request& req, httplib::Response& res) {
      const auto started = std::chrono::steady_clock::now();
      const int64_t received = WallMicros();
      auto done = [&] {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics_.Observe("aisle_request_duration_seconds", {{"route", route.path}}, seconds);
      };
      webhooks::Headers headers;
      for (const auto& [name, value] : req.headers) headers.Add(name, value);
      webhooks::Delivery delivery;
      delivery.path = req.path;
      delivery.headers = &headers;
      delivery.body = req.body;
      delivery.now_us = options_.clock();

      // 1. Authenticate over the raw bytes: a failure stores nothing.
      const webhooks::AuthResult auth = route.authenticate(delivery);
      if (!auth.ok()) {
        metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", AuthReason(auth.status)}});
        Reply(res, 401, {{"error", "unauthorized"}, {"reason", auth.reason}});
        return done();
      }
      // 2. Backpressure: the engine is behind; the platform retries later.
      if (acknowledged_.load() >= options_.max_pending || !ready_.load()) {
        metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", "backpressure"}});
        res.set_header("Retry-After", std::to_string(options_.retry_after_seconds));
        Reply(res, 503, {{"error", "busy"}, {"retry_after_seconds", options_.retry_after_seconds}});
        return done();
      }
      // 3. Normalize; a malformed body is dead-lettered, byte for byte.
      webhooks::Normalized normalized;
      RouteError failure;
      bool ok = route.normalize(delivery, normalized, failure);
      std::vector<engine::Event> events;
      if (ok) {
        EventParser parser;
        events.resize(normalized.events.size());
        std::string reason;
        for (size_t i = 0; i < normalized.events.size() && ok; ++i) {
          if (!parser.Parse(normalized.events[i], events[i], reason)) {
            ok = false;
            failure = {FailureKind::kMalformed, fmt::format("event {}: {}", i + 1, reason)};
          }
        }
        if (ok && normalized.delivery_id.empty())
          normalized.delivery_id = route.platform + ":sha256:" + webhooks::Sha256Hex(req.body);
      }
      if (!ok && failure.kind == FailureKind::kUpstream) {
        metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", "upstream"}});
        res.set_header("Retry-After", std::to_string(options_.retry_after_seconds));
        Reply(res, 503, {{"error", "upstream_unavailable"}, {"reason", failure.reason}});
        return done();
      }
      if (!ok) {
        DeadLetter letter;
        letter.received_us = received;
        letter.path = req.path;
        letter.platform = route.platform;
        letter.reason = failure.reason;
        letter.headers = headers.entries();
        letter.body = req.body;
        auto id = inbox_.AddDeadLetter(std::move(letter));
        if (!id) {
          // Not stored: do not acknowledge, so the platform sends it again.
          Reply(res, 500, {{"error", "dead_letter_store_failed"}});
          return done();
        }
        metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", "malformed"}});
        Reply(res, 400, {{"error", "malformed"}, {"reason", failure.reason}, {"dead_letter", *id}});
        return done();
      }
      // 4. Durable, then acknowledged.
      auto appended = inbox_.Append(normalized.delivery_id, normalized.events);
      if (!appended) {
        Reply(res, 500, {{"error", "inbox_failed"}});
        return done();
      }
      if (appended->duplicate) {
        metrics_.Add("aisle_deliveries_total", {{"platform", route.platform}, {"outcome", "duplicate"}});
        Reply(res, 200, {{"status", "duplicate"}, {"delivery", normalized.delivery_id}});
        return done();
      }
      if (!appended->error.empty()) {
        Enqueue(Item{appended->sequence, true, {}, received});
        Reply(res, 500, {{"error", "inbox_failed"}});
        return done();
      }
      std::array<int64_t, dsl::kStreamKindCount> by_type{};
      for (const auto& e : events) ++by_type[static_cast<size_t>(e.kind())];
      for (int k = 0; k < dsl::kStreamKindCount; ++k) {
        if (by_type[static_cast<size_t>(k)] == 0) continue;
        metrics_.Add("aisle_events_received_total",
                     {{"platform", route.platform},
                      {"type", std::string(dsl::Schema(static_cast<dsl::StreamKind>(k)).name)}},
                     static_cast<double>(by_type[static_cast<size_t>(k)]));
      }
      metrics_.Add("aisle_deliveries_total",
                   {{"platform", route.platform}, {"outcome", normalized.events.empty() ? "empty" : "accepted"}});
      const size_t count = events.size();
      acknowledged_.fetch_add(1);
      Enqueue(Item{appended->sequence, false, std::move(events), received});
      nlohmann::json body = {{"status", "accepted"}, {"delivery", normalized.delivery_id}, {"events", count}};
      if (!normalized.note.empty()) body["note"] = normalized.note;
      Reply(res, 200, body);
      return done();
    });
  }
}

void Server::Enqueue(Item item) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    const uint64_t sequence = item.sequence;
    queue_.emplace(sequence, std::move(item));
  }
  queue_cv_.notify_one();
}

Status Server::Replay() {
  const uint64_t position = ParsePosition(engine_.SourcePosition(kInboxSource));
  if (position > inbox_.last_sequence()) {
    return Error{fmt::format("the engine's state has read the inbox up to {}, but the inbox ends at {}: "
                             "the data folder's inbox and engine state do not belong together",
                             position, inbox_.last_sequence())};
  }
  EventParser parser;
  engine::Event event;
  std::string reason;
  uint64_t replayed = 0;
  Status status = inbox_.ReadAfter(position, [&](uint64_t sequence, std::vector<std::string>&& lines) {
    engine_.SetSourcePosition(kInboxSource, std::to_string(sequence));
    for (const auto& line : lines) {
      if (!parser.Parse(line, event, reason)) {
        std::fprintf(stderr, "aisle serve: inbox delivery %llu: %s (skipped)\n",
                     static_cast<unsigned long long>(sequence), reason.c_str());
        continue;
      }
      engine_.Push(event);
    }
    ++replayed;
    return true;
  });
  if (!status) return status;
  engine_.Flush();
  pushed_through_ = inbox_.last_sequence();
  engine_.SetSourcePosition(kInboxSource, std::to_string(pushed_through_.load()));
  if (replayed > 0) {
    std::fprintf(stderr, "aisle serve: pushed %llu acknowledged deliveries from the inbox again\n",
                 static_cast<unsigned long long>(replayed));
    return CheckpointAndTrim();
  }
  return Status::Ok();
}

Status Server::Start() {
  Status replayed = Replay();
  if (!replayed) return replayed;
  InstallRoutes();
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ < 0) return Error{"cannot bind " + options_.host};
  } else {
    if (!http_->bind_to_port(options_.host, options_.port))
      return Error{fmt::format("cannot listen on {}:{}", options_.host, options_.port)};
    port_ = options_.port;
  }
  ingest_thread_ = std::thread([this] { IngestLoop(); });
  ready_ = true;
  http_thread_ = std::thread([this] {
    http_->listen_after_bind();
    http_done_ = true;
  });
  return Status::Ok();
}

void Server::IngestLoop() {
  uint64_t next = pushed_through_.load() + 1;
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto last_gauges = last_checkpoint;
  bool dirty = false;
  std::vector<Item> batch;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait_for(lock, std::chrono::milliseconds(200),
                         [&] { return stopping_ || queue_.count(next) > 0; });
      for (auto it = queue_.find(next); it != queue_.end() && it->first == next; it = queue_.find(next)) {
        batch.push_back(std::move(it->second));
        queue_.erase(it);
        ++next;
      }
      stopping = stopping_ && queue_.empty();
    }
    for (Item& item : batch) {
      if (!item.failed) {
        engine_.SetSourcePosition(kInboxSource, std::to_string(item.sequence));
        for (const engine::Event& e : item.events) engine_.Push(e);
        newest_receipt_us_.store(item.received_us, std::memory_order_relaxed);
        acknowledged_.fetch_sub(1);
        dirty = true;
      }
      pushed_through_ = item.sequence;
    }
    const bool idle = batch.empty();
    batch.clear();
    if (idle) engine_.Flush();
    const auto now = std::chrono::steady_clock::now();
    if (dirty && now - last_checkpoint >= std::chrono::seconds(options_.checkpoint_seconds)) {
      Status s = CheckpointAndTrim();
      if (!s) std::fprintf(stderr, "aisle serve: checkpoint failed: %s\n", s.message().c_str());
      dirty = false;
      last_checkpoint = now;
    }
    if (now - last_gauges >= std::chrono::seconds(1)) {
      UpdateGauges();
      last_gauges = now;
    }
    if (stopping) break;
  }
}

void Server::UpdateGauges() {
  const engine::EngineStats stats = engine_.stats();
  metrics_.Set("aisle_open_windows", {}, static_cast<double>(stats.open_windows));
  metrics_.Set("aisle_late_events", {}, static_cast<double>(stats.late));
  metrics_.Set("aisle_inbox_sequence", {}, static_cast<double>(pushed_through_.load()));
}

Status Server::CheckpointAndTrim() {
  const uint64_t through = pushed_through_.load();
  engine_.SetSourcePosition(kInboxSource, std::to_string(through));
  Status s = engine_.Checkpoint();
  if (!s) return s;
  return inbox_.Trim(through);
}

Status Server::Stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (stopped_) return stop_status_;
  stopped_ = true;
  ready_ = false;
  if (http_thread_.joinable()) {
    // httplib's stop() does nothing until its listen loop has started, and the loop may then sit
    // in accept(): stop, then wake accept() with a connection of our own, until the loop ends.
    while (!http_done_.load()) {
      http_->stop();
      WakeAccept(options_.host, port_);
      for (int i = 0; i < 50 && !http_done_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    http_thread_.join();  // every request in flight has been answered and enqueued
  }
  if (ingest_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> queue_lock(queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.notify_one();
    ingest_thread_.join();
    engine_.Flush();
    stop_status_ = CheckpointAndTrim();
  }
  {
    std::lock_guard<std::mutex> wait_lock(wait_mutex_);
    finished_ = true;
  }
  wait_cv_.notify_all();
  return stop_status_;
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wait_cv_.wait(lock, [this] { return finished_; });
}

}  // namespace aisle::connectors::server
