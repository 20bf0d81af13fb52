// Evaluation of the customer segments (k-means) core.
//
// 1. Gaussian blobs with known membership (3 seeds x k = 3, 5, 8): the adjusted Rand index of the
//    recovered partition against the generating labels (reference 1.0), and the time.
// 2. The UCI Online Retail log (README.md in the data folder): RFM segments with k = 4 (features
//    log1p-transformed and z-scored, as_of = the day after the last invoice). The customer count
//    is checked against a plain std::set of CustomerIDs with a non-cancelled line; the parser is
//    checked against the data set's published line total and invoice count. Profiles are printed
//    without a reference (there is none to have).

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dsl/money.hpp"
#include "dsl/time.hpp"
#include "eval.hpp"
#include "stdlib/kmeans.hpp"
#include "stdlib/segments.hpp"

namespace {

using aisle::eval::PrintRow;
using aisle::stdlib::PointMatrix;
using Clock = std::chrono::steady_clock;

double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
double Normal(std::mt19937_64& rng) {
  double u = 1.0 - Uniform(rng);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * Uniform(rng));
}

double Millis(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

void EvalBlobs() {
  constexpr int kDim = 4, kPer = 500;
  constexpr double kSigma = 1.5, kMinSeparation = 25.0;
  for (int k : {3, 5, 8}) {
    for (uint64_t seed : {1, 2, 3}) {
      std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(k));
      // Centers uniform in [0, 100]^4, redrawn until all are kMinSeparation apart.
      PointMatrix centers;
      while (static_cast<int>(centers.size()) < k) {
        std::vector<double> c(kDim);
        for (double& x : c) x = 100 * Uniform(rng);
        bool far = true;
        for (const auto& other : centers) {
          far = far && std::sqrt(aisle::stdlib::SquaredDistance(c, other)) >= kMinSeparation;
        }
        if (far) centers.push_back(c);
      }
      PointMatrix points;
      std::vector<int> truth;
      for (int i = 0; i < kPer; ++i) {
        for (int c = 0; c < k; ++c) {
          std::vector<double> p(kDim);
          for (int d = 0; d < kDim; ++d) p[d] = centers[c][d] + kSigma * Normal(rng);
          points.push_back(p);
          truth.push_back(c);
        }
      }
      aisle::stdlib::KMeansOptions options;
      options.k = k;
      options.seed = seed;
      auto start = Clock::now();
      auto result = aisle::stdlib::KMeans(points, options);
      double ms = Millis(start);
      if (!result.ok()) {
        std::fprintf(stderr, "blobs: %s\n", result.error().message.c_str());
        continue;
      }
      double ari = aisle::stdlib::AdjustedRandIndex(result->labels, truth);
      PrintRow("segments: k-means",
               fmt::format("ARI vs truth, blobs k={} d={} n={} sigma={} seed {}", k, kDim, kPer * k,
                           kSigma, seed),
               fmt::format("{:.4f} ({:.0f} ms, n_init 10)", ari, ms), "1.0",
               "generating labels of separated Gaussian blobs (min center distance 25)");
    }
  }
}

// Splits one CSV record (no embedded line breaks in this file) per RFC 4180.
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

void EvalOnlineRetail() {
  const std::string path = std::string(AISLE_SHARED_DATA) + "/online_retail/online_retail.csv.gz";
  FILE* pipe = popen(("gzip -dc '" + path + "'").c_str(), "r");
  if (pipe == nullptr) {
    PrintRow("segments: RFM", "online retail", "could not read the data", "", path);
    return;
  }
  std::map<std::string, aisle::stdlib::Purchase> invoices;  // non-cancelled, with a customer
  std::set<std::string> reference_customers;
  std::set<std::string> all_invoices;
  aisle::dsl::Int128 line_total = 0;  // 1/10,000 units x quantity, all lines
  int64_t last_time = 0, lines = 0, bad = 0;
  char* buffer = nullptr;
  size_t capacity = 0;
  ssize_t length;
  bool header = true;
  while ((length = getline(&buffer, &capacity, pipe)) > 0) {
    std::string_view line(buffer, static_cast<size_t>(length));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() != 8) {
      ++bad;
      continue;
    }
    ++lines;
    const std::string& invoice = f[0];
    all_invoices.insert(invoice);
    auto price = aisle::dsl::ParseMoneyUnits(f[5]);
    auto time = aisle::dsl::ParseTimestamp(f[4] + "Z");
    if (!price || !time) {
      ++bad;
      continue;
    }
    const int64_t quantity = std::stoll(f[3]);
    line_total += static_cast<aisle::dsl::Int128>(quantity) * *price;
    last_time = std::max(last_time, *time);
    const bool cancelled = !invoice.empty() && invoice[0] == 'C';
    if (cancelled || f[6].empty()) continue;
    reference_customers.insert(f[6]);  // the plain count: CustomerID text as written
    std::string customer = f[6];
    if (customer.size() > 2 && customer.compare(customer.size() - 2, 2, ".0") == 0) {
      customer.resize(customer.size() - 2);
    }
    auto [it, fresh] = invoices.try_emplace(invoice);
    if (fresh) {
      it->second.customer = customer;
      it->second.time = *time;
    }
    it->second.amount += quantity * *price;
  }
  free(buffer);
  pclose(pipe);
  std::fprintf(stderr, "online retail: %lld lines, %lld unreadable, %zu invoices kept\n",
               static_cast<long long>(lines), static_cast<long long>(bad), invoices.size());

  const std::string source = "UCI Online Retail (Chen, Sain, Guo 2012), data README";
  PrintRow("segments: RFM", "online retail: sum of Quantity x UnitPrice, all lines",
           aisle::dsl::FormatUnits(static_cast<int64_t>(line_total), 3), "9747747.934", source);
  PrintRow("segments: RFM", "online retail: invoices", std::to_string(all_invoices.size()), "25900",
           source);

  std::vector<aisle::stdlib::Purchase> purchases;
  purchases.reserve(invoices.size());
  for (auto& [invoice, p] : invoices) purchases.push_back(std::move(p));
  aisle::stdlib::CustomerTable table = aisle::stdlib::BuildCustomerTable(purchases);
  PrintRow("segments: RFM", "online retail: customers with a non-cancelled invoice",
           std::to_string(table.size()), std::to_string(reference_customers.size()),
           "distinct CustomerIDs of non-cancelled lines, std::set pass in this program");

  const int64_t day = aisle::dsl::kMicrosPerDay;
  const int64_t as_of = aisle::dsl::FloorDiv(last_time, day) * day + day;
  aisle::stdlib::SegmentOptions options;
  options.kmeans.k = 4;
  auto start = Clock::now();
  auto fit = aisle::stdlib::FitSegments(table, as_of, options);
  const double fit_ms = Millis(start);
  if (!fit.ok()) {
    PrintRow("segments: RFM", "online retail k=4", fit.error().message, "", "");
    return;
  }
  const auto& model = fit->model;
  for (int j = 0; j < model.k(); ++j) {
    const auto& p = model.profiles()[j];
    PrintRow("segments: RFM", fmt::format("online retail k=4, segment {}: {}", j, p.label),
             fmt::format("{} customers, recency {:.1f} d, frequency {:.1f}, monetary GBP {}",
                         p.customers, p.mean_recency_days, p.mean_frequency,
                         aisle::dsl::FormatUnits(p.mean_monetary, 2)),
             "-", "profile (no published reference)");
  }
  // Silhouette of the k = 4 fit on the scaled features, and the k silhouette would choose.
  PointMatrix scaled;
  for (const auto& [id, state] : table) {
    scaled.push_back(model.Scale(aisle::stdlib::RawFeatures(state, as_of, options.features)));
  }
  std::vector<int> labels;
  for (const auto& [id, segment] : fit->segment_of) labels.push_back(segment);
  start = Clock::now();
  double silhouette = aisle::stdlib::Silhouette(scaled, labels);
  const double silhouette_ms = Millis(start);
  PrintRow("segments: RFM", "online retail k=4: fit time, mean silhouette",
           fmt::format("{:.0f} ms, {:.3f} ({:.0f} ms)", fit_ms, silhouette, silhouette_ms), "-",
           "no published reference");
  auto choice = aisle::stdlib::ChooseK(scaled, 2, 8, options.kmeans);
  if (choice.ok()) {
    PrintRow("segments: RFM", "online retail: k by silhouette over 2..8",
             fmt::format("k={} (silhouette {:.3f})", choice->k, choice->silhouette), "-",
             "no published reference");
  }
}

}  // namespace

int main() {
  std::fprintf(stderr, "eval_segments: Gaussian blobs\n");
  EvalBlobs();
  std::fprintf(stderr, "eval_segments: online retail\n");
  EvalOnlineRetail();
  return 0;
}
