#include <cstdio>

#include "engine/cli/commands.hpp"
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
  const auto& graph = *compiled->graph;
  std::string out = args.dot ? graph.ExplainDot(compiled->plan) : graph.ExplainText(compiled->plan);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace aisle::cli
