# What the benchmark scripts share; sourced by them after `set -euo pipefail`
# with bench_name set ("dispatch", "workers", ...), from the repository root.

# bench_need COMMAND PACKAGE: stops when COMMAND is missing, naming the
# Debian package to install.
bench_need() {
  if ! command -v "$1" >/dev/null; then
    echo "$bench_name: error: '$1' not found: install the Debian package '$2'" >&2
    exit 1
  fi
}

# bench_build TARGET...: builds the Release targets into build/ unless they
# are there already.
bench_build() {
  local target missing=0
  for target in "$@"; do [[ -x "build/$target" ]] || missing=1; done
  ((missing)) || return 0
  echo "$bench_name: building build/ (Release): $*" >&2
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHEADROOM_WERROR=ON >/dev/null
  cmake --build build --target "$@" -j "$(nproc)" >&2
}

# bench_tmp: makes the temporary directory $tmp (in $TMPDIR, or /tmp),
# removed when the script exits.
bench_tmp() {
  tmp="$(mktemp -d -t "headroom-$bench_name.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
}

# bench_measure NAME JOBS COMMAND: runs the shell COMMAND (in which $T is
# $tmp) under /usr/bin/time, stdout to /dev/null (so headroom prints per-job
# lines, not a progress line), and appends "name jobs wall user sys
# maxrss_kib status" to $tmp/results and "NAME: COMMAND" to the array
# `commands`. A failure is reported and recorded, not fatal.
bench_measure() {
  local name="$1" jobs="$2" cmd="$3" status=0
  echo "$bench_name: running $name ($jobs jobs): $cmd" >&2
  T="$tmp" /usr/bin/time -f '%e %U %S %M' -o "$tmp/$name.time" \
    bash -c "$cmd" >/dev/null 2>"$tmp/$name.err" </dev/null || status=$?
  if ((status != 0)); then
    echo "$bench_name: $name exited $status; its stderr (tail):" >&2
    tail -n 5 "$tmp/$name.err" >&2
  fi
  # /usr/bin/time adds a "Command exited with non-zero status" line first.
  echo "$name $jobs $(tail -n 1 "$tmp/$name.time") $status" >>"$tmp/results"
  commands+=("$name: $cmd")
}
