#pragma once
// Exact decimal arithmetic for money and decimal text: parsing without doubles, half-even rounding.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aisle::dsl {

// 128-bit integers for exact intermediate products (a GCC/Clang extension).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// Parses a decimal number ("58.00", "-3.3", "1e2", "0.00005") into units of 10^-scale_digits,
// exactly from its text; digits past the scale round half to even. nullopt on malformed text or
// overflow of int64.
std::optional<int64_t> ParseScaled(std::string_view text, int scale_digits);

// Money text to 1/10,000 units.
inline std::optional<int64_t> ParseMoneyUnits(std::string_view text) { return ParseScaled(text, 4); }

// Divides with rounding half to even (den != 0).
int64_t DivRoundHalfEven(Int128 num, Int128 den);

// The digits after the point a currency shows by default (2 for USD, 0 for JPY, 3 for KWD).
int MinorDigits(std::string_view currency_code);

// Formats 1/10,000 units with `digits` decimals (0..4), rounding half to even: 580000 -> "58.00".
std::string FormatUnits(int64_t units, int digits);

}  // namespace aisle::dsl
