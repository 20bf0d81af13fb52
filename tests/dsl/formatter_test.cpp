// aisle fmt: the canonical layout of a hand-written messy file, and on every rule file in the
// repository that parses: idempotent, same tokens and comments, same meaning.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "dsl/diagnostic.hpp"
#include "dsl/formatter.hpp"
#include "dsl/lexer.hpp"
#include "dsl/parser.hpp"

using aisle::dsl::Format;
using aisle::dsl::Lex;

namespace {

std::vector<std::string> Texts(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : Lex(text)) out.emplace_back(t.text);
  return out;
}

bool Parses(const std::string& text) {
  aisle::dsl::SourceManager sources;
  aisle::dsl::Diagnostics diagnostics;
  aisle::dsl::Parse(sources, sources.Add("x.aisle", text), diagnostics);
  return !diagnostics.has_errors();
}

}  // namespace

TEST_CASE("fmt lays out a messy file canonically", "[dsl][fmt]") {
  const std::string messy =
      "# sales\n"
      "param   z=-3.5\n"
      "\n"
      "\n"
      "\n"
      "metric   m=sale|where(total>10.00  USD and not(status==\"x\"))\n"
      "   |key store,staff|window tumbling 1h offset 5m # aligned\n"
      "|agg n=count( ),s=sum(total*2)\n"
      "rule r on m label detects=\"x\" let y=-s when n>1 and y< -z\n"
      "  # before emit\n"
      "  emit alert severity info to \"ops\" message \"{n}\"";
  // Worked out by hand from the rules in dsl/formatter.hpp.
  const std::string expected =
      "# sales\n"
      "param z = -3.5\n"
      "\n"
      "metric m = sale\n"
      "  | where (total > 10.00 USD and not (status == \"x\"))\n"
      "  | key store, staff\n"
      "  | window tumbling 1h offset 5m  # aligned\n"
      "  | agg n = count(), s = sum(total * 2)\n"
      "rule r on m\n"
      "  label detects = \"x\"\n"
      "  let y = -s\n"
      "  when n > 1 and y < -z\n"
      "  # before emit\n"
      "  emit alert severity info to \"ops\"\n"
      "    message \"{n}\"\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
}

TEST_CASE("fmt lays out an affinity stage", "[dsl][fmt]") {
  const std::string messy =
      "metric b=line_item|key store|window tumbling 1d|affinity   sku by order "
      "max_items 3 min_support 0.5%  min_confidence(40%)|top 10 by lift per store\n";
  // Worked out by hand from the rules in dsl/formatter.hpp: a stage per line, one space between
  // words, and after an option's name a space before its parenthesized value.
  const std::string expected =
      "metric b = line_item\n"
      "  | key store\n"
      "  | window tumbling 1d\n"
      "  | affinity sku by order max_items 3 min_support 0.5% min_confidence (40%)\n"
      "  | top 10 by lift per store\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
  REQUIRE(Parses(expected));
}

TEST_CASE("fmt lays out policies with their items indented by two inside the braces", "[dsl][fmt]") {
  const std::string messy =
      "policy district \"north-east\"{param max_disc_pct=10%\n"
      "rule r on line_item when discount>0.00 USD emit task to \"dm\" message \"{sku}\"   "
      "throttle 1 per 1h}\n"
      "# after\n"
      "policy chain { }\n"
      "\n"
      "\n"
      "policy store \"S1\" { param x = -1 # why\n"
      "  # closing note\n"
      "}\n"
      "param x = 2";
  // Worked out by hand from the rules in dsl/formatter.hpp: the body two deeper, a rule's clauses
  // two deeper than the rule, `}` alone at the policy's indentation.
  const std::string expected =
      "policy district \"north-east\" {\n"
      "  param max_disc_pct = 10%\n"
      "  rule r on line_item\n"
      "    when discount > 0.00 USD\n"
      "    emit task to \"dm\"\n"
      "      message \"{sku}\"\n"
      "    throttle 1 per 1h\n"
      "}\n"
      "# after\n"
      "policy chain {\n"
      "}\n"
      "\n"
      "policy store \"S1\" {\n"
      "  param x = -1  # why\n"
      "  # closing note\n"
      "}\n"
      "param x = 2\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
}

TEST_CASE("fmt lays out emission control, digests and schedules", "[dsl][fmt]") {
  const std::string messy =
      "rule low on inventory when on_hand<=2 emit alert to \"ops\" message \"{sku}\" "
      "suppress while reorder per store,sku for 1d dedupe per sku within 2h\n"
      "rule reorder on inventory when on_hand<=3 emit task to \"p\"\n"
      "digest   \"ops\"   every 1h\n"
      "schedule briefing every day at 06:00 local from daily # morning\n"
      "  when n>0 label audience = \"managers\" emit report to \"m\" message \"{n}\"\n"
      "schedule pulse every 1h from daily emit report to \"m\"\n";
  // Worked out by hand from the rules in dsl/formatter.hpp: no space around the ':' of a time.
  const std::string expected =
      "rule low on inventory\n"
      "  when on_hand <= 2\n"
      "  emit alert to \"ops\"\n"
      "    message \"{sku}\"\n"
      "  suppress while reorder per store, sku for 1d\n"
      "  dedupe per sku within 2h\n"
      "rule reorder on inventory\n"
      "  when on_hand <= 3\n"
      "  emit task to \"p\"\n"
      "digest \"ops\" every 1h\n"
      "schedule briefing every day at 06:00 local\n"
      "  from daily  # morning\n"
      "  when n > 0\n"
      "  label audience = \"managers\"\n"
      "  emit report to \"m\"\n"
      "    message \"{n}\"\n"
      "schedule pulse every 1h\n"
      "  from daily\n"
      "  emit report to \"m\"\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
  CHECK(aisle::dsl::CanonicalTokens(Format(messy)) == aisle::dsl::CanonicalTokens(messy));
}

TEST_CASE("fmt puts an emission's with values on a line of their own", "[dsl][fmt]") {
  const std::string messy =
      "rule reorder on inventory when on_hand<=3 emit po_draft to \"p\" with sku=sku,qty=12,"
      "unit_cost=3.75 USD message \"{sku}\"\n";
  // Worked out by hand: `with` breaks like `message`, indented by four.
  const std::string expected =
      "rule reorder on inventory\n"
      "  when on_hand <= 3\n"
      "  emit po_draft to \"p\"\n"
      "    with sku = sku, qty = 12, unit_cost = 3.75 USD\n"
      "    message \"{sku}\"\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
  CHECK(aisle::dsl::CanonicalTokens(Format(messy)) == aisle::dsl::CanonicalTokens(messy));
}

TEST_CASE("fmt keeps every token and comment of every rule file, and is idempotent", "[dsl][fmt]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(AISLE_DSL_CASES).parent_path().parent_path().parent_path();
  int formatted = 0;
  for (const char* dir : {"rules", "examples", "tests/dsl/cases", "tests/integration/fixtures",
                          "tests/fuzz/corpus/rules"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      const std::string text = buffer.str();
      if (!Parses(text)) continue;
      INFO(entry.path().string());
      const std::string once = Format(text);
      CHECK(Texts(once) == Texts(text));
      CHECK(Format(once) == once);
      CHECK(Parses(once));
      CHECK(aisle::dsl::CanonicalTokens(once) == aisle::dsl::CanonicalTokens(text));
      ++formatted;
    }
  }
  CHECK(formatted >= 50);
}

TEST_CASE("fmt lays out lookups, select, distinct, top and joins", "[dsl][fmt]") {
  const std::string messy =
      "table products from \"p.csv\" key sku types unit_cost=money,lead_days = int\n"
      "metric conv=hourly left join visitors_h on store,day|select store,conv=tx/visitors"
      "|top 3 by -conv per store\n"
      "metric m = line_item|select store,c=lookup( products,sku ).category|distinct c|key store"
      "|window tumbling 1h|agg n=count()|top 1 by(n)\n";
  // Worked out by hand: stages on their own lines, `-` after `by` is a sign, `(` after `by` is
  // not a call.
  const std::string expected =
      "table products from \"p.csv\" key sku types unit_cost = money, lead_days = int\n"
      "metric conv = hourly left join visitors_h on store, day\n"
      "  | select store, conv = tx / visitors\n"
      "  | top 3 by -conv per store\n"
      "metric m = line_item\n"
      "  | select store, c = lookup(products, sku).category\n"
      "  | distinct c\n"
      "  | key store\n"
      "  | window tumbling 1h\n"
      "  | agg n = count()\n"
      "  | top 1 by (n)\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
}

TEST_CASE("fmt lays out sliding and session windows", "[dsl][fmt]") {
  const std::string messy =
      "metric a=sale|key store|window sliding(30m)|agg n=count()\n"
      "metric b=sale|key store|window   session  gap(20m)|agg n=count()\n";
  // Worked out by hand: `(` after `sliding` and `gap` opens an operand, not a call.
  const std::string expected =
      "metric a = sale\n"
      "  | key store\n"
      "  | window sliding (30m)\n"
      "  | agg n = count()\n"
      "metric b = sale\n"
      "  | key store\n"
      "  | window session gap (20m)\n"
      "  | agg n = count()\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
}

TEST_CASE("fmt lays out a segments stage", "[dsl][fmt]") {
  const std::string messy =
      "metric s=sale|key store|window hopping 90d every 7d|segments   customer k(3) "
      "spend(total)  mix channel per   customer|top 2 by customers per store\n";
  // Worked out by hand from the rules in dsl/formatter.hpp: a stage per line, one space between
  // words; `spend` is a keyword, so a space before its parenthesized value; `k` is not (it may
  // name a field), so its parenthesized value is written like a call's arguments.
  const std::string expected =
      "metric s = sale\n"
      "  | key store\n"
      "  | window hopping 90d every 7d\n"
      "  | segments customer k(3) spend (total) mix channel per customer\n"
      "  | top 2 by customers per store\n";
  REQUIRE(Parses(messy));
  CHECK(Format(messy) == expected);
  CHECK(Format(expected) == expected);
  REQUIRE(Parses(expected));
}
