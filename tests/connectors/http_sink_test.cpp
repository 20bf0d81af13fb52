// The HTTP sink and its outbox against a real httplib::Server on 127.0.0.1, with real RocksDB in
// temp folders. Clocks and sleeps are injected: backoffs, Retry-After and the rate limit are
// recorded, never slept (the fake sleeper yields 1 ms of real time so a retry loop does not spin).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/sinks/http_sink.hpp"
#include "connectors/sinks/outbox.hpp"
#include "dsl/time.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::connectors::HttpBodyFormat;
using aisle::connectors::HttpSink;
using aisle::connectors::HttpSinkOptions;
using aisle::connectors::Outbox;
using aisle::engine::Emission;
using aisle::testing::TempDir;

namespace {

Emission Sample(const std::string& id, const std::string& message = "AOV low at S012") {
  Emission e;
  e.id = id;
  e.rule = "aov_drop";
  e.store = "S012";
  e.channel = "ops";
  e.key = {{"store", "\"S012\""}};
  e.window = std::make_pair(*aisle::dsl::ParseTimestamp("2025-03-14T13:00:00Z"),
                            *aisle::dsl::ParseTimestamp("2025-03-14T14:00:00Z"));
  e.values = {{"tx", "17"}};
  e.message = message;
  e.ruleset = "00ff";
  e.ts = e.window->second;
  return e;
}

bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A port nothing listens on (bound, read, released).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Received {
  std::string id;  // Idempotency-Key
  std::string body;
  std::string content_type;
  std::string authorization;
  int status = 0;  // what the receiver answered
};

// A webhook receiver on 127.0.0.1: `respond(id, nth request for that id, response)`.
class Receiver {
 public:
  using Respond = std::function<void(const std::string&, int, httplib::Response&)>;
  explicit Receiver(Respond respond, int port = 0) : respond_(std::move(respond)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      Received r{req.get_header_value("Idempotency-Key"), req.body, req.get_header_value("Content-Type"),
                 req.get_header_value("Authorization"), 0};
      const int nth = 1 + static_cast<int>(std::count_if(received_.begin(), received_.end(),
                                                         [&](const Received& x) { return x.id == r.id; }));
      res.status = 200;
      respond_(r.id, nth, res);
      r.status = res.status;
      received_.push_back(std::move(r));
    });
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else if (server_.bind_to_port("127.0.0.1", port)) {
      port_ = port;
    }
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(WaitFor([this] { return server_.is_running(); }));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  // Ids answered 2xx, in order.
  std::vector<std::string> delivered() const {
    std::vector<std::string> out;
    for (const auto& r : received()) {
      if (r.status / 100 == 2) out.push_back(r.id);
    }
    return out;
  }
  size_t count(const std::string& id) const {
    const auto all = received();
    return static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](const Received& r) { return r.id == id; }));
  }

 private:
  Respond respond_;
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Received> received_;
};

void Ok(const std::string&, int, httplib::Response& res) { res.status = 200; }

// The injected clock and sleeper: a sleep is recorded and moves the clock on.
class FakeTime {
 public:
  void Install(HttpSinkOptions& o) {
    o.now_us = [this] { return now_.load(); };
    o.sleep_us = [this](int64_t us) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        sleeps_.push_back(us);
      }
      now_ += us;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
  }
  int64_t now() const { return now_.load(); }
  std::vector<int64_t> sleeps() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sleeps_;
  }

 private:
  std::atomic<int64_t> now_{1'000'000'000};
  mutable std::mutex mutex_;
  std::vector<int64_t> sleeps_;
};

HttpSinkOptions Options(const std::string& url, FakeTime& time) {
  HttpSinkOptions o;
  o.name = "test";
  o.url = url;
  o.jitter_seed = 42;
  o.timeout_ms = 2000;
  time.Install(o);
  return o;
}

std::unique_ptr<HttpSink> OpenSink(HttpSinkOptions o, const std::string& dir) {
  auto sink = HttpSink::Open(std::move(o), dir);
  REQUIRE(sink.ok());
  return std::move(sink).value();
}

void Flush(HttpSink& sink) {
  std::string error;
  REQUIRE(sink.Flush(error));
}

}  // namespace

TEST_CASE("http sink: an emission is delivered once, with its JSON line and Idempotency-Key",
          "[connectors][http_sink][thread]") {
  TempDir dir;
  Receiver receiver(Ok);
  FakeTime time;
  HttpSinkOptions o = Options(receiver.url(), time);
  o.headers = {{"Authorization", "Bearer t0k"}};
  auto sink = OpenSink(o, dir / "outbox");
  sink->Emit(Sample("0123456789abcdef"));
  Flush(*sink);
  REQUIRE(WaitFor([&] { return sink->delivered() == 1; }));
  const auto got = receiver.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == "0123456789abcdef");
  CHECK(got[0].content_type == "application/json");
  CHECK(got[0].authorization == "Bearer t0k");
  // The fields of INTERFACES.md, "Emissions", as Sample sets them.
  const auto j = nlohmann::json::parse(got[0].body);
  CHECK(j["id"] == "0123456789abcdef");
  CHECK(j["kind"] == "alert");
  CHECK(j["rule"] == "aov_drop");
  CHECK(j["store"] == "S012");
  CHECK(j["window"]["start"] == "2025-03-14T13:00:00Z");
  CHECK(j["values"]["tx"] == 17);
  CHECK(j["message"] == "AOV low at S012");
  CHECK(sink->outbox().pending() == 0);
  CHECK(time.sleeps().empty());
}

TEST_CASE("http sink: a receiver answering 500 and then 200 gets every emission once, in order",
          "[connectors][http_sink][thread]") {
  TempDir dir;
  std::atomic<bool> down{true};
  Receiver receiver([&](const std::string&, int, httplib::Response& res) {
    res.status = down ? 500 : 200;
  });
  FakeTime time;
  HttpSinkOptions o = Options(receiver.url(), time);
  o.max_attempts = 1000;
  auto sink = OpenSink(o, dir / "outbox");
  for (int i = 1; i <= 5; ++i) sink->Emit(Sample("e" + std::to_string(i)));
  Flush(*sink);
  REQUIRE(WaitFor([&] { return sink->failed_attempts() >= 3; }));
  down = false;
  REQUIRE(WaitFor([&] { return sink->delivered() == 5; }));
  CHECK(receiver.delivered() == std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"});
  // The first holds back the others: every failed request was e1's.
  for (const auto& r : receiver.received()) {
    if (r.status == 500) CHECK(r.id == "e1");
  }
  CHECK(sink->dead_lettered() == 0);
  CHECK(sink->outbox().pending() == 0);
}

TEST_CASE("http sink: a restart during an outage loses nothing and delivers each emission once",
          "[connectors][http_sink][thread][restart]") {
  TempDir dir;
  const int port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  FakeTime time;
  HttpSinkOptions o = Options(url, time);
  o.max_attempts = 1000;
  {
    auto sink = OpenSink(o, dir / "outbox");
    for (int i = 1; i <= 4; ++i) sink->Emit(Sample("r" + std::to_string(i)));
    Flush(*sink);
    // Nothing listens: connections are refused.
    REQUIRE(WaitFor([&] { return sink->failed_attempts() >= 2; }));
    CHECK(sink->delivered() == 0);
    CHECK(sink->last_error().find("no reply") != std::string::npos);
  }
  {
    // The outbox kept all four, and the failures of the first.
    auto outbox = Outbox::Open(dir / "outbox");
    REQUIRE(outbox.ok());
    CHECK((*outbox)->pending() == 4);
    auto first = (*outbox)->Next(0);
    REQUIRE(first.ok());
    REQUIRE(first->has_value());
    CHECK((*first)->id == "r1");
    CHECK((*first)->attempts >= 2);
  }
  Receiver receiver(Ok, port);
  auto sink = OpenSink(o, dir / "outbox");
  REQUIRE(WaitFor([&] { return sink->delivered() == 4; }));
  CHECK(receiver.delivered() == std::vector<std::string>{"r1", "r2", "r3", "r4"});
  CHECK(receiver.received().size() == 4);
  CHECK(sink->outbox().pending() == 0);
}

TEST_CASE("http sink: after max_attempts failures an emission is dead-lettered and not retried",
          "[connectors][http_sink][thread]") {
  TempDir dir;
  std::atomic<bool> fixed{false};
  Receiver receiver([&](const std::string& id, int, httplib::Response& res) {
    if (id == "bad" && !fixed) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    }
  });
  FakeTime time;
  HttpSinkOptions o = Options(receiver.url(), time);
  o.max_attempts = 3;
  o.backoff_ms = 500;
  o.max_backoff_ms = 60'000;
  auto sink = OpenSink(o, dir / "outbox");
  sink->Emit(Sample("bad"));
  sink->Emit(Sample("good"));
  Flush(*sink);
  REQUIRE(WaitFor([&] { return sink->delivered() == 1; }));
  CHECK(sink->dead_lettered() == 1);
  CHECK(receiver.count("bad") == 3);
  CHECK(receiver.delivered() == std::vector<std::string>{"good"});
  // Two backoffs between the three attempts, with equal jitter: half the step for sure, the
  // other half at random. Steps: 500 ms, then 1000 ms.
  const auto sleeps = time.sleeps();
  REQUIRE(sleeps.size() == 2);
  CHECK(sleeps[0] >= 250'000);
  CHECK(sleeps[0] <= 500'000);
  CHECK(sleeps[1] >= 500'000);
  CHECK(sleeps[1] <= 1'000'000);
  const auto letters = sink->outbox().DeadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].id == "bad");
  CHECK(letters[0].attempts == 3);
  CHECK(letters[0].reason == "3 attempts, last: HTTP 500: boom");
  CHECK(nlohmann::json::parse(letters[0].body)["id"] == "bad");
  // Not retried: another emission goes through and "bad" is not sent again.
  sink->Emit(Sample("later"));
  REQUIRE(WaitFor([&] { return sink->delivered() == 2; }));
  CHECK(receiver.count("bad") == 3);
  // Requeued after a fix, it is delivered.
  fixed = true;
  auto requeued = sink->outbox().Requeue(letters[0].sequence);
  REQUIRE(requeued.ok());
  sink->Emit(Sample("after"));  // wakes the delivery thread
  REQUIRE(WaitFor([&] { return sink->delivered() == 4; }));
  CHECK(receiver.delivered() == std::vector<std::string>{"good", "later", "bad", "after"});
  CHECK(sink->outbox().DeadLetters().empty());
}

TEST_CASE("http sink: a 400 is dead-lettered at once", "[connectors][http_sink][thread]") {
  TempDir dir;
  Receiver receiver([](const std::string&, int, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad payload", "text/plain");
  });
  FakeTime time;
  auto sink = OpenSink(Options(receiver.url(), time), dir / "outbox");
  sink->Emit(Sample("x1"));
  REQUIRE(WaitFor([&] { return sink->dead_lettered() == 1; }));
  CHECK(receiver.count("x1") == 1);
  CHECK(time.sleeps().empty());
  const auto letters = sink->outbox().DeadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == "HTTP 400: bad payload");
  CHECK(letters[0].attempts == 1);
  CHECK(sink->outbox().pending() == 0);
}

TEST_CASE("http sink: a 429 waits for its Retry-After", "[connectors][http_sink][thread]") {
  TempDir dir;
  Receiver receiver([](const std::string&, int nth, httplib::Response& res) {
    if (nth == 1) {
      res.status = 429;
      res.set_header("Retry-After", "7");
    }
  });
  FakeTime time;
  auto sink = OpenSink(Options(receiver.url(), time), dir / "outbox");
  sink->Emit(Sample("slow"));
  REQUIRE(WaitFor([&] { return sink->delivered() == 1; }));
  CHECK(time.sleeps() == std::vector<int64_t>{7'000'000});
  CHECK(receiver.count("slow") == 2);
}

TEST_CASE("http sink: Retry-After as seconds or as an HTTP date", "[connectors][http_sink]") {
  using aisle::connectors::ParseRetryAfter;
  CHECK(ParseRetryAfter("120", 0) == 120'000'000);
  CHECK(ParseRetryAfter(" 0 ", 0) == 0);
  // RFC 9110's example date, 30 s after "now".
  const int64_t at = *aisle::dsl::ParseTimestamp("1994-11-06T08:49:37Z");
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", at - 30'000'000) == 30'000'000);
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", at + 5'000'000) == 0);  // past: now
  CHECK_FALSE(ParseRetryAfter("soon", 0).has_value());
  CHECK_FALSE(ParseRetryAfter("-3", 0).has_value());
}

TEST_CASE("http sink: the rate limit spaces deliveries as a token bucket",
          "[connectors][http_sink][thread]") {
  TempDir dir;
  Receiver receiver(Ok);
  // 5 per second is one token every 200 ms. 11 deliveries with a bucket of 1: the first goes at
  // once, the other 10 wait 200 ms each: 2 s. With a bucket of 3: 3 at once, 8 x 200 ms = 1.6 s.
  const int burst = GENERATE(1, 3);
  FakeTime time;
  HttpSinkOptions o = Options(receiver.url(), time);
  o.rate_per_second = 5;
  o.burst = burst;
  const int64_t start = time.now();
  auto sink = OpenSink(o, dir / "outbox");
  for (int i = 0; i < 11; ++i) sink->Emit(Sample("t" + std::to_string(i)));
  REQUIRE(WaitFor([&] { return sink->delivered() == 11; }));
  const auto sleeps = time.sleeps();
  const int64_t expected = burst == 1 ? 2'000'000 : 1'600'000;
  CHECK(time.now() - start == expected);
  CHECK(sleeps.size() == static_cast<size_t>(11 - burst));
  for (int64_t s : sleeps) CHECK(s == 200'000);
}

TEST_CASE("http sink: the Slack body escapes &, <, > and turns mrkdwn off", "[connectors][http_sink]") {
  using aisle::connectors::SlackEscape;
  CHECK(SlackEscape("<@U123> & *bold* _x_ ~y~ `code`") == "&lt;@U123&gt; &amp; *bold* _x_ ~y~ `code`");
  CHECK(SlackEscape("&lt;") == "&amp;lt;");  // shown as typed, not as "<"
  CHECK(SlackEscape("<!channel>") == "&lt;!channel&gt;");
  const std::string body =
      aisle::connectors::HttpBody(Sample("s1", "<@U123> & *bold* _x_ ~y~ `code`"), HttpBodyFormat::kSlack);
  // The readable line (time, severity padded to 8, kind to 5, rule to 20, store to 6, message),
  // escaped, as the only text; mrkdwn false so *, _, ~ and ` stay as typed.
  CHECK(body ==
        "{\"text\":\"2025-03-14 13:00Z  WARNING  alert aov_drop             S012   "
        "&lt;@U123&gt; &amp; *bold* _x_ ~y~ `code`\",\"mrkdwn\":false}");
}

TEST_CASE("http sink: options from the serve config, with secrets", "[connectors][http_sink]") {
  using aisle::connectors::ParseHttpSinkOptions;
  const std::map<std::string, std::string> env = {{"HOOK", "https://hooks.slack.com/services/T1/B2/s3cret"},
                                                  {"TOKEN", "Bearer xyz"}};
  auto o = ParseHttpSinkOptions(
      R"({"type": "webhook", "name": "slack-ops", "url": {"env": "HOOK"}, "format": "slack",
          "max_attempts": 5, "rate_per_second": 1, "headers": {"Authorization": {"env": "TOKEN"}, "X-Team": "ops"},
          "timeout_ms": 3000})",
      "", &env);
  REQUIRE(o.ok());
  CHECK(o->name == "slack-ops");
  CHECK(o->url == "https://hooks.slack.com/services/T1/B2/s3cret");
  CHECK(o->format == HttpBodyFormat::kSlack);
  CHECK(o->max_attempts == 5);
  CHECK(o->rate_per_second == 1);
  CHECK(o->timeout_ms == 3000);
  CHECK(o->headers == std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer xyz"},
                                                                         {"X-Team", "ops"}});
  auto fails = [&](const std::string& json, const std::string& part) {
    auto bad = ParseHttpSinkOptions(json, "", &env);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find(part) != std::string::npos);
    CHECK(bad.error().message.find("s3cret") == std::string::npos);
  };
  fails(R"({"type": "webhook", "url": "http://x/"})", "needs a \"name\"");
  fails(R"({"type": "webhook", "name": "../up", "url": "http://x/"})", "needs a \"name\"");
  fails(R"({"type": "webhook", "name": "a", "url": "http://x/", "retries": 3})", "unknown key 'retries'");
  fails(R"({"type": "webhook", "name": "a", "url": {"env": "NOPE"}})", "NOPE is not set");
  fails(R"({"type": "webhook", "name": "a", "url": "ftp://x/"})", "http:// or https://");
  fails(R"({"type": "webhook", "name": "a", "url": "http://x/", "format": "xml"})", "\"json\" or \"slack\"");
  fails(R"({"type": "webhook", "name": "a", "url": "http://x/", "headers": {"Idempotency-Key": "1"}})",
        "sets it itself");
  fails(R"({"type": "webhook", "name": "a", "url": "http://x/", "max_attempts": 0})", "between 1 and 1000");
}

TEST_CASE("http sink: the factory opens the sink's outbox in <data>/outbox/<name>", "[connectors][http_sink]") {
  TempDir dir;
  auto sink = aisle::connectors::MakeHttpSink(
      R"({"type": "webhook", "name": "ops", "url": "http://127.0.0.1:9/hook"})", dir.path().string());
  REQUIRE(sink.ok());
  CHECK(std::filesystem::exists(dir.path() / "outbox" / "ops" / "CURRENT"));
}

TEST_CASE("outbox: entries keep their order and survive a reopen; dead letters too", "[connectors][http_sink]") {
  TempDir dir;
  {
    auto outbox = Outbox::Open(dir / "o");
    REQUIRE(outbox.ok());
    REQUIRE((*outbox)->Append("a", "body-a").ok());
    REQUIRE((*outbox)->Append("b", "body-b").ok());
    REQUIRE((*outbox)->Append("c", "body-c").ok());
    REQUIRE((*outbox)->Sync().ok());
    auto b = (*outbox)->Next(1);
    REQUIRE(b.ok());
    REQUIRE(b->has_value());
    aisle::connectors::OutboxEntry entry = **b;
    CHECK(entry.id == "b");
    REQUIRE((*outbox)->MoveToDeadLetters(entry, "HTTP 400", 123).ok());
    REQUIRE((*outbox)->Delivered(1).ok());
  }
  auto outbox = Outbox::Open(dir / "o");
  REQUIRE(outbox.ok());
  CHECK((*outbox)->pending() == 1);
  auto first = (*outbox)->Next(0);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->id == "c");
  CHECK((*first)->sequence == 3);
  CHECK((*first)->body == "body-c");
  const auto letters = (*outbox)->DeadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].sequence == 2);
  CHECK(letters[0].body == "body-b");
  CHECK(letters[0].reason == "HTTP 400");
  CHECK(letters[0].dead_us == 123);
  // New entries number after everything kept, dead letters included.
  auto d = (*outbox)->Append("d", "body-d");
  REQUIRE(d.ok());
  CHECK(*d == 4);
  REQUIRE((*outbox)->RemoveDeadLetter(2).ok());
  CHECK_FALSE((*outbox)->FindDeadLetter(2).has_value());
}
