#!/usr/bin/env bash
# Builds headroom and runs all its tests (unit and end-to-end) with warnings
# as errors.
# Usage: scripts/test.sh [--sanitize]
#   --sanitize  build into build-asan/ (Debug, ASan + UBSan) instead of build/
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

sanitize=0
case "${1:-}" in
  "") ;;
  --sanitize) sanitize=1 ;;
  *)
    echo "usage: scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

scripts/setup.sh

jobs="$(nproc)"
if ((sanitize)); then
  dir=build-asan
  config=(-DCMAKE_BUILD_TYPE=Debug -DHEADROOM_SANITIZE=ON)
  # Set before building too: test discovery runs the test binaries at build time.
  export ASAN_OPTIONS=detect_leaks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  # Release, like scripts/demo.sh and bench/dispatch.sh, so they share build/.
  config=(-DCMAKE_BUILD_TYPE=Release)
fi

cmake -S . -B "$dir" "${config[@]}" -DHEADROOM_WERROR=ON
cmake --build "$dir" -j "$jobs"
# Tests must not depend on the caller's terminal. Twice as many at once as
# there are cores: most end-to-end tests wait on the processes they start
# (on 2 cores, Release: 92 s at -j 2, 51 s at -j 4; ASan: 232 s at -j 2,
# 183 s at -j 4), and every test must pass on a loaded machine anyway.
ctest --test-dir "$dir" --output-on-failure -j "$((jobs * 2))" </dev/null
