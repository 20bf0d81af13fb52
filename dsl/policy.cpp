#include "dsl/policy.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "dsl/formatter.hpp"
#include "dsl/suggest.hpp"

namespace aisle::dsl {

namespace {

using plan::ParamLevel;

std::string WithArticle(Type t) {
  std::string_view name = TypeName(t);
  bool vowel = !name.empty() && std::string_view("aeiou").find(name[0]) != std::string_view::npos;
  return std::string(vowel ? "an " : "a ") + std::string(name);
}

std::string Where(const SourceManager& sources, Span span) {
  const LineCol at = sources.Locate(span.source, span.begin);
  return fmt::format("{}:{}:{}", sources.path(span.source), at.line, at.column);
}

// A value as written, in the canonical layout ("250.00 USD", "-3.5").
std::string Shown(const SourceManager& sources, Span span) {
  std::string text = Format(sources.Slice(span));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string LevelWord(ParamLevel level) {
  switch (level) {
    case ParamLevel::kDefault:
      return "default";
    case ParamLevel::kChain:
      return "chain";
    case ParamLevel::kDistrict:
      return "district";
    case ParamLevel::kStore:
      return "store";
  }
  return "?";
}

std::string SourceName(const plan::ParamSource& s) {
  if (s.level == ParamLevel::kDistrict || s.level == ParamLevel::kStore)
    return fmt::format("{} \"{}\"", LevelWord(s.level), s.target);
  return LevelWord(s.level);
}

// The `stores` table as policies use it: keyed by store, maybe with a district column.
struct StoresTable {
  const plan::Table* table = nullptr;  // the table named `stores`
  bool keyed = false;                  // by `store`
  int district = -1;                   // column
};

class PolicyChecker {
 public:
  PolicyChecker(const RuleSet& rules, const std::vector<plan::Table>& tables,
                const ConstantFn& constant, Diagnostics& diagnostics)
      : rules_(rules), constant_(constant), diags_(diagnostics) {
    for (const plan::Table& t : tables)
      if (t.name == "stores") stores_.table = &t;
    if (stores_.table && stores_.table->key == "store") {
      stores_.keyed = true;
      const auto& columns = stores_.table->columns;
      auto d = std::find(columns.begin(), columns.end(), "district");
      if (d != columns.end()) stores_.district = static_cast<int>(d - columns.begin());
    }
  }

  plan::Policies Run(const std::vector<ParamDeclaration>& params) {
    plan::Policies out;
    if (stores_.keyed) {
      const plan::Table& t = *stores_.table;
      const auto key = static_cast<size_t>(std::find(t.columns.begin(), t.columns.end(), "store") -
                                           t.columns.begin());
      for (const auto& row : t.rows) {
        if (out.store_index.count(row[key])) continue;  // a repeated key: the first row holds
        out.store_index.emplace(row[key], static_cast<int>(out.stores.size()));
        out.stores.push_back(row[key]);
        out.districts.push_back(stores_.district >= 0 ? row[static_cast<size_t>(stores_.district)]
                                                      : std::string());
      }
    }
    for (const ParamDeclaration& d : params) {
      plan::PolicyParam p;
      p.name = d.decl->name.name;
      p.type = d.value.type;
      plan::ParamSource s;
      s.span = d.decl->span;
      s.name_span = d.decl->name.span;
      s.value = d.value.value;
      s.text = d.value.text;
      s.shown = Shown(rules_.sources, d.decl->value->span);
      p.sources.push_back(std::move(s));
      index_.emplace(p.name, static_cast<int>(out.params.size()));
      out.params.push_back(std::move(p));
    }
    for (const auto& m : rules_.modules)
      for (const auto& policy : m.policies)
        if (!policy.broken) Check(policy, out);
    Resolve(out);
    return out;
  }

 private:
  void Check(const ast::Policy& policy, plan::Policies& out) {
    const std::optional<ParamLevel> level = Header(policy);
    if (level && (*level == ParamLevel::kDistrict || *level == ParamLevel::kStore)) {
      NeedStores(policy, *level);
      Membership(policy, *level, out);
    }
    for (const ast::Param& o : policy.params) Override(o, policy, level, out);
  }

  // E060: the level is chain, district or store; districts and stores are named, the chain not.
  std::optional<ParamLevel> Header(const ast::Policy& policy) {
    const std::string& word = policy.level.name;
    if (word != "chain" && word != "district" && word != "store") {
      diags_.Error(
          "E060", policy.level.span,
          "unknown policy scope '" + word + "': a policy covers the chain, a district or a store",
          DidYouMean(word, {"chain", "district", "store"}));
      return std::nullopt;
    }
    if (word == "chain") {
      if (policy.target) {
        diags_.Error("E060", policy.target_span, "a chain policy covers every store and names none",
                     "write 'policy chain {', or 'policy district \"" + *policy.target + "\" {'");
        return std::nullopt;
      }
      return ParamLevel::kChain;
    }
    const bool district = word == "district";
    if (!policy.target) {
      diags_.Error(
          "E060", policy.level.span,
          district ? "a district policy names its district: policy district \"north-east\" { ... }"
                   : "a store policy names its store: policy store \"S012\" { ... }");
      return std::nullopt;
    }
    if (policy.target->empty()) {
      diags_.Error("E060", policy.target_span, fmt::format("the {} name is empty", word));
      return std::nullopt;
    }
    return district ? ParamLevel::kDistrict : ParamLevel::kStore;
  }

  // E065: district and store policies read the stores table.
  void NeedStores(const ast::Policy& policy, ParamLevel level) {
    const bool district = level == ParamLevel::kDistrict;
    const std::string kind = district ? "a district policy" : "a store policy";
    if (!stores_.table) {
      diags_.Error("E065", policy.level.span,
                   kind + " needs the stores table" +
                       (district ? ", to know which stores are in the district" : ""),
                   std::string("declare table stores from \"stores.csv\" key store") +
                       (district ? " (with a 'district' column)" : ""));
    } else if (!stores_.keyed) {
      diags_.Error("E065", policy.level.span,
                   fmt::format("{} needs the stores table keyed by store, not by '{}'", kind,
                               stores_.table->key),
                   "declare table stores from \"" +
                       stores_.table->path.substr(stores_.table->path.find_last_of('/') + 1) +
                       "\" key store");
    } else if (district && stores_.district < 0) {
      diags_.Error("E065", policy.level.span,
                   "a district policy needs a 'district' column in the stores table",
                   "add the column to " +
                       stores_.table->path.substr(stores_.table->path.find_last_of('/') + 1));
    }
  }

  // W010: a district or store that no row of the stores table names.
  void Membership(const ast::Policy& policy, ParamLevel level, const plan::Policies& out) {
    if (!stores_.keyed) return;
    const std::string& target = *policy.target;
    if (level == ParamLevel::kStore) {
      if (out.store_index.count(target)) return;
      std::vector<std::string_view> names(out.stores.begin(), out.stores.end());
      diags_.Warning(
          "W010", policy.target_span,
          "store '" + target + "' is not in the stores table: the policy covers no store",
          DidYouMean(target, names));
      return;
    }
    if (stores_.district < 0) return;  // E065
    if (std::find(out.districts.begin(), out.districts.end(), target) != out.districts.end())
      return;
    std::set<std::string_view> distinct(out.districts.begin(), out.districts.end());
    distinct.erase("");
    diags_.Warning(
        "W010", policy.target_span,
        "no store of the stores table is in district '" + target + "': the policy covers no store",
        DidYouMean(target, std::vector<std::string_view>(distinct.begin(), distinct.end())));
  }

  // One `param NAME = VALUE` inside a policy: E062 (unknown), E022 (not a constant), E063 (type),
  // E064 (twice for the same scope).
  void Override(const ast::Param& o, const ast::Policy& policy, std::optional<ParamLevel> level,
                plan::Policies& out) {
    auto it = index_.find(o.name.name);
    if (it == index_.end()) {
      std::vector<std::string_view> names;
      for (const auto& [n, _] : index_) names.push_back(n);
      std::string help = DidYouMean(o.name.name, names);
      if (help.empty())
        help =
            "a policy overrides a param declared outside policies: param " + o.name.name + " = ...";
      diags_.Error("E062", o.name.span, "unknown param '" + o.name.name + "'", help);
      return;
    }
    std::optional<plan::Expr> value = constant_(*o.value);
    if (!value) return;
    plan::PolicyParam& p = out.params[static_cast<size_t>(it->second)];
    const plan::ParamSource& declared = p.sources[0];
    if (p.type != Type::kAny && value->type != Type::kAny) {
      if (value->type != p.type) {
        diags_.Error("E063", o.value->span,
                     fmt::format("param '{}' is {} (declared at {}); this override is {}", p.name,
                                 WithArticle(p.type), Where(rules_.sources, declared.name_span),
                                 WithArticle(value->type)));
        return;
      }
      if (p.type == Type::kMoney && value->value.currency != declared.value.currency) {
        char a[4] = {}, b[4] = {};
        diags_.Error("E063", o.value->span,
                     fmt::format("param '{}' is in {} (declared at {}); this override is in {}",
                                 p.name, CurrencyCode(declared.value.currency, a),
                                 Where(rules_.sources, declared.name_span),
                                 CurrencyCode(value->value.currency, b)));
        return;
      }
    }
    if (!level) return;  // the header is wrong (E060): nothing to record the override for
    const std::string target = policy.target.value_or("");
    auto [first, fresh] =
        seen_.emplace(std::make_tuple(it->second, static_cast<int>(*level), target), o.name.span);
    if (!fresh) {
      diags_.Error(
          "E064", o.name.span,
          fmt::format("param '{}' is already overridden for {} at {}", p.name,
                      *level == ParamLevel::kChain ? std::string("the chain") : PolicyName(policy),
                      Where(rules_.sources, first->second)));
      return;
    }
    plan::ParamSource s;
    s.level = *level;
    s.target = target;
    s.span = o.span;
    s.name_span = o.name.span;
    s.value = value->value;
    s.text = value->text;
    s.shown = Shown(rules_.sources, o.value->span);
    p.sources.push_back(std::move(s));
  }

  // Store > district > chain > default, for every store of the table, then for any other store.
  static void Resolve(plan::Policies& out) {
    for (plan::PolicyParam& p : out.params) {
      for (size_t k = 1; k < p.sources.size(); ++k) {
        if (p.sources[k].level == ParamLevel::kChain) p.chain = static_cast<int>(k);
        if (p.sources[k].level == ParamLevel::kDistrict || p.sources[k].level == ParamLevel::kStore)
          p.varies = true;
      }
      p.by_store.assign(out.stores.size() + 1, p.chain);
      if (!p.varies) continue;
      out.by_store = true;
      for (size_t i = 0; i < out.stores.size(); ++i) {
        int district = -1, store = -1;
        for (size_t k = 1; k < p.sources.size(); ++k) {
          const plan::ParamSource& s = p.sources[k];
          if (s.level == ParamLevel::kDistrict && !out.districts[i].empty() &&
              s.target == out.districts[i])
            district = static_cast<int>(k);
          if (s.level == ParamLevel::kStore && s.target == out.stores[i])
            store = static_cast<int>(k);
        }
        p.by_store[i] = store >= 0 ? store : district >= 0 ? district : p.chain;
      }
    }
  }

  const RuleSet& rules_;
  const ConstantFn& constant_;
  Diagnostics& diags_;
  StoresTable stores_;
  std::map<std::string, int, std::less<>> index_;  // param name -> index
  // (param, level, target) -> the first override's name.
  std::map<std::tuple<int, int, std::string>, Span> seen_;
};

}  // namespace

plan::Policies CheckPolicies(const RuleSet& rules, const std::vector<ParamDeclaration>& params,
                             const std::vector<plan::Table>& tables, const ConstantFn& constant,
                             Diagnostics& diagnostics) {
  return PolicyChecker(rules, tables, constant, diagnostics).Run(params);
}

std::optional<ParamLevel> PolicyLevel(const ast::Policy& policy) {
  if (policy.broken) return std::nullopt;
  const std::string& word = policy.level.name;
  if (word == "chain") return policy.target ? std::nullopt : std::optional(ParamLevel::kChain);
  if (word != "district" && word != "store") return std::nullopt;
  if (!policy.target || policy.target->empty()) return std::nullopt;
  return word == "district" ? ParamLevel::kDistrict : ParamLevel::kStore;
}

std::string PolicyName(const ast::Policy& policy) {
  if (!policy.target) return policy.level.name;
  return fmt::format("{} \"{}\"", policy.level.name, *policy.target);
}

std::vector<uint8_t> PolicyScope(const ast::Policy& policy, const plan::Policies& policies) {
  const std::optional<ParamLevel> level = PolicyLevel(policy);
  if (!level || *level == ParamLevel::kChain) return {};
  const std::vector<std::string>& names =
      *level == ParamLevel::kDistrict ? policies.districts : policies.stores;
  std::vector<uint8_t> scope(policies.stores.size() + 1, 0);  // the last: any other store
  for (size_t i = 0; i < policies.stores.size(); ++i) scope[i] = names[i] == *policy.target;
  return scope;
}

bool ExplainStoreParams(const plan::Plan& plan, const SourceManager& sources,
                        std::string_view store, std::string& out) {
  const plan::Policies& policies = plan.policies;
  auto found = policies.store_index.find(store);
  if (found == policies.store_index.end()) {
    if (policies.stores.empty()) {
      out =
          "no stores table: declare table stores from \"stores.csv\" key store to see a store's "
          "params";
    } else {
      std::vector<std::string_view> names(policies.stores.begin(), policies.stores.end());
      out = "store '" + std::string(store) + "' is not in the stores table";
      std::string help = DidYouMean(store, names);
      if (!help.empty()) out += "; " + help;
    }
    return false;
  }
  const int index = found->second;
  const std::string& district = policies.districts[static_cast<size_t>(index)];
  out = fmt::format("params for store {}{}:\n", store,
                    district.empty() ? std::string() : fmt::format(" (district \"{}\")", district));
  std::vector<std::pair<std::string, std::string>> lines;
  for (size_t p = 0; p < policies.params.size(); ++p) {
    const plan::ParamSource& s = policies.Source(static_cast<int>(p), index);
    lines.emplace_back(policies.params[p].name + " = " + s.shown,
                       SourceName(s) + " (" + Where(sources, s.span) + ")");
  }
  auto print = [&out](const std::vector<std::pair<std::string, std::string>>& rows) {
    size_t width = 0;
    for (const auto& [left, right] : rows) width = std::max(width, left.size());
    for (const auto& [left, right] : rows)
      out += left + std::string(width - left.size() + 3, ' ') + right + "\n";
    if (rows.empty()) out += "(none)\n";
  };
  print(lines);
  lines.clear();
  for (const plan::Rule& r : plan.rules) {
    if (r.policy.empty()) continue;
    const bool covers = r.scope.empty() || r.scope[static_cast<size_t>(index)] != 0;
    if (covers) lines.emplace_back(r.name, r.policy + " (" + Where(sources, r.span) + ")");
  }
  out += fmt::format("\npolicy rules for store {}:\n", store);
  print(lines);
  return true;
}

}  // namespace aisle::dsl
