#include "examples/online_retail/converter.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <unordered_map>
#include <vector>

#include <date/tz.h>
#include <fmt/format.h>
#include <xxhash.h>

#include "dsl/csv.hpp"
#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::online_retail {

namespace {

// Bounds that keep every product and sum inside int64 (1e7 x 1e10 = 1e17 per line): far above
// anything a shop's line holds (the data set's largest are 80,995 units and 38,970 GBP).
constexpr int64_t kMaxQty = 10'000'000;
constexpr int64_t kMaxPriceUnits = 10'000'000'000;  // 1,000,000 GBP
constexpr size_t kColumns = 8;

struct Row {
  std::string sku;
  std::string description;
  int64_t qty = 0;
  int64_t price = 0;  // 1/10,000 GBP
};

struct Invoice {
  std::string number;
  int64_t ts = 0;          // UTC microseconds of its first line
  int64_t first_line = 0;  // the CSV line of its first row, for a stable order
  std::string customer;    // the keyed hash, empty when the CSV has no CustomerID
  std::string country;
  int64_t sum = 0;  // of Quantity x UnitPrice, 1/10,000 GBP
  std::vector<Row> rows;
};


std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseInt(std::string_view s, int64_t& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out.push_back(c);
    }
  }
  out.push_back('"');
}

// The CSV writes CustomerID as a float ("17850.0"); the id is its integer part.
std::string CustomerHash(std::string_view id, uint64_t key) {
  if (id.size() > 2 && id.substr(id.size() - 2) == ".0") id.remove_suffix(2);
  return fmt::format("c_{:016x}", XXH64(id.data(), id.size(), key));
}

void AppendEnvelope(std::string& out, std::string_view type, std::string_view id, int64_t ts) {
  out += R"({"type":")";
  out += type;
  out += R"(","id":)";
  AppendJsonString(out, id);
  out += R"(,"store":")";
  out += kStoreId;
  out += R"(","ts":")";
  out += dsl::FormatTimestamp(ts);
  out += R"(","source":"online_retail","currency":")";
  out += kCurrency;
  out += '"';
}

void AppendField(std::string& out, std::string_view name, std::string_view text) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendJsonString(out, text);
}

void WriteInvoice(const Invoice& inv, std::ostream& events) {
  const bool cancelled = inv.number.front() == 'C';
  const int64_t sum = inv.sum;
  int64_t units = 0;  // at most 1e7 a line: no overflow below 9e11 lines
  for (const Row& r : inv.rows) units += r.qty;
  std::string out;
  out.reserve(256 + 192 * inv.rows.size());
  if (cancelled) {
    // The data does not say which invoice a cancellation reverses: `order` is the cancellation's
    // own number, so `attribute to sale` counts it at its own time.
    AppendEnvelope(out, "refund", "uci-" + inv.number, inv.ts);
    AppendField(out, "order", inv.number);
    AppendField(out, "refund", inv.number);
    AppendField(out, "amount", MoneyText(-sum));
    AppendField(out, "reason", "cancelled");
  } else {
    AppendEnvelope(out, "sale", "uci-" + inv.number, inv.ts);
    AppendField(out, "order", inv.number);
    AppendField(out, "subtotal", MoneyText(sum));
    AppendField(out, "total", MoneyText(sum));
    out += fmt::format(R"(,"units":{})", units);
    AppendField(out, "channel", "online");
    AppendField(out, "status", "completed");
  }
  if (!inv.customer.empty()) AppendField(out, "customer", inv.customer);
  AppendField(out, "country", inv.country);
  out += "}\n";
  for (size_t i = 0; i < inv.rows.size(); ++i) {
    const Row& r = inv.rows[i];
    AppendEnvelope(out, "line_item", fmt::format("uci-{}-{}", inv.number, i + 1), inv.ts);
    AppendField(out, "order", inv.number);
    out += fmt::format(R"(,"line":{})", i + 1);
    AppendField(out, "sku", r.sku);
    AppendField(out, "product", r.description);
    out += fmt::format(R"(,"qty":{})", r.qty);
    AppendField(out, "price", MoneyText(r.price));
    AppendField(out, "country", inv.country);
    out += "}\n";
  }
  events << out;
}

// "YYYY-MM-DD HH:MM[:SS]" ('T' also accepted) in `zone`'s local time to UTC microseconds.
bool LocalToUtc(std::string_view text, const date::time_zone* zone, int64_t& micros) {
  if (zone == nullptr || (text.size() != 16 && text.size() != 19)) return false;
  auto digits = [&](size_t at, size_t n, int64_t& v) {
    v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, s = 0;
  if (!digits(0, 4, y) || text[4] != '-' || !digits(5, 2, mo) || text[7] != '-' ||
      !digits(8, 2, d) || (text[10] != ' ' && text[10] != 'T') || !digits(11, 2, h) ||
      text[13] != ':' || !digits(14, 2, mi))
    return false;
  if (text.size() == 19 && (text[16] != ':' || !digits(17, 2, s))) return false;
  const date::year_month_day ymd{date::year(static_cast<int>(y)),
                                 date::month(static_cast<unsigned>(mo)),
                                 date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return false;
  const date::local_seconds local =
      date::local_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
      std::chrono::seconds(s);
  const auto utc = zone->to_sys(local, date::choose::earliest);
  micros = utc.time_since_epoch().count() * dsl::kMicrosPerSecond;
  return true;
}

}  // namespace

std::string MoneyText(int64_t units) {
  std::string text = dsl::FormatUnits(units, 4);
  // Keep two decimals at least, and every one that is not a trailing zero.
  while (text.size() > 3 && text.back() == '0' && text[text.size() - 3] != '.') text.pop_back();
  return text;
}

ConvertSummary Convert(const std::function<bool(std::string&)>& next_line, std::ostream& events,
                       std::ostream& errors, const ConvertOptions& options) {
  ConvertSummary summary;
  dsl::CsvRecordReader reader(next_line);
  std::vector<std::string> f;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(f, line, error)) return summary;  // empty input: not even a header
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(std::string(kTimezone));
  } catch (const std::exception& e) {
    errors << "no time zone " << kTimezone << " (" << e.what() << "): no row can be converted\n";
  }
  std::vector<Invoice> invoices;
  std::unordered_map<std::string, size_t> index;
  auto bad = [&](std::string_view reason) {
    ++summary.bad_rows;
    errors << "line " << line << ": " << reason << '\n';
  };
  while (reader.Next(f, line, error)) {
    ++summary.lines;
    if (!error.empty()) {
      bad(error);
      continue;
    }
    if (f.size() != kColumns) {
      bad(fmt::format("{} fields, expected {}", f.size(), kColumns));
      continue;
    }
    const std::string_view number = Trim(f[0]), sku = Trim(f[1]);
    Row row;
    int64_t ts = 0;
    if (number.empty()) {
      bad("empty InvoiceNo");
      continue;
    }
    if (sku.empty()) {
      bad("empty StockCode");
      continue;
    }
    if (!ParseInt(Trim(f[3]), row.qty) || row.qty > kMaxQty || row.qty < -kMaxQty) {
      bad(fmt::format("Quantity \"{}\" is not a whole number of units", f[3]));
      continue;
    }
    const auto price = dsl::ParseMoneyUnits(Trim(f[5]));
    if (!price || *price > kMaxPriceUnits || *price < -kMaxPriceUnits) {
      bad(fmt::format("UnitPrice \"{}\" is not an amount", f[5]));
      continue;
    }
    row.price = *price;
    if (!LocalToUtc(Trim(f[4]), zone, ts)) {
      bad(fmt::format("InvoiceDate \"{}\" is not a local time (YYYY-MM-DD HH:MM:SS)", f[4]));
      continue;
    }
    const int64_t amount = row.qty * row.price;  // within int64 by the bounds above
    const auto found = index.find(std::string(number));
    int64_t invoice_sum = 0, new_total = 0;
    if (__builtin_add_overflow(found == index.end() ? 0 : invoices[found->second].sum, amount,
                               &invoice_sum) ||
        __builtin_add_overflow(summary.total_units, amount, &new_total)) {
      bad("Quantity x UnitPrice overflows the totals");
      continue;
    }
    summary.total_units = new_total;
    row.sku = std::string(sku);
    row.description = std::string(Trim(f[2]));
    const auto [product, fresh] = summary.products.try_emplace(row.sku, row.description);
    if (!fresh && product->second.empty()) product->second = row.description;
    size_t at = 0;
    if (found == index.end()) {
      at = invoices.size();
      index.emplace(std::string(number), at);
      Invoice inv;
      inv.number = std::string(number);
      inv.ts = ts;
      inv.first_line = line;
      const std::string_view customer = Trim(f[6]);
      if (!customer.empty()) inv.customer = CustomerHash(customer, options.customer_key);
      inv.country = std::string(Trim(f[7]));
      invoices.push_back(std::move(inv));
    } else {
      at = found->second;
    }
    invoices[at].sum = invoice_sum;
    invoices[at].rows.push_back(std::move(row));
  }
  std::stable_sort(invoices.begin(), invoices.end(), [](const Invoice& a, const Invoice& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.first_line < b.first_line;
  });
  for (const Invoice& inv : invoices) {
    WriteInvoice(inv, events);
    ++(inv.number.front() == 'C' ? summary.refunds : summary.sales);
    summary.line_items += static_cast<int64_t>(inv.rows.size());
  }
  summary.invoices = static_cast<int64_t>(invoices.size());
  return summary;
}

std::string StoresCsv() {
  return fmt::format(
      "store,name,district,region,timezone,open_hours,currency\n"
      "{},UCI Online Retail (UK online shop),online,UK,{},,{}\n",
      kStoreId, kTimezone, kCurrency);
}

std::string ProductsCsv(const std::map<std::string, std::string>& products) {
  auto field = [](std::string_view s) {
    if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
    std::string quoted = "\"";
    for (const char c : s) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    return quoted + "\"";
  };
  std::string out = "sku,name,category,unit_cost,price,supplier,lead_days,case_pack\n";
  for (const auto& [sku, name] : products) out += field(sku) + "," + field(name) + ",,,,,,\n";
  return out;
}

}  // namespace aisle::online_retail
