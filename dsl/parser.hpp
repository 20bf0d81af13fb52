#pragma once
// Text -> syntax tree. Collects every syntax error of a file (recovering at the next declaration)
// instead of stopping at the first.

#include "dsl/ast.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/source.hpp"

namespace aisle::dsl {

// Parses one source file. Declarations that fail to parse are reported and skipped.
ast::Module Parse(const SourceManager& sources, SourceId source, Diagnostics& diagnostics);

}  // namespace aisle::dsl
