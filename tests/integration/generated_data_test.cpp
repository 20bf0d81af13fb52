// Whole-program runs on generated chains: restart equivalence through the CLI, the demo's
// detection on other seeds, and the embedding example.

#include <sys/wait.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

using aisle::testing::ReadFile;
using aisle::testing::TempDir;

namespace {

int Run(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Emission ids by store, in the order the file has them: shards (the CLI runs one per core)
// interleave stores in any order, but each store's emissions come in its own order.
std::map<std::string, std::vector<std::string>> Ids(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    out[json["store"].is_string() ? json["store"].get<std::string>() : ""].push_back(json["id"]);
  }
  return out;
}

}  // namespace

TEST_CASE("replaying a generated file in two halves equals one replay", "[cli][restart]") {
  TempDir dir;
  REQUIRE(Run(fmt::format("'{}' gen --stores 4 --days 45 --seed 11 --out '{}' 2>/dev/null",
                          AISLE_BINARY, dir / "data")) == 0);
  const std::string events = dir / "data/events.ndjson";
  std::ifstream in(events);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() > 1000);
  const size_t half = lines.size() / 2;
  std::ofstream a(dir / "a.ndjson"), b(dir / "b.ndjson");
  for (size_t i = 0; i < lines.size(); ++i) (i < half ? a : b) << lines[i] << '\n';
  a.close();
  b.close();
  const std::string rules = std::string(AISLE_SOURCE_DIR) + "/rules";
  auto replay = [&](const std::string& file, const std::string& state, const std::string& out,
                    bool final) {
    return Run(fmt::format("'{}' replay --rules '{}' --tables '{}' --events '{}' --data '{}' "
                           "--out '{}' --quiet {} 2>/dev/null",
                           AISLE_BINARY, rules, dir / "data", file, state, out,
                           final ? "--final" : ""));
  };
  REQUIRE(replay(events, dir / "whole", dir / "whole.jsonl", true) == 0);
  REQUIRE(replay(dir / "a.ndjson", dir / "split", dir / "split.jsonl", false) == 0);
  REQUIRE(replay(dir / "b.ndjson", dir / "split", dir / "split.jsonl", true) == 0);
  auto whole = Ids(dir / "whole.jsonl");
  REQUIRE(!whole.empty());
  CHECK(Ids(dir / "split.jsonl") == whole);
}

TEST_CASE("the demo's rules find every incident on other seeds", "[cli][demo]") {
  // Five seeds other than the demo's; at most one false alarm per store and week.
  const int stores = 6, days = 49;
  for (int seed : {2, 3, 5, 8, 13}) {
    TempDir dir;
    const std::string out = dir / "demo.txt";
    REQUIRE(Run(fmt::format("'{}' demo --stores {} --days {} --seed {} --dir '{}' --rules '{}/rules' >'{}' 2>&1",
                            AISLE_BINARY, stores, days, seed, dir / "work", AISLE_SOURCE_DIR, out)) == 0);
    std::string text = ReadFile(out);
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(R"(incidents found: (\d+)/(\d+); false alarms: (\d+))")));
    INFO("seed " << seed << "\n" << text);
    int found = std::stoi(m[1]), total = std::stoi(m[2]), false_alarms = std::stoi(m[3]);
    CHECK(total >= 4);
    CHECK(found == total);
    CHECK(false_alarms <= stores * ((days + 6) / 7));
  }
}

TEST_CASE("the embedding example runs", "[embed]") {
  TempDir dir;
  const std::string out = dir / "embed.txt";
  REQUIRE(Run(fmt::format("cd '{}' && '{}' '{}/examples/embed/rules' '{}' >'{}' 2>&1", dir.path().string(),
                          AISLE_EMBED_EXAMPLE, AISLE_SOURCE_DIR, dir / "state", out)) == 0);
  std::string text = ReadFile(out);
  INFO(text);
  CHECK(text.find("alert big_sale S1: Sale of 250.00 USD at S1") != std::string::npos);
}
