#pragma once
// The error for a failed system call on a file: "'PATH': WHAT: strerror".

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "engine/core/result.hpp"

namespace aisle::connectors {

inline Error SystemError(const std::string& path, std::string_view what, int error) {
  std::string message = "'" + path + "': ";
  message += what;
  message += ": ";
  message += std::error_code(error, std::generic_category()).message();
  return Error{std::move(message)};
}

}  // namespace aisle::connectors
