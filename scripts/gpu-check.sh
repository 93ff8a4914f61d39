#!/usr/bin/env bash
# The real-GPU check: on a machine with an NVIDIA GPU, what the simulated GPU
# stands in for everywhere else. In under 5 minutes it
#   1. compares 'headroom gpus --json' (NVML) with nvidia-smi: memory,
#      temperature and processes of each GPU;
#   2. times one NVML sample (goal < 1 ms) against one nvidia-smi call;
#   3. runs a batch of headroom-gpu-alloc jobs that overcommits GPU 0 under
#      --policy fixed -j 4 (expect out-of-memory retries) and under the
#      adaptive default (expect 0 failed, 0 out of memory);
#   4. when PyTorch imports, runs a job that really raises
#      torch.OutOfMemoryError and checks that headroom classifies and retries
#      it;
# and prints one Markdown table, also written to FILE (default
# $OUT/gpu-check.md when $OUT is set). Record it in bench/BENCHMARKS.md with
# the GPU's name.
#
# Usage: scripts/gpu-check.sh [FILE]
#   BIN_DIR (default build/) holds headroom and headroom-gpu-alloc: build
#   them here (scripts/test.sh or cmake --build build) and carry build/.
# Exit: 0 every check passed, 1 a check failed, 2 no NVIDIA GPU or no build.
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bin="${BIN_DIR:-$PWD/build}"
out_file="${1:-${OUT:+$OUT/gpu-check.md}}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

die() {
  echo "gpu-check: $*" >&2
  exit 2
}
command -v nvidia-smi >/dev/null || die "no nvidia-smi: this check needs an NVIDIA GPU"
nvidia-smi -L >/dev/null 2>&1 || die "nvidia-smi sees no GPU: $(nvidia-smi -L 2>&1 | head -1)"
for tool in headroom headroom-gpu-alloc; do
  [[ -x "$bin/$tool" ]] || die "no $bin/$tool: build first (cmake --build build), or set BIN_DIR"
done
command -v python3 >/dev/null || die "python3 is needed to compare the JSON"

rows=()
failed=0
# row CHECK RESULT GOAL PASS(0/1)
row() {
  local verdict="pass"
  if [[ "$4" != 0 ]]; then
    verdict="FAIL"
    failed=1
  fi
  rows+=("| $1 | $2 | $3 | $verdict |")
}

gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
total_mib="$(nvidia-smi -i 0 --query-gpu=memory.total --format=csv,noheader,nounits | tr -d ' ')"

# 1. headroom gpus (NVML) against nvidia-smi.
"$bin/headroom" gpus --json --gpu-provider nvml >"$tmp/gpus.json" 2>"$tmp/gpus.err"
nvidia-smi --query-gpu=index,uuid,memory.total,memory.used,temperature.gpu \
  --format=csv,noheader,nounits >"$tmp/smi.csv"
nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits \
  >"$tmp/apps.csv" 2>/dev/null || true
compare="$(python3 - "$tmp/gpus.json" "$tmp/smi.csv" "$tmp/apps.csv" <<'EOF'
import json, sys
try:
    hr = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"0 headroom gpus --json did not parse: {e}"); sys.exit()
smi = [[f.strip() for f in l.split(",")] for l in open(sys.argv[2]) if l.strip()]
apps = [[f.strip() for f in l.split(",")] for l in open(sys.argv[3]) if l.strip()]
problems = []
devices = {d["uuid"]: d for d in hr.get("devices", [])}
MiB = 1 << 20
for index, uuid, total, used, temp in smi:
    d = devices.get(uuid)
    if d is None:
        problems.append(f"gpu{index} {uuid} missing"); continue
    if d["index"] != int(index): problems.append(f"gpu{index}: index {d['index']}")
    if abs(d["memory_total_bytes"] / MiB - float(total)) > 1: problems.append(f"gpu{index}: total {d['memory_total_bytes']//MiB} vs {total} MiB")
    if abs(d["memory_used_bytes"] / MiB - float(used)) > max(256, 0.02 * float(total)): problems.append(f"gpu{index}: used {d['memory_used_bytes']//MiB} vs {used} MiB")
    if temp.isdigit() and d["temperature_c"] is not None and abs(d["temperature_c"] - int(temp)) > 3: problems.append(f"gpu{index}: {d['temperature_c']} vs {temp} C")
    want = sorted(int(p) for u, p, m in apps if u == uuid and p.isdigit())
    got = sorted(p["pid"] for p in (d["processes"] or []))
    if d["processes"] is not None and want != got: problems.append(f"gpu{index}: pids {got} vs {want}")
print(f"{len(smi)} " + ("; ".join(problems) if problems else "ok"))
EOF
)"
count="${compare%% *}"
verdict="${compare#* }"
row "gpus --json vs nvidia-smi ($count GPUs: memory, temperature, processes)" "$verdict" "ok" \
  "$([[ "$verdict" == ok && "$count" -gt 0 ]] && echo 0 || echo 1)"

# 2. One NVML sample against one nvidia-smi call.
best=""
for _ in 1 2 3; do
  s="$("$bin/headroom" gpus --json --gpu-provider nvml 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["sample_seconds"] * 1000)')"
  if [[ -n "$s" ]] && { [[ -z "$best" ]] || python3 -c "import sys; sys.exit(0 if $s < $best else 1)"; }; then
    best="$s"
  fi
done
smi_start="$(date +%s.%N)"
nvidia-smi --query-gpu=index,memory.used,temperature.gpu --format=csv,noheader >/dev/null
smi_ms="$(python3 -c "print(($(date +%s.%N) - $smi_start) * 1000)")"
nvml_ok="$(python3 -c "print(0 if '${best:-x}' != 'x' and ${best:-99} < 1 else 1)")"
row "one NVML sample (best of 3) / one nvidia-smi call" \
  "$(printf '%.3f ms / %.0f ms' "${best:-0}" "$smi_ms")" "< 1 ms" "$nvml_ok"

# 3. A batch that overcommits GPU 0 unless admission holds jobs back: eight
# jobs of 30 % of its memory, 2 s each, ramping over 0.5 s.
mib=$((total_mib * 30 / 100))
batch() {  # NAME ARGS...: runs the batch; prints "exit failed oom_retries seconds"
  local name="$1"
  shift
  local start end
  start="$(date +%s.%N)"
  CUDA_VISIBLE_DEVICES=0 timeout 120 "$bin/headroom" run --gpu-provider nvml \
    --state-dir "$tmp/state-$name" --log-dir "$tmp/logs-$name" --log-format json \
    --monitor-interval 100ms --retry-delay 0.5s "$@" -- \
    "$bin/headroom-gpu-alloc" alloc --mib "$mib" --seconds 2 --ramp 0.5 ::: 1 2 3 4 5 6 7 8 \
    >"$tmp/$name.out" 2>&1
  local rc=$?
  end="$(date +%s.%N)"
  local line
  line="$(grep -h '"event":"batch_end"' "$tmp/logs-$name"/processing_*.log 2>/dev/null | tail -1)"
  local failed oom
  failed="$(sed -n 's/.*"failed":\([0-9]*\).*/\1/p' <<<"$line")"
  oom="$(sed -n 's/.*"oom_retries":\([0-9]*\).*/\1/p' <<<"$line")"
  echo "$rc ${failed:-?} ${oom:-?} $(python3 -c "print(round($end - $start, 1))")"
}
read -r f_rc f_failed f_oom f_s <<<"$(batch fixed --policy fixed -j 4 --oom-retries 50)"
row "8 x $mib MiB, --policy fixed -j 4 (exit, failed, OOM retries, s)" \
  "$f_rc, $f_failed, $f_oom, $f_s" "OOM retries > 0" "$([[ "$f_oom" =~ ^[1-9] ]] && echo 0 || echo 1)"
read -r a_rc a_failed a_oom a_s <<<"$(batch adaptive -j 4)"
row "8 x $mib MiB, adaptive -j 4 (exit, failed, OOM retries, s)" \
  "$a_rc, $a_failed, $a_oom, $a_s" "0, 0, 0" \
  "$([[ "$a_rc" == 0 && "$a_failed" == 0 && "$a_oom" == 0 ]] && echo 0 || echo 1)"

# 4. PyTorch's own out-of-memory error, classified and retried.
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  cat >"$tmp/torch_oom.py" <<'EOF'
import torch
total = torch.cuda.get_device_properties(0).total_memory
x = torch.empty(2 * total, dtype=torch.uint8, device="cuda")
EOF
  CUDA_VISIBLE_DEVICES=0 timeout 120 "$bin/headroom" run --gpu-provider nvml \
    --state-dir "$tmp/state-torch" --log-dir "$tmp/logs-torch" --log-format json \
    --oom-retries 1 --retry-delay 0 -- python3 "$tmp/torch_oom.py" ::: torch >"$tmp/torch.out" 2>&1
  t_rc=$?
  line="$(grep -h '"event":"batch_end"' "$tmp/logs-torch"/processing_*.log 2>/dev/null | tail -1)"
  t_oom="$(sed -n 's/.*"oom_retries":\([0-9]*\).*/\1/p' <<<"$line")"
  said="$(cat "$tmp"/logs-torch/jobs_*/*.err 2>/dev/null | grep -c 'OutOfMemoryError')"
  row "torch.OutOfMemoryError (exit, OOM retries, stderr logs saying it)" \
    "$t_rc, ${t_oom:-?}, ${said:-0}" "1, 1, 2" \
    "$([[ "$t_rc" == 1 && "$t_oom" == 1 && "${said:-0}" -ge 2 ]] && echo 0 || echo 1)"
else
  row "torch.OutOfMemoryError" "skipped: PyTorch with CUDA does not import" "-" 0
fi

table="$(
  echo "- date: $(date '+%Y-%m-%d %H:%M:%S %z')"
  echo "- machine: $(uname -srm), $(nproc) cores; GPU 0: $gpu_name, $total_mib MiB; driver $driver"
  echo "- command: \`scripts/gpu-check.sh\`"
  echo
  echo "| check | result | goal | verdict |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)"
echo "$table"
if [[ -n "$out_file" ]]; then
  mkdir -p "$(dirname "$out_file")"
  echo "$table" >"$out_file"
  # The batches' own words, for a failed check.
  cp "$tmp"/*.out "$(dirname "$out_file")"/ 2>/dev/null || true
fi
exit "$failed"
