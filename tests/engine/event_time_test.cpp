// Event time per store: watermarks that one late store cannot hold back, corrections inside a
// stream's lateness, late events beyond it, and corrections flowing into metrics built on
// metrics. A real engine with real RocksDB; every expected value is worked out by hand from the
// events each test lists.

#include <map>
#include <tuple>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/events.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::RunLines;
using aisle::testing::Sale;
using aisle::testing::TempDir;

namespace {

constexpr const char* kHourly = R"(
metric hourly = sale
  | key store
  | window tumbling 1h
  | agg revenue = sum(total), tx = count()

rule report on hourly
  when tx >= 1
  emit alert to "ops" message "{store} {tx} {revenue:money}"
)";

struct Seen {
  std::string window;  // start, RFC 3339
  std::string message;
  bool correction;
  size_t after;  // input lines pushed before it came
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> Emitted(const aisle::testing::RunResult& r) {
  std::vector<Seen> out;
  for (size_t i = 0; i < r.emissions.size(); ++i)
    out.push_back({aisle::dsl::FormatTimestamp(r.emissions[i].window->first),
                   r.emissions[i].message, r.emissions[i].correction, r.emitted_after[i]});
  return out;
}

}  // namespace

TEST_CASE("a late event inside the lateness corrects its window, one beyond it is late", "[engine][event-time]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", std::string("stream sale lateness 1h\n") + kHourly);
  auto r = RunLines(rules, dir / "state",
                    {Sale("a", "S1", "2025-03-14T10:10:00Z", "10.00"),
                     Sale("b", "S1", "2025-03-14T11:05:00Z", "1.00"),    // [10,11) fires
                     Sale("c", "S1", "2025-03-14T10:30:00Z", "5.00"),    // corrects [10,11)
                     Sale("d", "S1", "2025-03-14T12:10:00Z", "2.00"),    // [11,12) fires; [10,11) closes
                     Sale("e", "S1", "2025-03-14T10:50:00Z", "100.00"),  // closed 12:00: late
                     Sale("f", "S1", "2025-03-14T11:40:00Z", "3.00")},   // corrects [11,12)
                    /*final=*/true);
  REQUIRE(r.error.empty());
  CHECK(Emitted(r) == std::vector<Seen>{
                          {"2025-03-14T10:00:00Z", "S1 1 10.00 USD", false, 2},
                          {"2025-03-14T10:00:00Z", "S1 2 15.00 USD", true, 3},
                          {"2025-03-14T11:00:00Z", "S1 1 1.00 USD", false, 4},
                          {"2025-03-14T11:00:00Z", "S1 2 4.00 USD", true, 6},
                          {"2025-03-14T12:00:00Z", "S1 1 2.00 USD", false, 7},
                      });
  // A correction has its own id, so a receiver that drops duplicate ids still gets it.
  REQUIRE(r.emissions.size() == 5);
  CHECK(r.emissions[0].id != r.emissions[1].id);
  CHECK(r.late == std::vector<std::string>{"e hourly"});
  CHECK(r.stats.late == 1);
  CHECK(r.stats.corrections == 2);
}

TEST_CASE("a store three hours late holds back no other store and loses nothing inside lateness", "[engine][event-time]") {
  // S1 and S2 stream on time; S3's registers sync three hours late. Every 10 minutes of arrival
  // time from 10:00 to 13:50, S1 and S2 each send a sale stamped with the arrival time and S3 one
  // stamped three hours earlier. Watermarks trail each store's newest event by the 5m delay.
  TempDir dir;
  auto rules =
      dir.Write("r.aisle", std::string("stream sale delay 5m lateness 1h\n") + kHourly);
  struct In {
    std::string id, store;
    int64_t ts;  // minutes after 00:00 on 2025-03-14
    int64_t cents;
  };
  std::vector<In> in;
  int n = 0;
  for (int64_t t = 10 * 60; t < 14 * 60; t += 10) {
    in.push_back({fmt::format("s1-{}", n), "S1", t, 100});
    in.push_back({fmt::format("s2-{}", n), "S2", t, 200});
    in.push_back({fmt::format("s3-{}", n), "S3", t - 180, 300});
    ++n;
    if (t == 12 * 60 + 30) {
      // S3 is at 09:30 (watermark 09:25). Its [8,9) window fired at 09:05 and takes corrections
      // until 10:00: an 08:40 sale corrects it. [7,8) closed at 09:00: a 07:20 sale is late.
      in.push_back({"s3-fix", "S3", 8 * 60 + 40, 3000});
      in.push_back({"s3-late-1", "S3", 7 * 60 + 20, 5000});
    }
    if (t == 13 * 60 + 30) {
      // S3 is at 10:30 (watermark 10:25): [8,9) closed at 10:00, so an 08:15 sale is late.
      in.push_back({"s3-late-2", "S3", 8 * 60 + 15, 7000});
    }
  }
  std::vector<std::string> lines;
  for (const auto& e : in)
    lines.push_back(Sale(e.id, e.store,
                         aisle::dsl::FormatTimestamp(aisle::dsl::ParseTimestamp("2025-03-14T00:00:00Z").value() +
                                                     e.ts * 60'000'000),
                         fmt::format("{}.{:02}", e.cents / 100, e.cents % 100)));
  auto r = RunLines(rules, dir / "state", lines, /*final=*/true);
  REQUIRE(r.error.empty());

  CHECK(r.late == std::vector<std::string>{"s3-late-1 hourly", "s3-late-2 hourly"});
  CHECK(r.stats.late == 2);

  // Each window first fires right after the first event of its own store stamped at or past its
  // end plus the delay; windows still open at the end fire with --final.
  const auto windows = Emitted(r);
  std::map<std::tuple<std::string, std::string>, const Seen*> first, last;
  for (const auto& w : windows) {
    auto store = w.message.substr(0, 2);
    if (!w.correction) {
      CHECK(first.count({store, w.window}) == 0);
      first[{store, w.window}] = &w;
    }
    last[{store, w.window}] = &w;
  }
  auto window_start = [](int64_t minutes) {
    return aisle::dsl::FormatTimestamp(aisle::dsl::ParseTimestamp("2025-03-14T00:00:00Z").value() +
                                       (minutes / 60) * 3'600'000'000LL);
  };
  std::map<std::tuple<std::string, std::string>, int64_t> cents;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].id.starts_with("s3-late")) continue;
    cents[{in[i].store, window_start(in[i].ts)}] += in[i].cents;
  }
  for (const auto& [key, total] : cents) {
    const auto& [store, start] = key;
    INFO(store << " " << start);
    REQUIRE(first.count(key) == 1);
    const int64_t end = (aisle::dsl::ParseTimestamp(start).value() - aisle::dsl::ParseTimestamp("2025-03-14T00:00:00Z").value()) / 60'000'000 + 60;
    size_t expected_after = lines.size() + 1;  // --final
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i].store == store && in[i].ts >= end + 5) {
        expected_after = i + 1;
        break;
      }
    CHECK(first[key]->after == expected_after);
    // The last result of every window holds all of its events that came inside lateness.
    const std::string& msg = last[key]->message;
    CHECK(msg.substr(msg.rfind(' ', msg.size() - 5) + 1) ==
          fmt::format("{}.{:02} USD", total / 100, total % 100));
  }
  CHECK(first.size() == cents.size());
  // The one correction: S3's [8,9) with the 08:40 sale (six 3.00 sales and 30.00).
  std::vector<Seen> corrections;
  for (const auto& w : windows)
    if (w.correction) corrections.push_back(w);
  REQUIRE(corrections.size() == 1);
  CHECK(corrections[0].window == "2025-03-14T08:00:00Z");
  CHECK(corrections[0].message == "S3 7 48.00 USD");
}

TEST_CASE("a corrected window replaces its earlier result in a metric built on it", "[engine][event-time]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
stream sale lateness 2h

metric hourly = sale
  | key store
  | window tumbling 1h
  | agg revenue = sum(total)

metric daily = hourly
  | key store
  | window tumbling 1d
  | agg revenue = sum(revenue), hours = count()

rule day on daily
  when hours >= 1
  emit alert to "ops" message "{store} {hours} {revenue:money}"
)");
  const std::vector<std::string> lines = {
      Sale("a", "S1", "2025-03-14T10:10:00Z", "10.00"),
      Sale("b", "S1", "2025-03-14T11:10:00Z", "20.00"),  // [10,11) fires: 10.00
      Sale("c", "S1", "2025-03-14T10:20:00Z", "5.00"),   // corrects [10,11): 15.00
      Sale("d", "S1", "2025-03-15T00:30:00Z", "1.00"),   // [11,12) fires; so does the 14th
  };
  auto whole = RunLines(rules, dir / "whole", lines, /*final=*/true);
  REQUIRE(whole.error.empty());
  // The 14th holds two hours, 15.00 and 20.00: the correction replaced the 10.00 it corrected.
  std::vector<std::string> got;
  for (const auto& e : whole.emissions) got.push_back(aisle::dsl::FormatTimestamp(e.window->first) + " " + e.message);
  CHECK(got == std::vector<std::string>{"2025-03-14T00:00:00Z S1 2 35.00 USD",
                                        "2025-03-15T00:00:00Z S1 1 1.00 USD"});

  // The same in two runs over one data folder, split after every line: state restores exactly.
  for (size_t split = 1; split < lines.size(); ++split) {
    INFO("split after line " << split);
    auto both = aisle::testing::RunSplit(rules, dir / fmt::format("split{}", split), lines, split);
    REQUIRE(both.error.empty());
    std::vector<std::string> seen;
    for (const auto& e : both.emissions)
      seen.push_back(aisle::dsl::FormatTimestamp(e.window->first) + " " + e.message);
    CHECK(seen == got);
  }
}

namespace {

std::string Refund(const std::string& id, const std::string& order, const std::string& ts,
                   const std::string& amount) {
  return fmt::format(
      R"({{"type":"refund","id":"{}","store":"S1","ts":"{}","source":"file","currency":"USD","order":"{}","refund":"{}","amount":"{}"}})",
      id, ts, order, id, amount);
}

std::string OrderSale(const std::string& id, const std::string& order, const std::string& ts) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"S1","ts":"{}","source":"file","currency":"USD","order":"{}","total":"50.00","status":"completed"}})",
      id, ts, order);
}

}  // namespace

TEST_CASE("refunds attributed to their sale correct the sale's window, others count at their own time", "[engine][event-time]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", R"(
stream refund lateness 1h

metric by_sale = refund
  | key store
  | attribute to sale within 30d
  | window tumbling 1d
  | agg refunded = sum(amount), n = count()

metric by_own = refund
  | key store
  | window tumbling 1d
  | agg refunded = sum(amount), n = count()

rule sale_day on by_sale
  when n >= 1
  emit alert to "ops" message "sale-day {store} {n} {refunded:money}"

rule own_day on by_own
  when n >= 1
  emit alert to "ops" message "own-day {store} {n} {refunded:money}"
)");
  const std::vector<std::string> lines = {
      OrderSale("s1", "o1", "2025-03-10T10:00:00Z"),
      OrderSale("s2", "o2", "2025-03-10T11:00:00Z"),
      // o1's sale day (03-10) has ended for the refund stream: its window opens and fires at once.
      Refund("r1", "o1", "2025-03-11T09:00:00Z", "20.00"),
      Refund("r2", "o9", "2025-03-11T10:00:00Z", "5.00"),  // no such sale: its own day
      // o2 was sold on 03-10: that window fires again, corrected; 03-11 closes for both metrics.
      Refund("r3", "o2", "2025-03-12T08:00:00Z", "7.00"),
      // o1's sale is 41 days back, beyond 30d: its own day. 03-12 closes for by_own.
      Refund("r4", "o1", "2025-04-20T10:00:00Z", "3.00"),
  };
  auto whole = RunLines(rules, dir / "whole", lines, /*final=*/true);
  REQUIRE(whole.error.empty());
  // Each rule's emissions in order (two metrics that one event closes fire in plan order).
  auto of = [](const aisle::testing::RunResult& r, const std::string& rule) {
    std::vector<Seen> out;
    for (const auto& s : Emitted(r))
      if (s.message.starts_with(rule)) out.push_back(s);
    return out;
  };
  CHECK(of(whole, "sale-day") == std::vector<Seen>{
                                     {"2025-03-10T00:00:00Z", "sale-day S1 1 20.00 USD", false, 3},
                                     {"2025-03-10T00:00:00Z", "sale-day S1 2 27.00 USD", true, 5},
                                     {"2025-03-11T00:00:00Z", "sale-day S1 1 5.00 USD", false, 5},
                                     {"2025-04-20T00:00:00Z", "sale-day S1 1 3.00 USD", false, 7},
                                 });
  CHECK(of(whole, "own-day") == std::vector<Seen>{
                                    {"2025-03-11T00:00:00Z", "own-day S1 2 25.00 USD", false, 5},
                                    {"2025-03-12T00:00:00Z", "own-day S1 1 7.00 USD", false, 6},
                                    {"2025-04-20T00:00:00Z", "own-day S1 1 3.00 USD", false, 7},
                                });
  CHECK(whole.stats.late == 0);

  // The same in two runs over one data folder: the sales index survives a restart.
  std::vector<std::string> expected;
  for (const auto& s : Emitted(whole)) expected.push_back(s.window + " " + s.message);
  for (size_t split = 1; split < lines.size(); ++split) {
    INFO("split after line " << split);
    auto both = aisle::testing::RunSplit(rules, dir / fmt::format("split{}", split), lines, split);
    REQUIRE(both.error.empty());
    std::vector<std::string> seen;
    for (const auto& s : Emitted(both)) seen.push_back(s.window + " " + s.message);
    CHECK(seen == expected);
  }
}
