// Tests the example notebook results/notebooks/spare-capacity.ipynb against a
// fresh sweep, without Python's polars (PyPI is out of reach here): the
// notebook's file paths and column names are extracted from its source and
// checked against the sweep's files read with nodejs-polars (an independent
// Arrow reader), and its answer is recomputed here.
//
//	make test-notebook
//	NEOSIM_SWEEP_DIR=results/sweep/spare-capacity node --test tests/reader/notebook.test.mjs
//
// NEOSIM_NOTEBOOK overrides the notebook's path (to try a broken copy).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import pl from "nodejs-polars";

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const nbPath = path.resolve(process.env.NEOSIM_NOTEBOOK || path.join(repo, "results/notebooks/spare-capacity.ipynb"));
const sweepDir = process.env.NEOSIM_SWEEP_DIR;
const hiveKeys = ["variant", "allocator", "pricer", "seed"];
const shareCol = "allocator_params.internal_share";

// nodejs-polars wants a file name ending in .ipc, or a Buffer.
const readArrow = (p) => pl.readIPC(fs.readFileSync(p));
const dtype = (df, c) => String(df.getColumn(c).dtype.variant);

const once = (f) => {
  let v;
  let done = false;
  return () => (done ? v : ((v = f()), (done = true), v));
};

const notebook = once(() => JSON.parse(fs.readFileSync(nbPath, "utf8")));
const src = (cell) => (Array.isArray(cell.source) ? cell.source.join("") : cell.source);
const codeCells = () => notebook().cells.filter((c) => c.cell_type === "code");
const tagged = (tag) => codeCells().filter((c) => (c.metadata?.tags ?? []).includes(tag));

// The string literals of a piece of Python source ("…" or '…', no escapes).
const strings = (s) => [...s.matchAll(/(["'])([^"'\n]*)\1/g)].map((m) => m[2]);

// columnRefs finds the column names that code uses: pl.col("a", "b"),
// x["a"] / x['a'], the leading string arguments of select, sort, group_by,
// partition_by, unique, drop, drop_nulls and n_unique, and on="a". It also
// returns the names the code makes with .alias("a").
function columnRefs(code) {
  const used = new Set();
  for (const m of code.matchAll(/\bpl\.col\(([^)]*)\)/g)) strings(m[1]).forEach((s) => used.add(s));
  for (const m of code.matchAll(/\[\s*(["'])([^"'\n]+)\1\s*\]/g)) used.add(m[2]);
  for (const m of code.matchAll(/\.(?:select|sort|group_by|partition_by|unique|drop|drop_nulls|n_unique)\(\s*((?:(["'])[^"'\n]*\2\s*,?\s*)+)/g)) {
    strings(m[1]).forEach((s) => used.add(s));
  }
  for (const m of code.matchAll(/\bon\s*=\s*(["'])([^"'\n]+)\1/g)) used.add(m[2]);
  const made = new Set([...code.matchAll(/\.alias\(\s*(["'])([^"'\n]+)\1\s*\)/g)].map((m) => m[2]));
  return { used, made };
}

// files lists the files under dir, relative, with "/" separators.
function files(dir, rel = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...files(dir, r));
    else out.push(r);
  }
  return out;
}

// globRegExp turns a glob of "/"-separated parts ("**" any folders, "*" and
// "?" within a name) into a regular expression over relative paths.
function globRegExp(glob) {
  const part = (p) => p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  const re = glob
    .split("/")
    .map((p, i, all) => (p === "**" ? "(?:[^/]+/)*" : part(p) + (i < all.length - 1 ? "/" : "")))
    .join("");
  return new RegExp(`^${re}$`);
}

// The sweep's runs: every folder with a jobs.arrow, its hive keys from the path.
const runs = once(() =>
  files(sweepDir)
    .filter((f) => f.endsWith("/jobs.arrow"))
    .sort()
    .map((f) => {
      const parts = f.split("/").slice(0, -1);
      const keys = parts.map((p) => p.split("="));
      assert.deepEqual(keys.map((k) => k[0]), hiveKeys, `${f}: not OUT/variant=…/allocator=…/pricer=…/seed=…/jobs.arrow`);
      assert.ok(keys.every((k) => k.length === 2 && k[1] !== ""), `${f}: a folder name is not key=value`);
      return { dir: path.join(sweepDir, ...parts), ...Object.fromEntries(keys) };
    }),
);
const comparison = once(() => readArrow(path.join(sweepDir, "comparison.arrow")));
const manifest = once(() => JSON.parse(fs.readFileSync(path.join(sweepDir, "manifest.json"), "utf8")));

// The documented type (docs/output-schema.md) of each jobs.arrow column,
// as the polars dtype it reads as.
function jobsDoc() {
  const doc = fs.readFileSync(path.join(repo, "docs/output-schema.md"), "utf8");
  const section = doc.split(/^## `jobs\.arrow`$/m)[1].split(/^## /m)[0];
  const poly = { utf8: "String", dictionary: "Categorical", int32: "Int32", int64: "Int64", uint64: "UInt64", float64: "Float64" };
  return Object.fromEntries([...section.matchAll(/^\| `([a-z0-9_]+)` \| ([a-z0-9]+)/gm)].map((m) => [m[1], poly[m[2]]]));
}

// The type a comparison.arrow column must have (docs/compare.md).
function comparisonType(c) {
  if (["variant", "allocator", "pricer"].includes(c)) return "String";
  if (c === "runs") return "Int64";
  if (c === "pareto" || c === "tied_with_best") return "Bool";
  return "Float64"; // swept parameters and <metric>_mean, _ci95, _diff_mean, _diff_ci95
}

test("the notebook is nbformat 4 JSON, Python 3 kernel, outputs cleared", () => {
  const nb = notebook();
  assert.equal(nb.nbformat, 4);
  assert.ok(Number.isInteger(nb.nbformat_minor), "nbformat_minor");
  assert.equal(nb.metadata?.kernelspec?.name, "python3");
  assert.equal(nb.metadata?.kernelspec?.language, "python");
  assert.ok(Array.isArray(nb.cells) && nb.cells.length >= 6, "cells");
  const ids = new Set();
  for (const [i, c] of nb.cells.entries()) {
    assert.ok(["markdown", "code", "raw"].includes(c.cell_type), `cell ${i}: cell_type ${c.cell_type}`);
    assert.equal(typeof c.metadata, "object", `cell ${i}: metadata`);
    assert.ok(typeof c.source === "string" || (Array.isArray(c.source) && c.source.every((l) => typeof l === "string")), `cell ${i}: source`);
    if (nb.nbformat_minor >= 5) {
      assert.match(c.id ?? "", /^[a-zA-Z0-9_-]{1,64}$/, `cell ${i}: id`);
      assert.ok(!ids.has(c.id), `cell ${i}: duplicate id ${c.id}`);
      ids.add(c.id);
    }
    if (c.cell_type === "code") {
      assert.deepEqual(c.outputs, [], `cell ${i}: outputs not cleared`);
      assert.equal(c.execution_count, null, `cell ${i}: execution_count not cleared`);
    } else {
      assert.ok(!("outputs" in c) && !("execution_count" in c), `cell ${i}: a ${c.cell_type} cell has outputs`);
    }
  }
  const intro = nb.cells[0];
  assert.equal(intro.cell_type, "markdown", "the first cell introduces the notebook");
  for (const s of ["neosim sweep -f examples/spare-capacity.yaml", "NEOSIM_SWEEP_DIR"]) {
    assert.ok(src(intro).includes(s), `the introduction does not mention ${s}`);
  }
});

test("the code cells are valid Python 3", (t) => {
  const py = spawnSync("python3", ["--version"]);
  if (py.error || py.status !== 0) {
    t.skip("no python3");
    return;
  }
  const check = "import ast, json, sys\nfor i, s in enumerate(json.load(sys.stdin)):\n    ast.parse(s, f'code cell {i}')\n";
  const r = spawnSync("python3", ["-c", check], { input: JSON.stringify(codeCells().map(src)), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("the tagged cells: data-loading and answer", () => {
  assert.ok(tagged("data-loading").length >= 1, 'no code cell tagged "data-loading"');
  assert.equal(tagged("answer").length, 1, 'one code cell must be tagged "answer"');
});

test("the data-loading cell reads the files of a fresh sweep", () => {
  assert.ok(sweepDir, "set NEOSIM_SWEEP_DIR to a sweep of examples/spare-capacity.yaml");
  const code = tagged("data-loading").map(src).join("\n");

  // Paths are OUT / "a" / "b"; each must match a file of the sweep.
  const globs = [...code.matchAll(/\bOUT((?:\s*\/\s*"[^"]+")+)/g)].map((m) => strings(m[1]).join("/"));
  assert.ok(globs.includes("comparison.arrow"), `the data-loading cell reads no OUT / "comparison.arrow" (paths: ${globs})`);
  assert.ok(globs.some((g) => g.includes("*") && g.endsWith("/jobs.arrow")), `the data-loading cell globs no jobs.arrow (paths: ${globs})`);
  const all = files(sweepDir);
  for (const g of globs) {
    const n = all.filter((f) => globRegExp(g).test(f)).length;
    assert.ok(n >= 1, `${g} matches no file in ${sweepDir}`);
    if (g.endsWith("jobs.arrow")) assert.equal(n, runs().length, `${g} matches ${n} files, the sweep has ${runs().length} runs`);
  }
  assert.match(code, /pl\.read_ipc\(\s*OUT\s*\/\s*"comparison\.arrow"/, "comparison.arrow is not read with pl.read_ipc");
  assert.match(code, /pl\.scan_ipc\([^\n]*jobs\.arrow[^\n]*hive_partitioning\s*=\s*True/, "jobs.arrow is not scanned with hive_partitioning=True");

  // The default folder is where `neosim sweep -f examples/spare-capacity.yaml` writes.
  const def = code.match(/NEOSIM_SWEEP_DIR",\s*"([^"]+)"/);
  assert.ok(def, "OUT has no default (os.environ.get(\"NEOSIM_SWEEP_DIR\", …))");
  const name = fs.readFileSync(path.join(repo, "examples/spare-capacity.yaml"), "utf8").match(/^name:\s*(\S+)/m)[1];
  assert.equal(path.resolve(repo, "results/notebooks", def[1]), path.join(repo, "results/sweep", name), "OUT's default is not the sweep's default --out");
});

test("every column the notebook uses exists in the fresh sweep, with a sensible type", () => {
  const cmp = comparison();
  const jobs = readArrow(path.join(runs()[0].dir, "jobs.arrow"));
  const doc = jobsDoc();
  const overlap = jobs.columns.filter((c) => hiveKeys.includes(c));
  assert.deepEqual(overlap, [], "jobs.arrow has columns named like the hive keys: a hive scan would clash");

  const used = new Set();
  const made = new Set();
  for (const c of codeCells()) {
    const r = columnRefs(src(c));
    r.used.forEach((x) => used.add(x));
    r.made.forEach((x) => made.add(x));
  }
  // The extraction must see the columns the question is about.
  for (const c of ["variant", shareCol, "runs", "net_value_mean", "net_value_ci95", "internal_delay_caused_mean", "internal_delay_caused_ci95", "tied_with_best", "pareto", "segment", "wait_s"]) {
    assert.ok(used.has(c), `the notebook does not use ${c} (or the extraction missed it)`);
  }
  for (const c of tagged("answer").flatMap((cell) => [...columnRefs(src(cell)).used])) {
    assert.ok(made.has(c) || cmp.columns.includes(c), `the answer cell uses ${c}, not a column of comparison.arrow`);
  }

  // Keys of run.json the notebook reads (the horizon).
  const runJSON = JSON.parse(fs.readFileSync(path.join(runs()[0].dir, "run.json"), "utf8"));
  const missing = [];
  for (const c of used) {
    let found = made.has(c) || (c in runJSON && typeof runJSON[c] === "number");
    if (cmp.columns.includes(c)) {
      found = true;
      assert.equal(dtype(cmp, c), comparisonType(c), `comparison.arrow ${c}`);
    }
    if (jobs.columns.includes(c)) {
      found = true;
      assert.ok(doc[c], `jobs.arrow ${c} is not in docs/output-schema.md`);
      assert.equal(dtype(jobs, c), doc[c], `jobs.arrow ${c}`);
    }
    if (hiveKeys.includes(c)) found = true; // from the folder names: checked below
    if (!found) missing.push(c);
  }
  assert.deepEqual(missing, [], "columns the notebook uses that neither comparison.arrow, jobs.arrow, run.json, the hive keys nor the notebook (.alias) provide");
});

// months is the sweep's measurement window (horizon − warm-up) in 30-day
// months (every run has the same).
function months() {
  const ws = new Set(runs().map((r) => {
    const run = JSON.parse(fs.readFileSync(path.join(r.dir, "run.json"), "utf8"));
    return run.horizon_s - run.warmup_s;
  }));
  assert.equal(ws.size, 1, `the runs have different measurement windows: ${[...ws]}`);
  return [...ws][0] / (30 * 24 * 3600);
}

// answer recomputes the answer cell: per month = over the horizon ÷ months;
// the share sold with the highest mean net value (the least sold among
// equal means); the largest share sold whose mean (conservative: mean +
// ci95) caused delay per month is within budget.
function answer(rows, budget, mo) {
  const sold = (r) => 1 - r[shareCol];
  const sorted = [...rows].sort((a, b) => sold(a) - sold(b));
  const best = sorted.reduce((a, r) => (a === null || r.net_value_mean > a.net_value_mean ? r : a), null);
  const largest = (ok) => sorted.filter(ok).at(-1) ?? null;
  return {
    base: rows.find((r) => r[shareCol] === 1),
    best,
    within: largest((r) => r.internal_delay_caused_mean / mo <= budget),
    conservative: largest((r) => r.internal_delay_caused_ci95 !== null && (r.internal_delay_caused_mean + r.internal_delay_caused_ci95) / mo <= budget),
  };
}

test("the answer is well defined on the fresh comparison", (t) => {
  const code = src(tagged("answer")[0]);
  const m0 = code.match(/^DELAY_BUDGET_GPU_H_PER_MONTH\s*=\s*([0-9_.]+)/m);
  assert.ok(m0, "the answer cell does not set DELAY_BUDGET_GPU_H_PER_MONTH");
  const budget = Number(m0[1].replaceAll("_", ""));
  assert.ok(budget > 0, "the delay budget must be positive");
  const yaml = fs.readFileSync(path.join(repo, "examples/spare-capacity.yaml"), "utf8");
  assert.ok(yaml.replaceAll(",", "").includes(`${budget} GPU-hours per month`), "examples/spare-capacity.yaml does not state the notebook's delay budget");
  assert.match(code, /pl\.col\("delay_month"\)\s*\+\s*pl\.col\("delay_month_ci95"\)/, "no conservative answer (mean + ci95)");
  assert.match(code, /keeping .* for internal training earns .* per month .* costs internal training .* GPU-hours per month/s, "the answer does not say what each share earns and costs per month");

  const cmp = comparison();
  const rows = cmp.toRecords();
  assert.ok(rows.length >= 2, "a sweep of one variant answers nothing");
  assert.equal(new Set(rows.map((r) => `${r.allocator}/${r.pricer}`)).size, 1, "one (allocator, pricer) pair");
  const shares = rows.map((r) => r[shareCol]);
  assert.ok(shares.every((s) => typeof s === "number" && s >= 0 && s <= 1), `internal shares out of [0, 1]: ${shares}`);
  assert.equal(new Set(shares).size, shares.length, "one row per internal_share");
  for (const r of rows) {
    assert.ok(r.net_value_mean !== null && r.internal_delay_caused_mean !== null, `${r.variant}: no net value or caused delay (the counterfactual is on by default)`);
  }

  const mo = months();
  const a = answer(rows, budget, mo);
  assert.ok(a.base, "comparison.arrow needs a baseline row (internal_share 1)");
  // The baseline is the sweep's baseline: the differences are taken against it.
  const m = manifest();
  assert.equal(a.base.variant, m.variants[m.baseline].name, "the internal_share 1 variant is not the sweep's baseline");
  for (const c of cmp.columns.filter((c) => c.endsWith("_diff_mean"))) {
    assert.ok(a.base[c] === null || a.base[c] === 0, `baseline ${c} = ${a.base[c]}`);
  }
  // Selling nothing adds nothing and delays nothing.
  assert.equal(a.base.net_value_mean, 0, "the baseline's net value");
  assert.equal(a.base.internal_delay_caused_mean, 0, "the baseline's caused delay");
  assert.ok(a.best.tied_with_best, "the best row is not marked tied_with_best");
  assert.equal(rows.filter((r) => r.tied_with_best && r.net_value_mean > a.best.net_value_mean).length, 0);
  assert.ok(a.within, "the baseline itself is within any budget");
  if (a.conservative) {
    assert.ok(1 - a.conservative[shareCol] <= 1 - a.within[shareCol] + 1e-12, "the conservative answer sells more than the mean answer");
  }
  const pct = (r) => (r ? `${Math.round((1 - r[shareCol]) * 100)}%` : "none");
  t.diagnostic(
    `${(mo * 30).toFixed(3)} days: the most net value selling ${pct(a.best)} ($${Math.round(a.best.net_value_mean / mo)}/month); ` +
      `within ${budget} GPU-h/month: sell ${pct(a.within)} (conservative ${pct(a.conservative)})`,
  );
});

test("every run's jobs.arrow under the hive layout matches its summary", () => {
  const m = manifest();
  const rs = runs();
  // With --precision each cell ran its own number of seeds (cell_seeds).
  const want = m.cell_seeds ? m.cell_seeds.reduce((a, b) => a + b, 0) : m.variants.length * m.pairs.length * m.seeds.length;
  assert.equal(rs.length, want, "runs ≠ the manifest's");
  const cmp = comparison();
  const variants = cmp.getColumn("variant").toArray();
  assert.deepEqual([...new Set(rs.map((r) => r.variant))].sort(), [...variants].sort(), "the variants of the folders ≠ those of comparison.arrow");

  const parts = [];
  const p99s = {};
  for (const r of rs) {
    assert.match(r.seed, /^\d+$/, `${r.dir}: seed is not an integer`);
    assert.ok(fs.existsSync(path.join(r.dir, "run.json")), `${r.dir}: no run.json (incomplete run)`);
    const jobs = readArrow(path.join(r.dir, "jobs.arrow"));
    const sum = readArrow(path.join(r.dir, "summary.arrow"));
    assert.equal(jobs.height, Number(sum.getColumn("jobs_total").get(0)), `${r.dir}: jobs.arrow rows ≠ summary jobs_total`);
    assert.equal(sum.getColumn("allocator").get(0), r.allocator, `${r.dir}: summary allocator`);
    assert.equal(sum.getColumn("pricer").get(0), r.pricer, `${r.dir}: summary pricer`);
    assert.equal(Number(sum.getColumn("seed").get(0)), Number(r.seed), `${r.dir}: summary seed`);
    const p99 = sum.getColumn("wait_p99_s_internal").get(0);
    if (p99 !== null) (p99s[r.variant] ??= []).push(p99);
    // As a hive scan would: the file's columns plus the keys from the path.
    parts.push(
      jobs.select("segment", "wait_s").withColumns(
        pl.lit(r.variant).alias("variant"),
        pl.lit(r.allocator).alias("allocator"),
        pl.lit(r.pricer).alias("pricer"),
        pl.lit(Number(r.seed)).cast(pl.Int64).alias("seed"),
      ),
    );
  }

  // comparison.arrow's internal_wait_p99_mean is the mean of the runs' p99s.
  for (const row of cmp.toRecords()) {
    const xs = p99s[row.variant] ?? [];
    const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    assert.ok(
      mean === null ? row.internal_wait_p99_mean === null : Math.abs(mean - row.internal_wait_p99_mean) <= 1e-9 * Math.max(1, mean),
      `${row.variant}: internal_wait_p99_mean ${row.internal_wait_p99_mean} ≠ mean of the runs' wait_p99_s_internal ${mean}`,
    );
    assert.equal(Number(row.runs), rs.filter((r) => r.variant === row.variant).length, `${row.variant}: runs ≠ its run folders`);
  }

  // The wait-CDF cell: started jobs joined to comparison.arrow by variant.
  const all = pl.concat(parts);
  assert.equal(all.height, rs.reduce((n, r) => n + Number(readArrow(path.join(r.dir, "summary.arrow")).getColumn("jobs_total").get(0)), 0));
  const waits = all
    .filter(pl.col("wait_s").isNotNull())
    .join(cmp.select("variant", shareCol), { on: "variant" });
  assert.equal(waits.height, all.filter(pl.col("wait_s").isNotNull()).height, "started jobs lost in the join on variant");
  const internal = waits.filter(pl.col("segment").eq(pl.lit("internal")));
  assert.equal(new Set(internal.getColumn("variant").toArray()).size, variants.length, "a variant has no started internal job");
});
