// Source positions (byte offsets -> line:column in code points) and diagnostic rendering.

#include <string>

#include <catch2/catch.hpp>

#include "dsl/diagnostic.hpp"
#include "dsl/parser.hpp"
#include "dsl/source.hpp"

using namespace aisle::dsl;

namespace {

Span SpanOf(const SourceManager& sources, SourceId id, const std::string& needle,
            size_t length = 0) {
  const size_t at = std::string(sources.text(id)).find(needle);
  REQUIRE(at != std::string::npos);
  return {id, static_cast<uint32_t>(at),
          static_cast<uint32_t>(at + (length ? length : needle.size()))};
}

bool Same(LineCol a, uint32_t line, uint32_t column) {
  return a.line == line && a.column == column;
}

}  // namespace

TEST_CASE("Locate counts lines and code points", "[dsl][diagnostic]") {
  SourceManager sources;
  const SourceId id = sources.Add("x.aisle", "ab\ncd");
  CHECK(Same(sources.Locate(id, 0), 1, 1));
  CHECK(Same(sources.Locate(id, 2), 1, 3));  // the newline itself ends line 1
  CHECK(Same(sources.Locate(id, 3), 2, 1));
  // The end of the file (offset 5 = size) is just past the last character.
  CHECK(Same(sources.Locate(id, 5), 2, 3));
  // Offsets past the end are clamped to it.
  CHECK(Same(sources.Locate(id, 500), 2, 3));

  // A file ending with a newline: its end is the start of an empty line 2.
  const SourceId nl = sources.Add("y.aisle", "ab\n");
  CHECK(Same(sources.Locate(nl, 3), 2, 1));
  CHECK(sources.Line(nl, 2).empty());

  // An empty file.
  const SourceId empty = sources.Add("z.aisle", "");
  CHECK(Same(sources.Locate(empty, 0), 1, 1));

  // "é" (2 bytes) and "€" (3 bytes) are one column each: "é€x" puts x at byte 5, column 3.
  const SourceId utf8 = sources.Add("u.aisle", "\xC3\xA9\xE2\x82\xACx\n\xF0\x9F\x9B\x92y");
  CHECK(Same(sources.Locate(utf8, 5), 1, 3));
  CHECK(Same(sources.Locate(utf8, 6), 1, 4));
  CHECK(Same(sources.Locate(utf8, 11), 2, 2));  // after the 4-byte cart emoji on line 2
}

TEST_CASE("Line and Slice", "[dsl][diagnostic]") {
  SourceManager sources;
  const SourceId id = sources.Add("x.aisle", "first\r\nsecond\n\nlast");
  CHECK(sources.Line(id, 1) == "first");  // without "\r"
  CHECK(sources.Line(id, 2) == "second");
  CHECK(sources.Line(id, 3).empty());
  CHECK(sources.Line(id, 4) == "last");
  CHECK(sources.Line(id, 0).empty());
  CHECK(sources.Line(id, 5).empty());
  CHECK(sources.Slice({id, 7, 13}) == "second");
  CHECK(sources.Slice({id, 15, 100}) == "last");  // clipped at the end
  CHECK(sources.Slice({id, 100, 101}).empty());
  CHECK(sources.path(id) == "x.aisle");
  CHECK(sources.size() == 1);
}

TEST_CASE("Render: a multi-byte character before the span", "[dsl][diagnostic]") {
  SourceManager sources;
  const SourceId id = sources.Add("rules/x.aisle",
                                  "rule r on sale\n  when store == \"caf\xC3\xA9\" and toal > 1\n");
  Diagnostic d;
  d.code = "E012";
  d.message = "unknown field 'toal'";
  d.help = "did you mean 'total'?";
  d.span = SpanOf(sources, id, "toal");
  // Line 2: `  when store == "café" and toal > 1`. Columns: "  when " 1-7, "store" 8-12, " == "
  // 13-16,
  // '"' 17, c a f é 18-21, '"' 22, " and " 23-27: `toal` starts at column 28 (byte 29 of the line,
  // since é takes two bytes). The caret line repeats the gutter's width (5 spaces, "| "), then 27
  // spaces, one per code point before the span.
  CHECK(Render(sources, d) ==
        "rules/x.aisle:2:28: error[E012]: unknown field 'toal'; did you mean 'total'?\n"
        "   2 |   when store == \"caf\xC3\xA9\" and toal > 1\n"
        "     |                            ^^^^\n");
}

TEST_CASE("Render: tabs, warnings, no help, two-digit lines", "[dsl][diagnostic]") {
  SourceManager sources;
  std::string text;
  for (int i = 1; i <= 11; ++i) text += "# filler\n";
  text += "\twhen x\n";  // line 12
  const SourceId id = sources.Add("a.aisle", text);
  Diagnostic d;
  d.severity = Severity::kWarning;
  d.code = "W001";
  d.message = "something";
  d.span = SpanOf(sources, id, "x\n", 1);
  // The tab is column 1 and stays a tab in the caret line; `x` is column 7.
  CHECK(Render(sources, d) ==
        "a.aisle:12:7: warning[W001]: something\n"
        "  12 | \twhen x\n"
        "     | \t     ^\n");
}

TEST_CASE("Render: spans at the end of the file and across lines", "[dsl][diagnostic]") {
  SourceManager sources;
  const SourceId id = sources.Add("e.aisle", "param x =");
  Diagnostic eof;
  eof.code = "E002";
  eof.message = "expected an expression (at the end of the file)";
  eof.span = {id, 9, 10};  // past the end: clamped, one caret after the last character
  CHECK(Render(sources, eof) ==
        "e.aisle:1:10: error[E002]: expected an expression (at the end of the file)\n"
        "   1 | param x =\n"
        "     |          ^\n");

  const SourceId multi = sources.Add("m.aisle", "when a and\n  b\n");
  Diagnostic wide;
  wide.code = "E020";
  wide.message = "msg";
  wide.span = {multi, 5, 14};  // from `a` (column 6) to the end of `b` on line 2
  // Underlined from column 6 to the end of line 1 ("a and": 5 carets).
  CHECK(Render(sources, wide) ==
        "m.aisle:1:6: error[E020]: msg\n"
        "   1 | when a and\n"
        "     |      ^^^^^\n");

  Diagnostic empty;
  empty.code = "E001";
  empty.message = "msg";
  empty.span = {multi, 5, 5};  // an empty span still gets one caret
  CHECK(Render(sources, empty) ==
        "m.aisle:1:6: error[E001]: msg\n"
        "   1 | when a and\n"
        "     |      ^\n");
}

TEST_CASE("Diagnostics collects, counts and sorts", "[dsl][diagnostic]") {
  SourceManager sources;
  const SourceId a = sources.Add("a.aisle", "0123456789");
  const SourceId b = sources.Add("b.aisle", "0123456789");
  Diagnostics diags;
  CHECK_FALSE(diags.has_errors());
  diags.Warning("W001", {a, 1, 2}, "w");
  CHECK_FALSE(diags.has_errors());  // warnings are not errors
  diags.Error("E012", {b, 0, 1}, "third");
  diags.Error("E020", {a, 5, 6}, "second");
  diags.Error("E021", {a, 5, 6}, "second, same place");
  diags.Error("E010", {a, 0, 1}, "first");
  CHECK(diags.has_errors());
  CHECK(diags.error_count() == 4);
  CHECK(diags.all().size() == 5);
  const auto sorted = diags.Sorted();
  REQUIRE(sorted.size() == 5);
  // By source, then offset; equal positions keep the order they were reported in.
  CHECK(sorted[0].message == "first");
  CHECK(sorted[1].message == "w");
  CHECK(sorted[2].message == "second");
  CHECK(sorted[3].message == "second, same place");
  CHECK(sorted[4].message == "third");
}

TEST_CASE("CRLF line ends: a position at the end of a line",
          "[dsl][diagnostic]") {
  // With "\r\n" line ends the unterminated string is reported at the '\n', one column past the
  // invisible '\r': the header says column 22 while the caret (drawn on the line without its
  // '\r') sits at column 21. `  emit alert to "ops` is 20 code points: the end is column 21.
  SourceManager sources;
  const SourceId id = sources.Add(
      "crlf.aisle", "rule r on sale\r\n  when total > 5.00 USD\r\n  emit alert to \"ops\r\n");
  Diagnostics diags;
  Parse(sources, id, diags);
  REQUIRE(diags.all().size() == 1);
  CHECK(Render(sources, diags.all()[0]) ==
        "crlf.aisle:3:21: error[E001]: unterminated string: expected '\"' before the end of the "
        "line\n"
        "   3 |   emit alert to \"ops\n"
        "     |                     ^\n");
}
