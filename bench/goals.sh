#!/usr/bin/env bash
# Issue 18's goals, measured back to back: each measure runs REPS times per
# binary, the binaries alternating run by run, so that a machine whose
# speed drifts (docs/performance.md: one binary ran the meta year in 28 s
# and 40 s six minutes apart) treats them alike. Prints a log line per run
# and, at the end, a Markdown table of every run's numbers per binary.
#
#   bench/goals.sh [-n REPS] [-o DIR] [-m MEASURES] REV_OR_BINARY...
#
# Each argument is a neosim binary or a git revision of this repository,
# built here (GOAMD64=v1, as make builds, with the profile the revision
# carries). MEASURES is a comma-separated list of
#   year      meta, 365 days, counterfactual off, all outputs (≤ 20 s, ≤ 300 MB; jobs.arrow ≤ 1 GB)
#   year-cf   meta, 365 days, with its counterfactual (≤ 30 s)
#   trace     1,000,000 jobs of a canonical CSV trace on 100,000 GPUs, fifo, whole process (≤ 1.0 s)
#   small     neosim bench suite's small-run rows: the fixed cost of one
#             small run (median of 200 processes; ≤ 20 ms) and a sweep of
#             200 with 1 and 2 workers (runs/min; ≥ 1.8×)
#   advise    neosim advise on the default scenario, its default grid (≤ 3 min)
# (default: all of them; about 15 minutes for two binaries and REPS=3 on a
# 2-core machine). Every run's output is hashed: the table shows where two
# binaries wrote different bytes.
set -euo pipefail

reps=3 out=${TMPDIR:-/tmp}/neosim-goals measures=year,year-cf,trace,small,advise
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while getopts "n:o:m:h" opt; do
	case $opt in
	n) reps=$OPTARG ;;
	o) out=$OPTARG ;;
	m) measures=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[ -x /usr/bin/time ] || { echo "goals.sh: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Resolve each argument to a binary.
bins=() names=()
for arg in "$@"; do
	if [ -f "$arg" ] && [ -x "$arg" ]; then
		bins+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")")
		names+=("$arg")
		continue
	fi
	rev=$(git -C "$repo" rev-parse --verify --short "$arg^{commit}" 2>/dev/null) ||
		{ echo "goals.sh: $arg is neither an executable file nor a revision of $repo" >&2; exit 2; }
	bin=$out/neosim-$rev
	if [ ! -x "$bin" ]; then
		echo "goals.sh: building $arg ($rev) into $bin" >&2
		wt=$out/src-$rev
		rm -rf "$wt"
		git -C "$repo" worktree add --detach --force "$wt" "$rev" >/dev/null
		(cd "$wt" && GOAMD64=v1 go build -o "$bin" ./cmd/neosim)
		git -C "$repo" worktree remove --force "$wt"
	fi
	bins+=("$bin")
	names+=("$rev")
done

log=$out/goals.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
meta=$repo/bench/scenarios/meta.yaml
declare -A rows # "measure|binary index" -> the runs' cells, comma-separated

# timed BIN DIR ARGS...: runs BIN ARGS into DIR (removed first) and sets
# wall, user, sys (seconds) and rss (MB). A failed run ends the script.
timed() {
	local bin=$1 dir=$2
	shift 2
	rm -rf "$dir"
	if ! /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$bin" "$@" >"$out/stdout" 2>"$out/stderr"; then
		echo "goals.sh: $bin $* failed:" >&2
		tail -5 "$out/stderr" >&2
		exit 1
	fi
	read -r wall user sys rss < <(awk '{printf "%s %s %s %.0f\n", $1, $2, $3, $4 / 1024}' "$out/time")
}
sha() { sha256sum "$1" | cut -c1-8; }
add() { rows["$1|$2"]+="${rows["$1|$2"]:+, }$3"; }
# addu adds a cell only if the row does not hold it yet (hashes, sizes).
addu() { [[ ", ${rows["$1|$2"]:-}, " == *", $3, "* ]] || add "$@"; }

trace=$out/jobs1m.csv
if [[ ,$measures, == *,trace,* ]] && [ ! -f "$trace" ]; then
	echo "goals.sh: writing the 1,000,000-job trace (neosim bench suite's) to $trace" >&2
	rm -rf "$out/tracegen"
	"${bins[0]}" bench suite small --hold=false --small-runs 0 --keep-runs --quiet --out "$out/tracegen" >/dev/null
	mv "$out/tracegen/runs/trace/jobs.csv" "$trace"
	rm -rf "$out/tracegen"
fi

say "== $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); binaries: ${names[*]}"
IFS=, read -ra want <<<"$measures"
for m in "${want[@]}"; do
	for rep in $(seq "$reps"); do
		for i in "${!bins[@]}"; do
			# A fresh copy of the binary for every run: how a binary's file
			# sits in the page cache moves a small run by 1.5 ms (a copy
			# made an hour and a few meta years before ran 8% slower than
			# a fresh copy of the same bytes, in 10 of 12 pairs).
			bin=$out/exe-$i name=${names[$i]} d=$out/run
			cp -f "${bins[$i]}" "$bin.new" && mv -f "$bin.new" "$bin"
			case $m in
			year | year-cf)
				cf=false
				[ "$m" = year-cf ] && cf=true
				timed "$bin" "$d" run --scenario "$meta" --quiet --counterfactual=$cf --out "$d"
				size=$(stat -c %s "$d/jobs.arrow")
				add "$m" "$i" "$wall s"
				add "$m-rss" "$i" "$rss MB"
				[ "$m" = year ] && addu jobs-arrow "$i" "$size B"
				addu "$m-sha" "$i" "$(sha "$d/jobs.arrow")"
				say "$m $name rep $rep: wall $wall s, user $user s, sys $sys s, peak RSS $rss MB, jobs.arrow $size B $(sha "$d/jobs.arrow"), load $(cut -d' ' -f1 /proc/loadavg)"
				;;
			trace)
				timed "$bin" "$d" run --trace "$trace" --fleet 12500x8xH100 --allocator fifo --external=false --horizon 0 --quiet --out "$d"
				add trace "$i" "$wall s"
				addu trace-sha "$i" "$(sha "$d/jobs.arrow")"
				say "trace $name rep $rep: wall $wall s, user $user s, sys $sys s, peak RSS $rss MB, jobs.arrow $(sha "$d/jobs.arrow")"
				;;
			small)
				timed "$bin" "$d" bench suite small --small-runs 200 --hold=false --trace-jobs 0 --quiet --out "$d"
				fixed=$(awk '$1 == "small-1d-summary" {print $3 " " $4}' "$out/stdout")
				j1=$(awk '$1 == "small-1d-summary-j1" {print $NF}' "$out/stdout")
				j2=$(awk '$1 ~ /^small-1d-summary-j[2-9]/ {print $NF}' "$out/stdout")
				ratio=$(awk -v a="$j1" -v b="$j2" 'BEGIN {printf "%.2f", b / a}')
				add small "$i" "$fixed"
				add sweep "$i" "${ratio}× ($j1 → $j2 runs/min)"
				say "small $name rep $rep: fixed cost $fixed, sweep $j1 → $j2 runs/min (${ratio}×)"
				;;
			advise)
				timed "$bin" "$d" advise --quiet --out "$d"
				add advise "$i" "$wall s"
				addu advise-sha "$i" "$(sha "$d/advice.arrow")"
				say "advise $name rep $rep: wall $wall s, user $user s, sys $sys s, peak RSS $rss MB, advice.arrow $(sha "$d/advice.arrow")"
				;;
			*)
				echo "goals.sh: unknown measure $m (year, year-cf, trace, small, advise)" >&2
				exit 2
				;;
			esac
		done
	done
done
rm -rf "$out/run" "$out"/exe-*
say "== $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"

# The table: a row per measure, a column per binary.
declare -A label=(
	[year]="meta year, counterfactual off (≤ 20 s)" [year-rss]="its peak RSS (≤ 300 MB)"
	[jobs-arrow]="its jobs.arrow (≤ 1 GB)" [year-sha]="its jobs.arrow's sha256"
	[year-cf]="meta year, counterfactual on (≤ 30 s)" [year-cf-rss]="its peak RSS" [year-cf-sha]="its jobs.arrow's sha256"
	[trace]="1 M-job CSV trace, whole process (≤ 1.0 s)" [trace-sha]="its jobs.arrow's sha256"
	[small]="small run, median of 200 (≤ 20 ms)" [sweep]="sweep of 200 small runs, 1 → 2 workers (≥ 1.8×)"
	[advise]="advise, default grid (≤ 3 min)" [advise-sha]="advice.arrow's sha256"
)
{
	echo
	printf '| measure |'
	printf ' %s |' "${names[@]}"
	printf '\n|---|'
	printf -- '---|%.0s' "${names[@]}"
	echo
	for key in year year-rss jobs-arrow year-sha year-cf year-cf-rss year-cf-sha trace trace-sha small sweep advise advise-sha; do
		[ -n "${rows["$key|0"]:-}" ] || continue
		printf '| %s |' "${label[$key]}"
		for i in "${!bins[@]}"; do printf ' %s |' "${rows["$key|$i"]}"; done
		echo
	done
} | tee -a "$log"
echo "goals.sh: the log is $log" >&2
