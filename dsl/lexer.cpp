#include "dsl/lexer.hpp"

#include <cctype>

namespace aisle::dsl {

namespace {
bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::vector<Token> Lex(std::string_view t) {
  std::vector<Token> out;
  size_t i = 0;
  int newlines = 0;
  auto push = [&](Token::Kind kind, size_t begin, size_t end) {
    out.push_back({kind, t.substr(begin, end - begin), newlines > 0, newlines > 1});
    newlines = 0;
  };
  while (i < t.size()) {
    char c = t[i];
    if (c == '\n') {
      ++newlines;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '#') {
      size_t end = t.find('\n', i);
      if (end == std::string_view::npos) end = t.size();
      size_t stop = end;
      while (stop > i && (t[stop - 1] == '\r' || t[stop - 1] == ' ' || t[stop - 1] == '\t')) --stop;
      push(Token::Kind::kComment, i, stop);
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < t.size() && t[j] != '"' && t[j] != '\n') j += (t[j] == '\\' && j + 1 < t.size()) ? 2 : 1;
      if (j < t.size() && t[j] == '"') ++j;
      push(Token::Kind::kString, i, std::min(j, t.size()));
      i = std::min(j, t.size());
    } else if (IsDigit(c)) {
      size_t j = i;
      while (j < t.size() && IsDigit(t[j])) ++j;
      if (j + 1 < t.size() && t[j] == '.' && IsDigit(t[j + 1])) {
        ++j;
        while (j < t.size() && IsDigit(t[j])) ++j;
      }
      // A duration unit or a percent sign belongs to the number.
      while (j < t.size() && (IsWordChar(t[j]) || t[j] == '%')) ++j;
      push(Token::Kind::kNumber, i, j);
      i = j;
    } else if (IsWordStart(c)) {
      size_t j = i;
      while (j < t.size() && IsWordChar(t[j])) ++j;
      push(Token::Kind::kWord, i, j);
      i = j;
    } else {
      size_t len = 1;
      if (i + 1 < t.size() && t[i + 1] == '=' && (c == '=' || c == '!' || c == '<' || c == '>')) len = 2;
      push(Token::Kind::kOperator, i, i + len);
      i += len;
    }
  }
  return out;
}

std::string CanonicalTokens(std::string_view text) {
  std::string out;
  for (const Token& tok : Lex(text)) {
    if (tok.kind == Token::Kind::kComment) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(tok.text);
  }
  return out;
}

}  // namespace aisle::dsl
