// Checks shared by the independent reader tests (read.test.mjs for the Arrow
// IPC files, parquet.test.mjs for the Parquet files): a run folder's files
// hold every column of docs/output-schema.md with its type and nullability,
// nothing else, and values that agree with each other and with run.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pl from "nodejs-polars";

export const docPath = new URL("../../docs/output-schema.md", import.meta.url);

// The data files of a run, by the name of their schema (neosim.file).
export const files = ["jobs", "timeseries", "summary"];

// The documented type of a column → the polars dtype it must read as.
const dtypes = {
  utf8: "String",
  dictionary: "Categorical", // dictionary-encoded utf8 (int8 indices)
  bool: "Bool",
  int32: "Int32",
  int64: "Int64",
  uint64: "UInt64",
  float64: "Float64",
};

// documented() parses the column tables of docs/output-schema.md: under a
// heading naming a file (## `jobs.arrow`), rows like
// | `wait_s` | float64, nullable | s | … |. It returns the columns by file
// name without extension ("jobs", …).
export function documented() {
  const out = {};
  let file = null;
  for (const line of fs.readFileSync(docPath, "utf8").split("\n")) {
    const h = line.match(/^#+ .*`([a-z_]+)\.arrow`/);
    if (h) {
      file = h[1];
      out[file] = [];
      continue;
    }
    if (/^#+ /.test(line)) {
      file = null;
      continue;
    }
    const row = line.match(/^\| `([a-z0-9_]+)` \| ([a-z0-9]+)(, nullable)? \|/);
    if (file && row) {
      out[file].push({ name: row[1], type: row[2], nullable: Boolean(row[3]) });
    }
  }
  return out;
}

// schemaVersion is the version docs/output-schema.md documents.
export function schemaVersion() {
  return fs.readFileSync(docPath, "utf8").match(/schema version (\d+)/)[1];
}

// checkRun registers the shared tests for the run folder runDir, whose data
// files end in "." + ext and are read by read(path) into a polars DataFrame.
export function checkRun({ runDir, ext, read }) {
  const name = (f) => `${f}.${ext}`;
  const load = (f) => read(path.join(runDir, name(f)));

  test("the run folder holds every file and no temporary one", () => {
    assert.ok(runDir, "set the run folder's environment variable (e.g. results/runs/default-1)");
    for (const f of [...files.map(name), "run.json"]) {
      assert.ok(fs.existsSync(path.join(runDir, f)), `${f} is missing from ${runDir}`);
    }
    const tmp = fs.readdirSync(runDir).filter((f) => f.endsWith(".tmp"));
    assert.deepEqual(tmp, [], "temporary files left in the run folder");
  });

  const doc = documented();

  test("the schema document lists the three files", () => {
    assert.deepEqual(Object.keys(doc).sort(), [...files].sort());
    for (const [f, cols] of Object.entries(doc)) {
      assert.ok(cols.length >= 10, `${f}: only ${cols.length} columns parsed from the document`);
    }
  });

  for (const [f, cols] of Object.entries(doc)) {
    test(`${name(f)}: every documented column, with its type; nothing undocumented`, () => {
      const df = load(f);
      for (const c of cols) {
        assert.ok(df.columns.includes(c.name), `${name(f)}: column ${c.name} is missing`);
        const s = df.getColumn(c.name);
        assert.equal(String(s.dtype.variant), dtypes[c.type], `${name(f)}: column ${c.name} reads as ${s.dtype}, documented ${c.type}`);
        if (!c.nullable) {
          assert.equal(s.nullCount(), 0, `${name(f)}: column ${c.name} holds nulls but is not documented nullable`);
        }
      }
      const names = new Set(cols.map((c) => c.name));
      const extra = df.columns.filter((c) => !names.has(c));
      assert.deepEqual(extra, [], `${name(f)}: columns not in docs/output-schema.md`);
    });
  }

  test("row counts agree", () => {
    const jobs = load("jobs");
    const ts = load("timeseries");
    const sum = load("summary");
    assert.equal(sum.height, 1, `${name("summary")} must have exactly one row`);
    assert.ok(ts.height >= 1, `${name("timeseries")} has no row`);
    const total = Number(sum.getColumn("jobs_total").get(0));
    assert.equal(jobs.height, total, `${name("jobs")} rows ≠ summary jobs_total`);

    // The per-state and per-segment counts add up to the total.
    const byState = sum.columns
      .filter((c) => /^jobs_(queued|running|preempted|completed|rejected|abandoned|unfinished|declined)$/.test(c))
      .reduce((n, c) => n + Number(sum.getColumn(c).get(0)), 0);
    assert.equal(byState, total, "Σ jobs_<state> ≠ jobs_total");
    for (const seg of ["internal", "on-demand", "spot", "reserved", "serving"]) {
      const n = Number(sum.getColumn(`jobs_${seg.replace("-", "_")}`).get(0));
      const rows = jobs.filter(pl.col("segment").eq(pl.lit(seg))).height;
      assert.equal(rows, n, `${name("jobs")} has ${rows} ${seg} rows, summary says ${n}`);
    }
  });

  test("values are consistent", () => {
    const jobs = load("jobs");
    const sum = load("summary");
    const ts = load("timeseries");
    const gpuHours = jobs.getColumn("gpu_hours").sum() ?? 0;
    const want = sum.getColumn("gpu_hours").get(0);
    assert.ok(Math.abs(gpuHours - want) <= 1e-6 * Math.max(1, want), `Σ jobs.gpu_hours ${gpuHours} ≠ summary ${want}`);
    const started = jobs.getColumn("wait_s").len() - jobs.getColumn("wait_s").nullCount();
    assert.equal(Number(sum.getColumn("jobs_started").get(0)), started, "jobs_started ≠ jobs with a wait_s");
    for (const v of jobs.getColumn("state").unique().toArray()) {
      assert.ok(["completed", "rejected", "abandoned", "unfinished", "declined"].includes(v), `unexpected state ${v}`);
    }
    const u = ts.getColumn("utilization").max();
    assert.ok(u === null || (u >= 0 && u <= 1 + 1e-9), `utilization ${u} out of [0, 1]`);
  });

  test("run.json", () => {
    const run = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(run.schema_version, schemaVersion());
    for (const k of ["neosim_version", "scenario", "seed", "allocator", "pricer", "wall_s", "events", "resolved_scenario"]) {
      assert.ok(k in run, `run.json lacks ${k}`);
    }
    if ("format" in run) {
      assert.equal(run.format, ext, "run.json format ≠ the data files' extension");
    }
    const sum = load("summary");
    assert.equal(run.scenario, sum.getColumn("scenario").get(0));
    assert.equal(BigInt(run.events), BigInt(sum.getColumn("events").get(0)));
  });
}
