#pragma once
// Passes over an NDJSON file for the physical reference (parse_bench.cpp, simd_main.cpp): lines
// framed by the connector's LineReader, as `aisle replay` frames them, and timed.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/core/result.hpp"

namespace aisle::bench {

struct Pass {
  int64_t lines = 0;  // lines counted or parsed
  int64_t failed = 0;
  uint64_t bytes = 0;
  int64_t checksum = 0;  // keeps the work from being optimized away
};

// Runs `parse` on every non-blank line of the file; a line whose parse returns false counts as
// failed.
Result<Pass> EachLine(const std::string& path,
                      const std::function<bool(std::string_view, int64_t&)>& parse);

// Parses every line with simdjson On-Demand and reads every field's key and value as its own type.
// Compiled once with the project's flags (parse_bench.cpp) and once for this CPU's SIMD
// (simd_main.cpp): On-Demand's kernel is chosen when it is compiled, not when it runs.
Result<Pass> SimdjsonPass(const std::string& path);
// The On-Demand kernel SimdjsonPass was compiled with ("fallback", "westmere", "haswell", ...).
const char* SimdjsonKernel();

// Runs `run` `repeat` times and prints the fastest as a result line named `name` (with `extra`
// fields appended); false, with a message, when a pass fails or a line does not parse.
bool MeasurePass(const std::string& name, int repeat, const std::function<Result<Pass>()>& run,
                 const std::string& kernel = {});

}  // namespace aisle::bench
