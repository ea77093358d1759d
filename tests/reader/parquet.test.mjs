// Independent reader test of the Parquet output (neosim run --format
// parquet): nodejs-polars (the Rust Parquet reader of polars, not arrow-go,
// which wrote the files) reads the run folder NEOSIM_PARQUET_RUN_DIR and
// checks it against docs/output-schema.md with the same checks as the Arrow
// files (checks.mjs). The schema metadata is read from the Parquet footer by
// hand. With NEOSIM_RUN_DIR naming an Arrow run of the same scenario and
// seed, every file must also hold exactly the same data as its .arrow twin.
//
//	cd tests/reader && npm ci
//	NEOSIM_PARQUET_RUN_DIR=/tmp/pq NEOSIM_RUN_DIR=/tmp/arrow node --test tests/reader/parquet.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pl from "nodejs-polars";
import { checkRun, files, schemaVersion } from "./checks.mjs";

const runDir = process.env.NEOSIM_PARQUET_RUN_DIR;
const arrowDir = process.env.NEOSIM_RUN_DIR;

// footerValue returns the value of key in a Parquet file's key/value
// metadata, or undefined. It reads the footer (Thrift compact protocol)
// only as far as needed: a KeyValue struct is field 1 (binary: header byte
// 0x18, varint length, bytes) then field 2 (the same).
function footerValue(buf, key) {
  assert.equal(buf.subarray(-4).toString("latin1"), "PAR1", "no Parquet magic at the end of the file");
  const len = buf.readUInt32LE(buf.length - 8);
  const footer = buf.subarray(buf.length - 8 - len, buf.length - 8);
  const k = Buffer.from(key, "utf8");
  assert.ok(k.length < 128);
  const at = footer.indexOf(Buffer.concat([Buffer.from([0x18, k.length]), k, Buffer.from([0x18])]));
  if (at < 0) {
    return undefined;
  }
  let i = at + 2 + k.length + 1;
  let n = 0;
  for (let shift = 0; ; shift += 7) {
    const b = footer[i++];
    n |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return footer.subarray(i, i + n).toString("utf8");
}

if (!runDir) {
  test("NEOSIM_PARQUET_RUN_DIR names a run folder written with --format parquet", { skip: "NEOSIM_PARQUET_RUN_DIR is not set" }, () => {});
} else {
  checkRun({ runDir, ext: "parquet", read: (p) => pl.readParquet(p) });

  test("run.json says parquet", () => {
    const run = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(run.format, "parquet");
  });

  for (const f of files) {
    test(`${f}.parquet: schema metadata in the footer`, () => {
      const buf = fs.readFileSync(path.join(runDir, `${f}.parquet`));
      assert.equal(buf.subarray(0, 4).toString("latin1"), "PAR1", "no Parquet magic at the start of the file");
      assert.equal(footerValue(buf, "neosim.schema_version"), schemaVersion());
      assert.equal(footerValue(buf, "neosim.file"), f);
    });
  }

  for (const f of files) {
    test(`${f}.parquet holds the same data as ${f}.arrow`, { skip: arrowDir ? false : "NEOSIM_RUN_DIR (an Arrow run of the same seed) is not set" }, () => {
      const pq = pl.readParquet(path.join(runDir, `${f}.parquet`));
      const ipc = pl.readIPC(fs.readFileSync(path.join(arrowDir, `${f}.arrow`)));
      assert.deepEqual(pq.columns, ipc.columns, "columns or their order differ");
      assert.equal(pq.height, ipc.height, "row counts differ");
      for (const c of pq.columns) {
        const a = pq.getColumn(c);
        const b = ipc.getColumn(c);
        assert.equal(String(a.dtype), String(b.dtype), `${c}: dtype`);
        assert.ok(a.seriesEqual(b, true, true), `${c}: values differ`);
      }
      assert.ok(pq.frameEqual(ipc, true), "frames differ");
    });
  }
}
