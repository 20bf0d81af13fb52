#pragma once
// A canonical event (INTERFACES.md) in the engine's in-memory form: typed slots laid out by the
// stream's schema (dsl/schema.hpp), strings in one arena owned by the event. Copying an event is
// a flat copy; a reader reuses one Event and its arena's capacity, so parsing does not allocate
// once warm.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/schema.hpp"
#include "dsl/value.hpp"

namespace aisle::engine {

class Event {
 public:
  // Resets to an empty event of `kind`, keeping capacity.
  void Reset(dsl::StreamKind kind);

  dsl::StreamKind kind() const { return kind_; }
  const dsl::StreamSchema& schema() const { return dsl::Schema(kind_); }

  // The value in a slot; strings point into this event's arena (valid while it is unchanged).
  dsl::Value Get(int slot) const {
    dsl::Value v = slots_[static_cast<size_t>(slot)];
    if (v.type == dsl::Type::kString) v.s = arena_.data() + v.i;
    return v;
  }
  void Set(int slot, dsl::Value v) { slots_[static_cast<size_t>(slot)] = v; }
  void SetString(int slot, std::string_view text);

  std::string_view id() const { return Get(dsl::kSlotId).str(); }
  std::string_view store() const { return Get(dsl::kSlotStore).str(); }
  int64_t ts() const { return slots_[dsl::kSlotTs].i; }

  // Fields the schema does not name, kept as text (readable from rules with attr("name")).
  void AddExtra(std::string_view name, std::string_view text);
  size_t extra_count() const { return extras_.size(); }
  std::string_view extra_name(size_t i) const;
  std::string_view extra_text(size_t i) const;
  // Finds an extra field by name; false when absent.
  bool FindExtra(std::string_view name, std::string_view& text) const;

 private:
  struct Extra {
    uint32_t name_offset, name_size, text_offset, text_size;
  };
  uint32_t Append(std::string_view bytes);

  dsl::StreamKind kind_ = dsl::StreamKind::kSale;
  // kString slots hold an arena offset in `i` and the length in `size`.
  std::array<dsl::Value, dsl::kMaxSlots> slots_{};
  std::string arena_;
  std::vector<Extra> extras_;
};

}  // namespace aisle::engine
