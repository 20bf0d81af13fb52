#include "engine/compile.hpp"

namespace aisle::engine {

namespace {
void Finish(CompiledRules& out, const OperatorRegistry& registry, const std::string& tables_dir) {
  dsl::CheckOptions options;
  options.tables_dir = tables_dir;
  out.plan = dsl::Check(out.rules, registry, options, out.diagnostics);
  if (out.diagnostics.has_errors() || !out.errors.empty()) return;
  auto graph = OperatorGraph::Build(out.plan);
  if (!graph) {
    out.errors.push_back(graph.error().message);
    return;
  }
  out.graph = std::move(graph).value();
}
}  // namespace

std::string CompiledRules::Render() const {
  std::string out;
  for (const auto& d : diagnostics.Sorted()) out += dsl::Render(rules.sources, d);
  for (const auto& e : errors) out += "error: " + e + "\n";
  return out;
}

std::unique_ptr<CompiledRules> CompileRules(const std::vector<std::string>& paths,
                                            const OperatorRegistry& registry,
                                            const std::string& tables_dir) {
  auto out = std::make_unique<CompiledRules>();
  out->rules = dsl::LoadRuleSet(paths, out->diagnostics, out->errors);
  Finish(*out, registry, tables_dir);
  return out;
}

std::unique_ptr<CompiledRules> CompileRuleText(const std::string& path, const std::string& text,
                                               const OperatorRegistry& registry,
                                               const std::string& tables_dir) {
  auto out = std::make_unique<CompiledRules>();
  out->rules = dsl::LoadRuleText(path, text, out->diagnostics);
  Finish(*out, registry, tables_dir);
  return out;
}

}  // namespace aisle::engine
