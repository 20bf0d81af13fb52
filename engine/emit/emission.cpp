#include "engine/emit/emission.hpp"

#include <cmath>
#include <sstream>

#include <date/date.h>
#include <date/tz.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::engine {

using dsl::Type;

std::string_view KindName(dsl::plan::EmitKind kind) {
  switch (kind) {
    case dsl::plan::EmitKind::kAlert: return "alert";
    case dsl::plan::EmitKind::kTask: return "task";
    case dsl::plan::EmitKind::kReport: return "report";
    case dsl::plan::EmitKind::kPoDraft: return "po_draft";
  }
  return "alert";
}

std::string_view SeverityName(dsl::plan::Severity s) {
  switch (s) {
    case dsl::plan::Severity::kInfo: return "info";
    case dsl::plan::Severity::kWarning: return "warning";
    case dsl::plan::Severity::kCritical: return "critical";
  }
  return "warning";
}

namespace {

std::string JsonString(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string MoneyText(const dsl::Value& v, int digits) {
  char code[4];
  std::string_view c = dsl::CurrencyCode(v.currency, code);
  std::string amount = dsl::FormatUnits(v.i, digits);
  return c.empty() ? amount : amount + " " + std::string(c);
}

std::string DurationText(int64_t us) {
  if (us % dsl::kMicrosPerSecond == 0) return fmt::format("{}s", us / dsl::kMicrosPerSecond);
  return fmt::format("{}us", us);
}

std::string DecimalText(double d) {
  if (!std::isfinite(d)) return "null";
  std::string s = fmt::format("{:.6g}", d);
  return s;
}

}  // namespace

std::string ValueJson(const dsl::Value& v) {
  switch (v.type) {
    case Type::kNull:
    case Type::kAny: return "null";
    case Type::kBool: return v.b ? "true" : "false";
    case Type::kInt: return std::to_string(v.i);
    case Type::kDecimal:
    case Type::kPercent: return DecimalText(v.d);
    case Type::kMoney: {
      char code[4];
      return JsonString(MoneyText(v, dsl::MinorDigits(dsl::CurrencyCode(v.currency, code))));
    }
    case Type::kString: return JsonString(v.str());
    case Type::kTimestamp: return JsonString(dsl::FormatTimestamp(v.i));
    case Type::kDuration: return JsonString(DurationText(v.i));
  }
  return "null";
}

std::string FormatValue(const dsl::Value& v, std::string_view spec, std::string_view timezone) {
  if (v.is_null()) return "null";
  if (spec.size() == 3 && spec[0] == '.' && (spec[2] == 'f' || spec[2] == '%')) {
    int digits = spec[1] - '0';
    double d = v.type == Type::kInt ? static_cast<double>(v.i)
               : v.type == Type::kMoney
                   ? static_cast<double>(v.i) / static_cast<double>(dsl::kMoneyScale)
                   : v.d;
    if (spec[2] == '%') return fmt::format("{:.{}f}%", d * 100.0, digits);
    return fmt::format("{:.{}f}", d, digits);
  }
  if (spec.rfind("local %", 0) == 0 && v.type == Type::kTimestamp) {
    // strftime-style patterns in the store's own time zone.
    const std::string pattern(spec.substr(6));
    const auto instant = date::floor<std::chrono::seconds>(
        date::sys_time<std::chrono::microseconds>{std::chrono::microseconds{v.i}});
    const date::time_zone* tz = nullptr;
    if (!timezone.empty()) {
      try {
        tz = date::locate_zone(timezone);
      } catch (const std::exception&) {
        tz = nullptr;  // not a zone the system knows: UTC
      }
    }
    std::ostringstream out;
    if (tz) date::to_stream(out, pattern.c_str(), date::make_zoned(tz, instant).get_local_time());
    else date::to_stream(out, pattern.c_str(), instant);
    return out.str();
  }
  if (!spec.empty() && spec[0] == '%' && v.type == Type::kTimestamp) {
    // strftime-style patterns (%a %d %b %H:%M ...), in UTC.
    std::ostringstream out;
    date::to_stream(out, std::string(spec).c_str(),
                    date::floor<std::chrono::seconds>(
                        date::sys_time<std::chrono::microseconds>{std::chrono::microseconds{v.i}}));
    return out.str();
  }
  if (spec == "int") {
    if (v.type == Type::kDecimal || v.type == Type::kPercent) return fmt::format("{:.0f}", v.d);
    if (v.type == Type::kMoney) return dsl::FormatUnits(v.i, 0);
  }
  switch (v.type) {
    case Type::kMoney: {
      char code[4];
      std::string_view c = dsl::CurrencyCode(v.currency, code);
      return MoneyText(v, dsl::MinorDigits(c));
    }
    case Type::kString: return std::string(v.str());
    case Type::kTimestamp: return dsl::FormatTimestamp(v.i);
    case Type::kDuration: return DurationText(v.i);
    case Type::kPercent: return fmt::format("{:.1f}%", v.d * 100.0);
    case Type::kDecimal: return DecimalText(v.d);
    default: return ValueJson(v);
  }
}

std::string ToJson(const Emission& e) {
  std::string out;
  out.reserve(512);
  auto pairs = [&](const std::vector<std::pair<std::string, std::string>>& kv, bool raw) {
    out += '{';
    for (size_t i = 0; i < kv.size(); ++i) {
      if (i) out += ',';
      out += JsonString(kv[i].first);
      out += ':';
      out += raw ? kv[i].second : JsonString(kv[i].second);
    }
    out += '}';
  };
  out += "{\"id\":" + JsonString(e.id);
  out += ",\"kind\":" + JsonString(KindName(e.kind));
  out += ",\"rule\":" + JsonString(e.rule);
  out += ",\"severity\":" + JsonString(SeverityName(e.severity));
  out += ",\"store\":" + (e.store.empty() ? std::string("null") : JsonString(e.store));
  out += ",\"channel\":" + JsonString(e.channel);
  out += ",\"key\":";
  pairs(e.key, true);
  out += ",\"window\":";
  if (e.window) {
    out += "{\"start\":" + JsonString(dsl::FormatTimestamp(e.window->first)) +
           ",\"end\":" + JsonString(dsl::FormatTimestamp(e.window->second)) + "}";
  } else {
    out += "null";
  }
  out += ",\"values\":";
  pairs(e.values, true);
  out += ",\"message\":" + JsonString(e.message);
  out += ",\"labels\":";
  pairs(e.labels, false);
  out += ",\"ruleset\":" + JsonString(e.ruleset);
  out += ",\"ts\":" + JsonString(dsl::FormatTimestamp(e.ts));
  out += ",\"correction\":";
  out += e.correction ? "true" : "false";
  out += '}';
  return out;
}

std::string ToReadableLine(const Emission& e) {
  std::string when = dsl::FormatTimestamp(e.window ? e.window->first : e.ts);
  // "2025-03-14T13:00:00Z" -> "2025-03-14 13:00Z"
  if (when.size() >= 20) when = when.substr(0, 10) + " " + when.substr(11, 5) + "Z";
  std::string sev(SeverityName(e.severity));
  for (char& c : sev) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return fmt::format("{}  {:<8} {:<5} {:<20} {:<6} {}{}", when, sev, KindName(e.kind), e.rule,
                     e.store, e.message, e.correction ? "  (correction)" : "");
}

}  // namespace aisle::engine
