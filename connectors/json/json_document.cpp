#include "connectors/json/json_document.hpp"

#include <simdjson.h>

#include <cstdio>

#include "connectors/json/json_text.hpp"

namespace aisle::connectors::json {

namespace ondemand = simdjson::ondemand;

namespace {

constexpr int kMaxDepth = 64;

void AppendEscaped(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

// What a document owns: the padded input (numbers point into it), the parser (strings and keys
// point into its string buffer) and the nodes.
struct JsonDocument::Storage {
  simdjson::padded_string input;
  ondemand::parser parser;
  std::vector<JsonValue> nodes;
  std::vector<uint32_t> kid_index;  // while building: node index of each element or member
  std::vector<const JsonValue*> kids;
  std::vector<std::string_view> keys;  // parallel to kids ("" for array elements)
  std::vector<uint32_t> begin;         // per node: its first entry in kids
  const char* base = nullptr;
  size_t length = 0;
  std::string error;

  bool Fail(simdjson::error_code code, ondemand::document* doc) {
    error = "invalid JSON: ";
    error += DescribeSimdjsonError(static_cast<int>(code));
    const char* location = nullptr;
    if (doc != nullptr && code != simdjson::INCOMPLETE_ARRAY_OR_OBJECT && !doc->current_location().get(location) &&
        location >= base && location <= base + length) {
      error += " near byte " + std::to_string(location - base + 1);
    }
    return false;
  }

  uint32_t NewNode(JsonValue::Type type) {
    nodes.emplace_back();
    nodes.back().type_ = type;
    begin.push_back(0);
    return static_cast<uint32_t>(nodes.size() - 1);
  }

  static bool RawToken(ondemand::value& v, std::string_view& out) {
    out = TrimRight(v.raw_json_token());
    return true;
  }
  static bool RawToken(ondemand::document& d, std::string_view& out) {
    if (d.raw_json_token().get(out)) return false;
    out = TrimRight(TrimLeft(out));
    return true;
  }

  // A scalar from a value or from a document whose root is a scalar. `token` is its text up to
  // the next structural character: On-Demand checks only a literal's first letters ("nulln"
  // would pass), so literals are compared whole here.
  template <typename V>
  bool Scalar(V& v, ondemand::json_type type, uint32_t& out, ondemand::document& doc) {
    std::string_view token;
    if (!RawToken(v, token)) return Fail(simdjson::TAPE_ERROR, &doc);
    if ((type == ondemand::json_type::boolean && token != "true" && token != "false") ||
        (type == ondemand::json_type::null && token != "null")) {
      error = "invalid JSON: invalid literal ";
      AppendPrintable(error, token);
      error += " (true, false or null expected)";
      return false;
    }
    switch (type) {
      case ondemand::json_type::string: {
        std::string_view text;
        if (auto e = v.get_string().get(text)) return Fail(e, &doc);
        out = NewNode(JsonValue::Type::kString);
        nodes[out].text_ = text;
        return true;
      }
      case ondemand::json_type::number: {
        const std::string_view raw = token;
        if (!IsJsonNumber(raw)) {
          error = "invalid JSON: malformed number ";
          AppendPrintable(error, raw);
          return false;
        }
        out = NewNode(JsonValue::Type::kNumber);
        nodes[out].text_ = raw;
        return true;
      }
      // The token was checked whole above; simdjson's own literal checks refuse a root "null "
      // with trailing whitespace.
      case ondemand::json_type::boolean: {
        out = NewNode(JsonValue::Type::kBool);
        nodes[out].flag_ = token == "true";
        return true;
      }
      case ondemand::json_type::null: {
        out = NewNode(JsonValue::Type::kNull);
        return true;
      }
      default:
        return Fail(simdjson::TAPE_ERROR, &doc);
    }
  }

  bool Walk(ondemand::value& value, int depth, uint32_t& out, ondemand::document& doc) {
    if (depth > kMaxDepth) {
      error = "invalid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    ondemand::json_type type;
    if (auto e = value.type().get(type)) return Fail(e, &doc);
    if (type == ondemand::json_type::object) {
      ondemand::object object;
      if (auto e = value.get_object().get(object)) return Fail(e, &doc);
      std::vector<std::pair<std::string_view, uint32_t>> members;
      for (auto member : object) {
        ondemand::field field;
        if (auto e = std::move(member).get(field)) return Fail(e, &doc);
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return Fail(e, &doc);
        uint32_t child = 0;
        if (!Walk(field.value(), depth + 1, child, doc)) return false;
        members.emplace_back(key, child);
      }
      out = NewNode(JsonValue::Type::kObject);
      begin[out] = static_cast<uint32_t>(kid_index.size());
      nodes[out].count_ = static_cast<uint32_t>(members.size());
      for (const auto& [key, child] : members) {
        keys.push_back(key);
        kid_index.push_back(child);
      }
      return true;
    }
    if (type == ondemand::json_type::array) {
      ondemand::array array;
      if (auto e = value.get_array().get(array)) return Fail(e, &doc);
      std::vector<uint32_t> elements;
      for (auto element : array) {
        ondemand::value child_value;
        if (auto e = std::move(element).get(child_value)) return Fail(e, &doc);
        uint32_t child = 0;
        if (!Walk(child_value, depth + 1, child, doc)) return false;
        elements.push_back(child);
      }
      out = NewNode(JsonValue::Type::kArray);
      begin[out] = static_cast<uint32_t>(kid_index.size());
      nodes[out].count_ = static_cast<uint32_t>(elements.size());
      for (uint32_t child : elements) {
        keys.emplace_back();
        kid_index.push_back(child);
      }
      return true;
    }
    return Scalar(value, type, out, doc);
  }

  // Points every container at its children, once no vector grows any more.
  void Link() {
    kids.resize(kid_index.size());
    for (size_t i = 0; i < kid_index.size(); ++i) kids[i] = &nodes[kid_index[i]];
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (nodes[n].count_ == 0) continue;
      nodes[n].kids_ = kids.data() + begin[n];
      nodes[n].keys_ = keys.data() + begin[n];
    }
    kid_index = {};
    begin = {};
  }
};

const JsonValue* JsonValue::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (size_t i = count_; i-- > 0;) {
    if (keys_[i] == key) return kids_[i];
  }
  return nullptr;
}

const JsonValue& JsonValue::EmptyArray() {
  static const JsonValue empty = [] {
    JsonValue v;
    v.type_ = Type::kArray;
    return v;
  }();
  return empty;
}

void JsonValue::Dump(std::string& out, size_t max) const {
  if (out.size() > max) return;
  switch (type_) {
    case Type::kNull: out += "null"; return;
    case Type::kBool: out += flag_ ? "true" : "false"; return;
    // As before this document type, a number is shown as the text it keeps.
    case Type::kNumber:
    case Type::kString: AppendEscaped(out, text_); return;
    case Type::kArray:
    case Type::kObject: {
      const bool object = type_ == Type::kObject;
      out += object ? '{' : '[';
      for (size_t i = 0; i < count_ && out.size() <= max; ++i) {
        if (i > 0) out += ',';
        if (object) {
          AppendEscaped(out, keys_[i]);
          out += ':';
        }
        kids_[i]->Dump(out, max);
      }
      out += object ? '}' : ']';
      return;
    }
  }
}

std::string JsonValue::Excerpt(size_t max) const {
  std::string text;
  Dump(text, max);
  if (text.size() > max) {
    size_t end = max > 3 ? max - 3 : 0;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end) + "...";
  }
  return text;
}

JsonDocument::JsonDocument() : storage_(std::make_unique<Storage>()) {}
JsonDocument::JsonDocument(JsonDocument&&) noexcept = default;
JsonDocument& JsonDocument::operator=(JsonDocument&&) noexcept = default;
JsonDocument::~JsonDocument() = default;

Result<JsonDocument> JsonDocument::Parse(std::string_view text) {
  try {
    // A UTF-8 byte order mark is not JSON, but RFC 8259 lets a parser ignore one.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    if (const size_t at = FindControlCharacter(text); at != std::string_view::npos) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "invalid JSON: control character 0x%02x at byte %zu",
                    static_cast<unsigned char>(text[at]), at + 1);
      return Error{buf};
    }
    if (TrimLeft(text).empty()) return Error{"invalid JSON: empty body"};
    JsonDocument document;
    Storage& s = *document.storage_;
    s.input = simdjson::padded_string(text);
    s.base = s.input.data();
    s.length = text.size();
    s.nodes.reserve(text.size() / 16 + 4);
    ondemand::document doc;
    if (auto e = s.parser.iterate(s.input).get(doc)) {
      s.Fail(e, nullptr);
      return Error{s.error};
    }
    ondemand::json_type type;
    if (auto e = doc.type().get(type)) {
      s.Fail(e, &doc);
      return Error{s.error};
    }
    uint32_t root = 0;
    bool ok = false;
    std::string_view scalar_token;
    if (type == ondemand::json_type::object || type == ondemand::json_type::array) {
      ondemand::value value;
      if (auto e = doc.get_value().get(value)) {
        s.Fail(e, &doc);
        return Error{s.error};
      }
      ok = s.Walk(value, 1, root, doc);
    } else {
      if (!Storage::RawToken(doc, scalar_token)) return Error{"invalid JSON: unexpected value"};
      ok = s.Scalar(doc, type, root, doc);
    }
    if (!ok) return Error{s.error};
    // current_location() is OUT_OF_BOUNDS exactly when the last token has been read. A scalar
    // alone must be the whole text (reading a number does not move past it).
    const char* location = nullptr;
    if (type != ondemand::json_type::object && type != ondemand::json_type::array) {
      if (scalar_token != TrimRight(TrimLeft(text))) return Error{"invalid JSON: trailing content after the value"};
    } else if (auto e = doc.current_location().get(location); e != simdjson::OUT_OF_BOUNDS) {
      std::string message = "invalid JSON: trailing content after the value";
      if (!e && location >= s.base && location <= s.base + s.length) {
        message += ": ";
        AppendPrintable(message, TrimRight(std::string_view(location, static_cast<size_t>(s.base + s.length - location))));
      }
      return Error{message};
    }
    s.Link();
    document.root_ = &s.nodes[root];
    return document;
  } catch (const std::exception& e) {
    return Error{std::string("invalid JSON: ") + e.what()};
  }
}

}  // namespace aisle::connectors::json
