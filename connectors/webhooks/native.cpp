#include "connectors/webhooks/native.hpp"

// Assumptions (see tests/fixtures/pos/README.md, "Open questions")
// None of the open questions concern our own formats; the choices below are ours:
// - Signature header items may come in any order; several v1 values are allowed (the sender
//   rotating its secret signs with both) and any one matching a configured secret passes. The
//   signature is checked before the timestamp, so a forged header is kBad, never kStale.
// - X-Retail-Event-Id is required and, when the body carries `event_id` / `batch_id`, must equal
//   it: the header is not signed, the body is.
// - store_id, employee_id and shift_id in our formats are engine ids already: they are used as
//   they are, not mapped through config.ids.
// - A traffic event's time is the end of its interval (the count is known then); its id is
//   "traffic:" + the interval's event_id. A shift event's id is "staff:" + event_id.
// - `wage_rate` becomes `wage` only when `per` is "hour" (the canonical unit).

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/webhooks/normalize_support.hpp"
#include "dsl/money.hpp"
#include "engine/core/event.hpp"

namespace aisle::connectors::webhooks {

namespace {

using json = connectors::json::JsonValue;
using support::EventWriter;
using support::FieldError;

std::string_view LastSegment(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void CheckBodyId(const json& body, std::string_view key, std::string_view header_id) {
  const auto id = support::OptText(body, key, key);
  if (id && *id != header_id) {
    throw FieldError("X-Retail-Event-Id '" + std::string(header_id) + "' does not match the body's " +
                     std::string(key) + " '" + *id + "'");
  }
}

// One interval of retail.traffic_count.v1; `outer` supplies store_id and sensor_id for a batch.
std::string TrafficEvent(const json& count, const json& outer, const std::string& what) {
  const std::string event_id = support::Text(count, "event_id", what + "event_id");
  const json& owner = support::OptMember(count, "store_id") != nullptr ? count : outer;
  const std::string store = support::Text(owner, "store_id", what + "store_id");
  const int64_t start = support::Timestamp(count, "interval_start", what + "interval_start");
  const int64_t end = support::Timestamp(count, "interval_end", what + "interval_end");
  if (end <= start) throw FieldError("field '" + what + "interval_end': not after interval_start");
  const bool offline = support::OptText(count, "status", what + "status").value_or("") == "sensor_offline";
  EventWriter event("traffic", "traffic:" + event_id, store, end, "traffic");
  event.Str("zone", support::Text(count, "zone_id", what + "zone_id")).Time("start", start).Time("end", end);
  if (offline) {
    // No data for the interval, which is not a zero count: entries and exits stay absent.
    event.Bool("offline", true);
  } else {
    event.Int("entries", support::Integer(count, "count_in", what + "count_in"));
    if (support::OptMember(count, "count_out") != nullptr) {
      event.Int("exits", support::Integer(count, "count_out", what + "count_out"));
    }
    event.Bool("offline", false);
  }
  const json& sensor_owner = support::OptMember(count, "sensor_id") != nullptr ? count : outer;
  event.OptStr("sensor", support::OptText(sensor_owner, "sensor_id", what + "sensor_id"))
      .OptStr("sequence", support::OptText(count, "sequence", what + "sequence"));
  return event.Finish();
}

void NormalizeTraffic(const json& body, std::string_view header_id, Normalized& out) {
  const std::string schema = support::Text(body, "schema", "schema");
  if (schema == "retail.traffic_count.v1") {
    CheckBodyId(body, "event_id", header_id);
    out.events.push_back(TrafficEvent(body, body, ""));
  } else if (schema == "retail.traffic_count_batch.v1") {
    CheckBodyId(body, "batch_id", header_id);
    const json& counts = support::ArrayOrEmpty(body, "counts", "counts");
    for (size_t i = 0; i < counts.size(); ++i) {
      out.events.push_back(TrafficEvent(counts[i], body, "counts[" + std::to_string(i) + "]."));
    }
    if (counts.empty()) out.note = "empty traffic batch";
  } else {
    throw FieldError("field 'schema': expected retail.traffic_count.v1 or retail.traffic_count_batch.v1, got \"" +
                     schema + "\"");
  }
}

void NormalizeShift(const json& body, std::string_view header_id, Normalized& out) {
  const std::string schema = support::Text(body, "schema", "schema");
  if (schema != "retail.staff_clock.v1") {
    throw FieldError("field 'schema': expected retail.staff_clock.v1, got \"" + schema + "\"");
  }
  CheckBodyId(body, "event_id", header_id);
  const std::string action = support::Text(body, "action", "action");
  if (action != "clock_in" && action != "break_start" && action != "break_end" && action != "clock_out") {
    throw FieldError("field 'action': expected clock_in, break_start, break_end or clock_out, got \"" +
                     action + "\"");
  }
  EventWriter event("shift", "staff:" + support::Text(body, "event_id", "event_id"),
                    support::Text(body, "store_id", "store_id"),
                    support::Timestamp(body, "occurred_at", "occurred_at"), "staff");
  event.Str("staff", support::Text(body, "employee_id", "employee_id"))
      .Str("action", action)
      .Str("shift", support::Text(body, "shift_id", "shift_id"))
      .OptStr("role", support::OptText(body, "role", "role"));
  if (const json* wage = support::OptMember(body, "wage_rate")) {
    if (support::OptText(*wage, "per", "wage_rate.per").value_or("hour") == "hour") {
      const std::string currency = support::CurrencyCode(*wage, "currency", "wage_rate.currency");
      const int64_t minor = support::Integer(*wage, "amount_minor", "wage_rate.amount_minor");
      // Minor units to 1/10,000: USD cents times 100.
      int64_t scale = 1;
      for (int i = dsl::MinorDigits(currency); i < 4; ++i) scale *= 10;
      int64_t units = 0;
      if (__builtin_mul_overflow(minor, scale, &units)) {
        throw FieldError("field 'wage_rate.amount_minor': out of range");
      }
      event.Money("wage", units, currency);
    }
  }
  event.OptStr("break_kind", support::OptText(body, "break_kind", "break_kind"));
  if (const auto paid = support::OptBool(body, "paid", "paid")) event.Bool("paid", *paid);
  event.OptStr("device", support::OptText(body, "device_id", "device_id"));
  out.events.push_back(event.Finish());
}

// A canonical NDJSON batch: every line must parse; the lines are passed on as they are.
Result<Normalized> NormalizeEvents(std::string_view body, Normalized out) {
  EventParser parser;
  engine::Event event;
  std::string reason;
  size_t number = 0;
  while (!body.empty()) {
    const size_t newline = body.find('\n');
    std::string_view line = body.substr(0, newline);
    body = newline == std::string_view::npos ? std::string_view() : body.substr(newline + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    reason.clear();
    if (!parser.Parse(line, event, reason)) {
      return Error{"line " + std::to_string(number) + ": " + reason};
    }
    out.events.emplace_back(line);
  }
  if (out.events.empty()) out.note = "empty event batch";
  return out;
}

}  // namespace

AuthResult AuthenticateNative(const Delivery& delivery, const PlatformConfig& config) {
  const auto header = support::FindHeader(delivery, {"X-Retail-Signature"});
  if (!header || header->empty()) return {AuthStatus::kMissing, "no X-Retail-Signature header"};
  const auto params = support::ParseParams(*header, ',');
  if (!params) return {AuthStatus::kBad, "X-Retail-Signature does not parse"};
  std::optional<std::string> t;
  std::vector<std::string> digests;
  for (const auto& [name, value] : *params) {
    if (name == "t" && !t) t = value;
    if (name == "v1") {
      if (auto digest = support::FromHex(value); digest && digest->size() == 32) digests.push_back(*digest);
    }
  }
  const bool t_digits = t && !t->empty() && t->size() <= 12 &&
                        t->find_first_not_of("0123456789") == std::string::npos;
  if (!t_digits || digests.empty()) {
    return {AuthStatus::kBad, "X-Retail-Signature needs t=<unix seconds> and v1=<hex HMAC-SHA256>"};
  }
  if (config.secrets.empty()) return {AuthStatus::kBad, "no ingest secret configured"};
  std::string signed_bytes = *t;
  signed_bytes += '.';
  signed_bytes += delivery.body;
  bool match = false;
  for (const std::string& secret : config.secrets) {
    const std::string expected = HmacSha256(secret, signed_bytes);
    for (const std::string& digest : digests) match = ConstantTimeEqual(expected, digest) || match;
  }
  if (!match) return {AuthStatus::kBad, "X-Retail-Signature matches no configured secret"};
  const int64_t t_seconds = std::stoll(*t);
  const int64_t now_seconds = delivery.now_us / 1'000'000;
  const int64_t skew = now_seconds > t_seconds ? now_seconds - t_seconds : t_seconds - now_seconds;
  if (skew > config.replay_window_seconds) {
    return {AuthStatus::kStale, "X-Retail-Signature timestamp is " + std::to_string(skew) +
                                    " s from now (window " +
                                    std::to_string(config.replay_window_seconds) + " s)"};
  }
  return {};
}

Result<Normalized> NormalizeNative(const Delivery& delivery, const PlatformConfig& /*config*/) {
  try {
    const auto event_id = support::FindHeader(delivery, {"X-Retail-Event-Id"});
    if (!event_id || event_id->empty()) return Error{"missing header X-Retail-Event-Id"};
    const std::string_view endpoint = LastSegment(delivery.path);
    Normalized out;
    out.delivery_id = "native:" + std::string(*event_id);
    out.topic = std::string(endpoint);
    if (endpoint == "events") return NormalizeEvents(delivery.body, std::move(out));
    if (endpoint != "traffic" && endpoint != "shifts") {
      return Error{"unknown endpoint '" + std::string(delivery.path) +
                   "' (expected .../traffic, .../shifts or .../events)"};
    }
    auto body = support::ParseJsonKeepingNumberText(delivery.body);
    if (!body) return body.error();
    if (!body->root().is_object()) return Error{"body is not a JSON object"};
    if (endpoint == "traffic") {
      NormalizeTraffic(body->root(), *event_id, out);
    } else {
      NormalizeShift(body->root(), *event_id, out);
    }
    return out;
  } catch (const std::exception& e) {
    return Error{e.what()};
  } catch (...) {
    return Error{"internal error"};
  }
}

}  // namespace aisle::connectors::webhooks
