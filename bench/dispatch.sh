#!/usr/bin/env bash
# Dispatch overhead: N jobs of `true` at -j2, side by side in one run, through
# a bare posix_spawn loop (the practical limit), xargs -P2, GNU parallel -j2
# and headroom (per-job logs on). Prints a Markdown table and the ratios, ready
# to paste into bench/BENCHMARKS.md.
# Then what the journal costs: headroom with and without it (--no-journal),
# run alternately in R rounds, compared round by round (the median of the
# rounds' ratios, so that a noisy moment of the machine hits one round, not
# the result).
# Usage: [PARALLEL_N=M] [JOURNAL_ROUNDS=R] bench/dispatch.sh [N]   (N: 10000, R: 5)
#   PARALLEL_N runs GNU parallel on M jobs only (it is slow); its per-job
#   figures are compared, so the ratios stay meaningful.
#   The temporary directory (logs, journals) is made in $TMPDIR (or /tmp).
set -euo pipefail

usage() {
  echo "usage: [PARALLEL_N=M] [JOURNAL_ROUNDS=R] bench/dispatch.sh [N]" >&2
  exit 2
}
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

invocation="$(printf '%q ' "$0" "$@")"
[[ -n "${JOURNAL_ROUNDS:-}" ]] && invocation="JOURNAL_ROUNDS=$JOURNAL_ROUNDS $invocation"
[[ -n "${TMPDIR:-}" ]] && invocation="TMPDIR=$TMPDIR $invocation"
[[ -n "${PARALLEL_N:-}" ]] && invocation="PARALLEL_N=$PARALLEL_N $invocation"
(($# <= 1)) || usage
n="${1:-10000}"
parallel_n="${PARALLEL_N:-$n}"
rounds="${JOURNAL_ROUNDS:-5}"
is_count "$n" || usage
is_count "$parallel_n" || usage
is_count "$rounds" || usage

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

bench_name=dispatch
source bench/lib.sh
bench_need cc build-essential
bench_need cmake cmake
bench_need seq coreutils
bench_need xargs findutils
bench_need parallel parallel
bench_need awk mawk
bench_need /usr/bin/time time
bench_build headroom
bench_tmp
cc -O2 -o "$tmp/spawn_loop" bench/spawn_loop.c

commands=()
bench_measure spawn_loop "$n" "\"\$T/spawn_loop\" $n 2 /bin/true"
bench_measure xargs "$n" "seq $n | xargs -P2 -n1 true"
bench_measure parallel "$parallel_n" "seq $parallel_n | parallel --will-cite -j2 true"
bench_measure headroom "$n" "seq $n | build/headroom run -j2 --log-dir \"\$T/logs\" --state-dir \"\$T/state\" -- true"

# The journal's cost: in odd rounds with the journal first, in even ones
# without it first; fresh log and state dirs each time, none removed before
# the end (on an ext4 without a journal, as on some VMs, creating files
# right after many were deleted is slow, which would weigh on one way only).
journal_cmd="seq $n | build/headroom run -j2 --log-dir \"\$T/jl\$R\" --state-dir \"\$T/js\$R\" -- true"
no_journal_cmd="seq $n | build/headroom run -j2 --no-journal --log-dir \"\$T/nl\$R\" -- true"
for ((round = 1; round <= rounds; round++)); do
  ways=(journal no_journal)
  ((round % 2)) || ways=(no_journal journal)
  for way in "${ways[@]}"; do
    cmd="$journal_cmd"
    [[ "$way" == no_journal ]] && cmd="$no_journal_cmd"
    echo "dispatch: journal round $round/$rounds, $way: $cmd" >&2
    status=0
    R="$round" T="$tmp" /usr/bin/time -f '%e' -o "$tmp/round.time" \
      bash -c "$cmd" >/dev/null 2>"$tmp/round.err" </dev/null || status=$?
    if ((status != 0)); then
      echo "dispatch: error: headroom ($way) exited $status; its stderr (tail):" >&2
      tail -n 5 "$tmp/round.err" >&2
      exit 1
    fi
    echo "$round $way $(tail -n 1 "$tmp/round.time")" >>"$tmp/rounds"
  done
done
commands+=("with the journal (\$R: the round): $journal_cmd" "without: $no_journal_cmd")

echo "# bench/dispatch.sh"
echo
echo "- date: $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "- machine: $(uname -srm), $(nproc) cores"
echo "- command: \`${invocation% }\`"
echo "- each tool, run from the repository root (\$T: a temporary directory):"
echo
for c in "${commands[@]}"; do echo "      $c"; done
echo
awk '
  {
    name[NR] = $1; jobs[$1] = $2; wall[$1] = $3; cpu[$1] = $4 + $5
    rss[$1] = $6 / 1024; status[$1] = $7
    rate[$1] = $3 > 0 ? $2 / $3 : 0
  }
  # A tool that failed or ran too fast to time has no meaningful ratio.
  function ok(t) { return status[t] == 0 && rate[t] > 0 }
  function ratio(a, b) { return (ok(a) && ok(b)) ? sprintf("%.2f", rate[a] / rate[b]) : "n/a" }
  END {
    print "| tool | jobs | wall s | cpu s | peak RSS MiB | jobs/s | ms/job | exit |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) {
      t = name[i]
      ms = rate[t] > 0 ? 1000 / rate[t] : 0
      printf "| %s | %d | %.2f | %.2f | %.1f | %.0f | %.2f | %d |\n", t, jobs[t], wall[t], cpu[t],
             rss[t], rate[t], ms, status[t]
    }
    print ""
    print "| ratio (throughput) | value | goal |"
    print "|---|---:|---|"
    printf "| headroom / xargs | %s | >= 1.0 |\n", ratio("headroom", "xargs")
    printf "| headroom / parallel | %s | >= 6 |\n", ratio("headroom", "parallel")
    printf "| spawn_loop / headroom | %s | <= 1.5 |\n", ratio("spawn_loop", "headroom")
    printf "| headroom peak RSS MiB | %.1f | < 20 MB (19.1 MiB) |\n", rss["headroom"]
  }' "$tmp/results"

echo
awk -v n="$n" '
  { t[$1, $2] = $3; if ($1 > last) last = $1 }
  END {
    print "| round | with the journal s | --no-journal s | throughput with / without |"
    print "|---:|---:|---:|---:|"
    for (r = 1; r <= last; r++) {
      ratio[r] = t[r, "journal"] > 0 ? t[r, "no_journal"] / t[r, "journal"] : 0
      printf "| %d | %.2f | %.2f | %.3f |\n", r, t[r, "journal"], t[r, "no_journal"], ratio[r]
    }
    # The median of the rounds ratios (insertion sort: R is small).
    for (i = 2; i <= last; i++) {
      v = ratio[i]
      for (j = i - 1; j >= 1 && ratio[j] > v; j--) ratio[j + 1] = ratio[j]
      ratio[j + 1] = v
    }
    median = last % 2 ? ratio[(last + 1) / 2] : (ratio[last / 2] + ratio[last / 2 + 1]) / 2
    print ""
    print "| ratio (throughput) | value | goal |"
    print "|---|---:|---|"
    printf "| with the journal / --no-journal, median of %d rounds of %d jobs | %.3f | >= 0.90 |\n",
           last, n, median
  }' "$tmp/rounds"

if awk '$7 != 0 { bad = 1 } END { exit !bad }' "$tmp/results"; then
  echo "dispatch: error: a tool failed (see 'exit' above)" >&2
  exit 1
fi
