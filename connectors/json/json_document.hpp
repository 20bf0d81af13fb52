#pragma once
// A parsed, read-only JSON document for the webhook normalizers: simdjson (On-Demand) walks the
// text once into a flat array of nodes, and a number keeps its exact JSON text ("14.85",
// "5834451239105"), so ids and money never pass through a double.
//
// Why not nlohmann_json here: a 5 KB Shopify order took about 85 us to parse into nlohmann's
// tree of maps (a node allocation per member), over a third of a delivery's CPU under load. The
// walk below allocates a few arrays per document.
//
// Parsing checks the whole text (structure, UTF-8, escapes, number syntax, raw control
// characters, trailing content) and refuses nesting deeper than 64 levels. Duplicate keys: the
// last one wins, as in nlohmann_json. Values are views into the document; they live as long as it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.hpp"

namespace aisle::connectors::json {

class JsonValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_text() const { return type_ == Type::kString || type_ == Type::kNumber; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool boolean() const { return flag_; }
  // A string unescaped, or a number's JSON text; empty for other types.
  std::string_view text() const { return text_; }

  // Elements of an array, members of an object (0 for scalars).
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const JsonValue& operator[](size_t i) const { return *kids_[i]; }
  // Iterates an array's elements (an object's member values).
  class Iterator {
   public:
    explicit Iterator(const JsonValue* const* at) : at_(at) {}
    const JsonValue& operator*() const { return **at_; }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const JsonValue* const* at_;
  };
  Iterator begin() const { return Iterator(kids_); }
  Iterator end() const { return Iterator(kids_ + count_); }
  // The key of member i of an object.
  std::string_view key(size_t i) const { return keys_[i]; }
  // An object's member (the last one with that key), or nullptr (also for non-objects).
  const JsonValue* find(std::string_view key) const;

  // Compact JSON text of the value, cut to about `max` bytes with "..." (for messages). Numbers
  // are written as their text.
  std::string Excerpt(size_t max = 48) const;

  // An empty array that outlives every document.
  static const JsonValue& EmptyArray();

 private:
  friend class JsonDocument;
  void Dump(std::string& out, size_t max) const;

  Type type_ = Type::kNull;
  bool flag_ = false;
  uint32_t count_ = 0;
  std::string_view text_;
  const JsonValue* const* kids_ = nullptr;
  const std::string_view* keys_ = nullptr;
};

class JsonDocument {
 public:
  // Parses `text`; the Error reads "invalid JSON: <why>" (with " near byte N" when known).
  static Result<JsonDocument> Parse(std::string_view text);

  JsonDocument(JsonDocument&&) noexcept;
  JsonDocument& operator=(JsonDocument&&) noexcept;
  ~JsonDocument();

  const JsonValue& root() const { return *root_; }
  const JsonValue& operator*() const { return *root_; }
  const JsonValue* operator->() const { return root_; }

 private:
  struct Storage;
  JsonDocument();
  std::unique_ptr<Storage> storage_;
  const JsonValue* root_ = nullptr;
};

}  // namespace aisle::connectors::json
