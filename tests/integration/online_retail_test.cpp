// The Online Retail example end to end: the converter program on a committed slice of the UCI
// data set (tests/data/online_retail/), checked against figures this file computes with its own
// CSV pass (gzip -dc, its own field splitter and decimal parser: none of the converter's code),
// then `aisle replay` over the converted events.

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

using aisle::testing::ReadFile;
using aisle::testing::TempDir;

namespace {

const std::string kSlice = std::string(AISLE_SOURCE_DIR) + "/tests/data/online_retail/slice.csv.gz";

int Run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Gunzip(const std::string& path) {
  std::string text;
  FILE* pipe = ::popen(fmt::format("gzip -dc '{}'", path).c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  REQUIRE(::pclose(pipe) == 0);
  return text;
}

// Fields of one CSV line with double-quoted fields ("" inside is a quote); the slice has no
// line breaks inside quotes.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) fields.emplace_back();
    else fields.back() += c;
  }
  return fields;
}

// "2.55" -> 25500, "-11062.06" -> -110620600, "0.001" -> 10: 1/10,000 units, at most 4 decimals.
int64_t Units(const std::string& text) {
  const bool negative = !text.empty() && text[0] == '-';
  const std::string body = negative ? text.substr(1) : text;
  const size_t dot = body.find('.');
  std::string whole = body.substr(0, dot), frac = dot == std::string::npos ? "" : body.substr(dot + 1);
  REQUIRE(frac.size() <= 4);
  frac.resize(4, '0');
  const int64_t v = std::stoll(whole.empty() ? "0" : whole) * 10'000 + std::stoll(frac);
  return negative ? -v : v;
}

struct Figures {
  int64_t rows = 0, total = 0;
  std::set<std::string> sales, refunds;
};

Figures FromCsv(const std::string& text) {
  Figures f;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto fields = SplitCsv(line);
    REQUIRE(fields.size() == 8);
    ++f.rows;
    (fields[0][0] == 'C' ? f.refunds : f.sales).insert(fields[0]);
    f.total += std::stoll(fields[3]) * Units(fields[5]);
  }
  return f;
}

std::vector<nlohmann::json> ReadNdjson(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string Convert(const std::string& input, const std::string& out_dir, const TempDir& dir) {
  const std::string err = dir / "convert.err";
  REQUIRE(Run(fmt::format("'{}' '{}' '{}' >'{}' 2>'{}'", ONLINE_RETAIL_CONVERT, input, out_dir,
                          dir / "convert.out", err)) == 0);
  return ReadFile(dir / "convert.out") + ReadFile(err);
}

}  // namespace

TEST_CASE("the online retail converter keeps every invoice and the exact total of the slice",
          "[cli][online_retail]") {
  const Figures csv = FromCsv(Gunzip(kSlice));
  // The slice: 1,702 lines of four stretches of the file (see tests/data/README.md).
  REQUIRE(csv.rows == 1702);
  REQUIRE(csv.sales.size() + csv.refunds.size() == 109);

  TempDir dir;
  Convert(kSlice, dir / "out", dir);
  const auto events = ReadNdjson(dir / "out/events.ndjson");
  std::map<std::string, int64_t> by_type;
  std::set<std::string> ids;
  int64_t line_total = 0, sales_total = 0, refunded = 0, last_ts = 0;
  std::map<std::string, std::string> ts_of;
  for (const auto& e : events) {
    ++by_type[e["type"]];
    ids.insert(e["id"].get<std::string>());
    CHECK(e["store"] == "uk-online");
    CHECK(e["currency"] == "GBP");
    const std::string ts = e["ts"];
    const int64_t minute = std::stoll(ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2) +
                                      ts.substr(11, 2) + ts.substr(14, 2));
    CHECK(minute >= last_ts);  // time-ordered, so no window of a replay sees a late event
    last_ts = minute;
    if (e["type"] == "line_item") line_total += e["qty"].get<int64_t>() * Units(e["price"]);
    if (e["type"] == "sale") sales_total += Units(e["total"]), ts_of[e["order"]] = ts;
    if (e["type"] == "refund") refunded += Units(e["amount"]);
  }
  CHECK(ids.size() == events.size());  // ids are unique, so replay drops no line as a duplicate
  CHECK(by_type["sale"] == static_cast<int64_t>(csv.sales.size()));
  CHECK(by_type["refund"] == static_cast<int64_t>(csv.refunds.size()));
  CHECK(by_type["line_item"] == csv.rows);
  CHECK(line_total == csv.total);
  CHECK(sales_total - refunded == csv.total);
  // The slice holds a price of 0.001 GBP (invoice 550193): the total has a third decimal.
  CHECK(csv.total % 100 != 0);

  // Invoice 536365, the file's first: 6 x 2.55 + 6 x 3.39 + 8 x 2.75 + 6 x 3.39 + 6 x 3.39 +
  // 2 x 7.65 + 6 x 4.25 = 15.30 + 20.34 + 22.00 + 20.34 + 20.34 + 15.30 + 25.50 = 139.12, at
  // 08:26 GMT (UTC in December). Invoice 550193, 2011-04-15 09:27 British Summer Time (from
  // 27 March 2011), is 08:27 UTC; invoice 573416, 2011-10-31 08:29, is GMT again (from 30 October): 08:29 UTC.
  CHECK(ts_of["536365"] == "2010-12-01T08:26:00Z");
  CHECK(ts_of["550193"] == "2011-04-15T08:27:00Z");
  CHECK(ts_of["573416"] == "2011-10-31T08:29:00Z");
  for (const auto& e : events)
    if (e["type"] == "sale" && e["order"] == "536365") CHECK(e["total"] == "139.12");

  // The same input gives the same bytes.
  Convert(kSlice, dir / "again", dir);
  CHECK(ReadFile(dir / "again/events.ndjson") == ReadFile(dir / "out/events.ndjson"));
  CHECK(ReadFile(dir / "out/stores.csv").find("uk-online,") != std::string::npos);
  CHECK(ReadFile(dir / "out/stores.csv").find("Europe/London") != std::string::npos);
}

TEST_CASE("aisle replay of the converted slice reproduces the exact total", "[cli][online_retail]") {
  const Figures csv = FromCsv(Gunzip(kSlice));
  TempDir dir;
  Convert(kSlice, dir / "out", dir);
  // One tumbling window of 3650 days holds the whole slice: windows are aligned to the epoch,
  // and 3650 x 4 = 14600 days after 1970-01-01 is 2009-12-22 (2010-01-01 is day 14610), the next
  // boundary in 2019. The sum is exact money; divided by 0.0001 GBP it is the count of
  // 1/10,000 GBP as a whole decimal (exact in a double below 2^53), printed without decimals.
  dir.Write("rules/total.aisle",
            "metric everything = line_item\n"
            "  | key store\n"
            "  | window tumbling 3650d\n"
            "  | agg revenue = sum(price * qty), lines = count()\n"
            "\n"
            "rule total on everything\n"
            "  let units = revenue / 0.0001 GBP\n"
            "  when true\n"
            "  emit task to \"test\" message \"{units:.0f} units in {lines} lines\"\n");
  for (int shards : {1, 3}) {
    const std::string out = dir / fmt::format("total{}.jsonl", shards);
    REQUIRE(Run(fmt::format("'{}' replay --rules '{}' --events '{}' --data '{}' --out '{}' "
                            "--shards {} --final --quiet >'{}' 2>&1",
                            AISLE_BINARY, dir / "rules", dir / "out/events.ndjson",
                            dir / fmt::format("data{}", shards), out, shards,
                            dir / "replay.txt")) == 0);
    INFO(ReadFile(dir / "replay.txt"));
    CHECK(ReadFile(dir / "replay.txt").find(" 0 rejected, 0 late") != std::string::npos);
    const auto emissions = ReadNdjson(out);
    REQUIRE(emissions.size() == 1);
    CHECK(emissions[0]["message"] == fmt::format("{} units in {} lines", csv.total, csv.rows));
  }
}

TEST_CASE("the online retail example rules run over the converted slice", "[cli][online_retail]") {
  TempDir dir;
  Convert(kSlice, dir / "out", dir);
  const std::string rules = std::string(AISLE_SOURCE_DIR) + "/examples/online_retail/rules";
  REQUIRE(Run(fmt::format("'{}' check '{}' --tables '{}' >/dev/null 2>&1", AISLE_BINARY, rules,
                          dir / "out")) == 0);
  REQUIRE(Run(fmt::format("'{}' replay --rules '{}' --tables '{}' --events '{}' --out '{}' --final "
                          "--quiet >'{}' 2>&1",
                          AISLE_BINARY, rules, dir / "out", dir / "out/events.ndjson",
                          dir / "em.jsonl", dir / "replay.txt")) == 0);
  const std::string report = ReadFile(dir / "replay.txt");
  INFO(report);
  // Every converted event is a valid canonical event: 1,702 line items and 109 invoices.
  CHECK(report.find("replayed 1811 lines: 1811 events accepted, 0 duplicates, 0 rejected, 0 late") !=
        std::string::npos);
}

TEST_CASE("the online retail converter reports a bad row by its line and converts the rest",
          "[cli][online_retail]") {
  TempDir dir;
  // Line 1 is the header. Line 3's Quantity is not a number, line 5 has no StockCode, line 7
  // opens a quote that never closes. Lines 2, 4 and 6 convert: 2 x 1.25 + 3 x 0.85 (invoice
  // 536900) and a cancellation of 1 x 4.95 with a quoted description holding a comma and a quote.
  const std::string input = dir.Write(
      "bad.csv",
      "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
      "536900,22633,HAND WARMER UNION JACK,2,2010-12-01 10:00:00,1.25,17850.0,United Kingdom\n"
      "536900,22632,HAND WARMER RED POLKA DOT,x2,2010-12-01 10:00:00,1.85,17850.0,United Kingdom\n"
      "536900,84029E,RED WOOLLY HOTTIE WHITE HEART.,3,2010-12-01 10:00:00,0.85,17850.0,United Kingdom\n"
      "536901,,NO CODE,1,2010-12-01 10:05:00,2.00,,France\n"
      "C536902,21730,\"GLASS STAR, \"\"FROSTED\"\"\",-1,2010-12-01 10:10:00,4.95,12583.0,France\n"
      "536903,22111,\"BROKEN,1,2010-12-01 10:20:00,1.00,,United Kingdom\n");
  const std::string output = Convert(input, dir / "out", dir);
  INFO(output);
  CHECK(output.find("line 3: Quantity \"x2\"") != std::string::npos);
  CHECK(output.find("line 5: empty StockCode") != std::string::npos);
  CHECK(output.find("line 7: unterminated quote") != std::string::npos);
  CHECK(output.find("read 6 lines (3 bad): 2 invoices (1 sales, 1 refunds), 3 line items") !=
        std::string::npos);
  const auto events = ReadNdjson(dir / "out/events.ndjson");
  REQUIRE(events.size() == 5);  // sale + 2 line items, refund + 1 line item
  CHECK(events[0]["type"] == "sale");
  CHECK(events[0]["total"] == "5.05");  // 2.50 + 2.55
  CHECK(events[0]["units"] == 5);
  CHECK(events[3]["type"] == "refund");
  CHECK(events[3]["amount"] == "4.95");
  CHECK(events[4]["product"] == "GLASS STAR, \"FROSTED\"");
  CHECK(events[4]["qty"] == -1);
}

TEST_CASE("the online retail converter maps London time to UTC across both clock changes",
          "[cli][online_retail]") {
  // UK summer time in 2011 ran from 01:00 UTC on Sunday 27 March (local 01:00 -> 02:00) to
  // 01:00 UTC on Sunday 30 October (local 02:00 BST -> 01:00 GMT). Local 01:30 on 27 March does
  // not exist: it takes the instant of the change, 01:00 UTC. Local 01:30 on 30 October happens
  // twice (00:30 UTC in BST, 01:30 UTC in GMT): it takes the earlier.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2011-03-27 00:59:00", "2011-03-27T00:59:00Z"},  // GMT
      {"2011-03-27 01:30:00", "2011-03-27T01:00:00Z"},  // skipped
      {"2011-03-27 02:00:00", "2011-03-27T01:00:00Z"},  // BST
      {"2011-10-30 00:59:00", "2011-10-29T23:59:00Z"},  // BST
      {"2011-10-30 01:30:00", "2011-10-30T00:30:00Z"},  // repeated: the first
      {"2011-10-30 02:00:00", "2011-10-30T02:00:00Z"},  // GMT
  };
  std::string csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
  for (size_t i = 0; i < cases.size(); ++i)
    csv += fmt::format("{},22423,REGENCY CAKESTAND 3 TIER,1,{},12.75,,United Kingdom\n", 600000 + i,
                       cases[i].first);
  TempDir dir;
  Convert(dir.Write("dst.csv", csv), dir / "out", dir);
  std::map<std::string, std::string> ts_of;
  for (const auto& e : ReadNdjson(dir / "out/events.ndjson"))
    if (e["type"] == "sale") ts_of[e["order"]] = e["ts"];
  REQUIRE(ts_of.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].first);
    CHECK(ts_of[std::to_string(600000 + i)] == cases[i].second);
  }
}
