#pragma once
// `aisle fmt`: the canonical layout of a rule file. Declarations start at column 0, pipeline
// stages (`| ...`), rule clauses (label, let, when, emit, throttle, dedupe, suppress) and schedule
// clauses (from, label, when, emit) on their own lines indented by two, `message` by four; a
// policy's items (params, rules) by two more inside its braces, with its `}` on a line of its
// own; one space around operators and after commas, none inside parentheses;
// at most one blank line, kept where the author put one between declarations. Comments are kept,
// on their own line or after code as written. Idempotent; it changes only whitespace.

#include <string>
#include <string_view>

namespace aisle::dsl {

// Formats rule text. The caller should format only text that parses (syntax errors may not keep
// their meaning); the tokens of the result are the tokens of the input, in order.
std::string Format(std::string_view text);

}  // namespace aisle::dsl
