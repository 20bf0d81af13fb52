#pragma once
// Converts the UCI "Online Retail" transaction log (CSV: InvoiceNo, StockCode, Description,
// Quantity, InvoiceDate, UnitPrice, CustomerID, Country) into canonical NDJSON events
// (docs/events.md): one `sale` per invoice, one `refund` per cancellation (InvoiceNo starting
// with `C`), each followed by one `line_item` per CSV line. See examples/online_retail/README.md.

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace aisle::online_retail {

// The store every event is written for: the data set is one UK online shop.
inline constexpr std::string_view kStoreId = "uk-online";
inline constexpr std::string_view kTimezone = "Europe/London";
inline constexpr std::string_view kCurrency = "GBP";

struct ConvertOptions {
  // Seed of the keyed hash that replaces CustomerID in `customer` (never the raw id). Default 0.
  uint64_t customer_key = 0;
};

struct ConvertSummary {
  int64_t lines = 0;      // CSV records read, the header excluded
  int64_t bad_rows = 0;   // records reported on the error stream and skipped
  int64_t invoices = 0;   // distinct InvoiceNo among the good rows
  int64_t sales = 0;      // `sale` events (invoices not starting with C)
  int64_t refunds = 0;    // `refund` events (cancellations)
  int64_t line_items = 0;
  // Sum of Quantity x UnitPrice over the good rows, in 1/10,000 GBP (exact).
  int64_t total_units = 0;
  std::map<std::string, std::string> products;  // StockCode -> first non-empty Description
};

// Reads CSV text, one physical line per call of `next_line` (without its line end; false at the
// end of input); the first line is the header. Writes events to `events`, ordered by time (an
// invoice's events take the time of its first line; ties keep file order), and one line per bad
// row to `errors`: "line N: reason" with N the 1-based line the record starts on. InvoiceDate is
// Europe/London local time, converted to UTC with the system time zone database: a local time
// that occurs twice (clocks going back) takes the earlier instant, one that does not exist
// (clocks going forward) the instant of the change. Never throws on bad input. Deterministic:
// the same input and options give the same bytes.
ConvertSummary Convert(const std::function<bool(std::string&)>& next_line, std::ostream& events,
                       std::ostream& errors, const ConvertOptions& options = {});

// stores.csv and products.csv (INTERFACES.md, "Reference tables") for the converted events.
std::string StoresCsv();
std::string ProductsCsv(const std::map<std::string, std::string>& products);

// 1/10,000 units as a decimal string with two to four decimals: 25500 -> "2.55", 10 -> "0.001".
std::string MoneyText(int64_t units);

}  // namespace aisle::online_retail
