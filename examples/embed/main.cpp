// Embedding Aisle in your own receiver: open an engine on a rules folder and a data folder, push
// canonical events, get emissions through a callback, close cleanly.
//   embed_example RULES_DIR DATA_DIR
#include <cstdio>
#include <string>

#include "engine/api/aisle.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s RULES_DIR DATA_DIR\n", argv[0]);
    return 2;
  }
  aisle::EngineConfig config;
  config.rules = argv[1];
  config.data = argv[2];
  config.on_emission = [](const aisle::Emission& e) {
    // Deliver it: post to Slack, open a ticket... Here: print. e.json is the full JSONL line.
    std::printf("%s %s %s: %s\n", e.kind.c_str(), e.rule.c_str(), e.store.c_str(), e.message.c_str());
  };
  std::string error;
  auto engine = aisle::AisleEngine::Open(config, error);
  if (!engine) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  // Events as your webhook handler would produce them after normalizing a POS payload.
  const char* events[] = {
      R"({"type":"sale","id":"o-1","store":"S1","ts":"2025-03-14T10:05:00Z","source":"shopify","currency":"USD","total":"250.00","status":"completed"})",
      R"({"type":"sale","id":"o-2","store":"S1","ts":"2025-03-14T10:07:00Z","source":"shopify","currency":"USD","total":"12.00","status":"completed"})",
      R"({"type":"sale","id":"o-1","store":"S1","ts":"2025-03-14T10:05:00Z","source":"shopify","currency":"USD","total":"250.00","status":"completed"})",
  };
  for (const char* event : events) {
    if (!engine->Push(event, error)) std::fprintf(stderr, "rejected: %s\n", error.c_str());
  }
  if (!engine->Close(/*final=*/true, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  return 0;
}
