#pragma once
// Paths as the loader shows them in diagnostics: relative to the current folder when below it
// (dsl/loader.cpp), so tests can predict the rendered text.

#include <filesystem>
#include <string>

namespace aisle::testing {

inline std::string Shown(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (!ec) {
    const std::filesystem::path rel = path.lexically_relative(cwd);
    if (!rel.empty() && *rel.begin() != ".." && rel != ".") return rel.string();
  }
  return path.string();
}

}  // namespace aisle::testing
