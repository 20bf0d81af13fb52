#pragma once
// The checked plan of a rule set: every name resolved, every expression typed, every function
// bound to a catalog index. The engine lowers it into an operator graph (engine/graph).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/schema.hpp"
#include "dsl/source.hpp"
#include "dsl/value.hpp"

namespace aisle::dsl::plan {

enum class ExprOp {
  kConst,     // `value` (strings: bytes in `text`)
  kField,     // record field `index`
  kUnary,     // unary_op on args[0]
  kBinary,    // binary_op on args[0], args[1]
  kCall,      // scalar function `function` on args
  kExtra,     // attr("name"): the event's extra field `text`, as a string (null when absent)
};

struct Expr {
  ExprOp op = ExprOp::kConst;
  Type type = Type::kNull;
  Span span;
  Value value;
  std::string text;
  int index = -1;     // kField
  int function = -1;  // kCall: catalog index
  ast::UnaryOp unary_op = ast::UnaryOp::kNeg;
  ast::BinaryOp binary_op = ast::BinaryOp::kAdd;
  std::vector<Expr> args;
};

// The fields of a record flowing between operators (an event of a stream, or a metric's output).
struct Field {
  std::string name;
  Type type;
};

struct Input {
  bool is_stream = true;
  StreamKind stream = StreamKind::kSale;  // is_stream
  int metric = -1;                        // !is_stream: index into Plan::metrics
};

struct Aggregate {
  std::string name;
  int function = -1;                  // catalog index
  std::optional<Expr> argument;       // on the input record; none for count()
  Type type = Type::kNull;            // result type
  Type argument_type = Type::kNull;
  Span span;
};

// A metric's output record: keys, then aggregates, then window.start and window.end.
struct Metric {
  std::string name;
  Span span;
  Input input;
  std::vector<Field> input_fields;
  std::vector<Expr> filters;  // bool expressions on the input record, all must hold
  std::vector<int> keys;      // input field indexes
  enum class WindowKind { kTumbling, kHopping, kDay } window_kind = WindowKind::kTumbling;
  int64_t window_step = 0;    // hopping: windows [k * step, k * step + size); 0 otherwise
  int64_t window_size = 0;    // tumbling, microseconds (kDay: 24h, the nominal length)
  int64_t window_offset = 0;  // windows are [offset + k * size, offset + (k + 1) * size)
  std::vector<Aggregate> aggregates;
  std::vector<Field> output;
  int window_start_field = -1;
  int window_end_field = -1;
  // kDay: the input field holding the store, and the store -> IANA time zone map it uses.
  int store_field = -1;
  std::unordered_map<std::string, std::string> store_timezones;
  uint64_t fingerprint = 0;
};

// A stateful function call hoisted out of a rule's expressions; its result is record field `slot`.
struct StatefulCall {
  int function = -1;
  std::vector<Expr> args;  // one per parameter of the spec, in order (constants folded)
  int slot = -1;
  Span span;
};

// One piece of a message template: literal text, or a record field with an optional format spec.
struct TemplatePart {
  std::string text;  // literal text, when field < 0
  int field = -1;
  std::string spec;  // after ':' in "{aov:money}"
};

enum class EmitKind { kAlert, kTask, kReport };
enum class Severity { kInfo, kWarning, kCritical };

struct Rule {
  std::string name;
  Span span;
  Input input;
  // Record layout: input fields, then lets and hoisted stateful calls in evaluation order.
  std::vector<Field> fields;
  int input_field_count = 0;
  struct Step {
    std::optional<Expr> let;              // evaluated into `slot`
    std::optional<StatefulCall> stateful;  // or a stateful call into `slot`
    int slot = -1;
  };
  std::vector<Step> steps;
  Expr condition;
  EmitKind kind = EmitKind::kAlert;
  Severity severity = Severity::kWarning;
  std::string channel;
  std::vector<TemplatePart> message;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int> value_fields;  // fields reported in an emission's "values"
  int store_field = -1;           // the record's `store`, if it has one
  int window_start_field = -1;    // metric input only
  int window_end_field = -1;
  // throttle: at most `throttle_count` emissions per `throttle_period` per throttle key; count 0
  // means no throttle. Keys are record fields; empty: the group key (the store for streams).
  int64_t throttle_count = 0;
  int64_t throttle_period = 0;
  std::vector<int> throttle_keys;
  // dedupe: an emission is dropped when the rule let one with the same dedupe key through less
  // than `dedupe_period` of event time before (0: no dedupe). Keys are record fields; empty: the
  // store and the message text.
  int64_t dedupe_period = 0;
  std::vector<int> dedupe_keys;
  // `suppress while RULE`: an emission is dropped while `rule` has emitted, for the same values
  // of `fields` (here) and `other_fields` (there), less than `period` of event time before.
  struct Suppression {
    int rule = -1;  // index into Plan::rules
    std::vector<int> fields, other_fields;
    int64_t period = 0;
    Span span;
  };
  std::vector<Suppression> suppressions;
  int digest = -1;  // index into Plan::digests when the channel is digested
  uint64_t fingerprint = 0;
};

// `digest "CHANNEL" every DURATION`: emissions to the channel are held and delivered as one
// report per interval [k * period, (k + 1) * period) of event time.
struct Digest {
  std::string channel;
  int64_t period = 0;
  Span span;
  uint64_t fingerprint = 0;
};

// A schedule: per store, at instants of event time, a report from the newest record of a metric
// keyed by store.
struct Schedule {
  std::string name;
  Span span;
  int metric = -1;  // index into Plan::metrics; its output is the record the schedule reads
  // Instants: UTC `offset + k * period`, or, when `local`, `offset` after each local midnight in
  // the store's time zone (`store_timezones`; unknown stores use UTC).
  int64_t period = 0;
  int64_t offset = 0;
  bool local = false;
  std::unordered_map<std::string, std::string> store_timezones;
  std::optional<Expr> condition;  // on the record; none: always
  Severity severity = Severity::kInfo;
  std::string channel;
  std::vector<TemplatePart> message;
  std::vector<std::pair<std::string, std::string>> labels;
  int store_field = -1;  // in the metric's output
  int digest = -1;       // index into Plan::digests when the channel is digested
  uint64_t fingerprint = 0;
};

struct StreamSettings {
  int64_t delay = 0;     // a store's watermark trails its newest event time by this much
  int64_t lateness = 0;  // a fired window takes corrections for this long, microseconds
};

// A reference table, loaded whole at check time (reference data is small).
struct Table {
  std::string name;
  std::string path;  // resolved
  std::string key;
  Span span;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::unordered_map<std::string, size_t> index;  // key value -> row

  // The value of `column` in the row whose key is `key`, or nullptr.
  const std::string* Find(std::string_view key, std::string_view column) const;
};

struct Plan {
  std::vector<Metric> metrics;  // in dependency order: a metric's input precedes it
  std::vector<Rule> rules;
  std::vector<Table> tables;
  std::vector<Digest> digests;
  std::vector<Schedule> schedules;
  StreamSettings streams[kStreamKindCount];
  std::string ruleset_hash;  // hex, over every source file of the rule set
};

}  // namespace aisle::dsl::plan
