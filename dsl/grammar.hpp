#pragma once
// The Aisle grammar (PEGTL). Rules only; building the AST is parser.cpp's job, and every error
// message is in the one table at the end. `must<>` appears only at commit points: after a keyword,
// an operator or an opening bracket. Include this header only from parser.cpp and its tests.

#include <type_traits>

#include <tao/pegtl.hpp>

namespace aisle::dsl::grammar {

namespace p = tao::pegtl;

// ---- lexical ----
struct comment : p::seq<p::one<'#'>, p::until<p::eolf>> {};
struct sp : p::sor<p::space, comment> {};
struct _ : p::star<sp> {};
struct ident_char : p::identifier_other {};

template <typename Str>
struct keyword : p::seq<Str, p::not_at<ident_char>> {};
#define AISLE_KW(name) struct kw_##name : keyword<TAO_PEGTL_STRING(#name)> {}
AISLE_KW(import);
AISLE_KW(policy);
AISLE_KW(param);
AISLE_KW(table);
AISLE_KW(from);
AISLE_KW(key);
AISLE_KW(stream);
AISLE_KW(lateness);
AISLE_KW(idle);
AISLE_KW(delay);
AISLE_KW(metric);
AISLE_KW(where);
AISLE_KW(window);
AISLE_KW(sliding);
AISLE_KW(session);
AISLE_KW(gap);
AISLE_KW(tumbling);
AISLE_KW(offset);
AISLE_KW(day);
AISLE_KW(week);
AISLE_KW(month);
AISLE_KW(fiscal);
AISLE_KW(starting);
AISLE_KW(during);
AISLE_KW(attribute);
AISLE_KW(hopping);
AISLE_KW(every);
AISLE_KW(throttle);
AISLE_KW(per);
AISLE_KW(agg);
AISLE_KW(select);
AISLE_KW(distinct);
AISLE_KW(top);
AISLE_KW(affinity);
AISLE_KW(min_support);
AISLE_KW(min_confidence);
AISLE_KW(max_items);
AISLE_KW(segments);
AISLE_KW(spend);
AISLE_KW(k);
AISLE_KW(mix);
AISLE_KW(customer);
AISLE_KW(by);
AISLE_KW(join);
AISLE_KW(left);
AISLE_KW(types);
AISLE_KW(rule);
AISLE_KW(on);
AISLE_KW(label);
AISLE_KW(let);
AISLE_KW(when);
AISLE_KW(emit);
AISLE_KW(severity);
AISLE_KW(to);
AISLE_KW(message);
AISLE_KW(and);
AISLE_KW(or);
AISLE_KW(not);
AISLE_KW(true);
AISLE_KW(false);
AISLE_KW(null);
AISLE_KW(dedupe);
AISLE_KW(within);
AISLE_KW(suppress);
AISLE_KW(while);
AISLE_KW(for);
AISLE_KW(digest);
AISLE_KW(schedule);
AISLE_KW(at);
AISLE_KW(local);
AISLE_KW(utc);
AISLE_KW(with);
#undef AISLE_KW

struct reserved : p::sor<kw_and, kw_or, kw_not, kw_true, kw_false, kw_null> {};
struct ident : p::seq<p::not_at<reserved>, p::identifier> {};

struct escape : p::seq<p::one<'\\'>, p::one<'"', '\\', 'n', 't', 'r'>> {};
struct string_char : p::sor<escape, p::not_one<'"', '\\', '\n', '\r'>> {};
struct string_close : p::one<'"'> {};
struct string_lit : p::seq<p::one<'"'>, p::star<string_char>, p::must<string_close>> {};

struct digits : p::plus<p::digit> {};
struct number_text : p::seq<digits, p::opt<p::one<'.'>, digits>> {};
struct duration_unit : p::sor<TAO_PEGTL_STRING("ms"), p::one<'s', 'm', 'h', 'd', 'w'>> {};
struct duration_lit : p::seq<digits, duration_unit, p::not_at<ident_char>> {};
struct percent_lit : p::seq<number_text, p::one<'%'>> {};
struct currency_code : p::seq<p::rep<3, p::upper>, p::not_at<ident_char>> {};
struct money_lit : p::seq<number_text, p::plus<p::blank>, currency_code> {};
struct number_lit : p::seq<number_text, p::not_at<ident_char>> {};
struct true_lit : kw_true {};
struct false_lit : kw_false {};
struct null_lit : kw_null {};
struct literal : p::sor<money_lit, duration_lit, percent_lit, number_lit, string_lit, true_lit,
                        false_lit, null_lit> {};

// ---- expressions ----
struct expr;
struct close_paren : p::one<')'> {};
struct arg_name : p::seq<ident, _, p::one<'='>, p::not_at<p::one<'='>>> {};
struct arg : p::seq<p::opt<arg_name, _>, expr> {};
struct call_args : p::seq<arg, p::star<_, p::one<','>, _, p::must<arg>>> {};
struct call : p::seq<ident, _, p::one<'('>, _, p::opt<call_args>, _, p::must<close_paren>> {};
struct name : ident {};
struct paren : p::seq<p::one<'('>, _, p::must<expr>, _, p::must<close_paren>> {};
struct primary : p::sor<literal, call, name, paren> {};
struct member_name : ident {};
struct postfix : p::seq<primary, p::star<_, p::one<'.'>, _, p::must<member_name>>> {};
struct neg_op : p::one<'-'> {};
struct unary_operand;  // a unary after '-': where the nesting depth is counted
struct negation : p::seq<neg_op, _, p::must<unary_operand>> {};
struct unary : p::sor<negation, postfix> {};
struct unary_operand : unary {};
struct mul_op : p::one<'*', '/'> {};
struct product : p::seq<unary, p::star<_, mul_op, _, p::must<unary>>> {};
struct add_op : p::one<'+', '-'> {};
struct sum : p::seq<product, p::star<_, add_op, _, p::must<product>>> {};
struct cmp_op : p::sor<TAO_PEGTL_STRING("=="), TAO_PEGTL_STRING("!="), TAO_PEGTL_STRING("<="),
                       TAO_PEGTL_STRING(">="), p::one<'<'>, p::one<'>'>> {};
struct comparison : p::seq<sum, p::opt<_, cmp_op, _, p::must<sum>>> {};
struct not_op : kw_not {};
struct not_operand;  // what follows `not`: where the nesting depth is counted
struct inversion : p::seq<not_op, _, p::must<not_operand>> {};
struct logical_not : p::sor<inversion, comparison> {};
struct not_operand : logical_not {};
struct and_op : kw_and {};
struct conjunction : p::seq<logical_not, p::star<_, and_op, _, p::must<logical_not>>> {};
struct or_op : kw_or {};
struct disjunction : p::seq<conjunction, p::star<_, or_op, _, p::must<conjunction>>> {};
struct expr : p::seq<disjunction> {};  // a real sub-rule, so the parse tree sees `or`

// ---- declarations ----
struct equals : p::one<'='> {};
struct import_decl : p::seq<kw_import, _, p::must<string_lit>> {};
struct param_decl : p::seq<kw_param, _, p::must<ident>, _, p::must<equals>, _, p::must<expr>> {};
struct table_from : kw_from {};
struct table_key : kw_key {};
// `types unit_cost = money, lead_days = int`: the columns that are not strings.
struct column_type : ident {};
struct table_type : p::seq<ident, _, p::must<equals>, _, p::must<column_type>> {};
struct table_types : p::seq<kw_types, _, p::must<table_type>,
                            p::star<_, p::one<','>, _, p::must<table_type>>> {};
struct table_decl : p::seq<kw_table, _, p::must<ident>, _, p::must<table_from>, _,
                           p::must<string_lit>, _, p::must<table_key>, _, p::must<ident>,
                           p::opt<_, table_types>> {};
struct lateness_clause : p::seq<kw_lateness, _, p::must<expr>> {};
struct delay_clause : p::seq<kw_delay, _, p::must<expr>> {};
struct idle_clause : p::seq<kw_idle, _, p::must<expr>> {};
struct stream_decl : p::seq<kw_stream, _, p::must<ident>,
                            p::star<_, p::sor<lateness_clause, delay_clause, idle_clause>>> {};

struct where_stage : p::seq<kw_where, _, p::must<expr>> {};
struct key_stage : p::seq<kw_key, _, p::must<ident>, p::star<_, p::one<','>, _, p::must<ident>>> {};
struct window_offset : p::seq<kw_offset, _, p::must<expr>> {};
struct tumbling_window : p::seq<kw_tumbling, _, p::must<expr>, p::opt<_, window_offset>> {};
struct day_window : kw_day {};
struct hop_every : p::seq<kw_every, _, p::must<expr>> {};
struct hopping_window : p::seq<kw_hopping, _, p::must<expr>, _, p::must<hop_every>> {};
struct weekday_name : ident {};
struct week_start : p::seq<kw_starting, _, p::must<weekday_name>> {};
struct week_window : p::seq<kw_week, p::opt<_, week_start>> {};
struct month_window : kw_month {};
struct fiscal_from : p::seq<kw_from, _, p::must<string_lit>> {};
struct fiscal_window : p::seq<kw_fiscal, _, p::must<string_lit>, _, p::must<fiscal_from>> {};
// `sliding 30m`: per record, the window that ends at it. The offset is parsed only to be refused
// with a reason.
struct sliding_window : p::seq<kw_sliding, _, p::must<expr>, p::opt<_, window_offset>> {};
struct session_gap : p::seq<kw_gap, _, p::must<expr>> {};
struct session_window : p::seq<kw_session, _, p::must<session_gap>> {};
struct window_spec : p::sor<tumbling_window, hopping_window, sliding_window, session_window,
                            day_window, week_window, month_window, fiscal_window> {};
struct window_stage : p::seq<kw_window, _, p::must<window_spec>> {};
struct agg_call : call {};
struct agg_def : p::seq<ident, _, p::must<equals>, _, p::must<agg_call>> {};
struct agg_stage : p::seq<kw_agg, _, p::must<agg_def>, p::star<_, p::one<','>, _, p::must<agg_def>>> {};
struct hours_name : ident {};
struct during_stage : p::seq<kw_during, _, p::must<hours_name>> {};
// `attribute to sale within 30d`: refunds count in the window of the sale of their order.
struct attribute_to : kw_to {};
struct attribute_target : ident {};
struct attribute_within : p::seq<kw_within, _, p::must<expr>> {};
struct attribute_stage : p::seq<kw_attribute, _, p::must<attribute_to>, _, p::must<attribute_target>,
                                _, p::must<attribute_within>> {};
// `select store, revenue = price * qty`: a field as is (`hourly.tx` in a join), or a new one.
struct select_computed : p::seq<ident, _, p::one<'='>, p::not_at<p::one<'='>>, _, p::must<expr>> {};
struct select_field : p::seq<ident, p::opt<_, p::one<'.'>, _, p::must<member_name>>> {};
struct select_item : p::sor<select_computed, select_field> {};
struct select_stage : p::seq<kw_select, _, p::must<select_item>,
                             p::star<_, p::one<','>, _, p::must<select_item>>> {};
struct distinct_stage : p::seq<kw_distinct, _, p::must<ident>,
                               p::star<_, p::one<','>, _, p::must<ident>>> {};
struct top_by : p::seq<kw_by, _, p::must<expr>> {};
struct top_per : p::seq<kw_per, _, p::must<ident>, p::star<_, p::one<','>, _, p::must<ident>>> {};
struct top_stage : p::seq<kw_top, _, p::must<expr>, _, p::must<top_by>, p::opt<_, top_per>> {};
// `affinity sku by order min_support 1% min_confidence 50% max_items 3`: association rules of
// each window's baskets, in place of `agg`. The options come in any order.
struct affinity_by : p::seq<kw_by, _, p::must<ident>> {};
struct affinity_option_name : p::sor<kw_min_support, kw_min_confidence, kw_max_items> {};
struct affinity_option : p::seq<affinity_option_name, _, p::must<expr>> {};
struct affinity_stage : p::seq<kw_affinity, _, p::must<ident>, _, p::must<affinity_by>,
                               p::star<_, affinity_option>> {};
// `segments customer spend total k 4 mix channel per customer`: k-means customer segments of each
// window's purchases, in place of `agg`. The options come in any order.
struct segments_spend : p::seq<kw_spend, _, p::must<expr>> {};
struct segments_k : p::seq<kw_k, _, p::must<expr>> {};
struct segments_mix : p::seq<kw_mix, _, p::must<ident>> {};
struct segments_per_customer : kw_customer {};
struct segments_per : p::seq<kw_per, _, p::must<segments_per_customer>> {};
struct segments_option : p::sor<segments_spend, segments_k, segments_mix, segments_per> {};
struct segments_stage : p::seq<kw_segments, _, p::must<ident>, p::star<_, segments_option>> {};
struct stage : p::sor<where_stage, key_stage, window_stage, agg_stage, affinity_stage, segments_stage,
                      during_stage, attribute_stage, select_stage, distinct_stage, top_stage> {};
struct pipe : p::one<'|'> {};
// `hourly join visitors_h on store`, `hourly left join visitors_h on store`.
struct join_left : kw_left {};
struct join_on : kw_on {};
struct join_clause : p::seq<p::opt<join_left, _>, kw_join, _, p::must<ident>, _, p::must<join_on>,
                            _, p::must<ident>, p::star<_, p::one<','>, _, p::must<ident>>> {};
struct metric_decl : p::seq<kw_metric, _, p::must<ident>, _, p::must<equals>, _, p::must<ident>,
                            p::opt<_, join_clause>, p::star<_, pipe, _, p::must<stage>>> {};

struct label_clause : p::seq<kw_label, _, p::must<ident>, _, p::must<equals>, _, p::must<string_lit>> {};
struct let_clause : p::seq<kw_let, _, p::must<ident>, _, p::must<equals>, _, p::must<expr>> {};
struct when_clause : p::seq<kw_when, _, p::must<expr>> {};
struct emit_kind : ident {};
struct severity_level : ident {};
struct severity_clause : p::seq<kw_severity, _, p::must<severity_level>> {};
struct emit_to : kw_to {};
struct message_clause : p::seq<kw_message, _, p::must<string_lit>> {};
// `with NAME = EXPRESSION, ...`: values the emission carries (a purchase-order draft's sku, qty).
struct emit_field_name : ident {};
struct emit_field_value : p::seq<p::one<'='>, _, p::must<expr>> {};
struct emit_field : p::seq<emit_field_name, _, p::must<emit_field_value>> {};
struct emit_with : p::seq<kw_with, _, p::must<emit_field>, p::star<_, p::one<','>, _, p::must<emit_field>>> {};
struct emit_clause : p::seq<kw_emit, _, p::must<emit_kind>, p::opt<_, severity_clause>, _,
                            p::must<emit_to>, _, p::must<string_lit>, p::opt<_, emit_with>,
                            p::opt<_, message_clause>> {};
struct throttle_count : number_lit {};
struct throttle_keys : p::seq<kw_per, _, p::must<ident>, p::star<_, p::one<','>, _, p::must<ident>>> {};
struct throttle_clause : p::seq<kw_throttle, _, p::must<throttle_count>, _, p::must<kw_per>, _,
                                p::must<expr>, p::opt<_, throttle_keys>> {};
// Emission control: `dedupe [per FIELDS] within DURATION`, `suppress while RULE [per FIELDS] for
// DURATION`.
struct emission_keys : p::seq<kw_per, _, p::must<ident>, p::star<_, p::one<','>, _, p::must<ident>>> {};
struct dedupe_within : p::seq<kw_within, _, p::must<expr>> {};
struct dedupe_clause : p::seq<kw_dedupe, p::opt<_, emission_keys>, _, p::must<dedupe_within>> {};
struct suppress_while : kw_while {};
struct suppress_rule : ident {};
struct suppress_for : p::seq<kw_for, _, p::must<expr>> {};
struct suppress_clause : p::seq<kw_suppress, _, p::must<suppress_while>, _, p::must<suppress_rule>,
                                p::opt<_, emission_keys>, _, p::must<suppress_for>> {};
struct rule_clause : p::sor<label_clause, let_clause, when_clause, emit_clause, throttle_clause,
                            dedupe_clause, suppress_clause> {};
struct rule_on : kw_on {};
struct rule_decl : p::seq<kw_rule, _, p::must<ident>, _, p::must<rule_on>, _, p::must<ident>,
                          p::star<_, rule_clause>> {};

// `digest "CHANNEL" every DURATION`: the channel's emissions, one report per interval.
struct digest_channel : string_lit {};
struct digest_every : p::seq<kw_every, _, p::must<expr>> {};
struct digest_decl : p::seq<kw_digest, _, p::must<digest_channel>, _, p::must<digest_every>> {};

// `schedule NAME every DURATION | every day at HH:MM local|utc`, then `from METRIC`, `label`,
// `when` and `emit report ...` clauses.
struct time_of_day : p::seq<digits, p::one<':'>, digits, p::not_at<ident_char>> {};
struct schedule_zone : p::sor<kw_local, kw_utc> {};
struct schedule_at : p::seq<kw_at, _, p::must<time_of_day>, _, p::must<schedule_zone>> {};
struct schedule_daily : p::seq<kw_day, _, p::must<schedule_at>> {};
struct schedule_period : p::sor<schedule_daily, expr> {};
struct schedule_every : p::seq<kw_every, _, p::must<schedule_period>> {};
struct schedule_metric : ident {};
struct schedule_from : p::seq<kw_from, _, p::must<schedule_metric>> {};
struct schedule_clause : p::sor<schedule_from, label_clause, when_clause, emit_clause> {};
struct schedule_decl : p::seq<kw_schedule, _, p::must<ident>, _, p::must<schedule_every>,
                              p::star<_, schedule_clause>> {};

struct decl : p::sor<import_decl, param_decl, table_decl, stream_decl, metric_decl, rule_decl,
                     digest_decl, schedule_decl> {};
// One declaration, with the blank space and comments before it.
struct one_decl : p::seq<_, decl> {};

// `policy chain {`, `policy district "north-east" {`, `policy store "S012" {`: the header of a
// policy block. Its items (params and rules) and its closing '}' are read one at a time by the
// parser's loop (parser.cpp), so that a mistake inside a policy loses one item, not the block.
struct policy_level : ident {};
struct policy_open : p::one<'{'> {};
struct policy_header : p::seq<kw_policy, _, p::must<policy_level>, p::opt<_, string_lit>, _,
                              p::must<policy_open>> {};
struct policy_close : p::one<'}'> {};
// Where the parser may resume after a syntax error: a declaration keyword or a policy's '}' at
// the start of a line.
struct decl_start : p::sor<kw_import, kw_param, kw_table, kw_stream, kw_metric, kw_rule, kw_policy,
                           kw_digest, kw_schedule, policy_close> {};

// ---- error messages: the one table ----
struct errors {
  template <typename Rule>
  static constexpr const char* message = "syntax error";
};
template <> inline constexpr const char* errors::message<string_close> = "unterminated string: expected '\"' before the end of the line";
template <> inline constexpr const char* errors::message<string_lit> = "expected a string in double quotes";
template <> inline constexpr const char* errors::message<ident> = "expected a name";
template <> inline constexpr const char* errors::message<member_name> = "expected a field name after '.'";
template <> inline constexpr const char* errors::message<expr> = "expected an expression";
template <> inline constexpr const char* errors::message<arg> = "expected an argument";
template <> inline constexpr const char* errors::message<close_paren> = "expected ')'";
template <> inline constexpr const char* errors::message<unary> = "expected an operand";
template <> inline constexpr const char* errors::message<unary_operand> = "expected an operand";
template <> inline constexpr const char* errors::message<not_operand> = "expected an operand";
template <> inline constexpr const char* errors::message<product> = "expected an operand";
template <> inline constexpr const char* errors::message<sum> = "expected an operand";
template <> inline constexpr const char* errors::message<logical_not> = "expected an operand";
template <> inline constexpr const char* errors::message<conjunction> = "expected an operand";
template <> inline constexpr const char* errors::message<equals> = "expected '='";
template <> inline constexpr const char* errors::message<table_from> = "expected 'from'";
template <> inline constexpr const char* errors::message<table_key> = "expected 'key'";
template <> inline constexpr const char* errors::message<stage> = "expected a pipeline stage: where, select, distinct, during, key, window, agg, affinity, segments or top";
template <> inline constexpr const char* errors::message<affinity_by> = "expected 'by' and the field that names a basket, e.g. affinity sku by order";
template <> inline constexpr const char* errors::message<segments_per_customer> = "expected 'customer': segments ... per customer gives one record per customer";
template <> inline constexpr const char* errors::message<select_item> = "expected a field, or NAME = EXPRESSION";
template <> inline constexpr const char* errors::message<emit_field> = "expected NAME = EXPRESSION after 'with', e.g. with sku = sku, qty = 24";
template <> inline constexpr const char* errors::message<emit_field_value> = "expected '=' and a value, e.g. qty = 24";
template <> inline constexpr const char* errors::message<top_by> = "expected 'by' and what to rank by, e.g. top 5 by revenue";
template <> inline constexpr const char* errors::message<join_on> = "expected 'on' and the key fields the join matches";
template <> inline constexpr const char* errors::message<table_type> = "expected a column type: COLUMN = TYPE";
template <> inline constexpr const char* errors::message<column_type> = "expected a type: string, int, decimal, money, percent or bool";
template <> inline constexpr const char* errors::message<window_spec> = "expected a window: tumbling DURATION, hopping DURATION every DURATION, sliding DURATION, session gap DURATION, day, week, month, or fiscal \"4-4-5\" from \"YYYY-MM-DD\"";
template <> inline constexpr const char* errors::message<weekday_name> = "expected the day a week starts on, e.g. week starting sunday";
template <> inline constexpr const char* errors::message<fiscal_from> = "expected 'from' and the first day of a fiscal year, e.g. fiscal \"4-4-5\" from \"2025-02-02\"";
template <> inline constexpr const char* errors::message<attribute_to> = "expected 'to' and what refunds are attributed to, e.g. attribute to sale within 30d";
template <> inline constexpr const char* errors::message<attribute_target> = "expected what refunds are attributed to: sale";
template <> inline constexpr const char* errors::message<attribute_within> = "expected 'within' and how long after a sale its refunds are attributed to it, e.g. within 30d";
template <> inline constexpr const char* errors::message<hours_name> = "expected what the stage keeps, e.g. during open_hours";
template <> inline constexpr const char* errors::message<session_gap> = "expected 'gap' and the longest pause inside a session, such as 'session gap 20m'";
template <> inline constexpr const char* errors::message<hop_every> = "expected 'every' and how often a hopping window starts";
template <> inline constexpr const char* errors::message<agg_def> = "expected an aggregate: NAME = FUNCTION(...)";
template <> inline constexpr const char* errors::message<agg_call> = "expected an aggregate call such as sum(total)";
template <> inline constexpr const char* errors::message<rule_on> = "expected 'on' and the stream or metric the rule watches";
template <> inline constexpr const char* errors::message<emit_kind> = "expected what to emit: alert or task";
template <> inline constexpr const char* errors::message<severity_level> = "expected a severity: info, warning or critical";
template <> inline constexpr const char* errors::message<emit_to> = "expected 'to' and a channel";
template <> inline constexpr const char* errors::message<throttle_count> = "expected how many emissions a throttle lets through, e.g. throttle 1 per 6h";
template <> inline constexpr const char* errors::message<kw_per> = "expected 'per' and a duration";
template <> inline constexpr const char* errors::message<policy_level> = "expected what the policy covers: chain, district \"NAME\" or store \"ID\"";
template <> inline constexpr const char* errors::message<policy_open> = "expected '{' to open the policy";
template <> inline constexpr const char* errors::message<dedupe_within> = "expected 'within' and a duration, e.g. dedupe within 1h";
template <> inline constexpr const char* errors::message<suppress_while> = "expected 'while' and a rule, e.g. suppress while reorder for 1d";
template <> inline constexpr const char* errors::message<suppress_rule> = "expected the name of the rule that suppresses this one";
template <> inline constexpr const char* errors::message<suppress_for> = "expected 'for' and how long the other rule's emission suppresses this one, e.g. for 1d";
template <> inline constexpr const char* errors::message<digest_channel> = "expected the channel in double quotes, e.g. digest \"ops\" every 1h";
template <> inline constexpr const char* errors::message<digest_every> = "expected 'every' and how often the digest goes out, e.g. every 1h";
template <> inline constexpr const char* errors::message<schedule_every> = "expected 'every' and a duration, or 'every day at HH:MM local'";
template <> inline constexpr const char* errors::message<schedule_period> = "expected a duration, or 'day at HH:MM local'";
template <> inline constexpr const char* errors::message<schedule_at> = "expected 'at' and a time of day, e.g. every day at 06:00 local";
template <> inline constexpr const char* errors::message<time_of_day> = "expected a time of day such as 06:00";
template <> inline constexpr const char* errors::message<schedule_zone> = "expected 'local' (each store's time zone) or 'utc'";
template <> inline constexpr const char* errors::message<schedule_metric> = "expected the metric the schedule reports from";

// How deeply expressions may nest (parentheses, calls, unary operators): far beyond any real rule,
// well within the stack. The parser passes a Depth as a parse state; the control counts in it.
inline constexpr int kMaxExpressionDepth = 100;
struct Depth {
  int level = 0;
};
inline Depth* DepthOf() { return nullptr; }
template <typename First, typename... Rest>
Depth* DepthOf(First& first, Rest&... rest) {
  if constexpr (std::is_same_v<std::remove_cvref_t<First>, Depth>) return &first;
  else return DepthOf(rest...);
}

// must<Rule> calls raise() when Rule fails: throw with the message from the table. Every rule
// rewinds on failure (PEGTL lets rules under must<> stop mid-way), so a raised error points at
// the start of what was expected, not past a partial match such as "key" in "keys".
template <typename Rule>
struct control : p::normal<Rule> {
  template <p::apply_mode A, p::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename... States>
  static bool match(ParseInput& in, States&&... st) {
    // The ways an expression recurses: through `expr` (parentheses, call arguments), and after
    // a `-` or a `not`.
    if constexpr (std::is_same_v<Rule, expr> || std::is_same_v<Rule, unary_operand> ||
                  std::is_same_v<Rule, not_operand>) {
      if (Depth* depth = DepthOf(st...)) {
        if (depth->level >= kMaxExpressionDepth)
          throw p::parse_error("expression nested too deeply (more than 100 levels)", in);
        ++depth->level;
        struct Leave {
          Depth* d;
          ~Leave() { --d->level; }
        } leave{depth};
        return p::normal<Rule>::template match<A, p::rewind_mode::required, Action, Control>(in, st...);
      }
    }
    return p::normal<Rule>::template match<A, p::rewind_mode::required, Action, Control>(in, st...);
  }

  template <typename ParseInput, typename... States>
  [[noreturn]] static void raise(const ParseInput& in, States&&... /*states*/) {
    throw p::parse_error(errors::message<Rule>, in);
  }
};

}  // namespace aisle::dsl::grammar
