// staffing(...) in a rule through a real engine and RocksDB: the hand-derived plan of a periodic
// store, planned at the end of each store's local opening hours; the same emissions on one shard
// and three, and across a restart.

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "connectors/ndjson/event_parser.hpp"
#include "dsl/time.hpp"
#include "engine/engine.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::dsl::FormatTimestamp;
using aisle::dsl::kMicrosPerDay;
using aisle::dsl::kMicrosPerHour;
using aisle::testing::RunLines;
using aisle::testing::RunSplit;
using aisle::testing::Sale;
using aisle::testing::TempDir;
namespace engine = aisle::engine;

namespace {

constexpr const char* kRules = R"(
table stores from "stores.csv" key store

metric hourly_tx = sale | key store | window tumbling 1h | agg tx = count()

rule staff_plan on hourly_tx
  let plan = staffing(tx, tx_per_staff_hour = 2, open = 8h, close = 16h)
  when not is_null(plan)
  emit task to "store-managers"
    with schedule_csv = plan.csv
    message "{store}: {plan} staff-hours on {plan.date}: {plan.shifts}"
)";

// S1 keeps UTC; S2 is in Tokyo (UTC+9 all year); S3 is not in the table (UTC).
constexpr const char* kStores =
    "store,name,timezone\n"
    "S1,Harbor St,UTC\n"
    "S2,Ginza,Asia/Tokyo\n";

// 2025-03-03, a Monday, 00:00 UTC.
const int64_t kMonday = aisle::dsl::DaysFromCivil(2025, 3, 3) * kMicrosPerDay;

// Sales per local hour: 3 at 08..11 (3 / 2 = 1.5: 2 people), 5 at 12..15 (2.5: 3 people), none
// otherwise. Need 2,2,2,2,3,3,3,3 from 08:00 to 16:00: at least 20 staff-hours; the fewest
// shifts for 20 is two 08:00-16:00 and one 12:00-16:00 (two people start at 08:00 without
// surplus, three must stay until 16:00, and the third can start neither before 12:00, which would
// overstaff 08..11, nor after, which would understaff 12:00): 8 + 8 + 4 = 20.
int SalesAt(int hour) { return hour >= 8 && hour < 12 ? 3 : hour >= 12 && hour < 16 ? 5 : 0; }

// 14 local days of each store's sales, in time order.
std::vector<std::string> Lines() {
  std::vector<std::pair<int64_t, std::string>> sales;
  const std::map<std::string, int64_t> offsets = {{"S1", 0}, {"S2", 9 * kMicrosPerHour}, {"S3", 0}};
  for (const auto& [store, offset] : offsets)
    for (int64_t day = 0; day < 14; ++day)
      for (int hour = 0; hour < 24; ++hour)
        for (int k = 0; k < SalesAt(hour); ++k) {
          const int64_t ts = kMonday + day * kMicrosPerDay + hour * kMicrosPerHour - offset +
                             (k + 1) * 7 * aisle::dsl::kMicrosPerMinute;
          sales.emplace_back(ts, Sale(fmt::format("{}-{}-{}-{}", store, day, hour, k), store,
                                      FormatTimestamp(ts), "4.00"));
        }
  std::stable_sort(sales.begin(), sales.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  for (auto& s : sales) lines.push_back(std::move(s.second));
  return lines;
}

class JsonSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission& e) override { lines.push_back(engine::ToJson(e)); }
  bool Flush(std::string&) override { return true; }
  std::vector<std::string> lines;
};

// Emissions (JSON, sorted: shards interleave stores) on `shards` shards.
std::vector<std::string> RunSharded(const TempDir& dir, const std::string& rules,
                                    const std::string& data, int shards) {
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules};
  options.data_dir = data;
  options.tables_dir = dir / "tables";
  options.shards = shards;
  auto opened = engine::Engine::Open(options, registry);
  REQUIRE(opened);
  JsonSink sink;
  (*opened)->AddSink(&sink);
  aisle::connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  for (const auto& line : Lines()) {
    REQUIRE(parser.Parse(line, event, reason));
    (*opened)->Push(event);
  }
  REQUIRE((*opened)->Finish(true).ok());
  CHECK((*opened)->shards() == shards);
  std::sort(sink.lines.begin(), sink.lines.end());
  return sink.lines;
}

}  // namespace

TEST_CASE("staffing in a rule plans each store's next local day", "[engine][stateful][staffing]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  const std::string rules = dir.Write("r.aisle", kRules);
  auto r = RunLines(rules, dir / "state", Lines(), /*final=*/true, dir / "tables");
  INFO(r.error);
  REQUIRE(r.error.empty());
  std::map<std::string, std::vector<const engine::Emission*>> by_store;
  for (const auto& e : r.emissions) by_store[e.store].push_back(&e);
  // Two days of hours before the first plan (48 from 08:00 on day 0): local days 2..13 plan.
  REQUIRE(by_store.size() == 3);
  for (const auto& [store, emissions] : by_store) {
    INFO(store);
    REQUIRE(emissions.size() == 12);
    CHECK(emissions.front()->message ==
          store + ": 20 staff-hours on 2025-03-06: 08:00-16:00 x2, 12:00-16:00 x1");
    CHECK(emissions.back()->message ==
          store + ": 20 staff-hours on 2025-03-17: 08:00-16:00 x2, 12:00-16:00 x1");
    // The last opening hour's window, 15:00-16:00 local on Sunday the 16th.
    const int64_t offset = store == "S2" ? 9 * kMicrosPerHour : 0;
    REQUIRE(emissions.back()->window);
    CHECK(FormatTimestamp(emissions.back()->window->first) ==
          FormatTimestamp(kMonday + 13 * kMicrosPerDay + 15 * kMicrosPerHour - offset));
    const std::string json = engine::ToJson(*emissions.back());
    CHECK(json.find(R"("schedule_csv":"date,start,end,staff\r\n2025-03-17,08:00,16:00,2\r\n)"
                    R"(2025-03-17,12:00,16:00,1\r\n")") != std::string::npos);
  }
  // Tokyo's 15:00 is 06:00 UTC.
  CHECK(FormatTimestamp(by_store["S2"].back()->window->first) == "2025-03-16T06:00:00Z");
}

TEST_CASE("staffing gives the same emissions on one shard and three",
          "[engine][stateful][staffing][thread]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  const std::string rules = dir.Write("r.aisle", kRules);
  const auto one = RunSharded(dir, rules, dir / "one", 1);
  CHECK(one.size() == 36);
  CHECK(RunSharded(dir, rules, dir / "three", 3) == one);
}

TEST_CASE("staffing state survives restarts", "[engine][stateful][staffing]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  const std::string rules = dir.Write("r.aisle", kRules);
  const auto lines = Lines();
  auto whole = RunLines(rules, dir / "whole", lines, true, dir / "tables");
  REQUIRE(whole.error.empty());
  REQUIRE(whole.emissions.size() == 36);
  for (size_t split : {lines.size() / 3, lines.size() / 2 + 11}) {
    INFO("split: " << split);
    auto parts = RunSplit(rules, dir / ("split" + std::to_string(split)), lines, split,
                          dir / "tables");
    REQUIRE(parts.error.empty());
    REQUIRE(parts.emissions.size() == whole.emissions.size());
    for (size_t i = 0; i < parts.emissions.size(); ++i)
      CHECK(engine::ToJson(parts.emissions[i]) == engine::ToJson(whole.emissions[i]));
  }
}
