#include "connectors/ndjson/late_writer.hpp"

#include <nlohmann/json.hpp>

#include "dsl/money.hpp"
#include "dsl/time.hpp"

namespace aisle::connectors {

using dsl::Type;

std::string CanonicalEventJson(const engine::Event& event) {
  nlohmann::ordered_json out;
  const auto& schema = event.schema();
  out["type"] = std::string(schema.name);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const dsl::Value v = event.Get(static_cast<int>(i));
    const std::string name(schema.fields[i].name);
    switch (v.type) {
      case Type::kNull: break;
      case Type::kString: out[name] = std::string(v.str()); break;
      case Type::kBool: out[name] = v.b; break;
      case Type::kInt: out[name] = v.i; break;
      case Type::kDecimal:
      case Type::kPercent: out[name] = v.d; break;
      case Type::kMoney: out[name] = dsl::FormatUnits(v.i, 4); break;
      case Type::kTimestamp: out[name] = dsl::FormatTimestamp(v.i); break;
      default: out[name] = nullptr; break;
    }
  }
  for (size_t i = 0; i < event.extra_count(); ++i)
    out[std::string(event.extra_name(i))] = std::string(event.extra_text(i));
  // Invalid UTF-8 in a string is replaced, never thrown on: this runs on outside input.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

LateWriter::LateWriter(std::string path) : path_(std::move(path)) {}

Status LateWriter::Write(const engine::LateEvent& late) {
  ++count_;
  if (!file_) {
    auto opened = LineFile::Open(path_);
    if (!opened) return Error{"late-events file: " + opened.error().message};
    file_.emplace(std::move(opened).value());
  }
  nlohmann::ordered_json meta;
  meta["metric"] = std::string(late.metric);
  meta["lateness_seconds"] = late.lateness / 1'000'000;
  std::string line = meta.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line.pop_back();  // '}': the event follows inside the same object
  line += ",\"event\":" + CanonicalEventJson(late.event) + "}";
  return file_->Append(line);
}

Status LateWriter::Flush() {
  return file_ ? file_->Flush(/*sync=*/true) : Status::Ok();
}

}  // namespace aisle::connectors
