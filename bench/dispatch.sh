#!/usr/bin/env bash
# Dispatch overhead: N jobs of `true` at -j2, side by side in one run, through
# a bare posix_spawn loop (the practical limit), xargs -P2, GNU parallel -j2
# and headroom (per-job logs on). Prints a Markdown table and the ratios, ready
# to paste into bench/BENCHMARKS.md.
# Usage: [PARALLEL_N=M] bench/dispatch.sh [N]     (N defaults to 10000)
#   PARALLEL_N runs GNU parallel on M jobs only (it is slow); its per-job
#   figures are compared, so the ratios stay meaningful.
set -euo pipefail

usage() {
  echo "usage: [PARALLEL_N=M] bench/dispatch.sh [N]" >&2
  exit 2
}
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

invocation="$(printf '%q ' "$0" "$@")"
[[ -n "${PARALLEL_N:-}" ]] && invocation="PARALLEL_N=$PARALLEL_N $invocation"
(($# <= 1)) || usage
n="${1:-10000}"
parallel_n="${PARALLEL_N:-$n}"
is_count "$n" || usage
is_count "$parallel_n" || usage

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

need() {  # need COMMAND PACKAGE
  if ! command -v "$1" >/dev/null; then
    echo "dispatch: error: '$1' not found: install the Debian package '$2'" >&2
    exit 1
  fi
}
need cc build-essential
need cmake cmake
need seq coreutils
need xargs findutils
need parallel parallel
need awk mawk
[[ -x /usr/bin/time ]] || { echo "dispatch: error: /usr/bin/time not found: install the Debian package 'time'" >&2; exit 1; }

if [[ ! -x build/headroom ]]; then
  echo "dispatch: building build/headroom (Release)" >&2
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHEADROOM_WERROR=ON >/dev/null
  cmake --build build --target headroom -j "$(nproc)" >&2
fi

tmp="$(mktemp -d -t headroom-dispatch.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/spawn_loop" bench/spawn_loop.c

# measure NAME JOBS COMMAND: runs the shell COMMAND (in which $T is the
# temporary directory) under /usr/bin/time with stdout to /dev/null (so
# headroom writes per-job lines, not a progress line) and records
# "name jobs wall user sys maxrss_kib status".
measure() {
  local name="$1" jobs="$2" cmd="$3" status=0
  echo "dispatch: running $name ($jobs jobs): $cmd" >&2
  T="$tmp" /usr/bin/time -f '%e %U %S %M' -o "$tmp/$name.time" \
    bash -c "$cmd" >/dev/null 2>"$tmp/$name.err" </dev/null || status=$?
  if ((status != 0)); then
    echo "dispatch: $name exited $status; its stderr (tail):" >&2
    tail -n 5 "$tmp/$name.err" >&2
  fi
  # /usr/bin/time adds a "Command exited with non-zero status" line first.
  echo "$name $jobs $(tail -n 1 "$tmp/$name.time") $status" >>"$tmp/results"
  commands+=("$name: $cmd")
}

commands=()
measure spawn_loop "$n" "\"\$T/spawn_loop\" $n 2 /bin/true"
measure xargs "$n" "seq $n | xargs -P2 -n1 true"
measure parallel "$parallel_n" "seq $parallel_n | parallel --will-cite -j2 true"
measure headroom "$n" "seq $n | build/headroom run -j2 --log-dir \"\$T/logs\" --state-dir \"\$T/state\" -- true"

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

if awk '$7 != 0 { bad = 1 } END { exit !bad }' "$tmp/results"; then
  echo "dispatch: error: a tool failed (see 'exit' above)" >&2
  exit 1
fi
