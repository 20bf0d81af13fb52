#include <cstdio>

#include "engine/cli/commands.hpp"
#include "dsl/policy.hpp"
#include "engine/compile.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::cli {

int RunExplain(const ExplainArgs& args) {
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  auto compiled = engine::CompileRules(args.paths, registry, args.tables_dir);
  if (!compiled->ok()) {
    std::fputs(compiled->Render().c_str(), stderr);
    return 1;
  }
  if (!args.params.empty()) {
    if (args.params.size() != 2 || args.params[0] != "store") {
      std::fputs("aisle explain: --params takes 'store ID', e.g. --params store S012\n", stderr);
      return 2;
    }
    std::string out;
    if (!dsl::ExplainStoreParams(compiled->plan, compiled->rules.sources, args.params[1], out)) {
      std::fprintf(stderr, "aisle explain: %s\n", out.c_str());
      return 1;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  const auto& graph = *compiled->graph;
  std::string out = args.dot ? graph.ExplainDot(compiled->plan) : graph.ExplainText(compiled->plan);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace aisle::cli
