// The webhook server's response semantics over real HTTP on 127.0.0.1, with a real engine and
// real RocksDB folders. The route here is a minimal test platform (HMAC-SHA256 hex over the body,
// the body's lines as canonical events), so these tests pin the server, not a platform; the
// platform modules have their own tests, and tests/integration drives `aisle serve` with them.

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/server/inbox.hpp"
#include "connectors/server/metrics.hpp"
#include "connectors/server/server.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

namespace srv = aisle::connectors::server;
namespace wh = aisle::connectors::webhooks;
using aisle::testing::Sale;
using aisle::testing::TempDir;

namespace {

constexpr const char* kSecret = "test-secret";

srv::Route TestRoute() {
  srv::Route r;
  r.path = "/webhooks/test";
  r.platform = "test";
  r.authenticate = [](const wh::Delivery& d) {
    const auto sig = d.headers->Find("X-Test-Signature");
    if (!sig) return wh::AuthResult{wh::AuthStatus::kMissing, "no X-Test-Signature"};
    if (!wh::ConstantTimeEqual(*sig, wh::HexOf(wh::HmacSha256(kSecret, d.body))))
      return wh::AuthResult{wh::AuthStatus::kBad, "signature does not match"};
    return wh::AuthResult{};
  };
  r.normalize = [](const wh::Delivery& d, wh::Normalized& out, srv::RouteError& error) {
    const auto id = d.headers->Find("X-Test-Id");
    out.delivery_id = id ? "test:" + std::string(*id) : "";
    std::string_view body = d.body;
    while (!body.empty()) {
      const size_t nl = body.find('\n');
      const std::string_view line = body.substr(0, nl);
      if (line == "upstream down") {
        error = {srv::FailureKind::kUpstream, "the platform API did not answer"};
        return false;
      }
      if (!line.empty()) out.events.emplace_back(line);
      if (nl == std::string_view::npos) break;
      body.remove_prefix(nl + 1);
    }
    return true;
  };
  return r;
}

httplib::Headers Signed(const std::string& body, const std::string& id) {
  return {{"X-Test-Signature", wh::HexOf(wh::HmacSha256(kSecret, body))}, {"X-Test-Id", id}};
}

// A rule set that alerts on every sale of 50.00 USD or more.
std::string WriteRules(const TempDir& dir) {
  const std::string path = dir / "rules.aisle";
  std::ofstream(path) << R"(rule big on sale when total >= 50.00 USD emit alert to "ops" message "{store}: {total:money}")"
                      << "\n";
  return path;
}

// An engine, inbox and server on a free port, torn down in order.
struct Running {
  aisle::engine::OperatorRegistry registry;
  std::unique_ptr<aisle::engine::Engine> engine;
  std::unique_ptr<srv::Inbox> inbox;
  srv::Metrics metrics;
  aisle::testing::CollectingSink sink;
  std::unique_ptr<srv::Server> server;

  Running(const std::string& rules, const std::string& data, srv::ServerOptions options = {},
          std::vector<srv::Route> routes = {TestRoute()}) {
    aisle::stdlib::RegisterStdlib(registry);
    aisle::engine::EngineOptions eo;
    eo.rules = {rules};
    eo.data_dir = data + "/engine";
    auto opened = aisle::engine::Engine::Open(eo, registry);
    REQUIRE(opened);
    engine = std::move(opened).value();
    engine->AddSink(&sink);
    auto box = srv::Inbox::Open(data + "/inbox");
    REQUIRE(box);
    inbox = std::move(box).value();
    srv::DeclareServerMetrics(metrics);
    options.port = 0;
    server = std::make_unique<srv::Server>(options, *engine, *inbox, metrics, std::move(routes));
    const aisle::Status started = server->Start();
    REQUIRE(started.ok());
  }
  ~Running() {
    if (server) (void)server->Stop();
  }
  httplib::Client Client() const { return httplib::Client("127.0.0.1", server->port()); }
  void Stop() {
    REQUIRE(server->Stop().ok());
  }
};

}  // namespace

TEST_CASE("a signed delivery is acknowledged once durable and runs through the rules", "[server]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  Running r(rules, dir / "data");
  auto client = r.Client();
  const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00") + "\n" +
                           Sale("s2", "hb01", "2025-03-14T14:25:00Z", "12.00") + "\n";
  auto res = client.Post("/webhooks/test", Signed(body, "d1"), body, "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  const auto reply = nlohmann::json::parse(res->body);
  CHECK(reply["status"] == "accepted");
  CHECK(reply["events"] == 2);
  // The same delivery again: 200, and nothing counted twice.
  auto again = client.Post("/webhooks/test", Signed(body, "d1"), body, "application/json");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(nlohmann::json::parse(again->body)["status"] == "duplicate");
  r.Stop();
  CHECK(r.engine->stats().accepted == 2);
  REQUIRE(r.sink.emissions.size() == 1);  // only the 58.00 sale
  CHECK(r.sink.emissions[0].store == "hb01");
  CHECK(r.metrics.Value("aisle_deliveries_total", {{"platform", "test"}, {"outcome", "accepted"}}) == 1);
  CHECK(r.metrics.Value("aisle_deliveries_total", {{"platform", "test"}, {"outcome", "duplicate"}}) == 1);
  CHECK(r.metrics.Value("aisle_events_received_total", {{"platform", "test"}, {"type", "sale"}}) == 2);
}

TEST_CASE("an unauthenticated delivery gets 401 and nothing is stored", "[server]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  Running r(rules, dir / "data");
  auto client = r.Client();
  const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00");
  auto missing = client.Post("/webhooks/test", body, "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 401);
  auto headers = Signed(body, "d1");
  auto tampered = client.Post("/webhooks/test", headers, body + " ", "application/json");
  REQUIRE(tampered);
  CHECK(tampered->status == 401);
  CHECK(nlohmann::json::parse(tampered->body)["error"] == "unauthorized");
  r.Stop();
  CHECK(r.inbox->last_sequence() == 0);
  CHECK(r.inbox->DeadLetters().empty());
  CHECK(r.engine->stats().accepted == 0);
  CHECK(r.metrics.Value("aisle_rejects_total", {{"platform", "test"}, {"reason", "signature_missing"}}) == 1);
  CHECK(r.metrics.Value("aisle_rejects_total", {{"platform", "test"}, {"reason", "signature_invalid"}}) == 1);
}

TEST_CASE("an authenticated malformed delivery gets 400 and its exact bytes are dead-lettered", "[server]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  Running r(rules, dir / "data");
  auto client = r.Client();
  // A canonical line with a money field that is not money; bytes include non-ASCII and a NUL-free
  // binary-ish tail, kept exactly.
  const std::string body = std::string(R"({"type":"sale","id":"x","store":"hb01","ts":"2025-03-14T14:22:33Z","source":"file","currency":"USD","total":"abc"})") +
                           "\n\xc3\xa9\xff\n";
  auto res = client.Post("/webhooks/test", Signed(body, "bad1"), body, "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  const auto reply = nlohmann::json::parse(res->body);
  CHECK(reply["error"] == "malformed");
  CHECK(reply["reason"].get<std::string>().find("event 1") != std::string::npos);
  r.Stop();
  const auto letters = r.inbox->DeadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].body == body);
  CHECK(letters[0].path == "/webhooks/test");
  CHECK(letters[0].id == reply["dead_letter"].get<uint64_t>());
  CHECK(r.inbox->last_sequence() == 0);
}

TEST_CASE("over the size limit is 413, behind the engine is 503, an upstream failure is 503", "[server]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  srv::ServerOptions options;
  options.max_body_bytes = 2048;
  options.retry_after_seconds = 7;
  options.max_pending = 0;  // always behind: every authenticated delivery is asked to come back
  Running r(rules, dir / "data", options);
  auto client = r.Client();
  const std::string big(4096, 'x');
  auto large = client.Post("/webhooks/test", Signed(big, "big"), big, "application/json");
  REQUIRE(large);
  CHECK(large->status == 413);
  const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00");
  auto busy = client.Post("/webhooks/test", Signed(body, "d1"), body, "application/json");
  REQUIRE(busy);
  CHECK(busy->status == 503);
  CHECK(busy->get_header_value("Retry-After") == "7");
  r.Stop();
  CHECK(r.inbox->last_sequence() == 0);

  TempDir dir2;
  Running r2(WriteRules(dir2), dir2 / "data");
  auto client2 = r2.Client();
  const std::string upstream = "upstream down\n";
  auto res = client2.Post("/webhooks/test", Signed(upstream, "u1"), upstream, "application/json");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(!res->get_header_value("Retry-After").empty());
  r2.Stop();
  CHECK(r2.inbox->DeadLetters().empty());
}

TEST_CASE("acknowledged deliveries the engine had not checkpointed are pushed again at start", "[server]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  const std::string data = dir / "data";
  {
    // A crash after the inbox write and before the engine's checkpoint leaves deliveries in the
    // inbox beyond the engine's recorded position: written here straight into the inbox.
    auto box = srv::Inbox::Open(data + "/inbox");
    REQUIRE(box);
    auto a = (*box)->Append("test:d1", {Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00")});
    auto b = (*box)->Append("test:d2", {Sale("s2", "hb02", "2025-03-14T14:23:00Z", "75.50")});
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->sequence == 1);
    CHECK(b->sequence == 2);
  }
  {
    Running r(rules, data);
    r.Stop();
    CHECK(r.engine->stats().accepted == 2);
    CHECK(r.sink.emissions.size() == 2);
    CHECK(r.inbox->pending() == 0);  // the checkpoint covers them: trimmed
  }
  {
    // Started again: nothing is pushed twice, and the delivery ids are still known.
    Running r(rules, data);
    auto client = r.Client();
    const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00");
    auto res = client.Post("/webhooks/test", Signed(body, "d1"), body, "application/json");
    REQUIRE(res);
    CHECK(nlohmann::json::parse(res->body)["status"] == "duplicate");
    r.Stop();
    CHECK(r.engine->stats().accepted == 0);
    CHECK(r.sink.emissions.empty());
    CHECK(r.inbox->last_sequence() == 2);
  }
}

TEST_CASE("concurrent deliveries are each acknowledged once and all reach the engine", "[server][thread]") {
  TempDir dir;
  const std::string rules = WriteRules(dir);
  Running r(rules, dir / "data");
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, duplicate{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = r.Client();
      for (int i = 0; i < kEach; ++i) {
        // Threads 0 and 1 send the same deliveries: each is accepted by exactly one of them.
        const int n = (t % 2) * 1000 + i + (t >= 2 ? 500 : 0);
        const std::string body = Sale(fmt::format("s{}", n), fmt::format("st{}", n % 7),
                                      "2025-03-14T14:22:33Z", "60.00");
        auto res = client.Post("/webhooks/test", Signed(body, fmt::format("d{}", t < 2 ? i : n)), body,
                               "application/json");
        if (res && res->status == 200) {
          const auto status = nlohmann::json::parse(res->body)["status"];
          (status == "accepted" ? ok : duplicate)++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  r.Stop();
  // Threads 0 and 1 share ids d0..d24: 25 accepted, 25 duplicates; threads 2 and 3: 50 accepted.
  CHECK(ok.load() == 75);
  CHECK(duplicate.load() == 25);
  CHECK(r.engine->stats().accepted == 75);
  CHECK(r.inbox->last_sequence() == 75);
}

TEST_CASE("metrics are in the Prometheus text format", "[server]") {
  srv::Metrics m;
  m.DeclareCounter("x_total", "Things.");
  m.DeclareHistogram("lat_seconds", "Latency.", {0.01, 0.1});
  m.Add("x_total", {{"path", "a\"b\\c\nd"}}, 2);
  m.Observe("lat_seconds", {}, 0.05);
  m.Observe("lat_seconds", {}, 0.005);
  m.Observe("lat_seconds", {}, 3);
  const std::string text = m.Render();
  CHECK(text.find("# TYPE x_total counter\n") != std::string::npos);
  CHECK(text.find("x_total{path=\"a\\\"b\\\\c\\nd\"} 2\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{le=\"0.01\"} 1\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{le=\"0.1\"} 2\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("lat_seconds_count 3\n") != std::string::npos);
}

namespace {

// A raw HTTP/1.1 exchange on a fresh connection, for what httplib's client does not do.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() { ::close(fd_); }
  void Send(const std::string& bytes) { REQUIRE(::send(fd_, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size())); }
  // Reads until `marker` has arrived (or the peer closes or 5 s pass); returns all read so far.
  std::string ReadUntil(const std::string& marker) {
    char buf[4096];
    while (received_.find(marker) == std::string::npos) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }

 private:
  int fd_ = -1;
  std::string received_;
};

}  // namespace

TEST_CASE("HTTP front: 100-continue, 413 before the body, unknown paths and methods, keep-alive", "[server]") {
  TempDir dir;
  srv::ServerOptions options;
  options.max_body_bytes = 4096;
  Running r(WriteRules(dir), dir / "data", options);

  // A client that asks before sending its body gets "100 Continue", then the answer.
  const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00") + "\n";
  const std::string signature = wh::HexOf(wh::HmacSha256(kSecret, body));
  {
    RawConnection c(r.server->port());
    c.Send("POST /webhooks/test HTTP/1.1\r\nHost: x\r\nX-Test-Id: c1\r\nX-Test-Signature: " + signature +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
    CHECK(c.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
    c.Send(body);
    const std::string reply = c.ReadUntil("}");
    CHECK(reply.find("HTTP/1.1 200 OK") != std::string::npos);
    CHECK(reply.find(R"("status":"accepted")") != std::string::npos);
  }
  // Over the limit by its Content-Length: 413 at once, without waiting for the body.
  {
    RawConnection c(r.server->port());
    c.Send("POST /webhooks/test HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    const std::string reply = c.ReadUntil("}");
    CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(reply.find(R"({"error":"payload_too_large"})") != std::string::npos);
  }
  // Not HTTP at all: 400, and the connection is closed.
  {
    RawConnection c(r.server->port());
    c.Send("HELLO\r\n\r\n");
    CHECK(c.ReadUntil("}").rfind("HTTP/1.1 400", 0) == 0);
  }
  auto client = r.Client();
  client.set_keep_alive(true);
  auto get_webhook = client.Get("/webhooks/test");
  REQUIRE(get_webhook);
  CHECK(get_webhook->status == 405);
  auto unknown = client.Post("/webhooks/nope", "{}", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(nlohmann::json::parse(unknown->body)["error"] == "not_found");
  // Several deliveries on one kept-alive connection.
  for (int i = 0; i < 5; ++i) {
    const std::string b = Sale("k" + std::to_string(i), "hb01", "2025-03-14T15:00:00Z", "60.00") + "\n";
    auto res = client.Post("/webhooks/test", Signed(b, "k" + std::to_string(i)), b, "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
  }
  r.Stop();
  CHECK(r.engine->stats().accepted == 6);
  CHECK(r.metrics.Value("aisle_http_requests_total", {{"route", "/webhooks/test"}, {"status", "405"}}) == 1);
  CHECK(r.metrics.Value("aisle_http_requests_total", {{"route", "other"}, {"status", "404"}}) == 1);
}

TEST_CASE("Stop answers a delivery still being normalized, then checkpoints it", "[server][thread]") {
  TempDir dir;
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, released = false;
  srv::Route slow = TestRoute();
  slow.may_block = true;  // normalized on the blocking pool, as a route calling a platform API
  slow.normalize = [inner = slow.normalize, &mutex, &cv, &entered, &released](
                       const wh::Delivery& d, wh::Normalized& out, srv::RouteError& error) {
    std::unique_lock<std::mutex> lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
    return inner(d, out, error);
  };
  Running r(WriteRules(dir), dir / "data", {}, {slow});
  const std::string body = Sale("s1", "hb01", "2025-03-14T14:22:33Z", "58.00") + "\n";
  int status = 0;
  std::thread client([&] {
    auto c = r.Client();
    auto res = c.Post("/webhooks/test", Signed(body, "slow"), body, "application/json");
    status = res ? res->status : -1;
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    (void)r.server->Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(stopped.load());  // Stop waits for the answer in flight
  {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
  }
  cv.notify_all();
  client.join();
  stopper.join();
  CHECK(status == 200);
  CHECK(r.engine->stats().accepted == 1);
  CHECK(r.sink.emissions.size() == 1);
}

TEST_CASE("inbox: one batch appends in order; repeated ids in a batch or before are duplicates", "[server]") {
  TempDir dir;
  auto opened = srv::Inbox::Open(dir / "inbox");
  REQUIRE(opened);
  srv::Inbox& inbox = **opened;
  const std::vector<std::string> one = {R"({"type":"sale"})"};
  REQUIRE(inbox.Append("a", one));
  const std::vector<srv::AppendOutcome> out =
      inbox.AppendBatch({{"b", &one}, {"a", &one}, {"c", &one}, {"b", &one}, {"", &one}});
  REQUIRE(out.size() == 5);
  CHECK(out[0].sequence == 2);
  CHECK(out[1].duplicate);  // appended before this batch
  CHECK(out[2].sequence == 3);
  CHECK(out[3].duplicate);  // earlier in this batch
  CHECK(out[4].sequence == 0);
  CHECK_FALSE(out[4].error.empty());
  CHECK(inbox.last_sequence() == 3);
  CHECK(inbox.delivery_count() == 3);
  std::vector<uint64_t> sequences;
  REQUIRE(inbox.ReadAfter(0, [&](uint64_t sequence, std::vector<std::string>&&) {
    sequences.push_back(sequence);
    return true;
  }));
  CHECK(sequences == std::vector<uint64_t>{1, 2, 3});
}
