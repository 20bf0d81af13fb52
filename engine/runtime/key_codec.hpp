#pragma once
// Group keys as bytes: each value as a type tag and a fixed or length-prefixed payload, so keys
// are prefix-free, compare bytewise, and decode back into values. Also the big-endian integer
// helpers of the state encoding: [operator fingerprint][partition key][big-endian window start].

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/value.hpp"

namespace aisle::engine {

// Appends the encoding of `v` to `out`.
void EncodeValue(const dsl::Value& v, std::string& out);
// Decodes values from `in` into `out` (strings point into `in`); false on malformed bytes.
bool DecodeValues(std::string_view in, std::vector<dsl::Value>& out);

void PutU64BE(std::string& out, uint64_t v);
uint64_t GetU64BE(const char* p);
// Signed instants sorted as unsigned: flip the sign bit.
inline void PutI64Ordered(std::string& out, int64_t v) {
  PutU64BE(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}
inline int64_t GetI64Ordered(const char* p) {
  return static_cast<int64_t>(GetU64BE(p) ^ (uint64_t{1} << 63));
}
void PutU32(std::string& out, uint32_t v);
uint32_t GetU32(const char* p);

}  // namespace aisle::engine
