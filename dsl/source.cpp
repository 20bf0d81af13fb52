#include "dsl/source.hpp"

#include <algorithm>

namespace aisle::dsl {

SourceId SourceManager::Add(std::string path, std::string text) {
  auto file = std::make_unique<File>();
  file->path = std::move(path);
  file->text = std::move(text);
  file->line_starts.push_back(0);
  for (uint32_t i = 0; i < file->text.size(); ++i)
    if (file->text[i] == '\n') file->line_starts.push_back(i + 1);
  files_.push_back(std::move(file));
  return static_cast<SourceId>(files_.size() - 1);
}

LineCol SourceManager::Locate(SourceId id, uint32_t offset) const {
  const File& f = *files_[id];
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(f.text.size()));
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  auto line = static_cast<uint32_t>(it - f.line_starts.begin());
  uint32_t start = f.line_starts[line - 1];
  uint32_t column = 1;
  for (uint32_t i = start; i < offset; ++i) {
    // Count code points: skip UTF-8 continuation bytes.
    if ((static_cast<unsigned char>(f.text[i]) & 0xC0) != 0x80) ++column;
  }
  return {line, column};
}

std::string_view SourceManager::Line(SourceId id, uint32_t line) const {
  const File& f = *files_[id];
  if (line == 0 || line > f.line_starts.size()) return {};
  uint32_t start = f.line_starts[line - 1];
  uint32_t end = line < f.line_starts.size() ? f.line_starts[line] - 1
                                              : static_cast<uint32_t>(f.text.size());
  std::string_view text(f.text);
  std::string_view out = text.substr(start, end - start);
  if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
  return out;
}

std::string_view SourceManager::Slice(Span span) const {
  std::string_view t = text(span.source);
  if (span.begin > t.size()) return {};
  return t.substr(span.begin, std::min<size_t>(span.end, t.size()) - span.begin);
}

}  // namespace aisle::dsl
