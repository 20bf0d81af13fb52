// `aisle state dump`: a state folder's keys and values as hex text, so tests can compare two
// folders and support can look inside one without RocksDB tools.

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/cli/commands.hpp"
#include "engine/state/store.hpp"

namespace aisle::cli {

namespace {
void AppendHex(std::string_view bytes, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
}
}  // namespace

int RunStateDump(const StateDumpArgs& args) {
  engine::Family family;
  if (!engine::FamilyNamed(args.family, family)) {
    std::fputs(fmt::format("error: no column family '{}' (windows, meta, dedup, outbox, audit, "
                           "approvals)\n",
                           args.family)
                   .c_str(),
               stderr);
    return 2;
  }
  // Opening creates a store where there is none: look before, so a mistyped folder is an error.
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(args.data_dir) / "CURRENT", ec)) {
    std::fputs(fmt::format("error: no state in '{}'\n", args.data_dir).c_str(), stderr);
    return 2;
  }
  auto store = engine::StateStore::Open(args.data_dir);
  if (!store) {
    std::fputs(("error: " + store.error().message + "\n").c_str(), stderr);
    return 2;
  }
  std::string line;
  bool written = true;
  Status s = (*store)->Scan(family, {}, [&](std::string_view key, std::string_view value) {
    line.clear();
    AppendHex(key, line);
    line.push_back('\t');
    AppendHex(value, line);
    line.push_back('\n');
    return written = std::fwrite(line.data(), 1, line.size(), stdout) == line.size();
  });
  if (s.ok() && (!written || std::fflush(stdout) != 0))
    s = Error{"cannot write to standard output"};
  if (!s.ok()) {
    std::fputs(("error: " + s.message() + "\n").c_str(), stderr);
    return 2;
  }
  return 0;
}

}  // namespace aisle::cli
