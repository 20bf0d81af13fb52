#include "examples/gen/generator.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>

#include "examples/gen/catalog.hpp"
#include "examples/gen/store_sim.hpp"

namespace aisle::gen {

namespace {

constexpr int kMaxDays = 1000000;  // safety stop when generating by line items
constexpr int kIncidentGap = 2;    // days kept free between two incidents at a store
constexpr int kRandomPlacements = 100;

bool ParseDate(const std::string& text, date::local_days& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int y = std::stoi(text.substr(0, 4));
  const auto m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  const auto d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  const date::year_month_day ymd{date::year(y), date::month(m), date::day(d)};
  if (!ymd.ok()) return false;
  out = date::local_days(ymd);
  return true;
}

std::string WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return fmt::format("cannot write {}: {}", path.string(), std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return fmt::format("cannot write {}", path.string());
  return {};
}

// Streams event lines to events.ndjson, stopping after `limit` line items (0: no limit) at the
// end of a sale's lines.
class EventWriter {
 public:
  EventWriter(std::FILE* file, int64_t limit) : file_(file), limit_(limit) {
    buffer_ = std::make_unique<char[]>(kBufferSize);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferSize);
  }
  bool operator()(std::string_view line, EventKind kind, int64_t arrival) {
    if (limit_ > 0 && line_items_ >= limit_ && kind != EventKind::kLineItem) return false;
    std::fwrite(line.data(), 1, line.size(), file_);
    ++events_;
    if (kind == EventKind::kLineItem) ++line_items_;
    last_arrival_ = std::max(last_arrival_, arrival);
    return true;
  }
  int64_t events() const { return events_; }
  int64_t line_items() const { return line_items_; }
  int64_t last_arrival() const { return last_arrival_; }

 private:
  static constexpr size_t kBufferSize = size_t{1} << 22;
  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  int64_t limit_;
  int64_t events_ = 0, line_items_ = 0;
  int64_t last_arrival_ = std::numeric_limits<int64_t>::min();
};

// Places incidents: none before day `lo`, none within two days of another at the same store, about
// one of each kind per 10 stores per 30 days and at least one of each kind when there is room.
std::vector<Incident> PlanIncidents(const std::vector<StoreInfo>& stores,
                                    date::local_days first_day, int horizon, Rng& rng) {
  const int lo = horizon >= 42 ? 28 : horizon / 2;
  const int hi = horizon;  // exclusive
  const int per_kind = std::max(
      1, static_cast<int>(std::lround(static_cast<double>(stores.size()) * horizon / 300.0)));
  auto hours = [&](size_t store, int day) -> const DayHours& {
    return stores[store].hours[date::weekday(first_day + date::days(day)).c_encoding()];
  };
  auto at = [&](size_t store, int day, int hour) {
    return LocalToUtc(stores[store].zone, first_day + date::days(day), hour * 60);
  };

  std::vector<Incident> incidents;
  // The stockout needs the longest stretch, so it is placed first.
  const std::array<IncidentKind, 4> kinds = {IncidentKind::kStockout, IncidentKind::kAovDrop,
                                             IncidentKind::kDiscountAbuse,
                                             IncidentKind::kRefundSpike};
  for (int round = 0; round < per_kind; ++round) {
    for (IncidentKind kind : kinds) {
      // Random places first; if none fits, every store and day in turn.
      const int stores_count = static_cast<int>(stores.size());
      const int tries = kRandomPlacements + stores_count * std::max(1, hi - lo);
      for (int attempt = 0; attempt < tries; ++attempt) {
        const bool random = attempt < kRandomPlacements;
        const int scan = attempt - kRandomPlacements;
        auto pick_day = [&](int first, int last) {
          last = std::max(first, last);
          return random ? static_cast<int>(rng.Int(first, last))
                        : std::min(first + scan / stores_count, last + 1);
        };
        Incident inc;
        inc.kind = kind;
        const auto store =
            static_cast<size_t>(random ? rng.Int(0, stores_count - 1) : scan % stores_count);
        inc.store = static_cast<int>(store);
        if (kind == IncidentKind::kStockout) {
          const int zero = pick_day(lo + 2, hi - 6);
          inc.active_first = inc.active_last = zero;
          inc.block_day = std::max(0, zero - static_cast<int>(rng.Int(3, 6)));
          inc.first_day = zero - 2;  // the shelf may empty a little early or late,
          inc.last_day = zero + 9;   // and the receipt comes 1-4 days after
        } else {
          const int length = kind == IncidentKind::kAovDrop ? 4
                             : kind == IncidentKind::kDiscountAbuse
                                 ? static_cast<int>(rng.Int(2, 5))
                                 : static_cast<int>(rng.Int(1, 2));
          const int first = pick_day(lo, hi - length);
          const int last = first + length - 1;
          if (hours(store, first).Closed() || hours(store, last).Closed()) continue;
          inc.active_first = first;
          inc.active_last = last;
          inc.first_day = first;
          inc.last_day = last;
          if (kind == IncidentKind::kAovDrop) {
            inc.intensity = rng.Uniform(0.25, 0.5);
            const int64_t open = at(store, first, hours(store, first).open_hour);
            const int64_t close = at(store, first, hours(store, first).close_hour);
            inc.planned_start = open + rng.Int(0, (close - open) * 6 / 10);
            inc.planned_end = inc.planned_start + rng.Int(24 * 3600, 72 * 3600);
          } else if (kind == IncidentKind::kDiscountAbuse) {
            inc.intensity = rng.Uniform(0.6, 0.9);
            const auto& cashiers = stores[store].cashiers;
            inc.staff = cashiers[static_cast<size_t>(
                rng.Int(0, static_cast<int64_t>(cashiers.size()) - 1))];
          } else {
            inc.intensity = rng.Uniform(5, 10);
          }
        }
        if (inc.active_first < lo || inc.active_last >= hi) continue;
        const bool clash =
            std::any_of(incidents.begin(), incidents.end(), [&](const Incident& other) {
              return other.store == inc.store && inc.first_day <= other.last_day + kIncidentGap &&
                     other.first_day <= inc.last_day + kIncidentGap;
            });
        if (clash) continue;
        incidents.push_back(inc);
        break;
      }
    }
  }
  return incidents;
}

std::string IncidentsCsv(std::vector<Incident> incidents, const std::vector<StoreInfo>& stores,
                         int64_t cut) {
  std::erase_if(incidents, [cut](const Incident& inc) {
    return inc.cancelled || inc.start < 0 || inc.start >= cut;
  });
  for (Incident& inc : incidents) inc.end = std::min(inc.end, cut);
  std::sort(incidents.begin(), incidents.end(), [](const Incident& a, const Incident& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.store != b.store) return a.store < b.store;
    return a.kind < b.kind;
  });
  std::string out = "kind,store,start,end\n";
  for (const Incident& inc : incidents) {
    out += fmt::format("{},{},{},{}\n", IncidentKindName(inc.kind),
                       stores[static_cast<size_t>(inc.store)].id, TimestampText(inc.start),
                       TimestampText(inc.end));
  }
  return out;
}

}  // namespace

std::variant<GenSummary, std::string> Generate(const GenOptions& options) {
  if (options.stores < 1 || options.stores > 100000) {
    return std::string("--stores must be between 1 and 100000");
  }
  if (options.line_items <= 0 && (options.days < 1 || options.days > kMaxDays))
    return std::string("--days must be between 1 and 1000000");
  if (options.out_dir.empty()) return std::string("no output folder given");
  date::local_days first_day;
  if (!ParseDate(options.start, first_day))
    return fmt::format("bad start date '{}': expected YYYY-MM-DD", options.start);

  const std::filesystem::path dir(options.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir.string(), ec.message());

  Rng rng(options.seed);
  const Catalog catalog = BuildCatalog(rng);
  std::vector<StoreInfo> stores;
  try {
    stores = BuildStores(options.stores, rng);
  } catch (const std::exception& e) {
    return fmt::format("time zone data: {}", e.what());
  }

  int horizon = options.days;
  if (options.line_items > 0) {
    double per_day = 0;
    for (const StoreInfo& s : stores) per_day += StoreSim::ExpectedLinesPerDay(s);
    horizon = static_cast<int>(
        std::min<double>(kMaxDays, std::ceil(static_cast<double>(options.line_items) / per_day)));
  }
  std::vector<Incident> incidents = PlanIncidents(stores, first_day, horizon, rng);

  std::vector<std::unique_ptr<StoreSim>> sims;
  for (size_t i = 0; i < stores.size(); ++i) {
    std::vector<Incident*> own;
    for (Incident& inc : incidents) {
      if (inc.store == static_cast<int>(i)) own.push_back(&inc);
    }
    sims.push_back(
        std::make_unique<StoreSim>(stores[i], catalog, first_day, rng.Next(), std::move(own)));
  }

  for (const auto& [name, text] : {std::pair{"stores.csv", StoresCsv(stores)},
                                   std::pair{"products.csv", ProductsCsv(catalog)}}) {
    if (std::string error = WriteFile(dir / name, text); !error.empty()) return error;
  }
  const std::filesystem::path events_path = dir / "events.ndjson";
  std::FILE* file = std::fopen(events_path.c_str(), "wb");
  if (file == nullptr)
    return fmt::format("cannot write {}: {}", events_path.string(), std::strerror(errno));
  EventWriter writer(file, options.line_items);
  EventBuffer buffer;
  buffer.Reserve(stores.size() * (size_t{512} << 10));  // about a day and a half of events
  bool more = true;
  const int last_day = options.line_items > 0 ? kMaxDays : options.days;
  for (int day = 0; day < last_day && more; ++day) {
    for (auto& sim : sims) sim->RunDay(day, buffer);
    int64_t watermark = std::numeric_limits<int64_t>::max();
    for (const auto& sim : sims) watermark = std::min(watermark, sim->Midnight(day + 1));
    more = buffer.Flush(watermark, writer);
  }
  if (more) buffer.Flush(std::numeric_limits<int64_t>::max(), writer);
  const bool write_failed = std::ferror(file) != 0;
  if (std::fclose(file) != 0 || write_failed)
    return fmt::format("cannot write {}", events_path.string());

  GenSummary summary;
  summary.events = writer.events();
  summary.line_items = writer.line_items();
  const std::string incidents_csv = IncidentsCsv(incidents, stores, writer.last_arrival());
  summary.incidents =
      static_cast<int>(std::count(incidents_csv.begin(), incidents_csv.end(), '\n')) - 1;
  if (std::string error = WriteFile(dir / "incidents.csv", incidents_csv); !error.empty())
    return error;
  return summary;
}

}  // namespace aisle::gen
