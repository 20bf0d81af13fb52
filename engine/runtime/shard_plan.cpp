#include "engine/runtime/shard_plan.hpp"

#include <algorithm>

namespace aisle::engine {

namespace {

using dsl::plan::Field;

bool NamesStore(const std::vector<Field>& fields, const std::vector<int>& picked) {
  return std::any_of(picked.begin(), picked.end(), [&](int f) {
    return f >= 0 && static_cast<size_t>(f) < fields.size() && fields[static_cast<size_t>(f)].name == "store";
  });
}

bool KeyedByStore(const dsl::plan::Metric& m, const dsl::plan::Plan& plan) {
  if (m.join) {
    return KeyedByStore(plan.metrics[static_cast<size_t>(m.join->left)], plan) &&
           KeyedByStore(plan.metrics[static_cast<size_t>(m.join->right)], plan);
  }
  const auto& key_fields = m.project.empty() ? m.input_fields : m.projected;
  return NamesStore(key_fields, m.keys);
}

}  // namespace

std::string ShardBlocker(const dsl::plan::Plan& plan) {
  if (!plan.digests.empty()) return "digest '" + plan.digests.front().channel + "' gathers every store";
  if (!plan.schedules.empty()) return "schedule '" + plan.schedules.front().name + "' gathers every store";
  for (const auto& m : plan.metrics)
    if (!KeyedByStore(m, plan)) return "metric '" + m.name + "' is not keyed by store";
  for (const auto& r : plan.rules) {
    if (!r.throttle_keys.empty() && !NamesStore(r.fields, r.throttle_keys))
      return "rule '" + r.name + "' throttles across stores";
    if (!r.dedupe_keys.empty() && !NamesStore(r.fields, r.dedupe_keys))
      return "rule '" + r.name + "' dedupes across stores";
    for (const auto& s : r.suppressions)
      if (!NamesStore(r.fields, s.fields)) return "rule '" + r.name + "' is suppressed across stores";
  }
  return {};
}

}  // namespace aisle::engine
