#pragma once
// The server's metrics, rendered in the Prometheus text exposition format (version 0.0.4) for
// `GET /metrics`. Counters and gauges are keyed by name and label set; histograms have fixed
// buckets. Thread-safe; one mutex, taken once per update (a request makes a handful).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aisle::connectors::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a metric family with its help text (HELP and TYPE lines); call before use.
  void DeclareCounter(std::string name, std::string help);
  void DeclareGauge(std::string name, std::string help);
  // Buckets are upper bounds in seconds, ascending.
  void DeclareHistogram(std::string name, std::string help, std::vector<double> buckets);

  void Add(std::string_view name, const Labels& labels, double delta = 1);
  void Set(std::string_view name, const Labels& labels, double value);
  void Observe(std::string_view name, const Labels& labels, double seconds);

  // The value of a counter or gauge series (0 when absent): for tests and the drain log.
  double Value(std::string_view name, const Labels& labels) const;

  std::string Render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket (not cumulative), then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Kind kind = Kind::kCounter;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double> values;         // rendered label set -> value
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
  };
  static std::string LabelText(const Labels& labels);
  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace aisle::connectors::server
