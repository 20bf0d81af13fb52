// Shards: the shipped rules over a generated chain give the same emissions and the same counts on
// one shard and on several, across restarts and changes of shard count; a full shard refuses
// events instead of dropping them; a plan with state across stores stays on one shard.

#include <algorithm>
#include <fstream>
#include <variant>

#include <catch2/catch.hpp>

#include "connectors/ndjson/event_parser.hpp"
#include "engine/compile.hpp"
#include "engine/engine.hpp"
#include "engine/runtime/shard.hpp"
#include "engine/runtime/shard_plan.hpp"
#include "examples/gen/generator.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::testing::TempDir;
namespace engine = aisle::engine;

namespace {

class JsonSink final : public engine::Sink {
 public:
  void Emit(const engine::Emission& e) override { lines.push_back(engine::ToJson(e)); }
  bool Flush(std::string&) override { return true; }
  std::vector<std::string> lines;
};

// A small generated chain (events and tables), parsed once for every test here.
struct Chain {
  TempDir dir;
  std::vector<engine::Event> events;
  Chain() {
    aisle::gen::GenOptions options;
    options.stores = 6;
    options.days = 40;
    options.seed = 5;
    options.out_dir = dir / "data";
    auto generated = aisle::gen::Generate(options);
    REQUIRE(std::holds_alternative<aisle::gen::GenSummary>(generated));
    std::ifstream in(dir / "data/events.ndjson");
    aisle::connectors::EventParser parser;
    std::string reason;
    for (std::string line; std::getline(in, line);) {
      events.emplace_back();
      REQUIRE(parser.Parse(line, events.back(), reason));
    }
  }
  std::string tables() const { return dir / "data"; }
};

const Chain& TheChain() {
  static const Chain chain;
  return chain;
}

struct Outcome {
  std::vector<std::string> emissions;  // JSON lines, sorted: shards interleave stores
  engine::EngineStats stats;
  int shards = 0;
  std::string notice;
};

// Pushes events [from, to) into an engine on `data` with `shards`, then finishes.
Outcome Run(const std::string& data, int shards, size_t from, size_t to, bool final,
            int64_t checkpoint_every = 500'000,
            const std::string& rules = std::string(AISLE_SOURCE_DIR) + "/rules") {
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  engine::EngineOptions options;
  options.rules = {rules};
  options.tables_dir = TheChain().tables();
  options.data_dir = data;
  options.shards = shards;
  options.checkpoint_every = checkpoint_every;
  auto opened = engine::Engine::Open(options, registry);
  REQUIRE(opened);
  JsonSink sink;
  engine::Engine& eng = **opened;
  eng.AddSink(&sink);
  const auto& events = TheChain().events;
  for (size_t i = from; i < to; ++i) eng.Push(events[i]);
  REQUIRE(eng.Finish(final).ok());
  Outcome out;
  out.stats = eng.stats();
  out.shards = eng.shards();
  out.notice = eng.notice();
  out.emissions = std::move(sink.lines);
  std::sort(out.emissions.begin(), out.emissions.end());
  return out;
}

std::vector<std::string> Merge(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  return a;
}

}  // namespace

TEST_CASE("the shipped rules shard by store", "[shard]") {
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  auto rules = engine::CompileRules({std::string(AISLE_SOURCE_DIR) + "/rules"}, registry,
                                    TheChain().tables());
  REQUIRE(rules->ok());
  CHECK(engine::ShardBlocker(rules->plan).empty());
}

TEST_CASE("one shard and several give the same emissions and counts", "[shard][thread]") {
  const size_t n = TheChain().events.size();
  TempDir dir;
  const Outcome one = Run(dir / "one", 1, 0, n, true);
  REQUIRE(one.emissions.size() >= 5);  // the chain has incidents: the rules fire
  for (int shards : {2, 3, 5}) {
    INFO("shards: " << shards);
    const Outcome many = Run(dir / ("s" + std::to_string(shards)), shards, 0, n, true);
    CHECK(many.shards == shards);
    CHECK(many.emissions == one.emissions);
    CHECK(many.stats.accepted == one.stats.accepted);
    CHECK(many.stats.duplicates == one.stats.duplicates);
    CHECK(many.stats.late == one.stats.late);
    CHECK(many.stats.corrections == one.stats.corrections);
    CHECK(many.stats.emissions == one.stats.emissions);
    CHECK(many.stats.open_windows == 0);
  }
}

TEST_CASE("a sharded engine restarts where it stopped", "[shard][thread][restart]") {
  const size_t n = TheChain().events.size();
  TempDir dir;
  const Outcome whole = Run(dir / "whole", 1, 0, n, true);
  for (size_t split : {n / 7, n / 2, n - 3}) {
    INFO("split after event " << split);
    const std::string data = dir / ("split" + std::to_string(split));
    // Frequent checkpoints inside each run, too.
    const Outcome a = Run(data, 2, 0, split, false, 20'000);
    const Outcome b = Run(data, 2, split, n, true, 20'000);
    CHECK(b.shards == 2);
    CHECK(Merge(a.emissions, b.emissions) == whole.emissions);
  }
}

TEST_CASE("a data folder keeps its shard count, or merges into one", "[shard][thread][restart]") {
  const size_t n = TheChain().events.size();
  TempDir dir;
  const Outcome whole = Run(dir / "whole", 1, 0, n, true);
  const std::string data = dir / "data";
  const Outcome a = Run(data, 2, 0, n / 3, false);
  // Asked for 4: the stores stay in the shards their hash chose.
  const Outcome b = Run(data, 4, n / 3, n / 2, false);
  CHECK(b.shards == 2);
  CHECK_FALSE(b.notice.empty());
  // Asked for 1: the two shards' state merges into one pipeline.
  const Outcome c = Run(data, 1, n / 2, 2 * n / 3, false);
  CHECK(c.shards == 1);
  // Written by one shard now: asked for 3, it stays on one.
  const Outcome d = Run(data, 3, 2 * n / 3, n, true);
  CHECK(d.shards == 1);
  CHECK_FALSE(d.notice.empty());
  CHECK(Merge(Merge(Merge(a.emissions, b.emissions), c.emissions), d.emissions) == whole.emissions);
}

TEST_CASE("a full shard refuses events and loses none", "[shard][thread][backpressure]") {
  engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  auto rules = engine::CompileRules({std::string(AISLE_SOURCE_DIR) + "/rules"}, registry,
                                    TheChain().tables());
  REQUIRE(rules->ok());
  engine::EmissionQueue emissions;
  engine::Shard shard(std::make_unique<engine::Pipeline>(rules->plan, *rules->graph, registry),
                      emissions);
  shard.Pause();  // the shard takes nothing from its queue: every batch fills up
  const auto& events = TheChain().events;
  size_t taken = 0;
  while (taken < events.size() && shard.TryPush(events[taken])) ++taken;
  REQUIRE(taken < events.size());
  CHECK(taken <= engine::Shard::kBatches * engine::Shard::kBatchEvents);
  CHECK(taken >= engine::Shard::kBatches);  // every batch holds at least one event
  shard.Resume();
  shard.Push(events[taken]);  // waits for a batch instead of refusing
  ++taken;
  shard.Pause();
  CHECK(shard.pipeline().stats().events == static_cast<int64_t>(taken));
  shard.Resume();
}

TEST_CASE("state across stores keeps a plan on one shard", "[shard]") {
  TempDir dir;
  auto blocker = [&](const std::string& text) {
    engine::OperatorRegistry registry;
    aisle::stdlib::RegisterStdlib(registry);
    const std::string path = dir.Write("r.aisle", text);
    auto rules = engine::CompileRules({path}, registry, "");
    INFO(rules->Render());
    REQUIRE(rules->ok());
    return engine::ShardBlocker(rules->plan);
  };
  const std::string metric =
      "metric by_store = sale | key store | window tumbling 1h | agg n = count()\n";
  CHECK(blocker(metric).empty());
  CHECK(blocker("metric chain = sale | key status | window tumbling 1h | agg n = count()\n") ==
        "metric 'chain' is not keyed by store");
  CHECK(blocker(metric +
                "rule busy on by_store when n > 5 emit alert severity info to \"ops\" message \"busy\"\n"
                "  throttle 1 per 1h per store\n")
            .empty());
  CHECK(blocker("rule big on sale when units > 100 emit alert severity info to \"ops\" message "
                "\"big\"\n  throttle 1 per 1h per channel\n") == "rule 'big' throttles across stores");
  CHECK(blocker("rule big on sale when units > 100 emit alert severity info to \"ops\" message "
                "\"big\"\ndigest \"ops\" every 1h\n") == "digest 'ops' gathers every store");
}

// The analytics functions keep state per key: forecast() and anomaly() per store or store and
// SKU, reorder points from the products table into purchase-order drafts. Each key lives on one
// shard, so any shard count gives the same emissions, and so does a restart midway.
TEST_CASE("analytics functions give the same emissions on one shard and several",
          "[shard][thread][stateful]") {
  TempDir dir;
  const std::string rules = dir.Write("analytics.aisle", R"AISLE(
table products from "products.csv" key sku types unit_cost = money, lead_days = int, case_pack = int

metric hourly = sale | where status == "completed" | key store | window tumbling 1h | agg revenue = sum(total)

rule outlook on hourly
  let f = forecast(revenue, horizon = 3h)
  when not is_null(f)
  emit alert severity info to "ops" message "{store} {f:money} [{f.lower:money}, {f.upper:money}] {f.next:money} {f.model}"

metric daily_units = line_item | key store, sku | window tumbling 1d | agg units = sum(qty)

rule sku_spike on daily_units
  let s = anomaly(units, baseline = 28d, season = 1w, method = "poisson")
  when s > 2
  emit task to "buyers" message "{sku} at {store}: {units} against {s.expected} ({s.history})"

rule reorder on inventory
  let rop = reorder_point(5.0, 2.0, lookup(products, sku).lead_days, 95%)
  when on_hand <= rop
  emit po_draft to "purchasing"
    with sku = sku, qty = case_pack(rop + 20 - on_hand, lookup(products, sku).case_pack), unit_cost = lookup(products, sku).unit_cost
)AISLE");
  const size_t n = TheChain().events.size();
  const Outcome one = Run(dir / "one", 1, 0, n, true, 500'000, rules);
  REQUIRE(one.emissions.size() > 100);
  const auto count = [&](const char* kind) {
    return std::count_if(one.emissions.begin(), one.emissions.end(), [&](const std::string& line) {
      return line.find(std::string("\"kind\":\"") + kind + "\"") != std::string::npos;
    });
  };
  CHECK(count("po_draft") > 0);
  CHECK(count("alert") > 0);
  const Outcome three = Run(dir / "three", 3, 0, n, true, 500'000, rules);
  CHECK(three.shards == 3);
  CHECK(three.emissions == one.emissions);
  // Restarted midway on 2 shards, checkpointing often.
  const Outcome first = Run(dir / "split", 2, 0, n / 2, false, 7'000, rules);
  const Outcome second = Run(dir / "split", 2, n / 2, n, true, 7'000, rules);
  CHECK(Merge(first.emissions, second.emissions) == one.emissions);
}
