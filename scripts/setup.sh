#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and benchmark headroom.
# Idempotent: only missing packages are installed, and apt-get update runs only
# when something is missing.
# Usage: scripts/setup.sh
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  # Not CLI11 or spdlog: one option table (src/cli/option_spec.cc) makes the
  # parser, --help, env, TOML and --print-config, and fmt writes the logs.
  nlohmann-json3-dev libfmt-dev libtomlplusplus-dev
  libsqlite3-dev libcpp-httplib-dev libgtest-dev libgmock-dev
  # Google Benchmark: bench/hot_paths.cc (build/headroom-hot-paths).
  libbenchmark-dev
  # Used by the tests and benchmarks (chromium renders the HTML report;
  # sqlite3 reads the journal in the resume tests; slurm-wlm and munge run
  # the private cluster of the --executor slurm tests, tests/slurm/cluster.sh,
  # and slurmdbd with mariadb-server its accounting, for sacct).
  # groff-base renders the man page in the install test.
  parallel time procps util-linux python3 chromium sqlite3 slurm-wlm munge groff-base
  slurmdbd mariadb-server
)

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} required packages are present"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null; then
    echo "setup: error: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

# apt's chatter goes to a log that is shown only when something fails.
log="$(mktemp -t headroom-setup.XXXXXX)"
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
    --no-install-recommends install "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: error: apt-get failed to install: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installed ${missing[*]}"
