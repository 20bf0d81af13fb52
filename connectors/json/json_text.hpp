#pragma once
// Small helpers for reading JSON text with simdjson's On-Demand API, shared by the NDJSON event
// parser and JsonDocument: On-Demand leaves raw control characters and number tokens unchecked,
// so both check them here, and both word their errors the same way.

#include <cstddef>
#include <string>
#include <string_view>

namespace aisle::connectors::json {

bool IsJsonSpace(char c);
std::string_view TrimLeft(std::string_view s);   // JSON whitespace
std::string_view TrimRight(std::string_view s);

// The first byte below 0x20 other than JSON whitespace (\t \n \r), or npos.
size_t FindControlCharacter(std::string_view s);

// RFC 8259 number text: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s);

// Appends `s` for a one-line message: control characters escaped, text longer than `max` bytes
// cut at a UTF-8 character boundary with "...".
void AppendPrintable(std::string& out, std::string_view s, size_t max = 48);

// Appends `s` as a JSON string the way nlohmann_json's compact dump writes one: '"' and '\\'
// escaped, \b \f \n \r \t, other control characters as \u00xx, everything else as is; invalid
// UTF-8 becomes U+FFFD.
void AppendQuoted(std::string& out, std::string_view s);

// A short description of a simdjson::error_code (passed as its int value) for a message.
std::string_view DescribeSimdjsonError(int error);

}  // namespace aisle::connectors::json
