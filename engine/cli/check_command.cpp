#include <cstdio>

#include <fmt/format.h>

#include "engine/cli/commands.hpp"
#include "engine/compile.hpp"
#include "stdlib/stdlib.hpp"

namespace aisle::cli {

int RunCheck(const CheckArgs& args) {
  engine::OperatorRegistry registry;
  stdlib::RegisterStdlib(registry);
  auto compiled = engine::CompileRules(args.paths, registry, args.tables_dir);
  std::string report = compiled->Render();
  std::fputs(report.c_str(), stderr);
  int warnings = 0;
  for (const auto& d : compiled->diagnostics.all())
    if (d.severity == dsl::Severity::kWarning) ++warnings;
  if (!compiled->ok()) {
    int errors = compiled->diagnostics.error_count() + static_cast<int>(compiled->errors.size());
    std::fputs(fmt::format("{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings,
                           warnings == 1 ? "" : "s")
                   .c_str(),
               stderr);
    return 1;
  }
  std::fputs(fmt::format("ok: {} file{}, {} metric{}, {} rule{}, {} warning{}\n",
                         compiled->rules.sources.size(),
                         compiled->rules.sources.size() == 1 ? "" : "s",
                         compiled->plan.metrics.size(), compiled->plan.metrics.size() == 1 ? "" : "s",
                         compiled->plan.rules.size(), compiled->plan.rules.size() == 1 ? "" : "s",
                         warnings, warnings == 1 ? "" : "s")
                 .c_str(),
             stdout);
  return 0;
}

}  // namespace aisle::cli
