#!/usr/bin/env bash
# A real Slurm run of deploy/slurm/sweep.sbatch (make test-slurm): installs
# Debian's slurm-wlm and munge if they are missing (apt-get; needs root),
# writes a one-node slurm.conf for this machine into a fresh temporary
# folder, starts munged, slurmctld and slurmd bound to 127.0.0.1 on their
# own socket, ports and state folders (nothing of the system's Slurm or
# munge is used or changed), submits sweep.sbatch as a job array of 3 tasks
# for a small sweep and a merge job that depends on it, waits for both (at
# most NEOSIM_SLURM_TIMEOUT seconds), and checks that the merged sweep is
# byte-identical, file by file, to the same sweep run whole in one process.
# Every daemon it started is stopped on exit, failure or interrupt
# included. Lines starting "test-slurm:" are the log's summary.
#
#   deploy/slurm/test-slurm.sh [path/to/neosim]     # default bin/neosim
#
# Environment: NEOSIM_SLURM_TIMEOUT (s, default 300) bounds the wait for the
# jobs; NEOSIM_SLURM_PORT (default 16817) is slurmctld's port, slurmd
# takes the next one; NEOSIM_SLURM_KEEP=1 keeps the temporary folder.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
neosim=$(realpath "${1:-$repo/bin/neosim}")
timeout_s=${NEOSIM_SLURM_TIMEOUT:-300}
port=${NEOSIM_SLURM_PORT:-16817}
start=$(date +%s)

say() { echo "test-slurm: $*"; }
fail() {
	say "FAIL: $*"
	exit 1
}

[ -x "$neosim" ] || fail "$neosim is not an executable (make build)"

# --- install -------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
	! command -v munged >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "slurm-wlm and munge are not installed, and installing them needs root"
	say "installing slurm-wlm and munge (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), $(munged -V 2>&1 | awk '{print $1; exit}')"
[ "$(id -u)" = 0 ] || fail "the daemons run as root here (SlurmUser=root): run as root"

# --- cleanup, armed before anything starts --------------------------------
work=$(mktemp -d /tmp/neosim-slurm.XXXXXX)
chmod 700 "$work"
pids=()  # daemons started, in start order
names=()
jobs=()  # Slurm job ids submitted
export SLURM_CONF=$work/slurm.conf

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ ${#jobs[@]} -gt 0 ] && [ -n "$(squeue -h -j "$(
		IFS=,
		echo "${jobs[*]}"
	)" 2>/dev/null)" ]; then
		say "cancelling unfinished jobs ${jobs[*]}"
		scancel "${jobs[@]}" 2>/dev/null || true
		sleep 2
	fi
	# Stop the daemons in reverse start order: slurmd, slurmctld, munged.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "${pids[i]}" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "${pids[i]}" 2>/dev/null; then
			kill -KILL "${pids[i]}" 2>/dev/null || true
		fi
		wait "${pids[i]}" 2>/dev/null || true
		if kill -0 "${pids[i]}" 2>/dev/null; then
			say "${names[i]} (pid ${pids[i]}) did not stop"
			rc=1
		else
			say "stopped ${names[i]} (pid ${pids[i]})"
		fi
	done
	if [ $rc -ne 0 ]; then
		for f in "$work"/log/*.log; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f"
			tail -n 20 "$f"
		done
	fi
	if [ "${NEOSIM_SLURM_KEEP:-}" = 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
	say "$([ $rc -eq 0 ] && echo PASS || echo FAIL) in $(($(date +%s) - start)) s"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port taken by something else would make a daemon fail in a confusing way.
for p in "$port" $((port + 1)); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		fail "port $p on 127.0.0.1 is in use (set NEOSIM_SLURM_PORT)"
	fi
done

mkdir -p "$work"/{state,spool,log,run,out}
mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4))
cpus=$(nproc)

# --- munge: its own key and socket ----------------------------------------
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --foreground --force --key-file="$work/munge.key" --socket="$work/run/munge.socket" \
	--pid-file="$work/run/munged.pid" --log-file="$work/log/munged.log" \
	--seed-file="$work/run/munged.seed" 2>/dev/null &
pids+=($!)
names+=(munged)

# --- slurm.conf: one node, localhost only ---------------------------------
cat >"$SLURM_CONF" <<EOF
# Written by deploy/slurm/test-slurm.sh: one node on 127.0.0.1.
ClusterName=neosimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
# Bind to 127.0.0.1 (the address the names resolve to), not to every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/run/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=neosim-node NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=neosim Nodes=neosim-node Default=YES MaxTime=INFINITE State=UP
EOF

for _ in $(seq 50); do
	[ -S "$work/run/munge.socket" ] && break
	sleep 0.1
done
[ -S "$work/run/munge.socket" ] || fail "munged did not start"
say "munged up (pid ${pids[0]})"

# -D: in the foreground, so that $! is the daemon; the logs go to $work/log.
slurmctld -D -f "$SLURM_CONF" 2>/dev/null &
pids+=($!)
names+=(slurmctld)
slurmd -D -f "$SLURM_CONF" -N neosim-node 2>/dev/null &
pids+=($!)
names+=(slurmd)

up=
for _ in $(seq 100); do
	state=$(sinfo -h -N -n neosim-node -o %T 2>/dev/null || true)
	case $state in idle*)
		up=1
		break
		;;
	esac
	for i in "${!pids[@]}"; do
		kill -0 "${pids[i]}" 2>/dev/null || fail "${names[i]} exited"
	done
	sleep 0.3
done
[ -n "$up" ] || fail "node neosim-node not idle (state: ${state:-none})"
say "slurmctld (pid ${pids[1]}) and slurmd (pid ${pids[2]}) up; node neosim-node idle, $cpus CPUs"
if command -v ss >/dev/null; then
	listen=$(ss -Hltnp | awk -v a=":$port" -v b=":$((port + 1))" '$4 ~ a"$" || $4 ~ b"$" {print $4}' | sort | tr '\n' ' ')
	say "listening on: $listen"
	case $listen in *0.0.0.0* | *"*:"* | *"[::]"*) fail "a daemon listens beyond localhost: $listen" ;; esac
fi

# --- the sweep: 3 array tasks, then a dependent merge ---------------------
sweep=$repo/examples/spare-capacity.yaml
small=(--horizon 2d --seeds 1-2) # 5 variants × 2 seeds: 10 runs, 3 shards
out=$work/out/sweep
arr=$(NEOSIM=$neosim sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=512M \
	--chdir="$work/out" --output="$work/log/sweep-%A_%a.log" \
	"$repo/deploy/slurm/sweep.sbatch" "$sweep" "$out" "${small[@]}")
jobs+=("$arr")
mrg=$(sbatch --parsable --dependency=afterok:"$arr" --cpus-per-task=1 --mem=512M \
	--chdir="$work/out" --output="$work/log/merge-%j.log" \
	--wrap "'$neosim' merge '$out'")
jobs+=("$mrg")
say "submitted array job $arr (tasks 0-2) and merge job $mrg (afterok:$arr)"

deadline=$(($(date +%s) + timeout_s))
while :; do
	m=$(scontrol show job -o "$mrg" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
	case $m in
	COMPLETED) break ;;
	PENDING | CONFIGURING | RUNNING | COMPLETING) ;;
	*)
		scontrol show job -o "$arr" "$mrg" || true
		fail "merge job $mrg ended $m"
		;;
	esac
	[ "$(date +%s)" -lt "$deadline" ] || fail "jobs not done after $timeout_s s (merge job: $m)"
	sleep 1
done
tasks=$(scontrol show job -o "$arr" | grep -c 'JobState=COMPLETED' || true)
ntasks=$(scontrol show job -o "$arr" | grep -c 'ArrayTaskId=' || true)
[ "$tasks" = 3 ] && [ "$ntasks" = 3 ] || {
	scontrol show job -o "$arr"
	fail "$tasks of $ntasks array tasks completed, want 3 of 3"
}
# field JOB NAME: one field of scontrol's one-line record of a job.
field() { scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
last_end=
total=0
for t in 0 1 2; do
	# In a log (not a terminal) sweep prints one line per finished run,
	# "[k/n] allocator=… pricer=… seed=N: …" (a run's warnings name it too,
	# prefixed "run ").
	n=$(grep -cE '^\[[0-9]+/[0-9]+\] .*seed=' "$work/log/sweep-${arr}_$t.log" || true)
	[ "$n" -gt 0 ] || fail "array task ${arr}_$t ran no run (log: $(head -c 300 "$work/log/sweep-${arr}_$t.log"))"
	total=$((total + n))
	end=$(field "${arr}_$t" EndTime)
	[[ $end > $last_end ]] && last_end=$end
	say "array task ${arr}_$t COMPLETED (exit $(field "${arr}_$t" ExitCode)): $n runs, shard $t/3, ended $end"
done
[ "$total" = 10 ] || fail "the array tasks ran $total runs, want 10"
mstart=$(field "$mrg" StartTime)
[[ ! $mstart < $last_end ]] || fail "merge job started at $mstart, before the last array task ended ($last_end)"
say "merge job $mrg COMPLETED (exit $(field "$mrg" ExitCode)), started $mstart, after the last task ended"

# --- the same sweep whole, in one process ---------------------------------
whole=$work/out/whole
"$neosim" sweep -f "$sweep" --out "$whole" --quiet "${small[@]}" -j "$cpus"

runs=$(find "$out" -name run.json | wc -l)
[ "$runs" = 10 ] || fail "$runs runs in the merged sweep, want 10"
cmp "$out/comparison.arrow" "$whole/comparison.arrow" || fail "merged comparison.arrow differs from the whole sweep's"
say "comparison.arrow: merged = whole, byte for byte ($(stat -c %s "$out/comparison.arrow") bytes, sha256 $(sha256sum "$out/comparison.arrow" | cut -c1-16))"
# Every other file byte for byte, run.json without its wall_s (the run's
# wall-clock time, the one field that differs between two runs of a sweep).
nfiles=0
while IFS= read -r -d '' f; do
	rel=${f#"$out"/}
	[ -f "$whole/$rel" ] || fail "$rel: in the merged sweep only"
	case $rel in
	*/run.json) diff <(sed '/"wall_s":/d' "$f") <(sed '/"wall_s":/d' "$whole/$rel") >/dev/null ||
		fail "$rel differs from the whole sweep's (beyond wall_s)" ;;
	*) cmp -s "$f" "$whole/$rel" || fail "$rel differs from the whole sweep's" ;;
	esac
	nfiles=$((nfiles + 1))
done < <(find "$out" -type f -print0)
[ "$nfiles" = "$(find "$whole" -type f | wc -l)" ] || fail "the whole sweep has files the merged one lacks"
say "all $nfiles files equal to the whole sweep's (run.json: but for wall_s), plots included"
