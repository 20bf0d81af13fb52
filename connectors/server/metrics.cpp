#include "connectors/server/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace aisle::connectors::server {

namespace {

// Label values escape backslash, double quote and newline (the exposition format's rules).
std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// `{a="1",b="2"}` plus one more label, for histogram buckets.
std::string WithLabel(const std::string& labels, std::string_view name, std::string_view value) {
  const std::string extra = fmt::format("{}=\"{}\"", name, value);
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string Metrics::LabelText(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += Escape(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

void Metrics::DeclareCounter(std::string name, std::string help) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = families_[std::move(name)];
  f.kind = Kind::kCounter;
  f.help = std::move(help);
}

void Metrics::DeclareGauge(std::string name, std::string help) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = families_[std::move(name)];
  f.kind = Kind::kGauge;
  f.help = std::move(help);
}

void Metrics::DeclareHistogram(std::string name, std::string help, std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = families_[std::move(name)];
  f.kind = Kind::kHistogram;
  f.help = std::move(help);
  std::sort(buckets.begin(), buckets.end());
  f.buckets = std::move(buckets);
}

void Metrics::Add(std::string_view name, const Labels& labels, double delta) {
  const std::string key = LabelText(labels);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.values[key] += delta;
}

void Metrics::Set(std::string_view name, const Labels& labels, double value) {
  const std::string key = LabelText(labels);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = families_.find(name);
  if (it == families_.end()) return;
  it->second.values[key] = value;
}

void Metrics::Observe(std::string_view name, const Labels& labels, double seconds) {
  const std::string key = LabelText(labels);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = families_.find(name);
  if (it == families_.end() || it->second.kind != Kind::kHistogram) return;
  Family& f = it->second;
  Histogram& h = f.histograms[key];
  if (h.counts.empty()) h.counts.assign(f.buckets.size() + 1, 0);
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(f.buckets.begin(), f.buckets.end(), seconds) - f.buckets.begin());
  ++h.counts[bucket];
  h.sum += seconds;
  ++h.count;
}

double Metrics::Value(std::string_view name, const Labels& labels) const {
  const std::string key = LabelText(labels);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = families_.find(name);
  if (it == families_.end()) return 0;
  const auto v = it->second.values.find(key);
  return v == it->second.values.end() ? 0 : v->second;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter" : f.kind == Kind::kGauge ? "gauge" : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, type);
    if (f.kind != Kind::kHistogram) {
      for (const auto& [labels, value] : f.values) out += fmt::format("{}{} {}\n", name, labels, Number(value));
      continue;
    }
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{} {}\n", name, WithLabel(labels, "le", Number(f.buckets[i])), cumulative);
      }
      cumulative += h.counts.back();
      out += fmt::format("{}_bucket{} {}\n", name, WithLabel(labels, "le", "+Inf"), cumulative);
      out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, labels, Number(h.sum), name, labels, h.count);
    }
  }
  return out;
}

}  // namespace aisle::connectors::server
