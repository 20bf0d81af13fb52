// `aisle fmt FILES|DIRS [--check]`: rewrites rule files in the canonical layout, or with --check
// lists the files that would change and exits 1. A file with syntax errors is reported, not touched.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsl/diagnostic.hpp"
#include "dsl/formatter.hpp"
#include "dsl/parser.hpp"
#include "engine/cli/commands.hpp"

namespace aisle::cli {

namespace fs = std::filesystem;

int RunFmt(const FmtArgs& args) {
  std::vector<fs::path> files;
  for (const std::string& p : args.paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".aisle") files.push_back(it->path());
    } else if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else {
      std::fprintf(stderr, "error: no such file or folder: '%s'\n", p.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  int unformatted = 0, broken = 0;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    dsl::SourceManager sources;
    dsl::Diagnostics diagnostics;
    dsl::SourceId id = sources.Add(file.string(), text);
    dsl::Parse(sources, id, diagnostics);
    if (diagnostics.has_errors()) {
      for (const auto& d : diagnostics.Sorted()) std::fputs(dsl::Render(sources, d).c_str(), stderr);
      ++broken;
      continue;
    }
    const std::string formatted = dsl::Format(text);
    if (formatted == text) continue;
    ++unformatted;
    if (args.check) {
      std::printf("would reformat %s\n", file.string().c_str());
      continue;
    }
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << formatted;
    if (!out) {
      std::fprintf(stderr, "error: cannot write '%s'\n", file.string().c_str());
      return 2;
    }
    std::printf("formatted %s\n", file.string().c_str());
  }
  if (broken > 0) return 1;
  return args.check && unformatted > 0 ? 1 : 0;
}

}  // namespace aisle::cli
