#pragma once
// Diagnostics: severity, stable code (E012), message, primary span, notes. Parser and checker
// collect them and go on; nothing stops at the first error. Codes are documented in
// docs/diagnostics.md.

#include <string>
#include <vector>

#include "dsl/source.hpp"

namespace aisle::dsl {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;     // "E012"
  std::string message;  // "unknown field 'toal'"
  Span span;
  std::string help;  // "did you mean 'total'?" (printed after the message), may be empty
};

class Diagnostics {
 public:
  void Error(std::string code, Span span, std::string message, std::string help = {});
  void Warning(std::string code, Span span, std::string message, std::string help = {});

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return list_; }
  // Sorted by file, then position, for printing.
  std::vector<Diagnostic> Sorted() const;

 private:
  std::vector<Diagnostic> list_;
  int errors_ = 0;
};

// Renders "path:line:col: error[E012]: message; help", the source line and a caret line.
std::string Render(const SourceManager& sources, const Diagnostic& d);

}  // namespace aisle::dsl
