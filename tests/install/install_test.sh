#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the binary runs, the man page
# renders, and each shell's completion is where that shell looks for it.
# Usage: tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build="$1"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "install_test: $*" >&2; exit 1; }
"$prefix/bin/headroom" --version | grep -q '^headroom ' || fail "bin/headroom --version"
for file in share/man/man1/headroom.1 share/bash-completion/completions/headroom \
            share/zsh/vendor-completions/_headroom share/fish/vendor_completions.d/headroom.fish; do
  [[ -s "$prefix/$file" ]] || fail "missing or empty: $file"
done
# The man page renders without warnings and names what it should.
page="$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$prefix/share/man/man1/headroom.1" 2>&1)"
[[ -z "$page" ]] || fail "groff warns: $page"
text="$(LC_ALL=C.UTF-8 groff -man -Tascii -P-cbu "$prefix/share/man/man1/headroom.1" 2>/dev/null)"
for part in "--jobs" "HEADROOM_JOBS" "--executor" "EXIT STATUS" "journal.db"; do
  grep -qF -- "$part" <<<"$text" || fail "the man page lacks $part"
done
# The installed bash completion completes.
got="$(bash --norc -c "source '$prefix/share/bash-completion/completions/headroom'
COMP_WORDS=(headroom run --input-d); COMP_CWORD=2; _headroom; echo \"\${COMPREPLY[*]}\"")"
[[ "$got" == "--input-dir" ]] || fail "bash completion of --input-d gave '$got'"
echo "install_test: ok"
