// The engine's own webhook formats against tests/fixtures/pos/{traffic,staff}: X-Retail-Signature
// with its replay window (the injectable clock), traffic counts, staff clock events and canonical
// NDJSON batches.

#include <catch2/catch.hpp>

#include "connectors/webhooks/native.hpp"
#include "tests/connectors/webhook_fixtures.hpp"

namespace wh = aisle::connectors::webhooks;
using namespace aisle::testing;  // NOLINT: test file

namespace {

constexpr const char* kSecret = "test-engine-ingest-secret-DO-NOT-USE";

wh::PlatformConfig Config() {
  wh::PlatformConfig config;
  config.secrets = {kSecret};
  return config;
}

int64_t SignedAt(const nlohmann::json& headers) {
  const std::string sig = headers["X-Retail-Signature"].get<std::string>();
  return std::stoll(sig.substr(2, sig.find(',') - 2));
}

std::string Sign(int64_t t, std::string_view body, const std::string& secret = kSecret) {
  const std::string text = std::to_string(t) + "." + std::string(body);
  return "t=" + std::to_string(t) + ",v1=" + wh::HexOf(wh::HmacSha256(secret, text));
}

struct Run {
  wh::Normalized out;
  std::vector<aisle::engine::Event> events;
};

// The manifest delivery of `folder/file`, authenticated 10 s after it was signed.
Run FromManifest(const std::string& folder, const std::string& file, const std::string& path) {
  const auto manifest = PosManifest(folder);
  for (const auto& d : manifest["deliveries"]) {
    if (d["file"] != file) continue;
    const std::string body = ReadPosFixture(folder + "/" + file);
    const auto headers = HeadersOf(d["headers"]);
    const wh::Delivery delivery{path, &headers, body, (SignedAt(d["headers"]) + 10) * 1000000};
    REQUIRE(wh::AuthenticateNative(delivery, Config()).ok());
    auto normalized = wh::NormalizeNative(delivery, Config());
    INFO((normalized ? std::string() : normalized.error().message));
    REQUIRE(normalized);
    CHECK(normalized->delivery_id == "native:" + d["headers"]["X-Retail-Event-Id"].get<std::string>());
    return {*normalized, ParseEvents(normalized->events)};
  }
  FAIL("no delivery " << file);
  return {};
}

aisle::Result<wh::Normalized> Post(const std::string& path, const std::string& body, const std::string& event_id) {
  wh::Headers headers;
  headers.Add("X-Retail-Signature", Sign(1741960800, body));
  headers.Add("X-Retail-Event-Id", event_id);
  const wh::Delivery delivery{path, &headers, body, 1741960800LL * 1000000};
  REQUIRE(wh::AuthenticateNative(delivery, Config()).ok());
  return wh::NormalizeNative(delivery, Config());
}

}  // namespace

TEST_CASE("every native manifest delivery authenticates within the window and is stale outside it", "[webhook][native]") {
  for (const std::string folder : {"traffic", "staff"}) {
    const auto manifest = PosManifest(folder);
    for (const auto& d : manifest["deliveries"]) {
      INFO(folder << "/" << d["file"].get<std::string>());
      const std::string body = ReadPosFixture(folder + "/" + d["file"].get<std::string>());
      CHECK(wh::Sha256Hex(body) == d["sha256"].get<std::string>());
      const auto headers = HeadersOf(d["headers"]);
      const int64_t t = SignedAt(d["headers"]);
      auto at = [&](int64_t now_s, const wh::PlatformConfig& config = Config()) {
        return wh::AuthenticateNative(wh::Delivery{"/ingest/x", &headers, body, now_s * 1000000}, config).status;
      };
      CHECK((at(t) == wh::AuthStatus::kOk) == d["expected_valid"].get<bool>());
      CHECK(at(t + 300) == wh::AuthStatus::kOk);
      CHECK(at(t - 300) == wh::AuthStatus::kOk);
      CHECK(at(t + 301) == wh::AuthStatus::kStale);
      CHECK(at(t - 301) == wh::AuthStatus::kStale);
      // A 2025 signature against a 2026 clock.
      CHECK(at(t + 365 * 86400) == wh::AuthStatus::kStale);
      auto wide = Config();
      wide.replay_window_seconds = 3600;
      CHECK(at(t + 3000, wide) == wh::AuthStatus::kOk);
      auto rotated = Config();
      rotated.secrets = {"next-secret", kSecret};
      CHECK(at(t, rotated) == wh::AuthStatus::kOk);
      rotated.secrets = {"next-secret"};
      CHECK(at(t, rotated) == wh::AuthStatus::kBad);
      std::string changed = body;
      changed[changed.size() / 3] ^= 0x04;
      CHECK(wh::AuthenticateNative(wh::Delivery{"/ingest/x", &headers, changed, t * 1000000}, Config()).status ==
            wh::AuthStatus::kBad);
    }
  }
}

TEST_CASE("X-Retail-Signature: missing, malformed, forged and stale headers", "[webhook][native]") {
  const std::string body = "{}";
  auto status = [&](const std::string& header, int64_t now_s = 1741960800) {
    wh::Headers headers;
    if (!header.empty()) headers.Add("X-Retail-Signature", header);
    return wh::AuthenticateNative(wh::Delivery{"/ingest/traffic", &headers, body, now_s * 1000000}, Config()).status;
  };
  const std::string good = Sign(1741960800, body);
  CHECK(status(good) == wh::AuthStatus::kOk);
  CHECK(status("") == wh::AuthStatus::kMissing);
  CHECK(status("garbage") == wh::AuthStatus::kBad);
  CHECK(status("t=1741960800") == wh::AuthStatus::kBad);
  CHECK(status("v1=" + good.substr(good.find("v1=") + 3)) == wh::AuthStatus::kBad);
  CHECK(status("t=abc," + good.substr(good.find("v1="))) == wh::AuthStatus::kBad);
  // The same digest with another timestamp: the timestamp is signed, so this is forged, not stale.
  CHECK(status("t=1741960801," + good.substr(good.find("v1="))) == wh::AuthStatus::kBad);
  CHECK(status(Sign(1741960800, body, "wrong")) == wh::AuthStatus::kBad);
  CHECK(status(Sign(1741960800, body, "wrong") + ", " + good.substr(good.find("v1="))) == wh::AuthStatus::kOk);
  CHECK(status(" v1=" + good.substr(good.find("v1=") + 3) + " , t=1741960800 ") == wh::AuthStatus::kOk);
  CHECK(status(good, 1741960800 + 301) == wh::AuthStatus::kStale);
  CHECK(status(Sign(1741960800, body, "wrong"), 1741960800 + 301) == wh::AuthStatus::kBad);
}

TEST_CASE("a traffic interval becomes a traffic event ending at the interval's end", "[webhook][native]") {
  const auto run = FromManifest("traffic", "count_interval.json", "/ingest/traffic");
  REQUIRE(run.events.size() == 1);
  const auto& e = run.events[0];
  REQUIRE(e.kind() == aisle::dsl::StreamKind::kTraffic);
  CHECK(StrOf(e, "id") == "traffic:01JPB3T8Q6ZQ7M4V1N2C3D4E5F");
  CHECK(StrOf(e, "store") == "store-hb01");
  CHECK(StrOf(e, "source") == "traffic");
  CHECK(StrOf(e, "zone") == "entrance-main");
  CHECK(TsOf(e, "start") == "2025-03-14T14:15:00Z");
  CHECK(TsOf(e, "end") == "2025-03-14T14:30:00Z");
  CHECK(TsOf(e) == "2025-03-14T14:30:00Z");
  CHECK(FieldOf(e, "entries").i == 23);
  CHECK(FieldOf(e, "exits").i == 19);
  CHECK_FALSE(FieldOf(e, "offline").b);
  CHECK(ExtraOf(e, "sensor") == "hb01-door-main-01");

  // A one-way beam has no exits: absent, not zero.
  const auto beam = FromManifest("traffic", "count_interval_ir_beam.json", "/ingest/traffic");
  REQUIRE(beam.events.size() == 1);
  CHECK(StrOf(beam.events[0], "store") == "store-pk02");
  CHECK(FieldOf(beam.events[0], "entries").i == 112);
  CHECK(FieldOf(beam.events[0], "exits").is_null());
}

TEST_CASE("a traffic batch: one counted interval and one offline interval, not a zero count", "[webhook][native]") {
  const auto run = FromManifest("traffic", "count_batch.json", "/ingest/traffic");
  REQUIRE(run.events.size() == 2);
  CHECK(StrOf(run.events[0], "id") == "traffic:01JPB3W0K2A9XH7R5T3Y1U0IA1");
  CHECK(FieldOf(run.events[0], "entries").i == 18);
  CHECK(FieldOf(run.events[0], "exits").i == 22);
  CHECK_FALSE(FieldOf(run.events[0], "offline").b);
  const auto& offline = run.events[1];
  CHECK(StrOf(offline, "store") == "store-hb01");  // from the batch
  CHECK(TsOf(offline, "start") == "2025-03-14T14:45:00Z");
  CHECK(FieldOf(offline, "offline").b);
  CHECK(FieldOf(offline, "entries").is_null());
  CHECK(FieldOf(offline, "exits").is_null());
}

TEST_CASE("Ava's clock events: 09:00-17:30 New York with a 30-minute unpaid break is 8 hours worked", "[webhook][native]") {
  std::vector<aisle::engine::Event> shift;
  for (const std::string file : {"clock_in.json", "break_start.json", "break_end.json", "clock_out.json"}) {
    const auto run = FromManifest("staff", file, "/ingest/shifts");
    REQUIRE(run.events.size() == 1);
    shift.push_back(run.events[0]);
  }
  for (const auto& e : shift) {
    CHECK(e.kind() == aisle::dsl::StreamKind::kShift);
    CHECK(StrOf(e, "staff") == "emp-ava-brooks");
    CHECK(StrOf(e, "shift") == "shift-hb01-20250314-ava");
    CHECK(StrOf(e, "store") == "store-hb01");
    CHECK(StrOf(e, "role") == "sales_associate");
    CHECK(UsdOf(e, "wage") == 185000);  // 1850 cents an hour
  }
  CHECK(StrOf(shift[0], "action") == "clock_in");
  CHECK(StrOf(shift[3], "action") == "clock_out");
  CHECK(StrOf(shift[0], "id") == "staff:01JPB2A0S1D2F3G4H5J6K7L8M9");
  // New York is UTC-4 on 2025-03-14 (DST from 9 March): 09:00 is 13:00Z, 17:30 is 21:30Z.
  CHECK(TsOf(shift[0]) == "2025-03-14T13:00:00Z");
  CHECK(TsOf(shift[1]) == "2025-03-14T16:30:00Z");
  CHECK(TsOf(shift[2]) == "2025-03-14T17:00:00Z");
  CHECK(TsOf(shift[3]) == "2025-03-14T21:30:00Z");
  CHECK(ExtraOf(shift[1], "break_kind") == "meal");
  CHECK(ExtraOf(shift[1], "paid") == "false");
  const int64_t worked = (shift[3].ts() - shift[0].ts()) - (shift[2].ts() - shift[1].ts());
  CHECK(worked == 8LL * 3600 * 1000000);
}

TEST_CASE("a canonical NDJSON batch passes through; one bad line fails it with its number", "[webhook][native]") {
  const std::string good =
      R"({"type":"sale","id":"s1","store":"store-hb01","ts":"2025-03-14T13:05:22Z","source":"file","currency":"USD","total":"58.00"})";
  const std::string also =
      R"({"type":"traffic","id":"t1","store":"store-hb01","ts":"2025-03-14T14:00:00Z","source":"traffic","entries":3})";
  auto ok = Post("/ingest/events", good + "\r\n\n" + also + "\n", "batch-1");
  REQUIRE(ok);
  CHECK(ok->delivery_id == "native:batch-1");
  CHECK(ok->events == std::vector<std::string>{good, also});
  ParseEvents(ok->events);

  auto bad = Post("/ingest/events", good + "\n" + also + "\n" + R"({"type":"sale","id":"s2"})" + "\n", "batch-2");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "line 3: missing required field 'store'");

  auto empty = Post("/ingest/events", "\n", "batch-3");
  REQUIRE(empty);
  CHECK(empty->events.empty());
  CHECK(empty->note == "empty event batch");
}

TEST_CASE("native bodies: event id mismatch, unknown schema, unknown endpoint, bad fields", "[webhook][native]") {
  const std::string interval = ReadPosFixture("traffic/count_interval.json");
  auto mismatch = Post("/ingest/traffic", interval, "01OTHER");
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message ==
        "X-Retail-Event-Id '01OTHER' does not match the body's event_id '01JPB3T8Q6ZQ7M4V1N2C3D4E5F'");

  auto wrong_endpoint = Post("/ingest/shifts", interval, "01JPB3T8Q6ZQ7M4V1N2C3D4E5F");
  REQUIRE_FALSE(wrong_endpoint);
  CHECK(wrong_endpoint.error().message == "field 'schema': expected retail.staff_clock.v1, got \"retail.traffic_count.v1\"");

  auto unknown = Post("/ingest/sales", interval, "x");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.rfind("unknown endpoint '/ingest/sales'", 0) == 0);

  std::string bad_count = interval;
  bad_count.replace(bad_count.find("\"count_in\": 23"), 14, "\"count_in\": 2.5");
  auto fractional = Post("/ingest/traffic", bad_count, "01JPB3T8Q6ZQ7M4V1N2C3D4E5F");
  REQUIRE_FALSE(fractional);
  CHECK(fractional.error().message == "field 'count_in': expected an integer, got \"2.5\"");

  std::string bad_action = ReadPosFixture("staff/clock_in.json");
  bad_action.replace(bad_action.find("\"clock_in\""), 10, "\"lunch\"");
  auto action = Post("/ingest/shifts", bad_action, "01JPB2A0S1D2F3G4H5J6K7L8M9");
  REQUIRE_FALSE(action);
  CHECK(action.error().message ==
        "field 'action': expected clock_in, break_start, break_end or clock_out, got \"lunch\"");

  wh::Headers no_id;
  const wh::Delivery delivery{"/ingest/traffic", &no_id, interval, 0};
  auto missing = wh::NormalizeNative(delivery, Config());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "missing header X-Retail-Event-Id");
}
