// Golden diagnostic cases (tests/dsl/cases).
//
// Each `cases/NAME.aisle` states the diagnostics it must produce in `# expect: ` comment lines, in
// the order they print (sorted by file, then position), each exactly the rendered first line with
// the file's path written `FILE` and its folder written `DIR`. A case without `# expect:` lines
// must check clean and build an operator graph. A sub-folder of cases/ is one rule set (a
// multi-file case): its files' `# expect:` lines are read in path order and name files as
// `DIR/a.aisle`. A case with a `# known-bug:` line (one that once crashed the checker) runs in a
// child process, so a crash fails that case alone; it must pass like any other.

#include <algorithm>
#include <csignal>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/dsl/codes.hpp"
#include "tests/support/paths.hpp"

#include "dsl/diagnostic.hpp"
#include "engine/compile.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

namespace fs = std::filesystem;
using aisle::engine::CompileRules;
using aisle::engine::OperatorRegistry;

namespace {

constexpr std::string_view kExpect = "# expect: ";
constexpr std::string_view kKnownBug = "# known-bug: ";

struct Case {
  std::string name;  // file or folder name under cases/
  fs::path path;     // what is compiled: one file, or a folder
  bool is_folder = false;
  std::vector<std::string> expected;
  std::string known_bug;  // empty unless the case documents a bug
};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> AisleFilesBelow(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".aisle")
      out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path CasesDir() {
  return fs::weakly_canonical(fs::path(AISLE_DSL_CASES));
}

std::vector<Case> LoadCases() {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(CasesDir())) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  std::vector<Case> cases;
  for (const fs::path& p : entries) {
    Case c;
    c.name = p.filename().string();
    c.path = p;
    std::vector<fs::path> files;
    if (fs::is_directory(p)) {
      c.is_folder = true;
      files = AisleFilesBelow(p);
    } else if (p.extension() == ".aisle") {
      files.push_back(p);
    } else {
      continue;  // CSV files used by the table cases
    }
    for (const fs::path& f : files) {
      std::istringstream lines(ReadText(f));
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind(kExpect, 0) == 0) c.expected.push_back(line.substr(kExpect.size()));
        if (line.rfind(kKnownBug, 0) == 0) c.known_bug = line.substr(kKnownBug.size());
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// How the loader shows a path in diagnostics: relative to the current folder when below it, else
// as is (dsl/loader.cpp, Display). The cases replace what it shows with FILE and DIR.
using aisle::testing::Shown;

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Paths in rendered text -> FILE (the case file) and DIR (its rule-set folder).
std::string Normalize(std::string text, const Case& c) {
  const fs::path dir = c.is_folder ? c.path : c.path.parent_path();
  if (!c.is_folder) {
    ReplaceAll(text, c.path.string(), "FILE");
    ReplaceAll(text, Shown(c.path), "FILE");
  }
  ReplaceAll(text, dir.string(), "DIR");
  ReplaceAll(text, Shown(dir), "DIR");
  return text;
}

// Compiles from a fixed current folder (tests/dsl), so that what the loader shows does not depend
// on where the test program was started (from inside cases/, a folder would show as ".").
class FixedCurrentPath {
 public:
  FixedCurrentPath() : saved_(fs::current_path()) { fs::current_path(CasesDir().parent_path()); }
  ~FixedCurrentPath() {
    std::error_code ec;
    fs::current_path(saved_, ec);
  }
  FixedCurrentPath(const FixedCurrentPath&) = delete;
  FixedCurrentPath& operator=(const FixedCurrentPath&) = delete;

 private:
  fs::path saved_;
};

const OperatorRegistry& Registry() {
  static const OperatorRegistry registry = [] {
    OperatorRegistry r;
    aisle::stdlib::RegisterStdlib(r);
    return r;
  }();
  return registry;
}

// The first line of every diagnostic, in printing order, then position-less errors.
std::vector<std::string> RenderedFirstLines(const Case& c) {
  std::vector<std::string> lines;
  const FixedCurrentPath cwd;
  try {
    auto compiled = CompileRules({c.path.string()}, Registry());
    for (const auto& d : compiled->diagnostics.Sorted()) {
      const std::string text = aisle::dsl::Render(compiled->rules.sources, d);
      lines.push_back(Normalize(text.substr(0, text.find('\n')), c));
    }
    for (const auto& e : compiled->errors) lines.push_back(Normalize("error: " + e, c));
    if (!compiled->diagnostics.has_errors() && compiled->errors.empty() && !compiled->ok())
      lines.push_back("(no errors, but no operator graph either)");
  } catch (const std::exception& e) {
    lines.push_back(std::string("uncaught exception: ") + e.what());
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Runs RenderedFirstLines in a child process, so that a case whose bug aborts (a failed
// assertion in the parser) fails alone instead of ending the whole test program.
std::vector<std::string> RenderedFirstLinesIsolated(const Case& c) {
  int fds[2];
  if (pipe(fds) != 0) return {"(pipe failed)"};
  const pid_t child = fork();
  if (child < 0) return {"(fork failed)"};
  if (child == 0) {
    close(fds[0]);
    // Die plainly (no test-framework report from the child); the abort message goes to the pipe.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
    dup2(fds[1], STDERR_FILENO);
    const std::string out = Join(RenderedFirstLines(c));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (WIFSIGNALED(status))
    lines.push_back("crashed with signal " + std::to_string(WTERMSIG(status)));
  return lines;
}

void CheckCase(const Case& c) {
  INFO("case: " << c.name);
  if (c.known_bug.empty()) {
    CHECK(Join(RenderedFirstLines(c)) == Join(c.expected));
  } else {
    INFO("known bug: " << c.known_bug);
    CHECK(Join(RenderedFirstLinesIsolated(c)) == Join(c.expected));
  }
}

}  // namespace

TEST_CASE("golden diagnostic cases", "[dsl][golden]") {
  const std::vector<Case> cases = LoadCases();
  REQUIRE(cases.size() >= 40);
  // A case marked `# known-bug:` runs in a child process, so a crash fails only that case.
  for (const Case& c : cases) CheckCase(c);
}

TEST_CASE("every diagnostic code has a passing golden case", "[dsl][golden]") {
  // Every code that dsl/ emits (grep '"[EW]0' dsl/*.cpp).
  const std::set<std::string>& all = aisle::testing::DiagnosticCodes();
  std::set<std::string> covered;
  for (const Case& c : LoadCases()) {
    if (!c.known_bug.empty()) continue;
    for (const std::string& line : c.expected) {
      const size_t open = line.find('[');
      if (open != std::string::npos) covered.insert(line.substr(open + 1, 4));
    }
  }
  std::vector<std::string> missing;
  std::set_difference(all.begin(), all.end(), covered.begin(), covered.end(),
                      std::back_inserter(missing));
  CHECK(missing.empty());
  std::vector<std::string> unknown;
  std::set_difference(covered.begin(), covered.end(), all.begin(), all.end(),
                      std::back_inserter(unknown));
  CHECK(unknown.empty());
}

TEST_CASE("the positive cases exist and check clean", "[dsl][golden]") {
  int clean = 0;
  for (const Case& c : LoadCases()) {
    if (c.expected.empty() && c.known_bug.empty()) {
      ++clean;
      INFO("case: " << c.name);
      CHECK(RenderedFirstLines(c).empty());
    }
  }
  CHECK(clean >= 3);
  CHECK(fs::is_directory(CasesDir() / "ok_full_language"));
}

namespace {
// The whole rendering of one case, paths normalized.
std::string RenderCase(const std::string& name) {
  Case c;
  c.name = name;
  c.path = CasesDir() / name;
  const FixedCurrentPath cwd;
  auto compiled = CompileRules({c.path.string()}, Registry());
  return Normalize(compiled->Render(), c);
}
}  // namespace

TEST_CASE("full rendering: source line and caret under the exact span", "[dsl][golden][render]") {
  SECTION("a template field: caret under the name inside the string") {
    // Line 6 is `  emit alert to "ops" message "big sale at {stor}"`: the string's quote is at
    // column 31, '{' is byte 12 of the text (column 44), so `stor` spans columns 45..48.
    // The caret line starts with the gutter's width: 5 spaces and "| ", then 44 spaces.
    const std::string expected =
        "FILE:6:45: error[E012]: unknown field 'stor'; did you mean 'store'?\n"
        "   6 |   emit alert to \"ops\" message \"big sale at {stor}\"\n"
        "     |                                             ^^^^\n";
    CHECK(expected ==
          "FILE:6:45: error[E012]: unknown field 'stor'; did you mean 'store'?\n"
          "   6 |   emit alert to \"ops\" message \"big sale at {stor}\"\n"
          "     | " +
              std::string(44, ' ') + "^^^^\n");  // the count, spelled out
    CHECK(RenderCase("e012_template_field.aisle") == expected);
  }
  SECTION("an unterminated string: one caret just past the end of the line") {
    // `  emit alert to "ops` is 20 code points; the newline it lacks a quote before is column 21.
    const std::string expected =
        "FILE:6:21: error[E001]: unterminated string: expected '\"' before the end of the line\n"
        "   6 |   emit alert to \"ops\n"
        "     |                     ^\n";
    CHECK(RenderCase("e001_unterminated_string.aisle") == expected);
  }
  SECTION("the end of the file: the empty line after the last newline") {
    const std::string expected =
        "FILE:5:1: error[E002]: expected an expression (at the end of the file)\n"
        "   5 | \n"
        "     | ^\n";
    CHECK(RenderCase("e002_end_of_file.aisle") == expected);
  }
  SECTION("several diagnostics print in position order, warnings included") {
    // W001 at line 4 comes before the errors of the rules below it.
    const std::string rendered = RenderCase("w001_unused_param.aisle");
    CHECK(rendered ==
          "FILE:4:7: warning[W001]: param 'max_disc_pct' is never used\n"
          "   4 | param max_disc_pct = 15%\n"
          "     |       ^^^^^^^^^^^^\n");
  }
}

TEST_CASE("CompileRuleText and position-less errors", "[dsl][golden]") {
  // Rule text held in memory renders with the path it is given.
  auto compiled = aisle::engine::CompileRuleText(
      "rules/example.aisle",
      "rule big_sale on sale\n  when toal > 500.00 USD\n  emit alert to \"ops\"\n", Registry());
  CHECK_FALSE(compiled->ok());
  CHECK(compiled->Render() ==
        "rules/example.aisle:2:8: error[E012]: unknown field 'toal'; did you mean 'total'?\n"
        "   2 |   when toal > 500.00 USD\n"
        "     |        ^^^^\n");

  auto fine = aisle::engine::CompileRuleText(
      "rules/ok.aisle", "rule big_sale on sale when total > 500.00 USD emit alert to \"ops\"\n",
      Registry());
  CHECK(fine->ok());
  CHECK(fine->Render().empty());

  // A path that does not exist has no source to point into: it prints as "error: ...".
  const std::string missing = (CasesDir() / "no_such_file.aisle").string();
  auto none = CompileRules({missing}, Registry());
  CHECK_FALSE(none->ok());
  CHECK(none->Render() == "error: no such file or folder: '" + missing + "'\n");
}

TEST_CASE("the code list is what the checker's sources emit", "[dsl][golden]") {
  // Every "ENNN"/"WNNN" literal in dsl/*.cpp and dsl/*.hpp: the codes the checker can emit.
  std::set<std::string> emitted;
  const std::regex code("\"([EW][0-9][0-9][0-9])\"");
  const fs::path dsl = fs::path(AISLE_DSL_CASES) / ".." / ".." / ".." / "dsl";
  for (const auto& entry : fs::directory_iterator(dsl)) {
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(text.begin(), text.end(), code), end; it != end; ++it)
      emitted.insert((*it)[1].str());
  }
  CHECK(emitted == aisle::testing::DiagnosticCodes());
}
