#include "dsl/parser.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "dsl/grammar.hpp"
#include "dsl/lexer.hpp"
#include "dsl/money.hpp"
#include "dsl/suggest.hpp"
#include "dsl/time.hpp"

namespace aisle::dsl {

namespace {

namespace g = grammar;
namespace pt = tao::pegtl::parse_tree;
using Node = pt::node;

template <typename Rule>
using selector = pt::selector<
    Rule,
    pt::store_content::on<g::ident, g::name, g::member_name, g::string_lit, g::duration_lit,
                          g::percent_lit, g::money_lit, g::number_lit, g::true_lit, g::false_lit,
                          g::null_lit, g::call, g::agg_call, g::arg, g::arg_name, g::negation,
                          g::inversion, g::mul_op, g::add_op, g::cmp_op, g::and_op, g::or_op,
                          g::import_decl, g::param_decl, g::table_decl, g::stream_decl,
                          g::lateness_clause, g::delay_clause, g::idle_clause, g::metric_decl, g::where_stage, g::key_stage,
                          g::window_stage, g::tumbling_window, g::hopping_window, g::hop_every, g::sliding_window, g::session_window, g::session_gap, g::day_window, g::week_window, g::month_window, g::fiscal_window, g::week_start, g::weekday_name, g::fiscal_from, g::during_stage, g::hours_name, g::attribute_stage, g::attribute_target, g::attribute_within, g::window_offset, g::agg_stage, g::agg_def,
                          g::label_clause, g::let_clause, g::when_clause, g::emit_clause,
                          g::emit_kind, g::severity_level, g::message_clause, g::rule_decl, g::emit_field, g::emit_field_name,
                          g::throttle_clause, g::throttle_count, g::throttle_keys,
                          g::policy_header, g::policy_level,
                          g::table_type, g::column_type, g::select_stage, g::select_computed,
                          g::select_field, g::distinct_stage, g::top_stage, g::top_by, g::top_per,
                          g::affinity_stage, g::affinity_option, g::affinity_option_name,
                          g::segments_stage, g::segments_spend, g::segments_k, g::segments_mix,
                          g::segments_per,
                          g::join_clause, g::join_left,
                          g::dedupe_clause, g::suppress_clause, g::suppress_rule, g::emission_keys,
                          g::digest_decl, g::digest_channel, g::schedule_decl, g::time_of_day,
                          g::schedule_zone, g::schedule_metric>,
    pt::fold_one::on<g::postfix, g::product, g::sum, g::comparison, g::conjunction,
                     g::disjunction>>;

// Builds the AST from PEGTL's parse tree of one declaration.
class Builder {
 public:
  Builder(SourceId source, Diagnostics& diagnostics) : source_(source), diags_(diagnostics) {}

  void Declaration(const Node& n, ast::Module& m) {
    if (n.is_type<g::import_decl>()) {
      m.imports.push_back({Unquote(*n.children[0]), SpanOf(n)});
    } else if (n.is_type<g::param_decl>()) {
      m.params.push_back({Id(*n.children[0]), Expression(*n.children[1]), SpanOf(n)});
    } else if (n.is_type<g::table_decl>()) {
      ast::Table t;
      t.name = Id(*n.children[0]);
      t.path = Unquote(*n.children[1]);
      t.path_span = SpanOf(*n.children[1]);
      t.key = Id(*n.children[2]);
      for (size_t i = 3; i < n.children.size(); ++i)
        t.types.push_back({Id(*n.children[i]->children[0]), Id(*n.children[i]->children[1])});
      t.span = SpanOf(n);
      m.tables.push_back(std::move(t));
    } else if (n.is_type<g::stream_decl>()) {
      ast::Stream s;
      s.name = Id(*n.children[0]);
      s.span = SpanOf(n);
      for (size_t i = 1; i < n.children.size(); ++i) {
        const auto& clause = *n.children[i];
        const bool delay = clause.is_type<g::delay_clause>(), idle = clause.is_type<g::idle_clause>();
        auto& slot = delay ? s.delay : idle ? s.idle : s.lateness;
        auto& spans = delay ? s.delay_spans : idle ? s.idle_spans : s.lateness_spans;
        slot = Expression(*clause.children[0]);
        spans.push_back(SpanOf(clause));
      }
      m.streams.push_back(std::move(s));
    } else if (n.is_type<g::metric_decl>()) {
      m.metrics.push_back(Metric(n));
    } else if (n.is_type<g::rule_decl>()) {
      m.rules.push_back(Rule(n));
    } else if (n.is_type<g::digest_decl>()) {
      ast::Digest d;
      d.channel = Unquote(*n.children[0]);
      d.channel_span = SpanOf(*n.children[0]);
      d.period = Expression(*n.children[1]);
      d.span = SpanOf(n);
      m.digests.push_back(std::move(d));
    } else if (n.is_type<g::schedule_decl>()) {
      m.schedules.push_back(Schedule(n));
    }
  }

  // `policy LEVEL ["TARGET"] {`: the policy, with no items yet.
  ast::Policy PolicyHeader(const Node& n) const {
    ast::Policy policy;
    policy.level = Id(*n.children[0]);
    if (n.children.size() > 1) {
      policy.target = Unquote(*n.children[1]);
      policy.target_span = SpanOf(*n.children[1]);
    }
    policy.header = SpanOf(n);
    policy.span = policy.header;
    return policy;
  }

 private:
  Span SpanOf(const Node& n) const {
    return {source_, static_cast<uint32_t>(n.begin().byte), static_cast<uint32_t>(n.end().byte)};
  }
  ast::Ident Id(const Node& n) const { return {n.string(), SpanOf(n)}; }

  std::string Unquote(const Node& n) const {
    std::string_view raw = n.string_view();
    std::string out;
    if (raw.size() < 2) return out;
    raw = raw.substr(1, raw.size() - 2);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        char c = raw[++i];
        out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
      } else {
        out.push_back(raw[i]);
      }
    }
    return out;
  }

  ast::Metric Metric(const Node& n) {
    ast::Metric metric;
    metric.name = Id(*n.children[0]);
    metric.input = Id(*n.children[1]);
    metric.span = SpanOf(n);
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& s = *n.children[i];
      if (s.is_type<g::join_clause>()) {
        ast::Join join;
        join.span = SpanOf(s);
        size_t c = 0;
        if (s.children[c]->is_type<g::join_left>()) {
          join.left_outer = true;
          ++c;
        }
        join.right = Id(*s.children[c++]);
        for (; c < s.children.size(); ++c) join.on.push_back(Id(*s.children[c]));
        metric.join = std::move(join);
        continue;
      }
      ast::Stage stage;
      stage.span = SpanOf(s);
      if (s.is_type<g::select_stage>()) {
        stage.kind = ast::StageKind::kSelect;
        for (const auto& item : s.children) stage.select.push_back(SelectItem(*item));
      } else if (s.is_type<g::distinct_stage>()) {
        stage.kind = ast::StageKind::kDistinct;
        for (const auto& f : s.children) stage.fields.push_back(Id(*f));
      } else if (s.is_type<g::top_stage>()) {
        stage.kind = ast::StageKind::kTop;
        stage.top_count = Expression(*s.children[0]);
        stage.top_by = Expression(*s.children[1]->children[0]);
        if (s.children.size() > 2)
          for (const auto& f : s.children[2]->children) stage.fields.push_back(Id(*f));
      } else if (s.is_type<g::where_stage>()) {
        stage.kind = ast::StageKind::kWhere;
        stage.where = Expression(*s.children[0]);
      } else if (s.is_type<g::key_stage>()) {
        stage.kind = ast::StageKind::kKey;
        for (const auto& k : s.children) stage.keys.push_back(Id(*k));
      } else if (s.is_type<g::window_stage>()) {
        stage.kind = ast::StageKind::kWindow;
        const Node& spec = *s.children[0];
        if (spec.is_type<g::day_window>()) {
          stage.window = ast::WindowKind::kDay;
        } else if (spec.is_type<g::week_window>()) {
          stage.window = ast::WindowKind::kWeek;
          if (!spec.children.empty()) stage.week_start = Id(*spec.children[0]->children[0]);
        } else if (spec.is_type<g::month_window>()) {
          stage.window = ast::WindowKind::kMonth;
        } else if (spec.is_type<g::fiscal_window>()) {
          stage.window = ast::WindowKind::kFiscal;
          stage.fiscal_pattern = Unquote(*spec.children[0]);
          stage.fiscal_pattern_span = SpanOf(*spec.children[0]);
          stage.fiscal_anchor = Unquote(*spec.children[1]->children[0]);
          stage.fiscal_anchor_span = SpanOf(*spec.children[1]->children[0]);
        } else if (spec.is_type<g::session_window>()) {
          stage.window = ast::WindowKind::kSession;
          stage.window_size = Expression(*spec.children[0]->children[0]);
        } else if (spec.is_type<g::hopping_window>()) {
          stage.window = ast::WindowKind::kHopping;
          stage.window_size = Expression(*spec.children[0]);
          stage.window_step = Expression(*spec.children[1]->children[0]);
        } else {
          stage.window = spec.is_type<g::sliding_window>() ? ast::WindowKind::kSliding
                                                           : ast::WindowKind::kTumbling;
          stage.window_size = Expression(*spec.children[0]);
          if (spec.children.size() > 1) stage.window_offset = Expression(*spec.children[1]->children[0]);
        }
      } else if (s.is_type<g::attribute_stage>()) {
        stage.kind = ast::StageKind::kAttribute;
        stage.attribute_target = Id(*s.children[0]);
        stage.attribute_within = Expression(*s.children[1]->children[0]);
      } else if (s.is_type<g::during_stage>()) {
        stage.kind = ast::StageKind::kDuring;
        stage.during = Id(*s.children[0]);
      } else if (s.is_type<g::affinity_stage>()) {
        stage.kind = ast::StageKind::kAffinity;
        stage.affinity_item = Id(*s.children[0]);
        stage.affinity_basket = Id(*s.children[1]);
        for (size_t o = 2; o < s.children.size(); ++o) {
          const Node& option = *s.children[o];
          stage.affinity_options.push_back(
              {Id(*option.children[0]), Expression(*option.children[1]), SpanOf(option)});
        }
      } else if (s.is_type<g::segments_stage>()) {
        stage.kind = ast::StageKind::kSegments;
        stage.segments_customer = Id(*s.children[0]);
        for (size_t o = 1; o < s.children.size(); ++o) stage.segments_options.push_back(SegmentsOption(*s.children[o]));
      } else if (s.is_type<g::agg_stage>()) {
        stage.kind = ast::StageKind::kAgg;
        for (const auto& def : s.children)
          stage.aggs.push_back({Id(*def->children[0]), Expression(*def->children[1]), SpanOf(*def)});
      }
      metric.stages.push_back(std::move(stage));
    }
    return metric;
  }

  // `spend EXPR`, `k N`, `mix FIELD` or `per customer`; the name's span is its keyword's.
  ast::SegmentsOption SegmentsOption(const Node& n) {
    ast::SegmentsOption option;
    option.span = SpanOf(n);
    const char* name = n.is_type<g::segments_spend>() ? "spend"
                       : n.is_type<g::segments_k>()   ? "k"
                       : n.is_type<g::segments_mix>() ? "mix"
                                                      : "per";
    const size_t length = std::string_view(name).size();
    option.name = {name, {option.span.source, option.span.begin, option.span.begin + static_cast<uint32_t>(length)}};
    if (n.is_type<g::segments_mix>()) {
      option.field = Id(*n.children[0]);
    } else if (n.is_type<g::segments_per>()) {
      const uint32_t end = option.span.end;
      option.field = {"customer", {option.span.source, end - 8, end}};
    } else {
      option.value = Expression(*n.children[0]);
    }
    return option;
  }

  ast::SelectItem SelectItem(const Node& n) {
    ast::SelectItem item;
    item.span = SpanOf(n);
    item.name = Id(*n.children[0]);
    if (n.is_type<g::select_computed>()) {
      item.computed = true;
      item.value = Expression(*n.children[1]);
      return item;
    }
    // A kept field: the same expression a name (or `a.b`) in a condition would be.
    auto e = Make(ast::ExprKind::kName, *n.children[0]);
    e->text = item.name.name;
    e->name_span = e->span;
    if (n.children.size() > 1) {
      auto member = Make(ast::ExprKind::kMember, n);
      member->text = n.children[1]->string();
      member->name_span = SpanOf(*n.children[1]);
      member->args.push_back(std::move(e));
      e = std::move(member);
      item.name.name += "." + e->text;
      item.name.span = item.span;
    }
    item.value = std::move(e);
    return item;
  }

  ast::Rule Rule(const Node& n) {
    ast::Rule rule;
    rule.name = Id(*n.children[0]);
    rule.input = Id(*n.children[1]);
    rule.span = SpanOf(n);
    for (size_t i = 2; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::label_clause>()) {
        rule.labels.push_back({Id(*c.children[0]), Unquote(*c.children[1]), SpanOf(c)});
      } else if (c.is_type<g::let_clause>()) {
        rule.lets.push_back({Id(*c.children[0]), Expression(*c.children[1])});
      } else if (c.is_type<g::when_clause>()) {
        rule.whens.push_back(Expression(*c.children[0]));
      } else if (c.is_type<g::throttle_clause>()) {
        ast::Throttle t;
        t.span = SpanOf(c);
        t.count = Number(*c.children[0], c.children[0]->string_view());
        t.period = Expression(*c.children[1]);
        if (c.children.size() > 2)
          for (const auto& k : c.children[2]->children) t.keys.push_back(Id(*k));
        rule.throttles.push_back(std::move(t));
      } else if (c.is_type<g::emit_clause>()) {
        rule.emits.push_back(Emit(c));
      } else if (c.is_type<g::dedupe_clause>()) {
        ast::Dedupe d;
        d.span = SpanOf(c);
        for (const auto& part : c.children) {
          if (part->is_type<g::emission_keys>()) {
            for (const auto& k : part->children) d.keys.push_back(Id(*k));
          } else {
            d.period = Expression(*part);
          }
        }
        rule.dedupes.push_back(std::move(d));
      } else if (c.is_type<g::suppress_clause>()) {
        ast::Suppress s;
        s.span = SpanOf(c);
        for (const auto& part : c.children) {
          if (part->is_type<g::suppress_rule>()) {
            s.rule = Id(*part);
          } else if (part->is_type<g::emission_keys>()) {
            for (const auto& k : part->children) s.keys.push_back(Id(*k));
          } else {
            s.period = Expression(*part);
          }
        }
        rule.suppressions.push_back(std::move(s));
      }
    }
    return rule;
  }

  ast::Emit Emit(const Node& c) {
    ast::Emit e;
    e.span = SpanOf(c);
    for (const auto& part : c.children) {
      if (part->is_type<g::emit_kind>()) {
        e.kind = Id(*part);
      } else if (part->is_type<g::severity_level>()) {
        e.severity = Id(*part);
      } else if (part->is_type<g::string_lit>()) {
        e.channel = Unquote(*part);
        e.channel_span = SpanOf(*part);
      } else if (part->is_type<g::message_clause>()) {
        e.message = Unquote(*part->children[0]);
        e.message_span = SpanOf(*part->children[0]);
      } else if (part->is_type<g::emit_field>()) {
        e.fields.push_back({Id(*part->children[0]), Expression(*part->children[1])});
      }
    }
    return e;
  }

  ast::Schedule Schedule(const Node& n) {
    ast::Schedule s;
    s.name = Id(*n.children[0]);
    s.span = SpanOf(n);
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::time_of_day>()) {
        s.time_of_day = c.string();
        s.time_span = SpanOf(c);
      } else if (c.is_type<g::schedule_zone>()) {
        s.zone = Id(c);
      } else if (c.is_type<g::schedule_metric>()) {
        s.from.push_back(Id(c));
      } else if (c.is_type<g::label_clause>()) {
        s.labels.push_back({Id(*c.children[0]), Unquote(*c.children[1]), SpanOf(c)});
      } else if (c.is_type<g::when_clause>()) {
        s.whens.push_back(Expression(*c.children[0]));
      } else if (c.is_type<g::emit_clause>()) {
        s.emits.push_back(Emit(c));
      } else if (i == 1) {
        s.period = Expression(c);  // `every DURATION`
      }
    }
    return s;
  }

  ast::ExprPtr Make(ast::ExprKind kind, const Node& n) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = SpanOf(n);
    return e;
  }

  ast::ExprPtr Literal(const Node& n, Value v) {
    auto e = Make(ast::ExprKind::kLiteral, n);
    e->literal = v;
    return e;
  }

  ast::ExprPtr Number(const Node& n, std::string_view text) {
    if (text.find('.') == std::string_view::npos) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        diags_.Error("E004", SpanOf(n), "number out of range");
      }
      return Literal(n, Value::Int(v));
    }
    double d = 0;
    std::from_chars(text.data(), text.data() + text.size(), d);
    return Literal(n, Value::Decimal(d));
  }

  ast::ExprPtr Expression(const Node& n) {
    if (n.is_type<g::number_lit>()) return Number(n, n.string_view());
    if (n.is_type<g::percent_lit>()) {
      std::string_view t = n.string_view();
      t.remove_suffix(1);
      double d = 0;
      std::from_chars(t.data(), t.data() + t.size(), d);
      return Literal(n, Value::Percent(d / 100.0));
    }
    if (n.is_type<g::money_lit>()) {
      std::string_view t = n.string_view();
      std::string_view code = t.substr(t.size() - 3);
      std::string_view digits = t.substr(0, t.find_first_of(" \t"));
      auto units = ParseMoneyUnits(digits);
      if (!units) diags_.Error("E004", SpanOf(n), "money amount out of range");
      return Literal(n, Value::Money(units.value_or(0), PackCurrency(code)));
    }
    if (n.is_type<g::duration_lit>()) {
      std::string_view t = n.string_view();
      size_t unit_at = t.find_first_not_of("0123456789");
      std::string_view unit = t.substr(unit_at);
      int64_t count = 0;
      auto [end, error] = std::from_chars(t.data(), t.data() + unit_at, count);
      if (error != std::errc() || end != t.data() + unit_at) {
        diags_.Error("E004", SpanOf(n), "duration out of range");
        return Literal(n, Value::Duration(0));
      }
      int64_t scale = unit == "ms"  ? 1000
                      : unit == "s" ? kMicrosPerSecond
                      : unit == "m" ? kMicrosPerMinute
                      : unit == "h" ? kMicrosPerHour
                      : unit == "d" ? kMicrosPerDay
                                    : 7 * kMicrosPerDay;
      if (count > INT64_MAX / scale) {
        diags_.Error("E004", SpanOf(n), "duration out of range");
        count = 0;
      }
      return Literal(n, Value::Duration(count * scale));
    }
    if (n.is_type<g::string_lit>()) {
      auto e = Literal(n, Value());
      e->literal.type = Type::kString;
      e->text = Unquote(n);
      return e;
    }
    if (n.is_type<g::true_lit>()) return Literal(n, Value::Bool(true));
    if (n.is_type<g::false_lit>()) return Literal(n, Value::Bool(false));
    if (n.is_type<g::null_lit>()) return Literal(n, Value::Null());
    if (n.is_type<g::name>()) {
      auto e = Make(ast::ExprKind::kName, n);
      e->text = n.string();
      e->name_span = e->span;
      return e;
    }
    if (n.is_type<g::call>() || n.is_type<g::agg_call>()) {
      auto e = Make(ast::ExprKind::kCall, n);
      e->text = n.children[0]->string();
      e->name_span = SpanOf(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& a = *n.children[i];
        if (a.children.size() == 2) {
          e->arg_names.push_back(a.children[0]->children[0]->string());
          e->arg_name_spans.push_back(SpanOf(*a.children[0]->children[0]));
          e->args.push_back(Expression(*a.children[1]));
        } else {
          e->arg_names.emplace_back();
          e->args.push_back(Expression(*a.children[0]));
          e->arg_name_spans.push_back(e->args.back()->span);
        }
      }
      return e;
    }
    if (n.is_type<g::postfix>()) {
      ast::ExprPtr object = Expression(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) {
        auto e = Make(ast::ExprKind::kMember, n);
        e->span.begin = object->span.begin;
        e->span.end = static_cast<uint32_t>(n.children[i]->end().byte);
        e->text = n.children[i]->string();
        e->name_span = SpanOf(*n.children[i]);
        e->args.push_back(std::move(object));
        object = std::move(e);
      }
      return object;
    }
    if (n.is_type<g::negation>() || n.is_type<g::inversion>()) {
      auto e = Make(ast::ExprKind::kUnary, n);
      e->unary_op = n.is_type<g::negation>() ? ast::UnaryOp::kNeg : ast::UnaryOp::kNot;
      e->args.push_back(Expression(*n.children.back()));
      return e;
    }
    if (n.is_type<g::product>() || n.is_type<g::sum>() || n.is_type<g::comparison>() ||
        n.is_type<g::conjunction>() || n.is_type<g::disjunction>()) {
      ast::ExprPtr left = Expression(*n.children[0]);
      for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
        auto e = Make(ast::ExprKind::kBinary, n);
        e->binary_op = Operator(*n.children[i]);
        e->span.begin = left->span.begin;
        e->args.push_back(std::move(left));
        e->args.push_back(Expression(*n.children[i + 1]));
        e->span.end = e->args[1]->span.end;
        left = std::move(e);
      }
      return left;
    }
    // Unreachable with the grammar above; keep the tree well-formed anyway.
    diags_.Error("E001", SpanOf(n), "unexpected expression");
    return Literal(n, Value::Null());
  }

  static ast::BinaryOp Operator(const Node& op) {
    std::string_view t = op.string_view();
    if (op.is_type<g::and_op>()) return ast::BinaryOp::kAnd;
    if (op.is_type<g::or_op>()) return ast::BinaryOp::kOr;
    if (t == "+") return ast::BinaryOp::kAdd;
    if (t == "-") return ast::BinaryOp::kSub;
    if (t == "*") return ast::BinaryOp::kMul;
    if (t == "/") return ast::BinaryOp::kDiv;
    if (t == "==") return ast::BinaryOp::kEq;
    if (t == "!=") return ast::BinaryOp::kNe;
    if (t == "<=") return ast::BinaryOp::kLe;
    if (t == ">=") return ast::BinaryOp::kGe;
    if (t == "<") return ast::BinaryOp::kLt;
    return ast::BinaryOp::kGt;
  }

  SourceId source_;
  Diagnostics& diags_;
};

// Offset of the next line after the one at `pos` that starts with a declaration keyword or a
// policy's '}'.
size_t NextDeclaration(std::string_view text, size_t pos) {
  while (true) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return text.size();
    pos = nl + 1;
    size_t start = text.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) return text.size();
    tao::pegtl::memory_input in(text.data() + start, text.data() + text.size(), "");
    if (tao::pegtl::parse<g::decl_start>(in)) return start;
  }
}

// Where to resume after a syntax error at `at`: the next declaration, or inside a policy the
// next '}' outside strings and comments when it comes first (a one-line policy keeps its end).
size_t Recover(std::string_view text, size_t at, bool in_policy) {
  const size_t next = NextDeclaration(text, at);
  if (!in_policy || at >= next) return next;
  const std::string_view rest = text.substr(at, next - at);
  for (const Token& t : Lex(rest))
    if (t.kind == Token::Kind::kOperator && t.text == "}")
      return at + static_cast<size_t>(t.text.data() - rest.data());
  return next;
}

std::string_view WordAt(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
    ++end;
  return text.substr(pos, end - pos);
}

bool AtLineStart(std::string_view text, size_t pos) { return pos == 0 || text[pos - 1] == '\n'; }

template <typename Rule>
bool StartsWith(std::string_view text, size_t pos) {
  tao::pegtl::memory_input in(text.data() + pos, text.data() + text.size(), "");
  return tao::pegtl::parse<Rule>(in);
}

// The policies of one file while it is read: which are open, and the problems of their shape
// that only the order of declarations shows (a missing '}', a declaration that a policy cannot
// hold).
class PolicyStack {
 public:
  PolicyStack(const SourceManager& sources, SourceId source, ast::Module& module,
              Diagnostics& diagnostics)
      : sources_(sources), source_(source), module_(module), diags_(diagnostics) {}

  bool open() const { return !open_.empty(); }
  ast::Policy& innermost() { return module_.policies[open_.back()]; }

  void Open(ast::Policy policy) {
    module_.policies.push_back(std::move(policy));
    open_.push_back(module_.policies.size() - 1);
  }

  void Close(size_t brace) {
    innermost().span.end = static_cast<uint32_t>(brace + 1);
    open_.pop_back();
  }

  // Before a declaration (or a policy header) that starts at `start`: a policy whose header did
  // not parse ends quietly at the first declaration at the start of a line (it may have no '{').
  // A good policy still open there is missing its '}' when what follows cannot be one of its
  // items (`item` is false for anything but params and rules): reported, and closed. Returns
  // whether the declaration still goes into the innermost open policy.
  bool Before(std::string_view text, size_t start, bool item) {
    if (AtLineStart(text, start))
      while (open() && innermost().broken) open_.pop_back();
    if (!open()) return false;
    if (item) return true;
    if (!AtLineStart(text, start)) return true;
    const std::string_view word = WordAt(text, start);
    diags_.Error("E001", Word(start, word),
                 fmt::format("expected '}}' to close the policy at line {} before this '{}'",
                             Line(innermost()), word));
    open_.clear();
    return false;
  }

  // A declaration other than a param or a rule, indented inside a policy.
  void Misplaced(size_t start, std::string_view word) {
    diags_.Error("E061", Word(start, word),
                 fmt::format("a policy holds param overrides and rules only, not a {}", word),
                 word == "policy" ? fmt::format("close the policy at line {} with '}}' before "
                                                "opening another",
                                                Line(innermost()))
                                  : "declare it before or after the policy");
  }

  // At the end of the file: every good policy still open is missing its '}'.
  void End(std::string_view text) {
    for (size_t i : open_) {
      const ast::Policy& p = module_.policies[i];
      if (p.broken) continue;
      const auto at = static_cast<uint32_t>(text.size());
      diags_.Error("E002", Span{source_, at, at},
                   fmt::format("expected '}}' to close the policy at line {} (at the end of the "
                               "file)",
                               Line(p)));
    }
    open_.clear();
  }

 private:
  Span Word(size_t start, std::string_view word) const {
    return {source_, static_cast<uint32_t>(start),
            static_cast<uint32_t>(start + std::max<size_t>(word.size(), 1))};
  }
  uint32_t Line(const ast::Policy& p) const {
    return sources_.Locate(source_, p.header.begin).line;
  }

  const SourceManager& sources_;
  SourceId source_;
  ast::Module& module_;
  Diagnostics& diags_;
  std::vector<size_t> open_;  // indexes into module_.policies, innermost last
};

}  // namespace

ast::Module Parse(const SourceManager& sources, SourceId source, Diagnostics& diagnostics) {
  ast::Module module;
  module.source = source;
  std::string_view text = sources.text(source);
  Builder builder(source, diagnostics);
  PolicyStack policies(sources, source, module, diagnostics);
  size_t pos = 0;
  while (pos < text.size()) {
    namespace tp = tao::pegtl;
    tp::memory_input in(tp::internal::iterator(text.data() + pos, pos, 1, 1),
                        text.data() + text.size(), sources.path(source));
    // Skip blanks and comments; stop at the end.
    tp::parse<g::_>(in);
    if (in.empty()) break;
    const size_t start = static_cast<size_t>(in.current() - text.data());
    if (text[start] == '}') {
      if (policies.open()) {
        policies.Close(start);
      } else {
        const Span brace{source, static_cast<uint32_t>(start), static_cast<uint32_t>(start + 1)};
        diagnostics.Error("E001", brace, "unexpected '}': no policy is open here");
      }
      pos = start + 1;
      continue;
    }
    const bool header = StartsWith<g::kw_policy>(text, start);
    try {
      if (header) {
        const bool nested = policies.Before(text, start, false);
        g::Depth depth;
        auto root = pt::parse<g::policy_header, selector, tp::nothing, g::control>(in, depth);
        if (nested) policies.Misplaced(start, "policy");
        policies.Open(builder.PolicyHeader(*root->children[0]));
        pos = static_cast<size_t>(in.current() - text.data());
        continue;
      }
      g::Depth depth;
      auto root = pt::parse<g::decl, selector, tp::nothing, g::control>(in, depth);
      if (!root) {
        std::string_view word = WordAt(text, start);
        std::string help;
        const std::vector<std::string_view> keywords = {
            "import", "param",  "table",    "stream",   "metric", "rule",   "policy",
            "digest", "schedule", "label",  "let",      "when",   "emit",   "dedupe",
            "suppress", "from", "where",    "key",      "window", "agg",    "select",
            "distinct", "top",  "during", "affinity", "segments"};
        // A clause keyword out of place (its rule was lost to an earlier error) is spelled right.
        if (!word.empty() && std::find(keywords.begin(), keywords.end(), word) == keywords.end())
          help = DidYouMean(word, keywords);
        Span span{source, static_cast<uint32_t>(start),
                  static_cast<uint32_t>(start + std::max<size_t>(word.size(), 1))};
        if (policies.open()) {
          diagnostics.Error("E001", span,
                            "unexpected '" +
                                std::string(word.empty() ? text.substr(start, 1) : word) +
                                "': expected 'param', 'rule' or '}' in a policy, or a clause of "
                                "the one above",
                            help);
        } else {
          diagnostics.Error("E001", span,
                            word.empty() ? "expected a declaration: import, param, table, stream, "
                                           "metric, rule or policy"
                                         : "unexpected '" + std::string(word) +
                                               "': expected a declaration (import, param, table, "
                                               "stream, metric, rule, policy) or a clause of the "
                                               "one above",
                            help);
        }
        pos = Recover(text, start, policies.open());
        continue;
      }
      for (const auto& decl : root->children) {
        const bool item = decl->is_type<g::param_decl>() || decl->is_type<g::rule_decl>();
        if (!policies.Before(text, start, item)) {
          builder.Declaration(*decl, module);
        } else if (item) {
          ast::Module items;
          builder.Declaration(*decl, items);
          ast::Policy& p = policies.innermost();
          for (auto& param : items.params) p.params.push_back(std::move(param));
          for (auto& rule : items.rules) p.rules.push_back(std::move(rule));
        } else {
          policies.Misplaced(start, WordAt(text, start));
          builder.Declaration(*decl, module);  // kept, so that what uses it is still checked
        }
      }
      pos = static_cast<size_t>(in.current() - text.data());
    } catch (const tp::parse_error& e) {
      size_t at = e.positions().empty() ? pos : e.positions().front().byte;
      std::string_view word = WordAt(text, at);
      Span span{source, static_cast<uint32_t>(at),
                static_cast<uint32_t>(at + std::max<size_t>(word.size(), 1))};
      diagnostics.Error(at >= text.size() ? "E002" : "E001", span,
                        std::string(e.message()) +
                            (at >= text.size() ? " (at the end of the file)" : ""));
      if (header) {
        // Keep reading its items into a policy that is skipped, so they do not leak out as
        // top-level declarations; its '}' (or the next declaration at a line start) ends it.
        ast::Policy broken;
        broken.broken = true;
        broken.header = Span{source, static_cast<uint32_t>(start), static_cast<uint32_t>(at)};
        broken.span = broken.header;
        policies.Open(std::move(broken));
        pos = Recover(text, start, true);
      } else {
        pos = Recover(text, at, policies.open());
      }
    }
  }
  policies.End(text);
  return module;
}

}  // namespace aisle::dsl
