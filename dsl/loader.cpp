#include "dsl/loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dsl/parser.hpp"

namespace aisle::dsl {

namespace fs = std::filesystem;

namespace {

bool ReadFile(const fs::path& path, std::string& out) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return static_cast<bool>(in) || in.eof();
}

class Loader {
 public:
  Loader(RuleSet& set, Diagnostics& diagnostics, std::vector<std::string>& errors)
      : set_(set), diags_(diagnostics), errors_(errors) {}

  // Loads a file (once), then its imports depth first. `stack` holds the chain of importers.
  void Load(const fs::path& path, std::vector<fs::path>& stack, const Span* imported_at) {
    const fs::path canonical = fs::weakly_canonical(path);
    if (auto it = loaded_.find(canonical); it != loaded_.end()) {
      if (std::find(stack.begin(), stack.end(), canonical) != stack.end() && imported_at) {
        std::string cycle;
        auto from = std::find(stack.begin(), stack.end(), canonical);
        for (auto p = from; p != stack.end(); ++p) cycle += Display(*p) + " -> ";
        cycle += Display(canonical);
        diags_.Error("E031", *imported_at, "import cycle: " + cycle);
      }
      return;
    }
    std::string text;
    if (!ReadFile(canonical, text)) {
      if (imported_at) {
        diags_.Error("E030", *imported_at, "cannot read imported file '" + Display(canonical) + "'");
      } else {
        errors_.push_back("cannot read '" + path.string() + "'");
      }
      return;
    }
    SourceId id = set_.sources.Add(Display(canonical), std::move(text));
    loaded_[canonical] = id;
    set_.modules.push_back(Parse(set_.sources, id, diags_));
    stack.push_back(canonical);
    // Copy: the modules vector may grow while we recurse.
    std::vector<ast::Import> imports = set_.modules[id].imports;
    for (const ast::Import& import : imports) {
      fs::path target = fs::weakly_canonical(canonical.parent_path() / import.path);
      if (!Inside(target)) {
        diags_.Error("E030", import.span,
                     "import '" + import.path + "' leaves the rules folder '" + root_.string() + "'");
        continue;
      }
      Load(target, stack, &import.span);
    }
    stack.pop_back();
  }

  void SetRoot(const fs::path& root) { root_ = fs::weakly_canonical(root); }

 private:
  bool Inside(const fs::path& p) const {
    auto rel = p.lexically_relative(root_);
    return !rel.empty() && *rel.begin() != "..";
  }
  // Paths are shown relative to the current folder when below it, as users typed them.
  static std::string Display(const fs::path& p) {
    std::error_code ec;
    fs::path cwd = fs::current_path(ec);
    if (!ec) {
      fs::path rel = p.lexically_relative(cwd);
      if (!rel.empty() && *rel.begin() != "..") return rel.string();
    }
    return p.string();
  }

  RuleSet& set_;
  Diagnostics& diags_;
  std::vector<std::string>& errors_;
  std::map<fs::path, SourceId> loaded_;
  fs::path root_;
};

}  // namespace

RuleSet LoadRuleSet(const std::vector<std::string>& paths, Diagnostics& diagnostics,
                    std::vector<std::string>& errors) {
  RuleSet set;
  Loader loader(set, diagnostics, errors);
  // The root is the first folder named, or the folder of the first file.
  std::vector<fs::path> files;
  fs::path root;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      if (root.empty()) root = p;
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".aisle") found.push_back(it->path());
      }
      if (ec) errors.push_back("cannot list '" + p + "': " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      if (root.empty()) root = fs::path(p).parent_path().empty() ? "." : fs::path(p).parent_path();
      files.emplace_back(p);
    } else {
      errors.push_back("no such file or folder: '" + p + "'");
    }
  }
  if (root.empty()) root = ".";
  set.root = fs::weakly_canonical(root).string();
  loader.SetRoot(root);
  for (const fs::path& f : files) {
    std::vector<fs::path> stack;
    loader.Load(f, stack, nullptr);
  }
  return set;
}

RuleSet LoadRuleText(std::string path, std::string text, Diagnostics& diagnostics) {
  RuleSet set;
  SourceId id = set.sources.Add(std::move(path), std::move(text));
  set.modules.push_back(Parse(set.sources, id, diagnostics));
  set.root = ".";
  return set;
}

}  // namespace aisle::dsl
