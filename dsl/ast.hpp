#pragma once
// The syntax tree of one rule file. Every node keeps its source span; nothing here is resolved or
// type-checked (that is the checker's job, dsl/checker.hpp).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/source.hpp"
#include "dsl/value.hpp"

namespace aisle::dsl::ast {

struct Ident {
  std::string name;
  Span span;
};

enum class ExprKind { kLiteral, kName, kMember, kCall, kUnary, kBinary };
enum class UnaryOp { kNeg, kNot };
enum class BinaryOp { kAdd, kSub, kMul, kDiv, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr };

std::string_view OpText(BinaryOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Span span;
  Value literal;     // kLiteral (strings: type kString, bytes in `text`)
  std::string text;  // kLiteral string bytes; kName / kMember / kCall: the name
  Span name_span;    // kMember / kCall: the span of the name
  UnaryOp unary_op = UnaryOp::kNeg;
  BinaryOp binary_op = BinaryOp::kAdd;
  std::vector<ExprPtr> args;          // unary: [x]; binary: [l, r]; member: [object]; call: args
  std::vector<std::string> arg_names;  // kCall: "" for positional arguments
  std::vector<Span> arg_name_spans;    // kCall: the name's span, or the argument's when positional
};

struct Import {
  std::string path;
  Span span;
};

struct Param {
  Ident name;
  ExprPtr value;
  Span span;
};

// `types unit_cost = money`: a column read as another type than string.
struct ColumnType {
  Ident column;
  Ident type;
};

struct Table {
  Ident name;
  std::string path;
  Span path_span;
  Ident key;
  std::vector<ColumnType> types;
  Span span;
};

// `stream sale delay 10m lateness 3h idle 2h`: per-stream event-time settings. `delay`: how far
// a store's watermark trails its newest event; `lateness`: how long a fired window still takes
// late events (each re-fires it as a correction); `idle`: how far a store may fall behind the
// most advanced one before it stops holding back what waits for every store (joins).
struct Stream {
  Ident name;
  ExprPtr delay;
  ExprPtr lateness;
  ExprPtr idle;
  // Every clause given (more than one: an error).
  std::vector<Span> delay_spans, lateness_spans, idle_spans;
  Span span;
};

enum class WindowKind { kTumbling, kHopping, kSliding, kSession, kDay, kWeek, kMonth, kFiscal };

struct Agg {
  Ident name;
  ExprPtr call;  // kCall
  Span span;
};

enum class StageKind {
  kWhere, kKey, kWindow, kAgg, kDuring, kAttribute, kSelect, kDistinct, kTop, kAffinity, kSegments
};

// An option of `affinity`: `min_support 1%`, `min_confidence 50%`, `max_items 3`.
struct AffinityOption {
  Ident name;
  ExprPtr value;
  Span span;
};

// An option of `segments`: `spend EXPR`, `k N`, `mix FIELD`, `per customer`.
struct SegmentsOption {
  Ident name;     // spend, k, mix or per (its span: the keyword's)
  ExprPtr value;  // spend, k
  Ident field;    // mix: the field; per: what follows (`customer`)
  Span span;
};

// One item of a `select`: a field kept as is (`store`, `hourly.tx`: `value` is that field), or
// a new field `name = value`.
struct SelectItem {
  Ident name;  // a kept field's name, dotted when it is (`hourly.tx`)
  ExprPtr value;
  bool computed = false;
  Span span;
};

struct Stage {
  StageKind kind = StageKind::kWhere;
  Span span;
  ExprPtr where;             // kWhere
  std::vector<Ident> keys;   // kKey
  WindowKind window = WindowKind::kTumbling;
  ExprPtr window_size;       // kWindow (kSession: the gap)
  ExprPtr window_offset;     // kWindow, optional: windows start at epoch + offset + k * size
  ExprPtr window_step;       // kWindow, hopping: a window starts every step
  std::optional<Ident> week_start;  // kWindow, week: `starting sunday`
  std::string fiscal_pattern;       // kWindow, fiscal: "4-4-5"
  Span fiscal_pattern_span;
  std::string fiscal_anchor;        // kWindow, fiscal: the first day of a fiscal year
  Span fiscal_anchor_span;
  Ident during;                     // kDuring: `during open_hours`
  Ident attribute_target;           // kAttribute: `attribute to sale within DURATION`
  ExprPtr attribute_within;
  std::vector<Agg> aggs;     // kAgg
  std::vector<SelectItem> select;  // kSelect
  std::vector<Ident> fields;  // kDistinct: the fields; kTop: the `per` fields
  ExprPtr top_count;          // kTop: K
  ExprPtr top_by;             // kTop: what ranks
  Ident affinity_item;        // kAffinity: the field naming an item (`sku`)
  Ident affinity_basket;      // kAffinity: the field naming a basket (`order`)
  std::vector<AffinityOption> affinity_options;  // kAffinity, as written
  Ident segments_customer;                        // kSegments: the field naming a customer
  std::vector<SegmentsOption> segments_options;   // kSegments, as written
};

// `LEFT [left] join RIGHT on KEY, ...`: the metric's input is LEFT.
struct Join {
  Ident right;
  std::vector<Ident> on;
  bool left_outer = false;
  Span span;
};

struct Metric {
  Ident name;
  Ident input;
  std::optional<Join> join;
  std::vector<Stage> stages;
  Span span;
};

struct Label {
  Ident key;
  std::string value;
  Span span;
};

struct Let {
  Ident name;
  ExprPtr value;
};

struct EmitField {
  Ident name;
  ExprPtr value;
};

struct Emit {
  Ident kind;                     // alert | task | po_draft
  std::vector<EmitField> fields;  // `with NAME = EXPRESSION, ...`
  std::optional<Ident> severity;  // info | warning | critical
  std::string channel;
  Span channel_span;
  std::optional<std::string> message;
  Span message_span;
  Span span;
};

// `throttle N per DURATION [per FIELD, ...]`: at most N emissions per DURATION of event time,
// per distinct value of the fields (default: the rule's group key, or the store for streams).
struct Throttle {
  ExprPtr count;
  ExprPtr period;
  std::vector<Ident> keys;
  Span span;
};

// `dedupe [per FIELD, ...] within DURATION`: drops an emission when the rule let one with the same
// field values (default: the store and the message text) through less than DURATION before.
struct Dedupe {
  std::vector<Ident> keys;
  ExprPtr period;
  Span span;
};

// `suppress while RULE [per FIELD, ...] for DURATION`: drops an emission while RULE has emitted,
// for the same field values (default: the store), less than DURATION before.
struct Suppress {
  Ident rule;
  std::vector<Ident> keys;
  ExprPtr period;
  Span span;
};

struct Rule {
  Ident name;
  Ident input;
  std::vector<Label> labels;
  std::vector<Let> lets;
  std::vector<ExprPtr> whens;  // exactly one when checked
  std::vector<Emit> emits;     // exactly one when checked
  std::vector<Throttle> throttles;  // at most one
  std::vector<Dedupe> dedupes;      // at most one
  std::vector<Suppress> suppressions;
  Span span;
};

// `digest "CHANNEL" every DURATION`: the channel's emissions are held and go out as one report
// per interval.
struct Digest {
  std::string channel;
  Span channel_span;
  ExprPtr period;
  Span span;
};

// `schedule NAME every DURATION` or `schedule NAME every day at HH:MM local|utc`, with `from
// METRIC`, labels, an optional `when` and `emit report to "CHANNEL" message "..."`.
struct Schedule {
  Ident name;
  ExprPtr period;             // `every DURATION`; null for `every day at`
  std::string time_of_day;    // `every day at`: "06:00" as written
  Span time_span;
  std::optional<Ident> zone;  // `local` or `utc`
  std::vector<Ident> from;    // exactly one when checked
  std::vector<Label> labels;
  std::vector<ExprPtr> whens;  // at most one
  std::vector<Emit> emits;     // exactly one
  Span span;
};

// `policy chain|district "NAME"|store "ID" { ... }`: param overrides and rules for a part of
// the chain. The level is kept as written (the checker validates it).
struct Policy {
  Ident level;                        // chain | district | store
  std::optional<std::string> target;  // the district or store, when given
  Span target_span;
  Span header;                        // `policy ... {`
  Span span;                          // through the closing '}' (or the header when unclosed)
  bool broken = false;                // the header did not parse: its items are skipped
  std::vector<Param> params;
  std::vector<Rule> rules;
};

// One parsed file, declarations in source order per kind.
struct Module {
  SourceId source = 0;
  std::vector<Import> imports;
  std::vector<Param> params;
  std::vector<Table> tables;
  std::vector<Stream> streams;
  std::vector<Metric> metrics;
  std::vector<Rule> rules;
  std::vector<Policy> policies;
  std::vector<Digest> digests;
  std::vector<Schedule> schedules;
};

}  // namespace aisle::dsl::ast
