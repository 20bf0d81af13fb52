#include "dsl/formatter.hpp"

#include <array>
#include <vector>

#include "dsl/lexer.hpp"

namespace aisle::dsl {

namespace {

using Kind = Token::Kind;

constexpr std::array<std::string_view, 9> kDeclarations = {
    "import", "param", "table", "stream", "metric", "rule", "policy", "digest", "schedule"};
// Clauses of a rule, and of a schedule (`from`).
constexpr std::array<std::string_view, 8> kClauses = {"label",  "let",      "when", "emit",
                                                      "throttle", "dedupe", "suppress", "from"};
// Words after which `(` opens a parenthesized expression, not a call, and `-` is unary.
constexpr std::array<std::string_view, 29> kKeywords = {
    "and",  "or",      "not",      "when", "where", "let",     "lateness", "offset",
    "tumbling", "to",  "message",  "severity", "on", "from", "hopping", "every",
        "per",  "throttle", "delay", "by", "within", "for", "sliding", "gap", "idle",
    "min_support", "min_confidence", "max_items", "spend"};

template <size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view word) {
  for (auto w : set)
    if (w == word) return true;
  return false;
}

bool IsWord(const Token& t, std::string_view w) { return t.kind == Kind::kWord && t.text == w; }

class Printer {
 public:
  explicit Printer(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::string Run() {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].kind == Kind::kComment) {
        Comment(i);
        continue;
      }
      Place(i);
    }
    if (!line_.empty()) EndLine();
    return out_;
  }

 private:
  bool IsDeclaration(const Token& t) const {
    return depth_ == 0 && t.kind == Kind::kWord && In(kDeclarations, t.text);
  }
  bool ClosesPolicy(const Token& t) const {
    return depth_ == 0 && policies_ > 0 && t.kind == Kind::kOperator && t.text == "}";
  }

  // Where a token goes: a new line (with its indentation) or after the previous one. Inside a
  // policy's braces everything is indented by two more.
  int BreakIndent(size_t i) const {
    const auto& t = tokens_[i];
    const int base = 2 * policies_;
    if (ClosesPolicy(t)) return base - 2;
    if (IsDeclaration(t)) return base;
    if (depth_ == 0 && t.kind == Kind::kOperator && t.text == "|") return base + 2;
    if (depth_ == 0 && in_rule_ && t.kind == Kind::kWord && In(kClauses, t.text)) return base + 2;
    if (depth_ == 0 && in_rule_ && after_emit_ && (IsWord(t, "message") || IsWord(t, "with")))
      return base + 4;
    return -1;
  }

  void Place(size_t i) {
    const auto& t = tokens_[i];
    int indent = BreakIndent(i);
    const bool declaration = IsDeclaration(t);
    const bool close = ClosesPolicy(t);
    if (declaration || close) {
      in_rule_ = IsWord(t, "rule") || IsWord(t, "schedule");
      after_emit_ = false;
      policy_header_ = IsWord(t, "policy");
    }
    if (IsWord(t, "emit") && depth_ == 0) after_emit_ = true;
    if (indent >= 0 || force_break_) {
      if (indent < 0) indent = 2 * policies_ + 4;  // continuation after a comment
      if (!line_.empty()) EndLine();
      if (declaration && t.blank_line_before && !out_.empty()) out_ += '\n';
      line_.assign(static_cast<size_t>(indent), ' ');
      force_break_ = false;
    } else if (!line_.empty() && SpaceBetween(i)) {
      line_ += ' ';
    }
    line_ += t.text;
    if (t.kind == Kind::kOperator && t.text == "(") ++depth_;
    if (t.kind == Kind::kOperator && t.text == ")" && depth_ > 0) --depth_;
    if (policy_header_ && depth_ == 0 && t.kind == Kind::kOperator && t.text == "{") {
      ++policies_;  // the policy's items start on the next line
      policy_header_ = false;
    }
    if (close) --policies_;
    prev_ = i;
    has_prev_ = true;
  }

  bool SpaceBetween(size_t i) const {
    if (!has_prev_) return false;
    const auto& p = tokens_[prev_];
    const auto& t = tokens_[i];
    auto op = [](const Token& x, std::string_view s) {
      return x.kind == Kind::kOperator && x.text == s;
    };
    if (op(t, ")") || op(t, ",") || op(t, ".") || op(p, ".") || op(p, "(")) return false;
    if (op(t, ":") || op(p, ":")) return false;  // a time of day: 06:00
    if (op(t, "(") && p.kind == Kind::kWord && !In(kKeywords, p.text)) return false;  // a call
    if (op(p, "-") && UnaryMinus(prev_)) return false;
    return true;
  }

  // Whether the `-` at `i` negates (rather than subtracts).
  bool UnaryMinus(size_t i) const {
    if (i == 0) return true;
    size_t j = i;
    do {
      --j;
    } while (j > 0 && tokens_[j].kind == Kind::kComment);
    const auto& p = tokens_[j];
    if (p.kind == Kind::kOperator) return p.text != ")";
    if (p.kind == Kind::kWord) return In(kKeywords, p.text) || In(kDeclarations, p.text);
    return false;
  }

  void Comment(size_t i) {
    const auto& c = tokens_[i];
    if (c.line_break_before || !has_prev_) {
      if (!line_.empty()) EndLine();
      if (c.blank_line_before && !out_.empty()) out_ += '\n';
      // Indent like the code that follows it.
      size_t next = i + 1;
      while (next < tokens_.size() && tokens_[next].kind == Kind::kComment) ++next;
      int indent = next < tokens_.size() ? BreakIndent(next) : 0;
      if (next < tokens_.size() && ClosesPolicy(tokens_[next])) indent += 2;  // ends the body
      if (indent < 0) indent = has_prev_ ? 2 * policies_ + 4 : 0;
      out_.append(static_cast<size_t>(indent), ' ');
      out_ += c.text;
      out_ += '\n';
    } else {
      line_ += "  ";
      line_ += c.text;
      EndLine();
    }
    // Code after a comment starts a new line.
    force_break_ = has_prev_;
  }

  void EndLine() {
    while (!line_.empty() && line_.back() == ' ') line_.pop_back();
    out_ += line_;
    out_ += '\n';
    line_.clear();
  }

  std::vector<Token> tokens_;
  std::string out_, line_;
  int depth_ = 0;
  int policies_ = 0;  // open policy braces
  bool in_rule_ = false, after_emit_ = false, force_break_ = false, has_prev_ = false;
  bool policy_header_ = false;  // between `policy` and its '{'
  size_t prev_ = 0;
};

}  // namespace

std::string Format(std::string_view text) { return Printer(Lex(text)).Run(); }

}  // namespace aisle::dsl
