// The `aisle` program as a user runs it: real processes, real files, real RocksDB folders.
// Expected emissions of the tour fixture are worked out by hand in the comments.

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
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

// Runs `aisle ARGS` through the shell, capturing stdout and stderr.
Output Aisle(const std::string& args, const TempDir& scratch) {
  const std::string out_path = scratch / "stdout.txt", err_path = scratch / "stderr.txt";
  std::string cmd = fmt::format("'{}' {} >'{}' 2>'{}'", AISLE_BINARY, args, out_path, err_path);
  int status = std::system(cmd.c_str());
  Output o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = ReadFile(out_path);
  o.err = ReadFile(err_path);
  return o;
}

std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

const std::string kTour = std::string(AISLE_SOURCE_DIR) + "/tests/integration/fixtures/tour";

}  // namespace

TEST_CASE("check names file, line and column of a misspelled field, with a suggestion", "[cli]") {
  TempDir dir;
  auto rules = dir.Write("rules/sales.aisle",
                         "metric hourly = sale\n"
                         "  | key store\n"
                         "  | window tumbling 1h\n"
                         "  | agg revenue = sum(toal)\n");
  Output o = Aisle("check " + rules, dir);
  CHECK(o.code == 1);
  // "  | agg revenue = sum(" is 22 characters: the name starts in column 23.
  const std::string expected = rules +
                               ":4:23: error[E012]: unknown field 'toal'; did you mean 'total'?\n"
                               "   4 |   | agg revenue = sum(toal)\n"
                               "     | " + std::string(22, ' ') + "^^^^\n";
  CHECK(o.err.find(expected) != std::string::npos);
}

TEST_CASE("check passes the shipped rules", "[cli]") {
  TempDir dir;
  Output o = Aisle(fmt::format("check '{0}/rules' --tables '{0}/tests/integration/fixtures/tables'",
                               AISLE_SOURCE_DIR),
                   dir);
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out.find("ok:") == 0);
}

TEST_CASE("replay of the tour: emissions, rejects, duplicates", "[cli][replay]") {
  TempDir dir;
  // One shard: emissions come in input order (shards keep each store's order, not across stores).
  Output o = Aisle(fmt::format("replay --rules '{0}/rules.aisle' --events '{0}/events.ndjson' "
                               "--data '{1}' --out '{2}' --rejects '{3}' --shards 1",
                               kTour, dir / "state", dir / "out.jsonl", dir / "rejects.jsonl"),
                   dir);
  INFO(o.err);
  REQUIRE(o.code == 0);
  auto emissions = ReadJsonl(dir / "out.jsonl");
  // s5 (11:10) moves the watermark past 11:00: S1's 10:00 hour fires with s1 + s2 = 105.50 in 2
  // orders (s3 is voided, filtered out); S2's 20.00 is below 100.00. Then r1 (75.00 > 50.00)
  // fires the stream rule; r2 (5.00) does not. s7 (12:30) closes the 11:00 hours: nothing
  // reaches 100.00. Without --final the 12:00 hour stays open.
  REQUIRE(emissions.size() == 2);
  CHECK(emissions[0]["rule"] == "big_hour");
  CHECK(emissions[0]["kind"] == "alert");
  CHECK(emissions[0]["severity"] == "info");
  CHECK(emissions[0]["store"] == "S1");
  CHECK(emissions[0]["message"] == "S1 took 105.50 USD in 2 orders");
  CHECK(emissions[0]["window"]["start"] == "2025-03-14T10:00:00Z");
  CHECK(emissions[0]["window"]["end"] == "2025-03-14T11:00:00Z");
  CHECK(emissions[0]["values"]["aov"] == "52.75 USD");
  CHECK(emissions[0]["ts"] == "2025-03-14T11:00:00Z");
  CHECK(emissions[1]["rule"] == "large_refund");
  CHECK(emissions[1]["kind"] == "task");
  CHECK(emissions[1]["message"] == "Refund of 75.00 USD at S2 by E7");
  CHECK(emissions[1]["window"].is_null());
  CHECK(emissions[1]["ts"] == "2025-03-14T11:15:00Z");
  // The bad line is line 8, reported with its reason; the run went on.
  auto rejects = ReadJsonl(dir / "rejects.jsonl");
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0]["line"] == 8);
  CHECK(rejects[0]["reason"].get<std::string>().find("ts") != std::string::npos);
  CHECK(o.err.find("8 events accepted, 1 duplicates, 1 rejected") != std::string::npos);
  // Readable lines on stdout.
  CHECK(o.out.find("S1 took 105.50 USD in 2 orders") != std::string::npos);

  // Emission ids are deterministic: the same replay in a fresh folder gives the same ids.
  Output again = Aisle(fmt::format("replay --rules '{0}/rules.aisle' --events '{0}/events.ndjson' "
                                   "--out '{1}' --rejects '{2}' --quiet --shards 1",
                                   kTour, dir / "again.jsonl", dir / "rejects2.jsonl"),
                       dir);
  REQUIRE(again.code == 0);
  auto second = ReadJsonl(dir / "again.jsonl");
  REQUIRE(second.size() == 2);
  CHECK(second[0]["id"] == emissions[0]["id"]);
  CHECK(second[1]["id"] == emissions[1]["id"]);
}

TEST_CASE("a replay with the same data resumes after the lines it has read", "[cli][replay]") {
  TempDir dir;
  auto replay = [&](const std::string& extra) {
    return Aisle(fmt::format("replay --rules '{0}/rules.aisle' --events '{0}/events.ndjson' --data '{1}' "
                             "--out '{2}' --rejects '{3}' --quiet --shards 1 {4}",
                             kTour, dir / "state", dir / "out.jsonl", dir / "rejects.jsonl", extra),
                 dir);
  };
  Output first = replay("--checkpoint-every 2");
  REQUIRE(first.code == 0);
  CHECK(first.err.find("resuming") == std::string::npos);
  const std::string emitted = ReadFile(dir / "out.jsonl");
  // The tour has 10 lines: the second run reads none of them and emits nothing more.
  Output second = replay("");
  INFO(second.err);
  REQUIRE(second.code == 0);
  CHECK(second.err.find("resuming " + kTour + "/events.ndjson at line 11\n") != std::string::npos);
  CHECK(second.err.find("replayed 0 lines: 0 events accepted") != std::string::npos);
  CHECK(ReadFile(dir / "out.jsonl") == emitted);
  // --from-start reads them all again; the ids were seen.
  Output third = replay("--from-start");
  REQUIRE(third.code == 0);
  CHECK(third.err.find("resuming") == std::string::npos);
  CHECK(third.err.find("replayed 10 lines: 0 events accepted, 9 duplicates, 1 rejected") !=
        std::string::npos);
  CHECK(ReadFile(dir / "out.jsonl") == emitted);
  Output bad = replay("--checkpoint-every -1");
  CHECK(bad.code != 0);
}

TEST_CASE("state dump prints a column family as hex key and value lines", "[cli][state]") {
  TempDir dir;
  Output replay = Aisle(fmt::format("replay --rules '{0}/rules.aisle' --events '{0}/events.ndjson' "
                                    "--data '{1}' --rejects '{2}' --quiet --shards 1",
                                    kTour, dir / "state", dir / "rejects.jsonl"),
                        dir);
  REQUIRE(replay.code == 0);
  Output meta = Aisle(fmt::format("state dump --data '{}' --family meta", dir / "state"), dir);
  INFO(meta.err);
  REQUIRE(meta.code == 0);
  std::vector<std::string> keys;
  std::istringstream lines(meta.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    CHECK(line.find_first_not_of("0123456789abcdef\t") == std::string::npos);
    keys.push_back(line.substr(0, tab));
  }
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  // "ruleset" and "shards", among others.
  CHECK(std::find(keys.begin(), keys.end(), "72756c65736574") != keys.end());
  CHECK(std::find(keys.begin(), keys.end(), "736861726473") != keys.end());
  Output windows = Aisle(fmt::format("state dump --data '{}'", dir / "state"), dir);
  REQUIRE(windows.code == 0);
  CHECK(!windows.out.empty());  // the open 12:00 hour, at least
  Output family = Aisle(fmt::format("state dump --data '{}' --family nope", dir / "state"), dir);
  CHECK(family.code == 2);
  CHECK(family.err.find("no column family 'nope'") != std::string::npos);
  Output missing = Aisle(fmt::format("state dump --data '{}'", dir / "none"), dir);
  CHECK(missing.code == 2);
  CHECK(missing.err.find("no state in") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "none"));
}

TEST_CASE("replay with --final closes the open windows", "[cli][replay]") {
  TempDir dir;
  // The rule fires on any hour with an order, so closing the last hours shows.
  auto rules = dir.Write("r.aisle",
                         "metric h = sale | key store | window tumbling 1h | agg n = count()\n"
                         "rule any on h when n >= 1 emit alert to \"ops\" message \"{store} {n}\"\n");
  Output o = Aisle(fmt::format("replay --rules '{}' --events '{}/events.ndjson' --final --quiet "
                               "--out '{}' --rejects '{}' --shards 1",
                               rules, kTour, dir / "out.jsonl", dir / "rej.jsonl"),
                   dir);
  REQUIRE(o.code == 0);
  std::vector<std::string> messages;
  for (const auto& e : ReadJsonl(dir / "out.jsonl")) messages.push_back(e["message"]);
  // 10:00: S1 has s1 s2 s3 (voided sales count here: no filter), S2 has s4; 11:00: S1 s5;
  // 12:00: S2 s7. Groups fire in key order within a window.
  CHECK(messages == std::vector<std::string>{"S1 3", "S2 1", "S1 1", "S2 1"});
}

TEST_CASE("replay writes late events to the late-events file and marks corrections", "[cli][replay]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "stream sale lateness 1h\n"
                         "metric h = sale | key store | window tumbling 1h | agg n = count(), r = sum(total)\n"
                         "rule any on h when n >= 1 emit alert to \"ops\" message \"{store} {n} {r:money}\"\n");
  auto sale = [](const char* id, const char* ts, const char* total) {
    return fmt::format(R"({{"type":"sale","id":"{}","store":"S1","ts":"{}","source":"file","currency":"USD","total":"{}","status":"completed","till":"3"}})",
                       id, ts, total);
  };
  auto events = dir.Write("e.ndjson", sale("a", "2025-03-14T10:10:00Z", "1.50") + "\n" +
                                          sale("b", "2025-03-14T11:05:00Z", "2.00") + "\n" +
                                          sale("c", "2025-03-14T10:20:00Z", "3.25") + "\n" +  // corrects 10:00
                                          sale("d", "2025-03-14T12:30:00Z", "4.00") + "\n" +
                                          sale("e", "2025-03-14T10:40:00Z", "5.125") + "\n");  // late
  Output o = Aisle(fmt::format("replay --rules '{}' --events '{}' --quiet --out '{}' --late '{}'", rules,
                               events, dir / "out.jsonl", dir / "late.jsonl"),
                   dir);
  REQUIRE(o.code == 0);
  CHECK(o.err.find("1 late (see " + (dir / "late.jsonl") + "), 1 corrections") != std::string::npos);
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& e : ReadJsonl(dir / "out.jsonl")) out.emplace_back(e["message"], e["correction"]);
  CHECK(out == std::vector<std::pair<std::string, bool>>{
                   {"S1 1 1.50 USD", false}, {"S1 2 4.75 USD", true}, {"S1 1 2.00 USD", false}});
  auto late = ReadJsonl(dir / "late.jsonl");
  REQUIRE(late.size() == 1);
  CHECK(late[0]["metric"] == "h");
  CHECK(late[0]["lateness_seconds"] == 3600);
  // The event comes back in canonical form: exact money beside its currency, extras as strings.
  const auto& ev = late[0]["event"];
  CHECK(ev["type"] == "sale");
  CHECK(ev["id"] == "e");
  CHECK(ev["ts"] == "2025-03-14T10:40:00Z");
  CHECK(ev["total"] == "5.1250");
  CHECK(ev["currency"] == "USD");
  CHECK(ev["till"] == "3");
}

TEST_CASE("bad rules stop a replay before any event is read", "[cli][replay]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle", "rule r on sael when total > 1.00 USD emit alert to \"x\"\n");
  Output o = Aisle(fmt::format("replay --rules '{}' --events '{}/events.ndjson'", rules, kTour), dir);
  CHECK(o.code == 1);
  CHECK(o.err.find("error[E010]: unknown stream or metric 'sael'; did you mean 'sale'?") !=
        std::string::npos);
}

TEST_CASE("help and version", "[cli]") {
  TempDir dir;
  Output v = Aisle("--version", dir);
  CHECK(v.code == 0);
  CHECK(v.out.find("aisle ") == 0);
  Output h = Aisle("--help", dir);
  CHECK(h.code == 0);
  for (const char* cmd : {"check", "replay", "gen", "demo"}) CHECK(h.out.find(cmd) != std::string::npos);
  Output bad = Aisle("replay", dir);  // missing --events
  CHECK(bad.code != 0);
}

TEST_CASE("explain shows schedules under their metric and digests under what feeds them", "[cli][explain]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "metric hourly = sale | key store | window tumbling 1h | agg n = count()\n"
                         "rule busy on hourly when n > 100 emit alert to \"ops\"\n"
                         "rule big on sale when total > 50.00 USD emit alert to \"ops\"\n"
                         "  dedupe within 1h suppress while busy for 2h\n"
                         "schedule noon every day at 12:00 utc from hourly emit report to \"ops\"\n"
                         "digest \"ops\" every 1d\n");
  Output text = Aisle("explain " + rules, dir);
  REQUIRE(text.code == 0);
  std::istringstream lines(text.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line.substr(0, line.find("  fp ")));
  // The digest collects "ops": under each rule and schedule that emits there.
  CHECK(got == std::vector<std::string>{"source sale  delay 0  lateness 0", "  metric hourly",
                                        "    rule busy", "      digest \"ops\"", "    schedule noon",
                                        "      digest \"ops\"", "  rule big", "    digest \"ops\""});
  CHECK(text.out.find("every day at 12:00 UTC  emits report to \"ops\"  <- hourly") != std::string::npos);
  CHECK(text.out.find("suppressed while busy per [store] for 2h  dedupe per [store, message] within 1h") !=
        std::string::npos);
  CHECK(text.out.find("every 1d  one report per interval") != std::string::npos);
  Output dot = Aisle("explain --dot " + rules, dir);
  REQUIRE(dot.code == 0);
  // sale -> hourly, sale -> big, hourly -> busy, hourly -> noon, busy, noon and big -> the digest.
  size_t edges = 0;
  for (size_t p = 0; (p = dot.out.find("->", p)) != std::string::npos; ++p) ++edges;
  CHECK(edges == 7);
}

TEST_CASE("replay counts what emission control dropped and held", "[cli][replay]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "rule big on sale when total > 5.00 USD emit alert to \"ops\" message \"{store}\"\n"
                         "  dedupe within 1h\n"
                         "digest \"ops\" every 1h\n");
  auto sale = [](const char* id, const char* ts) {
    return fmt::format(
        R"({{"type":"sale","id":"{}","store":"S1","ts":"{}","source":"file","currency":"USD","total":"9.00","status":"completed"}})",
        id, ts);
  };
  auto events = dir.Write("e.ndjson", sale("a", "2025-03-14T10:00:00Z") + "\n" +
                                          sale("b", "2025-03-14T10:10:00Z") + "\n" +
                                          sale("c", "2025-03-14T11:10:00Z") + "\n");
  Output o = Aisle(fmt::format("replay --rules '{}' --events '{}' --final --quiet", rules, events), dir);
  INFO(o.err);
  REQUIRE(o.code == 0);
  // b repeats a within the hour; a and c are held, each delivered in its hour's digest.
  CHECK(o.err.find("; 2 emissions;") != std::string::npos);
  CHECK(o.err.find("emission control: 0 suppressed, 1 deduped, 0 throttled, 2 held for digests") !=
        std::string::npos);
}

TEST_CASE("explain prints the operator graph as a tree and as DOT", "[cli][explain]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "stream sale delay 5m lateness 30m\n"
                         "metric hourly = sale | key store | window tumbling 1h | agg n = count()\n"
                         "metric daily = hourly | key store | window tumbling 1d offset 8h | agg n = sum(n)\n"
                         "rule busy on daily when n > 100 emit alert to \"ops\"\n"
                         "rule refunds on refund when amount > 50.00 USD emit task to \"lp\"\n");
  Output text = Aisle("explain " + rules, dir);
  REQUIRE(text.code == 0);
  // Sources with consumers at depth 0, each consumer two spaces deeper than its input.
  std::istringstream lines(text.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line.substr(0, line.find("  fp ")));
  CHECK(got == std::vector<std::string>{"source sale  delay 5m  lateness 30m", "  metric hourly",
                                        "    metric daily", "      rule busy",
                                        "source refund  delay 0  lateness 0", "  rule refunds"});
  CHECK(text.out.find("window tumbling 1d offset 8h") != std::string::npos);
  CHECK(text.out.find("key [store]") != std::string::npos);
  Output dot = Aisle("explain --dot " + rules, dir);
  REQUIRE(dot.code == 0);
  CHECK(dot.out.rfind("digraph G {", 0) == 0);
  // Edges: sale -> hourly -> daily -> busy, refund -> refunds (labels say "<-", never "->").
  size_t edges = 0;
  for (size_t p = 0; (p = dot.out.find("->", p)) != std::string::npos; ++p) ++edges;
  CHECK(edges == 4);
  Output bad = Aisle("explain " + dir.Write("bad.aisle", "rule r on nothing when 1 > 0 emit alert to \"x\"\n"), dir);
  CHECK(bad.code == 1);
}

TEST_CASE("explain shows a segments stage with its k and what it fires", "[cli][explain]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "metric seg = sale | key store | window tumbling 90d | segments customer k 3\n"
                         "metric each = sale | key store | window tumbling 90d | segments customer per customer\n"
                         "rule r on seg when customers > 10 emit task to \"marketing\"\n"
                         "rule c on each when segment == 0 emit task to \"marketing\"\n");
  Output text = Aisle("explain " + rules, dir);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("segments k 3 (one record per segment)") != std::string::npos);
  CHECK(text.out.find("segments k 4 (one record per customer)") != std::string::npos);
}

TEST_CASE("fmt rewrites a file, and --check reports without writing", "[cli][fmt]") {
  TempDir dir;
  const std::string messy = "rule r on sale when total>1.00 USD emit alert to \"ops\"\n";
  auto path = dir.Write("r.aisle", messy);
  Output check = Aisle("fmt --check " + path, dir);
  CHECK(check.code == 1);
  CHECK(check.out == "would reformat " + path + "\n");
  CHECK(ReadFile(path) == messy);
  Output write = Aisle("fmt " + path, dir);
  CHECK(write.code == 0);
  CHECK(ReadFile(path) == "rule r on sale\n  when total > 1.00 USD\n  emit alert to \"ops\"\n");
  CHECK(Aisle("fmt --check " + path, dir).code == 0);
  // A file that does not parse is reported and left alone.
  auto broken = dir.Write("broken.aisle", "rule r on sale when total >\n");
  Output bad = Aisle("fmt " + broken, dir);
  CHECK(bad.code == 1);
  CHECK(bad.err.find("error[E002]: expected an operand") != std::string::npos);
  CHECK(ReadFile(broken) == "rule r on sale when total >\n");
}

TEST_CASE("explain names sliding and session windows", "[cli][explain]") {
  TempDir dir;
  auto rules = dir.Write("r.aisle",
                         "metric recent = sale | key store | window sliding 30m | agg n = count()\n"
                         "metric visits = sale | key store | window session gap 20m | agg n = count()\n");
  Output text = Aisle("explain " + rules, dir);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("key [store]  window sliding 30m (per record, each key)  agg [n]") !=
        std::string::npos);
  CHECK(text.out.find("key [store]  window session gap 20m (each key)  agg [n]") != std::string::npos);
}
