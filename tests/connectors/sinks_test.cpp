// The stdout and JSONL sinks and the whole-line file under the JSONL outputs, writing real files.

#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/line_file.hpp"
#include "connectors/sinks/jsonl_sink.hpp"
#include "connectors/sinks/stdout_sink.hpp"
#include "dsl/time.hpp"
#include "tests/support/temp_dir.hpp"

using aisle::engine::Emission;
using aisle::testing::TempDir;

namespace {
Emission Sample() {
  Emission e;
  e.id = "0123456789abcdef0123456789abcdef";
  e.rule = "aov_drop";
  e.store = "S012";
  e.channel = "ops";
  e.key = {{"store", "\"S012\""}};
  e.window = std::make_pair(*aisle::dsl::ParseTimestamp("2025-03-14T13:00:00Z"),
                            *aisle::dsl::ParseTimestamp("2025-03-14T14:00:00Z"));
  e.values = {{"aov", "\"12.30 USD\""}, {"tx", "17"}};
  e.message = "AOV \"low\" at S012\n";
  e.labels = {{"detects", "aov_drop"}};
  e.ruleset = "00ff";
  e.ts = e.window->second;
  return e;
}
}  // namespace

TEST_CASE("the JSONL sink writes one emission object a line", "[connectors][sinks]") {
  TempDir dir;
  const std::string path = dir / "out.jsonl";
  {
    auto sink = aisle::connectors::JsonlSink::Open(path);
    REQUIRE(sink.ok());
    (*sink)->Emit(Sample());
    (*sink)->Emit(Sample());
    std::string error;
    REQUIRE((*sink)->Flush(error));
  }
  std::string text = aisle::testing::ReadFile(path);
  auto newline = text.find('\n');
  REQUIRE(newline != std::string::npos);
  auto j = nlohmann::json::parse(text.substr(0, newline));
  // The fields of INTERFACES.md, "Emissions".
  CHECK(j["id"] == "0123456789abcdef0123456789abcdef");
  CHECK(j["kind"] == "alert");
  CHECK(j["rule"] == "aov_drop");
  CHECK(j["severity"] == "warning");
  CHECK(j["store"] == "S012");
  CHECK(j["key"]["store"] == "S012");
  CHECK(j["window"]["start"] == "2025-03-14T13:00:00Z");
  CHECK(j["window"]["end"] == "2025-03-14T14:00:00Z");
  CHECK(j["values"]["aov"] == "12.30 USD");
  CHECK(j["values"]["tx"] == 17);
  CHECK(j["message"] == "AOV \"low\" at S012\n");
  CHECK(j["labels"]["detects"] == "aov_drop");
  CHECK(j["ruleset"] == "00ff");
  CHECK(j["ts"] == "2025-03-14T14:00:00Z");
  CHECK(j["correction"] == false);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

TEST_CASE("the JSONL sink reports a file it cannot open", "[connectors][sinks]") {
  TempDir dir;
  auto sink = aisle::connectors::JsonlSink::Open(dir / "missing/folder/out.jsonl");
  REQUIRE_FALSE(sink.ok());
  CHECK(sink.error().message.find("missing/folder/out.jsonl") != std::string::npos);
}

TEST_CASE("the stdout sink prints one readable line", "[connectors][sinks]") {
  TempDir dir;
  const std::string path = dir / "out.txt";
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  {
    aisle::connectors::StdoutSink sink(f);
    Emission e = Sample();
    e.message = "AOV 12.30 USD at S012";
    sink.Emit(e);
    std::string error;
    REQUIRE(sink.Flush(error));
  }
  std::fclose(f);
  CHECK(aisle::testing::ReadFile(path) ==
        "2025-03-14 13:00Z  WARNING  alert aov_drop             S012   AOV 12.30 USD at S012\n");
}

TEST_CASE("LineFile: a partial last line is cut off when the file is opened", "[connectors][sinks]") {
  TempDir dir;
  // What a process killed in the middle of a write leaves.
  const std::string path = dir.Write("out.jsonl", "{\"a\":1}\n{\"b\":2}\n{\"c\":");
  {
    auto file = aisle::connectors::LineFile::Open(path);
    REQUIRE(file.ok());
    CHECK(file->repaired_bytes() == 5);
    CHECK(aisle::testing::ReadFile(path) == "{\"a\":1}\n{\"b\":2}\n");
    REQUIRE(file->Append("{\"c\":3}").ok());
    REQUIRE(file->Flush(/*sync=*/true).ok());
  }
  CHECK(aisle::testing::ReadFile(path) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  // Whole lines stay; a file without any newline is all partial line.
  auto again = aisle::connectors::LineFile::Open(path);
  REQUIRE(again.ok());
  CHECK(again->repaired_bytes() == 0);
  const std::string partial = dir.Write("partial.jsonl", std::string(10000, 'x'));
  auto cut = aisle::connectors::LineFile::Open(partial);
  REQUIRE(cut.ok());
  CHECK(cut->repaired_bytes() == 10000);
  CHECK(std::filesystem::file_size(partial) == 0);
}

TEST_CASE("LineFile: lines reach the file whole, in blocks and on Flush", "[connectors][sinks]") {
  TempDir dir;
  const std::string path = dir / "out.jsonl";
  auto file = aisle::connectors::LineFile::Open(path);
  REQUIRE(file.ok());
  const std::string line(1000, 'q');
  size_t appended = 0;
  while (appended < 3 * aisle::connectors::LineFile::kBufferBytes) {
    REQUIRE(file->Append(line).ok());
    appended += line.size() + 1;
    // Whatever has reached the file so far ends with a whole line.
    const std::string text = aisle::testing::ReadFile(path);
    if (!text.empty()) REQUIRE(text.back() == '\n');
    REQUIRE(text.size() % (line.size() + 1) == 0);
  }
  CHECK(std::filesystem::file_size(path) > 0);  // blocks went out before any Flush
  REQUIRE(file->Flush(/*sync=*/false).ok());
  CHECK(std::filesystem::file_size(path) == appended);
}

TEST_CASE("the JSONL sink repairs a file an interrupted run left", "[connectors][sinks]") {
  TempDir dir;
  const std::string path = dir.Write("out.jsonl", "{\"id\":\"1\"}\n{\"id\":\"2\",\"ki");
  auto sink = aisle::connectors::JsonlSink::Open(path);
  REQUIRE(sink.ok());
  CHECK((*sink)->repaired_bytes() == 13);
  (*sink)->Emit(Sample());
  std::string error;
  REQUIRE((*sink)->Flush(error));
  std::string text = aisle::testing::ReadFile(path);
  CHECK(text.rfind("{\"id\":\"1\"}\n{\"id\":\"0123456789abcdef", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}
