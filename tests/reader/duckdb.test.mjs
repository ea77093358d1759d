// DuckDB test: what the README says DuckDB opens, it opens. DuckDB's Node
// API (@duckdb/node-api, pinned in package-lock.json; DuckDB's own C++
// Parquet reader, neither arrow-go nor polars) queries the Parquet files of
// a run (NEOSIM_PARQUET_RUN_DIR) with the queries of README.md and
// docs/output-schema.md, with extension auto-install and auto-load off, so
// nothing is fetched at run time. Results are checked against the run's
// summary and against nodejs-polars reading the same run's Arrow files
// (NEOSIM_RUN_DIR, same scenario and seed). Arrow IPC files need a DuckDB
// extension that is downloaded at run time (nanoarrow, a community
// extension); the last test pins that down, so that the README changes if a
// DuckDB release reads them natively.
//
//	cd tests/reader && npm ci
//	NEOSIM_PARQUET_RUN_DIR=/tmp/pq NEOSIM_RUN_DIR=/tmp/arrow node --test tests/reader/duckdb.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pl from "nodejs-polars";
import { DuckDBInstance } from "@duckdb/node-api";
import { documented, files, schemaVersion } from "./checks.mjs";

const runDir = process.env.NEOSIM_PARQUET_RUN_DIR;
const arrowDir = process.env.NEOSIM_RUN_DIR;

// The documented type of a column → the type DuckDB reads it as.
const duckTypes = { utf8: "VARCHAR", dictionary: "VARCHAR", int32: "INTEGER", int64: "BIGINT", uint64: "UBIGINT", float64: "DOUBLE", bool: "BOOLEAN" };

// sql quotes a path as a SQL string literal.
const sql = (s) => `'${s.replaceAll("'", "''")}'`;

if (!runDir) {
  test("NEOSIM_PARQUET_RUN_DIR names a run folder written with --format parquet", { skip: "NEOSIM_PARQUET_RUN_DIR is not set" }, () => {});
} else {
  const pq = (f) => path.join(runDir, `${f}.parquet`);
  let db, con;
  // rows runs a query and returns its rows as objects (BIGINT and friends
  // as JS bigints; use Number() on small ones).
  const rows = async (q) => (await con.runAndReadAll(q)).getRowObjects();

  before(async () => {
    db = await DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    con = await db.connect();
  });
  after(() => {
    con?.closeSync();
    db?.closeSync();
  });

  test("Parquet is built in: no extension to install or load", async () => {
    const [ext] = await rows("SELECT installed, loaded, install_mode FROM duckdb_extensions() WHERE extension_name = 'parquet'");
    assert.ok(ext, "DuckDB does not know the parquet extension");
    assert.equal(ext.loaded, true, "parquet is not loaded");
    assert.equal(ext.install_mode, "STATICALLY_LINKED", "parquet is not statically linked into this DuckDB");
    const settings = await rows("SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions') ORDER BY name");
    assert.deepEqual(settings.map((s) => s.value), ["false", "false"], "extensions could still be fetched");
  });

  const doc = documented();
  for (const f of files) {
    test(`${f}.parquet: DuckDB reads every documented column with its type`, async () => {
      const got = await rows(`DESCRIBE SELECT * FROM read_parquet(${sql(pq(f))})`);
      assert.deepEqual(
        got.map((c) => [c.column_name, c.column_type]),
        doc[f].map((c) => [c.name, duckTypes[c.type]]),
        `${f}.parquet: columns or types differ from docs/output-schema.md`,
      );
    });

    test(`${f}.parquet: its neosim metadata (parquet_kv_metadata)`, async () => {
      const kv = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sql(pq(f))}) WHERE decode(key) LIKE 'neosim.%' ORDER BY k`);
      assert.deepEqual(kv.map((r) => [r.k, r.v]), [["neosim.file", f], ["neosim.schema_version", schemaVersion()]]);
    });

    test(`${f}.parquet: DuckDB reads the same rows as polars reads from ${f}.arrow`, { skip: arrowDir ? false : "NEOSIM_RUN_DIR is not set" }, async () => {
      const ipc = pl.readIPC(fs.readFileSync(path.join(arrowDir, `${f}.arrow`)));
      const [n] = await rows(`SELECT count(*) AS n FROM ${sql(pq(f))}`);
      assert.equal(Number(n.n), ipc.height, "row counts differ");
      // Per column: the nulls and, for numbers, the sum, min and max.
      const cols = doc[f];
      const agg = cols.map((c, i) =>
        duckTypes[c.type] === "VARCHAR"
          ? `count("${c.name}") AS n${i}, count(DISTINCT "${c.name}") AS d${i}`
          : `count("${c.name}") AS n${i}, sum("${c.name}")::DOUBLE AS s${i}, min("${c.name}")::DOUBLE AS lo${i}, max("${c.name}")::DOUBLE AS hi${i}`,
      );
      const [r] = await rows(`SELECT ${agg.join(", ")} FROM ${sql(pq(f))}`);
      cols.forEach((c, i) => {
        const s = ipc.getColumn(c.name);
        assert.equal(Number(r[`n${i}`]), s.len() - s.nullCount(), `${c.name}: non-null values`);
        if (duckTypes[c.type] === "VARCHAR") {
          assert.equal(Number(r[`d${i}`]), s.dropNulls().nUnique(), `${c.name}: distinct values`);
          return;
        }
        const vals = s.dropNulls().cast(pl.Float64);
        if (vals.len() === 0) {
          return;
        }
        assert.equal(r[`lo${i}`], vals.min(), `${c.name}: min`);
        assert.equal(r[`hi${i}`], vals.max(), `${c.name}: max`);
        // Sums in another order: equal up to rounding, n·ε of Σ|x|.
        const tol = 1e-15 * vals.len() * (vals.abs().sum() || 1) + 1e-300;
        assert.ok(Math.abs(r[`s${i}`] - vals.sum()) <= tol, `${c.name}: sum ${r[`s${i}`]} vs ${vals.sum()}`);
      });
    });
  }

  test("the documented jobs query: p99 wait and revenue by segment agree with summary.parquet", async () => {
    // docs/output-schema.md's first DuckDB query.
    const bySeg = await rows(`SELECT segment, count(*) AS n, count(wait_s) AS started, quantile_disc(wait_s, 0.99) AS p99, sum(revenue_usd) AS revenue
      FROM ${sql(pq("jobs"))} GROUP BY segment ORDER BY segment`);
    const [sum] = await rows(`SELECT * FROM ${sql(pq("summary"))}`);
    assert.ok(bySeg.length >= 2, `only ${bySeg.length} segments in the jobs`);
    for (const r of bySeg) {
      const seg = r.segment.replace("-", "_");
      assert.equal(Number(r.n), Number(sum[`jobs_${seg}`]), `${r.segment}: jobs`);
      // The summary's p99 is the empirical quantile (the smallest wait with
      // at least 99% of the waits at or below it), DuckDB's quantile_disc.
      assert.equal(r.p99, sum[`wait_p99_s_${seg}`], `${r.segment}: p99 wait, DuckDB vs summary`);
      const want = sum[`revenue_usd_${seg}`] ?? 0;
      assert.ok(Math.abs(r.revenue - want) <= 1e-6 * Math.max(1, Math.abs(want)) + 1e-6 * Number(r.n), `${r.segment}: revenue ${r.revenue} vs summary ${want}`);
    }
    const total = bySeg.reduce((n, r) => n + Number(r.n), 0);
    assert.equal(total, Number(sum.jobs_total), "Σ jobs by segment ≠ jobs_total");
  });

  test("the documented summary query over a glob of run folders (union_by_name)", async () => {
    // docs/output-schema.md's second query, on the folder that holds the run.
    const glob = path.join(path.dirname(runDir), "*", "summary.parquet");
    const got = await rows(`SELECT scenario, seed, allocator, pricer, operating_margin, filename
      FROM read_parquet(${sql(glob)}, union_by_name = true, filename = true)`);
    const mine = got.filter((r) => path.dirname(r.filename) === path.resolve(runDir));
    assert.equal(mine.length, 1, `the run's summary is not among the ${got.length} rows of ${glob}`);
    const run = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(mine[0].scenario, run.scenario);
    assert.equal(BigInt(mine[0].seed), BigInt(run.seed));
    assert.equal(mine[0].allocator, run.allocator);
    assert.equal(mine[0].pricer, run.pricer);
  });

  test("Arrow IPC files: DuckDB without a downloaded extension cannot read them (README says so)", { skip: arrowDir ? false : "NEOSIM_RUN_DIR is not set" }, async () => {
    const f = path.join(arrowDir, "jobs.arrow");
    for (const q of [`SELECT count(*) FROM ${sql(f)}`, `SELECT count(*) FROM read_arrow(${sql(f)})`]) {
      await assert.rejects(rows(q), /No extension found|does not exist|extension/i, `${q} worked: update README.md and docs/output-schema.md, and test the Arrow files here`);
    }
  });
}
