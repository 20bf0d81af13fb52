// Generates the load test's deliveries: distinct Shopify orders/create bodies of realistic size
// (3-9 KB), each signed with the test secret and carrying its own webhook id, written up front so
// the load generator (wrk) spends nothing on them. One file per wrk thread, one delivery a line:
//   WEBHOOK_ID \t BASE64_HMAC \t BODY
// Bodies are compact JSON (no tab, no newline). Deterministic for a given seed.
//
//   loadtest_gen TEMPLATE.json OUT_PREFIX COUNT FILES [SEED]
// writes OUT_PREFIX.0 ... OUT_PREFIX.(FILES-1), COUNT deliveries in all.

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/webhooks/webhook.hpp"

namespace {

constexpr const char* kSecret = "test-shopify-client-secret-DO-NOT-USE";

std::string Money(int64_t cents) { return fmt::format("{}.{:02}", cents / 100, cents % 100); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: loadtest_gen TEMPLATE.json OUT_PREFIX COUNT FILES [SEED]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json base;
  try {
    base = nlohmann::json::parse(text.str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadtest_gen: %s: %s\n", argv[1], e.what());
    return 2;
  }
  const long count = std::stol(argv[3]);
  const int files = std::stoi(argv[4]);
  std::mt19937_64 rng(argc > 5 ? std::stoull(argv[5]) : 42);
  const nlohmann::json line_template = base["line_items"][0];
  std::vector<std::ofstream> outs;
  for (int f = 0; f < files; ++f) outs.emplace_back(fmt::format("{}.{}", argv[2], f), std::ios::binary);
  size_t total_bytes = 0, smallest = SIZE_MAX, largest = 0;
  for (long i = 0; i < count; ++i) {
    nlohmann::json order = base;
    const int64_t id = 7'000'000'000'000 + i;
    order["id"] = id;
    order["name"] = fmt::format("#L{}", i);
    order["order_number"] = 100000 + i;
    order["location_id"] = 655441491 + static_cast<int64_t>(rng() % 50);
    const int seconds = static_cast<int>(i % 86'400);
    const std::string ts = fmt::format("2025-03-14T{:02}:{:02}:{:02}Z", seconds / 3600, seconds / 60 % 60, seconds % 60);
    order["created_at"] = ts;
    order["processed_at"] = ts;
    // 1..5 line items: about 1.1 KB each beside 3.6 KB of order, so bodies of about 3-9 KB.
    const int lines = 1 + static_cast<int>(rng() % 5);
    nlohmann::json items = nlohmann::json::array();
    int64_t subtotal = 0;
    for (int l = 0; l < lines; ++l) {
      nlohmann::json item = line_template;
      const int64_t price = 100 + static_cast<int64_t>(rng() % 9900);
      const int qty = 1 + static_cast<int>(rng() % 3);
      item["id"] = id * 100 + l;
      item["sku"] = fmt::format("SKU-{:05}", rng() % 5000);
      item["quantity"] = qty;
      item["price"] = Money(price);
      item["discount_allocations"] = nlohmann::json::array();
      item["tax_lines"] = nlohmann::json::array();
      subtotal += price * qty;
      items.push_back(std::move(item));
    }
    order["line_items"] = std::move(items);
    for (const char* key : {"subtotal_price", "total_price", "current_subtotal_price", "current_total_price",
                            "total_line_items_price"}) {
      order[key] = Money(subtotal);
    }
    for (const char* key : {"total_tax", "current_total_tax", "total_discounts", "current_total_discounts"}) {
      order[key] = "0.00";
    }
    order["tax_lines"] = nlohmann::json::array();
    order["discount_applications"] = nlohmann::json::array();
    order["discount_codes"] = nlohmann::json::array();
    const std::string body = order.dump();
    const std::string hmac = aisle::connectors::webhooks::Base64Of(
        aisle::connectors::webhooks::HmacSha256(kSecret, body));
    const std::string webhook_id = fmt::format("load-{:08}-{:016x}", i, rng());
    outs[static_cast<size_t>(i % files)] << webhook_id << '\t' << hmac << '\t' << body << '\n';
    total_bytes += body.size();
    smallest = std::min(smallest, body.size());
    largest = std::max(largest, body.size());
  }
  std::printf("%ld deliveries in %d files; bodies %zu..%zu bytes, mean %zu\n", count, files, smallest,
              largest, count > 0 ? total_bytes / static_cast<size_t>(count) : 0);
  return 0;
}
