#pragma once
// Secrets in config files: a reference, never the value. {"env": "NAME"} reads an environment
// variable; {"file": "PATH"} reads a file (relative to the config's folder; one trailing newline
// trimmed). Used by `aisle serve`'s config and by the sinks that carry credentials.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/core/result.hpp"

namespace aisle::connectors {

// Resolves `ref`. `where` names the setting in error messages, which never contain the secret.
// `env` replaces the process environment when set (tests).
Result<std::string> ResolveSecret(const nlohmann::json& ref, const std::string& where,
                                  const std::string& base_dir,
                                  const std::map<std::string, std::string>* env = nullptr);

}  // namespace aisle::connectors
