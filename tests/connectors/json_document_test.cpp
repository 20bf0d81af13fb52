// JsonDocument (the webhook normalizers' JSON reader) and AppendQuoted (their JSON writer), on
// hand-written cases; AppendQuoted is checked against nlohmann_json's dump, an independent
// implementation of the same output.

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/json/json_document.hpp"
#include "connectors/json/json_text.hpp"

namespace json = aisle::connectors::json;
using json::JsonDocument;
using json::JsonValue;

namespace {

std::string ErrorOf(std::string_view text) {
  auto doc = JsonDocument::Parse(text);
  return doc ? std::string("(parsed)") : doc.error().message;
}

}  // namespace

TEST_CASE("json document: numbers keep their exact text, strings are unescaped", "[json]") {
  auto doc = JsonDocument::Parse(
      R"({"id": 5834451239105000123456, "price": "14.85", "qty": 2, "rate": 0.1000000000000000055511151231257827,
          "name": "caf\u00e9 \"Le Coq\"\n", "ok": true, "none": null, "tags": ["a", 1, false]})");
  REQUIRE(doc);
  const JsonValue& root = doc->root();
  REQUIRE(root.is_object());
  CHECK(root.size() == 8);
  CHECK(root.find("id")->is_number());
  CHECK(root.find("id")->text() == "5834451239105000123456");
  CHECK(root.find("price")->is_string());
  CHECK(root.find("price")->text() == "14.85");
  CHECK(root.find("rate")->text() == "0.1000000000000000055511151231257827");
  CHECK(root.find("name")->text() == "caf\xC3\xA9 \"Le Coq\"\n");
  CHECK(root.find("ok")->is_bool());
  CHECK(root.find("ok")->boolean());
  CHECK(root.find("none")->is_null());
  CHECK(root.find("missing") == nullptr);
  const JsonValue& tags = *root.find("tags");
  REQUIRE(tags.is_array());
  REQUIRE(tags.size() == 3);
  CHECK(tags[0].text() == "a");
  CHECK(tags[1].text() == "1");
  CHECK_FALSE(tags[2].boolean());
  std::string joined;
  for (const JsonValue& tag : tags) joined += tag.is_text() ? std::string(tag.text()) : "?";
  CHECK(joined == "a1?");
  CHECK(root.key(0) == "id");
  CHECK(tags.find("a") == nullptr);  // not an object
}

TEST_CASE("json document: nested objects, the last of duplicate keys, scalar roots", "[json]") {
  auto doc = JsonDocument::Parse(R"({"a": {"b": {"c": [[], {}]}}, "k": 1, "k": 2})");
  REQUIRE(doc);
  const JsonValue* c = doc->root().find("a")->find("b")->find("c");
  REQUIRE(c != nullptr);
  CHECK(c->size() == 2);
  CHECK((*c)[0].is_array());
  CHECK((*c)[0].empty());
  CHECK((*c)[1].is_object());
  CHECK(doc->root().find("k")->text() == "2");

  auto scalar = JsonDocument::Parse(" \"just text\" ");
  REQUIRE(scalar);
  CHECK(scalar->root().text() == "just text");
  auto bom = JsonDocument::Parse("\xEF\xBB\xBF{\"a\": 1}");  // a byte order mark is skipped
  REQUIRE(bom);
  CHECK(bom->root().find("a")->text() == "1");
  auto number = JsonDocument::Parse("-0.5e+3");
  REQUIRE(number);
  CHECK(number->root().text() == "-0.5e+3");
}

TEST_CASE("json document: malformed text is refused with a reason", "[json]") {
  CHECK(ErrorOf("").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf("   ").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": 1)").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a" 1})").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": 1,})").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"([1 2])").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": 01})") == "invalid JSON: malformed number 01");
  CHECK(ErrorOf(R"({"a": -})").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": tru})").rfind("invalid JSON", 0) == 0);
  // A literal is compared whole, at the root and inside values (found by fuzz_json).
  CHECK(ErrorOf("nulln") == "invalid JSON: invalid literal nulln (true, false or null expected)");
  CHECK(ErrorOf("[nulln]").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": truex})").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf("null ") == "(parsed)");
  CHECK(ErrorOf(" [true ,false, null ] ") == "(parsed)");
  CHECK(ErrorOf("{\"a\": \"x\x01y\"}") == "invalid JSON: control character 0x01 at byte 9");
  CHECK(ErrorOf("{\"a\": \"\xFF\"}").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"({"a": "\q"})").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"([1] [2])").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf(R"("a" "b")").rfind("invalid JSON", 0) == 0);
  CHECK(ErrorOf("1 2") == "invalid JSON: trailing content after the value");
  // 64 levels are fine, 65 are not (and a deep document does not overflow the stack).
  CHECK(ErrorOf(std::string(64, '[') + std::string(64, ']')) == "(parsed)");
  CHECK(ErrorOf(std::string(65, '[') + std::string(65, ']')) == "invalid JSON: nested deeper than 64 levels");
  CHECK(ErrorOf(std::string(100000, '[') + std::string(100000, ']')).rfind("invalid JSON", 0) == 0);
}

TEST_CASE("json document: an excerpt for messages is compact and cut", "[json]") {
  auto doc = JsonDocument::Parse(R"({"a": [1, "two", null, true], "b": {"c": 2.50}})");
  REQUIRE(doc);
  // Numbers are shown as the text they keep, quoted (as the readers' messages always have).
  CHECK(doc->root().Excerpt(100) == R"({"a":["1","two",null,true],"b":{"c":"2.50"}})");
  const std::string cut = doc->root().Excerpt(20);
  CHECK(cut == R"({"a":["1","two",n...)");
}

TEST_CASE("AppendQuoted writes what nlohmann_json's compact dump writes", "[json]") {
  const std::string cases[] = {"",
                               "plain",
                               "quote \" and backslash \\",
                               "tab\there, newline\n, cr\r, bell\x07, nul" + std::string(1, '\0') + ".",
                               "\b\f\x1f\x7f",
                               "caf\xC3\xA9 \xF0\x9F\x9B\x92 /slash",
                               "bad utf-8 \xC3 here \xFF"};
  for (const std::string& s : cases) {
    std::string ours;
    json::AppendQuoted(ours, s);
    const std::string reference =
        nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(ours == reference);
  }
}
