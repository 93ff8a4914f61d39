#!/usr/bin/env bash
# Packing: how well each admission policy fills one simulated 80 GiB GPU with
# jobs of very different footprints, side by side in one run:
#   adaptive   headroom's default: reservations, learned footprints, OOM recovery
#   fixed      a plain pool of -j N, what users hand-write first
#   watermark  start while used VRAM < 85 %, the nvidia-smi loop users hand-write next
# The jobs: J simulated jobs (default 120) of 4-30 GiB, ramping up over their
# first 30 %, lasting 0.5-2 s; each job's footprint grows with the size of its
# input file, as a video's or a batch's does. The same seeded job list runs
# under every policy. The seed policies get the out-of-memory retries they
# need, so that none of them fails a job.
# Prints, per policy: makespan and its ratio to two lower bounds, OOM
# events, failed jobs, mean VRAM use. The bounds are max(area / capacity, the
# longest job) with area = sum over jobs of
#   footprint x time   (the issue's bound: what a scheduler that reserves
#                       each job's peak, as the reservation contract says,
#                       could reach at best with 100 % of the device), and
#   ramp-aware area    (the ramp holds half its memory on average: a bound
#                       not even a perfect clairvoyant packer can beat).
# and, for each high mark, the makespan of an in-order clairvoyant: a
# scheduler told every job's exact peak in advance that starts jobs in input
# order as soon as the running jobs' peaks plus the next one fit under
# --vram-high x capacity. No policy that keeps the reservation contract
# (DESIGN.md: predicted peaks under the high mark) and starts jobs in input
# order can beat it; with sizes unknown (the variable case) nothing can
# reorder by size, so it is the reachable floor there.
# adaptive runs twice: with the default --vram-high 0.85 (15 % of the
# device is never planned for) and with 0.95, which a user whose jobs'
# footprints are learned can afford, since reservations already keep jobs
# from double-booking memory.
# Two cases (CASES, default both):
#   files     the footprint grows with the size of the job's input file
#   variable  one command whose jobs peak anywhere from 12 to 30 GiB and
#             whose inputs are not files (arguments): size says nothing,
#             only the class's spread of peaks does
# Usage: [CASES="files variable"] bench/packing.sh [JOBS] [FIXED_J]    (defaults: 120 4)
set -euo pipefail

usage() {
  echo "usage: bench/packing.sh [JOBS] [FIXED_J]" >&2
  exit 2
}
(($# <= 2)) || usage
jobs="${1:-120}"
fixed_j="${2:-4}"
[[ "$jobs" =~ ^[1-9][0-9]*$ && "$fixed_j" =~ ^[1-9][0-9]*$ ]] || usage
invocation="$(printf '%q ' "$0" "$@")"

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bench_name=packing
source bench/lib.sh
bench_build headroom headroom-simgpu
bin="$PWD/build"
bench_tmp
capacity_mib=81920
echo "{\"devices\": [{\"name\": \"SimGPU-80G\", \"memory_mib\": $capacity_mib, \"temperature_c\": 45}]}" \
  >"$tmp/sim.json"

# make_jobs MIN_MIB MAX_MIB: the job list, seeded: "id mib seconds" per job.
make_jobs() {
  awk -v n="$jobs" -v lo="$1" -v hi="$2" 'BEGIN {
    seed = 12345
    for (i = 1; i <= n; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648; mib = lo + int(seed / 2147483648 * (hi - lo))
      seed = (seed * 1103515245 + 12345) % 2147483648; sec = 0.5 + (seed / 2147483648) * 1.5
      printf "%03d %d %.2f\n", i, mib, sec
    }
  }' >"$tmp/jobs.txt"
}
# What each job runs: its footprint and duration from its input file
# (files), or from its argument "ID:MIB:SECONDS" (variable).
cat >"$tmp/job.sh" <<'EOF'
#!/bin/sh
case "$1" in
  *:*)
    mib=$(echo "$1" | cut -d: -f2)
    sec=$(echo "$1" | cut -d: -f3)
    ;;
  *) read -r mib sec <"$1" ;;
esac
ramp=$(awk -v s="$sec" 'BEGIN { printf "%.3f", s * 0.3 }')
exec headroom-simgpu alloc --mib "$mib" --seconds "$sec" --ramp "$ramp"
EOF
chmod +x "$tmp/job.sh"

# Lower bounds: footprint x time, and the same with the ramp holding half
# its memory on average, over the capacity; or the longest job if longer.
bounds() {
  awk -v cap="$capacity_mib" -v ramp="$1" '{ area += $2 * ($3 - ramp * 0.15 * $3); if ($3 > longest) longest = $3 }
  END { lb = area / cap; if (longest > lb) lb = longest; printf "%.2f", lb }' "$tmp/jobs.txt"
}
load="$(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME ARGS...: one policy over the whole job list (`inputs` prints
# them), with a VRAM sampler.
run() {
  local name="$1"
  shift
  local state="$tmp/sim.json.state"
  rm -f "$state" "$state".* 2>/dev/null || true
  (
    while :; do
      HEADROOM_GPU_SIM="$tmp/sim.json" "$bin/headroom" gpus --json 2>/dev/null |
        sed -n 's/.*"memory_used_bytes":\([0-9]*\).*/\1/p'
      sleep 0.1
    done
  ) >"$tmp/$name.vram" &
  local sampler=$!
  local start end status=0
  rm -rf "$tmp/logs-$name"
  start="$(date +%s.%N)"
  inputs | PATH="$bin:$PATH" HEADROOM_GPU_SIM="$tmp/sim.json" \
    "$bin/headroom" run --log-dir "$tmp/logs-$name" --log-format json --no-journal \
    --monitor-interval 100ms --oom-retries 1000 --retry-delay 0.5s "$@" \
    -- "$tmp/job.sh" {} >"$tmp/$name.out" 2>&1 || status=$?
  end="$(date +%s.%N)"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local oom failed mean
  oom="$(grep -h '"event":"batch_end"' "$tmp/logs-$name"/processing_*.log |
    sed -n 's/.*"oom_retries":\([0-9]*\).*/\1/p')"
  failed="$(grep -h '"event":"batch_end"' "$tmp/logs-$name"/processing_*.log |
    sed -n 's/.*"failed":\([0-9]*\).*/\1/p')"
  mean="$(awk -v cap="$capacity_mib" '{ s += $1; n++ } END { if (n) printf "%.0f", 100 * s / n / (cap * 1048576); else print "?" }' "$tmp/$name.vram")"
  awk -v name="$name" -v s="$start" -v e="$end" -v lb="$bound" -v rlb="$ramp_bound" \
    -v oom="${oom:-?}" -v failed="${failed:-?}" -v mean="$mean" -v rc="$status" -v args="$*" \
    'BEGIN { m = e - s; printf "| %s | `%s` | %.2f | %.2f | %.2f | %s | %s | %s%% | %d |\n", name, args, m, m / lb, m / rlb, oom, failed, mean, rc }' \
    >>"$tmp/rows"
  echo "packing: $name done" >&2
}

# clairvoyant HIGH: the in-order clairvoyant's makespan (event-driven: at
# each job end, start queued jobs while they fit; one always starts on an
# empty device).
clairvoyant() {
  awk -v cap="$capacity_mib" -v high="$1" '{ mib[NR] = $2; sec[NR] = $3 }
  END {
    limit = high * cap; t = 0; used = 0; n = 0; next_job = 1
    while (next_job <= NR || n > 0) {
      while (next_job <= NR && (n == 0 || used + mib[next_job] <= limit)) {
        n++; end_at[n] = t + sec[next_job]; held[n] = mib[next_job]; used += held[n]; next_job++
      }
      first = 1
      for (i = 2; i <= n; i++) if (end_at[i] < end_at[first]) first = i
      t = end_at[first]; used -= held[first]
      end_at[first] = end_at[n]; held[first] = held[n]; n--
    }
    printf "%.2f", t
  }' "$tmp/jobs.txt"
}

# Each case: its job list, how its inputs are given, then every policy.
# Every batch runs with --no-journal, so that none starts from what the
# previous policy's batch taught (headroom keeps footprints in the journal).
report=""
for case_name in ${CASES:-files variable}; do
  rm -f "$tmp/rows"
  case "$case_name" in
    files)
      make_jobs 4096 30720
      describe="$jobs jobs of 4-30 GiB, footprint proportional to the input file's size"
      rm -rf "$tmp/in"
      mkdir -p "$tmp/in"
      while read -r id mib sec; do
        f="$tmp/in/job_$id.bin"
        echo "$mib $sec" >"$f"
        truncate -s $((mib * 10)) "$f"
      done <"$tmp/jobs.txt"
      inputs() { find "$tmp/in" -name '*.bin' | sort; }
      ;;
    variable)
      make_jobs 12288 30720
      describe="$jobs jobs of 12-30 GiB of one command whose inputs are not files"
      inputs() { awk '{ printf "%s:%s:%s\n", $1, $2, $3 }' "$tmp/jobs.txt"; }
      ;;
    *)
      echo "packing: unknown case '$case_name' (expected files or variable)" >&2
      exit 2
      ;;
  esac
  bound="$(bounds 0)"
  ramp_bound="$(bounds 1)"
  clair85="$(clairvoyant 0.85)"
  clair95="$(clairvoyant 0.95)"
  echo "packing: $case_name: $describe; lower bounds ${bound}s (footprint), ${ramp_bound}s (ramp-aware); in-order clairvoyant ${clair85}s (0.85), ${clair95}s (0.95)" >&2
  run adaptive --policy adaptive -j 16
  run adaptive-0.95 --policy adaptive -j 16 --vram-high 0.95
  run fixed --policy fixed -j "$fixed_j"
  run watermark --policy watermark -j 16
  report+="
Case \`$case_name\`: $describe (ramp over the first 30 %, 0.5-2 s) on one simulated 80 GiB GPU;
lower bounds $bound s (footprint x time) and $ramp_bound s (ramp-aware);
in-order clairvoyant $clair85 s at --vram-high 0.85 ($(awk -v c="$clair85" -v b="$bound" 'BEGIN { printf "%.2f", c / b }')x the footprint bound), $clair95 s at 0.95 ($(awk -v c="$clair95" -v b="$bound" 'BEGIN { printf "%.2f", c / b }')x).

| policy | options | makespan s | / footprint bound | / ramp-aware bound | OOM events | failed | mean VRAM | exit |
|---|---|---:|---:|---:|---:|---:|---:|---:|
$(cat "$tmp/rows")
"
done

cat <<EOF
- date: $(date '+%Y-%m-%d %H:%M:%S %z')
- machine: $(uname -srm), $(nproc) cores
- command: \`${invocation% }\`
- load average before the run: $load
$report
EOF
