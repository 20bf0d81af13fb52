#include "dsl/relations.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "dsl/suggest.hpp"
#include "dsl/time.hpp"

namespace aisle::dsl {

std::shared_ptr<const LookupTable> TypeTable(const ast::Table& t, const CsvTable& csv,
                                             size_t key_column, const std::string& path,
                                             Diagnostics& diags) {
  std::vector<Type> types(csv.columns.size(), Type::kString);
  std::vector<Span> type_spans(csv.columns.size(), t.path_span);
  std::set<std::string> typed;
  for (const ast::ColumnType& ct : t.types) {
    auto col = std::find(csv.columns.begin(), csv.columns.end(), ct.column.name);
    if (col == csv.columns.end()) {
      std::vector<std::string_view> names(csv.columns.begin(), csv.columns.end());
      diags.Error("E081", ct.column.span,
                  "table '" + t.name.name + "' has no column '" + ct.column.name + "'",
                  DidYouMean(ct.column.name, names));
      continue;
    }
    if (!typed.insert(ct.column.name).second) {
      diags.Error("E014", ct.column.span, "column '" + ct.column.name + "' is typed twice");
      continue;
    }
    const Type type = ColumnTypeFromName(ct.type.name);
    if (type == Type::kNull) {
      std::string hint = DidYouMean(ct.type.name, ColumnTypeNames());
      diags.Error("E082", ct.type.span, "unknown column type '" + ct.type.name + "'",
                  hint.empty() ? "the types: string, int, decimal, money, percent, bool" : hint);
      continue;
    }
    const auto c = static_cast<size_t>(col - csv.columns.begin());
    types[c] = type;
    type_spans[c] = ct.type.span;
  }
  std::vector<LookupTable::BadCell> bad;
  std::vector<LookupTable::DuplicateKey> duplicates;
  auto table = LookupTable::Build(csv, types, key_column, bad, duplicates);
  for (const auto& b : bad) {
    auto col = std::find(csv.columns.begin(), csv.columns.end(), b.column);
    const Type type = col == csv.columns.end()
                          ? Type::kString
                          : types[static_cast<size_t>(col - csv.columns.begin())];
    diags.Error("E082",
                col == csv.columns.end()
                    ? t.path_span
                    : type_spans[static_cast<size_t>(col - csv.columns.begin())],
                fmt::format("table file '{}': line {}: {} '{}' is {}", path, b.line, b.column,
                            b.text, b.why),
                b.column == "currency" && type == Type::kString
                    ? "money cells take their row's currency"
                    : "declared " + std::string(TypeName(type)) + "; an empty cell is null");
  }
  if (!duplicates.empty()) {
    const auto& d = duplicates.front();
    diags.Warning(
        "W020", t.key.span,
        fmt::format("table file '{}' has key '{}' on lines {} and {}: lookups use the first{}",
                    path, d.key, d.first_line, d.line,
                    duplicates.size() > 1
                        ? fmt::format(" ({} more repeated keys)", duplicates.size() - 1)
                        : ""));
  }
  return table;
}

bool SameWindow(const plan::Metric& a, const plan::Metric& b) {
  return a.window_kind == b.window_kind && a.window_size == b.window_size &&
         a.window_step == b.window_step && a.window_offset == b.window_offset &&
         a.week_start == b.week_start && a.fiscal_pattern == b.fiscal_pattern &&
         a.fiscal_anchor == b.fiscal_anchor;
}

std::string WindowText(const plan::Metric& m) {
  switch (m.window_kind) {
    case plan::Metric::WindowKind::kDay:
      return "day";
    case plan::Metric::WindowKind::kWeek: {
      static constexpr const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};
      return std::string("week starting ") + kDays[(m.week_start % 7 + 7) % 7];
    }
    case plan::Metric::WindowKind::kMonth:
      return "month";
    case plan::Metric::WindowKind::kFiscal:
      return "fiscal \"" + std::to_string(m.fiscal_pattern[0]) + "-" +
             std::to_string(m.fiscal_pattern[1]) + "-" + std::to_string(m.fiscal_pattern[2]) +
             "\" from day " + std::to_string(m.fiscal_anchor);
    case plan::Metric::WindowKind::kHopping:
      return "hopping " + FormatDuration(m.window_size) + " every " + FormatDuration(m.window_step);
    case plan::Metric::WindowKind::kSliding:
      return "sliding " + FormatDuration(m.window_size);
    case plan::Metric::WindowKind::kSession:
      return "session gap " + FormatDuration(m.window_size);
    case plan::Metric::WindowKind::kTumbling:
      break;
  }
  return "tumbling " + FormatDuration(m.window_size) +
         (m.window_offset ? " offset " + FormatDuration(m.window_offset) : "");
}

std::string KeyText(const plan::Metric& m) {
  std::string out;
  for (const auto& k : m.key_names) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

void JoinLayout(const plan::Metric& left, const plan::Metric& right, const std::string (&names)[2],
                const std::vector<ast::Ident>& on, plan::Metric& out, plan::Join& join) {
  const plan::Metric* in[2] = {&left, &right};
  auto find = [](const std::vector<plan::Field>& fields, const std::string& name) {
    for (size_t i = 0; i < fields.size(); ++i)
      if (fields[i].name == name) return static_cast<int>(i);
    return -1;
  };
  std::set<std::string> keys;
  for (const ast::Ident& k : on) {
    keys.insert(k.name);
    out.output.push_back(
        {k.name, left.result[static_cast<size_t>(find(left.result, k.name))].type});
  }
  auto copied = [&](const plan::Field& f) {
    return keys.count(f.name) == 0 && f.name != "window.start" && f.name != "window.end";
  };
  for (int s = 0; s < 2; ++s) {
    const plan::Metric& x = *in[s];
    const plan::Metric& other = *in[1 - s];
    for (size_t i = 0; i < x.result.size(); ++i) {
      const plan::Field& f = x.result[i];
      if (!copied(f)) continue;
      const int twin = find(other.result, f.name);
      const bool clash = twin >= 0 && copied(other.result[static_cast<size_t>(twin)]);
      out.output.push_back({clash ? names[s] + "." + f.name : f.name, f.type});
      join.copied[s].push_back(static_cast<int>(i));
    }
    join.window_end[s] = x.result_window_end_field;
  }
  out.window_start_field = static_cast<int>(out.output.size());
  out.output.push_back({"window.start", Type::kTimestamp});
  out.window_end_field = static_cast<int>(out.output.size());
  out.output.push_back({"window.end", Type::kTimestamp});
}

}  // namespace aisle::dsl
