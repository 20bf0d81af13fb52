#include "engine/core/event.hpp"

namespace aisle::engine {

void Event::Reset(dsl::StreamKind kind) {
  kind_ = kind;
  slots_.fill(dsl::Value());
  arena_.clear();
  extras_.clear();
}

uint32_t Event::Append(std::string_view bytes) {
  auto offset = static_cast<uint32_t>(arena_.size());
  arena_.append(bytes);
  return offset;
}

void Event::SetString(int slot, std::string_view text) {
  dsl::Value v;
  v.type = dsl::Type::kString;
  v.size = static_cast<uint32_t>(text.size());
  v.i = Append(text);
  slots_[static_cast<size_t>(slot)] = v;
}

void Event::AddExtra(std::string_view name, std::string_view text) {
  Extra e;
  e.name_size = static_cast<uint32_t>(name.size());
  e.name_offset = Append(name);
  e.text_size = static_cast<uint32_t>(text.size());
  e.text_offset = Append(text);
  extras_.push_back(e);
}

std::string_view Event::extra_name(size_t i) const {
  return {arena_.data() + extras_[i].name_offset, extras_[i].name_size};
}

std::string_view Event::extra_text(size_t i) const {
  return {arena_.data() + extras_[i].text_offset, extras_[i].text_size};
}

bool Event::FindExtra(std::string_view name, std::string_view& text) const {
  for (size_t i = 0; i < extras_.size(); ++i) {
    if (extra_name(i) == name) {
      text = extra_text(i);
      return true;
    }
  }
  return false;
}

}  // namespace aisle::engine
