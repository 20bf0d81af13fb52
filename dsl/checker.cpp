#include "dsl/checker.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <xxhash.h>

#include "dsl/constant.hpp"
#include "dsl/csv.hpp"
#include "dsl/lexer.hpp"
#include "dsl/open_hours.hpp"
#include "dsl/time.hpp"
#include "dsl/policy.hpp"
#include "dsl/lookup_table.hpp"
#include "dsl/relations.hpp"
#include "dsl/suggest.hpp"
#include "dsl/time.hpp"

namespace aisle::dsl {

namespace {

namespace fs = std::filesystem;
using plan::ExprOp;

// The range of `segments ... k N`: one segment says nothing, and more than 20 profiles are more
// than anyone reads.
constexpr int64_t kMinSegments = 2;
constexpr int64_t kMaxSegments = 20;

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kDecimal || t == Type::kPercent; }

// "an int", "a decimal".
std::string WithArticle(Type t) {
  std::string_view name = TypeName(t);
  bool vowel = !name.empty() && std::string_view("aeiou").find(name[0]) != std::string_view::npos;
  return std::string(vowel ? "an " : "a ") + std::string(name);
}

// The result type of `l op r`, or kAny with `why` set when the operands do not fit.
Type BinaryType(ast::BinaryOp op, Type l, Type r, std::string& why) {
  using B = ast::BinaryOp;
  auto fail = [&](std::string text) {
    why = std::move(text);
    return Type::kAny;
  };
  const std::string ln(TypeName(l)), rn(TypeName(r));
  if (l == Type::kNull || r == Type::kNull) {
    if (op == B::kAnd || op == B::kOr || op == B::kEq || op == B::kNe || op == B::kLt ||
        op == B::kLe || op == B::kGt || op == B::kGe)
      return Type::kBool;
    return l == Type::kNull ? r : l;
  }
  switch (op) {
    case B::kAnd:
    case B::kOr:
      if (l == Type::kBool && r == Type::kBool) return Type::kBool;
      return fail(fmt::format("'{}' needs bool operands, got {} and {}", ast::OpText(op), ln, rn));
    case B::kEq:
    case B::kNe:
    case B::kLt:
    case B::kLe:
    case B::kGt:
    case B::kGe: {
      bool ok = (IsNumber(l) && IsNumber(r)) || l == r;
      if (ok && l == Type::kBool && op != B::kEq && op != B::kNe)
        return fail("bool values can only be compared with == and !=");
      if (ok) return Type::kBool;
      if ((l == Type::kMoney && IsNumber(r)) || (r == Type::kMoney && IsNumber(l)))
        return fail(fmt::format("cannot compare {} with {}: write the amount with its currency, "
                                "e.g. 250.00 USD",
                                ln, rn));
      return fail(fmt::format("cannot compare {} with {}", ln, rn));
    }
    case B::kAdd:
    case B::kSub:
      if (l == Type::kInt && r == Type::kInt) return Type::kInt;
      if (l == Type::kPercent && r == Type::kPercent) return Type::kPercent;
      if (IsNumber(l) && IsNumber(r)) return Type::kDecimal;
      if (l == Type::kMoney && r == Type::kMoney) return Type::kMoney;
      if (l == Type::kDuration && r == Type::kDuration) return Type::kDuration;
      if (l == Type::kTimestamp && r == Type::kDuration) return Type::kTimestamp;
      if (op == B::kAdd && l == Type::kDuration && r == Type::kTimestamp) return Type::kTimestamp;
      if (op == B::kSub && l == Type::kTimestamp && r == Type::kTimestamp) return Type::kDuration;
      return fail(fmt::format("cannot {} {} {} {}", op == B::kAdd ? "add" : "subtract",
                              op == B::kAdd ? rn : rn, op == B::kAdd ? "to" : "from", ln));
    case B::kMul:
      if (l == Type::kInt && r == Type::kInt) return Type::kInt;
      if (l == Type::kPercent && r == Type::kPercent) return Type::kDecimal;
      if ((l == Type::kPercent && IsNumber(r)) || (r == Type::kPercent && IsNumber(l)))
        return Type::kPercent;
      if (IsNumber(l) && IsNumber(r)) return Type::kDecimal;
      if ((l == Type::kMoney && IsNumber(r)) || (IsNumber(l) && r == Type::kMoney))
        return Type::kMoney;
      if ((l == Type::kDuration && IsNumber(r)) || (IsNumber(l) && r == Type::kDuration))
        return Type::kDuration;
      return fail(fmt::format("cannot multiply {} by {}", ln, rn));
    case B::kDiv:
      if (IsNumber(l) && IsNumber(r)) return Type::kDecimal;
      if (l == Type::kMoney && IsNumber(r)) return Type::kMoney;
      if (l == Type::kMoney && r == Type::kMoney) return Type::kDecimal;
      if (l == Type::kDuration && r == Type::kDuration) return Type::kDecimal;
      if (l == Type::kDuration && IsNumber(r)) return Type::kDuration;
      return fail(fmt::format("cannot divide {} by {}", ln, rn));
  }
  return fail("unknown operator");
}

// Whether a value of type `actual` may be passed where `wanted` is declared.
bool Accepts(Type wanted, Type actual) {
  if (wanted == Type::kAny || actual == Type::kNull || actual == Type::kAny) return true;
  if (wanted == actual) return true;
  if (wanted == Type::kDecimal && (actual == Type::kInt || actual == Type::kPercent)) return true;
  return false;
}

uint64_t Hash(std::string_view text, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(text.data(), text.size(), seed);
}


// Where a name is resolved and what an expression may contain.
struct Scope {
  std::vector<plan::Field>* fields = nullptr;
  std::set<int>* used = nullptr;            // field indexes referenced
  bool allow_aggregate = false;             // only an agg stage's top-level call
  bool event_input = false;                 // records are events: attr() can read extra fields
  plan::Rule* rule = nullptr;               // stateful calls hoist into this rule
  std::set<std::string>* params_used = nullptr;
  std::string_view what;                    // "stream 'sale'", for messages
  // Set where the expression must be one constant for every store (a window size, a function's
  // constant parameter): names that use, for E066.
  const std::string* constant_use = nullptr;
  bool warn_no_store = true;                // W011 for a per-store param on records without store
};

class Checker {
 public:
  Checker(const RuleSet& rules, const Catalog& catalog, const CheckOptions& options,
          Diagnostics& diagnostics)
      : rules_(rules), catalog_(catalog), options_(options), diags_(diagnostics) {}

  plan::Plan Run() {
    for (const auto& m : rules_.modules) CollectParams(m);
    for (const auto& m : rules_.modules)
      for (const auto& t : m.tables) CheckTable(t, m.source);
    ResolvePolicies();
    for (const auto& m : rules_.modules)
      for (const auto& s : m.streams) CheckStream(s);
    for (const auto& m : rules_.modules) {
      for (const auto& metric : m.metrics) {
        if (IsStreamName(metric.name.name)) {
          diags_.Error("E014", metric.name.span,
                       "'" + metric.name.name + "' is a stream; a metric needs another name");
        } else if (!metric_decls_.emplace(metric.name.name, &metric).second) {
          Duplicate("metric", metric.name, metric_decls_[metric.name.name]->name.span);
        }
      }
    }
    for (const auto& [name, decl] : metric_decls_) ResolveMetric(name);
    for (const auto& m : rules_.modules)
      for (const auto& d : m.digests) CheckDigest(d);
    std::map<std::string, Span> rule_names;
    for (const auto& m : rules_.modules) {
      // Rules outside and inside policies share one namespace; check them in source order.
      std::vector<std::pair<const ast::Rule*, const ast::Policy*>> rules;
      for (const auto& rule : m.rules) rules.emplace_back(&rule, nullptr);
      for (const auto& policy : m.policies)
        if (!policy.broken)
          for (const auto& rule : policy.rules) rules.emplace_back(&rule, &policy);
      std::stable_sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
        return a.first->span.begin < b.first->span.begin;
      });
      for (const auto& [rule, policy] : rules) {
        auto [it, fresh] = rule_names.emplace(rule->name.name, rule->name.span);
        if (!fresh) {
          Duplicate("rule", rule->name, it->second);
          continue;
        }
        CheckRule(*rule, policy);
      }
    }
    for (const auto& r : plan_.rules)
      if (!r.scope.empty()) plan_.policies.by_store = true;
    for (const auto& m : rules_.modules)
      for (const auto& schedule : m.schedules) {
        auto [it, fresh] = rule_names.emplace(schedule.name.name, schedule.name.span);
        if (!fresh) {
          Duplicate("rule or schedule", schedule.name, it->second);
          continue;
        }
        CheckSchedule(schedule);
      }
    ResolveSuppressions(rule_names);
    UnusedDigests();
    for (const auto& [name, info] : params_) {
      if (!info.used) diags_.Warning("W001", info.name_span, "param '" + name + "' is never used");
    }
    plan_.ruleset_hash = RulesetHash();
    return std::move(plan_);
  }

 private:
  struct ParamInfo {
    plan::Expr value;  // the value every store takes unless a district or store policy says else
    Span name_span;
    bool used = false;
    const ast::Param* decl = nullptr;
    std::set<std::string> deps;  // params its value names
    int policy = -1;             // index into plan_.policies.params, once policies are resolved
  };

  // ---------------------------------------------------------------- params, tables, streams
  void CollectParams(const ast::Module& m) {
    for (const auto& p : m.params) {
      if (auto it = params_.find(p.name.name); it != params_.end()) {
        Duplicate("param", p.name, it->second.name_span);
        continue;
      }
      std::vector<plan::Field> none;
      Scope scope;
      scope.fields = &none;
      scope.what = "a param";
      std::set<std::string> deps;
      scope.params_used = &deps;
      plan::Expr value = Resolve(*p.value, scope);
      if (value.op != ExprOp::kConst) {
        diags_.Error("E022", p.value->span, "a param's value must be a constant");
      }
      params_[p.name.name] = {std::move(value), p.name.span, false, &p, std::move(deps), -1};
      param_order_.push_back(&p);
    }
  }

  // Policies (dsl/policy.hpp): checks their overrides and resolves every param per store. Then a
  // param's base value is its chain override when it has one; a param whose value names another
  // param follows that param's chain override, and cannot name one that varies by store (E066).
  void ResolvePolicies() {
    std::vector<ParamDeclaration> declarations;
    for (const auto& [name, info] : params_) declarations.push_back({info.decl, info.value});
    auto constant = [this](const ast::Expr& e) -> std::optional<plan::Expr> {
      std::vector<plan::Field> none;
      Scope scope;
      scope.fields = &none;
      scope.what = "a param";
      plan::Expr value = Resolve(e, scope);
      if (value.type == Type::kAny) return std::nullopt;
      if (value.op != ExprOp::kConst) {
        diags_.Error("E022", e.span, "a param's value must be a constant");
        return std::nullopt;
      }
      return value;
    };
    plan_.policies = CheckPolicies(rules_, declarations, plan_.tables, constant, diags_);
    int index = 0;
    for (auto& [name, info] : params_) {
      info.policy = index++;
      const plan::PolicyParam& p = plan_.policies.params[static_cast<size_t>(info.policy)];
      const plan::ParamSource& base = p.sources[static_cast<size_t>(p.chain)];
      info.value.value = base.value;
      info.value.text = base.text;
    }
    for (const ast::Param* decl : param_order_) {
      ParamInfo& info = params_.at(decl->name.name);
      if (info.decl != decl || info.deps.empty() || info.value.op != ExprOp::kConst) continue;
      bool varies = false;
      for (const std::string& dep : info.deps) {
        if (const plan::PolicyParam* p = Varying(params_.at(dep))) {
          ReportVarying(*p, "the value of param '" + decl->name.name + "' at " +
                                Where(decl->value->span));
          varies = true;
        }
      }
      plan::PolicyParam& p = plan_.policies.params[static_cast<size_t>(info.policy)];
      if (varies || p.chain != 0) continue;
      std::vector<plan::Field> none;
      Scope scope;
      scope.fields = &none;
      plan::Expr value = Resolve(*decl->value, scope);
      if (value.op != ExprOp::kConst) continue;
      info.value = value;
      p.sources[0].value = value.value;
      p.sources[0].text = value.text;
    }
  }

  // The resolved param when a district or store policy overrides it.
  const plan::PolicyParam* Varying(const ParamInfo& info) const {
    if (info.policy < 0) return nullptr;
    const plan::PolicyParam& p = plan_.policies.params[static_cast<size_t>(info.policy)];
    return p.varies ? &p : nullptr;
  }

  // E066: a param that varies by store, where one constant is needed. Points at the first
  // override that makes it vary.
  void ReportVarying(const plan::PolicyParam& p, const std::string& use) {
    for (const plan::ParamSource& s : p.sources) {
      if (s.level != plan::ParamLevel::kDistrict && s.level != plan::ParamLevel::kStore) continue;
      const bool district = s.level == plan::ParamLevel::kDistrict;
      diags_.Error("E066", s.name_span,
                   fmt::format("param '{}' cannot be overridden for {} \"{}\": {} needs one value "
                               "for every store",
                               p.name, district ? "district" : "store", s.target, use),
                   "override it for the whole chain (policy chain), or give that use a param of "
                   "its own");
      return;
    }
  }

  std::string Where(Span span) const {
    LineCol at = rules_.sources.Locate(span.source, span.begin);
    return fmt::format("{}:{}:{}", rules_.sources.path(span.source), at.line, at.column);
  }

  void CheckTable(const ast::Table& t, SourceId source) {
    declared_tables_.insert(t.name.name);
    if (std::any_of(plan_.tables.begin(), plan_.tables.end(),
                    [&](const plan::Table& x) { return x.name == t.name.name; })) {
      diags_.Error("E014", t.name.span, "table '" + t.name.name + "' is declared twice");
      return;
    }
    fs::path base = options_.tables_dir.empty()
                        ? fs::path(rules_.sources.path(source)).parent_path()
                        : fs::path(options_.tables_dir);
    fs::path path = fs::path(t.path).is_absolute() ? fs::path(t.path) : base / t.path;
    std::error_code ec;
    std::ifstream in(path, std::ios::binary);
    if (!fs::is_regular_file(path, ec) || !in) {
      diags_.Error("E040", t.path_span, "cannot read table file '" + path.string() + "'",
                   options_.tables_dir.empty() ? "paths resolve against the rule file's folder, "
                                                 "or against --tables DIR"
                                               : "");
      return;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    CsvTable csv;
    std::string error;
    if (!ParseCsv(buffer.str(), csv, error)) {
      diags_.Error("E042", t.path_span, "table file '" + path.string() + "': " + error);
      return;
    }
    auto key = std::find(csv.columns.begin(), csv.columns.end(), t.key.name);
    if (key == csv.columns.end()) {
      std::vector<std::string_view> names(csv.columns.begin(), csv.columns.end());
      diags_.Error("E041", t.key.span,
                   "table '" + t.name.name + "' has no column '" + t.key.name + "'",
                   DidYouMean(t.key.name, names));
      return;
    }
    plan::Table table;
    table.name = t.name.name;
    table.path = path.string();
    table.key = t.key.name;
    table.span = t.span;
    const size_t key_column = static_cast<size_t>(key - csv.columns.begin());
    table.lookup = TypeTable(t, csv, key_column, table.path, diags_);
    for (size_t r = 0; r < csv.rows.size(); ++r) table.index.emplace(csv.rows[r][key_column], r);
    table.columns = std::move(csv.columns);
    table.rows = std::move(csv.rows);
    plan_.tables.push_back(std::move(table));
  }

  void CheckStream(const ast::Stream& s) {
    const StreamSchema* schema = FindStream(s.name.name);
    if (!schema) {
      diags_.Error("E010", s.name.span, "unknown stream '" + s.name.name + "'",
                   DidYouMean(s.name.name, StreamNames()));
      return;
    }
    for (const auto* spans : {&s.delay_spans, &s.lateness_spans, &s.idle_spans})
      if (spans->size() > 1)
        diags_.Error("E027", (*spans)[1],
                     std::string(spans == &s.delay_spans  ? "delay"
                                 : spans == &s.idle_spans ? "idle"
                                                          : "lateness") +
                         " is given twice for stream '" + s.name.name + "'");
    auto& settings = plan_.streams[static_cast<int>(schema->kind)];
    if (s.lateness) {
      auto d = ConstantDuration(*s.lateness, "lateness");
      if (d) settings.lateness = *d;
    }
    if (s.delay) {
      auto d = ConstantDuration(*s.delay, "delay");
      if (d) settings.delay = *d;
    }
    if (s.idle) {
      auto d = ConstantDuration(*s.idle, "idle");
      if (d) settings.idle = *d;
    }
  }

  std::optional<int64_t> ConstantDuration(const ast::Expr& e, std::string_view what) {
    std::vector<plan::Field> none;
    Scope scope;
    scope.fields = &none;
    const std::string_view noun = what.substr(what.rfind("a ", 0) == 0 ? 2 : 0);
    const std::string use = fmt::format("the {} at {}", noun, Where(e.span));
    scope.constant_use = &use;
    plan::Expr v = Resolve(e, scope);
    if (v.type == Type::kAny) return std::nullopt;
    const bool positive = what != "lateness" && what != "delay" && what != "window offset";
    if (v.op != ExprOp::kConst || v.type != Type::kDuration || v.value.i < 0 ||
        (positive && v.value.i == 0)) {
      diags_.Error("E023", e.span,
                   fmt::format("{} must be a {}duration such as 15m or 1h", what,
                               positive ? "positive " : ""));
      return std::nullopt;
    }
    return v.value.i;
  }

  // ---------------------------------------------------------------- metrics
  // Resolves a metric after its input (depth first); -1 when it cannot be resolved.
  int ResolveMetric(const std::string& name) {
    if (auto it = metric_index_.find(name); it != metric_index_.end()) return it->second;
    const ast::Metric& m = *metric_decls_.at(name);
    if (auto pos = std::find(resolving_.begin(), resolving_.end(), name); pos != resolving_.end()) {
      std::string cycle;
      for (auto p = pos; p != resolving_.end(); ++p) cycle += *p + " -> ";
      cycle += name;
      diags_.Error("E050", m.name.span, "metrics form a cycle: " + cycle);
      metric_index_[name] = -1;
      return -1;
    }
    resolving_.push_back(name);
    int index = BuildMetric(m);
    resolving_.pop_back();
    metric_index_[name] = index;
    return index;
  }

  int BuildMetric(const ast::Metric& m) {
    plan::Metric metric;
    metric.name = m.name.name;
    metric.span = m.span;
    if (m.join) return BuildJoin(m, std::move(metric));
    if (!ResolveInput(m.input, metric.input, metric.input_fields)) return -1;
    if (!metric.input.is_stream && RecordWindowKind(plan_.metrics[static_cast<size_t>(metric.input.metric)])) {
      diags_.Error("E076", m.input.span,
                   "'" + m.input.name + "' has " + WindowText(plan_.metrics[static_cast<size_t>(metric.input.metric)]) +
                       " windows, whose records do not fit in another metric's windows",
                   "build this metric on the stream that '" + m.input.name +
                       "' reads, or write a rule on '" + m.input.name + "'");
      return -1;
    }
    std::set<std::string> params_used;
    std::set<int> used;
    Scope scope;
    scope.fields = &metric.input_fields;
    scope.used = &used;
    scope.params_used = &params_used;
    scope.event_input = metric.input.is_stream;
    const std::string what = "'" + m.input.name + "'";
    scope.what = what;
    bool have_window = false, have_agg = false, have_key = false, have_select = false,
         have_distinct = false, have_during = false, have_attribute = false, have_affinity = false,
         have_segments = false;
    bool ok = true;
    std::vector<const ast::Stage*> post;  // select and top after agg, in order
    std::vector<plan::Field> key_fields;
    for (const ast::Stage& stage : m.stages) {
      // The fields the stages before `agg` read: the input's, or those of the select.
      const std::vector<plan::Field>& fields = *scope.fields;
      // The stage that makes the metric's records: agg, affinity or segments.
      const bool have_output = have_agg || have_affinity || have_segments;
      const char* output_stage = have_agg ? "agg" : have_affinity ? "affinity" : "segments";
      if (have_output &&
          (stage.kind == ast::StageKind::kSelect || stage.kind == ast::StageKind::kTop)) {
        post.push_back(&stage);
        continue;
      }
      switch (stage.kind) {
        case ast::StageKind::kWhere: {
          if (have_output) {
            diags_.Error("E025", stage.span,
                         std::string("'where' must come before '") + output_stage + "'");
            ok = false;
          }
          plan::Expr cond = Resolve(*stage.where, scope);
          ExpectBool(cond, stage.where->span, "a 'where' condition");
          (have_select ? metric.projected_filters : metric.filters).push_back(std::move(cond));
          break;
        }
        case ast::StageKind::kSelect:
          if (have_key || have_window || have_distinct) {
            diags_.Error("E083", stage.span,
                         "a 'select' before 'agg' must come before 'key', 'distinct' and 'window', "
                         "which read the fields it makes");
            ok = false;  // still made, so that the stages after it do not report its fields
          }
          if (!FirstStage(have_select, stage.span, "a metric has one 'select' before 'agg'")) {
            ok = false;
            break;
          }
          BuildSelect(stage, scope, -1, -1, metric.project, metric.projected);
          scope.fields = &metric.projected;
          break;
        case ast::StageKind::kDistinct:
          if (have_segments) {
            diags_.Error("E083", stage.span,
                         "'distinct' chooses the purchases the segments see: put it before 'segments'");
            ok = false;
            break;
          }
          if (have_agg || have_affinity) {
            diags_.Error("E083", stage.span,
                         have_agg ? "'distinct' chooses the records the aggregates see: put it before 'agg'"
                                  : "'distinct' chooses the records the baskets hold: put it before 'affinity'");
            ok = false;
            break;
          }
          ok &= FirstStage(have_distinct, stage.span, "a metric has one 'distinct' stage; list every field in it");
          for (const ast::Ident& f : stage.fields) {
            int index = FieldIndex(fields, f.name);
            if (index < 0) {
              UnknownField(f.name, f.span, fields);
              ok = false;
            } else if (std::find(metric.distinct.begin(), metric.distinct.end(), index) != metric.distinct.end()) {
              diags_.Error("E014", f.span, "'" + f.name + "' is named twice");
            } else {
              metric.distinct.push_back(index);
            }
          }
          break;
        case ast::StageKind::kTop:
          diags_.Error("E083", stage.span,
                       "'top' ranks the records a window produces: put it after 'agg'");
          ok = false;
          break;
        case ast::StageKind::kKey:
          ok &= FirstStage(have_key, stage.span, "a metric has one 'key' stage; list every key in it");
          for (const ast::Ident& k : stage.keys) {
            int f = FieldIndex(fields, k.name);
            if (f < 0) {
              UnknownField(k.name, k.span, fields);
              ok = false;
              continue;
            }
            metric.keys.push_back(f);
            metric.key_names.push_back(k.name);
            key_fields.push_back(fields[static_cast<size_t>(f)]);
          }
          break;
        case ast::StageKind::kWindow:
          ok &= FirstStage(have_window, stage.span, "a metric has one 'window' stage");
          if (stage.window == ast::WindowKind::kDay || stage.window == ast::WindowKind::kWeek ||
              stage.window == ast::WindowKind::kMonth || stage.window == ast::WindowKind::kFiscal) {
            ok &= CalendarWindow(stage, metric, fields);
            break;
          }
          if (stage.window == ast::WindowKind::kSliding || stage.window == ast::WindowKind::kSession) {
            ok &= RecordWindow(stage, metric);
            break;
          }
          if (auto size = ConstantDuration(*stage.window_size, "window size")) {
            metric.window_size = *size;
          } else {
            ok = false;
          }
          if (stage.window == ast::WindowKind::kHopping) {
            metric.window_kind = plan::Metric::WindowKind::kHopping;
            auto step = ConstantDuration(*stage.window_step, "window size");
            if (step && metric.window_size > 0 && *step > metric.window_size) {
              diags_.Error("E023", stage.window_step->span,
                           "a hopping window must start at least once per window length");
              ok = false;
            } else if (step) {
              metric.window_step = *step;
            } else {
              ok = false;
            }
          }
          if (stage.window_offset) {
            auto offset = ConstantDuration(*stage.window_offset, "window offset");
            if (offset && metric.window_size > 0 && *offset >= metric.window_size) {
              diags_.Error("E023", stage.window_offset->span,
                           "a window offset must be shorter than the window");
              ok = false;
            } else if (offset) {
              metric.window_offset = *offset;
            }
          }
          break;
        case ast::StageKind::kAttribute:
          ok &= FirstStage(have_attribute, stage.span, "a metric has one 'attribute' stage");
          if (have_agg) {
            diags_.Error("E025", stage.span, "'attribute' must come before 'agg'");
            ok = false;
          }
          ok &= AttributeToSale(stage, metric);
          break;
        case ast::StageKind::kDuring:
          ok &= FirstStage(have_during, stage.span, "a metric has one 'during' stage");
          if (have_agg) {
            diags_.Error("E025", stage.span, "'during' must come before 'agg'");
            ok = false;
          }
          ok &= DuringOpenHours(stage, metric, fields);
          break;
        case ast::StageKind::kAffinity:
          ok &= FirstStage(have_affinity, stage.span, "a metric has one 'affinity' stage");
          if (have_segments) {
            SegmentsWithOther(stage.span, "affinity");
            ok = false;
            break;
          }
          if (have_agg) {
            AffinityWithAgg(stage.span);
            ok = false;
            break;
          }
          ok &= BuildAffinity(stage, m, metric, fields);
          break;
        case ast::StageKind::kSegments:
          ok &= FirstStage(have_segments, stage.span, "a metric has one 'segments' stage");
          if (have_agg || have_affinity) {
            SegmentsWithOther(stage.span, have_agg ? "agg" : "affinity");
            ok = false;
            break;
          }
          ok &= BuildSegments(stage, m, metric, fields, scope);
          break;
        case ast::StageKind::kAgg:
          if (have_segments) {
            SegmentsWithOther(stage.span, "agg");
            ok = false;
            break;
          }
          if (have_affinity) {
            AffinityWithAgg(stage.span);
            ok = false;
            break;
          }
          ok &= FirstStage(have_agg, stage.span, "a metric has one 'agg' stage; list every aggregate in it");
          for (const ast::Agg& a : stage.aggs) ok &= BuildAggregate(a, scope, metric);
          break;
      }
    }
    if (RecordWindowKind(metric)) ok &= RecordWindowInput(m, metric, have_distinct);
    if (!have_window) {
      diags_.Error("E024", m.name.span, "metric '" + m.name.name + "' has no window",
                   "add a stage such as '| window tumbling 1h'");
      ok = false;
    }
    if (metric.affinity) ok &= AffinityWindow(m, metric);
    if (metric.segments) ok &= SegmentsWindow(m, metric);
    if (!have_agg && !have_affinity && !have_segments) {
      diags_.Error("E024", m.name.span, "metric '" + m.name.name + "' has no aggregates",
                   "add a stage such as '| agg n = count()'");
      ok = false;
    }
    // Output record: keys, aggregates, window bounds.
    std::set<std::string> names;
    for (const plan::Field& k : key_fields) {
      metric.output.push_back(k);
      names.insert(k.name);
    }
    for (const auto& a : metric.aggregates) {
      if (!names.insert(a.name).second) {
        diags_.Error("E014", a.span, "metric '" + m.name.name + "' already has a field '" + a.name + "'");
        ok = false;
      }
      metric.output.push_back({a.name, a.type});
    }
    if (metric.affinity) {
      for (const plan::Field& f : AffinityFields()) {
        if (!names.insert(f.name).second) {
          diags_.Error("E014", metric.affinity->span,
                       "metric '" + m.name.name + "' already has a field '" + f.name + "'",
                       "'affinity' adds the fields antecedent, consequent, items, baskets, support, "
                       "confidence, lift and conviction: rename the key with a 'select' before it");
          ok = false;
        }
        metric.output.push_back(f);
      }
    }
    if (metric.segments) {
      for (const plan::Field& f : SegmentFields(metric.segments->per_customer)) {
        if (!names.insert(f.name).second) {
          diags_.Error("E014", metric.segments->span,
                       "metric '" + m.name.name + "' already has a field '" + f.name + "'",
                       "'segments' adds the fields " + SegmentFieldList(metric.segments->per_customer) +
                           ": rename the key with a 'select' before it");
          ok = false;
        }
        metric.output.push_back(f);
      }
    }
    metric.window_start_field = static_cast<int>(metric.output.size());
    metric.output.push_back({"window.start", Type::kTimestamp});
    metric.window_end_field = static_cast<int>(metric.output.size());
    metric.output.push_back({"window.end", Type::kTimestamp});
    BuildPost(post, scope, metric);
    (void)ok;  // an invalid metric still gets a well-formed output record, so checking goes on
    metric.fingerprint = Fingerprint("metric", m.span, params_used, InputFingerprint(metric.input));
    plan_.metrics.push_back(std::move(metric));
    return static_cast<int>(plan_.metrics.size() - 1);
  }

  // ---------------------------------------------------------------- affinity
  static std::vector<plan::Field> AffinityFields() {
    return {{"antecedent", Type::kString}, {"consequent", Type::kString}, {"items", Type::kInt},
            {"baskets", Type::kInt},       {"support", Type::kPercent},   {"confidence", Type::kPercent},
            {"lift", Type::kDecimal},      {"conviction", Type::kDecimal}};
  }

  void AffinityWithAgg(Span span) {
    diags_.Error("E100", span,
                 "a metric has either 'agg' or 'affinity': 'agg' fires one record per group, "
                 "'affinity' one per association rule",
                 "write two metrics on the same input");
  }

  // `affinity ITEM by BASKET [min_support P] [min_confidence P] [max_items N]`.
  bool BuildAffinity(const ast::Stage& stage, const ast::Metric& m, plan::Metric& metric,
                     const std::vector<plan::Field>& fields) {
    bool ok = true;
    plan::Affinity a;
    a.span = stage.span;
    a.function = catalog_.Find("affinity");
    if (a.function < 0 || catalog_.Spec(a.function).kind != FunctionKind::kMiner) {
      diags_.Error("E104", stage.span, "this engine has no basket affinity miner");
      ok = false;
    }
    if (!metric.input.is_stream) {
      diags_.Error("E104", m.input.span,
                   "'affinity' reads events, and '" + m.input.name + "' is a metric",
                   "build the metric on a stream such as line_item");
      ok = false;
    }
    auto field = [&](const ast::Ident& id, const char* what) {
      const int index = FieldIndex(fields, id.name);
      if (index < 0) {
        UnknownField(id.name, id.span, fields);
        return -1;
      }
      const Type t = fields[static_cast<size_t>(index)].type;
      if (t != Type::kString && t != Type::kInt) {
        diags_.Error("E101", id.span,
                     fmt::format("the {} field of 'affinity' must be a string or an int; '{}' is {}",
                                 what, id.name, WithArticle(t)));
        return -1;
      }
      return index;
    };
    a.item_field = field(stage.affinity_item, "item");
    a.basket_field = field(stage.affinity_basket, "basket");
    if (a.item_field < 0 || a.basket_field < 0) ok = false;
    if (a.item_field >= 0 && a.item_field == a.basket_field) {
      diags_.Error("E101", stage.affinity_basket.span,
                   "'affinity' needs two fields: one names the item, the other the basket",
                   "e.g. affinity sku by order");
      ok = false;
    }
    bool seen[3] = {false, false, false};
    for (const ast::AffinityOption& o : stage.affinity_options) {
      const std::string& name = o.name.name;
      const int which = name == "min_support" ? 0 : name == "min_confidence" ? 1 : 2;
      if (!FirstStage(seen[which], o.span, "an 'affinity' option is given once")) {
        ok = false;
        continue;
      }
      std::vector<plan::Field> none;
      Scope scope;
      scope.fields = &none;
      const std::string use = fmt::format("{} at {}", name, Where(o.value->span));
      scope.constant_use = &use;
      plan::Expr v = Resolve(*o.value, scope);
      if (v.type == Type::kAny) {
        ok = false;
        continue;
      }
      if (which == 2) {
        if (v.op != ExprOp::kConst || v.type != Type::kInt || v.value.i < 2) {
          diags_.Error("E103", o.value->span,
                       "max_items is the largest rule's number of items, a whole number of at least 2",
                       "max_items 2 mines pairs {a} => {b}; 3 adds {a, b} => {c}");
          ok = false;
        } else {
          a.max_items = v.value.i;
        }
        continue;
      }
      const bool fraction = v.op == ExprOp::kConst && (v.type == Type::kPercent || v.type == Type::kDecimal);
      const double d = fraction ? v.value.d : 0;
      const bool in_range = which == 0 ? d > 0 && d <= 1 : d >= 0 && d <= 1;
      if (!fraction || !in_range) {
        diags_.Error("E102", o.value->span,
                     fraction ? fmt::format("{} must be {}", name,
                                            which == 0 ? "above 0% and at most 100%"
                                                       : "between 0% and 100%")
                              : fmt::format("{} must be a constant percent or decimal fraction", name),
                     which == 0 ? "e.g. min_support 1% (or 0.01)" : "e.g. min_confidence 50% (or 0.5)");
        ok = false;
        continue;
      }
      // Exact to 12 decimal places of the fraction, far beyond any threshold written by hand.
      constexpr uint64_t kScale = 1'000'000'000'000;
      uint64_t num = static_cast<uint64_t>(std::llround(d * static_cast<double>(kScale)));
      uint64_t den = kScale;
      const uint64_t g = std::gcd(num, den);
      if (g > 0) num /= g, den /= g;
      (which == 0 ? a.min_support_numerator : a.min_confidence_numerator) = num;
      (which == 0 ? a.min_support_denominator : a.min_confidence_denominator) = den;
    }
    metric.affinity = a;
    return ok;
  }

  // The window kinds whose windows hold baskets: not sliding or session windows.
  bool AffinityWindow(const ast::Metric& m, const plan::Metric& metric) {
    if (!RecordWindowKind(metric)) return true;
    diags_.Error("E104", metric.affinity->span,
                 "'affinity' mines the baskets of a whole window, and '" + m.name.name + "' has " +
                     WindowText(metric) + " windows, which follow records one by one",
                 "use a tumbling, hopping or calendar window, e.g. window day");
    return false;
  }

  // ---------------------------------------------------------------- segments
  // The fields `segments` adds after the keys, in order (stdlib/segments_stage.cpp fills them).
  static std::vector<plan::Field> SegmentFields(bool per_customer) {
    if (per_customer)
      return {{"customer", Type::kString},     {"segment", Type::kInt},      {"label", Type::kString},
              {"recency_days", Type::kDecimal}, {"frequency", Type::kInt},    {"monetary", Type::kMoney}};
    return {{"segment", Type::kInt},          {"label", Type::kString},     {"customers", Type::kInt},
            {"recency_days", Type::kDecimal}, {"frequency", Type::kDecimal}, {"monetary", Type::kMoney},
            {"total_spend", Type::kMoney},    {"share", Type::kPercent},    {"top_category", Type::kString}};
  }

  static std::string SegmentFieldList(bool per_customer) {
    std::string list;
    const std::vector<plan::Field> fields = SegmentFields(per_customer);
    for (size_t i = 0; i < fields.size(); ++i)
      list += (i == 0 ? "" : i + 1 == fields.size() ? " and " : ", ") + fields[i].name;
    return list;
  }

  void SegmentsWithOther(Span span, const char* other) {
    diags_.Error("E105", span,
                 fmt::format("a metric has either '{}' or 'segments': 'segments' makes its own records, "
                             "one per segment (or per customer)",
                             other),
                 "write two metrics on the same input");
  }

  // `segments CUSTOMER [spend EXPR] [k N] [mix FIELD] [per customer]`.
  bool BuildSegments(const ast::Stage& stage, const ast::Metric& m, plan::Metric& metric,
                     const std::vector<plan::Field>& fields, Scope& scope) {
    bool ok = true;
    plan::Segments sg;
    sg.span = stage.span;
    sg.function = catalog_.Find("segments");
    if (sg.function < 0 || catalog_.Spec(sg.function).kind != FunctionKind::kMiner) {
      diags_.Error("E110", stage.span, "this engine has no customer segmenter");
      ok = false;
    }
    if (!metric.input.is_stream) {
      diags_.Error("E110", m.input.span,
                   "'segments' reads purchases, and '" + m.input.name + "' is a metric",
                   "build the metric on a stream such as sale");
      ok = false;
    }
    auto field = [&](const ast::Ident& id, const char* what) {
      const int index = FieldIndex(fields, id.name);
      if (index < 0) {
        UnknownField(id.name, id.span, fields);
        return -1;
      }
      const Type t = fields[static_cast<size_t>(index)].type;
      if (t != Type::kString && t != Type::kInt) {
        diags_.Error("E106", id.span,
                     fmt::format("the {} field of 'segments' must be a string or an int; '{}' is {}",
                                 what, id.name, WithArticle(t)));
        return -1;
      }
      return index;
    };
    sg.customer_field = field(stage.segments_customer, "customer");
    if (sg.customer_field < 0) ok = false;
    bool seen[4] = {false, false, false, false};
    bool have_spend = false;
    for (const ast::SegmentsOption& o : stage.segments_options) {
      const std::string& name = o.name.name;
      const int which = name == "spend" ? 0 : name == "k" ? 1 : name == "mix" ? 2 : 3;
      if (!FirstStage(seen[which], o.span, "a 'segments' option is given once")) {
        ok = false;
        continue;
      }
      if (which == 0) {
        have_spend = true;
        sg.spend = Resolve(*o.value, scope);
        if (sg.spend.type == Type::kAny) {
          ok = false;
        } else if (sg.spend.type != Type::kMoney) {
          diags_.Error("E107", o.value->span,
                       "the spend of 'segments' must be money; this is " + WithArticle(sg.spend.type),
                       "e.g. spend total, or spend price * qty on line items");
          ok = false;
        }
      } else if (which == 1) {
        std::vector<plan::Field> none;
        Scope constant;
        constant.fields = &none;
        const std::string use = fmt::format("k at {}", Where(o.value->span));
        constant.constant_use = &use;
        plan::Expr v = Resolve(*o.value, constant);
        if (v.type == Type::kAny) {
          ok = false;
        } else if (v.op != ExprOp::kConst || v.type != Type::kInt || v.value.i < kMinSegments ||
                   v.value.i > kMaxSegments) {
          diags_.Error("E108", o.value->span,
                       fmt::format("k is the number of segments, a whole number from {} to {}",
                                   kMinSegments, kMaxSegments),
                       "e.g. k 4 (the default)");
          ok = false;
        } else {
          sg.k = v.value.i;
        }
      } else if (which == 2) {
        sg.mix_field = field(o.field, "mix");
        if (sg.mix_field < 0) ok = false;
      } else {
        sg.per_customer = true;
      }
    }
    if (!have_spend) {
      // `total`, the sale's amount, unless the input has no money `total`.
      const int total = FieldIndex(fields, "total");
      if (total < 0 || fields[static_cast<size_t>(total)].type != Type::kMoney) {
        diags_.Error("E107", stage.span,
                     "'segments' needs the money each purchase spends, and " + std::string(scope.what) +
                         " has no money field 'total'",
                     "name it: spend EXPRESSION, e.g. spend price * qty");
        ok = false;
      } else {
        sg.spend.op = ExprOp::kField;
        sg.spend.index = total;
        sg.spend.type = Type::kMoney;
        sg.spend.span = stage.span;
      }
    }
    metric.segments = std::move(sg);
    return ok;
  }

  // The window kinds whose windows hold whole periods: not sliding or session windows.
  bool SegmentsWindow(const ast::Metric& m, const plan::Metric& metric) {
    if (!RecordWindowKind(metric)) return true;
    diags_.Error("E109", metric.segments->span,
                 "'segments' segments the customers of a whole window, and '" + m.name.name + "' has " +
                     WindowText(metric) + " windows, which follow records one by one",
                 "use a tumbling, hopping or calendar window, e.g. window tumbling 90d");
    return false;
  }

  // The items of a `select` into `exprs` and `fields`. After agg (`window_start` >= 0), the
  // window bounds stay, last, whether the select names them or not.
  void BuildSelect(const ast::Stage& stage, Scope& scope, int window_start, int window_end,
                   std::vector<plan::Expr>& exprs, std::vector<plan::Field>& fields) {
    std::set<std::string> seen;
    for (const ast::SelectItem& item : stage.select) {
      const bool bound = item.name.name == "window.start" || item.name.name == "window.end";
      if (window_start >= 0 && bound && !item.computed) continue;
      plan::Expr e = Resolve(*item.value, scope);
      if (!seen.insert(item.name.name).second) {
        diags_.Error("E014", item.name.span, "'" + item.name.name + "' is selected twice");
        continue;
      }
      fields.push_back({item.name.name, e.type});
      exprs.push_back(std::move(e));
    }
    if (window_start < 0) return;
    for (int f : {window_start, window_end}) {
      plan::Expr e;
      e.op = ExprOp::kField;
      e.index = f;
      e.type = Type::kTimestamp;
      e.span = stage.span;
      fields.push_back({f == window_start ? "window.start" : "window.end", Type::kTimestamp});
      exprs.push_back(std::move(e));
    }
  }

  // `select` and `top` after agg (or on a join), in order, from `metric.output` to `result`.
  void BuildPost(const std::vector<const ast::Stage*>& stages, Scope& scope, plan::Metric& metric) {
    std::vector<plan::Field> layout = metric.output;
    int start = metric.window_start_field, end = metric.window_end_field;
    scope.event_input = false;  // records of a window, not events
    bool have_select = false, have_top = false;
    for (const ast::Stage* stage : stages) {
      scope.fields = &layout;
      plan::PostStage post;
      if (stage->kind == ast::StageKind::kSelect) {
        if (!FirstStage(have_select, stage->span, "a metric has one 'select' after 'agg'")) continue;
        post.kind = plan::PostStage::Kind::kSelect;
        BuildSelect(*stage, scope, start, end, post.select, post.fields);
        start = static_cast<int>(post.fields.size()) - 2;
        end = start + 1;
      } else {
        if (!FirstStage(have_top, stage->span, "a metric has one 'top' stage")) continue;
        post.kind = plan::PostStage::Kind::kTop;
        if (!BuildTop(*stage, scope, metric, layout, post)) continue;
        post.fields = layout;
      }
      layout = post.fields;
      metric.post.push_back(std::move(post));
    }
    metric.result = std::move(layout);
    metric.result_window_start_field = start;
    metric.result_window_end_field = end;
    scope.fields = &metric.result;
  }

  // `top K by EXPR [per FIELD, ...]`.
  bool BuildTop(const ast::Stage& stage, Scope& scope, const plan::Metric& metric,
                const std::vector<plan::Field>& layout, plan::PostStage& post) {
    bool ok = true;
    plan::Expr count = Resolve(*stage.top_count, scope);
    if (count.type != Type::kAny && (count.op != ExprOp::kConst || count.type != Type::kInt || count.value.i <= 0)) {
      diags_.Error("E084", stage.top_count->span, "'top' keeps a positive whole number of records, e.g. top 5 by revenue");
      ok = false;
    }
    post.top_count = count.value.i;
    plan::Expr by = Resolve(*stage.top_by, scope);
    const Type t = by.type;
    if (t == Type::kString || t == Type::kBool) {
      diags_.Error("E084", stage.top_by->span,
                   "'top' ranks by a number, an amount of money, a duration or a time, not " + WithArticle(t));
      ok = false;
    }
    post.top_by = std::move(by);
    for (const ast::Ident& f : stage.fields) {
      const int index = FieldIndex(layout, f.name);
      if (index < 0) {
        UnknownField(f.name, f.span, layout);
        ok = false;
      } else if (std::find(metric.key_names.begin(), metric.key_names.end(), f.name) == metric.key_names.end()) {
        std::string keys;
        for (const auto& k : metric.key_names) keys += (keys.empty() ? "" : ", ") + k;
        diags_.Error("E084", f.span,
                     "'top ... per' takes key fields, and '" + f.name + "' is not a key of '" + metric.name + "'",
                     keys.empty() ? "the metric has no key" : "its key: " + keys);
        ok = false;
      } else {
        post.top_per.push_back(index);
      }
    }
    // A metric keyed by store fires store by store (each store's own watermark), so a window's
    // records reach `top` in one batch per store: it can rank within a store only.
    const bool by_store = std::find(metric.key_names.begin(), metric.key_names.end(), "store") !=
                          metric.key_names.end();
    const bool per_store = std::any_of(stage.fields.begin(), stage.fields.end(),
                                       [](const ast::Ident& f) { return f.name == "store"; });
    if (ok && by_store && !per_store && !metric.join) {
      diags_.Error("E084", stage.span,
                   "'" + metric.name + "' is keyed by store and fires store by store, so 'top' "
                   "ranks within a store",
                   "write 'per store' (to rank across stores, key a metric without store)");
      ok = false;
    }
    return ok;
  }

  // `LEFT [left] join RIGHT on KEY, ...`: both metrics with the same window, keyed by the same
  // fields; the joined record holds the keys, the left's fields, then the right's.
  int BuildJoin(const ast::Metric& m, plan::Metric metric) {
    const ast::Join& j = *m.join;
    int sides[2] = {JoinInput(m.input), JoinInput(j.right)};
    if (sides[0] < 0 || sides[1] < 0) return -1;
    const std::string side_names[2] = {m.input.name, j.right.name};
    if (sides[0] == sides[1]) {
      diags_.Error("E086", j.right.span, "a metric cannot be joined with itself");
      return -1;
    }
    const plan::Metric* in[2] = {&plan_.metrics[static_cast<size_t>(sides[0])],
                                 &plan_.metrics[static_cast<size_t>(sides[1])]};
    bool ok = true;
    for (int s = 0; s < 2; ++s) {
      if (!RecordWindowKind(*in[s])) continue;
      diags_.Error("E077", s == 0 ? m.input.span : j.right.span,
                   "'" + side_names[s] + "' has " + WindowText(*in[s]) +
                       " windows, which differ from key to key: a join needs windows both sides share",
                   "join metrics with tumbling, hopping or calendar windows");
      return -1;
    }
    if (!SameWindow(*in[0], *in[1])) {
      diags_.Error("E085", j.span,
                   fmt::format("window mismatch: '{}' has window {}, '{}' has window {}", side_names[0],
                               WindowText(*in[0]), side_names[1], WindowText(*in[1])),
                   "a join pairs the records of one window: give both metrics the same window");
      ok = false;
    }
    plan::Join join;
    join.left = sides[0];
    join.right = sides[1];
    join.outer = j.left_outer;
    std::set<std::string> on;
    for (const ast::Ident& k : j.on) {
      if (!on.insert(k.name).second) {
        diags_.Error("E014", k.span, "'" + k.name + "' is named twice");
        ok = false;
        continue;
      }
      for (int s = 0; s < 2; ++s) {
        const plan::Metric& x = *in[s];
        const int f = FieldIndex(x.result, k.name);
        const bool key = std::find(x.key_names.begin(), x.key_names.end(), k.name) != x.key_names.end();
        if (!key || f < 0) {
          diags_.Error("E086", k.span,
                       key ? "'" + k.name + "' is a key of '" + side_names[s] + "', but its 'select' leaves it out"
                           : "'" + k.name + "' is not a key of '" + side_names[s] + "'",
                       key ? "" : "its key: " + KeyText(x));
          ok = false;
          continue;
        }
        join.keys[s].push_back(f);
      }
    }
    for (int s = 0; s < 2 && ok; ++s) {
      if (in[s]->key_names.size() != on.size()) {
        diags_.Error("E086", j.span,
                     "a join matches whole keys: '" + side_names[s] + "' is keyed by " + KeyText(*in[s]),
                     "join on every key field of both metrics");
        ok = false;
      }
    }
    for (size_t k = 0; ok && k < join.keys[0].size(); ++k) {
      const Type lt = in[0]->result[static_cast<size_t>(join.keys[0][k])].type;
      const Type rt = in[1]->result[static_cast<size_t>(join.keys[1][k])].type;
      if (lt != rt) {
        diags_.Error("E086", j.on[k].span,
                     fmt::format("'{}' is {} in '{}' and {} in '{}'", j.on[k].name, WithArticle(lt),
                                 side_names[0], WithArticle(rt), side_names[1]));
        ok = false;
      }
    }
    std::vector<const ast::Stage*> post;
    for (const ast::Stage& stage : m.stages) {
      if (stage.kind == ast::StageKind::kSelect || stage.kind == ast::StageKind::kTop) {
        post.push_back(&stage);
      } else {
        diags_.Error("E083", stage.span, "a join takes only 'select' and 'top' stages");
        ok = false;
      }
    }
    if (!ok) return -1;
    JoinLayout(*in[0], *in[1], side_names, j.on, metric, join);
    metric.input.is_stream = false;
    metric.input.metric = sides[0];
    metric.input_fields = in[0]->result;
    metric.window_kind = in[0]->window_kind;
    metric.window_size = in[0]->window_size;
    metric.window_step = in[0]->window_step;
    metric.window_offset = in[0]->window_offset;
    for (const ast::Ident& k : j.on) metric.key_names.push_back(k.name);
    const uint64_t input = Hash(fmt::format("{:016x}{:016x}", in[0]->fingerprint, in[1]->fingerprint));
    metric.join = std::move(join);
    std::set<std::string> params_used;
    std::set<int> used;
    Scope scope;
    scope.used = &used;
    scope.params_used = &params_used;
    BuildPost(post, scope, metric);
    metric.fingerprint = Fingerprint("metric", m.span, params_used, input);
    plan_.metrics.push_back(std::move(metric));
    return static_cast<int>(plan_.metrics.size() - 1);
  }

  // A metric a join reads; -1 (reported) when the name is a stream or unknown.
  int JoinInput(const ast::Ident& name) {
    if (IsStreamName(name.name)) {
      diags_.Error("E086", name.span,
                   "'" + name.name + "' is a stream: a join pairs the records of two metrics",
                   "aggregate the stream in a metric first");
      return -1;
    }
    plan::Input input;
    std::vector<plan::Field> fields;
    if (!ResolveInput(name, input, fields)) return -1;
    return input.metric;
  }

  // W002: a rule whose condition, or the `where` of a metric it reads, is false for every record.
  void WarnUnreachable(const ast::Rule& r, const plan::Rule& rule) {
    if (auto t = ConstantTruth(rule.condition); t && !*t) {
      diags_.Warning("W002", r.whens[0]->span,
                     "rule '" + r.name.name + "' can never fire: its 'when' is always false");
      return;
    }
    for (int m = rule.input.is_stream ? -1 : rule.input.metric; m >= 0;) {
      const plan::Metric& metric = plan_.metrics[static_cast<size_t>(m)];
      for (const auto& f : metric.filters) {
        if (auto t = ConstantTruth(f); t && !*t) {
          diags_.Warning("W002", r.input.span,
                         "rule '" + r.name.name + "' can never fire: metric '" + metric.name +
                             "' keeps no record, its 'where' is always false");
          return;
        }
      }
      if (metric.input.is_stream || metric.join) break;
      m = metric.input.metric;
    }
  }

  // E113: a constant argument whose value the function rejects (open after close). Reported at the
  // argument, or at the call when the rejected value is a parameter's default.
  void CheckConstants(const FunctionSpec& spec, const std::vector<std::optional<plan::Expr>>& bound,
                      const std::vector<const Span*>& given, Span call) {
    std::vector<Value> values;
    for (const auto& b : bound)
      values.push_back(b->op != ExprOp::kConst ? Value::Null()
                       : b->type == Type::kString ? Value::String(b->text)
                                                  : b->value);
    std::string message;
    const int bad = spec.check_constants(values, message);
    if (bad < 0) return;
    const size_t i = static_cast<size_t>(bad);
    diags_.Error("E113", i < given.size() && given[i] ? *given[i] : call, message);
  }

  // Marks a stage kind as seen; a second one is E027.
  bool FirstStage(bool& seen, Span span, const char* message) {
    const bool first = !seen;
    if (!first) diags_.Error("E027", span, message);
    seen = true;
    return first;
  }

  static bool RecordWindowKind(const plan::Metric& metric) {
    return metric.window_kind == plan::Metric::WindowKind::kSliding ||
           metric.window_kind == plan::Metric::WindowKind::kSession;
  }

  // `window sliding DURATION` and `window session gap DURATION`: windows that follow the records
  // of each key instead of the clock.
  bool RecordWindow(const ast::Stage& stage, plan::Metric& metric) {
    const bool session = stage.window == ast::WindowKind::kSession;
    metric.window_kind = session ? plan::Metric::WindowKind::kSession : plan::Metric::WindowKind::kSliding;
    bool ok = true;
    if (auto size = ConstantDuration(*stage.window_size, session ? "a session gap" : "window size")) {
      metric.window_size = *size;
    } else {
      ok = false;
    }
    if (stage.window_offset) {
      diags_.Error("E073", stage.window_offset->span,
                   "a sliding window has no offset: each record's window ends at the record",
                   "remove the offset, or use 'tumbling DURATION offset DURATION'");
      ok = false;
    }
    return ok;
  }

  // What a sliding or session window needs of the rest of its metric: a stream to read, and no
  // `distinct`, whose memory is kept per clock window.
  bool RecordWindowInput(const ast::Metric& m, const plan::Metric& metric, bool have_distinct) {
    const std::string kind = metric.window_kind == plan::Metric::WindowKind::kSliding ? "sliding" : "session";
    bool ok = true;
    if (!metric.input.is_stream) {
      diags_.Error("E074", m.input.span,
                   "a " + kind + " window reads a stream, and '" + m.input.name + "' is a metric",
                   "build this metric on the stream that '" + m.input.name + "' reads");
      ok = false;
    }
    if (have_distinct) {
      for (const ast::Stage& stage : m.stages) {
        if (stage.kind != ast::StageKind::kDistinct) continue;
        diags_.Error("E075", stage.span,
                     "'distinct' does not combine with a " + kind + " window",
                     "use a tumbling or hopping window, or count_distinct() in 'agg'");
        ok = false;
      }
    }
    return ok;
  }

  // `window day|week|month|fiscal`: periods of the store's local calendar, in the time zone the
  // stores table gives it. window_size is the nominal length (rules see each window's own).
  bool CalendarWindow(const ast::Stage& stage, plan::Metric& metric,
                      const std::vector<plan::Field>& fields) {
    constexpr int64_t kDayUs = 24 * 3600 * int64_t{1'000'000};
    bool ok = true;
    switch (stage.window) {
      case ast::WindowKind::kWeek:
        metric.window_kind = plan::Metric::WindowKind::kWeek;
        metric.window_size = 7 * kDayUs;
        if (stage.week_start) {
          metric.week_start = WeekdayIndex(stage.week_start->name);
          if (metric.week_start < 0) {
            diags_.Error("E070", stage.week_start->span,
                         "'" + stage.week_start->name + "' is not a day of the week",
                         DidYouMean(stage.week_start->name,
                                    {"sunday", "monday", "tuesday", "wednesday", "thursday",
                                     "friday", "saturday"}));
            metric.week_start = 1;
            ok = false;
          }
        }
        break;
      case ast::WindowKind::kMonth:
        metric.window_kind = plan::Metric::WindowKind::kMonth;
        metric.window_size = 30 * kDayUs;
        break;
      case ast::WindowKind::kFiscal: {
        metric.window_kind = plan::Metric::WindowKind::kFiscal;
        metric.window_size = 28 * kDayUs;
        const std::string& p = stage.fiscal_pattern;
        if (p == "4-4-5" || p == "4-5-4" || p == "5-4-4") {
          metric.fiscal_pattern = {p[0] - '0', p[2] - '0', p[4] - '0'};
        } else {
          diags_.Error("E070", stage.fiscal_pattern_span,
                       "'" + p + "' is not a fiscal calendar pattern",
                       "a quarter's 13 weeks split as \"4-4-5\", \"4-5-4\" or \"5-4-4\"");
          ok = false;
        }
        auto anchor = ParseTimestamp(stage.fiscal_anchor + "T00:00:00Z");
        if (stage.fiscal_anchor.size() != 10 || !anchor) {
          diags_.Error("E070", stage.fiscal_anchor_span,
                       "'" + stage.fiscal_anchor + "' is not a date such as \"2025-02-02\"",
                       "give the first day of any one fiscal year");
          ok = false;
        } else {
          metric.fiscal_anchor = FloorDiv(*anchor, kDayUs);
        }
        break;
      }
      default:
        metric.window_kind = plan::Metric::WindowKind::kDay;
        metric.window_size = kDayUs;
        break;
    }
    return StoreTimezones(stage, metric, fields, "a calendar window") && ok;
  }

  // `attribute to sale within D`: refunds counted at the time of their order's sale.
  bool AttributeToSale(const ast::Stage& stage, plan::Metric& metric) {
    bool ok = true;
    if (stage.attribute_target.name != "sale") {
      diags_.Error("E098", stage.attribute_target.span,
                   "refunds are attributed to a sale, not '" + stage.attribute_target.name + "'",
                   DidYouMean(stage.attribute_target.name, {"sale"}));
      ok = false;
    }
    if (!metric.input.is_stream || metric.input.stream != StreamKind::kRefund) {
      diags_.Error("E098", stage.span,
                   "'attribute to sale' counts refunds in their sale's window: it needs a metric "
                   "over refund");
      ok = false;
    }
    auto within = ConstantDuration(*stage.attribute_within, "attribution window");
    if (!within) ok = false;
    if (!ok) return false;
    metric.attribute_within = *within;
    metric.attribute_order_field = FieldIndex(metric.input_fields, "order");
    metric.attribute_store_field = FieldIndex(metric.input_fields, "store");
    return true;
  }

  // `during open_hours`: the opening hours of each store, from the stores table.
  bool DuringOpenHours(const ast::Stage& stage, plan::Metric& metric,
                       const std::vector<plan::Field>& fields) {
    if (stage.during.name != "open_hours") {
      diags_.Error("E012", stage.during.span, "unknown hours '" + stage.during.name + "'",
                   DidYouMean(stage.during.name, {"open_hours"}));
      return false;
    }
    metric.during_open_hours = true;
    // Opening hours are checked on the input record, before any select.
    (void)fields;
    metric.hours_store_field = FieldIndex(metric.input_fields, "store");
    if (metric.hours_store_field < 0) {
      diags_.Error("E045", stage.span,
                   "'during open_hours' needs a 'store' field in its input, to know the time zone");
      return false;
    }
    if (!LoadTimezones(stage, metric, "'during open_hours'")) return false;
    for (const plan::Table& t : plan_.tables) {
      auto col = std::find(t.columns.begin(), t.columns.end(), "open_hours");
      if (t.key != "store" || col == t.columns.end()) continue;
      const size_t column = static_cast<size_t>(col - t.columns.begin());
      bool ok = true;
      for (const auto& [store, row] : t.index) {
        const std::string& text = t.rows[row][column];
        plan::WeeklyHours hours;
        std::string error;
        if (text.empty()) continue;  // hours unknown: the store counts as always open
        if (!ParseOpenHours(text, hours, error)) {
          diags_.Error("E071", stage.span,
                       "table '" + t.name + "': store '" + store + "' has malformed open_hours: " + error,
                       "write hours like \"Mon-Fri 09:00-21:00; Sat 10:00-20:00; Sun closed\"");
          ok = false;
          continue;
        }
        metric.store_hours.emplace(store, std::move(hours));
      }
      return ok;
    }
    diags_.Error("E072", stage.span, "'during open_hours' needs the stores' opening hours",
                 "declare a table keyed by store with 'timezone' and 'open_hours' columns");
    return false;
  }

  // The store field of a metric's input and each store's time zone, for calendar windows and
  // opening hours.
  bool StoreTimezones(const ast::Stage& stage, plan::Metric& metric,
                      const std::vector<plan::Field>& fields, const char* what) {
    metric.store_field = FieldIndex(fields, "store");
    if (metric.store_field < 0) {
      diags_.Error("E045", stage.span,
                   std::string(what) + " needs a 'store' field in its input, to know the time zone");
      return false;
    }
    return LoadTimezones(stage, metric, what);
  }

  // Each store's time zone, from the table keyed by store with a `timezone` column.
  bool LoadTimezones(const ast::Stage& stage, plan::Metric& metric, const char* what) {
    if (!metric.store_timezones.empty()) return true;  // done for an earlier stage
    for (const plan::Table& t : plan_.tables) {
      auto tz = std::find(t.columns.begin(), t.columns.end(), "timezone");
      if (t.key != "store" || tz == t.columns.end()) continue;
      const size_t column = static_cast<size_t>(tz - t.columns.begin());
      for (const auto& [store, row] : t.index) metric.store_timezones.emplace(store, t.rows[row][column]);
      return true;
    }
    diags_.Error("E044", stage.span, std::string(what) + " needs the stores' time zones",
                 "declare a table keyed by store with a 'timezone' column, e.g. "
                 "table stores from \"stores.csv\" key store");
    return false;
  }

  bool BuildAggregate(const ast::Agg& a, Scope& scope, plan::Metric& metric) {
    const ast::Expr& call = *a.call;
    int f = catalog_.Find(call.text);
    if (f < 0 || catalog_.Spec(f).kind != FunctionKind::kAggregate) {
      diags_.Error("E011", call.name_span,
                   f < 0 ? "unknown aggregate '" + call.text + "'"
                         : "'" + call.text + "' is not an aggregate",
                   DidYouMean(call.text, catalog_.Names(FunctionKind::kAggregate)));
      return false;
    }
    const FunctionSpec& spec = catalog_.Spec(f);
    plan::Aggregate agg;
    agg.name = a.name.name;
    agg.function = f;
    agg.span = a.span;
    std::vector<Type> types;
    if (call.args.size() > spec.params.size()) {
      diags_.Error("E021", call.span,
                   fmt::format("'{}' takes {} argument{}", spec.name, spec.params.size(),
                               spec.params.size() == 1 ? "" : "s"));
      return false;
    }
    if (static_cast<std::ptrdiff_t>(call.args.size()) < std::count_if(spec.params.begin(), spec.params.end(),
                                         [](const ParamSpec& p) { return p.required; })) {
      diags_.Error("E021", call.span, fmt::format("'{}' needs an argument", spec.name));
      return false;
    }
    if (!call.args.empty()) {
      plan::Expr arg = Resolve(*call.args[0], scope);
      if (arg.type == Type::kAny) return false;  // already reported
      if (!Accepts(spec.params[0].type, arg.type)) {
        diags_.Error("E020", call.args[0]->span,
                     fmt::format("'{}' cannot take {} argument", spec.name, WithArticle(arg.type)));
        return false;
      }
      agg.argument_type = arg.type;
      types.push_back(arg.type);
      agg.argument = std::move(arg);
    }
    std::string_view why;
    agg.type = spec.result(types, why);
    if (!why.empty()) {
      diags_.Error("E020", call.span, std::string(why));
      return false;
    }
    metric.aggregates.push_back(std::move(agg));
    return true;
  }

  bool IsStreamName(std::string_view name) const { return FindStream(name) != nullptr; }

  std::vector<std::string_view> StreamNames() const {
    std::vector<std::string_view> out;
    for (const auto& s : AllStreams()) out.push_back(s.name);
    return out;
  }

  bool ResolveInput(const ast::Ident& name, plan::Input& input, std::vector<plan::Field>& fields) {
    if (const StreamSchema* s = FindStream(name.name)) {
      input.is_stream = true;
      input.stream = s->kind;
      for (const auto& f : s->fields) fields.push_back({std::string(f.name), f.type});
      return true;
    }
    if (metric_decls_.count(name.name)) {
      int index = ResolveMetric(name.name);
      if (index < 0) return false;
      input.is_stream = false;
      input.metric = index;
      fields = plan_.metrics[static_cast<size_t>(index)].result;
      return true;
    }
    std::vector<std::string_view> candidates = StreamNames();
    for (const auto& [n, _] : metric_decls_) candidates.push_back(n);
    diags_.Error("E010", name.span, "unknown stream or metric '" + name.name + "'",
                 DidYouMean(name.name, candidates));
    return false;
  }

  uint64_t InputFingerprint(const plan::Input& input) const {
    if (input.is_stream) return Hash(Schema(input.stream).name);
    return plan_.metrics[static_cast<size_t>(input.metric)].fingerprint;
  }

  // `policy`: the policy a rule is declared in (its scope), empty elsewhere.
  uint64_t Fingerprint(std::string_view kind, Span span, const std::set<std::string>& params_used,
                       uint64_t input, std::string_view policy = {}) const {
    std::string text(kind);
    text += '\n';
    text += CanonicalTokens(rules_.sources.Slice(span));
    for (const auto& p : params_used) {
      const ParamInfo& info = params_.at(p);
      const plan::Expr& v = info.value;
      text += fmt::format("\n{}={}:{}:{}", p, static_cast<int>(v.value.type), v.value.i, v.text);
      if (info.policy < 0) continue;
      // Every override, so that changing one (for any district or store) changes the operator.
      const auto& sources = plan_.policies.params[static_cast<size_t>(info.policy)].sources;
      for (size_t k = 1; k < sources.size(); ++k) {
        const plan::ParamSource& s = sources[k];
        text += fmt::format("\n {}:{}={}:{}:{}:{}", static_cast<int>(s.level), s.target,
                            static_cast<int>(s.value.type), s.value.i, s.value.currency, s.text);
      }
    }
    if (!policy.empty()) text += fmt::format("\npolicy {}", policy);
    return Hash(text, input);
  }

  // ---------------------------------------------------------------- rules
  // `policy`: the policy the rule is declared in, if any.
  void CheckRule(const ast::Rule& r, const ast::Policy* policy) {
    plan::Rule rule;
    rule.name = r.name.name;
    rule.span = r.span;
    if (!ResolveInput(r.input, rule.input, rule.fields)) return;
    rule.input_field_count = static_cast<int>(rule.fields.size());
    if (!rule.input.is_stream) {
      const plan::Metric& m = plan_.metrics[static_cast<size_t>(rule.input.metric)];
      rule.window_start_field = m.result_window_start_field;
      rule.window_end_field = m.result_window_end_field;
      rule.key_names = m.key_names;
    }
    rule.store_field = FieldIndex(rule.fields, "store");
    std::set<int> used;
    std::set<std::string> params_used;
    Scope scope;
    scope.fields = &rule.fields;
    scope.used = &used;
    scope.rule = &rule;
    scope.params_used = &params_used;
    scope.event_input = rule.input.is_stream;
    const std::string what = "'" + r.input.name + "'";
    scope.what = what;
    if (policy) {
      rule.policy = PolicyName(*policy);
      rule.scope = PolicyScope(*policy, plan_.policies);
      const auto level = PolicyLevel(*policy);
      if (level && *level != plan::ParamLevel::kChain && rule.store_field < 0) {
        diags_.Error("E067", r.input.span,
                     fmt::format("rule '{}' covers {} only, but records of '{}' have no store "
                                 "field",
                                 r.name.name, rule.policy, r.input.name),
                     "key the metric by store, e.g. | key store");
        scope.warn_no_store = false;
      }
    }

    std::set<std::string> label_keys;
    for (const auto& l : r.labels) {
      if (!label_keys.insert(l.key.name).second) {
        diags_.Error("E014", l.key.span, "label '" + l.key.name + "' is set twice");
        continue;
      }
      rule.labels.emplace_back(l.key.name, l.value);
    }
    for (const auto& let : r.lets) {
      plan::Expr value = Resolve(*let.value, scope);
      if (FieldIndex(rule.fields, let.name.name) >= 0) {
        diags_.Error("E014", let.name.span, "'" + let.name.name + "' is already a field here");
        continue;
      }
      // `let f = forecast(...)`: the call's details become `f.NAME` too.
      std::vector<std::pair<std::string, int>> details;
      if (value.op == ExprOp::kField && !rule.steps.empty() && rule.steps.back().stateful &&
          rule.steps.back().slot == value.index) {
        const plan::StatefulCall& call = *rule.steps.back().stateful;
        const dsl::FunctionSpec& spec = catalog_.Spec(call.function);
        for (int d = 0; d < call.detail_count; ++d)
          details.emplace_back(let.name.name + "." + std::string(spec.details[static_cast<size_t>(d)].name),
                               call.slot + 1 + d);
      }
      plan::Rule::Step step;
      step.slot = static_cast<int>(rule.fields.size());
      rule.fields.push_back({let.name.name, value.type});
      step.let = std::move(value);
      rule.steps.push_back(std::move(step));
      for (const auto& [name, from] : details) {
        plan::Rule::Step copy;
        copy.slot = static_cast<int>(rule.fields.size());
        const Type type = rule.fields[static_cast<size_t>(from)].type;
        rule.fields.push_back({name, type});
        plan::Expr field;
        field.op = ExprOp::kField;
        field.index = from;
        field.type = type;
        field.span = let.name.span;
        copy.let = std::move(field);
        rule.steps.push_back(std::move(copy));
      }
    }
    if (r.whens.empty()) {
      diags_.Error("E026", r.name.span, "rule '" + r.name.name + "' has no 'when' condition");
    } else {
      if (r.whens.size() > 1)
        diags_.Error("E027", r.whens[1]->span, "a rule has one 'when'; combine conditions with 'and'");
      rule.condition = Resolve(*r.whens[0], scope);
      ExpectBool(rule.condition, r.whens[0]->span, "a 'when' condition");
      WarnUnreachable(r, rule);
    }
    if (r.emits.empty()) {
      diags_.Error("E026", r.name.span, "rule '" + r.name.name + "' has no 'emit' clause");
    } else {
      if (r.emits.size() > 1) diags_.Error("E027", r.emits[1].span, "a rule has one 'emit' clause");
      CheckEmit(r.emits[0], rule, scope);
    }
    UseLocalOffsets(rule);
    if (r.throttles.size() > 1)
      diags_.Error("E027", r.throttles[1].span, "a rule has one 'throttle' clause");
    if (!r.throttles.empty()) CheckThrottle(r.throttles[0], rule, scope);
    if (r.dedupes.size() > 1) diags_.Error("E027", r.dedupes[1].span, "a rule has one 'dedupe' clause");
    if (!r.dedupes.empty()) CheckDedupe(r.dedupes[0], rule, scope);
    rule.digest = DigestFor(rule.channel);
    // Values reported with an emission: a metric's whole record, or the stream fields used.
    for (int i = 0; i < static_cast<int>(rule.fields.size()); ++i) {
      if (i == rule.window_start_field || i == rule.window_end_field) continue;
      if (i >= rule.input_field_count || !rule.input.is_stream || used.count(i))
        rule.value_fields.push_back(i);
    }
    rule.fingerprint =
        Fingerprint("rule", r.span, params_used, InputFingerprint(rule.input), rule.policy);
    rule_index_[rule.name] = static_cast<int>(plan_.rules.size());
    if (!r.suppressions.empty()) suppressing_.emplace_back(static_cast<int>(plan_.rules.size()), &r);
    plan_.rules.push_back(std::move(rule));
  }

  void CheckThrottle(const ast::Throttle& t, plan::Rule& rule, Scope& scope) {
    plan::Expr count = Resolve(*t.count, scope);
    if (count.op != ExprOp::kConst || count.type != Type::kInt || count.value.i <= 0) {
      diags_.Error("E023", t.count->span, "a throttle lets through a positive whole number of emissions");
    } else {
      rule.throttle_count = count.value.i;
    }
    if (auto period = ConstantDuration(*t.period, "a throttle period")) rule.throttle_period = *period;
    for (const ast::Ident& k : t.keys) {
      int f = FieldIndex(rule.fields, k.name);
      if (f < 0 || f >= rule.input_field_count) {
        UnknownField(k.name, k.span, rule.fields);
        continue;
      }
      scope.used->insert(f);
      rule.throttle_keys.push_back(f);
    }
  }

  // ---------------------------------------------------------------- emission control, schedules
  // `dedupe [per FIELDS] within DURATION`.
  void CheckDedupe(const ast::Dedupe& d, plan::Rule& rule, Scope& scope) {
    if (auto period = ConstantDuration(*d.period, "a dedupe period")) rule.dedupe_period = *period;
    for (const ast::Ident& k : d.keys) {
      int f = FieldIndex(rule.fields, k.name);
      if (f < 0) {
        UnknownField(k.name, k.span, rule.fields);
        continue;
      }
      scope.used->insert(f);
      rule.dedupe_keys.push_back(f);
    }
  }

  // `digest "CHANNEL" every DURATION`: one per channel.
  void CheckDigest(const ast::Digest& d) {
    std::optional<int64_t> period;
    if (d.period->kind == ast::ExprKind::kName && d.period->text == "day") {
      // Digests cut event time in UTC intervals; `window day` style local days are not meant.
      diags_.Error("E023", d.period->span, "a digest interval must be a positive duration such as 15m or 1h",
                   "write 1d for UTC days");
    } else {
      period = ConstantDuration(*d.period, "a digest interval");
    }
    if (d.channel.empty()) {
      diags_.Error("E096", d.channel_span, "a digest needs the name of the channel it collects");
      return;
    }
    for (const plan::Digest& other : plan_.digests) {
      if (other.channel != d.channel) continue;
      LineCol at = rules_.sources.Locate(other.span.source, other.span.begin);
      diags_.Error("E096", d.channel_span,
                   fmt::format("channel '{}' already has a digest, at {}:{}:{}", d.channel,
                               rules_.sources.path(other.span.source), at.line, at.column));
      return;
    }
    plan::Digest digest;
    digest.channel = d.channel;
    digest.period = period.value_or(0);
    digest.span = d.span;
    digest.fingerprint = Fingerprint("digest", d.span, {}, 0);
    plan_.digests.push_back(std::move(digest));
  }

  int DigestFor(std::string_view channel) const {
    for (size_t i = 0; i < plan_.digests.size(); ++i)
      if (plan_.digests[i].channel == channel) return static_cast<int>(i);
    return -1;
  }

  // W030: a digest whose channel nothing emits to.
  void UnusedDigests() {
    std::vector<std::string_view> channels;
    for (const auto& r : plan_.rules) channels.push_back(r.channel);
    for (const auto& s : plan_.schedules) channels.push_back(s.channel);
    for (const plan::Digest& d : plan_.digests) {
      if (std::find(channels.begin(), channels.end(), d.channel) != channels.end()) continue;
      Span span = d.span;
      // The channel's string: after `digest` and blanks.
      std::string_view text = rules_.sources.Slice(d.span);
      size_t quote = text.find('"');
      if (quote != std::string_view::npos) {
        span.begin = d.span.begin + static_cast<uint32_t>(quote);
        span.end = span.begin + static_cast<uint32_t>(d.channel.size() + 2);
        if (span.end > d.span.end) span.end = d.span.end;
      }
      diags_.Warning("W030", span, "no rule or schedule emits to channel '" + d.channel + "'",
                     DidYouMean(d.channel, channels));
    }
  }

  // `suppress while RULE [per FIELDS] for DURATION`, once every rule is known.
  void ResolveSuppressions(const std::map<std::string, Span>& declared) {
    std::vector<std::string_view> names;
    for (const auto& [name, _] : rule_index_) names.push_back(name);
    for (const auto& [x, ast_rule] : suppressing_) {
      for (const ast::Suppress& s : ast_rule->suppressions) {
        auto period = ConstantDuration(*s.period, "a suppression period");
        auto it = rule_index_.find(s.rule.name);
        if (it == rule_index_.end()) {
          // A declared rule that did not check was reported already; a schedule is not a rule.
          if (declared.count(s.rule.name) && !IsSchedule(s.rule.name)) continue;
          diags_.Error("E090", s.rule.span,
                       IsSchedule(s.rule.name)
                           ? "'" + s.rule.name + "' is a schedule; only a rule's emissions can suppress another rule's"
                           : "unknown rule '" + s.rule.name + "'",
                       IsSchedule(s.rule.name) ? "" : DidYouMean(s.rule.name, names));
          continue;
        }
        const int y = it->second;
        const plan::Rule& rule = plan_.rules[static_cast<size_t>(x)];
        if (y == x) {
          diags_.Error("E091", s.rule.span, "rule '" + rule.name + "' cannot suppress itself",
                       "a rule that should wait after its own emissions wants 'dedupe' or 'throttle'");
          continue;
        }
        const plan::Rule& other = plan_.rules[static_cast<size_t>(y)];
        plan::Rule::Suppression out;
        out.rule = y;
        out.span = s.span;
        bool ok = true;
        std::vector<ast::Ident> keys = s.keys;
        const bool by_default = keys.empty();
        if (by_default) keys.push_back({"store", s.rule.span});
        for (const ast::Ident& k : keys) {
          const int fx = FieldIndex(rule.fields, k.name);
          const int fy = FieldIndex(other.fields, k.name);
          if (fx < 0) {
            if (by_default) {
              diags_.Error("E092", k.span,
                           fmt::format("rule '{}' has no field 'store' to match with rule '{}'",
                                       rule.name, other.name),
                           "name the fields the two rules share with 'per', e.g. per sku");
            } else {
              UnknownField(k.name, k.span, rule.fields);
            }
            ok = false;
            continue;
          }
          if (fy < 0) {
            std::vector<std::string_view> fields;
            for (const auto& f : other.fields) fields.push_back(f.name);
            std::string help = DidYouMean(k.name, fields);
            if (help.empty() && by_default)
              help = "name the fields the two rules share with 'per', e.g. per sku";
            diags_.Error("E092", k.span,
                         fmt::format("rule '{}' has no field '{}' to match with this rule",
                                     other.name, k.name),
                         help);
            ok = false;
            continue;
          }
          const Type tx = rule.fields[static_cast<size_t>(fx)].type;
          const Type ty = other.fields[static_cast<size_t>(fy)].type;
          if (tx != ty) {
            diags_.Error("E092", k.span,
                         fmt::format("field '{}' is {} here but {} in rule '{}'", k.name,
                                     WithArticle(tx), WithArticle(ty), other.name));
            ok = false;
            continue;
          }
          out.fields.push_back(fx);
          out.other_fields.push_back(fy);
        }
        if (!ok || !period) continue;
        out.period = *period;
        plan_.rules[static_cast<size_t>(x)].suppressions.push_back(std::move(out));
      }
    }
    SuppressionCycles();
  }

  bool IsSchedule(std::string_view name) const {
    return std::any_of(plan_.schedules.begin(), plan_.schedules.end(),
                       [&](const plan::Schedule& s) { return s.name == name; });
  }

  // E091: rules that suppress each other in a loop (each would wait for the other).
  void SuppressionCycles() {
    const size_t n = plan_.rules.size();
    std::vector<int> state(n, 0);  // 0 unvisited, 1 on the path, 2 done
    std::vector<int> path;
    auto visit = [&](auto&& self, int x) -> void {
      state[static_cast<size_t>(x)] = 1;
      path.push_back(x);
      for (const auto& s : plan_.rules[static_cast<size_t>(x)].suppressions) {
        const int y = s.rule;
        if (state[static_cast<size_t>(y)] == 1) {
          std::string cycle;
          for (auto p = std::find(path.begin(), path.end(), y); p != path.end(); ++p)
            cycle += plan_.rules[static_cast<size_t>(*p)].name + " -> ";
          cycle += plan_.rules[static_cast<size_t>(y)].name;
          diags_.Error("E091", s.span, "rules suppress each other in a cycle: " + cycle,
                       "'A -> B' reads 'A is suppressed while B is active'");
        } else if (state[static_cast<size_t>(y)] == 0) {
          self(self, y);
        }
      }
      path.pop_back();
      state[static_cast<size_t>(x)] = 2;
    };
    for (size_t x = 0; x < n; ++x)
      if (state[x] == 0) visit(visit, static_cast<int>(x));
  }

  const plan::Table* StoresTable() const {
    for (const plan::Table& t : plan_.tables)
      if (t.key == "store" && std::find(t.columns.begin(), t.columns.end(), "timezone") != t.columns.end())
        return &t;
    return nullptr;
  }

  // "HH:MM" -> microseconds after midnight, or nullopt.
  static std::optional<int64_t> TimeOfDay(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() - colon != 3)
      return std::nullopt;
    int h = 0, m = 0;
    for (char c : text.substr(0, colon)) h = h * 10 + (c - '0');
    for (char c : text.substr(colon + 1)) m = m * 10 + (c - '0');
    if (h > 23 || m > 59) return std::nullopt;
    return h * kMicrosPerHour + m * kMicrosPerMinute;
  }

  void CheckSchedule(const ast::Schedule& s) {
    plan::Schedule out;
    out.name = s.name.name;
    out.span = s.span;
    if (s.period) {
      if (auto period = ConstantDuration(*s.period, "a schedule period")) out.period = *period;
    } else {
      out.period = kMicrosPerDay;
      if (auto at = TimeOfDay(s.time_of_day)) {
        out.offset = *at;
      } else {
        diags_.Error("E093", s.time_span, "'" + s.time_of_day + "' is not a time of day",
                     "write HH:MM, from 00:00 to 23:59");
      }
      if (s.zone && s.zone->name == "local") {
        out.local = true;
        if (const plan::Table* stores = StoresTable()) {
          auto tz = std::find(stores->columns.begin(), stores->columns.end(), "timezone");
          const size_t column = static_cast<size_t>(tz - stores->columns.begin());
          for (const auto& [store, row] : stores->index)
            out.store_timezones.emplace(store, stores->rows[row][column]);
        } else {
          diags_.Error("E095", s.zone->span, "a schedule in local time needs the stores' time zones",
                       "declare a table keyed by store with a 'timezone' column, e.g. "
                       "table stores from \"stores.csv\" key store");
        }
      }
    }
    // The metric it reads: keyed by store alone, so each store has one newest record.
    std::vector<plan::Field> fields;
    uint64_t input_fingerprint = 0;
    if (s.from.empty()) {
      diags_.Error("E097", s.name.span, "schedule '" + s.name.name + "' has no 'from' metric",
                   "add a clause such as 'from daily_sales'");
    } else {
      if (s.from.size() > 1) diags_.Error("E027", s.from[1].span, "a schedule reads one metric");
      out.metric = ScheduleMetric(s.from[0]);
      if (out.metric >= 0) {
        const plan::Metric& m = plan_.metrics[static_cast<size_t>(out.metric)];
        fields = m.output;
        input_fingerprint = m.fingerprint;
        out.store_field = FieldIndex(fields, "store");
      }
    }
    std::set<int> used;
    std::set<std::string> params_used;
    Scope scope;
    scope.fields = &fields;
    scope.used = &used;
    scope.params_used = &params_used;
    scope.what = "a schedule";
    std::set<std::string> label_keys;
    for (const auto& l : s.labels) {
      if (!label_keys.insert(l.key.name).second) {
        diags_.Error("E014", l.key.span, "label '" + l.key.name + "' is set twice");
        continue;
      }
      out.labels.emplace_back(l.key.name, l.value);
    }
    if (s.whens.size() > 1)
      diags_.Error("E027", s.whens[1]->span, "a schedule has one 'when'; combine conditions with 'and'");
    if (!s.whens.empty() && out.metric >= 0) {
      plan::Expr condition = Resolve(*s.whens[0], scope);
      ExpectBool(condition, s.whens[0]->span, "a 'when' condition");
      out.condition = std::move(condition);
    }
    if (s.emits.empty()) {
      diags_.Error("E097", s.name.span, "schedule '" + s.name.name + "' has no 'emit' clause",
                   "add a clause such as 'emit report to \"store-ops\" message \"...\"'");
    } else {
      if (s.emits.size() > 1) diags_.Error("E027", s.emits[1].span, "a schedule has one 'emit' clause");
      const ast::Emit& e = s.emits[0];
      if (e.kind.name != "report")
        diags_.Error("E028", e.kind.span, "a schedule emits a report, not '" + e.kind.name + "'",
                     "write 'emit report to \"CHANNEL\"'");
      if (!e.fields.empty())
        diags_.Error("E028", e.fields[0].name.span, "a schedule's report carries no 'with' values",
                     "put the figures in the message");
      if (e.severity) {
        const std::string& sev = e.severity->name;
        if (sev == "info") out.severity = plan::Severity::kInfo;
        else if (sev == "warning") out.severity = plan::Severity::kWarning;
        else if (sev == "critical") out.severity = plan::Severity::kCritical;
        else
          diags_.Error("E028", e.severity->span, "unknown severity '" + sev + "'",
                       DidYouMean(sev, {"info", "warning", "critical"}));
      }
      out.channel = e.channel;
      if (e.channel.empty()) diags_.Error("E028", e.channel_span, "the channel name is empty");
      if (!e.message) {
        out.message.push_back({out.name, -1, {}});
      } else if (out.metric >= 0) {
        ParseTemplate(*e.message, e.message_span, out.message, scope);
      }
    }
    out.digest = DigestFor(out.channel);
    out.fingerprint = Fingerprint("schedule", s.span, params_used, input_fingerprint);
    plan_.schedules.push_back(std::move(out));
  }

  // The metric of a schedule's `from`, or -1 (reported).
  int ScheduleMetric(const ast::Ident& name) {
    if (IsStreamName(name.name)) {
      diags_.Error("E094", name.span,
                   "a schedule reports from a metric keyed by store, not from the stream '" +
                       name.name + "'");
      return -1;
    }
    if (!metric_decls_.count(name.name)) {
      std::vector<std::string_view> names;
      for (const auto& [n, _] : metric_decls_) names.push_back(n);
      diags_.Error("E010", name.span, "unknown metric '" + name.name + "'", DidYouMean(name.name, names));
      return -1;
    }
    const int index = ResolveMetric(name.name);
    if (index < 0) return -1;
    const plan::Metric& m = plan_.metrics[static_cast<size_t>(index)];
    if (m.keys.size() != 1 || m.input_fields[static_cast<size_t>(m.keys[0])].name != "store") {
      std::string keys;
      for (int k : m.keys) keys += (keys.empty() ? "" : ", ") + m.input_fields[static_cast<size_t>(k)].name;
      diags_.Error("E094", name.span,
                   "a schedule reads one record per store: metric '" + m.name +
                       "' must be keyed by store alone" +
                       (keys.empty() ? std::string(", not unkeyed") : ", not by " + keys));
      return -1;
    }
    return index;
  }

  void CheckEmit(const ast::Emit& e, plan::Rule& rule, Scope& scope) {
    if (e.kind.name == "alert") {
      rule.kind = plan::EmitKind::kAlert;
    } else if (e.kind.name == "task") {
      rule.kind = plan::EmitKind::kTask;
    } else if (e.kind.name == "po_draft") {
      rule.kind = plan::EmitKind::kPoDraft;
    } else {
      diags_.Error("E028", e.kind.span, "cannot emit '" + e.kind.name + "'",
                   DidYouMean(e.kind.name, {"alert", "task", "po_draft"}));
    }
    CheckEmitFields(e, rule, scope);
    if (e.severity) {
      const std::string& s = e.severity->name;
      if (s == "info") rule.severity = plan::Severity::kInfo;
      else if (s == "warning") rule.severity = plan::Severity::kWarning;
      else if (s == "critical") rule.severity = plan::Severity::kCritical;
      else
        diags_.Error("E028", e.severity->span, "unknown severity '" + s + "'",
                     DidYouMean(s, {"info", "warning", "critical"}));
    }
    rule.channel = e.channel;
    if (e.channel.empty()) diags_.Error("E028", e.channel_span, "the channel name is empty");
    if (e.message) {
      ParseTemplate(*e.message, e.message_span, rule.message, scope);
    } else {
      rule.message.push_back({rule.name, -1, {}});
    }
    // `{window.start:local %H:%M}`: times in the store's own zone, from the stores table.
    const bool local = std::any_of(rule.message.begin(), rule.message.end(), [](const auto& part) {
      return part.spec.rfind("local %", 0) == 0;
    });
    if (!local) return;
    if (FieldIndex(rule.fields, "store") < 0) {
      diags_.Error("E045", e.message_span,
                   "local times in a message need a 'store' field in the record, to know the time zone");
      return;
    }
    for (const plan::Table& t : plan_.tables) {
      auto tz = std::find(t.columns.begin(), t.columns.end(), "timezone");
      if (t.key != "store" || tz == t.columns.end()) continue;
      const size_t column = static_cast<size_t>(tz - t.columns.begin());
      for (const auto& [store, row] : t.index) rule.store_timezones.emplace(store, t.rows[row][column]);
      return;
    }
    diags_.Error("E044", e.message_span, "local times in a message need the stores' time zones",
                 "declare a table keyed by store with a 'timezone' column, e.g. "
                 "table stores from \"stores.csv\" key store");
  }

  // A stateful call that plans by the store's local day (staffing) gets the store's UTC offset,
  // from the stores table's `timezone` column; without one, or without a `store`, it works in UTC.
  void UseLocalOffsets(plan::Rule& rule) {
    const bool wanted = std::any_of(rule.steps.begin(), rule.steps.end(), [&](const auto& step) {
      return step.stateful && catalog_.Spec(step.stateful->function).local_time;
    });
    if (!wanted || rule.store_field < 0) return;
    for (const plan::Table& t : plan_.tables) {
      auto tz = std::find(t.columns.begin(), t.columns.end(), "timezone");
      if (t.key != "store" || tz == t.columns.end()) continue;
      const size_t column = static_cast<size_t>(tz - t.columns.begin());
      for (const auto& [store, row] : t.index) rule.store_timezones.emplace(store, t.rows[row][column]);
      rule.local_offsets = true;
      return;
    }
  }

  // `with NAME = EXPRESSION, ...` (a name the record has too is replaced by the `with` value); a
  // purchase-order draft needs its sku, qty and unit cost.
  void CheckEmitFields(const ast::Emit& e, plan::Rule& rule, Scope& scope) {
    std::map<std::string, Span> seen;
    for (const auto& f : e.fields) {
      if (auto [it, fresh] = seen.emplace(f.name.name, f.name.span); !fresh) {
        diags_.Error("E014", f.name.span, "'" + f.name.name + "' is set twice in 'with'");
        continue;
      }
      if (rule.kind == plan::EmitKind::kPoDraft && (f.name.name == "total" || f.name.name == "status")) {
        diags_.Error("E112", f.name.span,
                     "'" + f.name.name + "' is set by the engine: a purchase-order draft's total is "
                     "qty x unit_cost, and its status is pending");
        continue;
      }
      rule.emit_fields.push_back({f.name.name, Resolve(*f.value, scope)});
    }
    if (rule.kind != plan::EmitKind::kPoDraft) return;
    struct Required {
      const char* name;
      Type type;
      const char* example;
    };
    for (const Required& r : {Required{"sku", Type::kString, "sku = sku"},
                              Required{"qty", Type::kInt, "qty = case_pack(24.5, 6)"},
                              Required{"unit_cost", Type::kMoney, "unit_cost = 3.75 USD"}}) {
      auto it = std::find_if(rule.emit_fields.begin(), rule.emit_fields.end(),
                             [&](const plan::Rule::EmitField& f) { return f.name == r.name; });
      if (it == rule.emit_fields.end()) {
        if (seen.count(r.name)) continue;  // reported above
        diags_.Error("E111", e.kind.span,
                     fmt::format("a purchase-order draft needs '{}'", r.name),
                     fmt::format("add it after the channel: with {}", r.example));
        continue;
      }
      if (it->value.type != r.type && it->value.type != Type::kNull && it->value.type != Type::kAny)
        diags_.Error("E112", it->value.span,
                     fmt::format("a purchase-order draft's {} is {}, not {}", r.name,
                                 TypeName(r.type), TypeName(it->value.type)),
                     r.type == Type::kInt ? "round a quantity up to whole units or case packs with "
                                            "case_pack(quantity, pack)"
                                          : "");
    }
  }

  // "{field}" and "{field:spec}" template fields; "{{" and "}}" are literal braces.
  void ParseTemplate(const std::string& text, Span span, std::vector<plan::TemplatePart>& message,
                     Scope& scope) {
    std::string literal;
    auto flush = [&] {
      if (!literal.empty()) message.push_back({std::move(literal), -1, {}});
      literal.clear();
    };
    // Map each byte of the unescaped text to its offset in the source (escapes are two bytes
    // there), so carets land under the template field.
    std::string_view raw = rules_.sources.Slice(span);
    std::vector<uint32_t> where;
    where.reserve(text.size() + 1);
    for (uint32_t k = 1; k + 1 < raw.size(); ++k) {
      where.push_back(k);
      if (raw[k] == '\\') ++k;
    }
    while (where.size() <= text.size()) where.push_back(static_cast<uint32_t>(raw.size() > 0 ? raw.size() - 1 : 0));
    auto at = [&](size_t i, size_t len) {
      Span s = span;
      size_t last = std::min(i + std::max<size_t>(len, 1), text.size());
      s.begin = span.begin + where[std::min(i, text.size())];
      s.end = span.begin + (last > i ? where[last - 1] + 1 : where[i] + 1);
      if (s.end > span.end) s.end = span.end;
      if (s.begin > s.end) s.begin = s.end;
      return s;
    };
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
        literal.push_back('{');
        ++i;
      } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
      } else if (c == '{') {
        size_t close = text.find('}', i);
        if (close == std::string::npos) {
          diags_.Error("E005", at(i, 1), "unclosed '{' in message", "write '{{' for a literal brace");
          return;
        }
        std::string inner = text.substr(i + 1, close - i - 1);
        std::string spec;
        if (size_t colon = inner.find(':'); colon != std::string::npos) {
          spec = inner.substr(colon + 1);
          inner.resize(colon);
        }
        int field = FieldIndex(*scope.fields, inner);
        if (field < 0) {
          UnknownField(inner, at(i + 1, inner.size()), *scope.fields);
        } else {
          scope.used->insert(field);
          if (!spec.empty() && !ValidSpec(spec, (*scope.fields)[static_cast<size_t>(field)].type)) {
            diags_.Error("E006", at(i + 1 + inner.size() + 1, spec.size()),
                         "unknown format '" + spec + "' for " +
                             WithArticle((*scope.fields)[static_cast<size_t>(field)].type),
                         "formats: money, .Nf, .N%, int, and for times strftime patterns like %a %H:%M "
                         "(UTC) or local %a %H:%M (the store's time zone)");
          }
        }
        flush();
        message.push_back({{}, field, spec});
        i = close;
      } else if (c == '}') {
        diags_.Error("E005", at(i, 1), "unmatched '}' in message", "write '}}' for a literal brace");
        return;
      } else {
        literal.push_back(c);
      }
    }
    flush();
  }

  static bool ValidSpec(const std::string& spec, Type type) {
    if (spec == "money") return type == Type::kMoney;
    if (!spec.empty() && spec[0] == '%') return type == Type::kTimestamp;  // strftime-style
    if (spec.rfind("local %", 0) == 0) return type == Type::kTimestamp;     // in the store's zone
    if (spec == "int") return true;
    if (spec.size() >= 3 && spec[0] == '.' && std::isdigit(static_cast<unsigned char>(spec[1])) &&
        spec.size() == 3 && (spec[2] == 'f' || spec[2] == '%'))
      return true;
    return false;
  }

  // ---------------------------------------------------------------- expressions
  static int FieldIndex(const std::vector<plan::Field>& fields, std::string_view name) {
    for (size_t i = 0; i < fields.size(); ++i)
      if (fields[i].name == name) return static_cast<int>(i);
    return -1;
  }

  void UnknownField(const std::string& name, Span span, const std::vector<plan::Field>& fields) {
    // A join qualifies a name both its inputs have: `hourly.tx`, `visitors_h.tx`.
    std::vector<std::string> both;
    for (const auto& f : fields) {
      const size_t dot = f.name.find('.');
      if (dot != std::string::npos && f.name.compare(dot + 1, std::string::npos, name) == 0 &&
          f.name.compare(0, dot, "window") != 0)
        both.push_back(f.name);
    }
    if (both.size() >= 2) {
      diags_.Error("E087", span,
                   fmt::format("'{}' is a field of both inputs of the join: write {} or {}", name,
                               both[0], both[1]));
      return;
    }
    std::vector<std::string_view> names;
    for (const auto& f : fields) names.push_back(f.name);
    for (const auto& [p, _] : params_) names.push_back(p);
    diags_.Error("E012", span, "unknown field '" + name + "'", DidYouMean(name, names));
  }

  void ExpectBool(const plan::Expr& e, Span span, std::string_view what) {
    if (e.type != Type::kBool && e.type != Type::kAny && e.type != Type::kNull) {
      diags_.Error("E020", span,
                   fmt::format("{} must be true or false, not {}", what, WithArticle(e.type)));
    }
  }

  plan::Expr Bad(Span span) {
    plan::Expr e;
    e.type = Type::kAny;  // marks an expression already reported: no follow-up errors
    e.span = span;
    return e;
  }

  plan::Expr Resolve(const ast::Expr& e, Scope& scope) {
    switch (e.kind) {
      case ast::ExprKind::kLiteral: {
        plan::Expr out;
        out.op = ExprOp::kConst;
        out.type = e.literal.type;
        out.value = e.literal;
        out.text = e.text;
        out.span = e.span;
        return out;
      }
      case ast::ExprKind::kName: {
        int f = FieldIndex(*scope.fields, e.text);
        if (f >= 0) {
          if (scope.used) scope.used->insert(f);
          plan::Expr out;
          out.op = ExprOp::kField;
          out.index = f;
          out.type = (*scope.fields)[static_cast<size_t>(f)].type;
          out.span = e.span;
          return out;
        }
        if (auto it = params_.find(e.text); it != params_.end()) {
          it->second.used = true;
          if (scope.params_used) scope.params_used->insert(e.text);
          if (const plan::PolicyParam* p = Varying(it->second)) {
            if (scope.constant_use) {
              ReportVarying(*p, *scope.constant_use);  // then folds to the base value, below
            } else {
              if (scope.warn_no_store && FieldIndex(*scope.fields, "store") < 0) {
                diags_.Warning("W011", e.span,
                               fmt::format("param '{}' varies by district or store, but records "
                                           "of {} have no store field: they all take the "
                                           "chain-wide value",
                                           e.text, scope.what),
                               "key the metric by store, e.g. | key store");
              }
              plan::Expr out;
              out.op = ExprOp::kParam;
              out.index = it->second.policy;
              out.type = p->type;
              out.span = e.span;
              return out;
            }
          }
          plan::Expr out = it->second.value;
          out.span = e.span;
          return out;
        }
        UnknownField(e.text, e.span, *scope.fields);
        return Bad(e.span);
      }
      case ast::ExprKind::kMember: {
        const ast::Expr& object = *e.args[0];
        if (object.kind == ast::ExprKind::kCall && object.text == "lookup")
          return ResolveLookup(object, e, scope);
        if (object.kind == ast::ExprKind::kName) {
          std::string full = object.text + "." + e.text;
          int f = FieldIndex(*scope.fields, full);
          if (f >= 0) {
            if (scope.used) scope.used->insert(f);
            plan::Expr out;
            out.op = ExprOp::kField;
            out.index = f;
            out.type = (*scope.fields)[static_cast<size_t>(f)].type;
            out.span = e.span;
            return out;
          }
          UnknownField(full, e.span, *scope.fields);
          return Bad(e.span);
        }
        diags_.Error("E012", e.name_span, "unknown field '" + e.text + "'");
        return Bad(e.span);
      }
      case ast::ExprKind::kUnary: {
        plan::Expr x = Resolve(*e.args[0], scope);
        plan::Expr out;
        out.op = ExprOp::kUnary;
        out.unary_op = e.unary_op;
        out.span = e.span;
        if (x.type == Type::kAny) return Bad(e.span);
        if (e.unary_op == ast::UnaryOp::kNot) {
          if (x.type != Type::kBool && x.type != Type::kNull) {
            diags_.Error("E020", e.span, fmt::format("'not' needs a bool, got {}", TypeName(x.type)));
            return Bad(e.span);
          }
          out.type = Type::kBool;
        } else {
          if (!IsNumber(x.type) && x.type != Type::kMoney && x.type != Type::kDuration &&
              x.type != Type::kNull) {
            diags_.Error("E020", e.span, fmt::format("cannot negate a {}", TypeName(x.type)));
            return Bad(e.span);
          }
          out.type = x.type;
          if (x.op == ExprOp::kConst) {  // fold: -3.5 is a constant
            x.span = e.span;
            if (x.type == Type::kDecimal || x.type == Type::kPercent) x.value.d = -x.value.d;
            else if (x.type != Type::kNull) x.value.i = -x.value.i;
            return x;
          }
        }
        out.args.push_back(std::move(x));
        return out;
      }
      case ast::ExprKind::kBinary: {
        plan::Expr l = Resolve(*e.args[0], scope);
        plan::Expr r = Resolve(*e.args[1], scope);
        if (l.type == Type::kAny || r.type == Type::kAny) return Bad(e.span);
        std::string why;
        Type t = BinaryType(e.binary_op, l.type, r.type, why);
        if (t == Type::kAny) {
          diags_.Error("E020", e.span, why);
          return Bad(e.span);
        }
        plan::Expr out;
        out.op = ExprOp::kBinary;
        out.binary_op = e.binary_op;
        out.type = t;
        out.span = e.span;
        out.args.push_back(std::move(l));
        out.args.push_back(std::move(r));
        return out;
      }
      case ast::ExprKind::kCall:
        return ResolveCall(e, scope);
    }
    return Bad(e.span);
  }

  // attr("name"): an event field the schema does not name, kept as text (INTERFACES.md).
  plan::Expr ResolveAttr(const ast::Expr& e, const Scope& scope) {
    if (!scope.event_input) {
      diags_.Error("E029", e.name_span,
                   "attr() reads fields of events; it needs a stream as input, not a metric");
      return Bad(e.span);
    }
    if (e.args.size() != 1 || !e.arg_names[0].empty() || e.args[0]->kind != ast::ExprKind::kLiteral ||
        e.args[0]->literal.type != Type::kString) {
      diags_.Error("E021", e.span, "attr() takes one field name in double quotes: attr(\"promo_code\")");
      return Bad(e.span);
    }
    plan::Expr out;
    out.op = ExprOp::kExtra;
    out.type = Type::kString;
    out.text = e.args[0]->text;
    out.span = e.span;
    return out;
  }

  // lookup(TABLE, KEY).COLUMN: the column of the table's row whose key is KEY; null when none.
  plan::Expr ResolveLookup(const ast::Expr& call, const ast::Expr& member, Scope& scope) {
    if (call.args.size() != 2 || !call.arg_names[0].empty() || !call.arg_names[1].empty() ||
        call.args[0]->kind != ast::ExprKind::kName) {
      diags_.Error("E080", call.span, "lookup() takes a table and a key: lookup(products, sku).unit_cost");
      return Bad(member.span);
    }
    const ast::Expr& name = *call.args[0];
    auto table = std::find_if(plan_.tables.begin(), plan_.tables.end(),
                              [&](const plan::Table& t) { return t.name == name.text; });
    plan::Expr key = Resolve(*call.args[1], scope);
    if (table == plan_.tables.end()) {
      if (declared_tables_.count(name.text)) return Bad(member.span);  // reported where declared
      std::vector<std::string_view> names;
      for (const auto& t : plan_.tables) names.push_back(t.name);
      diags_.Error("E080", name.span, "unknown table '" + name.text + "'", DidYouMean(name.text, names));
      return Bad(member.span);
    }
    if (key.type == Type::kAny) return Bad(member.span);
    if (key.type != Type::kString && key.type != Type::kInt && key.type != Type::kNull) {
      diags_.Error("E020", call.args[1]->span,
                   "a lookup key is a string or an int, not " + WithArticle(key.type));
      return Bad(member.span);
    }
    const LookupTable& data = *table->lookup;
    auto col = std::find(data.columns().begin(), data.columns().end(), member.text);
    if (col == data.columns().end()) {
      std::vector<std::string_view> names(data.columns().begin(), data.columns().end());
      diags_.Error("E081", member.name_span, "table '" + table->name + "' has no column '" + member.text + "'",
                   DidYouMean(member.text, names));
      return Bad(member.span);
    }
    plan::Expr out;
    out.op = ExprOp::kLookup;
    out.index = static_cast<int>(col - data.columns().begin());
    out.type = data.type(static_cast<size_t>(out.index));
    out.span = member.span;
    out.table = table->lookup;
    if (out.type == Type::kMoney) {
      out.currency_field = FieldIndex(*scope.fields, "currency");
      if (out.currency_field >= 0 && (*scope.fields)[static_cast<size_t>(out.currency_field)].type != Type::kString)
        out.currency_field = -1;
      if (out.currency_field < 0 && !data.has_currency()) {
        diags_.Error("E088", member.span,
                     "'" + member.text + "' is money, but neither table '" + table->name +
                         "' nor the record here has a 'currency'",
                     "add a currency column to the table");
        return Bad(member.span);
      }
      if (out.currency_field >= 0 && scope.used) scope.used->insert(out.currency_field);
    }
    out.args.push_back(std::move(key));
    return out;
  }

  plan::Expr ResolveCall(const ast::Expr& e, Scope& scope) {
    if (e.text == "attr") return ResolveAttr(e, scope);
    if (e.text == "lookup") {
      diags_.Error("E080", e.span, "lookup() finds a row: name the column you want",
                   "e.g. lookup(products, sku).unit_cost");
      return Bad(e.span);
    }
    int f = catalog_.Find(e.text);
    if (f < 0) {
      std::vector<std::string_view> names = catalog_.Names(FunctionKind::kScalar);
      names.push_back("attr");
      for (auto n : catalog_.Names(FunctionKind::kStateful)) names.push_back(n);
      diags_.Error("E011", e.name_span, "unknown function '" + e.text + "'", DidYouMean(e.text, names));
      for (const auto& a : e.args) Resolve(*a, scope);  // report problems inside, too
      return Bad(e.span);
    }
    const FunctionSpec& spec = catalog_.Spec(f);
    if (spec.kind == FunctionKind::kAggregate) {
      diags_.Error("E029", e.name_span,
                   "aggregate '" + e.text + "' can only be used in a metric's 'agg' stage");
      return Bad(e.span);
    }
    if (spec.kind == FunctionKind::kMiner) {
      diags_.Error("E029", e.name_span, "'" + e.text + "' is a pipeline stage, not a function",
                   e.text == "segments" ? "e.g. | segments customer k 4" : "e.g. | affinity sku by order");
      return Bad(e.span);
    }
    if (spec.kind == FunctionKind::kStateful && !scope.rule) {
      diags_.Error("E029", e.name_span,
                   "'" + e.text + "' keeps history per key and can only be used in a rule");
      return Bad(e.span);
    }
    // Bind arguments to parameters: positional first, then by name.
    std::vector<std::optional<plan::Expr>> bound(spec.params.size());
    std::vector<const Span*> given(spec.params.size(), nullptr);  // where each argument was written
    bool ok = true, named_seen = false;
    for (size_t i = 0; i < e.args.size(); ++i) {
      const std::string& name = e.arg_names[i];
      size_t slot = i;
      if (!name.empty()) {
        named_seen = true;
        auto it = std::find_if(spec.params.begin(), spec.params.end(),
                               [&](const ParamSpec& p) { return p.name == name; });
        if (it == spec.params.end()) {
          std::vector<std::string_view> names;
          for (const auto& p : spec.params) names.push_back(p.name);
          diags_.Error("E021", e.arg_name_spans[i],
                       "'" + e.text + "' has no parameter '" + name + "'", DidYouMean(name, names));
          ok = false;
          continue;
        }
        slot = static_cast<size_t>(it - spec.params.begin());
      } else if (named_seen) {
        diags_.Error("E021", e.args[i]->span, "positional argument after a named one");
        ok = false;
        continue;
      }
      if (slot >= spec.params.size()) {
        diags_.Error("E021", e.args[i]->span,
                     fmt::format("'{}' takes at most {} argument{}", spec.name, spec.params.size(),
                                 spec.params.size() == 1 ? "" : "s"));
        ok = false;
        continue;
      }
      if (bound[slot]) {
        diags_.Error("E021", e.args[i]->span,
                     "parameter '" + std::string(spec.params[slot].name) + "' is given twice");
        ok = false;
        continue;
      }
      const ParamSpec& ps = spec.params[slot];
      Scope arg_scope = scope;
      std::string use;
      if (ps.constant) {
        use = fmt::format("parameter '{}' of '{}' at {}", ps.name, spec.name,
                          Where(e.args[i]->span));
        arg_scope.constant_use = &use;
      }
      plan::Expr arg = Resolve(*e.args[i], arg_scope);
      if (arg.type == Type::kAny) {
        ok = false;
        bound[slot] = Bad(e.args[i]->span);  // reported: not missing too
        continue;
      }
      if (!Accepts(ps.type, arg.type)) {
        diags_.Error("E020", e.args[i]->span,
                     fmt::format("parameter '{}' of '{}' takes {}, not {}", ps.name, spec.name,
                                 WithArticle(ps.type), WithArticle(arg.type)));
        ok = false;
        bound[slot] = Bad(e.args[i]->span);  // reported: not missing too
        continue;
      }
      if (ps.constant && arg.op != ExprOp::kConst) {
        diags_.Error("E022", e.args[i]->span,
                     fmt::format("parameter '{}' of '{}' must be a constant", ps.name, spec.name));
        ok = false;
        bound[slot] = Bad(e.args[i]->span);  // reported: not missing too
        continue;
      }
      if (!ps.choices.empty() && arg.op == ExprOp::kConst && arg.type == Type::kString &&
          std::find(ps.choices.begin(), ps.choices.end(), arg.text) == ps.choices.end()) {
        std::string list;
        for (auto c : ps.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        diags_.Error("E021", e.args[i]->span,
                     fmt::format("parameter '{}' of '{}' is one of: {}", ps.name, spec.name, list),
                     DidYouMean(arg.text, ps.choices));
        ok = false;
        bound[slot] = Bad(e.args[i]->span);  // reported: not missing too
        continue;
      }
      bound[slot] = std::move(arg);
      given[slot] = &e.args[i]->span;
    }
    for (size_t i = 0; i < spec.params.size(); ++i) {
      if (bound[i]) continue;
      if (spec.params[i].required) {
        diags_.Error("E021", e.span,
                     fmt::format("'{}' needs its parameter '{}'", spec.name, spec.params[i].name));
        ok = false;
        continue;
      }
      plan::Expr fallback;
      fallback.op = ExprOp::kConst;
      fallback.value = spec.params[i].fallback;
      fallback.type = fallback.value.type;
      if (fallback.value.type == Type::kString) {
        fallback.text = std::string(fallback.value.str());
      }
      bound[i] = std::move(fallback);
    }
    if (!ok) return Bad(e.span);
    // A rejected constant does not hide the call's details from the rest of the rule.
    if (spec.check_constants) CheckConstants(spec, bound, given, e.span);
    std::vector<Type> types;
    for (const auto& b : bound) types.push_back(b->type);
    std::string_view why;
    Type result = spec.result(types, why);
    if (!why.empty()) {
      diags_.Error("E020", e.span, std::string(why));
      return Bad(e.span);
    }
    std::vector<plan::Expr> args;
    for (auto& b : bound) args.push_back(std::move(*b));
    if (spec.kind == FunctionKind::kStateful) {
      // Hoist: the call runs once per record, before the condition, whatever short-circuits.
      plan::Rule& rule = *scope.rule;
      plan::Rule::Step step;
      step.slot = static_cast<int>(rule.fields.size());
      std::string base(spec.name);
      std::string name = base;
      for (int n = 2; FieldIndex(rule.fields, name) >= 0; ++n) name = base + "_" + std::to_string(n);
      rule.fields.push_back({name, result});
      // The details follow, named after the call; a `let` holding the call renames them.
      for (const auto& d : spec.details)
        rule.fields.push_back({name + "." + std::string(d.name),
                               d.type != Type::kAny ? d.type
                               : !types.empty() && types[0] == Type::kMoney ? Type::kMoney
                                                                            : Type::kDecimal});
      plan::StatefulCall call;
      call.function = f;
      call.detail_count = static_cast<int>(spec.details.size());
      call.args = std::move(args);
      call.slot = step.slot;
      call.span = e.span;
      step.stateful = std::move(call);
      rule.steps.push_back(std::move(step));
      plan::Expr out;
      out.op = ExprOp::kField;
      out.index = rule.steps.back().slot;
      out.type = result;
      out.span = e.span;
      if (scope.used) scope.used->insert(out.index);
      return out;
    }
    plan::Expr out;
    out.op = ExprOp::kCall;
    out.function = f;
    out.type = result;
    out.span = e.span;
    out.args = std::move(args);
    return out;
  }

  void Duplicate(std::string_view kind, const ast::Ident& name, Span first) {
    LineCol at = rules_.sources.Locate(first.source, first.begin);
    diags_.Error("E014", name.span,
                 fmt::format("{} '{}' is already defined at {}:{}:{}", kind, name.name,
                             rules_.sources.path(first.source), at.line, at.column));
  }

  std::string RulesetHash() const {
    std::vector<std::pair<std::string, std::string_view>> files;
    for (SourceId i = 0; i < rules_.sources.size(); ++i) {
      fs::path p(rules_.sources.path(i));
      files.emplace_back(p.lexically_relative(rules_.root).generic_string(), rules_.sources.text(i));
    }
    std::sort(files.begin(), files.end());
    XXH3_state_t* state = XXH3_createState();
    XXH3_64bits_reset(state);
    for (const auto& [path, text] : files) {
      XXH3_64bits_update(state, path.data(), path.size() + 1);
      XXH3_64bits_update(state, text.data(), text.size());
    }
    uint64_t h = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return fmt::format("{:016x}", h);
  }

  const RuleSet& rules_;
  const Catalog& catalog_;
  const CheckOptions& options_;
  Diagnostics& diags_;
  plan::Plan plan_;
  std::map<std::string, ParamInfo> params_;
  std::vector<const ast::Param*> param_order_;  // declaration order
  std::map<std::string, const ast::Metric*> metric_decls_;
  std::map<std::string, int> metric_index_;
  std::vector<std::string> resolving_;
  std::set<std::string> declared_tables_;  // including those that failed to load
  std::map<std::string, int> rule_index_;  // rule name -> index in plan_.rules
  std::vector<std::pair<int, const ast::Rule*>> suppressing_;  // rules with `suppress` clauses
};

}  // namespace

std::string_view ast::OpText(ast::BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kEq: return "==";
    case BinaryOp::kNe: return "!=";
    case BinaryOp::kLt: return "<";
    case BinaryOp::kLe: return "<=";
    case BinaryOp::kGt: return ">";
    case BinaryOp::kGe: return ">=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
  }
  return "?";
}

plan::Plan Check(const RuleSet& rules, const Catalog& catalog, const CheckOptions& options,
                 Diagnostics& diagnostics) {
  return Checker(rules, catalog, options, diagnostics).Run();
}

}  // namespace aisle::dsl
