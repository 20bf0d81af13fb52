#pragma once
// The stages after `agg` (or after a join): `select` computes a new record from each fired one;
// `top K by EXPR [per FIELDS]` holds a window's records until the firing moves on to another
// window or ends (Flush), then passes on the K with the largest EXPR (per value of the fields),
// largest first, ties in key order, nulls last. Held records are copied (encoded), so they
// outlive the window that fired them. One per metric; not thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/plan.hpp"
#include "engine/registry/registry.hpp"
#include "engine/runtime/evaluator.hpp"
#include "engine/runtime/metric_operator.hpp"

namespace aisle::engine {

class OutputStages {
 public:
  OutputStages(const dsl::plan::Metric& plan, const OperatorRegistry& registry);

  // One record as the metric (or join) fired it; records come window by window.
  void Push(std::span<const dsl::Value> record, std::string_view key, int64_t time,
            const PlainRecordHandler& next);
  // The firing is over: passes on what `top` holds.
  void Flush(const PlainRecordHandler& next);

 private:
  struct Held {
    std::string record;  // encoded values
    std::string key;
    std::string per;   // encoded `per` fields
    dsl::Value score;  // a number, an amount, a duration or a time: no string to outlive
  };
  struct Stage {
    std::vector<dsl::Value> scratch;  // select: the record it makes; top: a decoded record
    std::vector<Held> held;           // top: reused, `used` of them hold this window's records
    size_t used = 0;
    int64_t time = 0;
    std::vector<size_t> order;
  };

  void Run(size_t stage, std::span<const dsl::Value> record, std::string_view key, int64_t time,
           const PlainRecordHandler& next);
  void FlushTop(size_t stage, const PlainRecordHandler& next);

  const dsl::plan::Metric& plan_;
  Evaluator evaluator_;
  std::vector<Stage> stages_;
};

}  // namespace aisle::engine
