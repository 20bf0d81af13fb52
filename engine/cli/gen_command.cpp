#include <cstdio>
#include <variant>

#include <fmt/format.h>

#include "engine/cli/commands.hpp"
#include "examples/gen/generator.hpp"

namespace aisle::cli {

int RunGen(const GenArgs& args) {
  gen::GenOptions options;
  options.stores = args.stores;
  options.days = args.days;
  options.seed = args.seed;
  options.out_dir = args.out;
  options.start = args.start;
  options.line_items = args.line_items;
  auto result = gen::Generate(options);
  if (auto* error = std::get_if<std::string>(&result)) {
    std::fputs(("error: " + *error + "\n").c_str(), stderr);
    return 2;
  }
  const auto& summary = std::get<gen::GenSummary>(result);
  std::fputs(fmt::format("wrote {}: {} events ({} line items), {} incidents\n", args.out,
                         summary.events, summary.line_items, summary.incidents)
                 .c_str(),
             stderr);
  return 0;
}

}  // namespace aisle::cli
