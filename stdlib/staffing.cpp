// Staffing: hourly need and an exact minimum-staff-hours shift schedule (min-cost flow).

#include "stdlib/staffing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace aisle::stdlib {

namespace {

constexpr int kMaxNeed = 100'000;
constexpr double kIntegerSlack = 1e-9;
constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max() / 4;

Status CheckRules(const ShiftRules& r) {
  if (r.open_hour < 0 || r.open_hour >= kHoursPerDay || r.close_hour <= r.open_hour ||
      r.close_hour > kHoursPerDay) {
    return Error{"staffing: opening hours must satisfy 0 <= open_hour < close_hour <= 24"};
  }
  if (r.min_shift_hours < 1 || r.max_shift_hours < r.min_shift_hours) {
    return Error{"staffing: shift lengths must satisfy 1 <= min_shift_hours <= max_shift_hours"};
  }
  return Status::Ok();
}

// People for `load` at `rate` per person-hour: the ceiling, forgiving rounding noise.
int PeopleFor(double load, double rate) {
  double q = std::max(0.0, load) / rate;
  return static_cast<int>(std::min<double>(kMaxNeed + 1, std::ceil(q - kIntegerSlack)));
}

// A minimum-cost flow network with uncapacitated arcs (and their residual twins).
class FlowNetwork {
 public:
  explicit FlowNetwork(int nodes) : out_(nodes) {}

  // Adds arc from -> to with `capacity` and `cost`; returns its index.
  int AddArc(int from, int to, int64_t capacity, int64_t cost) {
    int index = static_cast<int>(arcs_.size());
    arcs_.push_back({to, capacity, cost});
    out_[from].push_back(index);
    arcs_.push_back({from, 0, -cost});
    out_[to].push_back(index + 1);
    return index;
  }
  // Flow on an arc returned by AddArc.
  int64_t Flow(int arc) const { return arcs_[arc + 1].capacity; }

  // Sends up to `amount` from source to sink along successive shortest paths; returns the flow.
  int64_t MinCostFlow(int source, int sink, int64_t amount) {
    const int n = static_cast<int>(out_.size());
    int64_t sent = 0;
    std::vector<int64_t> dist(n);
    std::vector<int> via(n);
    while (sent < amount) {
      // Bellman-Ford: residual costs may be negative, cycles never are (optimality of SSP).
      std::fill(dist.begin(), dist.end(), kInfinity);
      std::fill(via.begin(), via.end(), -1);
      dist[source] = 0;
      for (int round = 0; round < n; ++round) {
        bool changed = false;
        for (int u = 0; u < n; ++u) {
          if (dist[u] == kInfinity) continue;
          for (int a : out_[u]) {
            const Arc& arc = arcs_[a];
            if (arc.capacity > 0 && dist[u] + arc.cost < dist[arc.to]) {
              dist[arc.to] = dist[u] + arc.cost;
              via[arc.to] = a;
              changed = true;
            }
          }
        }
        if (!changed) break;
      }
      if (dist[sink] == kInfinity) break;
      int64_t push = amount - sent;
      for (int v = sink; v != source; v = arcs_[via[v] ^ 1].to) {
        push = std::min(push, arcs_[via[v]].capacity);
      }
      for (int v = sink; v != source; v = arcs_[via[v] ^ 1].to) {
        arcs_[via[v]].capacity -= push;
        arcs_[via[v] ^ 1].capacity += push;
      }
      sent += push;
    }
    return sent;
  }

 private:
  struct Arc {
    int to;
    int64_t capacity;
    int64_t cost;
  };
  std::vector<Arc> arcs_;
  std::vector<std::vector<int>> out_;
};

std::string Hour(int h) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:00", h);
  return buf;
}

}  // namespace

Result<std::vector<int>> HourlyNeed(const std::vector<double>& forecast_traffic,
                                    const std::vector<double>& forecast_tx,
                                    double tx_per_staff_hour, int min_staff,
                                    const ShiftRules& rules, double traffic_per_staff_hour) {
  if (Status s = CheckRules(rules); !s.ok()) return Error{s.message()};
  if (forecast_tx.size() != kHoursPerDay) {
    return Error{"staffing: forecast_tx needs 24 hourly values"};
  }
  if (!(tx_per_staff_hour > 0) || !std::isfinite(tx_per_staff_hour)) {
    return Error{"staffing: tx_per_staff_hour must be > 0"};
  }
  if (min_staff < 0 || min_staff > kMaxNeed) return Error{"staffing: min_staff out of range"};
  const bool use_traffic = traffic_per_staff_hour != 0;
  if (use_traffic) {
    if (!(traffic_per_staff_hour > 0) || !std::isfinite(traffic_per_staff_hour)) {
      return Error{"staffing: traffic_per_staff_hour must be > 0, or 0 to ignore traffic"};
    }
    if (forecast_traffic.size() != kHoursPerDay) {
      return Error{"staffing: forecast_traffic needs 24 hourly values"};
    }
  } else if (!forecast_traffic.empty() && forecast_traffic.size() != kHoursPerDay) {
    return Error{"staffing: forecast_traffic needs 24 hourly values or none"};
  }
  std::vector<int> need(kHoursPerDay, 0);
  for (int h = rules.open_hour; h < rules.close_hour; ++h) {
    if (!std::isfinite(forecast_tx[h])) return Error{"staffing: a forecast is not finite"};
    int n = std::max(min_staff, PeopleFor(forecast_tx[h], tx_per_staff_hour));
    if (use_traffic) {
      if (!std::isfinite(forecast_traffic[h])) return Error{"staffing: a forecast is not finite"};
      n = std::max(n, PeopleFor(forecast_traffic[h], traffic_per_staff_hour));
    }
    need[h] = n;
  }
  return need;
}

Result<StaffingPlan> PlanShifts(const std::vector<int>& need, const ShiftRules& rules) {
  if (Status s = CheckRules(rules); !s.ok()) return Error{s.message()};
  if (need.size() != kHoursPerDay) return Error{"staffing: need needs 24 hourly values"};
  int64_t total_need = 0;
  for (int h = 0; h < kHoursPerDay; ++h) {
    if (need[h] < 0 || need[h] > kMaxNeed) return Error{"staffing: need out of range"};
    if (need[h] > 0 && (h < rules.open_hour || h >= rules.close_hour)) {
      return Error{"staffing: need at hour " + std::to_string(h) + ", outside opening hours"};
    }
    total_need += need[h];
  }
  StaffingPlan plan;
  plan.need = need;
  plan.coverage.assign(kHoursPerDay, 0);
  if (total_need == 0) return plan;

  const int open = rules.open_hour;
  const int span = rules.close_hour - rules.open_hour;
  const int longest = std::min(rules.max_shift_hours, span);
  if (rules.min_shift_hours > span) {
    return Error{"staffing: no shift fits: the opening hours are shorter than min_shift_hours"};
  }
  // Boundary i (0..span) is hour open + i; then a super source and a super sink.
  const int source = span + 1, sink = span + 2;
  FlowNetwork net(span + 3);
  // An optimum works at most total_need * max_shift_hours hours, so it has fewer shifts than
  // `per_hour`: the shift count only breaks ties between schedules of equal staff-hours.
  const int64_t per_hour = total_need * rules.max_shift_hours + 1;
  for (int i = 0; i < span; ++i) net.AddArc(i, i + 1, kInfinity, 0);
  struct ShiftArc {
    int arc, start, length;
  };
  std::vector<ShiftArc> shift_arcs;
  for (int s = 0; s < span; ++s) {
    for (int length = rules.min_shift_hours; length <= longest && s + length <= span; ++length) {
      shift_arcs.push_back(
          {net.AddArc(s + length, s, kInfinity, length * per_hour + 1), s, length});
    }
  }
  int64_t demand = 0;
  for (int i = 0; i <= span; ++i) {
    const int64_t here = i < span ? need[open + i] : 0;
    const int64_t before = i > 0 ? need[open + i - 1] : 0;
    const int64_t balance = here - before;  // inflow - outflow at boundary i
    if (balance > 0) {
      net.AddArc(i, sink, balance, 0);
      demand += balance;
    } else if (balance < 0) {
      net.AddArc(source, i, -balance, 0);
    }
  }
  if (net.MinCostFlow(source, sink, demand) < demand) {
    return Error{"staffing: no schedule covers the need under these shift rules"};
  }
  for (const ShiftArc& s : shift_arcs) {
    const int64_t staff = net.Flow(s.arc);
    if (staff == 0) continue;
    plan.shifts.push_back({open + s.start, open + s.start + s.length, static_cast<int>(staff)});
    for (int h = plan.shifts.back().start; h < plan.shifts.back().end; ++h) {
      plan.coverage[h] += static_cast<int>(staff);
    }
    plan.staff_hours += staff * s.length;
  }
  std::sort(plan.shifts.begin(), plan.shifts.end(), [](const Shift& a, const Shift& b) {
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  });
  return plan;
}

Result<StaffingPlan> Staffing(const std::vector<double>& forecast_traffic,
                              const std::vector<double>& forecast_tx, double tx_per_staff_hour,
                              int min_staff, const ShiftRules& rules,
                              double traffic_per_staff_hour) {
  Result<std::vector<int>> need = HourlyNeed(forecast_traffic, forecast_tx, tx_per_staff_hour,
                                             min_staff, rules, traffic_per_staff_hour);
  if (!need.ok()) return need.error();
  return PlanShifts(*need, rules);
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string ScheduleCsv(std::string_view date, const StaffingPlan& plan) {
  std::string out = "date,start,end,staff\r\n";
  const std::string d = CsvField(date);
  for (const Shift& s : plan.shifts) {
    out += d + "," + Hour(s.start) + "," + Hour(s.end) + "," + std::to_string(s.staff) + "\r\n";
  }
  return out;
}

std::string NeedCsv(std::string_view date, const StaffingPlan& plan) {
  std::string out = "date,hour,need,scheduled\r\n";
  const std::string d = CsvField(date);
  for (size_t h = 0; h < plan.need.size(); ++h) {
    out += d + "," + Hour(static_cast<int>(h)) + "," + std::to_string(plan.need[h]) + "," +
           std::to_string(h < plan.coverage.size() ? plan.coverage[h] : 0) + "\r\n";
  }
  return out;
}

}  // namespace aisle::stdlib
