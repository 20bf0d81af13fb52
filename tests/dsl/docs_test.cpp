// docs/diagnostics.md is tested: every code has a section, and every example in a section (one or
// more ```aisle blocks, each starting with a `# rules/NAME.aisle` comment that names its file, or
// `# rules/NAME.csv` for a table, whose file starts after that line; then the ```text block of
// what it prints) is written to a fresh folder `rules/`, checked as one rule set (beside the
// tables cases/stores.csv and cases/products.csv), and must print exactly the text block
// (trailing blanks aside).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"

#include "engine/compile.hpp"
#include "engine/registry/registry.hpp"
#include "stdlib/stdlib.hpp"

namespace fs = std::filesystem;

namespace {

struct Block {
  std::string language;  // "aisle", "text", ...
  std::string body;      // without the fences, each line ending in '\n'
};

struct Section {
  std::string code;  // "E012"
  std::vector<Block> blocks;
};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path DocPath() {
  // AISLE_DSL_CASES is <repo>/tests/dsl/cases.
  return fs::weakly_canonical(fs::path(AISLE_DSL_CASES) / ".." / ".." / ".." / "docs" /
                              "diagnostics.md");
}

std::vector<Section> ReadSections(const std::string& markdown) {
  static const std::regex heading(R"(^## ([EW][0-9]{3})\b.*)");
  std::vector<Section> sections;
  std::istringstream lines(markdown);
  bool in_block = false;
  Block* open = nullptr;  // the block being read, when it belongs to a code's section
  for (std::string line; std::getline(lines, line);) {
    if (in_block) {
      if (line == "```") {
        in_block = false;
        open = nullptr;
      } else if (open) {
        open->body += line + "\n";
      }
      continue;
    }
    std::smatch m;
    if (std::regex_match(line, m, heading)) {
      sections.push_back({m[1], {}});
    } else if (line.rfind("```", 0) == 0) {
      in_block = true;
      if (!sections.empty()) {
        sections.back().blocks.push_back({line.substr(3), {}});
        open = &sections.back().blocks.back();
      }
    }
  }
  return sections;
}

std::string RightTrimLines(const std::string& text) {
  std::istringstream lines(text);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

using aisle::testing::Shown;

using aisle::testing::TempDir;

// Writes the files of one example under `base/rules/`, checks that folder, and returns what
// `aisle check` would print, with `base/` removed from paths.
std::string RunExample(const std::vector<const Block*>& files, const fs::path& base) {
  const fs::path rules = base / "rules";
  fs::create_directories(rules);
  for (const char* table : {"stores.csv", "products.csv"})
    fs::copy_file(fs::path(AISLE_DSL_CASES) / table, rules / table, fs::copy_options::overwrite_existing);
  for (const Block* b : files) {
    const std::string first = b->body.substr(0, b->body.find('\n'));
    REQUIRE(first.rfind("# rules/", 0) == 0);
    // A rule file keeps its naming comment; any other file (a table) starts after it.
    const std::string name = first.substr(8);
    const bool rule_file = name.size() > 6 && name.ends_with(".aisle");
    std::ofstream(rules / name, std::ios::binary)
        << (rule_file ? b->body : b->body.substr(std::min(b->body.size(), first.size() + 1)));
  }
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  auto compiled = aisle::engine::CompileRules({rules.string()}, registry);
  std::string out = compiled->Render();
  ReplaceAll(out, base.string() + "/", "");
  ReplaceAll(out, Shown(base) + "/", "");
  return out;
}

}  // namespace

TEST_CASE("docs/diagnostics.md documents every code", "[dsl][docs]") {
  const std::string markdown = ReadText(DocPath());
  REQUIRE(!markdown.empty());
  const std::vector<Section> sections = ReadSections(markdown);
  std::set<std::string> codes;
  for (const auto& s : sections) codes.insert(s.code);
  const std::set<std::string> all = {"E001", "E002", "E004", "E005", "E006", "E010", "E011",
                                     "E012", "E014", "E020", "E021", "E022", "E023", "E024",
                                     "E025", "E026", "E027", "E028", "E029", "E030", "E031",
                                     "E040", "E041", "E042", "E044", "E045", "E050", "E060",
                                     "E061", "E062", "E063", "E064", "E065", "E066", "E067",
                                     "E070", "E071", "E072", "E073", "E074", "E075", "E076", "E077", "E080", "E081", "E082", "E083",
                                     "E084", "E085", "E086", "E087", "E088", "E090", "E091",
                                     "E092", "E093", "E094", "E095", "E096", "E097", "W001",
                                     "W010", "W011", "W020", "W030"};
  CHECK(codes == all);
  CHECK(sections.size() == all.size());  // one section per code
  CHECK(markdown.find("Codes are stable") != std::string::npos);
}

TEST_CASE("docs/diagnostics.md examples print what the page says", "[dsl][docs]") {
  const std::vector<Section> sections = ReadSections(ReadText(DocPath()));
  TempDir tmp;
  int examples = 0;
  for (const Section& s : sections) {
    std::vector<const Block*> files;
    int n = 0;
    for (const Block& b : s.blocks) {
      if (b.language == "aisle") {
        files.push_back(&b);
      } else if (b.language == "text" && !files.empty()) {
        INFO("section " << s.code << ", example " << n + 1);
        const fs::path base = tmp.path() / (s.code + "-" + std::to_string(++n));
        const std::string printed = RunExample(files, base);
        CHECK(RightTrimLines(printed) == RightTrimLines(b.body));
        // The first line carries the section's code.
        CHECK(printed.find("[" + s.code + "]") != std::string::npos);
        files.clear();
        ++examples;
      }
    }
    INFO("section " << s.code);
    CHECK(n >= 1);
    CHECK(files.empty());  // no aisle block without the output it prints
  }
  CHECK(examples >= 25);
}
