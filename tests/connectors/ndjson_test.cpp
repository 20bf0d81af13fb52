// Canonical NDJSON ingestion: EventParser (every stream, every field, every reject), LineReader
// over real files, RejectWriter output read back.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "connectors/ndjson/line_reader.hpp"
#include "connectors/ndjson/reject_writer.hpp"
#include "dsl/schema.hpp"
#include "dsl/value.hpp"
#include "engine/core/event.hpp"

namespace {

using aisle::connectors::EventParser;
using aisle::connectors::LineReader;
using aisle::connectors::RejectWriter;
using aisle::dsl::PackCurrency;
using aisle::dsl::StreamKind;
using aisle::dsl::Type;
using aisle::dsl::Value;
using aisle::engine::Event;

constexpr int64_t kTs = 1741957522000000;  // 2025-03-14T13:05:22Z

Event ParseOk(std::string_view line) {
  EventParser parser;
  Event event;
  std::string reason;
  INFO(line);
  bool ok = parser.Parse(line, event, reason);
  INFO(reason);
  REQUIRE(ok);
  return event;
}

std::string Reject(std::string_view line) {
  EventParser parser;
  Event event;
  std::string reason;
  INFO(line);
  REQUIRE_FALSE(parser.Parse(line, event, reason));
  REQUIRE_FALSE(reason.empty());
  CHECK(reason.find('\n') == std::string::npos);
  return reason;
}

Value Field(const Event& event, std::string_view name) {
  auto slot = event.schema().Slot(name);
  INFO(name);
  REQUIRE(slot.has_value());
  return event.Get(*slot);
}

void CheckString(const Event& event, std::string_view name, std::string_view expected) {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kString);
  CHECK(v.str() == expected);
}

void CheckMoney(const Event& event, std::string_view name, int64_t units,
                std::string_view currency = "USD") {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kMoney);
  CHECK(v.i == units);
  CHECK(v.currency == PackCurrency(currency));
}

void CheckInt(const Event& event, std::string_view name, int64_t expected) {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kInt);
  CHECK(v.i == expected);
}

void CheckDecimal(const Event& event, std::string_view name, double expected) {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kDecimal);
  CHECK(v.d == expected);
}

void CheckTimestamp(const Event& event, std::string_view name, int64_t micros) {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kTimestamp);
  CHECK(v.i == micros);
}

void CheckBool(const Event& event, std::string_view name, bool expected) {
  Value v = Field(event, name);
  INFO(name);
  REQUIRE(v.type == Type::kBool);
  CHECK(v.b == expected);
}

void CheckNull(const Event& event, std::string_view name) {
  INFO(name);
  CHECK(Field(event, name).is_null());
}

// Every schema field not listed is absent.
void CheckOthersNull(const Event& event, std::initializer_list<std::string_view> present) {
  for (const auto& def : event.schema().fields) {
    bool listed = false;
    for (auto name : present) listed = listed || name == def.name;
    if (!listed) CheckNull(event, def.name);
  }
}

void CheckCommon(const Event& event, std::string_view id, std::string_view store,
                 std::string_view source) {
  CHECK(event.id() == id);
  CHECK(event.store() == store);
  CHECK(event.ts() == kTs);
  CheckString(event, "id", id);
  CheckString(event, "store", store);
  CheckTimestamp(event, "ts", kTs);
  CheckString(event, "source", source);
}

std::filesystem::path TempPath(std::string_view name) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path();
  return dir / ("aisle_ndjson_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) +
                "_" + std::string(name));
}

void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct ReadLine {
  std::string text;
  int64_t number;
  uint64_t offset;
};

std::vector<ReadLine> ReadAll(LineReader& reader) {
  std::vector<ReadLine> lines;
  std::string_view line;
  while (reader.Next(line))
    lines.push_back({std::string(line), reader.line_number(), reader.offset()});
  CHECK(reader.status().ok());
  return lines;
}

}  // namespace

// ---- every stream, every field ----

TEST_CASE("sale: every field", "[ndjson]") {
  Event e = ParseOk(
      R"({"type":"sale","id":"evt-1","store":"S001","ts":"2025-03-14T13:05:22Z","source":"shopify",)"
      R"("currency":"USD","order":"O-1001","total":"58.00","subtotal":"54.00","discount":"1.25",)"
      R"("tax":5.25,"tender":"card","staff":"E7","customer":"c9f2","channel":"pos",)"
      R"("status":"completed","units":3})");
  CHECK(e.kind() == StreamKind::kSale);
  CheckCommon(e, "evt-1", "S001", "shopify");
  CheckString(e, "currency", "USD");
  CheckString(e, "order", "O-1001");
  CheckMoney(e, "total", 580000);
  CheckMoney(e, "subtotal", 540000);
  CheckMoney(e, "discount", 12500);
  CheckMoney(e, "tax", 52500);
  CheckString(e, "tender", "card");
  CheckString(e, "staff", "E7");
  CheckString(e, "customer", "c9f2");
  CheckString(e, "channel", "pos");
  CheckString(e, "status", "completed");
  CheckInt(e, "units", 3);
  CHECK(e.extra_count() == 0);
}

TEST_CASE("line_item: every field, negative and fractional qty", "[ndjson]") {
  Event e =
      ParseOk(R"({"type":"line_item","id":"li-1","store":"S002","ts":"2025-03-14T13:05:22Z",)"
              R"("source":"square","currency":"GBP","order":"O-7","line":2,"sku":"SKU-42",)"
              R"("product":"Tea \"Earl\" Gr\u00e9y","qty":-1.5,"price":"0.001","discount":"0",)"
              R"("tax":"0.00015","staff":"E1"})");
  CHECK(e.kind() == StreamKind::kLineItem);
  CheckCommon(e, "li-1", "S002", "square");
  CheckString(e, "currency", "GBP");
  CheckString(e, "order", "O-7");
  CheckInt(e, "line", 2);
  CheckString(e, "sku", "SKU-42");
  CheckString(e, "product", "Tea \"Earl\" Gr\xC3\xA9y");
  CheckDecimal(e, "qty", -1.5);
  CheckMoney(e, "price", 10, "GBP");
  CheckMoney(e, "discount", 0, "GBP");
  CheckMoney(e, "tax", 2, "GBP");
  CheckString(e, "staff", "E1");
}

TEST_CASE("refund: every field", "[ndjson]") {
  Event e = ParseOk(
      R"({"type":"refund","id":"rf-1","store":"S003","ts":"2025-03-14T09:05:22-04:00",)"
      R"("source":"lightspeed","currency":"EUR","order":"O-9","refund":"R-1","amount":"-12.34",)"
      R"("tax":"-1.02","reason":"damaged","staff":"E3","sku":"SKU-1","qty":"2","restock":true})");
  CHECK(e.kind() == StreamKind::kRefund);
  CheckCommon(e, "rf-1", "S003", "lightspeed");
  CheckString(e, "currency", "EUR");
  CheckString(e, "order", "O-9");
  CheckString(e, "refund", "R-1");
  CheckMoney(e, "amount", -123400, "EUR");
  CheckMoney(e, "tax", -10200, "EUR");
  CheckString(e, "reason", "damaged");
  CheckString(e, "staff", "E3");
  CheckString(e, "sku", "SKU-1");
  CheckDecimal(e, "qty", 2.0);
  CheckBool(e, "restock", true);
}

TEST_CASE("inventory: every field, no currency needed", "[ndjson]") {
  Event e =
      ParseOk(R"({"type":"inventory","id":"inv-1","store":"S004","ts":"2025-03-14T13:05:22Z",)"
              R"("source":"file","sku":"SKU-5","on_hand":17,"delta":-3,"reason":"sale"})");
  CHECK(e.kind() == StreamKind::kInventory);
  CheckCommon(e, "inv-1", "S004", "file");
  CheckNull(e, "currency");
  CheckString(e, "sku", "SKU-5");
  CheckDecimal(e, "on_hand", 17.0);
  CheckDecimal(e, "delta", -3.0);
  CheckString(e, "reason", "sale");
}

TEST_CASE("shift: with wage needs currency, without wage does not", "[ndjson]") {
  Event e = ParseOk(
      R"({"type":"shift","id":"sh-1","store":"S005","ts":"2025-03-14T13:05:22Z","source":"staff",)"
      R"("currency":"USD","staff":"E9","action":"clock_in","shift":"SH-3","role":"cashier",)"
      R"("wage":16.5})");
  CHECK(e.kind() == StreamKind::kShift);
  CheckCommon(e, "sh-1", "S005", "staff");
  CheckString(e, "currency", "USD");
  CheckString(e, "staff", "E9");
  CheckString(e, "action", "clock_in");
  CheckString(e, "shift", "SH-3");
  CheckString(e, "role", "cashier");
  CheckMoney(e, "wage", 165000);

  Event plain = ParseOk(R"({"type":"shift","id":"sh-2","store":"S005","ts":"2025-03-14T13:05:22Z",)"
                        R"("staff":"E9","action":"break_start"})");
  CheckString(plain, "action", "break_start");
  CheckOthersNull(plain, {"id", "store", "ts", "staff", "action"});
}

TEST_CASE("traffic: every field, nullable exits", "[ndjson]") {
  Event e = ParseOk(R"({"type":"traffic","id":"tr-1","store":"S006","ts":"2025-03-14T13:05:22Z",)"
                    R"("source":"traffic","zone":"entrance","start":"2025-03-14T13:00:00Z",)"
                    R"("end":"2025-03-14T13:15:00Z","entries":42,"exits":null,"offline":false})");
  CHECK(e.kind() == StreamKind::kTraffic);
  CheckCommon(e, "tr-1", "S006", "traffic");
  CheckString(e, "zone", "entrance");
  CheckTimestamp(e, "start", 1741957200000000);
  CheckTimestamp(e, "end", 1741958100000000);
  CheckInt(e, "entries", 42);
  CheckNull(e, "exits");
  CheckBool(e, "offline", false);
  CHECK(e.extra_count() == 0);
}

TEST_CASE("only the required fields", "[ndjson]") {
  Event e = ParseOk(R"({"type":"sale","id":"a","store":"b","ts":"2025-03-14T13:05:22Z"})");
  CheckOthersNull(e, {"id", "store", "ts"});
}

// ---- money, numbers, order ----

TEST_CASE("money is exact from its text, half to even", "[ndjson]") {
  auto total = [](std::string_view json_value) {
    std::string line = R"({"type":"sale","id":"m","store":"S","ts":"2025-03-14T13:05:22Z",)"
                       R"("currency":"USD","total":)" +
                       std::string(json_value) + "}";
    Value v = Field(ParseOk(line), "total");
    REQUIRE(v.type == Type::kMoney);
    return v.i;
  };
  CHECK(total(R"("58.00")") == 580000);
  CHECK(total("16.5") == 165000);
  CHECK(total(R"("0.00005")") == 0);
  CHECK(total(R"("0.00015")") == 2);
  CHECK(total("0.00025") == 2);
  CHECK(total("0.00035") == 4);
  CHECK(total(R"("-3.25")") == -32500);
  CHECK(total("1e2") == 1000000);
  CHECK(total("0.1") == 1000);  // not 0.1000000000000000055 through a double
  CHECK(total("92233720368.5477") == 922337203685477);
  CHECK(total("0") == 0);
}

TEST_CASE("fields in any order, currency after the money", "[ndjson]") {
  Event e =
      ParseOk(R"({"units":2,"total":"10.50","ts":"2025-03-14T13:05:22Z","store":"S1","tax":"0.84",)"
              R"("id":"x","currency":"CAD","type":"sale"})");
  CHECK(e.kind() == StreamKind::kSale);
  CheckMoney(e, "total", 105000, "CAD");
  CheckMoney(e, "tax", 8400, "CAD");
  CheckInt(e, "units", 2);
  CHECK(e.id() == "x");
  CHECK(e.store() == "S1");
}

TEST_CASE("numeric strings for int and decimal, null means absent", "[ndjson]") {
  Event e =
      ParseOk(R"({"type":"line_item","id":"n","store":"S","ts":"2025-03-14 13:05:22z","line":"7",)"
              R"("qty":"0.375","price":null,"sku":null,"source":null})");
  CHECK(e.ts() == kTs);
  CheckInt(e, "line", 7);
  CheckDecimal(e, "qty", 0.375);
  CheckNull(e, "price");
  CheckNull(e, "sku");
  CheckNull(e, "source");
  CHECK(e.extra_count() == 0);
}

TEST_CASE("unknown keys are kept as extras", "[ndjson]") {
  Event e = ParseOk(
      R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","note":"a\"b\n\u00e9",)"
      R"("register":7,"ratio":-1.5e3,"gift":true,"coupon":null,)"
      R"("meta":{"k": [1, {"z":null}], "s":"\u0041"} ,"tags":["x","y"],"empty":{}})");
  REQUIRE(e.extra_count() == 8);
  auto extra = [&](std::string_view name) {
    std::string_view text;
    INFO(name);
    REQUIRE(e.FindExtra(name, text));
    return std::string(text);
  };
  CHECK(extra("note") == "a\"b\n\xC3\xA9");
  CHECK(extra("register") == "7");
  CHECK(extra("ratio") == "-1.5e3");
  CHECK(extra("gift") == "true");
  CHECK(extra("coupon") == "null");
  CHECK(extra("meta") == R"({"k": [1, {"z":null}], "s":"\u0041"})");
  CHECK(extra("tags") == R"(["x","y"])");
  CHECK(extra("empty") == "{}");
  CHECK(e.extra_name(0) == "note");
  CHECK(e.extra_name(7) == "empty");
}

TEST_CASE("whitespace around tokens and a trailing CR are accepted", "[ndjson]") {
  Event e = ParseOk(
      " { \"type\" : \"sale\" , \"id\" : \"w\" , \"store\" : \"S\" , \"ts\" : "
      "\"2025-03-14T13:05:22Z\" , \"units\" : 4 , \"x\" : [ 1 , 2 ] }\t\r");
  CheckInt(e, "units", 4);
  std::string_view text;
  REQUIRE(e.FindExtra("x", text));
  CHECK(text == "[ 1 , 2 ]");
}

TEST_CASE("one parser reused: long then short lines", "[ndjson]") {
  EventParser parser;
  Event event;
  std::string reason;
  std::string long_line =
      R"({"type":"sale","id":"L","store":"S","ts":"2025-03-14T13:05:22Z","pad":")" +
      std::string(5000, '}') + R"("})";
  REQUIRE(parser.Parse(long_line, event, reason));
  for (int i = 0; i < 100; ++i) {
    std::string id = "id" + std::to_string(i);
    std::string line = R"({"type":"refund","id":")" + id +
                       R"(","store":"S","ts":"2025-03-14T13:05:22Z","currency":"USD","amount":")" +
                       std::to_string(i) + R"("})";
    INFO(reason);
    REQUIRE(parser.Parse(line, event, reason));
    CHECK(event.kind() == StreamKind::kRefund);
    CHECK(event.id() == id);
    CheckMoney(event, "amount", int64_t{i} * 10000);
  }
  // A short line that ends early must not see the longer line's bytes.
  REQUIRE_FALSE(parser.Parse(R"({"type":"sale","id":"x")", event, reason));
  REQUIRE(parser.Parse(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z"})", event,
                       reason));

  EventParser moved = std::move(parser);
  REQUIRE(moved.Parse(R"({"type":"sale","id":"y","store":"S","ts":"2025-03-14T13:05:22Z"})", event,
                      reason));
  CHECK(event.id() == "y");
}

// ---- rejects: one case each ----

TEST_CASE("reject: not valid JSON", "[ndjson]") {
  CHECK(Reject(R"({"type":"sale","id":"x")").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale" "id":"x"})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","id":"x",})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","id":tru})").rfind("invalid JSON", 0) == 0);
  // Literals with letters after them (On-Demand checks only their first letters).
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","a":nulln})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","a":truex})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","a":[falsey]})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","units":01})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","x":[1,2,]})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","x":{"a" 1}})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","x":"\q"})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"type":"sale","x":"abc})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject("{\"type\":\"sale\",\"x\":\"\xff\xfe\"}") == "invalid JSON: invalid UTF-8");
  CHECK(Reject(std::string_view("{\"type\":\"s\0le\"}", 15)) ==
        "invalid JSON: control character 0x00 at byte 11");
  CHECK(Reject(R"({"x":{"b":true })") == "invalid JSON: unclosed object or array");
  CHECK(Reject("{\"type\":\"sale\",\"x\":\"a\tb\"}") ==
        "invalid JSON: unescaped control character in a string");
  CHECK(Reject("") == "empty line");
  CHECK(Reject("  \t") == "empty line");
}

TEST_CASE("reject: not an object", "[ndjson]") {
  CHECK(Reject(R"([{"type":"sale"}])") == R"(not a JSON object: [{"type":"sale"}])");
  CHECK(Reject(R"("sale")") == R"(not a JSON object: "sale")");
  CHECK(Reject("42") == "not a JSON object: 42");
  CHECK(Reject("null") == "not a JSON object: null");
}

TEST_CASE("reject: trailing content after the object", "[ndjson]") {
  const std::string ok = R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z"})";
  CHECK(Reject(ok + " x") == "trailing content after the object: x");
  CHECK(Reject(ok + " {}") == "trailing content after the object: {}");
  CHECK(Reject(ok + "}") == "trailing content after the object: }");
  CHECK(Reject(ok + ok).rfind("trailing content after the object: {\"type\"", 0) == 0);
}

TEST_CASE("reject: missing required field", "[ndjson]") {
  CHECK(Reject(R"({"id":"x","store":"S","ts":"2025-03-14T13:05:22Z"})") ==
        "missing required field 'type'");
  CHECK(Reject(R"({"type":"sale","store":"S","ts":"2025-03-14T13:05:22Z"})") ==
        "missing required field 'id'");
  CHECK(Reject(R"({"type":"sale","id":"x","ts":"2025-03-14T13:05:22Z"})") ==
        "missing required field 'store'");
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S"})") == "missing required field 'ts'");
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":null})") ==
        "missing required field 'ts'");
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","total":"1"})") ==
        "missing required field 'currency' (the event has money fields)");
  CHECK(
      Reject(R"({"type":"shift","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","wage":"15"})") ==
      "missing required field 'currency' (the event has money fields)");
  CHECK(Reject(R"({"type":"sale","id":"","store":"S","ts":"2025-03-14T13:05:22Z"})") ==
        R"(field 'id': expected non-empty string, got "")");
  CHECK(Reject(R"({"type":"sale","id":"x","store":"","ts":"2025-03-14T13:05:22Z"})") ==
        R"(field 'store': expected non-empty string, got "")");
}

TEST_CASE("reject: unknown type", "[ndjson]") {
  CHECK(Reject(R"({"type":"order","id":"x","store":"S","ts":"2025-03-14T13:05:22Z"})") ==
        R"(unknown type "order" (expected sale, line_item, refund, inventory, shift or traffic))");
  CHECK(Reject(R"({"type":"Sale","id":"x"})").rfind(R"(unknown type "Sale")", 0) == 0);
  CHECK(Reject(R"({"type":3,"id":"x"})") == "field 'type': expected string, got 3");
}

TEST_CASE("reject: bad values name the field", "[ndjson]") {
  const std::string head = R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z",)"
                           R"("currency":"USD",)";
  auto reject = [&](std::string_view fields) { return Reject(head + std::string(fields) + "}"); };
  CHECK(reject(R"("total":"abc")") == R"(field 'total': expected money, got "abc")");
  CHECK(reject(R"("total":true)") == "field 'total': expected money, got true");
  CHECK(reject(R"("total":{"amount":"1"})") ==
        R"(field 'total': expected money, got {"amount":"1"})");
  CHECK(reject(R"("total":"99999999999999999999")") ==
        R"(field 'total': money out of range, got "99999999999999999999")");
  CHECK(reject(R"("units":2.5)") == "field 'units': expected int, got 2.5");
  CHECK(reject(R"("units":"two")") == R"(field 'units': expected int, got "two")");
  CHECK(reject(R"("units":99999999999999999999)") ==
        "field 'units': int out of range, got 99999999999999999999");
  CHECK(reject(R"("order":1001)") == "field 'order': expected string, got 1001");
  CHECK(
      Reject(
          R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","currency":"usd"})") ==
      R"(field 'currency': expected a 3-letter upper-case ISO 4217 code, got "usd")");
  CHECK(
      Reject(
          R"({"type":"inventory","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","currency":"US"})")
          .rfind("field 'currency': expected a 3-letter", 0) == 0);
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"yesterday"})") ==
        R"(field 'ts': expected RFC 3339 timestamp, got "yesterday")");
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":1741957522})") ==
        "field 'ts': expected RFC 3339 timestamp, got 1741957522");
  CHECK(Reject(R"({"type":"sale","id":7,"store":"S","ts":"2025-03-14T13:05:22Z"})") ==
        "field 'id': expected string, got 7");
  const std::string item = R"({"type":"refund","id":"x","store":"S","ts":"2025-03-14T13:05:22Z",)";
  CHECK(Reject(item + R"("qty":"nan"})") == R"(field 'qty': expected decimal, got "nan")");
  CHECK(Reject(item + R"("qty":"inf"})") == R"(field 'qty': expected decimal, got "inf")");
  CHECK(Reject(item + R"("qty":1e999})") == "field 'qty': decimal out of range, got 1e999");
  CHECK(Reject(item + R"("restock":"yes"})") ==
        R"(field 'restock': expected bool (true or false), got "yes")");
  CHECK(Reject(item + R"("restock":1})") ==
        "field 'restock': expected bool (true or false), got 1");
  // Long values are cut in the reason.
  std::string reason = Reject(item + R"("reason":)" + std::string(200, '7') + "}");
  CHECK(reason == "field 'reason': expected string, got " + std::string(48, '7') + "...");
}

TEST_CASE("reject: duplicate key", "[ndjson]") {
  CHECK(Reject(R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","id":"y"})") ==
        "duplicate key 'id'");
  CHECK(Reject(R"({"type":"sale","t\u0079pe":"sale"})") == "duplicate key 'type'");
  CHECK(Reject(R"({"type":"sale","note":1,"note":2})") == "duplicate key 'note'");
  // Wide objects take the sorting path.
  std::string wide = R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z")";
  for (int i = 0; i < 100; ++i) wide += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  Event e = ParseOk(wide + "}");
  CHECK(e.extra_count() == 100);
  CHECK(Reject(wide + R"(,"k57":0})") == "duplicate key 'k57'");
}

TEST_CASE("reject: hostile input never crashes", "[ndjson]") {
  std::string deep =
      R"({"type":"sale","x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  CHECK(Reject(deep).rfind("invalid JSON", 0) == 0);
  std::string deep_ok_depth =
      R"({"type":"sale","x":)" + std::string(70, '[') + std::string(70, ']') + "}";
  CHECK(Reject(deep_ok_depth) == "invalid JSON: nested deeper than 64 levels");
  std::string huge = R"({"type":"sale","id":"x","store":"S","ts":"2025-03-14T13:05:22Z","n":)" +
                     std::string(5000, '9') + "}";
  Event e = ParseOk(huge);
  std::string_view text;
  REQUIRE(e.FindExtra("n", text));
  CHECK(text.size() == 5000);
  CHECK(Reject(R"({"\u0000":)").rfind("invalid JSON", 0) == 0);
  CHECK(Reject(R"({"x":"\ud800"})").rfind("invalid JSON", 0) == 0);
  CHECK(Reject("{\"type\":\"sale\",\"id\":\"x\"}\x80").rfind("invalid JSON", 0) == 0);

  // Random mutations of a valid line: each parses or is rejected with a reason, nothing else.
  const std::string seed =
      R"({"type":"line_item","id":"li-1","store":"S2","ts":"2025-03-14T13:05:22Z","currency":"GBP",)"
      R"("qty":-1.5,"price":"0.001","x":{"a":[1,"b",null]}})";
  std::mt19937 rng(12345);
  EventParser parser;
  Event event;
  std::string reason;
  for (int round = 0; round < 20000; ++round) {
    std::string line = seed;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t at = rng() % (line.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < line.size()) line[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          line.insert(at, 1, "{}[]\",:\\0e-"[rng() % 11]);
          break;
        default:
          if (at < line.size()) line.erase(at, 1 + rng() % 3);
      }
    }
    reason.clear();
    if (!parser.Parse(line, event, reason)) CHECK_FALSE(reason.empty());
  }
}

// ---- LineReader ----

TEST_CASE("LineReader: CRLF, empty lines, no final newline", "[ndjson]") {
  auto path = TempPath("lines.ndjson");
  WriteFile(path, "first\r\n\nthird\r\n\r\nlast");
  auto reader = LineReader::Open(path.string());
  REQUIRE(reader.ok());
  auto lines = ReadAll(*reader);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].text == "first");
  CHECK(lines[0].number == 1);
  CHECK(lines[0].offset == 7);
  CHECK(lines[1].text.empty());
  CHECK(lines[1].offset == 8);
  CHECK(lines[2].text == "third");
  CHECK(lines[2].offset == 15);
  CHECK(lines[3].text.empty());
  CHECK(lines[3].number == 4);
  CHECK(lines[4].text == "last");
  CHECK(lines[4].number == 5);
  CHECK(lines[4].offset == 21);
  std::string_view line;
  CHECK_FALSE(reader->Next(line));
  std::filesystem::remove(path);
}

TEST_CASE("LineReader: resume from an offset equals reading through", "[ndjson]") {
  auto path = TempPath("resume.ndjson");
  std::string content;
  for (int i = 1; i <= 50; ++i) content += "line " + std::to_string(i) + "\n";
  WriteFile(path, content);
  auto whole = LineReader::Open(path.string());
  REQUIRE(whole.ok());
  auto all = ReadAll(*whole);
  REQUIRE(all.size() == 50);
  CHECK(all.back().offset == content.size());

  auto resumed = LineReader::Open(path.string(), all[19].offset, all[19].number + 1);
  REQUIRE(resumed.ok());
  CHECK(resumed->line_number() == 20);
  CHECK(resumed->offset() == all[19].offset);
  auto rest = ReadAll(*resumed);
  REQUIRE(rest.size() == 30);
  for (size_t i = 0; i < rest.size(); ++i) {
    CHECK(rest[i].text == all[20 + i].text);
    CHECK(rest[i].number == all[20 + i].number);
    CHECK(rest[i].offset == all[20 + i].offset);
  }
  auto past_end = LineReader::Open(path.string(), content.size() + 10, 99);
  REQUIRE(past_end.ok());
  CHECK(ReadAll(*past_end).empty());
  std::filesystem::remove(path);
}

TEST_CASE("LineReader: small blocks and lines longer than a block", "[ndjson]") {
  auto path = TempPath("blocks.ndjson");
  std::vector<std::string> expected = {"a",    std::string(1000, 'x'), "",
                                       "bc\r", std::string(5000, 'y'), "z"};
  std::string content;
  for (const auto& line : expected) content += line + "\n";
  WriteFile(path, content);
  for (size_t block : {size_t{1}, size_t{3}, size_t{64}, size_t{4096}}) {
    INFO(block);
    auto reader = LineReader::Open(path.string(), 0, 1, block);
    REQUIRE(reader.ok());
    auto lines = ReadAll(*reader);
    REQUIRE(lines.size() == expected.size());
    CHECK(lines[3].text == "bc");  // "\r" stripped only before "\n"
    CHECK(lines[0].text == expected[0]);
    CHECK(lines[1].text == expected[1]);
    CHECK(lines[4].text == expected[4]);
    CHECK(lines.back().offset == content.size());
  }
  std::filesystem::remove(path);
}

TEST_CASE("LineReader: a byte order mark at the start of the file is dropped", "[ndjson]") {
  auto path = TempPath("bom.ndjson");
  WriteFile(path, "\xEF\xBB\xBF{}\n\xEF\xBB\xBF{}\n");
  auto reader = LineReader::Open(path.string());
  REQUIRE(reader.ok());
  auto lines = ReadAll(*reader);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == "{}");
  CHECK(lines[0].offset == 6);
  CHECK(lines[1].text == "\xEF\xBB\xBF{}");  // only at the start of the file
  std::filesystem::remove(path);
}

TEST_CASE("LineReader: open errors name the path", "[ndjson]") {
  auto missing = LineReader::Open("/nonexistent/dir/events.ndjson");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/dir/events.ndjson") != std::string::npos);
  CHECK(missing.error().message.find("No such file or directory") != std::string::npos);
  auto dir = LineReader::Open(std::filesystem::temp_directory_path().string());
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().message.find("directory") != std::string::npos);
}

TEST_CASE("LineReader + EventParser over a file", "[ndjson]") {
  auto path = TempPath("events.ndjson");
  WriteFile(path,
            "{\"type\":\"sale\",\"id\":\"1\",\"store\":\"S\",\"ts\":\"2025-03-14T13:05:22Z\"}\r\n"
            "\n"
            "{\"type\":\"sale\",\"id\":\"2\"}\n"
            "{\"type\":\"inventory\",\"id\":\"3\",\"store\":\"S\",\"ts\":\"2025-03-14T13:05:22Z\","
            "\"sku\":\"K\",\"on_hand\":4}");
  auto reader = LineReader::Open(path.string());
  REQUIRE(reader.ok());
  EventParser parser;
  Event event;
  std::string reason;
  std::vector<std::string> ids;
  std::vector<int64_t> rejected;
  std::string_view line;
  while (reader->Next(line)) {
    if (line.empty()) continue;
    if (parser.Parse(line, event, reason)) {
      ids.emplace_back(event.id());
    } else {
      rejected.push_back(reader->line_number());
    }
  }
  CHECK(ids == std::vector<std::string>{"1", "3"});
  CHECK(rejected == std::vector<int64_t>{3});
  std::filesystem::remove(path);
}

// ---- RejectWriter ----

TEST_CASE("RejectWriter: lazily opened, one object a line, read back", "[ndjson]") {
  auto path = TempPath("rejects.jsonl");
  {
    RejectWriter writer(path.string());
    CHECK(writer.count() == 0);
    CHECK_FALSE(std::filesystem::exists(path));
    REQUIRE(writer.Write(3, "missing required field 'ts'", R"({"type":"sale","id":"2"})").ok());
    REQUIRE(writer.Write(9, "invalid JSON: invalid UTF-8", "bad \xff\xfe bytes \"q\"").ok());
    REQUIRE(writer.Flush().ok());
    CHECK(writer.count() == 2);
    CHECK(std::filesystem::exists(path));
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2);
  CHECK(
      lines[0] ==
      R"({"line":3,"reason":"missing required field 'ts'","raw":"{\"type\":\"sale\",\"id\":\"2\"}"})");
  auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["line"] == 3);
  CHECK(first["raw"] == R"({"type":"sale","id":"2"})");
  auto second = nlohmann::json::parse(lines[1]);
  CHECK(second["line"] == 9);
  CHECK(second["reason"] == "invalid JSON: invalid UTF-8");
  CHECK(second["raw"] == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \"q\"");

  // A second writer appends.
  {
    RejectWriter again(path.string());
    REQUIRE(again.Write(10, "x", "y").ok());
  }
  std::ifstream reread(path);
  size_t count = 0;
  for (std::string line; std::getline(reread, line);) ++count;
  CHECK(count == 3);
  std::filesystem::remove(path);
}

TEST_CASE("RejectWriter: empty path only counts, bad path reports", "[ndjson]") {
  RejectWriter counter("");
  REQUIRE(counter.Write(1, "r", "x").ok());
  CHECK(counter.count() == 1);
  RejectWriter bad("/nonexistent/dir/rejects.jsonl");
  auto status = bad.Write(1, "r", "x");
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("/nonexistent/dir/rejects.jsonl") != std::string::npos);
  CHECK(bad.count() == 1);
}
