// Sliding and session windows: windows that follow each key's records. A real engine with real
// RocksDB; every expected value is worked out by hand from the events each test lists.

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/state/store.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::TempDir;

namespace {

std::string Sale(const std::string& id, const std::string& store, const std::string& hhmm,
                 const std::string& total) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"2025-03-14T{}:00Z","source":"file","currency":"USD","total":"{}","status":"completed"}})",
      id, store, hhmm, total);
}

constexpr const char* kRule = R"(
rule report on recent
  when tx >= 1
  emit alert to "ops" message "{store} {tx} {revenue:money}"
)";

struct Seen {
  std::string start, end;  // HH:MM on 2025-03-14
  std::string message;
  size_t after;  // input lines pushed before it came
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << s.start << "-" << s.end << " " << s.message << " after " << s.after;
}

std::string Clock(int64_t t) { return aisle::dsl::FormatTimestamp(t).substr(11, 5); }

std::vector<Seen> Emitted(const aisle::testing::RunResult& r) {
  std::vector<Seen> out;
  for (size_t i = 0; i < r.emissions.size(); ++i) {
    const auto& e = r.emissions[i];
    CHECK_FALSE(e.correction);
    out.push_back({Clock(e.window->first), Clock(e.window->second), e.message, r.emitted_after[i]});
  }
  return out;
}

// Runs `lines` whole, then split in two runs over one data folder after every line, and checks
// that every split gives what the whole run gave.
void CheckSplits(const TempDir& dir, const std::string& rules, const std::vector<std::string>& lines,
                 const std::vector<Seen>& whole) {
  for (size_t split = 0; split <= lines.size(); ++split) {
    INFO("split after line " << split);
    auto state = dir / fmt::format("split{}", split);
    auto first = RunLines(rules, state, {lines.begin(), lines.begin() + static_cast<long>(split)}, false);
    auto second = RunLines(rules, state, {lines.begin() + static_cast<long>(split), lines.end()}, true);
    REQUIRE(first.error.empty());
    REQUIRE(second.error.empty());
    std::vector<Seen> both = Emitted(first);
    for (Seen s : Emitted(second)) {
      s.after += split;
      both.push_back(s);
    }
    CHECK(both == whole);
  }
}

const std::vector<std::string> kSlidingLines = {
    Sale("a", "S1", "10:00", "1.00"),   // S1 watermark 09:50
    Sale("b", "S1", "10:12", "2.00"),   // 10:02: fires 10:00
    Sale("c", "S1", "10:05", "4.00"),   // out of order, inside the delay
    Sale("d", "S2", "10:30", "8.00"),   // S2 at 10:20; S1 unmoved
    Sale("e", "S1", "10:20", "16.00"),  // 10:10: fires 10:05
    Sale("f", "S1", "10:01", "32.00"),  // older than 10:10: late
    Sale("g", "S2", "10:45", "1.00"),   // S2 at 10:35: fires 10:30
};

const std::vector<std::string> kSessionLines = {
    Sale("a", "S1", "10:00", "1.00"),   // watermark 09:30
    Sale("b", "S1", "10:15", "2.00"),   // 15m after a: one session
    Sale("c", "S1", "10:35", "4.00"),   // exactly the gap after b: a new session
    Sale("d", "S1", "11:10", "8.00"),   // 10:40: [10:00, 10:35) fires
    Sale("e", "S1", "11:40", "16.00"),  // 11:10: [10:35, 10:55) fires; 11:10 and 11:40 apart
    Sale("f", "S1", "11:25", "32.00"),  // 15m from each: joins them
    Sale("g", "S1", "10:50", "64.00"),  // older than 11:10: late
    Sale("h", "S1", "12:40", "1.00"),   // 12:10: [11:10, 12:00) fires
};

}  // namespace

TEST_CASE("a sliding window aggregates each record's last 30 minutes", "[engine][sliding]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string(R"(stream sale

metric recent = sale
  | key store
  | window sliding 30m
  | agg revenue = sum(total), tx = count()
)") + kRule);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "10:00", "10.00"), Sale("b", "S1", "10:20", "5.00"),
                     Sale("c", "S1", "10:40", "1.00"), Sale("d", "S1", "10:40", "2.00"),
                     Sale("e", "S1", "11:15", "100.00")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // Each window is (t - 30m, t], fired once the watermark passes t; c and d share one.
  CHECK(Emitted(r) == std::vector<Seen>{
                          {"09:30", "10:00", "S1 1 10.00 USD", 2},
                          {"09:50", "10:20", "S1 2 15.00 USD", 3},
                          {"10:10", "10:40", "S1 3 8.00 USD", 5},
                          {"10:45", "11:15", "S1 1 100.00 USD", 6},
                      });
  CHECK(r.late.empty());
}

// The windows family of a data folder, every key and value in key order.
std::vector<std::pair<std::string, std::string>> WindowsState(const std::string& data) {
  auto store = aisle::engine::StateStore::Open(data);
  REQUIRE(store.ok());
  std::vector<std::pair<std::string, std::string>> out;
  auto s = (*store)->Scan(aisle::engine::Family::kWindows, {}, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  REQUIRE(s.ok());
  return out;
}

TEST_CASE("a sliding window saves the same records whenever the engine restarted", "[engine][sliding][restart]") {
  // Records no window still to come can hold are dropped once per window length of event time,
  // and at once after a restart; what is saved must not show when that happened.
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string(R"(stream sale

metric recent = sale
  | key store
  | window sliding 30m
  | agg revenue = sum(total), tx = count()
)") + kRule);
  // Sales a few minutes apart, so that the drops after a restart fall out of step with those of
  // one run, and some records one run keeps at the end the other has dropped.
  std::vector<std::string> lines;
  int minute = 0;
  for (int gap : {7, 6, 9, 7, 2, 7, 7, 6, 7, 11, 4, 8, 13, 5, 9, 6, 7, 3, 12, 8}) {
    minute += gap;
    lines.push_back(Sale(fmt::format("s{}", minute), "S1",
                         fmt::format("{:02}:{:02}", 10 + minute / 60, minute % 60), "1.00"));
  }
  REQUIRE(RunLines(rules, dir / "whole", lines, /*final=*/false).error.empty());
  const auto whole = WindowsState(dir / "whole");
  for (size_t split = 1; split < lines.size(); ++split) {
    INFO("restart after line " << split);
    auto state = dir / fmt::format("split{}", split);
    REQUIRE(RunLines(rules, state, {lines.begin(), lines.begin() + static_cast<long>(split)}, false).error.empty());
    REQUIRE(RunLines(rules, state, {lines.begin() + static_cast<long>(split), lines.end()}, false).error.empty());
    CHECK(WindowsState(state) == whole);
  }
}

TEST_CASE("sliding windows take out-of-order records inside the delay, per store", "[engine][sliding]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string(R"(stream sale delay 10m lateness 1h

metric recent = sale
  | key store
  | window sliding 30m
  | agg revenue = sum(total), tx = count()
)") + kRule);
  auto r = RunLines(rules, dir / "whole", kSlidingLines, /*final=*/true);
  REQUIRE(r.error.empty());
  const std::vector<Seen> expected = {
      {"09:30", "10:00", "S1 1 1.00 USD", 2},
      {"09:35", "10:05", "S1 2 5.00 USD", 5},   // a and c
      {"10:00", "10:30", "S2 1 8.00 USD", 7},
      {"09:42", "10:12", "S1 3 7.00 USD", 8},   // a, c, b
      {"09:50", "10:20", "S1 4 23.00 USD", 8},  // a, c, b, e; f was late
      {"10:15", "10:45", "S2 2 9.00 USD", 8},
  };
  CHECK(Emitted(r) == expected);
  // Sliding windows never correct: lateness does not apply, f is late.
  CHECK(r.late == std::vector<std::string>{"f recent"});
  CheckSplits(dir, rules, kSlidingLines, expected);
}

TEST_CASE("a session window closes a gap after its last record and merges across a bridge", "[engine][session]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string(R"(stream sale delay 30m

metric recent = sale
  | key store
  | window session gap 20m
  | agg revenue = sum(total), tx = count()
)") + kRule);
  auto r = RunLines(rules, dir / "whole", kSessionLines, /*final=*/true);
  REQUIRE(r.error.empty());
  const std::vector<Seen> expected = {
      {"10:00", "10:35", "S1 2 3.00 USD", 4},
      {"10:35", "10:55", "S1 1 4.00 USD", 5},
      {"11:10", "12:00", "S1 3 56.00 USD", 8},  // d, f, e
      {"12:40", "13:00", "S1 1 1.00 USD", 9},
  };
  CHECK(Emitted(r) == expected);
  CHECK(r.late == std::vector<std::string>{"g recent"});
  CheckSplits(dir, rules, kSessionLines, expected);
}

TEST_CASE("session windows keep each key apart in one partition", "[engine][session]") {
  TempDir dir;
  // Keyed by status, not store: one watermark for both keys.
  auto rules = dir.Write("r.aisle", R"(stream sale

metric visits = sale
  | key status
  | window session gap 10m
  | agg n = count()

rule report on visits
  when n >= 1
  emit alert to "ops" message "{status} {n}"
)");
  auto line = [](const std::string& id, const std::string& hhmm, const std::string& status) {
    return fmt::format(
        R"({{"type":"sale","id":"{}","store":"S1","ts":"2025-03-14T{}:00Z","source":"file","currency":"USD","total":"1.00","status":"{}"}})",
        id, hhmm, status);
  };
  auto r = RunLines(rules, dir / "state",
                    {line("a", "10:00", "completed"), line("b", "10:05", "voided"),
                     line("c", "10:09", "completed"), line("d", "10:30", "voided")},
                    /*final=*/true);
  REQUIRE(r.error.empty());
  // completed: 10:00, 10:09 -> [10:00, 10:19); voided: 10:05 -> [10:05, 10:15), then 10:30.
  // At d (watermark 10:30) both close, the earlier end first.
  CHECK(Emitted(r) == std::vector<Seen>{
                          {"10:05", "10:15", "voided 1", 4},
                          {"10:00", "10:19", "completed 2", 4},
                          {"10:30", "10:40", "voided 1", 5},
                      });
}
