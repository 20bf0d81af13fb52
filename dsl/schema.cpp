#include "dsl/schema.hpp"

#include <array>

namespace aisle::dsl {

namespace {
#define AISLE_COMMON_FIELDS                                                          \
  FieldDef{"id", Type::kString}, FieldDef{"store", Type::kString},                   \
      FieldDef{"ts", Type::kTimestamp}, FieldDef{"source", Type::kString},           \
      FieldDef { "currency", Type::kString }

constexpr std::array kSaleFields = {
    AISLE_COMMON_FIELDS,          FieldDef{"order", Type::kString},
    FieldDef{"total", Type::kMoney},    FieldDef{"subtotal", Type::kMoney},
    FieldDef{"discount", Type::kMoney}, FieldDef{"tax", Type::kMoney},
    FieldDef{"tender", Type::kString},  FieldDef{"staff", Type::kString},
    FieldDef{"customer", Type::kString}, FieldDef{"channel", Type::kString},
    FieldDef{"status", Type::kString},  FieldDef{"units", Type::kInt},
};
constexpr std::array kLineItemFields = {
    AISLE_COMMON_FIELDS,           FieldDef{"order", Type::kString},
    FieldDef{"line", Type::kInt},        FieldDef{"sku", Type::kString},
    FieldDef{"product", Type::kString},  FieldDef{"qty", Type::kDecimal},
    FieldDef{"price", Type::kMoney},     FieldDef{"discount", Type::kMoney},
    FieldDef{"tax", Type::kMoney},       FieldDef{"staff", Type::kString},
};
constexpr std::array kRefundFields = {
    AISLE_COMMON_FIELDS,          FieldDef{"order", Type::kString},
    FieldDef{"refund", Type::kString},  FieldDef{"amount", Type::kMoney},
    FieldDef{"tax", Type::kMoney},      FieldDef{"reason", Type::kString},
    FieldDef{"staff", Type::kString},   FieldDef{"sku", Type::kString},
    FieldDef{"qty", Type::kDecimal},    FieldDef{"restock", Type::kBool},
};
constexpr std::array kInventoryFields = {
    AISLE_COMMON_FIELDS,         FieldDef{"sku", Type::kString},
    FieldDef{"on_hand", Type::kDecimal}, FieldDef{"delta", Type::kDecimal},
    FieldDef{"reason", Type::kString},
};
constexpr std::array kShiftFields = {
    AISLE_COMMON_FIELDS,        FieldDef{"staff", Type::kString},
    FieldDef{"action", Type::kString}, FieldDef{"shift", Type::kString},
    FieldDef{"role", Type::kString},   FieldDef{"wage", Type::kMoney},
};
constexpr std::array kTrafficFields = {
    AISLE_COMMON_FIELDS,           FieldDef{"zone", Type::kString},
    FieldDef{"start", Type::kTimestamp}, FieldDef{"end", Type::kTimestamp},
    FieldDef{"entries", Type::kInt},     FieldDef{"exits", Type::kInt},
    FieldDef{"offline", Type::kBool},
};
#undef AISLE_COMMON_FIELDS

static_assert(kSaleFields.size() <= kMaxSlots && kLineItemFields.size() <= kMaxSlots &&
              kRefundFields.size() <= kMaxSlots);

const std::array<StreamSchema, kStreamKindCount> kStreams = {{
    {StreamKind::kSale, "sale", kSaleFields},
    {StreamKind::kLineItem, "line_item", kLineItemFields},
    {StreamKind::kRefund, "refund", kRefundFields},
    {StreamKind::kInventory, "inventory", kInventoryFields},
    {StreamKind::kShift, "shift", kShiftFields},
    {StreamKind::kTraffic, "traffic", kTrafficFields},
}};
}  // namespace

std::optional<int> StreamSchema::Slot(std::string_view field) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field) return static_cast<int>(i);
  return std::nullopt;
}

bool StreamSchema::CarriesMoney() const {
  for (const auto& f : fields)
    if (f.type == Type::kMoney) return true;
  return false;
}

const StreamSchema& Schema(StreamKind kind) { return kStreams[static_cast<size_t>(kind)]; }

const StreamSchema* FindStream(std::string_view name) {
  for (const auto& s : kStreams)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const StreamSchema> AllStreams() { return kStreams; }

}  // namespace aisle::dsl
