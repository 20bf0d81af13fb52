#include "connectors/server/server.hpp"

#include <pthread.h>

#include <array>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/json/json_text.hpp"
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

HttpResponse Json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return response;
}

HttpResponse Text(int status, std::string body, std::string content_type = "text/plain") {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
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
  m.DeclareCounter("aisle_sink_failures_total", "Failed sink delivery attempts (each retried or dead-lettered), by sink.");
  m.DeclareCounter("aisle_sink_delivered_total", "Emissions a sink delivered, by sink.");
  m.DeclareCounter("aisle_sink_dead_letters_total", "Emissions a sink gave up on (kept as its dead letters), by sink.");
  m.DeclareGauge("aisle_sink_outbox_depth", "Emissions in a sink's outbox not yet delivered, by sink.");
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
      routes_(std::move(routes)) {
  if (!options_.clock) options_.clock = WallMicros;
}

Server::~Server() {
  (void)Stop();
}

void Server::Dispatch(HttpRequest&& request, Respond respond) {
  const Route* route = nullptr;
  for (const Route& r : routes_) {
    if (r.path == request.path) route = &r;
  }
  // Label only paths the server knows, so stray requests cannot grow the series without bound.
  std::string label = route != nullptr ? route->path : "other";
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics") label = request.path;
  const auto started = std::chrono::steady_clock::now();
  Respond answer = [this, label, started, respond = std::move(respond), timed = route != nullptr](HttpResponse response) {
    metrics_.Add("aisle_http_requests_total", {{"route", label}, {"status", std::to_string(response.status)}});
    if (timed) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics_.Observe("aisle_request_duration_seconds", {{"route", label}}, seconds);
    }
    respond(std::move(response));
  };

  if (route != nullptr) {
    if (request.method != "POST") return answer(Json(405, {{"error", "method_not_allowed"}}));
    if (!route->may_block) return HandleWebhook(*route, request, answer);
    auto shared = std::make_shared<HttpRequest>(std::move(request));
    http_->Post([this, route, shared, answer] { HandleWebhook(*route, *shared, answer); });
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return answer(Json(request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics" ? 405 : 404,
                       {{"error", label == "other" ? "not_found" : "method_not_allowed"}}));
  }
  if (request.path == "/healthz") return answer(Text(200, "ok\n"));
  if (request.path == "/readyz") {
    const bool ready = ready_.load() && acknowledged_.load() < options_.max_pending;
    return answer(Text(ready ? 200 : 503, ready ? "ready\n" : "not ready\n"));
  }
  if (request.path == "/metrics") {
    metrics_.Set("aisle_ingest_queue_depth", {}, static_cast<double>(acknowledged_.load()));
    metrics_.Set("aisle_ready", {}, ready_.load() ? 1 : 0);
    if (options_.before_scrape) options_.before_scrape(metrics_);
    return answer(Text(200, metrics_.Render(), "text/plain; version=0.0.4"));
  }
  answer(Json(404, {{"error", "not_found"}}));
}

void Server::HandleWebhook(const Route& route, HttpRequest& request, const Respond& respond) {
  const int64_t received = WallMicros();
  webhooks::Headers headers;
  for (auto& [name, value] : request.headers) headers.Add(std::move(name), std::move(value));
  webhooks::Delivery delivery;
  delivery.path = request.path;
  delivery.headers = &headers;
  delivery.body = request.body;
  delivery.now_us = options_.clock();

  // 1. Authenticate over the raw bytes: a failure stores nothing.
  const webhooks::AuthResult auth = route.authenticate(delivery);
  if (!auth.ok()) {
    metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", AuthReason(auth.status)}});
    return respond(Json(401, {{"error", "unauthorized"}, {"reason", auth.reason}}));
  }
  auto busy = [&](const char* reason, nlohmann::json body) {
    metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", reason}});
    HttpResponse response = Json(503, body);
    response.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
    respond(std::move(response));
  };
  // 2. Backpressure: the engine is behind; the platform retries later.
  if (acknowledged_.load() >= options_.max_pending || !ready_.load()) {
    return busy("backpressure", {{"error", "busy"}, {"retry_after_seconds", options_.retry_after_seconds}});
  }
  // 3. Normalize; a malformed body is dead-lettered, byte for byte.
  webhooks::Normalized normalized;
  RouteError failure;
  bool ok = route.normalize(delivery, normalized, failure);
  std::vector<engine::Event> events;
  if (ok) {
    thread_local EventParser parser;
    events.resize(normalized.events.size());
    std::string reason;
    for (size_t i = 0; i < normalized.events.size() && ok; ++i) {
      if (!parser.Parse(normalized.events[i], events[i], reason)) {
        ok = false;
        failure = {FailureKind::kMalformed, fmt::format("event {}: {}", i + 1, reason)};
      }
    }
    if (ok && normalized.delivery_id.empty())
      normalized.delivery_id = route.platform + ":sha256:" + webhooks::Sha256Hex(request.body);
  }
  if (!ok && failure.kind == FailureKind::kUpstream) {
    return busy("upstream", {{"error", "upstream_unavailable"}, {"reason", failure.reason}});
  }
  if (!ok) {
    DeadLetter letter;
    letter.received_us = received;
    letter.path = request.path;
    letter.platform = route.platform;
    letter.reason = failure.reason;
    letter.headers = headers.entries();
    letter.body = std::move(request.body);
    auto id = inbox_.AddDeadLetter(std::move(letter));
    // Not stored: do not acknowledge, so the platform sends it again.
    if (!id) return respond(Json(500, {{"error", "dead_letter_store_failed"}}));
    metrics_.Add("aisle_rejects_total", {{"platform", route.platform}, {"reason", "malformed"}});
    return respond(Json(400, {{"error", "malformed"}, {"reason", failure.reason}, {"dead_letter", *id}}));
  }
  // 4. Durable, then acknowledged: the commit thread appends it with whatever else waits.
  Pending pending{&route,        std::move(normalized.delivery_id), std::move(normalized.events), std::move(events),
                  std::move(normalized.note), received, respond};
  {
    std::lock_guard<std::mutex> lock(commit_mutex_);
    commit_queue_.push_back(std::move(pending));
  }
  commit_cv_.notify_one();
}

void Server::CommitLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(commit_mutex_);
      commit_cv_.wait(lock, [this] { return commit_stopping_ || !commit_queue_.empty(); });
      if (commit_queue_.empty()) return;  // stopping, and nothing waits
      batch.swap(commit_queue_);
    }
    Commit(batch);
    batch.clear();
  }
}

void Server::Commit(std::vector<Pending>& batch) {
  std::vector<AppendRequest> requests;
  requests.reserve(batch.size());
  for (const Pending& p : batch) requests.push_back({p.delivery_id, &p.lines});
  const std::vector<AppendOutcome> outcomes = inbox_.AppendBatch(requests);
  std::vector<Item> items;
  std::vector<HttpResponse> answers(batch.size());
  // Counted per batch, one metric update per series rather than per delivery.
  std::map<std::pair<const std::string*, std::string_view>, int64_t> deliveries, events;
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = batch[i];
    const AppendOutcome& out = outcomes[i];
    const std::string& platform = p.route->platform;
    if (out.duplicate) {
      ++deliveries[{&platform, "duplicate"}];
      answers[i] = Json(200, {{"status", "duplicate"}, {"delivery", p.delivery_id}});
      continue;
    }
    if (!out.error.empty()) {
      if (out.sequence != 0) items.push_back(Item{out.sequence, true, {}, p.received_us});
      answers[i] = Json(500, {{"error", "inbox_failed"}});
      continue;
    }
    for (const auto& e : p.events) ++events[{&platform, dsl::Schema(e.kind()).name}];
    ++deliveries[{&platform, p.lines.empty() ? "empty" : "accepted"}];
    // {"status":"accepted","delivery":ID,"events":N[,"note":NOTE]}, written directly: this is
    // every acknowledged delivery's answer.
    std::string body = R"({"status":"accepted","delivery":)";
    json::AppendQuoted(body, p.delivery_id);
    body += R"(,"events":)";
    body += std::to_string(p.events.size());
    if (!p.note.empty()) {
      body += R"(,"note":)";
      json::AppendQuoted(body, p.note);
    }
    body += "}\n";
    answers[i].body = std::move(body);
    acknowledged_.fetch_add(1);
    items.push_back(Item{out.sequence, false, std::move(p.events), p.received_us});
  }
  for (const auto& [key, n] : deliveries) {
    metrics_.Add("aisle_deliveries_total", {{"platform", *key.first}, {"outcome", std::string(key.second)}},
                 static_cast<double>(n));
  }
  for (const auto& [key, n] : events) {
    metrics_.Add("aisle_events_received_total", {{"platform", *key.first}, {"type", std::string(key.second)}},
                 static_cast<double>(n));
  }
  // Into the engine's queue before any answer leaves: Stop relies on answered => enqueued.
  Enqueue(items);
  for (size_t i = 0; i < batch.size(); ++i) batch[i].respond(std::move(answers[i]));
}

void Server::Enqueue(std::vector<Item>& items) {
  if (items.empty()) return;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    for (Item& item : items) {
      const uint64_t sequence = item.sequence;
      queue_.emplace(sequence, std::move(item));
    }
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
  HttpFrontOptions front;
  front.host = options_.host;
  front.port = options_.port;
  front.threads = options_.threads > 0 ? options_.threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  front.blocking_threads = options_.api_threads;
  front.max_body_bytes = options_.max_body_bytes;
  http_ = std::make_unique<HttpFront>(front, [this](HttpRequest&& request, Respond respond) {
    Dispatch(std::move(request), std::move(respond));
  });
  ingest_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "aisle-ingest");
    IngestLoop();
  });
  commit_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "aisle-commit");
    CommitLoop();
  });
  ready_ = true;
  Status started = http_->Start();
  if (!started) {
    ready_ = false;
    StopThreads();
    return started;
  }
  port_ = http_->port();
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
  // Every request handed to a handler has been answered once this returns; an answered delivery
  // is in the ingest queue (Commit enqueues before it answers).
  if (http_) http_->Stop();
  const bool ran = ingest_thread_.joinable();
  StopThreads();
  if (ran) {
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

void Server::StopThreads() {
  if (commit_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> commit_lock(commit_mutex_);
      commit_stopping_ = true;
    }
    commit_cv_.notify_one();
    commit_thread_.join();
  }
  if (ingest_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> queue_lock(queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.notify_one();
    ingest_thread_.join();
  }
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wait_cv_.wait(lock, [this] { return finished_; });
}

}  // namespace aisle::connectors::server
