#!/usr/bin/env bash
# The build cache key: the distribution (its libraries are linked in) and a hash
# of every source file, so a moved tag (v1) never reuses a stale build.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
. /etc/os-release
sum=$(cd "$src" && find CMakeLists.txt common spec target load probe bpf record assertions \
        reporters runner -type f \( -name '*.c' -o -name '*.h' -o -name '*.txt' -o -name '*.S' \
        -o -name '*.html' -o -name '*.js' -o -name '*.css' \) -print0 2>/dev/null |
      sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
prefix="${HOME}/.cache/tokio-guard/${ID}-${VERSION_ID:-sid}-$(uname -m)"
{
  echo "key=tokio-guard-${ID}-${VERSION_ID:-sid}-$(uname -m)-${sum}"
  echo "prefix=${prefix}"
} >> "$GITHUB_OUTPUT"
