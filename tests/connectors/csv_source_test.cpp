// CSV files through a column mapping: the mapping's checks, rows to canonical events (local
// times in a named zone across a clock change), bad rows reported by line number, and replay
// into a real engine that resumes where it stopped.

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/csv/csv_source.hpp"
#include "connectors/ndjson/event_parser.hpp"
#include "dsl/time.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::connectors::CsvRowMapper;
using aisle::connectors::ParseCsvMapping;
using aisle::testing::TempDir;

namespace {

constexpr const char* kMapping = R"({
  "type": "sale",
  "source": "pos-export",
  "fields": {
    "id": {"column": "Receipt", "prefix": "lsx-"},
    "store": "Outlet",
    "ts": {"column": "Date", "format": "%d/%m/%Y %H:%M", "timezone": "Europe/London"},
    "total": "Total",
    "currency": {"value": "GBP"},
    "status": {"value": "completed"},
    "till": "Till"
  }
})";

nlohmann::json MapRow(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  auto mapping = ParseCsvMapping(kMapping);
  REQUIRE(mapping);
  auto mapper = CsvRowMapper::Bind(*mapping, header);
  REQUIRE(mapper);
  std::string line, reason;
  REQUIRE(mapper->Map(row, line, reason));
  return nlohmann::json::parse(line);
}

}  // namespace

TEST_CASE("a CSV mapping is checked key by key", "[csv]") {
  CHECK_FALSE(ParseCsvMapping("{").ok());
  CHECK(ParseCsvMapping(R"({"type":"sales","fields":{"store":"a","ts":"b"}})").error().message.find("not an event type") !=
        std::string::npos);
  CHECK(ParseCsvMapping(R"({"type":"sale","fields":{"ts":"b"}})").error().message.find("\"store\" must be mapped") !=
        std::string::npos);
  CHECK(ParseCsvMapping(R"({"type":"sale","fields":{"store":"a","ts":{"column":"b","timezone":"Mars/Base"}}})")
            .error()
            .message.find("no time zone 'Mars/Base'") != std::string::npos);
  CHECK(ParseCsvMapping(R"({"type":"sale","fields":{"store":{"column":"a","value":"b"},"ts":"c"}})")
            .error()
            .message.find("exactly one") != std::string::npos);
  auto mapping = ParseCsvMapping(kMapping);
  REQUIRE(mapping);
  const auto unbound = CsvRowMapper::Bind(*mapping, {"Receipt", "Outlet", "Date", "Total"});
  CHECK(unbound.error().message == "the header has no column 'Till' (mapped to till)");
}

TEST_CASE("rows become canonical events, local times through the zone's clock changes", "[csv]") {
  const std::vector<std::string> header = {"Receipt", "Outlet", "Date", "Total", "Till"};
  // 14 March 2025: London is on GMT (UTC+0); 1 July 2025: BST (UTC+1), so 10:00 is 09:00Z.
  auto winter = MapRow(header, {"1042", "uk-01", "14/03/2025 10:22", "58.00", "2"});
  CHECK(winter["id"] == "lsx-1042");
  CHECK(winter["type"] == "sale");
  CHECK(winter["source"] == "pos-export");
  CHECK(winter["store"] == "uk-01");
  CHECK(winter["ts"] == "2025-03-14T10:22:00Z");
  CHECK(winter["total"] == "58.00");
  CHECK(winter["currency"] == "GBP");
  CHECK(winter["till"] == "2");
  auto summer = MapRow(header, {"1043", "uk-01", "01/07/2025 10:00", "12.50", ""});
  CHECK(summer["ts"] == "2025-07-01T09:00:00Z");
  CHECK_FALSE(summer.contains("till"));  // an empty cell leaves the field out
  // The canonical parser takes them: the total is exact money.
  aisle::connectors::EventParser parser;
  aisle::engine::Event event;
  std::string reason;
  REQUIRE(parser.Parse(winter.dump(), event, reason));
  CHECK(event.ts() == *aisle::dsl::ParseTimestamp("2025-03-14T10:22:00Z"));

  auto mapping = ParseCsvMapping(kMapping);
  auto mapper = CsvRowMapper::Bind(*mapping, header);
  std::string line;
  CHECK_FALSE(mapper->Map({"1044", "uk-01", "2025-03-14 10:22", "1.00", "1"}, line, reason));
  CHECK(reason == "ts: \"2025-03-14 10:22\" does not match the format \"%d/%m/%Y %H:%M\"");
  CHECK_FALSE(mapper->Map({"1044", "uk-01"}, line, reason));
  CHECK(reason == "2 fields, the header has 5");
}

TEST_CASE("a CSV backfill reports bad rows by line and resumes where it stopped", "[csv]") {
  TempDir dir;
  const std::string csv = dir.Write("sales.csv",
                                    "Receipt,Outlet,Date,Total,Till\r\n"
                                    "1,uk-01,14/03/2025 10:00,10.00,1\r\n"
                                    "2,uk-01,14/03/2025 10:05,abc,1\r\n"          // line 3: bad money
                                    "3,uk-01,14/03/2025 10:10,\"5.\n00\",1\r\n"   // lines 4-5: a quoted line break
                                    "4,uk-02,14/03/2025 10:20,7.50,\"2\"\r\n");  // line 6
  const std::string mapping_path = dir.Write("map.json", kMapping);
  auto mapping = aisle::connectors::LoadCsvMapping(mapping_path);
  REQUIRE(mapping);
  const std::string rules = dir.Write("r.aisle", "metric h = sale | key store | window tumbling 1h | agg n = count()\n");
  auto run = [&](int64_t& accepted) {
    aisle::engine::OperatorRegistry registry;
    aisle::stdlib::RegisterStdlib(registry);
    aisle::engine::EngineOptions options;
    options.rules = {rules};
    options.data_dir = dir / "data";
    auto engine = aisle::engine::Engine::Open(options, registry);
    REQUIRE(engine);
    aisle::connectors::RejectWriter rejects(dir / "rejects.jsonl");
    auto report = aisle::connectors::ReplayCsv(csv, *mapping, **engine, rejects);
    REQUIRE(report);
    REQUIRE((*engine)->Finish(false).ok());
    accepted = (*engine)->stats().accepted;
    return *report;
  };
  int64_t accepted = 0;
  const auto first = run(accepted);
  CHECK(first.lines == 4);
  CHECK(first.events == 2);
  CHECK(first.rejected == 2);
  CHECK(accepted == 2);
  std::ifstream in(dir / "rejects.jsonl");
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  const auto r1 = nlohmann::json::parse(l1), r2 = nlohmann::json::parse(l2);
  CHECK(r1["line"] == 3);
  CHECK(r1["reason"].get<std::string>().find("total") != std::string::npos);
  CHECK(r2["line"] == 4);  // the record that starts on line 4
  CHECK(r2["reason"].get<std::string>().find("total") != std::string::npos);
  // Again on the same state: it resumes at the end, and nothing is read twice.
  const auto second = run(accepted);
  CHECK(second.lines == 0);
  CHECK(accepted == 0);
}
