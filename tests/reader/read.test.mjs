// Independent reader test: reads a neosim run folder with nodejs-polars (the
// Rust Arrow implementation of polars, not arrow-go, which wrote the files)
// and checks the files against docs/output-schema.md, the contract with
// notebook users.
//
//	cd tests/reader && npm ci
//	NEOSIM_RUN_DIR=results/runs/default-1 node --test tests/reader/read.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pl from "nodejs-polars";

const runDir = process.env.NEOSIM_RUN_DIR;
const docPath = new URL("../../docs/output-schema.md", import.meta.url);

// The documented type of a column → the polars dtype it must read as.
const dtypes = {
  utf8: "String",
  int32: "Int32",
  int64: "Int64",
  uint64: "UInt64",
  float64: "Float64",
};

// documented() parses the column tables of docs/output-schema.md: under a
// heading naming a file (## `jobs.arrow`), rows like
// | `wait_s` | float64, nullable | s | … |.
function documented() {
  const files = {};
  let file = null;
  for (const line of fs.readFileSync(docPath, "utf8").split("\n")) {
    const h = line.match(/^#+ .*`([a-z_]+\.arrow)`/);
    if (h) {
      file = h[1];
      files[file] = [];
      continue;
    }
    if (/^#+ /.test(line)) {
      file = null;
      continue;
    }
    const row = line.match(/^\| `([a-z0-9_]+)` \| ([a-z0-9]+)(, nullable)? \|/);
    if (file && row) {
      files[file].push({ name: row[1], type: row[2], nullable: Boolean(row[3]) });
    }
  }
  return files;
}

function read(name) {
  // nodejs-polars wants a file name ending in .ipc, or a Buffer.
  return pl.readIPC(fs.readFileSync(path.join(runDir, name)));
}

test("NEOSIM_RUN_DIR names a run folder", () => {
  assert.ok(runDir, "set NEOSIM_RUN_DIR to a run folder (e.g. results/runs/default-1)");
  for (const f of ["jobs.arrow", "timeseries.arrow", "summary.arrow", "run.json"]) {
    assert.ok(fs.existsSync(path.join(runDir, f)), `${f} is missing from ${runDir}`);
  }
  const tmp = fs.readdirSync(runDir).filter((f) => f.endsWith(".tmp"));
  assert.deepEqual(tmp, [], "temporary files left in the run folder");
});

const doc = documented();

test("the schema document lists the three files", () => {
  assert.deepEqual(Object.keys(doc).sort(), ["jobs.arrow", "summary.arrow", "timeseries.arrow"]);
  for (const [f, cols] of Object.entries(doc)) {
    assert.ok(cols.length >= 10, `${f}: only ${cols.length} columns parsed from the document`);
  }
});

for (const [file, cols] of Object.entries(doc)) {
  test(`${file}: every documented column, with its type; nothing undocumented`, () => {
    const df = read(file);
    for (const c of cols) {
      assert.ok(df.columns.includes(c.name), `${file}: column ${c.name} is missing`);
      const s = df.getColumn(c.name);
      assert.equal(String(s.dtype.variant), dtypes[c.type], `${file}: column ${c.name} reads as ${s.dtype}, documented ${c.type}`);
      if (!c.nullable) {
        assert.equal(s.nullCount(), 0, `${file}: column ${c.name} holds nulls but is not documented nullable`);
      }
    }
    const names = new Set(cols.map((c) => c.name));
    const extra = df.columns.filter((c) => !names.has(c));
    assert.deepEqual(extra, [], `${file}: columns not in docs/output-schema.md`);
  });
}

test("row counts agree", () => {
  const jobs = read("jobs.arrow");
  const ts = read("timeseries.arrow");
  const sum = read("summary.arrow");
  assert.equal(sum.height, 1, "summary.arrow must have exactly one row");
  assert.ok(ts.height >= 1, "timeseries.arrow has no row");
  const total = Number(sum.getColumn("jobs_total").get(0));
  assert.equal(jobs.height, total, "jobs.arrow rows ≠ summary jobs_total");

  // The per-state and per-segment counts add up to the total.
  const byState = sum.columns
    .filter((c) => /^jobs_(queued|running|preempted|completed|failed|rejected|abandoned|unfinished|declined)$/.test(c))
    .reduce((n, c) => n + Number(sum.getColumn(c).get(0)), 0);
  assert.equal(byState, total, "Σ jobs_<state> ≠ jobs_total");
  for (const seg of ["internal", "on-demand", "spot", "reserved", "serving"]) {
    const n = Number(sum.getColumn(`jobs_${seg.replace("-", "_")}`).get(0));
    const rows = jobs.filter(pl.col("segment").eq(pl.lit(seg))).height;
    assert.equal(rows, n, `jobs.arrow has ${rows} ${seg} rows, summary says ${n}`);
  }
});

test("values are consistent", () => {
  const jobs = read("jobs.arrow");
  const sum = read("summary.arrow");
  const ts = read("timeseries.arrow");
  const gpuHours = jobs.getColumn("gpu_hours").sum() ?? 0;
  const want = sum.getColumn("gpu_hours").get(0);
  assert.ok(Math.abs(gpuHours - want) <= 1e-6 * Math.max(1, want), `Σ jobs.gpu_hours ${gpuHours} ≠ summary ${want}`);
  const started = jobs.getColumn("wait_s").len() - jobs.getColumn("wait_s").nullCount();
  assert.equal(Number(sum.getColumn("jobs_started").get(0)), started, "jobs_started ≠ jobs with a wait_s");
  for (const v of jobs.getColumn("state").unique().toArray()) {
    assert.ok(["completed", "failed", "rejected", "abandoned", "unfinished", "declined"].includes(v), `unexpected state ${v}`);
  }
  const u = ts.getColumn("utilization").max();
  assert.ok(u === null || (u >= 0 && u <= 1 + 1e-9), `utilization ${u} out of [0, 1]`);
});

test("run.json", () => {
  const run = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
  const version = fs.readFileSync(docPath, "utf8").match(/schema version (\d+)/)[1];
  assert.equal(run.schema_version, version);
  for (const k of ["neosim_version", "scenario", "seed", "allocator", "pricer", "wall_s", "events", "resolved_scenario"]) {
    assert.ok(k in run, `run.json lacks ${k}`);
  }
  const sum = read("summary.arrow");
  assert.equal(run.scenario, sum.getColumn("scenario").get(0));
  assert.equal(BigInt(run.events), BigInt(sum.getColumn("events").get(0)));
});
