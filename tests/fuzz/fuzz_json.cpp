// libFuzzer target for JsonDocument, the webhook normalizers' JSON reader, checked against
// nlohmann_json as a second, independent parser:
//   - whatever JsonDocument accepts, nlohmann_json accepts too (never read invalid JSON), but for
//     numbers beyond a double's range, which nlohmann_json refuses and JsonDocument keeps as text;
//   - whatever nlohmann_json accepts, JsonDocument accepts too, unless nested deeper than 64;
//   - an accepted document walks end to end, and its excerpts stay short;
//   - a NUL byte is refused (nlohmann_json would stop reading there, so it is no reference).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connectors/json/json_document.hpp"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_json: %s\n", what);
    std::abort();
  }
}

int Depth(const nlohmann::json& j) {
  int deepest = 0;
  if (j.is_structured()) {
    for (const auto& child : j) deepest = std::max(deepest, Depth(child));
    return deepest + 1;
  }
  return 0;
}

void Walk(const aisle::connectors::json::JsonValue& v, size_t& nodes) {
  ++nodes;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v.is_object()) Check(v.find(v.key(i)) != nullptr, "a member's key finds a member");
    Walk(v[i], nodes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = aisle::connectors::json::JsonDocument::Parse(text);
  // nlohmann_json reads a NUL byte as the end of its input; JSON has no place for one at all.
  if (text.find('\0') != std::string_view::npos) {
    Check(!doc, "JsonDocument accepted a NUL byte");
    return 0;
  }
  // nlohmann's own recursion is bounded by the input size; keep the reference parse shallow.
  if (size > 64 * 1024) return 0;
  const bool reference = nlohmann::json::accept(text);
  if (doc) {
    if (!reference) {
      try {
        (void)nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        Check(std::string_view(e.what()).find("number overflow") != std::string_view::npos,
              "JsonDocument accepted what nlohmann_json refuses");
      }
    }
    size_t nodes = 0;
    Walk(doc->root(), nodes);
    Check(doc->root().Excerpt(48).size() <= 48, "an excerpt is cut at its limit");
  } else if (reference) {
    const auto parsed = nlohmann::json::parse(text);
    Check(Depth(parsed) > 64, "JsonDocument refused what nlohmann_json accepts (not too deep)");
  }
  return 0;
}
