// online_retail_convert: the UCI Online Retail CSV (gzip-compressed or plain) to canonical events.
//
//   online_retail_convert INPUT.csv.gz OUT_DIR [--customer-key N]
//
// Writes OUT_DIR/events.ndjson, OUT_DIR/stores.csv and OUT_DIR/products.csv; bad rows go to
// stderr as "line N: reason"; a one-line summary goes to stdout. Exit 0 (bad rows included), 2
// when a file cannot be read or written.

#include <zlib.h>

#include <array>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "examples/online_retail/converter.hpp"

namespace {

// Physical lines of a file through zlib, which reads plain files as they are.
class GzLines {
 public:
  explicit GzLines(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {}
  ~GzLines() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzLines(const GzLines&) = delete;
  GzLines& operator=(const GzLines&) = delete;

  bool ok() const { return file_ != nullptr && !failed_; }

  bool Next(std::string& line) {
    line.clear();
    while (true) {
      if (pos_ == len_) {
        if (file_ == nullptr || eof_) return !line.empty();
        const int n = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
        if (n <= 0) {
          int code = Z_OK;
          gzerror(file_, &code);
          failed_ = n < 0 || (code != Z_OK && code != Z_STREAM_END);
          eof_ = true;
          return !line.empty();
        }
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      const char* begin = buffer_.data() + pos_;
      const void* nl = std::memchr(begin, '\n', len_ - pos_);
      if (nl == nullptr) {
        line.append(begin, len_ - pos_);
        pos_ = len_;
        continue;
      }
      const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - begin);
      line.append(begin, n);
      pos_ += n + 1;
      return true;
    }
  }

 private:
  gzFile file_;
  std::array<char, 1 << 16> buffer_{};
  size_t pos_ = 0, len_ = 0;
  bool eof_ = false, failed_ = false;
};

bool WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Converts the UCI Online Retail CSV into canonical Aisle events"};
  std::string input, out_dir;
  aisle::online_retail::ConvertOptions options;
  app.add_option("input", input, "online_retail.csv.gz (or a plain CSV)")->required();
  app.add_option("out", out_dir, "folder for events.ndjson, stores.csv, products.csv")->required();
  app.add_option("--customer-key", options.customer_key,
                 "seed of the keyed hash written as `customer` (default 0)");
  CLI11_PARSE(app, argc, argv);

  GzLines lines(input);
  if (!lines.ok()) {
    std::cerr << "error: cannot read " << input << '\n';
    return 2;
  }
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream events(dir / "events.ndjson", std::ios::binary);
  if (!events) {
    std::cerr << "error: cannot write " << (dir / "events.ndjson").string() << '\n';
    return 2;
  }
  const auto summary = aisle::online_retail::Convert(
      [&](std::string& line) { return lines.Next(line); }, events, std::cerr, options);
  events.close();
  if (!lines.ok()) {
    std::cerr << "error: " << input << " is not a readable gzip or text file\n";
    return 2;
  }
  if (!events || !WriteFile(dir / "stores.csv", aisle::online_retail::StoresCsv()) ||
      !WriteFile(dir / "products.csv", aisle::online_retail::ProductsCsv(summary.products))) {
    std::cerr << "error: cannot write to " << out_dir << '\n';
    return 2;
  }
  std::cout << fmt::format(
      "read {} lines ({} bad): {} invoices ({} sales, {} refunds), {} line items, {} products; "
      "total {} GBP\n",
      summary.lines, summary.bad_rows, summary.invoices, summary.sales, summary.refunds,
      summary.line_items, summary.products.size(),
      aisle::online_retail::MoneyText(summary.total_units));
  return 0;
}
