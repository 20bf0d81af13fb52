#pragma once
// Loads a rule set: the files or folders named on the command line, every `.aisle` file below a
// folder (sorted by path), and their imports (relative to the importing file, confined to the
// rules root). Parses each file once.

#include <string>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/source.hpp"

namespace aisle::dsl {

struct RuleSet {
  SourceManager sources;
  std::vector<ast::Module> modules;  // one per source, same order
  std::string root;                  // imports may not leave this folder
};

// Reads and parses every file; problems (unreadable file, bad import, import cycle, syntax
// errors) go to `diagnostics`. A path that cannot be read at all is reported with `error` text
// (there is no source to point into) and skipped.
RuleSet LoadRuleSet(const std::vector<std::string>& paths, Diagnostics& diagnostics,
                    std::vector<std::string>& errors);

// Parses rule text held in memory (tests, fuzzing, the embedding API).
RuleSet LoadRuleText(std::string path, std::string text, Diagnostics& diagnostics);

}  // namespace aisle::dsl
