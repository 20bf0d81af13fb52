// Fuzz target: parse + check of rule text. Any bytes must give diagnostics, never a crash, a hang
// or a sanitizer report; diagnostics must render. Tables resolve against tests/dsl/cases (its
// stores.csv and products.csv).

#include <cstdint>
#include <string>

#include "engine/compile.hpp"
#include "stdlib/stdlib.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const aisle::engine::OperatorRegistry* registry = [] {
    auto* r = new aisle::engine::OperatorRegistry();
    aisle::stdlib::RegisterStdlib(*r);
    return r;
  }();
  std::string text(reinterpret_cast<const char*>(data), size);
  auto compiled = aisle::engine::CompileRuleText("fuzz.aisle", text, *registry, AISLE_FUZZ_TABLES);
  std::string rendered = compiled->Render();
  (void)rendered;
  return 0;
}
