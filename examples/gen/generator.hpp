#pragma once
// Deterministic sample data for Aisle: a small retail chain's stores, products and event stream,
// with injected incidents that the shipped rule packs are meant to detect.
//
// Files written to GenOptions::out_dir (formats fixed by the project's INTERFACES.md):
//   stores.csv     store,name,district,region,timezone,open_hours,currency
//   products.csv   sku,name,category,unit_cost,price,supplier,lead_days,case_pack
//   events.ndjson  canonical events: sale, line_item, refund, inventory, shift, traffic
//   incidents.csv  kind,store,start,end (UTC, RFC 3339), sorted by start then store
//
// What the event stream looks like:
// - Order of the file: lines are in arrival order, i.e. the time the engine would receive them.
//   For almost every event that is its `ts` (ties keep generation order, so a sale is followed
//   directly by its line items, which carry the same `ts`). Two exceptions:
//   * Late registers: 2-3 stores have one register (the highest-numbered, `register` field of
//     the sale) that goes offline a few times a day for 10 minutes to ~3 hours; the sales and line
//     items it rang up meanwhile arrive together 10 minutes after it comes back, so they appear in
//     the file 10 minutes to 3 hours after their `ts`.
//   * Duplicates: a few events per store and day are written twice (identical line, same `id`),
//     the copy 5 seconds to 15 minutes later, as a POS webhook retry would. A duplicated sale is
//     repeated together with its line items.
// - Money is a decimal string with two decimals, exact in cents: per line, amount = price * qty
//   (exact: weighed goods cost a multiple of $0.40/kg and weigh a multiple of 25 g), `discount` is
//   the whole-line discount, `tax` is rounded per line. Per sale: subtotal = sum(amount),
//   discount = sum(line discount), tax = sum(line tax), total = subtotal - discount + tax.
//   `units` counts a weighed line as one unit. A refund's `amount` includes its `tax`.
// - Voided sales (~1%) carry the amounts that were rung up but have no line items, change no
//   stock and are never refunded; filter on `status`.
// - Inventory: `on_hand` is the absolute count after the change (kg for weighed goods). Each
//   store opens with a `count` of every product (no `delta`). Sales are batched: at most one
//   `reason:"sale"` event per store, SKU and hour, stamped with the time of the last sale it
//   covers. Receipts and restocked returns (`adjustment`) happen on the hour; cycle counts
//   (`count`) before opening. Outside `stockout` incidents stock never reaches 0.
// - Shifts, traffic (one `entrance` count per open hour, ts = end of the hour) and all sales
//   happen inside each store's local opening hours; the cashier on a sale is clocked in and not
//   on a break. Sales carry one extra field, `register` (S001-R2).
// - Normal life includes store-wide promotions (a category or a few SKUs, 10-30% off, more units
//   sold) that raise every cashier's discount rate at that store for a few days.
//
// Incidents (incidents.csv; none in the first 28 days when there are at least 42, else none in
// the first half; at least two days apart at a store; start/end span the abnormal behaviour):
//   aov_drop        one store's baskets shrink (fewer, cheaper items) by 25-50% for 1-3 days;
//                   transaction counts stay normal
//   discount_abuse  one cashier gives 20-50% line discounts on most lines over 2-5 days
//                   (start = first clock-in, end = last clock-out)
//   stockout        a top-50 product runs out (its deliveries stop; a `count` a few days before may
//                   find stock missing): start = the sale event with on_hand 0, end = the
//                   receipt 1-4 days later; no sales of it in between
//   refund_spike    same-day refunds of recent sales at 5-10x the store's normal rate for 1-2
//                   days (start = opening, end = closing)
//
// Determinism: every draw comes from std::mt19937_64 seeded with GenOptions::seed, through
// explicit transforms (no std:: distributions), so the same options give the same bytes.
// Memory stays bounded: days are generated and streamed out one at a time; only about a day of
// events, the late-register backlog and pending refunds and deliveries are held.
#include <cstdint>
#include <string>
#include <variant>

namespace aisle::gen {

// GenOptions: what to generate. Defaults give 20 stores over 60 days from Monday 2025-01-06.
struct GenOptions {
  int stores = 20;                   // number of stores, 1 .. 100000
  int days = 60;                     // number of days of history, >= 1 (ignored if line_items > 0)
  uint64_t seed = 1;                 // the only source of randomness
  std::string out_dir;               // created if missing
  std::string start = "2025-01-06";  // first day (YYYY-MM-DD), local store time
  int64_t line_items = 0;            // > 0: stop after about this many line items (days unbounded)
};

// GenSummary: what was written to events.ndjson and incidents.csv.
struct GenSummary {
  int64_t events = 0;      // lines in events.ndjson, duplicates included
  int64_t line_items = 0;  // line_item events among them
  int incidents = 0;       // rows in incidents.csv
};

// Writes DIR/events.ndjson, DIR/stores.csv, DIR/products.csv, DIR/incidents.csv.
// Same options -> same bytes. Returns an error message (bad options, bad start date, missing time
// zone data, cannot write) instead of throwing.
std::variant<GenSummary, std::string> Generate(const GenOptions& options);

}  // namespace aisle::gen
