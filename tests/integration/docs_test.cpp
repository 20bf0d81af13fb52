// Every ```aisle block of docs/language.md, docs/operators.md and README.md compiles, or fails with the code its
// `# expect: error[E0NN]` line names.

#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "engine/compile.hpp"
#include "stdlib/stdlib.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

struct Block {
  int line;
  std::string text;
};

std::vector<Block> AisleBlocks(const std::string& markdown) {
  std::vector<Block> out;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  bool inside = false;
  Block current{};
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line.rfind("```aisle", 0) == 0) {
      inside = true;
      current = {number, {}};
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      out.push_back(current);
    } else if (inside) {
      current.text += line + "\n";
    }
  }
  return out;
}

void CheckBlocks(const std::string& doc) {
  aisle::engine::OperatorRegistry registry;
  aisle::stdlib::RegisterStdlib(registry);
  const std::string path = std::string(AISLE_SOURCE_DIR) + "/" + doc;
  auto blocks = AisleBlocks(aisle::testing::ReadFile(path));
  REQUIRE(!blocks.empty());
  const std::regex expect(R"(# expect: (error|warning)\[([EW]\d{3})\])");
  for (const auto& block : blocks) {
    auto compiled = aisle::engine::CompileRuleText(
        doc + ".aisle", block.text, registry,
        std::string(AISLE_SOURCE_DIR) + "/tests/integration/fixtures/tables");
    std::smatch m;
    INFO(doc << ":" << block.line << "\n" << block.text << "\n" << compiled->Render());
    if (std::regex_search(block.text, m, expect)) {
      std::string wanted = m[1].str() + "[" + m[2].str() + "]";
      CHECK(compiled->Render().find(wanted) != std::string::npos);
      if (m[1] == "error") CHECK_FALSE(compiled->ok());
    } else {
      CHECK(compiled->ok());
    }
  }
}

}  // namespace

TEST_CASE("docs/language.md examples check as the doc says", "[docs]") { CheckBlocks("docs/language.md"); }

TEST_CASE("README.md examples check", "[docs]") { CheckBlocks("README.md"); }

TEST_CASE("docs/operators.md examples check", "[docs]") { CheckBlocks("docs/operators.md"); }
