#pragma once
// Check-time helpers for relations (dsl/checker.cpp uses them): typing a table's columns for
// lookup(), describing and comparing metric windows, and the record layout of a join.

#include <memory>
#include <string>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/csv.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/lookup_table.hpp"
#include "dsl/plan.hpp"

namespace aisle::dsl {

// `types COLUMN = TYPE, ...`: types the cells of a table's CSV for lookup(). Reports an unknown
// column (E081), a column typed twice (E014), an unknown type (E082), the first cell of each
// column that does not read as its type, with its line in `path` (E082), and a key on two rows
// (W020).
std::shared_ptr<const LookupTable> TypeTable(const ast::Table& t, const CsvTable& csv,
                                             size_t key_column, const std::string& path,
                                             Diagnostics& diags);

// Whether two metrics have the same window: kind, size, step and offset.
bool SameWindow(const plan::Metric& a, const plan::Metric& b);
// "tumbling 1h", "tumbling 1d offset 8h", "hopping 1h every 15m", "day".
std::string WindowText(const plan::Metric& m);
// "store, sku", or "none".
std::string KeyText(const plan::Metric& m);

// The joined record of `left` and `right` on the `on` fields (checked: keys of both): the keys,
// the left's other fields, the right's, window.start and window.end, into `out.output` and its
// window fields; the copied fields' indexes into `join.copied`. A name both sides have is
// qualified with its metric's name (`hourly.tx`).
void JoinLayout(const plan::Metric& left, const plan::Metric& right, const std::string (&names)[2],
                const std::vector<ast::Ident>& on, plan::Metric& out, plan::Join& join);

}  // namespace aisle::dsl
