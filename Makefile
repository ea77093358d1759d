# neosim — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/neosim
READER   := tests/reader
FUZZTIME ?= 20s
# The baseline x86-64 level, whatever the environment says: with GOAMD64=v3
# the compiler fuses multiply-adds, and floating-point results (power, cost,
# the workload generators' draws) differ in their last bits from the
# default build's (docs/scale-out.md, "Same bytes").
export GOAMD64 := v1

.PHONY: build run test test-go test-short race test-reader test-slurm test-browser test-browser-if-present bench goals fuzz lint clean

build:
	$(GO) build -o $(BIN) ./cmd/neosim

# Simulate the embedded default scenario; output in results/runs/default-1/.
run: build
	./$(BIN) run

# Every test: Go unit, statistical and end-to-end tests, then an independent
# reader (nodejs-polars, not arrow-go) on the Arrow and the Parquet files of
# a fresh run (same seed: the two must hold the same data), and DuckDB
# (@duckdb/node-api) on the Parquet files. Then, where Chromium is installed,
# the browser check of neosim advise's report.html (test-browser).
test: test-go test-reader test-notebook test-browser-if-present

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The quick loop while editing (under a minute): every Go test with -short,
# which skips the long statistical runs and the large end-to-end runs. It is
# not the suite CI runs (make test).
test-short:
	$(GO) test -count=1 -short ./...

# The packages that run goroutines (parallel runs, writers, the NVML
# sampler), under the race detector (needs cgo); with -short, to keep it to a
# few minutes (the detector slows every run several times over).
RACE_PKGS := ./runner/... ./experiment/... ./advise/... ./results/... ./cmd/... ./bench/fragmentation/... ./calibrate/...
race:
	$(GO) test -count=1 -race -short $(RACE_PKGS)

test-reader: build
	cd $(READER) && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(READER)/run
	./$(BIN) run --quiet --horizon 2d --out $(READER)/run/arrow
	./$(BIN) run --quiet --horizon 2d --format parquet --out $(READER)/run/parquet
	NEOSIM_RUN_DIR=$(CURDIR)/$(READER)/run/arrow node --test $(READER)/read.test.mjs
	NEOSIM_RUN_DIR=$(CURDIR)/$(READER)/run/arrow NEOSIM_PARQUET_RUN_DIR=$(CURDIR)/$(READER)/run/parquet \
	  node --test $(READER)/parquet.test.mjs $(READER)/duckdb.test.mjs

# The example notebook (results/notebooks/spare-capacity.ipynb) against a
# fresh, small spare-capacity sweep: its paths and columns exist with their
# types, its answer is well defined (nodejs-polars: Python's polars is not
# installable here).
.PHONY: test-notebook
test-notebook: build
	cd $(READER) && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(READER)/sweep
	./$(BIN) sweep --quiet -f examples/spare-capacity.yaml --horizon 3d --seeds 1-2 --out $(READER)/sweep -j 2
	NEOSIM_SWEEP_DIR=$(CURDIR)/$(READER)/sweep node --test $(READER)/notebook.test.mjs

# neosim advise's report.html in headless Chromium (advise/browser_test.go):
# it renders (a screenshot that is not blank), has no console error and
# shows the recommendation. Installs Debian's chromium with apt-get if
# missing (needs root; about 80 s with apt-get update on 2 cores, so CI
# does not: `make test` runs it only where Chromium already is).
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
test-browser:
	@if [ -z "$(CHROMIUM)" ]; then \
	  echo "test-browser: installing Debian's chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	NEOSIM_CHROMIUM=$$(command -v chromium || command -v chromium-browser) $(GO) test -count=1 -run '^TestReportInChromium$$' ./advise/

test-browser-if-present:
	@if [ -n "$(CHROMIUM)" ]; then $(MAKE) --no-print-directory test-browser; \
	else echo "test-browser: skipped, Chromium is not installed (make test-browser installs it)"; fi

# A real one-node Slurm on localhost (installs slurm-wlm and munge with
# apt-get if missing: needs root): deploy/slurm/sweep.sbatch as a 3-task job
# array and a dependent merge, checked file by file against the same sweep
# run whole; every daemon it starts is stopped. About 15 s once installed,
# 35 s with the install.
# Not part of `make test` (root, apt); .ci/run runs it.
test-slurm: build
	deploy/slurm/test-slurm.sh $(BIN)

# The benchmark suite (neosim bench suite: the hold model against
# container/heap, then the small and medium scenarios, each in a child
# process; results/bench/suite.arrow; SUITE=meta for a year of 1M GPUs),
# engine micro-benchmarks (hold model against a container/heap baseline),
# whole runs (100,000 GPUs and 1,000,000 jobs; the default scenario with and
# without external demand; a 10-million-row trace replay), placement cost per
# policy on 100,000 GPUs, the FGD fragmentation experiment (needs
# ../shared) and neosim compare with 1 and 2 workers (40 runs each, a few
# minutes). docs/performance.md has the numbers.
SUITE ?=
bench: build
	./$(BIN) bench suite $(SUITE)
	$(GO) test -run '^$$' -bench 'Hold' -benchmem ./bench/
	$(GO) test -run '^$$' -bench 'Run100k|DefaultScenario|Overloaded|Replay10M|Fragmentation|Compare' -benchtime 1x -benchmem ./bench/...
	$(GO) test -run '^$$' -bench . -benchmem ./policies/ ./traces/ ./sim/fleet/ ./results/

# Issue 18's goals (the meta year with and without its counterfactual, the
# 1 M-job trace, the small run and sweep, advise), this tree's build against
# GOALS_BASE (a revision or a binary), alternating run by run, GOALS_REPS
# times each: about 15 minutes on 2 cores. bench/goals.sh says more.
GOALS_BASE ?= HEAD
GOALS_REPS ?= 3
goals: build
	bench/goals.sh -n $(GOALS_REPS) $(GOALS_BASE) ./$(BIN)

# Every fuzz target of every package, FUZZTIME each (go test fuzzes one
# target per run).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin $(READER)/run $(READER)/sweep $(READER)/node_modules
