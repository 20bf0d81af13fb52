// Policies through the `aisle` program: `explain --params store ID` and a replay of a real NDJSON
// file in which a district override makes a rule fire for one store and not for another. The
// expected text is written by hand from the rule file below.

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

using aisle::testing::ReadFile;
using aisle::testing::TempDir;

namespace {

struct Output {
  int code = -1;
  std::string out, err;
};

Output Aisle(const std::string& args, const TempDir& scratch) {
  const std::string out_path = scratch / "stdout.txt", err_path = scratch / "stderr.txt";
  const std::string cmd = fmt::format("'{}' {} >'{}' 2>'{}'", AISLE_BINARY, args, out_path, err_path);
  const int status = std::system(cmd.c_str());
  Output o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = ReadFile(out_path);
  o.err = ReadFile(err_path);
  return o;
}

constexpr const char* kStores =
    "store,name,district,region,timezone,open_hours,currency\n"
    "S001,Main Street,north-east,east,America/New_York,Mon-Sun 09:00-21:00,USD\n"
    "S012,Harbour,north-east,east,America/New_York,Mon-Sun 09:00-21:00,USD\n"
    "S020,Riverside,south,south,America/Chicago,Mon-Sun 09:00-21:00,USD\n";

// Line numbers matter: the expected text below points into this file.
constexpr const char* kRules =
    "param max_disc_pct = 15%\n"                                               // 1
    "param min_lines = 25\n"                                                   // 2
    "param big_basket = 250.00 USD\n"                                          // 3
    "table stores from \"stores.csv\" key store\n"                             // 4
    "\n"                                                                       // 5
    "policy chain {\n"                                                         // 6
    "  param big_basket = 300.00 USD\n"                                        // 7
    "}\n"                                                                      // 8
    "policy district \"north-east\" {\n"                                       // 9
    "  param max_disc_pct = 10%\n"                                             // 10
    "  rule discount_abuse_ne on line_item\n"                                  // 11
    "    when discount / (price * qty) > max_disc_pct\n"                       // 12
    "    emit task to \"district-manager\" message \"{sku} at {store}\"\n"     // 13
    "}\n"                                                                      // 14
    "policy store \"S012\" {\n"                                                // 15
    "  param min_lines = 10\n"                                                 // 16
    "  rule flagship_watch on sale\n"                                          // 17
    "    when total > big_basket\n"                                            // 18
    "    emit task to \"store-manager\"\n"                                     // 19
    "}\n"                                                                      // 20
    "policy district \"south\" {\n"                                            // 21
    "  rule south_only on sale when total > big_basket emit task to \"x\"\n"   // 22
    "}\n"                                                                      // 23
    "metric staff = line_item | key store, staff | window tumbling 1d | agg lines = count()\n"
    "rule many_lines on staff when lines >= min_lines emit alert to \"lp\"\n";

}  // namespace

TEST_CASE("explain --params store shows each param's value for the store and where it is set", "[cli][policy]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  const std::string rules = dir.Write("rules/x.aisle", kRules);
  const std::string tables = dir / "tables";

  Output o = Aisle(fmt::format("explain '{}' --tables '{}' --params store S012", rules, tables), dir);
  INFO(o.err);
  REQUIRE(o.code == 0);
  // S012 is in north-east and has a store policy: big_basket from the chain (line 7),
  // max_disc_pct from its district (line 10), min_lines from its own policy (line 16). Both of
  // those policies' rules apply; the south's does not. Left columns padded to the widest
  // (`big_basket = 300.00 USD`, 23 characters), then three spaces.
  CHECK(o.out == fmt::format("params for store S012 (district \"north-east\"):\n"
                             "big_basket = 300.00 USD   chain ({0}:7:3)\n"
                             "max_disc_pct = 10%        district \"north-east\" ({0}:10:3)\n"
                             "min_lines = 10            store \"S012\" ({0}:16:3)\n"
                             "\n"
                             "policy rules for store S012:\n"
                             "discount_abuse_ne   district \"north-east\" ({0}:11:3)\n"
                             "flagship_watch      store \"S012\" ({0}:17:3)\n",
                             rules));

  o = Aisle(fmt::format("explain '{}' --tables '{}' --params store S020", rules, tables), dir);
  REQUIRE(o.code == 0);
  // S020, in the south: no override but the chain's; the declarations' defaults (line 1, 2).
  CHECK(o.out == fmt::format("params for store S020 (district \"south\"):\n"
                             "big_basket = 300.00 USD   chain ({0}:7:3)\n"
                             "max_disc_pct = 15%        default ({0}:1:1)\n"
                             "min_lines = 25            default ({0}:2:1)\n"
                             "\n"
                             "policy rules for store S020:\n"
                             "south_only   district \"south\" ({0}:22:3)\n",
                             rules));
}

TEST_CASE("explain --params with a store the table does not have fails plainly", "[cli][policy]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  const std::string rules = dir.Write("rules/x.aisle", kRules);
  Output o = Aisle(
      fmt::format("explain '{}' --tables '{}' --params store S013", rules, dir / "tables"), dir);
  CHECK(o.code == 1);
  CHECK(o.out.empty());
  CHECK(o.err == "aisle explain: store 'S013' is not in the stores table; did you mean 'S012'?\n");

  o = Aisle(fmt::format("explain '{}' --tables '{}' --params district north-east", rules,
                        dir / "tables"),
            dir);
  CHECK(o.code == 2);
  CHECK(o.err == "aisle explain: --params takes 'store ID', e.g. --params store S012\n");

  // A rule set without a stores table has no stores to explain.
  const std::string plain = dir.Write("plain/p.aisle",
                                      "param limit = 5\n"
                                      "rule r on sale when units > limit emit alert to \"ops\"\n");
  o = Aisle(fmt::format("explain '{}' --params store S001", plain), dir);
  CHECK(o.code == 1);
  CHECK(o.err ==
        "aisle explain: no stores table: declare table stores from \"stores.csv\" key store to see "
        "a store's params\n");
}

TEST_CASE("replay: the same events fire the rule for the store in the overriding district only", "[cli][policy][replay]") {
  TempDir dir;
  dir.Write("tables/stores.csv", kStores);
  dir.Write("rules/lp.aisle",
            "table stores from \"stores.csv\" key store\n"
            "param max_disc_pct = 15%\n"
            "policy district \"north-east\" {\n"
            "  param max_disc_pct = 10%\n"
            "}\n"
            "rule discount_abuse on line_item\n"
            "  let rate = discount / (price * qty)\n"
            "  when rate > max_disc_pct\n"
            "  emit task to \"loss-prevention\" message \"{store}: {rate:.0%} off {sku}\"\n");
  // One line at S001 (north-east) and the same line at S020 (south): 3 x 5.00 = 15.00 gross,
  // 1.80 off, 12%: over north-east's 10%, under the default 15%.
  std::string events;
  for (const char* store : {"S001", "S020"})
    events += fmt::format(
        R"({{"type":"line_item","id":"li-{0}","store":"{0}","ts":"2025-03-14T10:00:00Z","source":"file","currency":"USD","order":"o1","line":1,"sku":"K1","price":"5.00","qty":3,"discount":"1.80","staff":"E1"}})"
        "\n",
        store);
  dir.Write("events.ndjson", events);
  Output o = Aisle(fmt::format("replay --rules '{}' --events '{}' --tables '{}' --out '{}' --quiet",
                               dir / "rules", dir / "events.ndjson", dir / "tables",
                               dir / "out.jsonl"),
                   dir);
  INFO(o.err);
  REQUIRE(o.code == 0);
  std::vector<nlohmann::json> emissions;
  std::istringstream lines(ReadFile(dir / "out.jsonl"));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) emissions.push_back(nlohmann::json::parse(line));
  REQUIRE(emissions.size() == 1);
  CHECK(emissions[0]["rule"] == "discount_abuse");
  CHECK(emissions[0]["store"] == "S001");
  CHECK(emissions[0]["message"] == "S001: 12% off K1");
}
