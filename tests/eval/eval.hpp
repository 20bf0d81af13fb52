#pragma once
// Shared by the evaluation programs: one way to print a row of `make eval`'s table.
//
// A row is an operator, the figure measured, Aisle's value, the reference's value and where the
// reference comes from. scripts/eval.sh prints the header and collects the rows of every program.

#include <cstdio>
#include <string_view>

namespace aisle::eval {

inline void PrintRow(std::string_view op, std::string_view figure, std::string_view aisle,
                     std::string_view reference, std::string_view source) {
  std::printf("| %.*s | %.*s | %.*s | %.*s | %.*s |\n", static_cast<int>(op.size()), op.data(),
              static_cast<int>(figure.size()), figure.data(), static_cast<int>(aisle.size()),
              aisle.data(), static_cast<int>(reference.size()), reference.data(),
              static_cast<int>(source.size()), source.data());
  std::fflush(stdout);
}

}  // namespace aisle::eval
