#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "tests/bench/bench.hpp"

namespace aisle::bench {

namespace fs = std::filesystem;

std::string BenchFile(const std::string& name) {
  return (fs::path(AISLE_BENCH_DIR) / name).string();
}

ResultLine& ResultLine::Add(const std::string& key, const std::string& value) {
  fields_.emplace_back(key, value);
  return *this;
}
ResultLine& ResultLine::Add(const std::string& key, int64_t value) {
  return Add(key, std::to_string(value));
}
ResultLine& ResultLine::Add(const std::string& key, double value) {
  return Add(key, fmt::format("{:.6g}", value));
}

void ResultLine::Print() const {
  std::string line = "result";
  for (const auto& [key, value] : fields_) line += fmt::format("\t{}={}", key, value);
  line += '\n';
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

WorkDir::WorkDir(const std::string& parent) {
  std::error_code ec;
  fs::path base = parent.empty() ? fs::temp_directory_path(ec) : fs::path(parent);
  fs::create_directories(base, ec);
  std::string pattern = (base / "aisle-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

}  // namespace aisle::bench
