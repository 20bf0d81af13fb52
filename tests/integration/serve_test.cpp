// A real `aisle serve` on a free loopback port, driven over real HTTP: every POS fixture and every
// negative case its manifest lists, a malformed body to the dead-letter store, SIGTERM's drain;
// and emissions queued while a webhook sink's receiver is down (503), delivered after it comes
// back and after a restart of the server, each exactly once by id.

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/webhooks/webhook.hpp"
#include "tests/support/temp_dir.hpp"

namespace wh = aisle::connectors::webhooks;
using aisle::testing::TempDir;
using Json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(AISLE_SOURCE_DIR) + "/tests/fixtures/pos/";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `aisle serve` as a child process, stopped with SIGTERM.
class Serve {
 public:
  Serve(const TempDir& dir, const std::string& config, const std::string& rules) {
    const std::string port_file = dir / "port";
    std::remove(port_file.c_str());
    const std::string log = dir / "serve.log";
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) dup2(fd, 2);
      execl(AISLE_BINARY, AISLE_BINARY, "serve", "--rules", rules.c_str(), "--data", (dir / "data").c_str(),
            "--listen", "127.0.0.1:0", "--port-file", port_file.c_str(), "--config", config.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) {
        port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    INFO(Read(log));
    REQUIRE(port_ > 0);
  }
  ~Serve() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM; the exit status.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

httplib::Headers HeadersFrom(const Json& headers, const Json& overrides = Json::object(),
                             const Json& remove = Json::array()) {
  httplib::Headers out;
  for (const auto& [name, value] : headers.items()) {
    bool removed = false;
    for (const auto& r : remove) removed = removed || r.get<std::string>() == name;
    if (removed || name == "Content-Type" || name == "content-type") continue;
    out.emplace(name, overrides.contains(name) ? overrides[name].get<std::string>() : value.get<std::string>());
  }
  return out;
}

std::string ContentType(const Json& headers) {
  for (const auto& [name, value] : headers.items()) {
    if (name == "Content-Type" || name == "content-type") return value.get<std::string>();
  }
  return "application/json";
}

// A fixture REST API (Square orders, Clover objects) on a free port.
class FixtureApi {
 public:
  FixtureApi() {
    Serve("/v2/orders/oRdHB01aXq3TestOrder0001", "square/api/retrieve_order_response.json");
    const std::string harbor = "/v3/merchants/MHARBOR7TEST1";
    Serve(harbor + "/orders/ORD1HARBOR0A1", "clover/api/order_expanded.json");
    Serve(harbor + "/payments/PAY1HARBOR0A1", "clover/api/payment.json");
    Serve(harbor + "/refunds/RFD1HARBOR0A1", "clover/api/refund.json");
    Serve(harbor + "/items/ITMMUG12BLU01", "clover/api/item_with_stock.json");
    server_.Get("/v3/merchants/MPIERKSK0TST2/items/ITMCAFE250G01", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"id":"ITMCAFE250G01","name":"Café 250 g","sku":"CAFE-250G","itemStock":{"quantity":40}})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      done_ = true;
    });
  }
  ~FixtureApi() {
    // stop() does nothing before the listen loop has started: repeat until the loop has ended.
    while (!done_) {
      server_.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve(const std::string& path, const std::string& fixture) {
    const std::string body = Read(kFixtures + fixture);
    server_.Get(path, [body](const httplib::Request&, httplib::Response& res) { res.set_content(body, "application/json"); });
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> done_{false};
};

constexpr const char* kRules =
    R"(rule big_sale on sale when total >= 50.00 USD emit alert to "ops" message "{store}: {total:money}")"
    "\n";

// The server's config for every platform with the fixtures' secrets (from files) at the fixtures'
// time; our own scheme's window is a day wide so one clock fits every fixture's timestamp.
std::string WriteConfig(const TempDir& dir, int api_port, const std::string& square_url, const Json& sinks) {
  dir.Write("shopify.secret", "test-shopify-client-secret-DO-NOT-USE\n");
  dir.Write("square.secret", "test-square-signature-key-DO-NOT-USE\n");
  dir.Write("lightspeed.secret", "test-lightspeed-x-client-secret-DO-NOT-USE\n");
  dir.Write("clover.secret", "6d3f9a10-4b7e-4c21-9e55-a0b1c2d3e4f5\n");
  dir.Write("checkout.secret", "test-clover-hco-signing-secret-DO-NOT-USE\n");
  dir.Write("native.secret", "test-engine-ingest-secret-DO-NOT-USE\n");
  dir.Write("token", "test-token\n");
  const std::string api = fmt::format("http://127.0.0.1:{}", api_port);
  Json config = {
      {"clock", {{"start", "2025-03-14T18:00:00Z"}}},
      {"checkpoint_seconds", 1},
      {"platforms",
       {{"shopify", {{"secrets", {{{"file", "shopify.secret"}}}}}},
        {"square",
         {{"secrets", {{{"file", "square.secret"}}}},
          {"notification_url", square_url},
          {"api", {{"base_url", api}, {"token", {{"file", "token"}}}, {"max_attempts", 2}}}}},
        {"lightspeed", {{"secrets", {{{"file", "lightspeed.secret"}}}}}},
        {"clover",
         {{"secrets", {{{"file", "clover.secret"}}}},
          {"replay_window_seconds", 86400},
          {"checkout_secrets", {{{"file", "checkout.secret"}}}},
          {"api", {{"base_url", api}, {"token", {{"file", "token"}}}, {"max_attempts", 2}}}}},
        {"native", {{"secrets", {{{"file", "native.secret"}}}}, {"replay_window_seconds", 86400}}}}},
      {"sinks", sinks}};
  return dir.Write("config.json", config.dump(2));
}

std::string PathFor(const std::string& folder, const Json& entry) {
  if (folder == "shopify") return "/webhooks/shopify";
  if (folder == "square") return "/webhooks/square";
  if (folder == "lightspeed_x") return "/webhooks/lightspeed/" + entry.at("webhook_type").get<std::string>();
  if (folder == "clover") return "/webhooks/clover";
  if (folder == "staff") return "/shifts";
  return "/traffic";
}

std::string SignNative(const std::string& body, int64_t t) {
  return fmt::format("t={},v1={}", t,
                     wh::HexOf(wh::HmacSha256("test-engine-ingest-secret-DO-NOT-USE", fmt::format("{}.{}", t, body))));
}

}  // namespace

TEST_CASE("aisle serve takes every POS fixture and refuses every negative case over HTTP", "[serve]") {
  TempDir dir;
  FixtureApi api;
  const Json square_manifest = Json::parse(Read(kFixtures + "square/manifest.json"));
  const std::string config =
      WriteConfig(dir, api.port(), square_manifest.at("notification_url").get<std::string>(),
                  Json::array({{{"type", "jsonl"}, {"path", (dir / "emissions.jsonl")}}}));
  const std::string rules = dir.Write("rules.aisle", kRules);
  int accepted = 0;
  {
    Serve serve(dir, config, rules);
    httplib::Client client("127.0.0.1", serve.port());
    client.set_read_timeout(30, 0);
    for (const std::string folder : {"shopify", "square", "lightspeed_x", "clover", "staff", "traffic"}) {
      const Json manifest = Json::parse(Read(kFixtures + folder + "/manifest.json"));
      for (const Json& entry : manifest.at("deliveries")) {
        const std::string body = Read(kFixtures + folder + "/" + entry.at("file").get<std::string>());
        auto res = client.Post(PathFor(folder, entry), HeadersFrom(entry.at("headers")), body,
                               ContentType(entry.at("headers")));
        INFO(folder << "/" << entry.at("file") << ": " << (res ? res->body : "no answer"));
        REQUIRE(res);
        CHECK(res->status == (entry.at("expected_valid").get<bool>() ? 200 : 401));
        if (res->status == 200 && Json::parse(res->body).at("status") == "accepted") ++accepted;
      }
      for (const Json& negative : manifest.value("negative_cases", Json::array())) {
        if (negative.contains("verify_with_url")) continue;  // a server configuration: the next test
        const std::string file = negative.at("file").get<std::string>();
        Json original;
        for (const Json& entry : manifest.at("deliveries")) {
          if (entry.at("file") == file) original = entry;
        }
        std::string body = Read(kFixtures + folder + "/" + file);
        if (negative.contains("body_transform")) body = Json::parse(body).dump();  // other bytes
        auto res = client.Post(PathFor(folder, original),
                               HeadersFrom(original.at("headers"), negative.value("headers_override", Json::object()),
                                           negative.value("headers_remove", Json::array())),
                               body, ContentType(original.at("headers")));
        INFO(folder << ": " << negative.at("description"));
        REQUIRE(res);
        CHECK(res->status == 401);
      }
      if (manifest.contains("hosted_checkout")) {
        const Json& checkout = manifest.at("hosted_checkout");
        const std::string body = Read(kFixtures + folder + "/" + checkout.at("file").get<std::string>());
        auto res = client.Post("/webhooks/clover/checkout", HeadersFrom(checkout.at("headers")), body,
                               ContentType(checkout.at("headers")));
        REQUIRE(res);
        CHECK(res->status == 200);
        if (res->status == 200 && Json::parse(res->body).at("status") == "accepted") ++accepted;
      }
    }
    // A retried delivery is acknowledged and not counted again.
    const Json shopify = Json::parse(Read(kFixtures + "shopify/manifest.json"));
    const Json& first = shopify.at("deliveries").at(0);
    auto again = client.Post("/webhooks/shopify", HeadersFrom(first.at("headers")),
                             Read(kFixtures + "shopify/" + first.at("file").get<std::string>()), "application/json");
    REQUIRE(again);
    CHECK(Json::parse(again->body).at("status") == "duplicate");
    // An authenticated body that is not an order: 400, kept byte for byte as a dead letter.
    const std::string broken = R"({"id": 1, "line_items": [{"sku": "TOTE)";
    httplib::Headers headers = HeadersFrom(first.at("headers"));
    headers.erase("X-Shopify-Hmac-Sha256");
    headers.erase("X-Shopify-Webhook-Id");
    headers.emplace("X-Shopify-Hmac-Sha256", wh::Base64Of(wh::HmacSha256("test-shopify-client-secret-DO-NOT-USE", broken)));
    headers.emplace("X-Shopify-Webhook-Id", "broken-1");
    auto bad = client.Post("/webhooks/shopify", headers, broken, "application/json");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(Json::parse(bad->body).at("error") == "malformed");
    // Our own scheme outside its window is stale: a day and a half before the server's clock.
    const std::string events = R"({"type":"sale","id":"late-1","store":"hb01","ts":"2025-03-13T00:00:00Z","source":"file","currency":"USD","total":"60.00","status":"completed"})";
    auto stale = client.Post("/events", {{"X-Retail-Signature", SignNative(events, 1741824000)}, {"X-Retail-Event-Id", "late-1"}},
                             events, "application/x-ndjson");
    REQUIRE(stale);
    CHECK(stale->status == 401);
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->body.find("aisle_deliveries_total{platform=\"shopify\",outcome=\"duplicate\"} 1") != std::string::npos);
    CHECK(serve.Stop() == 0);
  }
  // What the server acknowledged is durable, and the dead letter holds the exact bytes.
  const std::string out = dir / "stats.txt";
  REQUIRE(std::system(fmt::format("'{}' deadletter stats --data '{}' > '{}'", AISLE_BINARY, dir / "data", out).c_str()) == 0);
  INFO(Read(out));
  CHECK(Read(out).find(fmt::format("deliveries acknowledged: {}\n", accepted)) != std::string::npos);
  CHECK(Read(out).find("dead letters: 1\n") != std::string::npos);
  REQUIRE(std::system(fmt::format("'{}' deadletter body 1 --data '{}' > '{}'", AISLE_BINARY, dir / "data", out).c_str()) == 0);
  CHECK(Read(out) == R"({"id": 1, "line_items": [{"sku": "TOTE)");
  // The Shopify order (58.00 USD) went through the rules.
  CHECK(Read(dir / "emissions.jsonl").find("\"rule\":\"big_sale\"") != std::string::npos);
}

TEST_CASE("aisle serve refuses Square deliveries verified against another notification URL", "[serve]") {
  TempDir dir;
  FixtureApi api;
  const Json manifest = Json::parse(Read(kFixtures + "square/manifest.json"));
  for (const Json& negative : manifest.at("negative_cases")) {
    if (!negative.contains("verify_with_url")) continue;
    const std::string config = WriteConfig(dir, api.port(), negative.at("verify_with_url").get<std::string>(), Json::array());
    Serve serve(dir, config, dir.Write("rules.aisle", kRules));
    httplib::Client client("127.0.0.1", serve.port());
    for (const Json& entry : manifest.at("deliveries")) {
      if (entry.at("file") != negative.at("file")) continue;
      auto res = client.Post("/webhooks/square", HeadersFrom(entry.at("headers")),
                             Read(kFixtures + "square/" + entry.at("file").get<std::string>()), "application/json");
      REQUIRE(res);
      INFO(negative.at("description"));
      CHECK(res->status == 401);
    }
    CHECK(serve.Stop() == 0);
  }
}

// A webhook sink's receiver on a free loopback port: POST /hook answers `refusal` (a status)
// until `up`, then 200, and counts what it took by Idempotency-Key. It keeps its port throughout,
// so no other program can take the port between runs of `aisle serve`.
class HookReceiver {
 public:
  explicit HookReceiver(int refusal) {
    server_.Post("/hook", [this, refusal](const httplib::Request& req, httplib::Response& res) {
      if (!up) {
        ++refused;
        res.status = refusal;
        res.set_content("channel_not_found", "text/plain");
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      ++received_[req.get_header_value("Idempotency-Key")];
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    listener_ = std::thread([this] {
      server_.listen_after_bind();
      done_ = true;
    });
  }
  ~HookReceiver() {
    while (!done_) {
      server_.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    listener_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/hook", port_); }
  std::map<std::string, int> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  // Waits up to `seconds` until `n` distinct emissions have arrived.
  void WaitFor(size_t n, int seconds) {
    for (int i = 0; i < seconds * 20 && received().size() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::atomic<bool> up{false};
  std::atomic<int> refused{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::thread listener_;
  std::mutex mutex_;
  std::map<std::string, int> received_;
};

TEST_CASE("emissions queued while a sink is down are delivered once it is back, across a restart", "[serve]") {
  TempDir dir;
  FixtureApi api;
  HookReceiver receiver(503);  // down (503) until `up`
  const Json sinks = Json::array({{{"type", "webhook"},
                                   {"name", "ops"},
                                   {"url", receiver.url()},
                                   {"format", "json"},
                                   {"max_attempts", 1000},
                                   {"backoff_ms", 50},
                                   {"max_backoff_ms", 200}}});
  const std::string config = WriteConfig(dir, api.port(), "https://example.test/square", sinks);
  const std::string rules = dir.Write("rules.aisle", kRules);
  std::string batch;
  for (int i = 1; i <= 3; ++i) {
    batch += fmt::format(
        R"({{"type":"sale","id":"s{}","store":"hb01","ts":"2025-03-14T17:5{}:00Z","source":"file","currency":"USD","total":"6{}.00","status":"completed"}})",
        i, i, i);
    batch += "\n";
  }
  {
    Serve serve(dir, config, rules);
    httplib::Client client("127.0.0.1", serve.port());
    auto res = client.Post("/events", {{"X-Retail-Signature", SignNative(batch, 1741975200)}, {"X-Retail-Event-Id", "batch-1"}},
                           batch, "application/x-ndjson");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    for (int i = 0; i < 600 && receiver.refused.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(receiver.refused.load() >= 3);  // the sink tried, and the receiver was down
    // The failures and the emissions waiting show in /metrics.
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    const std::string failures = "aisle_sink_failures_total{sink=\"ops\"} ";
    const size_t at = metrics->body.find(failures);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(metrics->body.substr(at + failures.size())) >= 3);
    CHECK(metrics->body.find("aisle_sink_delivered_total{sink=\"ops\"} 0\n") != std::string::npos);
    CHECK(metrics->body.find("aisle_sink_outbox_depth{sink=\"ops\"} 3\n") != std::string::npos);
    CHECK(serve.Stop() == 0);
  }
  // The receiver comes back only after the server restarted.
  Serve serve(dir, config, rules);
  receiver.up = true;
  receiver.WaitFor(3, 60);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // anything sent twice would show now
  CHECK(serve.Stop() == 0);
  const auto received = receiver.received();
  INFO(Read(dir / "serve.log"));
  REQUIRE(received.size() == 3);
  for (const auto& [id, count] : received) {
    INFO(id);
    CHECK(!id.empty());
    CHECK(count == 1);
  }
}

namespace {

// Runs the aisle CLI with `args`; returns its exit status and what it printed on stdout.
std::pair<int, std::string> RunAisle(const std::string& args) {
  const std::string cmd = std::string(AISLE_BINARY) + " " + args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("a sink's dead letters are listed and requeued with aisle deadletter --sink", "[serve]") {
  TempDir dir;
  FixtureApi api;
  HookReceiver receiver(400);  // a permanent failure, dead-lettered at once, until `up`
  const Json sinks = Json::array({{{"type", "webhook"},
                                   {"name", "ops"},
                                   {"url", receiver.url()},
                                   {"format", "json"}}});
  const std::string config = WriteConfig(dir, api.port(), "https://example.test/square", sinks);
  const std::string rules = dir.Write("rules.aisle", kRules);
  const std::string batch =
      R"({"type":"sale","id":"s1","store":"hb01","ts":"2025-03-14T17:51:00Z","source":"file","currency":"USD","total":"61.00","status":"completed"})"
      "\n";
  const std::string data = dir / "data";
  {
    Serve serve(dir, config, rules);
    httplib::Client client("127.0.0.1", serve.port());
    auto res = client.Post("/events", {{"X-Retail-Signature", SignNative(batch, 1741975200)}, {"X-Retail-Event-Id", "b1"}},
                           batch, "application/x-ndjson");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::string body;
    for (int i = 0; i < 200; ++i) {
      auto metrics = client.Get("/metrics");
      REQUIRE(metrics);
      body = metrics->body;
      if (body.find("aisle_sink_dead_letters_total{sink=\"ops\"} 1\n") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(body.find("aisle_sink_dead_letters_total{sink=\"ops\"} 1\n") != std::string::npos);
    CHECK(serve.Stop() == 0);
  }
  auto [list_status, list] = RunAisle("deadletter list --sink ops --data " + data);
  CHECK(list_status == 0);
  INFO(list);
  CHECK(list.find("HTTP 400") != std::string::npos);
  const uint64_t sequence = std::stoull(list.substr(0, list.find('\t')));
  auto [show_status, show] = RunAisle(fmt::format("deadletter show {} --sink ops --data {}", sequence, data));
  CHECK(show_status == 0);
  CHECK(Json::parse(show)["reason"].get<std::string>().find("channel_not_found") != std::string::npos);
  CHECK(RunAisle("deadletter list --sink nope --data " + data).first == 2);
  CHECK(RunAisle(fmt::format("deadletter replay {} --sink ops --data {}", sequence, data)).first == 0);
  CHECK(RunAisle("deadletter list --sink ops --data " + data).second.empty());

  // Requeued: the next run delivers it, once.
  receiver.up = true;
  {
    Serve serve(dir, config, rules);
    receiver.WaitFor(1, 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(serve.Stop() == 0);
  }
  const auto received = receiver.received();
  REQUIRE(received.size() == 1);
  CHECK(received.begin()->second == 1);
}
