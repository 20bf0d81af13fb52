// Basket affinity (FP-growth + association rules) on Groceries against the figures published for
// arules' apriori (Hahsler, Hornik, Reutterer 2006), as listed in shared/data/README.md: the rule
// counts by length at six thresholds, the top rule by lift and the most frequent items, with the
// time each mining run took.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "eval.hpp"
#include "stdlib/affinity.hpp"

namespace {

constexpr const char* kOp = "affinity";
constexpr const char* kSource = "arules apriori (data/README.md)";

struct Row {
  const char* support;
  const char* confidence;
  size_t rules;
  std::vector<size_t> by_length;  // 2..6 items
};

std::string Lengths(const std::vector<size_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " / " : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

int main() {
  using aisle::eval::PrintRow;
  namespace af = aisle::stdlib;
  std::ifstream in(std::string(AISLE_SHARED_DATA) + "/groceries/groceries.csv", std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "eval_affinity: cannot read groceries.csv\n");
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  af::ItemDictionary dictionary;
  std::vector<af::Basket> baskets = af::ParseBaskets(text.str(), dictionary);
  std::fprintf(stderr, "eval_affinity: %zu baskets, %zu items\n", baskets.size(),
               dictionary.size());
  PrintRow(kOp, "Groceries baskets / items",
           fmt::format("{} / {}", baskets.size(), dictionary.size()), "9835 / 169", kSource);

  const std::vector<Row> rows = {
      {"0.001", "0.5", 5668, {11, 1461, 3211, 939, 46}},
      {"0.001", "0.9", 129, {0, 10, 57, 56, 6}},
      {"0.001", "0.25", 17391, {367, 6906, 8371, 1687, 60}},
      {"0.002", "0.5", 1098, {6, 576, 471, 45, 0}},
      {"0.003", "0.5", 421, {5, 281, 128, 7, 0}},
      {"0.006", "0.25", 463, {150, 297, 16, 0, 0}},
  };
  std::vector<af::Rule> first_rules;
  for (const Row& row : rows) {
    af::AffinityOptions options;
    options.min_support = *af::ParseFraction(row.support);
    options.min_confidence = *af::ParseFraction(row.confidence);
    auto start = std::chrono::steady_clock::now();
    std::vector<af::Rule> rules = af::MineRules(baskets, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "eval_affinity: support %s confidence %s: %zu rules in %.3f s\n",
                 row.support, row.confidence, rules.size(), seconds);
    std::vector<size_t> by_length(5, 0);
    for (const af::Rule& r : rules) {
      if (r.length() >= 2 && r.length() <= 6) ++by_length[r.length() - 2];
    }
    std::string at = fmt::format("support {}, confidence {}", row.support, row.confidence);
    PrintRow(kOp, "rules, " + at, std::to_string(rules.size()), std::to_string(row.rules), kSource);
    PrintRow(kOp, "rules by length 2/3/4/5/6, " + at, Lengths(by_length), Lengths(row.by_length),
             kSource);
    PrintRow(kOp, "mining time (release), " + at, fmt::format("{:.3f} s", seconds), "-",
             "measured here");
    if (first_rules.empty()) first_rules = std::move(rules);
  }

  std::vector<af::Rule> top = af::TopByLift(first_rules, 1);
  if (top.empty()) {
    std::fprintf(stderr, "eval_affinity: no rules at 0.001 / 0.5\n");
    return 1;
  }
  const af::Rule& r = top[0];
  // Antecedent names sorted by name, as the reference prints them (ids follow first appearance).
  std::vector<std::string> names;
  for (af::ItemId i : r.antecedent) names.push_back(dictionary.Name(i));
  std::sort(names.begin(), names.end());
  std::string name = "{";
  for (size_t i = 0; i < names.size(); ++i) name += (i ? ", " : "") + names[i];
  name += "} => {" + dictionary.Name(r.consequent) + "}";
  const char* figure = "top rule by lift, support 0.001, confidence 0.5";
  PrintRow(kOp, figure, name, "{Instant food products, soda} => {hamburger meat}", kSource);
  PrintRow(kOp, "top rule: baskets / support", fmt::format("{} / {:.6f}", r.count, r.support),
           "12 / 0.001220", kSource);
  PrintRow(kOp, "top rule: confidence / lift", fmt::format("{:.4f} / {:.3f}", r.confidence, r.lift),
           "0.6316 / 18.996", kSource);

  std::string items;
  for (const af::ItemCount& c : af::TopItems(baskets, 5)) {
    items += fmt::format("{}{} ({})", items.empty() ? "" : ", ", dictionary.Name(c.item), c.count);
  }
  PrintRow(kOp, "five most frequent items", items,
           "whole milk (2513), other vegetables (1903), rolls/buns (1809), soda (1715), "
           "yogurt (1372)",
           kSource);
  return 0;
}
