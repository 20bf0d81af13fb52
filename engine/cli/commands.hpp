#pragma once
// The `aisle` subcommands, apart from argument parsing (main.cpp): each returns the process exit
// code and prints to the streams it is given.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace aisle::cli {

struct CheckArgs {
  std::vector<std::string> paths;
  std::string tables_dir;
};
int RunCheck(const CheckArgs& args);

struct ExplainArgs {
  std::vector<std::string> paths;
  std::string tables_dir;
  bool dot = false;  // Graphviz DOT instead of the text tree
  // `--params store ID`: the value each param takes for that store, and where it is set,
  // instead of the graph. Empty: the graph.
  std::vector<std::string> params;
};
int RunExplain(const ExplainArgs& args);

struct FmtArgs {
  std::vector<std::string> paths;
  bool check = false;  // report, do not rewrite
};
int RunFmt(const FmtArgs& args);

struct ReplayArgs {
  std::string rules = "rules";
  std::vector<std::string> events;  // NDJSON, or CSV (.csv) through csv_mapping
  std::string csv_mapping;          // connectors/csv/csv_source.hpp
  std::string tables_dir;
  std::string data_dir;  // empty: a fresh temporary folder, removed afterwards
  std::string out;       // JSONL emissions
  std::string rejects;   // empty: <data>/rejects.jsonl, or ./aisle-rejects.jsonl without --data
  std::string late;      // empty: <data>/late.jsonl, or ./aisle-late.jsonl without --data
  bool final = false;
  bool quiet = false;       // no readable lines on stdout
  bool from_start = false;  // read each file from its first line, not from the saved position
  int shards = 0;           // shard threads; 0: one per core
  int64_t checkpoint_every = 500'000;  // events between checkpoints; 0: only at the end
};
int RunReplay(const ReplayArgs& args);

struct ServeArgs {
  std::string rules = "rules";
  std::string data_dir = "aisle-data";  // <data>/engine (state), <data>/inbox (acknowledged deliveries)
  std::string tables_dir;
  std::string listen;     // HOST:PORT; overrides the config's
  std::string config;     // JSON (connectors/server/config.hpp)
  std::string out;        // also append emissions to this JSONL file
  std::string port_file;  // write the bound port here (for --listen HOST:0)
  int shards = 1;
};
int RunServe(const ServeArgs& args);

struct DeadLetterArgs {
  std::string action;  // list, show, body, replay, drop
  std::string data_dir = "aisle-data";
  std::string config;  // replay: the routes' config
  uint64_t id = 0;
  bool all = false;  // replay every dead letter
  std::string sink;  // not empty: the dead letters of this webhook sink's outbox
};
int RunDeadLetter(const DeadLetterArgs& args);

struct StateDumpArgs {
  std::string data_dir;
  std::string family = "windows";
};
// Prints every key and value of one column family of a state folder, in key order, as
// `hex key\thex value` lines.
int RunStateDump(const StateDumpArgs& args);

struct GenArgs {
  int stores = 20;
  int days = 60;
  uint64_t seed = 1;
  std::string out;
  std::string start = "2025-01-06";
  int64_t line_items = 0;
};
int RunGen(const GenArgs& args);

struct DemoArgs {
  int stores = 20;
  int days = 60;
  uint64_t seed = 1;
  std::string rules;  // empty: ./rules, else the source tree's rules/
  std::string dir = "demo-data";
  bool verbose = false;
};
int RunDemo(const DemoArgs& args);

// Where the shipped rules live when the current folder has none.
std::string DefaultRulesDir();

}  // namespace aisle::cli
