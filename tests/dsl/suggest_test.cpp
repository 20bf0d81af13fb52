// "Did you mean" suggestions: Levenshtein distance and the nearest candidate.

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "dsl/suggest.hpp"

using aisle::dsl::DidYouMean;
using aisle::dsl::EditDistance;
using aisle::dsl::Nearest;

TEST_CASE("EditDistance", "[dsl][suggest]") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("abc", "abc") == 0);
  CHECK(EditDistance("toal", "total") == 1);      // one insertion
  CHECK(EditDistance("total", "toal") == 1);      // symmetric
  CHECK(EditDistance("stauts", "status") == 1);   // one swap of adjacent characters
  CHECK(EditDistance("kitten", "sitting") == 3);  // k->s, e->i, +g
  CHECK(EditDistance("flaw", "lawn") == 2);       // -f, +n
  CHECK(EditDistance("Sale", "sale") == 1);       // case-sensitive
  CHECK(EditDistance("window.strat", "window.start") == 1);  // "ra" swapped
  // Bytes, not code points: "é" is two bytes, so it is two edits away from "e".
  CHECK(EditDistance("\xC3\xA9", "e") == 2);
}

TEST_CASE("Nearest and DidYouMean", "[dsl][suggest]") {
  const std::vector<std::string_view> fields = {"id", "store", "ts", "total", "tax", "status"};
  CHECK(Nearest("toal", fields) == "total");
  CHECK(Nearest("stor", fields) == "store");
  CHECK(Nearest("stauts", fields) == "status");  // 6 letters: up to 2 edits
  CHECK(Nearest("store", fields) == "store");    // an exact match is the nearest
  CHECK(Nearest("price", fields).empty());
  CHECK(Nearest("x", {}).empty());
  // The limit is max(1, length / 3): "abcdef" allows 2 edits, "abc" and shorter 1.
  CHECK(Nearest("abcdef", {"abcdxy"}) == "abcdxy");  // 2 edits
  CHECK(Nearest("abcdef", {"abcxyz"}).empty());      // 3 edits
  CHECK(Nearest("ab", {"xy"}).empty());              // 2 edits > 1
  CHECK(Nearest("a", {"b"}) == "b");                 // 1 edit, the minimum limit
  // Ties go to the alphabetically first candidate, whatever the order given.
  CHECK(Nearest("ab", {"ac", "aa"}) == "aa");
  CHECK(Nearest("ab", {"aa", "ac"}) == "aa");
  // A nearer candidate wins over an earlier one.
  CHECK(Nearest("metrc", {"table", "metrics", "metric"}) == "metric");

  CHECK(DidYouMean("toal", fields) == "did you mean 'total'?");
  CHECK(DidYouMean("metrc", {"import", "param", "table", "stream", "metric", "rule"}) ==
        "did you mean 'metric'?");
  CHECK(DidYouMean("price", fields).empty());
}
