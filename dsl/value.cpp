#include "dsl/value.hpp"

namespace aisle::dsl {

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kDecimal: return "decimal";
    case Type::kMoney: return "money";
    case Type::kString: return "string";
    case Type::kTimestamp: return "timestamp";
    case Type::kDuration: return "duration";
    case Type::kPercent: return "percent";
    case Type::kAny: return "any";
  }
  return "?";
}

Currency PackCurrency(std::string_view code) {
  if (code.size() != 3) return 0;
  Currency c = 0;
  for (char ch : code) {
    if (ch < 'A' || ch > 'Z') return 0;
    c = (c << 8) | static_cast<unsigned char>(ch);
  }
  return c;
}

std::string_view CurrencyCode(Currency currency, char (&out)[4]) {
  out[0] = static_cast<char>((currency >> 16) & 0xff);
  out[1] = static_cast<char>((currency >> 8) & 0xff);
  out[2] = static_cast<char>(currency & 0xff);
  out[3] = '\0';
  return currency == 0 ? std::string_view() : std::string_view(out, 3);
}

}  // namespace aisle::dsl
