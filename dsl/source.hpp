#pragma once
// Source files and spans. A Span is a pair of byte offsets into one source that the SourceManager
// owns; line and column are computed only when a diagnostic is printed.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aisle::dsl {

using SourceId = uint32_t;

struct Span {
  SourceId source = 0;
  uint32_t begin = 0;  // byte offset
  uint32_t end = 0;    // byte offset, exclusive
};

struct LineCol {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in Unicode code points
};

// Owns the text of every file of a rule set. Ids are stable; text never moves once added.
class SourceManager {
 public:
  SourceId Add(std::string path, std::string text);
  const std::string& path(SourceId id) const { return files_[id]->path; }
  std::string_view text(SourceId id) const { return files_[id]->text; }
  size_t size() const { return files_.size(); }

  LineCol Locate(SourceId id, uint32_t offset) const;
  // The text of the 1-based line, without its newline.
  std::string_view Line(SourceId id, uint32_t line) const;
  std::string_view Slice(Span span) const;

 private:
  struct File {
    std::string path;
    std::string text;
    std::vector<uint32_t> line_starts;
  };
  std::vector<std::unique_ptr<File>> files_;
};

}  // namespace aisle::dsl
