#pragma once
// Whether a plan can run on several shards. A shard owns a set of stores and runs the whole
// pipeline for them, so a plan runs sharded only when none of its state spans stores: every
// metric keyed by store (a join then reads two such metrics), every rule's throttle, dedupe and
// `suppress while` keys naming the store (or left to their per-group default), and no digest or
// schedule (both gather across stores). Anything else runs on one shard, with the same results.

#include <string>

#include "dsl/plan.hpp"

namespace aisle::engine {

// Empty when the plan can be sharded by store; else why not, in one line (for `aisle explain`
// and the replay summary), e.g. "metric 'chain_revenue' is not keyed by store".
std::string ShardBlocker(const dsl::plan::Plan& plan);

}  // namespace aisle::engine
