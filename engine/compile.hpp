#pragma once
// Rule files -> checked plan -> operator graph, with every diagnostic. Used by `aisle check`, by
// the engine before it runs anything, and by the embedding API.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/loader.hpp"
#include "dsl/plan.hpp"
#include "engine/graph/operator_graph.hpp"
#include "engine/registry/registry.hpp"

namespace aisle::engine {

struct CompiledRules {
  dsl::RuleSet rules;
  dsl::Diagnostics diagnostics;
  std::vector<std::string> errors;  // problems with no source position (unreadable paths, graph)
  dsl::plan::Plan plan;
  std::optional<OperatorGraph> graph;

  bool ok() const { return errors.empty() && !diagnostics.has_errors() && graph.has_value(); }
  // Every diagnostic rendered (errors and warnings), then the position-less errors.
  std::string Render() const;
};

// Loads, parses, checks and lowers. The result is kept alive by whoever runs the plan.
std::unique_ptr<CompiledRules> CompileRules(const std::vector<std::string>& paths,
                                            const OperatorRegistry& registry,
                                            const std::string& tables_dir = {});
// The same for rule text held in memory (imports are not followed).
std::unique_ptr<CompiledRules> CompileRuleText(const std::string& path, const std::string& text,
                                               const OperatorRegistry& registry,
                                               const std::string& tables_dir = {});

}  // namespace aisle::engine
