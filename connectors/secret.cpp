#include "connectors/secret.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aisle::connectors {

Result<std::string> ResolveSecret(const nlohmann::json& ref, const std::string& where,
                                  const std::string& base_dir,
                                  const std::map<std::string, std::string>* env) {
  if (!ref.is_object() || ref.size() != 1 || !(ref.contains("env") || ref.contains("file")) ||
      !ref.begin().value().is_string()) {
    return Error{where + ": a secret is {\"env\": \"NAME\"} or {\"file\": \"PATH\"}, never the value itself"};
  }
  const std::string name = ref.begin().value().get<std::string>();
  if (ref.contains("env")) {
    if (env) {
      const auto it = env->find(name);
      if (it == env->end() || it->second.empty())
        return Error{where + ": environment variable " + name + " is not set"};
      return it->second;
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return Error{where + ": environment variable " + name + " is not set"};
    return std::string(value);
  }
  std::filesystem::path path(name);
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{where + ": cannot read secret file " + path.string()};
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return Error{where + ": secret file " + path.string() + " is empty"};
  return secret;
}

}  // namespace aisle::connectors
