#pragma once
// A lexer for the formatter and for canonical text (fingerprints): words, numbers (with their
// duration unit or percent sign), strings, operators, and comments, each with what stood before
// it (a line break, blank lines). The parser reads the grammar with PEGTL and uses this only to
// find a policy's '}' when it recovers from a syntax error.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aisle::dsl {

struct Token {
  enum class Kind { kWord, kNumber, kString, kOperator, kComment } kind;
  std::string_view text;
  bool line_break_before = false;  // a newline between the previous token and this one
  bool blank_line_before = false;  // an empty line between them
};

// Splits text into tokens. Never fails: a byte that starts no token becomes a one-byte operator.
std::vector<Token> Lex(std::string_view text);

// The declaration's tokens without comments, joined by single spaces: equal for texts that
// differ only in layout and comments (the basis of operator fingerprints).
std::string CanonicalTokens(std::string_view text);

}  // namespace aisle::dsl
