// The RocksDB state store (real RocksDB in a temp folder) and the operator graph.

#include <catch2/catch.hpp>

#include "engine/compile.hpp"
#include "engine/state/store.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::engine::Family;
using aisle::engine::StateStore;
using aisle::engine::WriteBatch;
using aisle::testing::TempDir;

TEST_CASE("a batch is atomic and survives reopening", "[engine][state]") {
  TempDir dir;
  {
    auto store = StateStore::Open(dir / "db");
    REQUIRE(store.ok());
    WriteBatch batch(**store);
    batch.Put(Family::kWindows, "a1", "x");
    batch.Put(Family::kWindows, "a2", "y");
    batch.Put(Family::kWindows, "b1", "z");
    batch.Put(Family::kMeta, "a1", "meta");
    REQUIRE((*store)->Write(batch).ok());
  }
  auto store = StateStore::Open(dir / "db");
  REQUIRE(store.ok());
  std::vector<std::string> seen;
  REQUIRE((*store)->Scan(Family::kWindows, "a", [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  }).ok());
  CHECK(seen == std::vector<std::string>{"a1=x", "a2=y"});
  std::string value;
  bool found = false;
  REQUIRE((*store)->Get(Family::kMeta, "a1", value, found).ok());
  CHECK(found);
  CHECK(value == "meta");
  WriteBatch batch(**store);
  batch.DeleteRange(Family::kWindows, "a", "b");
  REQUIRE((*store)->Write(batch).ok());
  REQUIRE((*store)->Get(Family::kWindows, "a2", value, found).ok());
  CHECK_FALSE(found);
  REQUIRE((*store)->Get(Family::kWindows, "b1", value, found).ok());
  CHECK(found);
}

TEST_CASE("opening a store where a file stands fails with a message", "[engine][state]") {
  TempDir dir;
  auto file = dir.Write("not-a-folder", "x");
  auto store = StateStore::Open(file);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().message.find("not-a-folder") != std::string::npos);
}

TEST_CASE("the operator graph orders every producer before its consumers", "[engine][graph]") {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  // Declared consumer-first on purpose.
  auto compiled = aisle::engine::CompileRuleText("g.aisle", R"(
rule r on daily when n > 1 emit alert to "ops"
metric daily = hourly | key store | window tumbling 1d | agg n = sum(n)
metric hourly = sale | key store | window tumbling 1h | agg n = count()
)", registry);
  REQUIRE(compiled->ok());
  const auto& graph = *compiled->graph;
  std::vector<std::string> order;
  for (int n : graph.order()) {
    const auto& node = graph.nodes()[static_cast<size_t>(n)];
    if (node.kind != aisle::engine::OperatorNode::Kind::kSource || node.name == "sale")
      order.push_back(node.name);
  }
  auto pos = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  CHECK(pos("sale") < pos("hourly"));
  CHECK(pos("hourly") < pos("daily"));
  CHECK(pos("daily") < pos("r"));
}
