#include "dsl/money.hpp"

#include <array>
#include <cstdlib>

namespace aisle::dsl {

namespace {
constexpr std::array<int64_t, 19> kPow10 = {1LL,
                                            10LL,
                                            100LL,
                                            1000LL,
                                            10000LL,
                                            100000LL,
                                            1000000LL,
                                            10000000LL,
                                            100000000LL,
                                            1000000000LL,
                                            10000000000LL,
                                            100000000000LL,
                                            1000000000000LL,
                                            10000000000000LL,
                                            100000000000000LL,
                                            1000000000000000LL,
                                            10000000000000000LL,
                                            100000000000000000LL,
                                            1000000000000000000LL};
constexpr Int128 kInt64Max = INT64_MAX;
}  // namespace

int64_t DivRoundHalfEven(Int128 num, Int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  Int128 q = num / den;
  Int128 r = num % den;
  if (r != 0) {
    Int128 twice = (r < 0 ? -r : r) * 2;
    bool away = twice > den || (twice == den && (q % 2 != 0));
    if (away) q += (num < 0) ? -1 : 1;
  }
  return static_cast<int64_t>(q);
}

std::optional<int64_t> ParseScaled(std::string_view text, int scale_digits) {
  if (scale_digits < 0 || scale_digits > 9) return std::nullopt;
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  // Collect significant digits (at most 38, enough for any int64 at scale 9) and the exponent.
  Int128 mantissa = 0;
  int digits_kept = 0;
  int exponent = 0;  // value = mantissa * 10^exponent
  bool any_digit = false;
  bool dropped_nonzero = false;  // digits beyond what we keep: only for rounding "sticky" bit
  auto take_digit = [&](int d, bool after_point) {
    any_digit = true;
    if (digits_kept < 36) {
      if (mantissa != 0 || d != 0) ++digits_kept;
      mantissa = mantissa * 10 + d;
      if (after_point) --exponent;
    } else {
      if (d != 0) dropped_nonzero = true;
      if (!after_point) ++exponent;
    }
  };
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') take_digit(text[pos++] - '0', false);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    bool frac_digit = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      take_digit(text[pos++] - '0', true);
      frac_digit = true;
    }
    if (!frac_digit && !any_digit) return std::nullopt;
  }
  if (!any_digit) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) exp_negative = text[pos++] == '-';
    if (pos >= text.size()) return std::nullopt;
    int e = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      e = e * 10 + (text[pos++] - '0');
      if (e > 1000) return std::nullopt;
    }
    exponent += exp_negative ? -e : e;
  }
  if (pos != text.size()) return std::nullopt;

  // Scale: result = mantissa * 10^(exponent + scale_digits), rounded half to even.
  int shift = exponent + scale_digits;
  Int128 result;
  if (mantissa == 0) {
    result = 0;
  } else if (shift >= 0) {
    if (shift > 18 || mantissa > kInt64Max) return std::nullopt;
    result = mantissa * kPow10[shift];
    if (result > kInt64Max) return std::nullopt;
  } else {
    int down = -shift;
    if (down > 38) {
      result = 0;
    } else {
      Int128 den = 1;
      for (int k = 0; k < down; ++k) den *= 10;
      Int128 q = mantissa / den;
      Int128 r = mantissa % den;
      Int128 twice = r * 2;
      if (twice > den || (twice == den && (dropped_nonzero || q % 2 != 0))) ++q;
      result = q;
    }
    if (result > kInt64Max) return std::nullopt;
  }
  return static_cast<int64_t>(negative ? -result : result);
}

int MinorDigits(std::string_view code) {
  static constexpr std::array<std::string_view, 16> kZero = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
      "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"};
  static constexpr std::array<std::string_view, 7> kThree = {"BHD", "IQD", "JOD", "KWD",
                                                             "LYD", "OMR", "TND"};
  for (auto c : kZero)
    if (c == code) return 0;
  for (auto c : kThree)
    if (c == code) return 3;
  return 2;
}

std::string FormatUnits(int64_t units, int digits) {
  if (digits < 0) digits = 0;
  if (digits > 4) digits = 4;
  int64_t scaled = DivRoundHalfEven(units, kPow10[4 - digits]);
  bool negative = scaled < 0;
  UInt128 mag = negative ? -static_cast<Int128>(scaled) : scaled;
  std::string digits_text;
  do {
    digits_text.insert(digits_text.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  while (static_cast<int>(digits_text.size()) <= digits) digits_text.insert(digits_text.begin(), '0');
  std::string out;
  if (negative) out.push_back('-');
  out.append(digits_text, 0, digits_text.size() - digits);
  if (digits > 0) {
    out.push_back('.');
    out.append(digits_text, digits_text.size() - digits);
  }
  return out;
}

}  // namespace aisle::dsl
