#!/usr/bin/env bash
# Dispatch overhead: N jobs of `true` at -j2, side by side in one run, through
# a bare posix_spawn loop (the practical limit), xargs -P2, GNU parallel -j2
# and headroom (per-job logs on). Prints a Markdown table and the ratios, ready
# to paste into bench/BENCHMARKS.md.
# Then what the journal costs: headroom with and without it (--no-journal),
# run alternately in R rounds, compared round by round (the median of the
# rounds' ratios, so that a noisy moment of the machine hits one round, not
# the result). With BASELINE, the same for this build against another
# headroom binary (before and after a change), both with the journal.
# Usage: [PARALLEL_N=M] [JOURNAL_ROUNDS=R] [BASELINE=BIN] bench/dispatch.sh [N]
#   (N: 10000, R: 5)
#   PARALLEL_N runs GNU parallel on M jobs only (it is slow); its per-job
#   figures are compared, so the ratios stay meaningful.
#   BASELINE: a headroom binary to compare with (e.g. built from main
#   before the change); it must take the same options.
#   The temporary directory (logs, journals) is made in $TMPDIR (or /tmp).
set -euo pipefail

usage() {
  echo "usage: [PARALLEL_N=M] [JOURNAL_ROUNDS=R] bench/dispatch.sh [N]" >&2
  exit 2
}
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

invocation="$(printf '%q ' "$0" "$@")"
[[ -n "${JOURNAL_ROUNDS:-}" ]] && invocation="JOURNAL_ROUNDS=$JOURNAL_ROUNDS $invocation"
[[ -n "${BASELINE:-}" ]] && invocation="BASELINE=$BASELINE $invocation"
[[ -n "${TMPDIR:-}" ]] && invocation="TMPDIR=$TMPDIR $invocation"
[[ -n "${PARALLEL_N:-}" ]] && invocation="PARALLEL_N=$PARALLEL_N $invocation"
(($# <= 1)) || usage
n="${1:-10000}"
parallel_n="${PARALLEL_N:-$n}"
rounds="${JOURNAL_ROUNDS:-5}"
is_count "$n" || usage
is_count "$parallel_n" || usage
is_count "$rounds" || usage
baseline="${BASELINE:-}"
if [[ -n "$baseline" && ! -x "$baseline" ]]; then
  echo "dispatch: error: BASELINE '$baseline' is not an executable headroom" >&2
  exit 2
fi

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

# alternate FILE A CMD_A B CMD_B: runs the two shell commands in `rounds`
# rounds, A first in odd rounds and B first in even ones, and appends
# "round way wall_s" lines to FILE. Fresh log and state dirs each time ($R:
# the round), none removed before the end (on an ext4 without a journal, as
# on some VMs, creating files right after many were deleted is slow, which
# would weigh on one way only).
alternate() {
  local file="$1" a="$2" cmd_a="$3" b="$4" cmd_b="$5" round way cmd status
  for ((round = 1; round <= rounds; round++)); do
    local ways=("$a" "$b")
    ((round % 2)) || ways=("$b" "$a")
    for way in "${ways[@]}"; do
      cmd="$cmd_a"
      [[ "$way" == "$b" ]] && cmd="$cmd_b"
      echo "dispatch: round $round/$rounds, $way: $cmd" >&2
      status=0
      R="$round" T="$tmp" /usr/bin/time -f '%e' -o "$tmp/round.time" \
        bash -c "$cmd" >/dev/null 2>"$tmp/round.err" </dev/null || status=$?
      if ((status != 0)); then
        echo "dispatch: error: $way exited $status; its stderr (tail):" >&2
        tail -n 5 "$tmp/round.err" >&2
        exit 1
      fi
      echo "$round $way $(tail -n 1 "$tmp/round.time")" >>"$file"
    done
  done
}

# medians FILE A B LABEL GOAL: the table of FILE's rounds and the median of
# the rounds' throughput ratios A / B (B's time over A's).
medians() {
  awk -v n="$n" -v a="$2" -v b="$3" -v label="$4" -v goal="$5" '
    { t[$1, $2] = $3; if ($1 > last) last = $1 }
    END {
      printf "| round | %s s | %s s | throughput %s / %s |\n", a, b, a, b
      print "|---:|---:|---:|---:|"
      for (r = 1; r <= last; r++) {
        ratio[r] = t[r, a] > 0 ? t[r, b] / t[r, a] : 0
        printf "| %d | %.2f | %.2f | %.3f |\n", r, t[r, a], t[r, b], ratio[r]
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
      printf "| %s, median of %d rounds of %d jobs | %.3f | %s |\n", label, last, n, median, goal
    }' "$1"
}

# The journal's cost.
journal_cmd="seq $n | build/headroom run -j2 --log-dir \"\$T/jl\$R\" --state-dir \"\$T/js\$R\" -- true"
no_journal_cmd="seq $n | build/headroom run -j2 --no-journal --log-dir \"\$T/nl\$R\" -- true"
alternate "$tmp/rounds" journal "$journal_cmd" no_journal "$no_journal_cmd"
commands+=("with the journal (\$R: the round): $journal_cmd" "without: $no_journal_cmd")
# This build against the baseline.
if [[ -n "$baseline" ]]; then
  baseline_cmd="seq $n | \"$baseline\" run -j2 --log-dir \"\$T/bl\$R\" --state-dir \"\$T/bs\$R\" -- true"
  alternate "$tmp/baseline_rounds" headroom "$journal_cmd" baseline "$baseline_cmd"
  commands+=("baseline: $baseline_cmd")
fi

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
medians "$tmp/rounds" journal no_journal "with the journal / --no-journal" ">= 0.90"
if [[ -n "$baseline" ]]; then
  echo
  medians "$tmp/baseline_rounds" headroom baseline "this build / BASELINE" ">= 0.95 (within noise)"
fi

if awk '$7 != 0 { bad = 1 } END { exit !bad }' "$tmp/results"; then
  echo "dispatch: error: a tool failed (see 'exit' above)" >&2
  exit 1
fi
