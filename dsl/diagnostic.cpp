#include "dsl/diagnostic.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace aisle::dsl {

void Diagnostics::Error(std::string code, Span span, std::string message, std::string help) {
  list_.push_back({Severity::kError, std::move(code), std::move(message), span, std::move(help)});
  ++errors_;
}

void Diagnostics::Warning(std::string code, Span span, std::string message, std::string help) {
  list_.push_back({Severity::kWarning, std::move(code), std::move(message), span, std::move(help)});
}

std::vector<Diagnostic> Diagnostics::Sorted() const {
  std::vector<Diagnostic> out = list_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.source != b.span.source) return a.span.source < b.span.source;
    return a.span.begin < b.span.begin;
  });
  return out;
}

std::string Render(const SourceManager& sources, const Diagnostic& d) {
  const LineCol at = sources.Locate(d.span.source, d.span.begin);
  std::string out = fmt::format("{}:{}:{}: {}[{}]: {}", sources.path(d.span.source), at.line,
                                at.column, d.severity == Severity::kError ? "error" : "warning",
                                d.code, d.message);
  if (!d.help.empty()) out += "; " + d.help;
  out += '\n';
  std::string_view line = sources.Line(d.span.source, at.line);
  std::string gutter = fmt::format("{:>4} | ", at.line);
  out += gutter;
  out += line;
  out += '\n';
  // Caret under the span (clipped to the line), measured in code points; tabs kept as tabs.
  std::string caret(gutter.size() - 2, ' ');
  caret += "| ";
  uint32_t column = 1;
  for (char ch : line) {
    if ((static_cast<unsigned char>(ch) & 0xC0) == 0x80) continue;
    if (column >= at.column) break;
    caret += ch == '\t' ? '\t' : ' ';
    ++column;
  }
  uint32_t width = 0;
  const LineCol end = sources.Locate(d.span.source, d.span.end);
  if (end.line == at.line && end.column > at.column) {
    width = end.column - at.column;
  } else {
    // The span runs past this line (or is empty): underline to the end of the line, at least one.
    uint32_t line_cols = 0;
    for (char ch : line)
      if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++line_cols;
    width = line_cols + 1 > at.column ? line_cols + 1 - at.column : 1;
    if (end.line == at.line) width = 1;
  }
  caret.append(std::max<uint32_t>(width, 1), '^');
  out += caret;
  out += '\n';
  return out;
}

}  // namespace aisle::dsl
