// The `segments` stage through a real engine and RocksDB: customers drawn from three well separated
// groups of known purchases are found again by k 3, with profile figures worked out by hand; per
// customer membership; 1 shard and 3; restarts; shuffled input; fewer customers than k; a second
// currency.

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::RunParts;
using aisle::testing::RunResult;
using aisle::testing::RunSplit;
using aisle::testing::TempDir;
namespace engine = aisle::engine;

namespace {

// A completed sale of `total` by `customer` at `ts`, through `channel`.
std::string Sale(const std::string& store, const std::string& customer, int n,
                 const std::string& ts, const std::string& total,
                 const std::string& channel = "pos", const std::string& currency = "USD") {
  return fmt::format(
      R"({{"type":"sale","id":"{}-{}-{}","store":"{}","ts":"{}","source":"file","currency":"{}","order":"{}-{}","total":"{}","customer":"{}","channel":"{}","status":"completed"}})",
      store, customer, n, store, ts, currency, customer, n, total, customer, channel);
}

// The window: 90-day tumbling windows are aligned to the epoch; day 20070 (2024-12-13) is 223 * 90,
// so the window [2024-12-13, 2025-03-13) holds every sale below, and as_of = 2025-03-13T00:00Z.
constexpr int64_t kWindowStart = 20070LL * 86400 * 1000000;

// Three groups of 30 customers at `store`, customer i = 0 .. 29 of each:
//   a_i: 20 sales of 500 + i (whole units), online, one a day 2025-02-21 .. 2025-03-12, at noon:
//        last sale 2025-03-12T12:00, recency 0.5 days; spend 20 * (500 + i)
//   b_i: 8 sales of 100 + i, in store, 2025-02-03 .. 2025-02-10 at noon: recency 30.5 days;
//        spend 8 * (100 + i)
//   c_i: 2 sales of 20 + i / 10, in store, 2024-12-15 and 2024-12-16 at noon: recency 86.5 days;
//        spend 2 * (20 + i / 10)
// The groups are far apart in every feature (recency 0.5 / 30.5 / 86.5, frequency 20 / 8 / 2,
// spend about 10,000 / 900 / 43) and tight within, so k-means with k 3 finds them.
std::vector<std::string> Customers(const std::string& store) {
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) {
    const std::string a = fmt::format("a{:02}", i), b = fmt::format("b{:02}", i),
                      c = fmt::format("c{:02}", i);
    for (int d = 0; d < 20; ++d) {
      // 2025-02-21 + d: February has 28 days.
      const int day = 21 + d;
      const std::string ts = day <= 28 ? fmt::format("2025-02-{:02}T12:00:00Z", day)
                                       : fmt::format("2025-03-{:02}T12:00:00Z", day - 28);
      lines.push_back(Sale(store, a, d, ts, fmt::format("{}.00", 500 + i), "online"));
    }
    for (int d = 0; d < 8; ++d)
      lines.push_back(Sale(store, b, d, fmt::format("2025-02-{:02}T12:00:00Z", 3 + d),
                           fmt::format("{}.00", 100 + i)));
    for (int d = 0; d < 2; ++d)
      lines.push_back(Sale(store, c, d, fmt::format("2024-12-{:02}T12:00:00Z", 15 + d),
                           fmt::format("{}.{}0", 20 + i / 10, i % 10)));
  }
  return lines;
}

std::string SegmentRules(const std::string& stage) {
  return fmt::format(R"(
metric customer_segments = sale
  | key store
  | window tumbling 90d
  | {}

rule report on customer_segments
  when customers >= 1
  emit task to "marketing" message "{{store}} #{{segment}} {{label}}: {{customers}} customers, r={{recency_days:.1f}} f={{frequency:.1f}} m={{monetary:money}} total={{total_spend:money}} share={{share}} top={{top_category}}"
)",
                     stage);
}

std::string CustomerRules(const std::string& stage) {
  return fmt::format(R"(
metric customer_segments = sale
  | key store
  | window tumbling 90d
  | {}

rule each on customer_segments
  when segment >= 0
  emit task to "marketing" message "{{store}} {{customer}} #{{segment}} r={{recency_days:.1f}} f={{frequency}} m={{monetary:money}}"
)",
                     stage);
}

std::vector<std::string> Messages(const RunResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.emissions) out.push_back(e.message);
  return out;
}

// Each store's messages in order: shards interleave stores.
std::map<std::string, std::vector<std::string>> ByStore(const std::vector<std::string>& messages) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& m : messages) out[m.substr(0, 2)].push_back(m);
  return out;
}

// Runs with `shards` shards (the harness runs one).
RunResult RunSharded(const std::string& rules, const std::string& data,
                     const std::vector<std::string>& lines, int shards) {
  RunResult result;
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules};
  options.data_dir = data;
  options.shards = shards;
  auto opened = engine::Engine::Open(options, registry);
  if (!opened) {
    result.error = opened.error().message;
    return result;
  }
  aisle::testing::CollectingSink sink;
  (*opened)->AddSink(&sink);
  aisle::connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  for (const auto& line : lines) {
    if (!parser.Parse(line, event, reason)) {
      result.error = reason;
      return result;
    }
    (*opened)->Push(event);
  }
  aisle::Status s = (*opened)->Finish(true);
  if (!s.ok()) result.error = s.message();
  result.emissions = std::move(sink.emissions);
  return result;
}

// The profiles of the three groups, segments by descending mean monetary:
//   a: 30 customers; recency 0.5; frequency 20; total 20 * (30 * 500 + (0 + ... + 29)) =
//      20 * 15,435 = 308,700.00; mean 10,290.00; all online.
//   b: 30; recency 30.5; frequency 8; total 8 * (3,000 + 435) = 27,480.00; mean 916.00; pos.
//   c: 30; recency 86.5; frequency 2; total 2 * (600 + 43.5) = 1,287.00; mean 42.90; pos.
// Share: 30 / 90 = 33.3%. Labels from the centroids in z-scores (population sd over the 90):
//   recency 0.5 / 30.5 / 86.5: mean 39.17, sd 35.64, z -1.08 / -0.24 / 1.33;
//   log(1 + frequency) 3.04 / 2.20 / 1.10: mean 2.11, sd 0.80, z 1.17 / 0.11 / -1.27;
//   log(1 + monetary) about 9.24 / 6.82 / 3.78: mean 6.61, sd 2.23, z 1.18 / 0.09 / -1.27.
// With the threshold 0.5: a is "high value, frequent, recent", b "mid value", c "low value,
// infrequent, lapsed".
const std::vector<std::string> kS1Profiles = {
    "S1 #0 high value, frequent, recent: 30 customers, r=0.5 f=20.0 m=10290.00 USD total=308700.00 "
    "USD "
    "share=33.3% top=online",
    "S1 #1 mid value: 30 customers, r=30.5 f=8.0 m=916.00 USD total=27480.00 USD share=33.3% "
    "top=pos",
    "S1 #2 low value, infrequent, lapsed: 30 customers, r=86.5 f=2.0 m=42.90 USD total=1287.00 USD "
    "share=33.3% top=pos",
};

}  // namespace

TEST_CASE("segments k 3 finds three known groups of customers with their profiles",
          "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer spend total k 3 mix channel"));
  auto r = RunLines(rules, dir / "state", Customers("S1"), /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == kS1Profiles);
  REQUIRE(r.emissions.size() == 3);
  CHECK(r.emissions[0].key ==
        std::vector<std::pair<std::string, std::string>>{{"store", "\"S1\""}});
  CHECK(r.emissions[0].window->first == kWindowStart);
  // One id per segment record.
  CHECK(r.emissions[0].id != r.emissions[1].id);
  CHECK(r.emissions[1].id != r.emissions[2].id);
}

TEST_CASE("segments per customer puts each known group in one segment", "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", CustomerRules("segments customer k 3 per customer"));
  auto r = RunLines(rules, dir / "state", Customers("S1"), true);
  REQUIRE(r.error.empty());
  REQUIRE(r.emissions.size() == 90);
  // The partition, exactly: every a_i in segment 0, b_i in 1, c_i in 2 (the order of the mean
  // monetary values above).
  std::map<char, std::set<std::string>> segments_of_group;
  for (const auto& m : Messages(r)) {
    const auto hash = m.find('#');
    segments_of_group[m[3]].insert(m.substr(hash, 2));
  }
  CHECK(segments_of_group ==
        std::map<char, std::set<std::string>>{{'a', {"#0"}}, {'b', {"#1"}}, {'c', {"#2"}}});
  // Customers come in id order: a00 first. a07: 20 sales of 507.00 = 10,140.00; b29: 8 of
  // 129.00 = 1,032.00; c15: 2 of 21.50 = 43.00.
  const std::vector<std::string> messages = Messages(r);
  CHECK(messages[0] == "S1 a00 #0 r=0.5 f=20 m=10000.00 USD");
  CHECK(messages[7] == "S1 a07 #0 r=0.5 f=20 m=10140.00 USD");
  CHECK(messages[59] == "S1 b29 #1 r=30.5 f=8 m=1032.00 USD");
  CHECK(messages[75] == "S1 c15 #2 r=86.5 f=2 m=43.00 USD");
}

TEST_CASE("segments gives the same output for input in any order", "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer k 3 mix channel"));
  std::vector<std::string> lines = Customers("S1");
  std::mt19937 random(20251130);
  for (int round = 0; round < 2; ++round) {
    std::shuffle(lines.begin(), lines.end(), random);
    auto r = RunLines(rules, dir / fmt::format("state{}", round), lines, true);
    REQUIRE(r.error.empty());
    CHECK(Messages(r) == kS1Profiles);
  }
}

TEST_CASE("segments state survives restarts: split runs equal one run", "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer k 3 mix channel"));
  std::vector<std::string> lines = Customers("S1");
  for (const auto& l : Customers("S2")) lines.push_back(l);
  auto whole = RunLines(rules, dir / "one", lines, true);
  REQUIRE(whole.error.empty());
  REQUIRE(whole.emissions.size() == 6);
  for (size_t split : {size_t{1}, size_t{450}, size_t{1000}}) {
    auto parts = RunSplit(rules, dir / ("split" + std::to_string(split)), lines, split);
    REQUIRE(parts.error.empty());
    CHECK(Messages(parts) == Messages(whole));
  }
  // A checkpoint every 50 events, restarts after lines 300 and 1200.
  auto many = RunParts(rules, dir / "parts", lines, {300, 1200}, 50);
  REQUIRE(many.error.empty());
  CHECK(Messages(many) == Messages(whole));
}

TEST_CASE("segments gives the same output on 1 and 3 shards", "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer k 3 mix channel"));
  std::vector<std::string> lines;
  for (const char* s : {"S1", "S2", "S3", "S4"})
    for (const auto& l : Customers(s)) lines.push_back(l);
  auto one = RunSharded(rules, dir / "one", lines, 1);
  auto three = RunSharded(rules, dir / "three", lines, 3);
  REQUIRE(one.error.empty());
  REQUIRE(three.error.empty());
  CHECK(Messages(one).size() == 12);
  CHECK(ByStore(Messages(one)) == ByStore(Messages(three)));
  CHECK(ByStore(Messages(one))["S1"] == kS1Profiles);
}

TEST_CASE("segments fits fewer segments when a window has fewer distinct customers than k",
          "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer"));
  // S1: x buys 10.00 and y 30.00, both at 2025-03-12T00:00 (recency 1 day): two distinct
  // customers, so 2 segments, not the default 4. Monetary z-scores: log 11 and log 31 around
  // their mean, +-1: y "high value", x "low value"; frequency and recency are the same for both
  // (scale 1, z 0). Segment 0 is y, the higher spend.
  // S2: three customers with the same single 5.00 sale at the same time: one distinct point, one
  // segment, at the center: "mid value".
  std::vector<std::string> lines = {
      Sale("S1", "x", 0, "2025-03-12T00:00:00Z", "10.00"),
      Sale("S1", "y", 0, "2025-03-12T00:00:00Z", "30.00"),
      Sale("S2", "u", 0, "2025-03-12T00:00:00Z", "5.00"),
      Sale("S2", "v", 0, "2025-03-12T00:00:00Z", "5.00"),
      Sale("S2", "w", 0, "2025-03-12T00:00:00Z", "5.00"),
  };
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  CHECK(Messages(r) == std::vector<std::string>{
                           "S1 #0 high value: 1 customers, r=1.0 f=1.0 m=30.00 USD total=30.00 USD "
                           "share=50.0% top=null",
                           "S1 #1 low value: 1 customers, r=1.0 f=1.0 m=10.00 USD total=10.00 USD "
                           "share=50.0% top=null",
                           "S2 #0 mid value: 3 customers, r=1.0 f=1.0 m=5.00 USD total=15.00 USD "
                           "share=100.0% top=null",
                       });
}

TEST_CASE("segments skips guests, null spend and a second currency", "[engine][segments]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", SegmentRules("segments customer"));
  std::vector<std::string> lines = {
      Sale("S1", "x", 0, "2025-03-12T00:00:00Z", "10.00"),
      // The group's first currency is USD: x's EUR sale is not added, neither spend nor purchase.
      Sale("S1", "x", 1, "2025-03-12T06:00:00Z", "99.00", "pos", "EUR"),
      Sale("S1", "y", 0, "2025-03-12T00:00:00Z", "30.00"),
      // A guest (no customer) is no customer.
      R"({"type":"sale","id":"g1","store":"S1","ts":"2025-03-12T00:00:00Z","source":"file","currency":"USD","total":"70.00","status":"completed"})",
  };
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  // As in the test above: x 10.00 and y 30.00, recency 1 day each.
  CHECK(Messages(r) == std::vector<std::string>{
                           "S1 #0 high value: 1 customers, r=1.0 f=1.0 m=30.00 USD total=30.00 USD "
                           "share=50.0% top=null",
                           "S1 #1 low value: 1 customers, r=1.0 f=1.0 m=10.00 USD total=10.00 USD "
                           "share=50.0% top=null",
                       });
}

TEST_CASE("segments in hopping windows fits each window's customers", "[engine][segments]") {
  TempDir dir;
  // Hopping 90d every 45d: windows start at multiples of 45 days. Day 20160 (2025-03-13) is
  // 448 * 45, so [2024-12-13, 2025-03-13) and [2025-01-27, 2025-04-27) both hold 2025-03-12;
  // 2024-12-20 is only in the first (and in the one before it, [2024-10-29, 2025-01-27)).
  auto text = SegmentRules("segments customer k 2");
  text.replace(text.find("tumbling 90d"), 12, "hopping 90d every 45d");
  auto rules = dir.Write("r.aisle", text);
  std::vector<std::string> lines = {
      Sale("S1", "x", 0, "2024-12-20T00:00:00Z", "10.00"),
      Sale("S1", "y", 0, "2025-03-12T00:00:00Z", "30.00"),
  };
  auto r = RunLines(rules, dir / "state", lines, true);
  REQUIRE(r.error.empty());
  // [2024-10-29, 2025-01-27): x alone, one segment at the center, recency 2025-01-27 - 2024-12-20
  // = 38 days. [2024-12-13, 2025-03-13): x and y, recency 83 and 1 days: y "high value, recent",
  // x "low value, lapsed". [2025-01-27, 2025-04-27): y alone, recency 46 days.
  CHECK(Messages(r) ==
        std::vector<std::string>{
            "S1 #0 mid value: 1 customers, r=38.0 f=1.0 m=10.00 USD total=10.00 USD "
            "share=100.0% top=null",
            "S1 #0 high value, recent: 1 customers, r=1.0 f=1.0 m=30.00 USD total=30.00 USD "
            "share=50.0% top=null",
            "S1 #1 low value, lapsed: 1 customers, r=83.0 f=1.0 m=10.00 USD total=10.00 USD "
            "share=50.0% top=null",
            "S1 #0 mid value: 1 customers, r=46.0 f=1.0 m=30.00 USD total=30.00 USD "
            "share=100.0% top=null",
        });
}
