#include "tests/bench/parse_pass.hpp"

#include <algorithm>
#include <cstdio>

#include "connectors/ndjson/line_reader.hpp"
#include "tests/bench/bench.hpp"

namespace aisle::bench {

Result<Pass> EachLine(const std::string& path,
                      const std::function<bool(std::string_view, int64_t&)>& parse) {
  auto reader = connectors::LineReader::Open(path);
  if (!reader) return reader.error();
  Pass pass;
  std::string_view line;
  while (reader->Next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (parse(line, pass.checksum))
      ++pass.lines;
    else
      ++pass.failed;
  }
  if (!reader->status().ok()) return Error{reader->status().message()};
  pass.bytes = reader->offset();
  return pass;
}

bool MeasurePass(const std::string& name, int repeat, const std::function<Result<Pass>()>& run,
                 const std::string& kernel) {
  double best = 0;
  Pass pass;
  for (int i = 0; i < std::max(repeat, 1); ++i) {
    const double started = NowSeconds();
    auto result = run();
    const double seconds = NowSeconds() - started;
    if (!result) {
      std::fprintf(stderr, "error: %s\n", result.error().message.c_str());
      return false;
    }
    if (i == 0 || seconds < best) best = seconds;
    pass = *result;
  }
  ResultLine line(name);
  line.Add("events", pass.lines)
      .Add("bytes", static_cast<int64_t>(pass.bytes))
      .Add("seconds", best)
      .Add("failed", pass.failed)
      .Add("checksum", pass.checksum);
  if (!kernel.empty()) line.Add("kernel", kernel);
  line.Print();
  std::fprintf(stderr, "%s: %lld lines, %.1f MB in %.3f s (%.0f lines/s, %.0f MB/s)\n",
               name.c_str(), static_cast<long long>(pass.lines),
               static_cast<double>(pass.bytes) / 1e6, best, static_cast<double>(pass.lines) / best,
               static_cast<double>(pass.bytes) / 1e6 / best);
  if (pass.failed > 0)
    std::fprintf(stderr, "error: %s: %lld lines did not parse\n", name.c_str(),
                 static_cast<long long>(pass.failed));
  return pass.failed == 0;
}

}  // namespace aisle::bench
