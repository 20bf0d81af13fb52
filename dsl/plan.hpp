#pragma once
// The checked plan of a rule set: every name resolved, every expression typed, every function
// bound to a catalog index. The engine lowers it into an operator graph (engine/graph).

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/lookup_table.hpp"
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
  kParam,     // a param that a district or store policy overrides: Policies::params[index],
              // looked up by the record's store index at run time
  kLookup,    // lookup(table, args[0]).column: cell `index` of `table`'s row keyed by args[0]
};

struct Expr {
  ExprOp op = ExprOp::kConst;
  Type type = Type::kNull;
  Span span;
  Value value;
  std::string text;
  int index = -1;     // kField; kParam: index into Policies::params
  int function = -1;  // kCall: catalog index
  ast::UnaryOp unary_op = ast::UnaryOp::kNeg;
  ast::BinaryOp binary_op = ast::BinaryOp::kAdd;
  std::vector<Expr> args;
  // kLookup: the table, and the record field holding the currency of a money cell whose row has
  // none (-1: no such field, the value is null).
  std::shared_ptr<const LookupTable> table;
  int currency_field = -1;
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

// A store's opening hours: per weekday (0 = Sunday), [open, close) in minutes after local midnight;
// a close past 24:00 runs into the next day.
using WeeklyHours = std::array<std::vector<std::pair<int, int>>, 7>;

// A metric's output record: keys, then aggregates, then window.start and window.end.

// A stage after `agg` (or after a join), on each window's records: `select` computes a new
// record, `top` keeps the K records with the largest `by` (per value of the `per` fields).
struct PostStage {
  enum class Kind { kSelect, kTop } kind = Kind::kSelect;
  std::vector<Expr> select;    // kSelect: one per field of `fields`, on the previous record
  std::vector<Field> fields;   // the record after this stage (window.start, window.end last)
  int64_t top_count = 0;       // kTop
  std::optional<Expr> top_by;  // kTop
  std::vector<int> top_per;    // kTop: fields of the previous record
};

// `affinity ITEM by BASKET ...`: per window and group, the baskets (basket -> its distinct items),
// mined into association rules X => {y} when the window fires, one output record per rule.
// Thresholds are exact fractions, inclusive.
struct Affinity {
  int function = -1;                 // catalog index of the miner ("affinity")
  int item_field = -1;               // of the (projected) input record
  int basket_field = -1;
  uint64_t min_support_numerator = 1, min_support_denominator = 100;        // default 1%
  uint64_t min_confidence_numerator = 1, min_confidence_denominator = 2;    // default 50%
  int64_t max_items = 2;             // largest rule, |X| + 1
  Span span;
};

// `segments CUSTOMER [spend EXPR] [k N] [mix FIELD] [per customer]`: per window and group, each
// customer's purchases, spend, last time (and spend per `mix` category), fitted into k-means
// segments when the window fires, as of the window's end: one output record per segment, or per
// customer with `per customer`.
struct Segments {
  int function = -1;        // catalog index of the segmenter ("segments")
  int customer_field = -1;  // of the (projected) input record
  Expr spend;               // money; `total` when not given
  int mix_field = -1;       // -1: no `mix`
  int64_t k = 4;
  bool per_customer = false;
  Span span;
};

// `LEFT join RIGHT on KEYS`: per window and key, the fields of both inputs' records.
struct Join {
  int left = -1, right = -1;   // metric indexes
  bool outer = false;          // `left join`: keep left records without a right one
  // Per side: the key fields (in `on` order) and the fields copied into the joined record, as
  // indexes of that input's record, and its window.end field.
  std::vector<int> keys[2];
  std::vector<int> copied[2];
  int window_end[2] = {-1, -1};
};

// A metric's output record: keys, then aggregates, then window.start and window.end (a join's:
// keys, then the left's fields, then the right's, then window.start and window.end). Consumers
// see `result`: the output after the post stages.
struct Metric {
  std::string name;
  Span span;
  Input input;
  std::vector<Field> input_fields;
  std::vector<Expr> filters;  // bool expressions on the input record, all must hold
  // `select` before `agg`: the record every later stage sees (keys, distinct, aggregates, the
  // `where`s after it). Empty `project`: no select, they see the input record.
  std::vector<Expr> project;
  std::vector<Field> projected;
  std::vector<Expr> projected_filters;  // `where` after the select, on the projected record
  std::vector<int> distinct;  // `distinct`: fields of the (projected) record
  std::vector<int> keys;      // fields of the (projected) input record
  std::vector<std::string> key_names;
  // kDay, kWeek, kMonth, kFiscal: periods of each store's local calendar.
  // kSliding: per input record at t, the window (t - size, t]. kSession: per key, records less
  // than `size` (the gap) apart, [first, last + gap).
  enum class WindowKind { kTumbling, kHopping, kSliding, kSession, kDay, kWeek, kMonth, kFiscal };
  WindowKind window_kind = WindowKind::kTumbling;
  int64_t window_step = 0;    // hopping: windows [k * step, k * step + size); 0 otherwise
  int64_t window_size = 0;    // tumbling, microseconds (kDay: 24h, the nominal length)
  int64_t window_offset = 0;  // windows are [offset + k * size, offset + (k + 1) * size)
  std::vector<Aggregate> aggregates;
  // `affinity` instead of aggregates: the output is keys, then antecedent, consequent, items,
  // baskets, support, confidence, lift, conviction, then the window bounds; one record per rule.
  std::optional<Affinity> affinity;
  // `segments` instead of aggregates: the output is keys, then the segment fields (SegmentFields
  // in the checker), then the window bounds; one record per segment or per customer.
  std::optional<Segments> segments;
  std::vector<Field> output;
  int window_start_field = -1;
  int window_end_field = -1;
  // Calendar windows and `during open_hours`: the input field holding the store, and the
  // store -> IANA time zone map they use.
  int store_field = -1;
  std::unordered_map<std::string, std::string> store_timezones;
  int week_start = 1;  // kWeek: the weekday a week starts on, 0 = Sunday .. 6 = Saturday
  // kFiscal: weeks per period within each quarter (4-4-5, 4-5-4, 5-4-4), and the first day of one
  // fiscal year (days since 1970-01-01, local). Every fiscal year starts on that weekday, the one
  // nearest the same month and day; a 53-week year gives its extra week to its last period.
  std::array<int, 3> fiscal_pattern{};
  int64_t fiscal_anchor = 0;
  // `during open_hours`: only records whose local time falls in their store's opening hours.
  bool during_open_hours = false;
  int hours_store_field = -1;  // the input record's store, for opening hours
  // `attribute to sale within D` (refunds only): a refund counts in the window of its order's
  // sale when that sale came at most D before it; else at its own time. Input fields used.
  int64_t attribute_within = 0;
  int attribute_order_field = -1, attribute_store_field = -1;
  std::unordered_map<std::string, WeeklyHours> store_hours;
  std::optional<Join> join;      // a join of two metrics: no aggregates, keys, filters
  std::vector<PostStage> post;
  std::vector<Field> result;     // what rules and metrics on this one see
  int result_window_start_field = -1;
  int result_window_end_field = -1;
  uint64_t fingerprint = 0;
};

// A stateful function call hoisted out of a rule's expressions; its result is record field `slot`.
// Its details (FunctionSpec::details) go to the fields that follow `slot`, in the spec's order.
struct StatefulCall {
  int function = -1;
  std::vector<Expr> args;  // one per parameter of the spec, in order (constants folded)
  int slot = -1;
  int detail_count = 0;  // fields slot + 1 .. slot + detail_count
  Span span;
};

// One piece of a message template: literal text, or a record field with an optional format spec.
struct TemplatePart {
  std::string text;  // literal text, when field < 0
  int field = -1;
  std::string spec;  // after ':' in "{aov:money}"
};

enum class EmitKind { kAlert, kTask, kReport, kPoDraft };
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
  // `with NAME = EXPRESSION, ...`: values the emission carries, after the record's. A po_draft
  // has sku, qty and unit_cost among them (the checker sees to it), and gets total and status.
  struct EmitField {
    std::string name;
    Expr value;
  };
  std::vector<EmitField> emit_fields;
  // `{field:local %H:%M}` in the message: store -> IANA time zone, from the stores table.
  std::unordered_map<std::string, std::string> store_timezones;
  // A stateful call needs the store's UTC offset (FunctionSpec::local_time) and the rule set has
  // the stores' time zones: the runtime fills CallContext::utc_offset from `store_timezones`.
  bool local_offsets = false;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int> value_fields;  // fields reported in an emission's "values"
  int store_field = -1;           // the record's `store`, if it has one
  int window_start_field = -1;    // metric input only
  int window_end_field = -1;
  std::vector<std::string> key_names;  // metric input: the names of the group key's values
  // throttle: at most `throttle_count` emissions per `throttle_period` per throttle key; count 0
  // means no throttle. Keys are record fields; empty: the group key (the store for streams).
  int64_t throttle_count = 0;
  int64_t throttle_period = 0;
  std::vector<int> throttle_keys;
  // Declared inside a policy: which one (`district "north-east"`, empty outside policies), and
  // per store index (Policies::StoreIndex) whether the rule processes that store's records.
  // Empty: every record.
  std::string policy;
  std::vector<uint8_t> scope;
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
  // A store whose watermark trails the most advanced store's by more than this no longer holds
  // back a join over the stream's metrics (0: it always does).
  int64_t idle = 0;
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
  std::shared_ptr<const LookupTable> lookup;      // typed cells for lookup()

  // The value of `column` in the row whose key is `key`, or nullptr.
  const std::string* Find(std::string_view key, std::string_view column) const;
};

// Heterogeneous lookup by string_view, so that a lookup on the hot path does not allocate.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

enum class ParamLevel { kDefault, kChain, kDistrict, kStore };

// One place that sets a param's value: its declaration (the default) or a policy's override.
struct ParamSource {
  ParamLevel level = ParamLevel::kDefault;
  std::string target;  // the district or store; empty for the default and the chain
  Span span;           // the `param` declaration
  Span name_span;
  Value value;         // a constant (strings: bytes in `text`)
  std::string text;
  std::string shown;   // the value as written, in the canonical layout: "10%", "250.00 USD"
};

// A top-level param and every override of it.
struct PolicyParam {
  std::string name;
  Type type = Type::kNull;
  std::vector<ParamSource> sources;  // [0]: the declaration, then the overrides in source order
  int chain = 0;                     // the source every store starts from: a chain override, or 0
  bool varies = false;               // a district or store overrides it: kParam in expressions
  // Per store index (see Policies), the source that applies: store > district > chain > default.
  std::vector<int> by_store;
};

// Params as policies set them, resolved at check time for every store of the stores table.
// Store indexes: 0..stores.size()-1 for the table's stores in table order, then stores.size() for
// any other store and for records without one.
struct Policies {
  std::vector<std::string> stores;     // the `stores` table's keys, in table order
  std::vector<std::string> districts;  // per store ("" when it has none)
  std::vector<PolicyParam> params;     // every top-level param, by name
  bool by_store = false;  // some param varies by store, or some rule covers only some stores
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> store_index;

  // The store's index; stores.size() for a store the table does not name. Does not allocate.
  int StoreIndex(std::string_view store) const {
    auto it = store_index.find(store);
    return it == store_index.end() ? static_cast<int>(stores.size()) : it->second;
  }
  // The source a store index takes for params[param] (an index out of range: any other store).
  const ParamSource& Source(int param, int store) const {
    const PolicyParam& p = params[static_cast<size_t>(param)];
    const size_t i = static_cast<size_t>(store) < p.by_store.size() ? static_cast<size_t>(store)
                                                                   : p.by_store.size() - 1;
    return p.sources[static_cast<size_t>(p.by_store[i])];
  }
};

struct Plan {
  std::vector<Metric> metrics;  // in dependency order: a metric's input precedes it
  std::vector<Rule> rules;
  std::vector<Table> tables;
  std::vector<Digest> digests;
  std::vector<Schedule> schedules;
  StreamSettings streams[kStreamKindCount];
  Policies policies;
  std::string ruleset_hash;  // hex, over every source file of the rule set
};

}  // namespace aisle::dsl::plan
