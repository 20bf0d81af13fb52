// Crash safety of `aisle replay`, end to end: a replay killed with SIGKILL at random points and
// restarted with the same --data and --out until it finishes must deliver every emission of one
// uninterrupted replay (again possibly, with the same id and bytes: at least once) and end in the
// same window state (exactly once).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/runtime/key_codec.hpp"
#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

using aisle::testing::ReadFile;
using aisle::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

int Run(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Starts `aisle ARGS` with stdout discarded and stderr appended to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all{AISLE_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits for `pid`; its exit code, or -signal when a signal ended it.
int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1000;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Runs `aisle ARGS` to its end; its exit code.
int RunToEnd(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = Spawn(args, log);
  return pid < 0 ? -1000 : Wait(pid);
}

// Runs `aisle ARGS`, a replay that resumes, to its end; its exit code, and in `startup` the
// seconds until it said "resuming" in `log` (the engine is open, the state restored: reading
// begins).
int RunToEndTimed(const std::vector<std::string>& args, const std::string& log, double& startup) {
  const auto started = Clock::now();
  const size_t before = std::filesystem::exists(log) ? std::filesystem::file_size(log) : 0;
  const pid_t pid = Spawn(args, log);
  if (pid < 0) return -1000;
  startup = -1;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (startup < 0 && ReadFile(log).find("resuming", before) != std::string::npos)
      startup = Seconds(Clock::now() - started);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (startup < 0) startup = Seconds(Clock::now() - started);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Starts `aisle ARGS` and kills it with SIGKILL after `delay` seconds. True when the kill
// landed (the process was still running); false when it had exited by then (`code` says how).
bool RunAndKill(const std::vector<std::string>& args, const std::string& log, double delay,
                int& code) {
  const pid_t pid = Spawn(args, log);
  if (pid < 0) {
    code = -1000;
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(delay);
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  code = Wait(pid);
  return code == -SIGKILL;
}

// Each emission id of a JSONL file with its line. Every line must be whole JSON, and every line
// of one id the same bytes (a replay after a crash writes an emission again, never another one).
std::map<std::string, std::string> EmissionsById(const std::string& path, size_t& lines) {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadFile(path));
  lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    INFO(path << " line " << lines << ": " << line);
    REQUIRE(nlohmann::json::accept(line));
    const std::string id = nlohmann::json::parse(line)["id"];
    auto [it, fresh] = out.emplace(id, line);
    if (!fresh) CHECK(it->second == line);
  }
  return out;
}

std::set<std::string> Lines(const std::string& path) {
  std::set<std::string> out;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

// `aisle state dump` of one family.
std::string Dump(const std::string& data, const std::string& family, const TempDir& dir) {
  const std::string out = dir / "dump.txt";
  REQUIRE(Run(fmt::format("'{}' state dump --data '{}' --family {} >'{}'", AISLE_BINARY, data,
                          family, out)) == 0);
  return ReadFile(out);
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first lines where two dumps differ, for the failure message.
std::string FirstDifferences(const std::string& a, const std::string& b) {
  const auto la = SplitLines(a), lb = SplitLines(b);
  std::string out = fmt::format("A has {} keys, B {}\n", la.size(), lb.size());
  int shown = 0;
  for (size_t i = 0; shown < 5 && i < std::max(la.size(), lb.size()); ++i) {
    const std::string x = i < la.size() ? la[i] : "(none)", y = i < lb.size() ? lb[i] : "(none)";
    if (x == y) continue;
    out += fmt::format("line {}:\n  A {}\n  B {}\n", i + 1, x.substr(0, 240), y.substr(0, 240));
    ++shown;
  }
  return out;
}

std::string Examples(const std::vector<std::string>& lines) {
  std::string out = std::to_string(lines.size());
  for (size_t i = 0; i < lines.size() && i < 3; ++i) out += "\n  " + lines[i];
  return out;
}

// The ids a state folder remembers as "hour id" pairs: the dedup family's keys are [hour][u32
// block sequence] and its values packed u64 id hashes. Read in this process: quicker than
// `aisle state dump`.
std::set<std::pair<int64_t, uint64_t>> DedupIds(const std::string& data) {
  auto store = aisle::engine::StateStore::Open(data);
  REQUIRE(store.ok());
  std::set<std::pair<int64_t, uint64_t>> out;
  bool readable = true;
  auto s = (*store)->Scan(aisle::engine::Family::kDedup, {},
                          [&](std::string_view key, std::string_view value) {
                            // With shards, each shard's keys carry its namespace, [0xff]['S'][u16].
                            if (key.size() == 16 && key.substr(0, 2) == "\xff" "S") key.remove_prefix(4);
                            if (key.size() != 12 || value.size() % 8 != 0) return readable = false;
                            for (size_t i = 0; i < value.size(); i += 8)
                              out.emplace(aisle::engine::GetI64Ordered(key.data()),
                                          aisle::engine::GetU64BE(value.data() + i));
                            return true;
                          });
  REQUIRE(s.ok());
  REQUIRE(readable);
  return out;
}

// How far through `events` (0..1) the replay with state in `data` has checkpointed: its saved
// source position ([version][u64 byte offset][u64 line], under "position/" and the file's
// canonical path in the meta family). Read in this process: quicker than `aisle state dump`.
double Checkpointed(const std::string& data, const std::string& events) {
  if (!std::filesystem::exists(data + "/CURRENT")) return 0;
  auto store = aisle::engine::StateStore::Open(data);
  REQUIRE(store.ok());
  std::string value;
  bool found = false;
  const std::string key = "position/" + std::filesystem::canonical(events).string();
  REQUIRE((*store)->Get(aisle::engine::Family::kMeta, key, value, found).ok());
  if (!found || value.size() != 17) return 0;  // killed before the first checkpoint
  return static_cast<double>(aisle::engine::GetU64BE(value.data() + 1)) /
         static_cast<double>(std::filesystem::file_size(events));
}

// Added to the shipped rules, whose four-week baselines say little about a short chain: rules
// that emit on most store hours, with corrections, late events, distinct, hopping and sliding
// windows, dedupe and throttle, so the crashes have plenty of emissions and state to get wrong.
constexpr const char* kChattyRules = R"(import "retail/streams.aisle"

metric crash_hourly = sale
  | key store
  | window tumbling 1h
  | agg orders = count(), revenue = sum(total)

rule crash_busy_hour on crash_hourly
  when orders >= 1
  emit alert severity info to "crash-test" message "{store}: {orders} orders, {revenue:money}"

metric crash_baskets = line_item
  | distinct order
  | key store
  | window hopping 2h every 1h
  | agg orders = count()

rule crash_baskets on crash_baskets
  when orders >= 5
  emit alert severity info to "crash-test" message "{store}: {orders} baskets"
  dedupe within 3h

metric crash_rush = sale
  | key store
  | window sliding 30m
  | agg orders = count()

rule crash_rush on crash_rush
  when orders >= 4
  emit alert severity info to "crash-test" message "{store}: {orders} orders in 30 minutes"
  throttle 2 per 1h

rule crash_big_basket on sale
  when units >= 6
  emit task severity info to "crash-test" message "{store}: {units} units in one sale"
  throttle 3 per 1d
)";

// A chain of `stores` x `days` is about 900 events a store and day; under ASan a replay of the
// default one (about 16,000 events) takes a few seconds.
struct CrashPlan {
  int stores = 3;
  int days = 6;
  uint64_t seed = 7;
  int shards = 2;
  int kills = 10;
  int checkpoint_every = 1500;  // about ten checkpoints in the default chain
};

void CheckCrashes(const CrashPlan& plan) {
  TempDir dir;
  const std::string chain = dir / "chain";
  REQUIRE(Run(fmt::format("'{}' gen --stores {} --days {} --seed {} --out '{}' 2>/dev/null",
                          AISLE_BINARY, plan.stores, plan.days, plan.seed, chain)) == 0);
  const std::string events = chain + "/events.ndjson";
  const std::string rules = dir / "rules";
  std::filesystem::copy(std::string(AISLE_SOURCE_DIR) + "/rules", rules,
                        std::filesystem::copy_options::recursive);
  dir.Write("rules/crash_test.aisle", kChattyRules);
  auto replay = [&](const std::string& data, const std::string& out, bool final) {
    std::vector<std::string> args{"replay", "--rules", rules, "--tables", chain};
    args.insert(args.end(), {"--events", events, "--data", data, "--out", out, "--quiet"});
    args.insert(args.end(), {"--shards", std::to_string(plan.shards), "--checkpoint-every",
                             std::to_string(plan.checkpoint_every)});
    if (final) args.push_back("--final");
    return args;
  };
  const std::string a_data = dir / "A", a_out = dir / "a.jsonl", a_log = dir / "a.log";
  const std::string b_data = dir / "B", b_out = dir / "b.jsonl", b_log = dir / "b.log";

  // The uninterrupted replay, and how long it takes.
  auto started = Clock::now();
  REQUIRE(RunToEnd(replay(a_data, a_out, false), a_log) == 0);
  const double whole = Seconds(Clock::now() - started);
  // Run again, it resumes at the end: nothing new. The time it takes is the fixed cost of a run
  // (compile, open, restore, checkpoint, exit); the time until it says it resumes, the startup.
  const std::string a_bytes = ReadFile(a_out);
  REQUIRE(!a_bytes.empty());
  double startup = 0;
  started = Clock::now();
  REQUIRE(RunToEndTimed(replay(a_data, a_out, false), a_log, startup) == 0);
  const double fixed = std::min(Seconds(Clock::now() - started), whole / 2);
  startup = std::min(startup, fixed);
  CHECK(ReadFile(a_log).find("resuming " + events + " at line ") != std::string::npos);
  CHECK(ReadFile(a_out) == a_bytes);

  // Kill points: each run is killed when it should have read a random part of what is left
  // (from where the last checkpoint left it, spread so the kills cover the file), judged from the
  // uninterrupted run's pace. One kill in five comes while the engine opens and restores, before
  // it reads. The machine's load varies: the estimates err on the short side. A run that ends
  // before its kill has finished the replay, so later kills could only hit startup: the round
  // starts over from an empty data folder with shorter estimates, until one round has landed
  // every kill during the replay.
  std::mt19937 random(static_cast<uint32_t>(plan.seed * 1000 + static_cast<uint64_t>(plan.shards)));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double pace = 0.75 * (whole - fixed);  // seconds for the whole file
  int landed = 0, early = 0, rounds = 0;
  std::string trace;
  constexpr int kMaxRounds = 4;
  while (landed < plan.kills && rounds < kMaxRounds) {
    ++rounds;
    landed = early = 0;
    std::filesystem::remove_all(b_data);
    std::filesystem::remove(b_out);
    std::filesystem::remove(b_log);
    trace += fmt::format("\n  round {}:", rounds);
    for (int i = 0; i < plan.kills; ++i) {
      const double done = Checkpointed(b_data, events);
      double delay;
      if (unit(random) < 0.2) {
        delay = startup * unit(random);
        ++early;
      } else {
        const double step = (0.95 - done) * std::min(1.0, 2 * unit(random) / (plan.kills - i));
        delay = startup + std::max(step, 0.0) * pace;
      }
      int code = 0;
      const bool killed = RunAndKill(replay(b_data, b_out, false), b_log, delay, code);
      trace += fmt::format("\n    from {:.3f}: {} after {:.2f} s", done,
                           killed ? "killed" : "finished", delay);
      if (!killed) {
        INFO(ReadFile(b_log));
        REQUIRE(code == 0);
        startup *= 0.7;
        pace *= 0.6;
        break;
      }
      ++landed;
    }
  }
  REQUIRE(RunToEnd(replay(b_data, b_out, false), b_log) == 0);
  WARN(
      fmt::format("{} shard(s), {} event lines, checkpoint every {}: {}/{} kills landed in round {} "
                  "({} aimed at startup); uninterrupted run {:.2f} s, fixed cost of a run {:.2f} s "
                  "(startup {:.2f} s){}",
                  plan.shards, SplitLines(ReadFile(events)).size(), plan.checkpoint_every, landed,
                  plan.kills, rounds, early, whole, fixed, startup, trace));
  REQUIRE(landed == plan.kills);
  INFO(ReadFile(b_log));
  CHECK(ReadFile(b_log).find("resuming " + events + " at line ") != std::string::npos);

  auto compare = [&](const char* when) {
    INFO(when);
    size_t a_lines = 0, b_lines = 0;
    const auto a = EmissionsById(a_out, a_lines);
    const auto b = EmissionsById(b_out, b_lines);
    REQUIRE(!a.empty());
    std::vector<std::string> missing, extra, changed;
    for (const auto& [id, line] : a) {
      auto it = b.find(id);
      if (it == b.end())
        missing.push_back(line);
      else if (it->second != line)
        changed.push_back(line + "\n    B: " + it->second);
    }
    for (const auto& [id, line] : b)
      if (a.find(id) == a.end()) extra.push_back(line);
    INFO(fmt::format("a.jsonl: {} lines, {} ids; b.jsonl: {} lines, {} ids", a_lines, a.size(),
                     b_lines, b.size()));
    INFO("missing from b.jsonl: " << Examples(missing));
    INFO("only in b.jsonl: " << Examples(extra));
    INFO("different in b.jsonl: " << Examples(changed));
    CHECK(missing.empty());
    CHECK(extra.empty());
    CHECK(changed.empty());
    // Late events go out at least once too.
    CHECK(Lines(a_data + "/late.jsonl") == Lines(b_data + "/late.jsonl"));
    // The ids seen: the same per hour, however the checkpoints split them into blocks.
    const auto a_ids = DedupIds(a_data), b_ids = DedupIds(b_data);
    INFO(fmt::format("ids remembered: {} in A, {} in B", a_ids.size(), b_ids.size()));
    CHECK(a_ids == b_ids);
    const std::string a_windows = Dump(a_data, "windows", dir);
    const std::string b_windows = Dump(b_data, "windows", dir);
    INFO(FirstDifferences(a_windows, b_windows));
    CHECK(a_windows == b_windows);
  };
  compare("after the replays without --final");
  REQUIRE(RunToEnd(replay(a_data, a_out, true), a_log) == 0);
  REQUIRE(RunToEnd(replay(b_data, b_out, true), b_log) == 0);
  compare("after a --final run on each");
}

}  // namespace

TEST_CASE("replays killed at random points end like one uninterrupted replay with 2 shards",
          "[cli][crash]") {
  CrashPlan plan;
  plan.shards = 2;
  CheckCrashes(plan);
}

TEST_CASE("replays killed at random points end like one uninterrupted replay with 1 shard",
          "[cli][crash]") {
  CrashPlan plan;
  plan.shards = 1;
  CheckCrashes(plan);
}

TEST_CASE("soak: 50 kills of a replay of a bigger chain", "[.soak][cli][crash]") {
  for (int shards : {1, 2}) {
    CrashPlan plan;
    plan.stores = 8;
    plan.days = 40;
    plan.seed = 19;
    plan.shards = shards;
    plan.kills = 50;
    plan.checkpoint_every = 5000;
    CheckCrashes(plan);
  }
}
