#include "dsl/lookup_table.hpp"

#include <charconv>
#include <cmath>

#include "dsl/money.hpp"

namespace aisle::dsl {

namespace {

constexpr std::pair<std::string_view, Type> kColumnTypes[] = {
    {"string", Type::kString}, {"int", Type::kInt},         {"decimal", Type::kDecimal},
    {"money", Type::kMoney},   {"percent", Type::kPercent}, {"bool", Type::kBool},
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseDouble(std::string_view s, double& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

// The typed value of a cell's text; sets `why` when it does not parse.
Value ParseCell(std::string_view raw, Type type, Currency currency, std::string& why) {
  if (type == Type::kString) return Value::String(raw);
  const std::string_view s = Trim(raw);
  if (s.empty()) return Value::Null();
  switch (type) {
    case Type::kInt: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return Value::Int(v);
      why = "not a whole number";
      break;
    }
    case Type::kDecimal: {
      double d = 0;
      if (ParseDouble(s, d)) return Value::Decimal(d);
      why = "not a number";
      break;
    }
    case Type::kPercent: {
      // "15%" or the fraction "0.15".
      const bool sign = s.back() == '%';
      double d = 0;
      if (ParseDouble(sign ? Trim(s.substr(0, s.size() - 1)) : s, d))
        return Value::Percent(sign ? d / 100.0 : d);
      why = "not a percent (15% or 0.15)";
      break;
    }
    case Type::kMoney:
      if (auto units = ParseMoneyUnits(s)) return Value::Money(*units, currency);
      why = "not an amount of money (a decimal number such as 12.50)";
      break;
    case Type::kBool:
      if (s == "true") return Value::Bool(true);
      if (s == "false") return Value::Bool(false);
      why = "not true or false";
      break;
    default:
      why = "not readable";
      break;
  }
  return Value::Null();
}

}  // namespace

std::vector<std::string_view> ColumnTypeNames() {
  std::vector<std::string_view> out;
  for (const auto& [name, type] : kColumnTypes) out.push_back(name);
  return out;
}

Type ColumnTypeFromName(std::string_view name) {
  for (const auto& [n, type] : kColumnTypes)
    if (n == name) return type;
  return Type::kNull;
}

std::shared_ptr<const LookupTable> LookupTable::Build(const CsvTable& csv,
                                                      const std::vector<Type>& types,
                                                      size_t key_column, std::vector<BadCell>& bad,
                                                      std::vector<DuplicateKey>& duplicates) {
  auto table = std::make_shared<LookupTable>();
  const size_t width = csv.columns.size();
  table->columns_ = csv.columns;
  table->types_ = types;
  table->types_.resize(width, Type::kString);
  int currency_column = -1;
  for (size_t c = 0; c < width; ++c)
    if (csv.columns[c] == "currency") currency_column = static_cast<int>(c);
  table->has_currency_ = currency_column >= 0;
  // All text first: the values below point into it, so it must not move afterwards.
  table->text_.reserve(csv.rows.size() * width);
  for (const auto& row : csv.rows)
    for (size_t c = 0; c < width; ++c)
      table->text_.push_back(c < row.size() ? row[c] : std::string());
  table->cells_.reserve(table->text_.size());
  std::vector<bool> reported(width, false);
  auto line_of = [&](size_t r) { return r < csv.row_lines.size() ? csv.row_lines[r] : r + 2; };
  for (size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string* cells = &table->text_[r * width];
    Currency currency = 0;
    if (currency_column >= 0) {
      const std::string_view code = Trim(cells[currency_column]);
      currency = PackCurrency(code);
      bool needed = false;
      for (size_t c = 0; c < width; ++c)
        needed |= table->types_[c] == Type::kMoney && !Trim(cells[c]).empty();
      if (needed && !code.empty() && currency == 0 &&
          !reported[static_cast<size_t>(currency_column)]) {
        reported[static_cast<size_t>(currency_column)] = true;
        bad.push_back(
            {line_of(r), "currency", std::string(code), "not a three-letter currency code"});
      }
    }
    for (size_t c = 0; c < width; ++c) {
      std::string why;
      table->cells_.push_back(ParseCell(cells[c], table->types_[c], currency, why));
      if (!why.empty() && !reported[c]) {
        reported[c] = true;
        bad.push_back({line_of(r), csv.columns[c], cells[c], why});
      }
    }
    auto [it, fresh] =
        table->index_.emplace(std::string_view(cells[key_column]), static_cast<uint32_t>(r));
    if (!fresh) duplicates.push_back({cells[key_column], line_of(it->second), line_of(r)});
  }
  return table;
}

int64_t LookupTable::Find(const Value& key) const {
  std::string_view text;
  char digits[24];
  if (key.type == Type::kString) {
    text = key.str();
  } else if (key.type == Type::kInt) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, key.i);
    text = std::string_view(digits, static_cast<size_t>(end - digits));
  } else {
    return -1;
  }
  auto it = index_.find(text);
  return it == index_.end() ? -1 : static_cast<int64_t>(it->second);
}

}  // namespace aisle::dsl
