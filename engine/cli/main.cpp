// The `aisle` command: argument parsing only (CLI11 is included here and nowhere else); the
// subcommands live in *_command.cpp.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "engine/cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Aisle: a dataflow rules engine for retail store analytics"};
  app.set_version_flag("--version", std::string("aisle ") + AISLE_VERSION);
  app.require_subcommand(1);

  aisle::cli::CheckArgs check;
  auto* check_cmd = app.add_subcommand("check", "Parse and type-check rule files (exit 1 on errors)");
  check_cmd->add_option("paths", check.paths, "Rule files or folders")->required();
  check_cmd->add_option("--tables", check.tables_dir, "Folder where table files resolve");

  aisle::cli::ExplainArgs explain;
  auto* explain_cmd = app.add_subcommand("explain", "Show the operator graph of rule files (text tree or --dot)");
  explain_cmd->add_option("paths", explain.paths, "Rule files or folders")->required();
  explain_cmd->add_option("--tables", explain.tables_dir, "Folder where table files resolve");
  explain_cmd->add_flag("--dot", explain.dot, "Print Graphviz DOT instead of a text tree");
  explain_cmd
      ->add_option("--params", explain.params,
                   "Show the value each param takes for one store and where it is set: "
                   "--params store ID")
      ->expected(2);

  aisle::cli::FmtArgs fmt;
  auto* fmt_cmd = app.add_subcommand("fmt", "Rewrite rule files in the canonical layout");
  fmt_cmd->add_option("paths", fmt.paths, "Rule files or folders")->required();
  fmt_cmd->add_flag("--check", fmt.check, "List files that would change and exit 1; change nothing");

  aisle::cli::ReplayArgs replay;
  auto* replay_cmd = app.add_subcommand("replay", "Replay canonical NDJSON events through rules");
  replay_cmd->add_option("--rules", replay.rules, "Rule file or folder")->capture_default_str();
  replay_cmd->add_option("--events", replay.events, "Canonical events (NDJSON), or CSV with --csv-mapping; repeatable")->required();
  replay_cmd->add_option("--csv-mapping", replay.csv_mapping,
                         "Column mapping (JSON) for --events files ending in .csv");
  replay_cmd->add_option("--tables", replay.tables_dir, "Folder where table files resolve");
  replay_cmd->add_option("--data", replay.data_dir,
                         "State folder (RocksDB); kept between runs. Default: a fresh temporary folder");
  replay_cmd->add_option("--out", replay.out, "Append emissions to this JSONL file");
  replay_cmd->add_option("--rejects", replay.rejects,
                         "Where bad lines go (default: DATA/rejects.jsonl or ./aisle-rejects.jsonl)");
  replay_cmd->add_option("--late", replay.late,
                         "Where events beyond their stream's lateness go (default: DATA/late.jsonl or ./aisle-late.jsonl)");
  replay_cmd->add_flag("--final", replay.final, "Treat the end of input as the end of time: close every window");
  replay_cmd->add_flag("--quiet", replay.quiet, "Do not print emissions on stdout");
  replay_cmd->add_option("--shards", replay.shards,
                         "Shard threads the stores are spread over (0: one per core; a plan with "
                         "state across stores runs on one)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  replay_cmd
      ->add_option("--checkpoint-every", replay.checkpoint_every,
                   "Events between checkpoints (0: only at the end); after a crash at most this "
                   "many are read again")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  replay_cmd->add_flag("--from-start", replay.from_start,
                       "Read each events file from its first line, not from where the last replay "
                       "with this --data stopped");

  aisle::cli::StateDumpArgs state_dump;
  auto* state_cmd = app.add_subcommand("state", "Inspect a state folder");
  state_cmd->require_subcommand(1);
  auto* dump_cmd = state_cmd->add_subcommand(
      "dump", "Print every key and value of a column family in key order, as hex 'key<TAB>value'");
  dump_cmd->add_option("--data", state_dump.data_dir, "State folder (as given to replay --data)")
      ->required();
  dump_cmd->add_option("--family", state_dump.family,
                       "Column family: windows, meta, dedup, outbox, audit or approvals")
      ->capture_default_str();

  aisle::cli::ServeArgs serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve POS webhooks and our own feeds over HTTP into the rules");
  serve_cmd->add_option("--rules", serve.rules, "Rule file or folder")->capture_default_str();
  serve_cmd->add_option("--data", serve.data_dir, "Data folder: engine state and the inbox")->capture_default_str();
  serve_cmd->add_option("--tables", serve.tables_dir, "Folder where table files resolve");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0: any free port)");
  serve_cmd->add_option("--config", serve.config, "JSON config: platforms, secrets, sinks, limits");
  serve_cmd->add_option("--out", serve.out, "Also append emissions to this JSONL file");
  serve_cmd->add_option("--port-file", serve.port_file, "Write the port listened on to this file");
  serve_cmd->add_option("--shards", serve.shards, "Shard threads (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();

  aisle::cli::DeadLetterArgs deadletter;
  auto* deadletter_cmd = app.add_subcommand(
      "deadletter",
      "Inspect and replay deliveries `aisle serve` could not normalize, or emissions a sink gave up on "
      "(stop the server first)");
  deadletter_cmd->add_option("action", deadletter.action, "list, show ID, body ID, replay ID|--all, drop ID, stats")
      ->required()
      ->check(CLI::IsMember({"list", "show", "body", "replay", "drop", "stats"}));
  deadletter_cmd->add_option("id", deadletter.id, "Dead letter id");
  deadletter_cmd->add_option("--data", deadletter.data_dir, "Data folder of `aisle serve`")->capture_default_str();
  deadletter_cmd->add_option("--config", deadletter.config, "The server's config (replay normalizes again)");
  deadletter_cmd->add_flag("--all", deadletter.all, "replay: every dead letter");
  deadletter_cmd->add_option("--sink", deadletter.sink,
                             "The dead letters of this webhook sink (emissions it gave up on) instead; "
                             "replay puts them back in its outbox");

  aisle::cli::GenArgs gen;
  auto* gen_cmd = app.add_subcommand("gen", "Generate a sample retail chain's events and tables");
  gen_cmd->add_option("--stores", gen.stores, "Number of stores")->capture_default_str()->check(CLI::Range(1, 10000));
  gen_cmd->add_option("--days", gen.days, "Days of history")->capture_default_str()->check(CLI::Range(1, 3660));
  gen_cmd->add_option("--seed", gen.seed, "Random seed")->capture_default_str();
  gen_cmd->add_option("--out", gen.out, "Output folder")->required();
  gen_cmd->add_option("--start", gen.start, "First day, YYYY-MM-DD")->capture_default_str();
  gen_cmd->add_option("--line-items", gen.line_items, "Stop after about N line items")->check(CLI::NonNegativeNumber);

  aisle::cli::DemoArgs demo;
  auto* demo_cmd = app.add_subcommand("demo", "Generate a chain, run the shipped rules, show the alerts");
  demo_cmd->add_option("--stores", demo.stores, "Number of stores")->capture_default_str()->check(CLI::Range(1, 1000));
  demo_cmd->add_option("--days", demo.days, "Days of history")->capture_default_str()->check(CLI::Range(1, 3660));
  demo_cmd->add_option("--seed", demo.seed, "Random seed")->capture_default_str();
  demo_cmd->add_option("--rules", demo.rules, "Rule folder (default: ./rules or the shipped rules)");
  demo_cmd->add_option("--dir", demo.dir, "Working folder, emptied first")->capture_default_str();
  demo_cmd->add_flag("--verbose", demo.verbose, "Show every notice");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*check_cmd) return aisle::cli::RunCheck(check);
    if (*explain_cmd) return aisle::cli::RunExplain(explain);
    if (*fmt_cmd) return aisle::cli::RunFmt(fmt);
    if (*replay_cmd) return aisle::cli::RunReplay(replay);
    if (*dump_cmd) return aisle::cli::RunStateDump(state_dump);
    if (*serve_cmd) return aisle::cli::RunServe(serve);
    if (*deadletter_cmd) return aisle::cli::RunDeadLetter(deadletter);
    if (*gen_cmd) return aisle::cli::RunGen(gen);
    if (*demo_cmd) return aisle::cli::RunDemo(demo);
  } catch (const std::exception& e) {
    // Layers return errors; this is the last line of defence at the boundary.
    std::fprintf(stderr, "aisle: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
