#include "engine/runtime/key_codec.hpp"

#include <cstring>

namespace aisle::engine {

using dsl::Type;
using dsl::Value;

void PutU64BE(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 8);
}

uint64_t GetU64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutU32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 3; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 4);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void EncodeValue(const Value& v, std::string& out) {
  out.push_back(static_cast<char>(v.type));
  switch (v.type) {
    case Type::kNull:
    case Type::kAny:
      break;
    case Type::kBool:
      out.push_back(v.b ? 1 : 0);
      break;
    case Type::kInt:
    case Type::kTimestamp:
    case Type::kDuration:
      PutI64Ordered(out, v.i);
      break;
    case Type::kMoney:
      PutU32(out, v.currency);
      PutI64Ordered(out, v.i);
      break;
    case Type::kDecimal:
    case Type::kPercent: {
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      PutU64BE(out, bits);
      break;
    }
    case Type::kString:
      PutU32(out, v.size);
      out.append(v.s, v.size);
      break;
  }
}

bool DecodeValues(std::string_view in, std::vector<Value>& out) {
  size_t pos = 0;
  auto need = [&](size_t n) { return pos + n <= in.size(); };
  while (pos < in.size()) {
    auto type = static_cast<Type>(in[pos++]);
    Value v;
    v.type = type;
    switch (type) {
      case Type::kNull:
        break;
      case Type::kBool:
        if (!need(1)) return false;
        v.b = in[pos++] != 0;
        break;
      case Type::kInt:
      case Type::kTimestamp:
      case Type::kDuration:
        if (!need(8)) return false;
        v.i = GetI64Ordered(in.data() + pos);
        pos += 8;
        break;
      case Type::kMoney:
        if (!need(12)) return false;
        v.currency = GetU32(in.data() + pos);
        v.i = GetI64Ordered(in.data() + pos + 4);
        pos += 12;
        break;
      case Type::kDecimal:
      case Type::kPercent: {
        if (!need(8)) return false;
        uint64_t bits = GetU64BE(in.data() + pos);
        std::memcpy(&v.d, &bits, 8);
        pos += 8;
        break;
      }
      case Type::kString: {
        if (!need(4)) return false;
        uint32_t n = GetU32(in.data() + pos);
        pos += 4;
        if (!need(n)) return false;
        v.s = in.data() + pos;
        v.size = n;
        pos += n;
        break;
      }
      default:
        return false;
    }
    out.push_back(v);
  }
  return true;
}

}  // namespace aisle::engine
