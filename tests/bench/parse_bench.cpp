// The physical reference on an NDJSON file, each pass from the page cache: reading it in large
// blocks and counting its lines; parsing every line with simdjson On-Demand and reading every
// field (compiled like the connector; aisle_bench_simd has the same for this CPU's SIMD); and
// parsing every line into an engine::Event with the connector's EventParser, framed by the same
// LineReader that `aisle replay` uses.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "connectors/ndjson/event_parser.hpp"
#include "tests/bench/bench.hpp"
#include "tests/bench/parse_pass.hpp"

namespace aisle::bench {

namespace {

Result<Pass> ReadOnly(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open '" + path + "': " + std::strerror(errno)};
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const size_t block = size_t{4} << 20;
  std::unique_ptr<char[]> buffer(new char[block]);
  Pass pass;
  char last = '\n';
  for (;;) {
    const ssize_t n = ::read(fd, buffer.get(), block);
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return Error{"cannot read '" + path + "': " + std::strerror(error)};
    }
    if (n == 0) break;
    const char* p = buffer.get();
    const char* end = p + n;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) !=
           nullptr) {
      ++pass.lines;
      ++p;
    }
    last = buffer[static_cast<size_t>(n) - 1];
    pass.bytes += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (last != '\n') ++pass.lines;
  return pass;
}

Result<Pass> Events(const std::string& path) {
  connectors::EventParser parser;
  engine::Event event;
  std::string reason;
  return EachLine(path, [&](std::string_view line, int64_t& checksum) {
    if (!parser.Parse(line, event, reason)) return false;
    checksum += event.ts();
    return true;
  });
}

}  // namespace

int RunParse(const ParseArgs& args) {
  // A first read brings the file into the page cache, so that every pass reads from memory.
  if (auto warm = ReadOnly(args.file); !warm) {
    std::fprintf(stderr, "error: %s\n", warm.error().message.c_str());
    return 2;
  }
  const bool ok =
      MeasurePass("ref-read", args.repeat, [&] { return ReadOnly(args.file); }) &&
      MeasurePass(
          "ref-simdjson", args.repeat, [&] { return SimdjsonPass(args.file); }, SimdjsonKernel()) &&
      MeasurePass("ref-eventparser", args.repeat, [&] { return Events(args.file); });
  return ok ? 0 : 1;
}

}  // namespace aisle::bench
