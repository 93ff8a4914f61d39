#!/usr/bin/env bash
# Programs that load a model: N jobs (default 500) of a program that spends
# 0.2 s loading, then 5 ms per input (bench/model_job.c), at -j2, three ways
# side by side in one run: one process per job, --batch-size auto (many
# inputs per process) and --worker (one process per slot, jobs over stdin).
# Prints a Markdown table and the throughput ratios, for bench/BENCHMARKS.md.
# Usage: bench/workers.sh [N]
set -euo pipefail

usage() {
  echo "usage: bench/workers.sh [N]" >&2
  exit 2
}
(($# <= 1)) || usage
n="${1:-500}"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || usage
invocation="$(printf '%q ' "$0" "$@")"

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

bench_name=workers
source bench/lib.sh
bench_need cc build-essential
bench_need cmake cmake
bench_need seq coreutils
bench_need awk mawk
bench_need /usr/bin/time time
bench_build headroom
bench_tmp
cc -O2 -o "$tmp/model_job" bench/model_job.c
seq "$n" >"$tmp/inputs"

commands=()
bench_measure per_job "$n" "build/headroom run -j2 --log-dir \"\$T/l1\" --state-dir \"\$T/s1\" -- \"\$T/model_job\" {} <\"\$T/inputs\""
bench_measure batch_auto "$n" "build/headroom run -j2 --batch-size auto --log-dir \"\$T/l2\" --state-dir \"\$T/s2\" -- \"\$T/model_job\" {} <\"\$T/inputs\""
bench_measure worker "$n" "build/headroom run -j2 --worker --log-dir \"\$T/l3\" --state-dir \"\$T/s3\" -- \"\$T/model_job\" --worker <\"\$T/inputs\""

echo "# bench/workers.sh"
echo
echo "- date: $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "- machine: $(uname -srm), $(nproc) cores"
echo "- command: \`${invocation% }\`"
echo "- $n jobs; the program sleeps 200 ms once, then 5 ms per input; each way, from the"
echo "  repository root (\$T: a temporary directory, \$T/inputs: \`seq $n\`):"
echo
for c in "${commands[@]}"; do echo "      $c"; done
echo
awk -v n="$n" '
  {
    name[NR] = $1; wall[$1] = $3; cpu[$1] = $4 + $5; rss[$1] = $6 / 1024; status[$1] = $7
    rate[$1] = $3 > 0 ? $2 / $3 : 0
  }
  function ok(t) { return status[t] == 0 && rate[t] > 0 }
  function ratio(a, b) { return (ok(a) && ok(b)) ? sprintf("%.1f", rate[a] / rate[b]) : "n/a" }
  END {
    print "| way | wall s | cpu s | headroom peak RSS MiB | jobs/s | exit |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) {
      t = name[i]
      printf "| %s | %.2f | %.2f | %.1f | %.1f | %d |\n", t, wall[t], cpu[t], rss[t], rate[t], status[t]
    }
    print ""
    print "| ratio (throughput) | value |"
    print "|---|---:|"
    printf "| batch_auto / per_job | %s |\n", ratio("batch_auto", "per_job")
    printf "| worker / per_job | %s |\n", ratio("worker", "per_job")
    printf "| worker / batch_auto | %s |\n", ratio("worker", "batch_auto")
    # The floor: 200 ms of loading per slot, then n x 5 ms shared by two slots.
    printf "| ideal (2 loads, then inputs on 2 slots), s | %.2f |\n", 0.2 + n * 0.005 / 2
  }' "$tmp/results"

if awk '$7 != 0 { bad = 1 } END { exit !bad }' "$tmp/results"; then
  echo "workers: error: a way failed (see 'exit' above)" >&2
  exit 1
fi
