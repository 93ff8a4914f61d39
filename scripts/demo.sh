#!/usr/bin/env bash
# Builds headroom (Release, into build/) and runs two small demo batches: a
# dozen text "clips" with awkward names are upper-cased 4 at a time into
# demo/out/; then a dozen "GPU" jobs share one simulated 24 GiB GPU (a real
# NVIDIA GPU is not needed, nor used).
# Safe to re-run: demo/ is recreated each time.
# Usage: scripts/demo.sh
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHEADROOM_WERROR=ON >/dev/null
cmake --build build --target headroom headroom-simgpu -j "$(nproc)"

rm -rf demo/inputs demo/out demo/logs
mkdir -p demo/inputs
# Spaces, quotes, shell characters, non-ASCII and an upper-case extension: each
# name must reach the command as one intact argument.
names=(
  "clip 01.txt" "émission 02.txt" "naïve café 03.txt" "it's clip 04.txt"
  "clip; rm -rf 05.txt" "日本語 06.txt" "clip [07] *.txt" "clip \$(date) 08.txt"
  "clip 09.TXT" "-dash clip 10.txt" "clip 11.txt" "clip 12.txt"
)
for name in "${names[@]}"; do
  printf 'this is %s\nframe one, frame two, frame three\n' "$name" >"demo/inputs/$name"
done
echo "not a clip, skipped by --ext" >demo/inputs/notes.md

# The braces are headroom's placeholders, and $1/$2 are for the inner sh.
set -x
# shellcheck disable=SC1083,SC2016
build/headroom run --input-dir demo/inputs --ext txt --output-dir demo/out \
  --output-name '{/.}.upper.txt' -j 4 --log-dir demo/logs \
  -- sh -c 'sleep 0.2; tr a-z A-Z < "$1" > "$2"' sh {} {out}
{ set +x; } 2>/dev/null

echo
echo "demo/out:"
ls -l -- demo/out
echo
echo "demo/out/clip 01.upper.txt:"
cat -- "demo/out/clip 01.upper.txt"

echo
echo "== a batch on a simulated 24 GiB GPU (docs/simgpu.md) =="
echo '{"devices": [{"name": "SimGPU-24G", "memory_mib": 24576, "temperature_c": 45}]}' \
  >demo/sim.json
rm -f demo/sim.json.state
export HEADROOM_GPU_SIM="$PWD/demo/sim.json"
build/headroom gpus
set -x
# Each job grows to 5 GiB over 0.3 s and holds it for 1 s. headroom learns the
# footprint from the first job, then runs three at a time (0.85 x 24 GiB).
PATH="$PWD/build:$PATH" build/headroom run -j 8 --monitor-interval 100ms --log-dir demo/logs \
  -- headroom-simgpu alloc --mib 5120 --seconds 1 --ramp 0.3 ::: gpu-job-{01..12}
