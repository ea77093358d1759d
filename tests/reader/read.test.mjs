// Independent reader test: reads a neosim run folder with nodejs-polars (the
// Rust Arrow implementation of polars, not arrow-go, which wrote the files)
// and checks the files against docs/output-schema.md, the contract with
// notebook users. The checks live in checks.mjs, shared with parquet.test.mjs.
//
//	cd tests/reader && npm ci
//	NEOSIM_RUN_DIR=results/runs/default-1 node --test tests/reader/read.test.mjs
import fs from "node:fs";
import pl from "nodejs-polars";
import { checkRun } from "./checks.mjs";

checkRun({
  runDir: process.env.NEOSIM_RUN_DIR,
  ext: "arrow",
  // nodejs-polars wants a file name ending in .ipc, or a Buffer.
  read: (p) => pl.readIPC(fs.readFileSync(p)),
});
