#!/usr/bin/env bash
# Slurm: N short jobs (default 200, each `sleep 0.2`) through
#   headroom   headroom run --executor slurm -j N (its first job alone shows
#              the class's memory, then the rest go at once), and the same
#              with --ram-per-job (no such first job)
#   loop       what users hand-write: one sbatch per job, then squeue every
#              second until none is left
#   array      one sbatch --array=1-N, then squeue every second
# on a private single-node cluster on loopback (tests/slurm/cluster.sh, its
# node given CLUSTER_CPUS=64 CPUs so that the jobs, which idle, all fit).
# Prints, per method: wall time from the first submit to the last job's end,
# and the Slurm calls it made (sbatch, squeue, scontrol, scancel, counted by
# shims on PATH).
# Usage: bench/slurm.sh [JOBS]
set -euo pipefail

usage() {
  echo "usage: bench/slurm.sh [JOBS]" >&2
  exit 2
}
(($# <= 1)) || usage
jobs="${1:-200}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || usage
invocation="$(printf '%q ' "$0" "$@")"

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bench_name=slurm
source bench/lib.sh
bench_need slurmctld slurm-wlm
bench_need munged munge
bench_build headroom
bench_tmp
load="$(cut -d' ' -f1-3 /proc/loadavg)"

cluster="$tmp/cluster"
stop_cluster() { tests/slurm/cluster.sh stop "$cluster" >/dev/null 2>&1 || true; }
trap 'stop_cluster; rm -rf "$tmp"' EXIT
eval "$(CLUSTER_CPUS=64 tests/slurm/cluster.sh start "$cluster")"
export SLURM_CONF

# Shims that count each Slurm call, then run the real command.
mkdir -p "$tmp/shims"
for tool in sbatch squeue scontrol scancel; do
  real="$(command -v "$tool")"
  printf '#!/bin/sh\necho %s >> "%s/calls"\nexec %s "$@"\n' "$tool" "$tmp" "$real" >"$tmp/shims/$tool"
  chmod +x "$tmp/shims/$tool"
done
export PATH="$tmp/shims:$PATH"
printf '#!/bin/sh\nsleep 0.2\n' >"$tmp/job.sh"
chmod +x "$tmp/job.sh"

# wait_queue NAME: until squeue lists no job named NAME, asking once a second.
wait_queue() {
  while [[ -n "$(squeue --noheader --format=%i --name="$1")" ]]; do sleep 1; done
}

rows=""
# measure NAME COMMAND...: wall time and calls of one method.
measure() {
  local name="$1" start end calls
  shift
  : >"$tmp/calls"
  start="$(date +%s.%N)"
  "$@"
  end="$(date +%s.%N)"
  calls="$(sort "$tmp/calls" | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')"
  local total
  total="$(wc -l <"$tmp/calls")"
  rows+="$(awk -v n="$name" -v s="$start" -v e="$end" -v c="$calls" -v t="$total" \
    'BEGIN { printf "| %s | %.1f | %d | %s |", n, e - s, t, c }')"$'\n'
  echo "slurm: $name done" >&2
}

# run_headroom [OPTION...]: a fresh state dir each time (nothing learned).
run_headroom() {
  rm -rf "$tmp/state"
  (cd "$tmp" && seq "$jobs" | "$OLDPWD/build/headroom" run --executor slurm -j "$jobs" \
    --slurm-poll 1s --no-job-output --state-dir "$tmp/state" "$@" -- "$tmp/job.sh" \
    >/dev/null 2>"$tmp/headroom.err")
}
run_loop() {
  for i in $(seq "$jobs"); do
    sbatch --parsable --job-name bench-loop --output=/dev/null --wrap "$tmp/job.sh $i" >/dev/null
  done
  wait_queue bench-loop
}
run_array() {
  sbatch --parsable --job-name bench-array --output=/dev/null --array="1-$jobs" \
    --wrap "$tmp/job.sh \$SLURM_ARRAY_TASK_ID" >/dev/null
  wait_queue bench-array
}

measure headroom run_headroom
measure "headroom --ram-per-job 64M" run_headroom --ram-per-job 64M
measure "sbatch loop" run_loop
measure "sbatch --array" run_array

cat <<EOF
- date: $(date '+%Y-%m-%d %H:%M:%S %z')
- machine: $(uname -srm), $(nproc) cores; Slurm $(sbatch --version | awk '{ print $2 }'), private single-node cluster (64 CPUs declared)
- command: \`${invocation% }\`
- load average before the run: $load

$jobs jobs of \`sleep 0.2\`; wall time from the first submit to the last job's end.

| method | wall s | Slurm calls | by command |
|---|---:|---:|---|
${rows}
EOF
