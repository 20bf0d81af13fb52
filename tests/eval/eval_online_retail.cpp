// eval_online_retail: the Online Retail converter (examples/online_retail) on the whole UCI data
// set, beside the figures its README gives (../shared/data/README.md): 541,909 lines, 25,900
// invoices, a sum of Quantity x UnitPrice of 9,747,747.934 GBP. The events are read back here
// with a JSON parser and this file's own decimal parsing, so the total is the events', not the
// converter's own count.

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval.hpp"
#include "examples/online_retail/converter.hpp"

namespace {

constexpr const char* kOp = "online_retail converter";
constexpr const char* kSource = "UCI Online Retail (Chen, Sain, Guo 2012); shared/data/README.md";

// "2.55" -> 25500, "-0.001" -> -10: 1/10,000 units (the converter writes at most four decimals).
int64_t Units(const std::string& text) {
  const bool negative = !text.empty() && text[0] == '-';
  const std::string body = negative ? text.substr(1) : text;
  const size_t dot = body.find('.');
  std::string frac = dot == std::string::npos ? "" : body.substr(dot + 1);
  frac.resize(4, '0');
  const int64_t v = std::stoll(body.substr(0, dot)) * 10'000 + std::stoll(frac.substr(0, 4));
  return negative ? -v : v;
}

std::string Gbp(int64_t units) {
  const int64_t a = units < 0 ? -units : units;
  return fmt::format("{}{}.{:04}", units < 0 ? "-" : "", a / 10'000, a % 10'000);
}

}  // namespace

int main() {
  using aisle::eval::PrintRow;
  const std::string path = std::string(AISLE_SHARED_DATA) + "/online_retail/online_retail.csv.gz";
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::cerr << "eval_online_retail: cannot read " << path << '\n';
    return 1;
  }
  std::string pending;
  char buffer[1 << 16];
  bool eof = false;
  auto next_line = [&](std::string& line) {
    while (true) {
      const size_t nl = pending.find('\n');
      if (nl != std::string::npos) {
        line.assign(pending, 0, nl);
        pending.erase(0, nl + 1);
        return true;
      }
      if (eof) {
        line = std::move(pending);
        pending.clear();
        return !line.empty();
      }
      const int n = gzread(file, buffer, sizeof buffer);
      if (n <= 0) eof = true;
      else pending.append(buffer, static_cast<size_t>(n));
    }
  };
  std::ostringstream events, errors;
  const auto start = std::chrono::steady_clock::now();
  const auto summary = aisle::online_retail::Convert(next_line, events, errors);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  gzclose(file);
  std::cerr << errors.str();

  int64_t invoices = 0, line_items = 0, total = 0;
  std::set<std::string> ids;
  std::istringstream in(events.str());
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line);
    ids.insert(e["id"].get<std::string>());
    const std::string type = e["type"];
    if (type == "sale" || type == "refund") ++invoices;
    if (type == "line_item") {
      ++line_items;
      total += e["qty"].get<int64_t>() * Units(e["price"]);
    }
  }
  PrintRow(kOp, "CSV lines (bad rows)", fmt::format("{} ({})", summary.lines, summary.bad_rows),
           "541909 (0)", kSource);
  PrintRow(kOp, "invoices: sale + refund events", std::to_string(invoices), "25900", kSource);
  PrintRow(kOp, "line_item events", std::to_string(line_items), "541909", kSource);
  PrintRow(kOp, "sum of line items' qty x price (GBP)", Gbp(total), "9747747.934", kSource);
  PrintRow(kOp, "distinct event ids / events", fmt::format("{} / {}", ids.size(), invoices + line_items),
           "equal", "ids are unique");
  PrintRow(kOp, "conversion time (release)", fmt::format("{:.2f} s", seconds), "-", "this machine");
  return 0;
}
