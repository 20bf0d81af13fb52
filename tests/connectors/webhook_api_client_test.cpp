// ApiClient against a real httplib::Server on 127.0.0.1: headers, retries, backoff and
// Retry-After, with the sleeps recorded instead of slept.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "connectors/webhooks/api_client.hpp"
#include "connectors/webhooks/clover.hpp"
#include "connectors/webhooks/square.hpp"
#include "tests/connectors/webhook_rest_support.hpp"

namespace wh = aisle::connectors::webhooks;
using std::chrono::milliseconds;

namespace {

// A test API server on a free port; counts requests per path.
class TestServer {
 public:
  TestServer() {
    server_.Get("/v2/orders/oRdHB01aXq3TestOrder0001", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      {
        std::lock_guard lock(mutex_);
        authorization_ = req.get_header_value("Authorization");
        square_version_ = req.get_header_value("Square-Version");
      }
      res.set_content(wh::testing::ReadFixture("square/api/retrieve_order_response.json"), "application/json");
    });
    server_.Get("/flaky", [this](const httplib::Request& req, httplib::Response& res) {
      if (Count(req) <= 2) {
        res.status = 503;
      } else {
        res.set_content("{\"ok\":true}", "application/json");
      }
    });
    server_.Get("/always500", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.status = 500;
    });
    server_.Get("/missing", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.status = 404;
    });
    server_.Get("/forbidden", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.status = 401;
    });
    server_.Get("/limited", [this](const httplib::Request& req, httplib::Response& res) {
      if (Count(req) == 1) {
        res.status = 429;
        res.set_header("Retry-After", "3");
      } else {
        res.set_content("done", "text/plain");
      }
    });
    server_.Get("/limited-long", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.status = 429;
      res.set_header("Retry-After", "120");
    });
    // Clover's REST objects; the expand query is checked by the Clover test.
    for (const auto& [pattern, file] : std::map<std::string, std::string>{
             {"/v3/merchants/MHARBOR7TEST1/orders/ORD1HARBOR0A1", "clover/api/order_expanded.json"},
             {"/v3/merchants/MHARBOR7TEST1/payments/PAY1HARBOR0A1", "clover/api/payment.json"},
             {"/v3/merchants/MHARBOR7TEST1/refunds/RFD1HARBOR0A1", "clover/api/refund.json"}}) {
      const std::string body = wh::testing::ReadFixture(file);
      server_.Get(pattern, [this, body](const httplib::Request& req, httplib::Response& res) {
        Count(req);
        {
          std::lock_guard lock(mutex_);
          queries_.push_back(req.get_param_value("expand"));
        }
        res.set_content(body, "application/json");
      });
    }
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int hits(const std::string& path) {
    std::lock_guard lock(mutex_);
    return hits_[path];
  }
  std::string authorization() {
    std::lock_guard lock(mutex_);
    return authorization_;
  }
  std::vector<std::string> queries() {
    std::lock_guard lock(mutex_);
    return queries_;
  }
  std::string square_version() {
    std::lock_guard lock(mutex_);
    return square_version_;
  }

 private:
  int Count(const httplib::Request& req) {
    std::lock_guard lock(mutex_);
    return ++hits_[req.path];
  }
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, int> hits_;
  std::string authorization_;
  std::string square_version_;
  std::vector<std::string> queries_;
};

struct Recorder {
  std::vector<milliseconds> sleeps;
  wh::ApiClientOptions Options(const std::string& url) {
    wh::ApiClientOptions options;
    options.base_url = url;
    options.bearer_token = "test-token-DO-NOT-USE";
    options.base_backoff = milliseconds(100);
    options.max_backoff = milliseconds(1000);
    options.jitter = false;
    options.sleep = [this](milliseconds ms) { sleeps.push_back(ms); };
    return options;
  }
};

}  // namespace

TEST_CASE("ApiClient sends the bearer token and Square-Version and returns the body", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClientOptions options = wh::SquareApiOptions("sq-token-DO-NOT-USE", "2025-01-23", server.url());
  options.sleep = [&](milliseconds ms) { recorder.sleeps.push_back(ms); };
  wh::ApiClient client(options);
  auto body = client.Fetch("/v2/orders/oRdHB01aXq3TestOrder0001");
  REQUIRE(body.ok());
  CHECK(*body == wh::testing::ReadFixture("square/api/retrieve_order_response.json"));
  CHECK(server.authorization() == "Bearer sq-token-DO-NOT-USE");
  CHECK(server.square_version() == "2025-01-23");
  CHECK(recorder.sleeps.empty());
}

TEST_CASE("ApiClient retries 5xx with exponential backoff until it succeeds or gives up", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClient client(recorder.Options(server.url()));
  auto flaky = client.Fetch("/flaky");
  REQUIRE(flaky.ok());
  CHECK(*flaky == "{\"ok\":true}");
  CHECK(server.hits("/flaky") == 3);
  CHECK(recorder.sleeps == std::vector<milliseconds>{milliseconds(100), milliseconds(200)});

  recorder.sleeps.clear();
  auto dead = client.Fetch("/always500");
  REQUIRE_FALSE(dead.ok());
  CHECK(server.hits("/always500") == 4);  // max_attempts default 4
  CHECK(recorder.sleeps == std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)});
  CHECK(wh::FailureOf(dead.error()) == wh::NormalizeFailure::kUpstream);
  CHECK(dead.error().message.find("HTTP 500 after 4 attempts") != std::string::npos);
  CHECK(dead.error().message.find("test-token") == std::string::npos);
}

TEST_CASE("ApiClient does not retry 404 or 401; 401 is upstream, 404 is not", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClient client(recorder.Options(server.url()));
  auto missing = client.Fetch("/missing");
  REQUIRE_FALSE(missing.ok());
  CHECK(server.hits("/missing") == 1);
  CHECK(wh::FailureOf(missing.error()) == wh::NormalizeFailure::kMalformed);
  auto forbidden = client.Fetch("/forbidden");
  REQUIRE_FALSE(forbidden.ok());
  CHECK(server.hits("/forbidden") == 1);
  CHECK(wh::FailureOf(forbidden.error()) == wh::NormalizeFailure::kUpstream);
  CHECK(recorder.sleeps.empty());
}

TEST_CASE("ApiClient honours Retry-After on 429 and gives up on one too long", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClient client(recorder.Options(server.url()));
  auto limited = client.Fetch("/limited");
  REQUIRE(limited.ok());
  CHECK(server.hits("/limited") == 2);
  CHECK(recorder.sleeps == std::vector<milliseconds>{milliseconds(3000)});

  recorder.sleeps.clear();
  auto too_long = client.Fetch("/limited-long");  // 120 s > max_retry_after 10 s
  REQUIRE_FALSE(too_long.ok());
  CHECK(server.hits("/limited-long") == 1);
  CHECK(recorder.sleeps.empty());
  CHECK(wh::FailureOf(too_long.error()) == wh::NormalizeFailure::kUpstream);
}

TEST_CASE("ApiClient retries connection errors; jitter is deterministic and within bounds", "[webhook][api]") {
  int closed_port = 0;
  {
    httplib::Server probe;
    closed_port = probe.bind_to_any_port("127.0.0.1");
  }  // closed again: connections are refused
  Recorder recorder;
  wh::ApiClientOptions options = recorder.Options("http://127.0.0.1:" + std::to_string(closed_port));
  options.jitter = true;
  options.jitter_seed = 42;
  options.max_attempts = 3;
  wh::ApiClient client(options);
  auto refused = client.Fetch("/anything");
  REQUIRE_FALSE(refused.ok());
  CHECK(wh::FailureOf(refused.error()) == wh::NormalizeFailure::kUpstream);
  CHECK(refused.error().message.find("connection failed") != std::string::npos);
  REQUIRE(recorder.sleeps.size() == 2);
  // Retry n waits within [half, all] of 100 * 2^(n-1) ms: [50, 100] then [100, 200].
  CHECK(recorder.sleeps[0] >= milliseconds(50));
  CHECK(recorder.sleeps[0] <= milliseconds(100));
  CHECK(recorder.sleeps[1] >= milliseconds(100));
  CHECK(recorder.sleeps[1] <= milliseconds(200));
  CHECK(client.BackoffFor("/anything", 1) == recorder.sleeps[0]);
  CHECK(client.BackoffFor("/anything", 2) == recorder.sleeps[1]);
  // Capped at max_backoff (1000 ms): retry 10 would be 51.2 s uncapped.
  CHECK(client.BackoffFor("/anything", 10) <= milliseconds(1000));
  CHECK(client.BackoffFor("/anything", 10) >= milliseconds(500));
}

TEST_CASE("NormalizeSquare through ApiClient against the test server yields the basket", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClient client(recorder.Options(server.url()));
  wh::testing::OwnedDelivery d;
  d.body = wh::testing::ReadFixture("square/payment_created.json");
  wh::PlatformConfig config;
  auto out = wh::NormalizeSquare(d.Get(), config, &client);
  REQUIRE(out.ok());
  const auto events = wh::testing::ParseAll(out->events);
  REQUIRE(events.size() == 3);
  CHECK(events[0].Money("total") == 580000);
  CHECK(events[0].Str("store") == "square-location:LHB01TESTLOC1");  // unmapped: prefixed
  CHECK(events[2].Str("sku") == "square-variation:8QWMUGVAR12BLU1");
  CHECK(server.hits("/v2/orders/oRdHB01aXq3TestOrder0001") == 1);
}

TEST_CASE("NormalizeClover through ApiClient against the test server yields sale and refund", "[webhook][api]") {
  TestServer server;
  Recorder recorder;
  wh::ApiClient client(recorder.Options(server.url()));
  wh::testing::OwnedDelivery d;
  d.body = wh::testing::ReadFixture("clover/notification_refund.json");
  wh::PlatformConfig config;
  auto out = wh::NormalizeClover(d.Get(), config, &client);
  INFO((out.ok() ? std::string() : out.error().message));
  REQUIRE(out.ok());
  const auto events = wh::testing::ParseAll(out->events);
  REQUIRE(events.size() == 5);  // refund (P UPDATE), sale + 3 lines (O UPDATE)
  CHECK(events[0].Money("amount") == 160400);  // 16.04
  CHECK(events[1].Money("total") == 580000);   // 58.00
  CHECK(events[1].Money("tax") == 43000);      // 4.30
  CHECK(server.hits("/v3/merchants/MHARBOR7TEST1/payments/PAY1HARBOR0A1") == 2);  // refunds, then tender
  CHECK(server.hits("/v3/merchants/MHARBOR7TEST1/orders/ORD1HARBOR0A1") == 1);
  const auto queries = server.queries();
  CHECK(std::find(queries.begin(), queries.end(),
                  "lineItems,lineItems.discounts,lineItems.taxRates,payments,employee,customers") != queries.end());
  CHECK(recorder.sleeps.empty());
}
