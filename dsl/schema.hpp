#pragma once
// The canonical event streams (INTERFACES.md) as the language sees them: stream names, fields,
// types and the slot each field occupies in an event. One place in the code.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dsl/value.hpp"

namespace aisle::dsl {

enum class StreamKind : uint8_t { kSale, kLineItem, kRefund, kInventory, kShift, kTraffic };
inline constexpr int kStreamKindCount = 6;

struct FieldDef {
  std::string_view name;
  Type type;
};

struct StreamSchema {
  StreamKind kind;
  std::string_view name;
  std::span<const FieldDef> fields;  // slot i holds fields[i]

  // The slot of a field, or nullopt.
  std::optional<int> Slot(std::string_view field) const;
  bool CarriesMoney() const;
};

// Slots shared by every stream.
inline constexpr int kSlotId = 0;
inline constexpr int kSlotStore = 1;
inline constexpr int kSlotTs = 2;
inline constexpr int kSlotSource = 3;
inline constexpr int kSlotCurrency = 4;
inline constexpr int kMaxSlots = 16;

const StreamSchema& Schema(StreamKind kind);
const StreamSchema* FindStream(std::string_view name);
std::span<const StreamSchema> AllStreams();

}  // namespace aisle::dsl
