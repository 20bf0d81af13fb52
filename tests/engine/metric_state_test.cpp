// The metric operator's checkpoints: what a checkpoint writes, what leaves the disk when windows
// close, restarts at many points, and state saved in the layout of earlier versions. Real RocksDB
// in temp folders; every expected value is worked out by hand from the events each test lists.

#include <malloc.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dsl/time.hpp"
#include "engine/compile.hpp"
#include "engine/runtime/key_codec.hpp"
#include "engine/runtime/metric_operator.hpp"
#include "engine/state/store.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/engine_harness.hpp"
#include "tests/support/temp_dir.hpp"

#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime (its header is not installed here).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace engine = aisle::engine;
using aisle::dsl::Value;
using aisle::testing::TempDir;

namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kT0 = 1'741'910'400'000'000;  // 2025-03-14T00:00:00Z

// Bytes the process holds on the heap: exact under AddressSanitizer, else glibc's count of bytes
// in chunks in use (which includes each chunk's header).
size_t HeapBytes() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// One compiled rule set with a metric operator on its first metric.
struct Fixture {
  explicit Fixture(const std::string& rules, engine::EventTime time = {}) : time_(time) {
    aisle::stdlib::RegisterStdlib(registry);
    compiled = engine::CompileRuleText("m.aisle", rules, registry);
    REQUIRE(compiled->ok());
    op = std::make_unique<engine::MetricOperator>(compiled->plan.metrics.front(), registry, time);
  }
  const aisle::dsl::plan::Metric& plan() const { return compiled->plan.metrics.front(); }
  // A new operator in place of the old, as after a restart.
  void Restart() {
    op.reset();
    op = std::make_unique<engine::MetricOperator>(plan(), registry, time_);
  }
  // An input record with the named fields set, the others null.
  std::vector<Value> Record(
      std::initializer_list<std::pair<std::string_view, Value>> fields) const {
    std::vector<Value> r(plan().input_fields.size());
    for (const auto& [name, v] : fields)
      for (size_t f = 0; f < r.size(); ++f)
        if (plan().input_fields[f].name == name) r[f] = v;
    return r;
  }

  engine::OperatorRegistry registry;
  std::unique_ptr<engine::CompiledRules> compiled;
  std::unique_ptr<engine::MetricOperator> op;
  engine::EventTime time_;
};

constexpr const char* kBySku = R"(
metric by_sku = line_item
  | key store, sku
  | window tumbling 1h
  | agg revenue = sum(price), n = count()
)";

const aisle::dsl::Currency kUsd = aisle::dsl::PackCurrency("USD");

// An output record as text: keys, aggregates (money in units with two decimals), the window
// start as HH:MM, then "fix" for a correction.
std::string Text(std::span<const Value> record, bool correction) {
  std::string out;
  for (size_t f = 0; f + 1 < record.size(); ++f) {  // the window end last: left out
    const Value& v = record[f];
    if (!out.empty()) out += ' ';
    switch (v.type) {
      case aisle::dsl::Type::kString:
        out += v.str();
        break;
      case aisle::dsl::Type::kMoney:
        out += fmt::format("{}.{:02}", v.i / 10'000, v.i % 10'000 / 100);
        break;
      case aisle::dsl::Type::kInt:
        out += std::to_string(v.i);
        break;
      case aisle::dsl::Type::kTimestamp:
        out += aisle::dsl::FormatTimestamp(v.i).substr(11, 5);
        break;
      default:
        out += "?";
        break;
    }
  }
  return correction ? out + " fix" : out;
}

engine::RecordHandler Into(std::vector<std::string>& out) {
  return [&out](std::span<const Value> record, std::string_view, int64_t, bool correction) {
    out.push_back(Text(record, correction));
  };
}

void Fire(engine::MetricOperator& op, std::vector<std::string>& out) {
  op.Fire(Into(out), [](std::string_view, int64_t) {});
}

// Saves, writes and marks saved, as the engine's checkpoint does; returns the batch's writes.
size_t Checkpoint(engine::MetricOperator& op, engine::StateStore& store) {
  engine::WriteBatch batch(store);
  op.Save(batch);
  const size_t writes = batch.count();
  REQUIRE(store.Write(batch).ok());
  op.MarkSaved();
  return writes;
}

// The keys under the operator's fingerprint, without it.
std::vector<std::string> Keys(engine::StateStore& store, uint64_t fingerprint) {
  std::string prefix;
  engine::PutU64BE(prefix, fingerprint);
  std::vector<std::string> keys;
  REQUIRE(store
              .Scan(engine::Family::kWindows, prefix,
                    [&](std::string_view key, std::string_view) {
                      keys.emplace_back(key.substr(prefix.size()));
                      return true;
                    })
              .ok());
  return keys;
}

size_t CountTag(const std::vector<std::string>& keys, char tag) {
  size_t n = 0;
  for (const auto& k : keys) n += !k.empty() && k[0] == tag;
  return n;
}

std::string Encoded(std::string_view store) {
  std::string out;
  engine::EncodeValue(Value::String(store), out);
  return out;
}

// The window starts, as HH:MM, of one store's window group keys ([V][u32 length][store][start]).
std::vector<std::string> WindowStarts(const std::vector<std::string>& keys,
                                      std::string_view store) {
  std::vector<std::string> out;
  const std::string partition = Encoded(store);
  for (const auto& k : keys) {
    if (k.empty() || k[0] != 'V') continue;
    const uint32_t n = engine::GetU32(k.data() + 1);
    if (k.substr(5, n) != partition) continue;
    const std::string start =
        aisle::dsl::FormatTimestamp(engine::GetI64Ordered(k.data() + 5 + n)).substr(11, 5);
    if (out.empty() || out.back() != start) out.push_back(start);
  }
  return out;
}

}  // namespace

TEST_CASE("a checkpoint writes only the groups and watermarks that changed",
          "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(kBySku, {0, kHour});
  auto add = [&](const char* shop, const char* sku, int64_t minutes, int64_t cents) {
    fx.op->Add(fx.Record({{"store", Value::String(shop)},
                          {"sku", Value::String(sku)},
                          {"price", Value::Money(cents * 100, kUsd)}}),
               kT0 + 10 * kHour + minutes * kMinute);
  };
  std::vector<std::string> out;
  add("S1", "A", 10, 1000);
  add("S1", "B", 20, 200);
  add("S2", "A", 30, 300);
  CHECK(fx.op->unsaved_groups() == 3);
  {
    // A batch that is never written: the next checkpoint writes the same again.
    engine::WriteBatch lost(**store);
    fx.op->Save(lost);
    CHECK(lost.count() == 5);
  }
  // Three groups and the watermarks of S1 and S2.
  CHECK(Checkpoint(*fx.op, **store) == 5);
  CHECK(fx.op->unsaved_groups() == 0);
  CHECK(Checkpoint(*fx.op, **store) == 0);  // no new events: nothing to write
  auto keys = Keys(**store, fx.plan().fingerprint);
  CHECK(CountTag(keys, 'V') == 3);
  CHECK(CountTag(keys, 'P') == 2);

  add("S1", "A", 40, 500);  // S1's watermark moves to 10:40
  CHECK(Checkpoint(*fx.op, **store) == 2);
  add("S2", "A", 20, 400);  // older than S2's newest event: its watermark stays
  CHECK(Checkpoint(*fx.op, **store) == 1);
  add("S1", "C", 65, 100);  // S1 at 11:05: its 10:00 window fires, both groups
  Fire(*fx.op, out);
  CHECK(out == std::vector<std::string>{"S1 A 15.00 2 10:00", "S1 B 2.00 1 10:00"});
  // S1 C (new), S1 A and S1 B (fired), S1's watermark.
  CHECK(Checkpoint(*fx.op, **store) == 4);
  CHECK(Checkpoint(*fx.op, **store) == 0);

  // What was loaded is on disk: nothing to write after a restart.
  fx.Restart();
  std::string error;
  REQUIRE(fx.op->Load(**store, error));
  CHECK(fx.op->unsaved_groups() == 0);
  CHECK(Checkpoint(*fx.op, **store) == 0);
  // S1's 10:00 window fired and changed no more; S1's 11:00 and S2's 10:00 fire at the end.
  out.clear();
  fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
  CHECK(out == std::vector<std::string>{"S1 C 1.00 1 11:00", "S2 A 7.00 2 10:00"});
  // Every window closed: one range deletion each, and both watermarks (now the end of time).
  CHECK(Checkpoint(*fx.op, **store) == 5);
  keys = Keys(**store, fx.plan().fingerprint);
  CHECK(CountTag(keys, 'V') == 0);
  CHECK(CountTag(keys, 'P') == 2);
}

TEST_CASE("a window closed for good leaves the disk at the next checkpoint",
          "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(kBySku, {0, kHour});  // windows close an hour after their end
  auto add = [&](const char* shop, const char* sku, int64_t minutes) {
    fx.op->Add(fx.Record({{"store", Value::String(shop)},
                          {"sku", Value::String(sku)},
                          {"price", Value::Money(10'000, kUsd)}}),
               kT0 + 10 * kHour + minutes * kMinute);
  };
  std::vector<std::string> out;
  add("S2", "A", 45);
  add("S1", "A", 30);
  add("S1", "B", 40);
  add("S1", "A", 90);  // S1 at 11:30: 10:00 fires, and takes corrections until 12:00
  Fire(*fx.op, out);
  Checkpoint(*fx.op, **store);
  auto keys = Keys(**store, fx.plan().fingerprint);
  CHECK(WindowStarts(keys, "S1") == std::vector<std::string>{"10:00", "11:00"});
  add("S1", "B", 119);  // 11:59
  Fire(*fx.op, out);
  Checkpoint(*fx.op, **store);
  CHECK(WindowStarts(Keys(**store, fx.plan().fingerprint), "S1") ==
        std::vector<std::string>{"10:00", "11:00"});
  add("S1", "C", 120);  // 12:00: S1's 10:00 closes for good
  Fire(*fx.op, out);
  Checkpoint(*fx.op, **store);
  keys = Keys(**store, fx.plan().fingerprint);
  CHECK(WindowStarts(keys, "S1") == std::vector<std::string>{"11:00", "12:00"});
  // S1 has A and B at 11:00 and C at 12:00; S2's own 10:00 window is not S1's to delete.
  CHECK(CountTag(keys, 'V') == 4);
  CHECK(WindowStarts(keys, "S2") == std::vector<std::string>{"10:00"});
}

TEST_CASE("bytes per window group are printed", "[.][engine][metric-state][memory]") {
  Fixture fx(kBySku);
  const auto usd = aisle::dsl::PackCurrency("USD");
  std::vector<std::string> stores, skus;
  for (int s = 0; s < 20; ++s) stores.push_back(fmt::format("S{:04}", s));
  for (int k = 0; k < 1000; ++k) skus.push_back(fmt::format("SKU-{:06}", k));
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  const size_t before = HeapBytes();
  for (const auto& store : stores)
    for (const auto& sku : skus)
      fx.op->Add(fx.Record({{"store", Value::String(store)},
                            {"sku", Value::String(sku)},
                            {"price", Value::Money(12'5000, usd)}}),
                 kT0 + kHour / 2);
  const size_t after = HeapBytes();
  const double groups = static_cast<double>(stores.size() * skus.size());
  {
    engine::WriteBatch batch(**store);  // not written: RocksDB's memtable would count
    fx.op->Save(batch);
  }
  fx.op->MarkSaved();  // releases the list of groups to save
  const size_t saved = HeapBytes();
  WARN(
      fmt::format("{} groups of (store, sku) in one window, sum + count: {:.1f} heap bytes per "
                  "group, {:.1f} after a checkpoint",
                  groups, static_cast<double>(after - before) / groups,
                  (static_cast<double>(saved) - static_cast<double>(before)) / groups));
}

namespace {

// 200 hours of line items for S1, S2 and S3: each hour, each store sells SKUs A, B, C, D at
// 05, 15, 25 and 35 past (orders o0, o1, o0, o1); then S1 sells A once more stamped 30 past the
// hour before, inside the 2h lateness. A checkpoint after every hour; `check` sees each one.
template <typename Check>
void ReplayHours(Fixture& fx, engine::StateStore& store, const Check& check) {
  const char* shops[] = {"S1", "S2", "S3"};
  const char* skus[] = {"A", "B", "C", "D"};
  const char* orders[] = {"o0", "o1"};
  std::vector<std::string> out;
  auto add = [&](const char* shop, int k, int64_t time) {
    fx.op->Add(fx.Record({{"store", Value::String(shop)},
                          {"sku", Value::String(skus[k])},
                          {"order", Value::String(orders[k % 2])},
                          {"price", Value::Money(10'000, kUsd)}}),
               time);
    Fire(*fx.op, out);  // as the pipeline does after each event
  };
  for (int64_t h = 0; h < 200; ++h) {
    for (const char* shop : shops)
      for (int k = 0; k < 4; ++k) add(shop, k, kT0 + h * kHour + (5 + 10 * k) * kMinute);
    if (h > 0) add("S1", 0, kT0 + (h - 1) * kHour + 30 * kMinute);
    const size_t writes = Checkpoint(*fx.op, store);
    check(h, writes, Keys(store, fx.plan().fingerprint));
  }
}

}  // namespace

TEST_CASE("over 200 hours the saved windows stay those that can still change",
          "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(kBySku, {0, 2 * kHour});
  // After hour h the watermarks are at h:35; window k closes once they reach k + 3h, so windows
  // h - 2, h - 1 and h are kept: 3 windows x 3 stores x 4 SKUs = 36 groups.
  // Each checkpoint writes window h's 12 new groups, window h - 1's 12 groups (fired in hour h;
  // S1's A also corrected), the 3 watermarks and, from hour 3, a deletion of window h - 3 per
  // store: 30 writes, against 40 (3 watermarks, 36 groups, one deletion) for a full rewrite.
  size_t most = 0;
  ReplayHours(fx, **store, [&](int64_t h, size_t writes, const std::vector<std::string>& keys) {
    INFO("hour " << h);
    const size_t windows = static_cast<size_t>(std::min<int64_t>(h + 1, 3));
    CHECK(CountTag(keys, 'V') == windows * 12);
    CHECK(CountTag(keys, 'P') == 3);
    CHECK(keys.size() == windows * 12 + 3);
    if (h == 0)
      CHECK(writes == 15);
    else if (h < 3)
      CHECK(writes == 27);
    else
      CHECK(writes == 30);
    most = std::max(most, CountTag(keys, 'V'));
    if (h == 199) {
      WARN(
          fmt::format("hourly by (store, sku): {} writes per hourly checkpoint, at most {} "
                      "window keys over 200 hours",
                      writes, most));
      CHECK(WindowStarts(keys, "S2") == std::vector<std::string>{"05:00", "06:00", "07:00"});
    }
  });
  CHECK(fx.op->open_windows() == 9);
}

TEST_CASE("distinct keeps on disk only what open windows have seen", "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(R"(
metric orders = line_item
  | distinct order
  | key store
  | window tumbling 1h
  | agg n = count()
)",
             {0, 2 * kHour});
  // Windows h - 2 .. h are kept, each with one group per store that has seen o0 and o1 (S1's
  // late A is o0 again, filtered): 9 groups and 18 entries seen.
  ReplayHours(fx, **store, [&](int64_t h, size_t, const std::vector<std::string>& keys) {
    INFO("hour " << h);
    const size_t windows = static_cast<size_t>(std::min<int64_t>(h + 1, 3));
    CHECK(CountTag(keys, 'V') == windows * 3);
    CHECK(CountTag(keys, 'S') == windows * 3 * 2);
    CHECK(keys.size() == windows * 9 + 3);
  });
  // After a restart the filter still refuses o1 in S2's window of hour 199 (07:00 on day 9),
  // which has not fired: its watermark is at 07:35.
  fx.Restart();
  std::string error;
  REQUIRE(fx.op->Load(**store, error));
  fx.op->Add(fx.Record({{"store", Value::String("S2")},
                        {"sku", Value::String("Z")},
                        {"order", Value::String("o1")},
                        {"price", Value::Money(10'000, kUsd)}}),
             kT0 + 199 * kHour + 50 * kMinute);
  std::vector<std::string> out;
  fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
  // Only each store's window of hour 199 fires, with its two orders; those of hours 197 and 198
  // fired before and did not change (S1's late items repeat o0).
  CHECK(out == std::vector<std::string>{"S1 2 07:00", "S2 2 07:00", "S3 2 07:00"});
  Checkpoint(*fx.op, **store);
  CHECK(Keys(**store, fx.plan().fingerprint).size() == 3);  // the watermarks
}

TEST_CASE("session groups leave the disk when their sessions have fired",
          "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(R"(
metric visits = line_item
  | key store
  | window session gap 20m
  | agg n = count()
)",
             {0, 2 * kHour});
  // Each hour's four items are one session per store, [h:05, h:55), fired by the next hour's
  // first item, which starts the next one: one group per store is kept, 3 keys. S1's late item
  // is late for a session window.
  ReplayHours(fx, **store, [&](int64_t h, size_t, const std::vector<std::string>& keys) {
    INFO("hour " << h);
    CHECK(CountTag(keys, 'R') == 3);
    CHECK(keys.size() == 6);
  });
  fx.Restart();
  std::string error;
  REQUIRE(fx.op->Load(**store, error));
  std::vector<std::string> out;
  fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
  CHECK(out == std::vector<std::string>{"S1 4 07:05", "S2 4 07:05", "S3 4 07:05"});
  Checkpoint(*fx.op, **store);
  CHECK(Keys(**store, fx.plan().fingerprint).size() == 3);  // the watermarks
}

namespace {

constexpr const char* kRestartRules = R"(
stream sale lateness 1h

metric hourly = sale | key store | window tumbling 1h | agg revenue = sum(total), tx = count()
rule hour on hourly when tx >= 1 emit alert to "ops" message "hour {store} {tx} {revenue:money}"

metric daily = hourly | key store | window tumbling 1d | agg revenue = sum(revenue), hours = count()
rule day on daily when hours >= 1 emit alert to "ops" message "day {store} {hours} {revenue:money}"

metric buyers = sale | distinct customer | key store | window tumbling 1h | agg n = count()
rule who on buyers when n >= 1 emit alert to "ops" message "who {store} {n}"

metric visits = sale | key store | window session gap 20m | agg tx = count()
rule visit on visits when tx >= 1 emit alert to "ops" message "visit {store} {tx}"
)";

std::string CustomerSale(const std::string& id, const std::string& store, const std::string& hhmm,
                         const std::string& total, const std::string& customer) {
  return fmt::format(
      R"({{"type":"sale","id":"{}","store":"{}","ts":"2025-03-14T{}:00Z","source":"file","currency":"USD","total":"{}","status":"completed","customer":"{}"}})",
      id, store, hhmm, total, customer);
}

const std::vector<std::string> kRestartLines = {
    CustomerSale("a", "S1", "10:10", "10.00", "c1"), CustomerSale("b", "S2", "10:20", "1.00", "c1"),
    CustomerSale("c", "S1", "10:25", "5.00", "c1"),  // c1 again in S1's 10:00
    CustomerSale("d", "S1", "11:05", "2.00", "c2"),  // S1's 10:00 fires
    CustomerSale("e", "S1", "10:50", "4.00", "c3"),  // corrects S1's 10:00
    CustomerSale("f", "S2", "11:30", "3.00", "c2"),  // S2's 10:00 fires
    CustomerSale("g", "S1", "12:10", "6.00", "c1"),  // S1's 11:00 fires, 10:00 closes
    CustomerSale("h", "S1", "10:55", "7.00", "c4"),  // late
    CustomerSale("i", "S2", "13:00", "8.00", "c5"),  // S2's 10:00 and 11:00 close
    CustomerSale("j", "S1", "11:40", "1.00", "c2"),  // corrects S1's 11:00, c2 seen there
};

struct Out {
  std::string rule, message, window;  // the window start as HH:MM
  bool correction;
  size_t after;  // input lines pushed before it came (11: the end of input)
  bool operator==(const Out&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Out& o) {
  return os << o.rule << " " << o.message << " " << o.window << (o.correction ? " fix" : "")
            << " after " << o.after;
}

std::vector<Out> Outs(const aisle::testing::RunResult& r, const std::string& rule = {}) {
  std::vector<Out> out;
  for (size_t i = 0; i < r.emissions.size(); ++i) {
    const auto& e = r.emissions[i];
    if (!rule.empty() && e.rule != rule) continue;
    out.push_back({e.rule, e.message, aisle::dsl::FormatTimestamp(e.window->first).substr(11, 5),
                   e.correction, r.emitted_after[i]});
  }
  return out;
}

}  // namespace

TEST_CASE("restarts at many points with checkpoints in between equal one run",
          "[engine][metric-state][restart]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", kRestartRules);
  auto whole = aisle::testing::RunLines(rules, dir / "whole", kRestartLines, /*final=*/true);
  REQUIRE(whole.error.empty());
  // Watermarks are each store's newest event time; windows close an hour after their end.
  CHECK(Outs(whole, "hour") == std::vector<Out>{
                                   {"hour", "hour S1 2 15.00 USD", "10:00", false, 4},
                                   {"hour", "hour S1 3 19.00 USD", "10:00", true, 5},
                                   {"hour", "hour S2 1 1.00 USD", "10:00", false, 6},
                                   {"hour", "hour S1 1 2.00 USD", "11:00", false, 7},
                                   {"hour", "hour S2 1 3.00 USD", "11:00", false, 9},
                                   {"hour", "hour S1 2 3.00 USD", "11:00", true, 10},
                                   {"hour", "hour S1 1 6.00 USD", "12:00", false, 11},
                                   {"hour", "hour S2 1 8.00 USD", "13:00", false, 11},
                               });
  // The day holds each hour's last result: S1 19.00 + 3.00 + 6.00, S2 1.00 + 3.00 + 8.00.
  CHECK(Outs(whole, "day") == std::vector<Out>{{"day", "day S1 3 28.00 USD", "00:00", false, 11},
                                               {"day", "day S2 3 12.00 USD", "00:00", false, 11}});
  CHECK(Outs(whole, "who") == std::vector<Out>{
                                  {"who", "who S1 1", "10:00", false, 4},
                                  {"who", "who S1 2", "10:00", true, 5},
                                  {"who", "who S2 1", "10:00", false, 6},
                                  {"who", "who S1 1", "11:00", false, 7},
                                  {"who", "who S2 1", "11:00", false, 9},
                                  {"who", "who S1 1", "12:00", false, 11},
                                  {"who", "who S2 1", "13:00", false, 11},
                              });
  // Sessions of 20m gaps: S1 a + c, d, g; S2 b, f, i. Older than the watermark is late.
  CHECK(Outs(whole, "visit") == std::vector<Out>{
                                    {"visit", "visit S1 2", "10:10", false, 4},
                                    {"visit", "visit S2 1", "10:20", false, 6},
                                    {"visit", "visit S1 1", "11:05", false, 7},
                                    {"visit", "visit S2 1", "11:30", false, 9},
                                    {"visit", "visit S1 1", "12:10", false, 11},
                                    {"visit", "visit S2 1", "13:00", false, 11},
                                });
  auto late = whole.late;
  std::sort(late.begin(), late.end());
  CHECK(late ==
        std::vector<std::string>{"e visits", "h buyers", "h hourly", "h visits", "j visits"});

  // A checkpoint after every event (or every third), and restarts after every line, after a few,
  // or after one. (Other tests restart once, with a checkpoint only when each part ends.)
  struct Split {
    int64_t every;
    std::vector<size_t> cuts;
  };
  std::vector<Split> splits = {
      {1, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {1, {2, 5, 8}}, {1, {3, 4, 7}}, {1, {6, 9}},
      {3, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {3, {2, 5, 8}}};
  for (size_t cut = 1; cut < kRestartLines.size(); ++cut) splits.push_back({1, {cut}});
  int run = 0;
  for (const auto& [every, cuts] : splits) {
    INFO("checkpoint every " << every << " events, restarts after lines "
                             << fmt::format("{}", fmt::join(cuts, ",")));
    auto r = aisle::testing::RunParts(rules, dir / fmt::format("run{}", run++), kRestartLines, cuts,
                                      every);
    REQUIRE(r.error.empty());
    CHECK(Outs(r) == Outs(whole));
    CHECK(r.late == whole.late);
  }
}

namespace {

// Keys and values in the layout of earlier versions, written out by hand.
struct Legacy {
  explicit Legacy(uint64_t fingerprint) { engine::PutU64BE(prefix, fingerprint); }

  static std::string GroupKey(std::initializer_list<std::string_view> values) {
    std::string key;
    for (auto v : values) engine::EncodeValue(Value::String(v), key);
    return key;
  }
  // [fp]['W'][u32 length][group key][window start]
  std::string Window(const std::string& group_key, int64_t start) const {
    std::string key = prefix + 'W';
    engine::PutU32(key, static_cast<uint32_t>(group_key.size()));
    key += group_key;
    engine::PutI64Ordered(key, start);
    return key;
  }
  // [version][window end][flags, from version 3], then sum(money) and count(): per aggregate
  // [currency u32][length u32][state], the states as the stdlib lays them out in memory.
  static std::string WindowValue(char version, int64_t end, int flags, int64_t units, int64_t n) {
    std::string v(1, version);
    engine::PutI64Ordered(v, end);
    if (version >= 3) v.push_back(static_cast<char>(flags));
    struct {
      int64_t exact;
      double real;
      int64_t n;
      int64_t overflow;
    } sum{units, 0.0, n, 0};
    engine::PutU32(v, kUsd);
    engine::PutU32(v, sizeof sum);
    v.append(reinterpret_cast<const char*>(&sum), sizeof sum);
    engine::PutU32(v, 0);
    engine::PutU32(v, sizeof n);
    v.append(reinterpret_cast<const char*>(&n), sizeof n);
    return v;
  }
  static std::string Time(int64_t t) {
    std::string v;
    engine::PutI64Ordered(v, t);
    return v;
  }

  std::string prefix;
};

}  // namespace

TEST_CASE("window state in the earlier layout is restored and rewritten in the new one",
          "[engine][metric-state]") {
  TempDir dir;
  auto store = engine::StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  Fixture fx(kBySku, {0, kHour});
  const Legacy old(fx.plan().fingerprint);
  const int64_t t10 = kT0 + 10 * kHour, t11 = t10 + kHour, t12 = t11 + kHour;
  {
    engine::WriteBatch batch(**store);
    // S1 A: 10:00 fired (flags fired + emitted), 12.50 in two items. S1 B: 11:00, 1.00.
    batch.Put(engine::Family::kWindows, old.Window(Legacy::GroupKey({"S1", "A"}), t10),
              Legacy::WindowValue(3, t11, 1 | 2, 125'000, 2));
    batch.Put(engine::Family::kWindows, old.Window(Legacy::GroupKey({"S1", "B"}), t11),
              Legacy::WindowValue(3, t12, 0, 10'000, 1));
    // S2 A in version 2, without flags: 10:00, 3.00.
    batch.Put(engine::Family::kWindows, old.Window(Legacy::GroupKey({"S2", "A"}), t10),
              Legacy::WindowValue(2, t11, 0, 30'000, 1));
    batch.Put(engine::Family::kWindows, old.prefix + 'P' + Encoded("S1"),
              Legacy::Time(t11 + 10 * kMinute));
    batch.Put(engine::Family::kWindows, old.prefix + 'P' + Encoded("S2"),
              Legacy::Time(t10 + 30 * kMinute));
    batch.Put(engine::Family::kWindows, old.prefix + 'F', Legacy::Time(t10));  // every partition
    REQUIRE((*store)->Write(batch).ok());
  }
  std::string error;
  REQUIRE(fx.op->Load(**store, error));
  CHECK(fx.op->WatermarkOf(Encoded("S1")) == t11 + 10 * kMinute);
  CHECK(fx.op->WatermarkOf(Encoded("S2")) == t10 + 30 * kMinute);
  CHECK(fx.op->WatermarkOf(Encoded("S9")) == t10);  // the old mark, for a store not seen
  CHECK(fx.op->open_windows() == 3);
  CHECK(fx.op->unsaved_groups() == 3);  // all to be written in the new layout

  // A 2.00 item for S1 A at 10:45 corrects the fired window: 14.50 in three.
  fx.op->Add(fx.Record({{"store", Value::String("S1")},
                        {"sku", Value::String("A")},
                        {"price", Value::Money(20'000, kUsd)}}),
             t10 + 45 * kMinute);
  std::vector<std::string> out;
  Fire(*fx.op, out);
  CHECK(out == std::vector<std::string>{"S1 A 14.50 3 10:00 fix"});
  // Deletions of the old 'W', 'D' and 'T' ranges and of the 'F' mark, 3 groups, 2 watermarks.
  CHECK(Checkpoint(*fx.op, **store) == 9);
  auto keys = Keys(**store, fx.plan().fingerprint);
  CHECK(CountTag(keys, 'W') == 0);
  CHECK(CountTag(keys, 'F') == 0);
  CHECK(CountTag(keys, 'V') == 3);
  CHECK(CountTag(keys, 'P') == 2);
  CHECK(keys.size() == 5);

  // Restored from the new layout, nothing is left to write, and the rest fires as it would have.
  fx.Restart();
  REQUIRE(fx.op->Load(**store, error));
  CHECK(fx.op->unsaved_groups() == 0);
  CHECK(Checkpoint(*fx.op, **store) == 0);
  out.clear();
  fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
  CHECK(out == std::vector<std::string>{"S1 B 1.00 1 11:00", "S2 A 3.00 1 10:00"});
}

TEST_CASE("distinct and session state in the earlier layout is restored and rewritten",
          "[engine][metric-state]") {
  TempDir dir;
  const int64_t t10 = kT0 + 10 * kHour;
  SECTION("distinct") {
    auto store = engine::StateStore::Open(dir / "distinct");
    REQUIRE(store.ok());
    Fixture fx(R"(
metric orders = line_item | distinct order | key store | window tumbling 1h | agg n = count()
)",
               {0, kHour});
    const Legacy old(fx.plan().fingerprint);
    const std::string group = Legacy::GroupKey({"S1"});
    {
      engine::WriteBatch batch(**store);
      // S1's 10:00 window has counted one item, of o1: [W] -> [3][end][flags][count].
      std::string value(1, 3);
      engine::PutI64Ordered(value, t10 + kHour);
      value.push_back(0);
      engine::PutU32(value, 0);
      engine::PutU32(value, 8);
      const int64_t n = 1;
      value.append(reinterpret_cast<const char*>(&n), sizeof n);
      batch.Put(engine::Family::kWindows, old.Window(group, t10), value);
      // [D][window start][u32 length][group key][encoded order]
      std::string seen = old.prefix + 'D';
      engine::PutI64Ordered(seen, t10);
      engine::PutU32(seen, static_cast<uint32_t>(group.size()));
      seen += group;
      engine::EncodeValue(Value::String("o1"), seen);
      batch.Put(engine::Family::kWindows, seen, {});
      REQUIRE((*store)->Write(batch).ok());
    }
    std::string error;
    REQUIRE(fx.op->Load(**store, error));
    for (const char* order : {"o1", "o2"})
      fx.op->Add(fx.Record({{"store", Value::String("S1")}, {"order", Value::String(order)}}),
                 t10 + 20 * kMinute);
    Checkpoint(*fx.op, **store);
    auto keys = Keys(**store, fx.plan().fingerprint);
    CHECK(CountTag(keys, 'W') == 0);
    CHECK(CountTag(keys, 'D') == 0);
    CHECK(CountTag(keys, 'V') == 1);
    CHECK(CountTag(keys, 'S') == 2);  // o1 and o2
    std::vector<std::string> out;
    fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
    CHECK(out == std::vector<std::string>{"S1 2 10:00"});  // o1 once, o2
  }
  SECTION("session") {
    auto store = engine::StateStore::Open(dir / "session");
    REQUIRE(store.ok());
    Fixture fx(R"(
metric visits = line_item | key store | window session gap 20m | agg n = count()
)",
               {0, kHour});
    const Legacy old(fx.plan().fingerprint);
    {
      engine::WriteBatch batch(**store);
      // S1 had items at 10:05 and 10:15: one session, to fire at 10:35. [T][group key] ->
      // [1][records: count, per record time, length, arguments][sessions][windows to fire].
      std::string value(1, 1), yes;
      engine::EncodeValue(Value::Bool(true), yes);  // count()'s argument
      engine::PutU32(value, 2);
      for (int64_t m : {5, 15}) {
        engine::PutI64Ordered(value, t10 + m * kMinute);
        engine::PutU32(value, static_cast<uint32_t>(yes.size()));
        value += yes;
      }
      engine::PutU32(value, 1);
      engine::PutI64Ordered(value, t10 + 5 * kMinute);
      engine::PutI64Ordered(value, t10 + 15 * kMinute);
      engine::PutU32(value, 1);
      engine::PutI64Ordered(value, t10 + 35 * kMinute);
      engine::PutI64Ordered(value, t10 + 5 * kMinute);
      batch.Put(engine::Family::kWindows, old.prefix + 'T' + Legacy::GroupKey({"S1"}), value);
      batch.Put(engine::Family::kWindows, old.prefix + 'P' + Encoded("S1"),
                Legacy::Time(t10 + 15 * kMinute));
      REQUIRE((*store)->Write(batch).ok());
    }
    std::string error;
    REQUIRE(fx.op->Load(**store, error));
    // 10:30 is less than the gap after 10:15: the session grows to three, to fire at 10:50.
    fx.op->Add(fx.Record({{"store", Value::String("S1")}}), t10 + 30 * kMinute);
    std::vector<std::string> out;
    Fire(*fx.op, out);
    CHECK(out.empty());
    Checkpoint(*fx.op, **store);
    auto keys = Keys(**store, fx.plan().fingerprint);
    CHECK(CountTag(keys, 'T') == 0);
    CHECK(CountTag(keys, 'R') == 1);
    fx.Restart();
    REQUIRE(fx.op->Load(**store, error));
    fx.op->FireAll(Into(out), [](std::string_view, int64_t) {});
    CHECK(out == std::vector<std::string>{"S1 3 10:05"});
    Checkpoint(*fx.op, **store);
    CHECK(Keys(**store, fx.plan().fingerprint).size() == 1);  // S1's watermark
  }
}
