// `aisle_bench_simd --file F [--repeat N]`: the simdjson On-Demand reference compiled for this
// CPU's SIMD (AVX2), beside aisle_bench's, which is compiled like the connector. A separate
// program, so that no code built for AVX2 can be linked into one that runs without it.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/bench/parse_pass.hpp"

int main(int argc, char** argv) {
  std::string file;
  int repeat = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--file") == 0)
      file = argv[i + 1];
    else if (std::strcmp(argv[i], "--repeat") == 0)
      repeat = std::atoi(argv[i + 1]);
  }
  if (file.empty()) {
    std::fputs("usage: aisle_bench_simd --file NDJSON [--repeat N]\n", stderr);
    return 2;
  }
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi") ||
      !__builtin_cpu_supports("pclmul")) {
    std::fputs("aisle_bench_simd: this CPU lacks AVX2; no native reference\n", stderr);
    return 3;
  }
  const auto run = [&] { return aisle::bench::SimdjsonPass(file); };
  return aisle::bench::MeasurePass("ref-simdjson-native", repeat, run,
                                   aisle::bench::SimdjsonKernel())
             ? 0
             : 1;
}
