// Peer for `make bench`: DuckDB (@duckdb/node-api) computes the benchmark's aggregation, revenue =
// sum(price * qty) per store and UTC hour, over the same NDJSON file as `aisle replay`. Prints one
// result line (scripts/bench.sh, report.py) and writes the groups to --out for the agreement check.
//
//   node duckdb_peer.js --modules DIR/node_modules --file F --threads N --out groups.csv
//   (--threads 0: DuckDB's default, one per core)
'use strict';
const fs = require('fs');
const path = require('path');

function args() {
  const a = { threads: 0 };
  for (let i = 2; i + 1 < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  a.threads = Number(a.threads);
  return a;
}

async function main() {
  const a = args();
  const { DuckDBInstance } = require(path.resolve(a.modules, '@duckdb/node-api'));
  const version = require(path.resolve(a.modules, '@duckdb/node-api/package.json')).version;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  if (a.threads > 0) await conn.run(`SET threads = ${a.threads}`);
  const [threads, engine] = (await conn.runAndReadAll(
      `SELECT current_setting('threads'), (SELECT library_version FROM pragma_version())`)).getRows()[0];
  // Prices are JSON strings ("0.99"), quantities numbers; both are read as text and cast, and the
  // hour is the UTC hour of the RFC 3339 time, as Aisle's `window tumbling 1h`.
  const file = a.file.replace(/'/g, "''");
  const sql = `
    SELECT store, epoch_us(ts::TIMESTAMPTZ) // 3600000000 AS hour,
           sum(price::DOUBLE * qty::DOUBLE) AS revenue, count(*) AS lines
    FROM read_json('${file}', format = 'newline_delimited',
                   columns = {type: 'VARCHAR', store: 'VARCHAR', ts: 'VARCHAR', price: 'VARCHAR', qty: 'VARCHAR'})
    WHERE type = 'line_item'
    GROUP BY ALL`;
  const started = process.hrtime.bigint();
  const rows = (await conn.runAndReadAll(sql)).getRows();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  let events = 0;
  let total = 0;
  const out = ['store,hour,revenue,lines'];
  for (const [store, hour, revenue, lines] of rows) {
    events += Number(lines);
    total += revenue;
    out.push(`${store},${hour},${revenue},${lines}`);
  }
  fs.writeFileSync(a.out, out.join('\n') + '\n');
  const name = a.threads > 0 ? `duckdb-t${a.threads}` : 'duckdb-default';
  const bytes = fs.statSync(a.file).size;
  process.stdout.write(`result\tname=${name}\tversion=${engine} (node-api ${version})\tthreads=${threads}\tevents=${events}` +
                       `\tbytes=${bytes}\tseconds=${seconds}\tgroups=${rows.length}\ttotal_revenue=${total.toFixed(4)}\n`);
  process.stderr.write(`${name}: ${events} line items in ${seconds.toFixed(3)} s with ${threads} thread(s), ` +
                       `${rows.length} groups\n`);
}

main().catch((e) => {
  process.stderr.write(`duckdb peer: ${e.stack || e}\n`);
  process.exit(1);
});
