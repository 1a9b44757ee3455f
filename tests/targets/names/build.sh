#!/usr/bin/env bash
# Builds names-target in the variants the naming test compares:
#   tests/targets/names/build.sh [CARGO] [TARGET_DIR]   (default target dir: ./target)
#   TARGET_DIR/names-d0/names-target        debug = 0 (symbols only), legacy mangling
#   TARGET_DIR/names-lt/names-target        debug = "line-tables-only", legacy mangling
#   TARGET_DIR/names-d1-thin/names-target   debug = 1, thin LTO, legacy mangling
#   TARGET_DIR/v0/names-d2-lto/names-target debug = 2, fat LTO, v0 mangling (its own target dir:
#                                           other rustflags rebuild every dependency)
# No frame pointers: naming does not walk stacks, and users' default builds have none.
set -euo pipefail

CARGO="${1:-cargo}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${2:-$here/target}"
cd "$here"

# RUSTFLAGS from the caller's environment would change what is being tested.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
for profile in names-d0 names-lt names-d1-thin; do
    echo "names/build.sh: $CARGO build --locked --profile $profile (into $out)" >&2
    CARGO_TARGET_DIR="$out" "$CARGO" build --locked --profile "$profile"
done
echo "names/build.sh: $CARGO build --locked --profile names-d2-lto, v0 mangling (into $out/v0)" >&2
RUSTFLAGS="-C symbol-mangling-version=v0" CARGO_TARGET_DIR="$out/v0" \
    "$CARGO" build --locked --profile names-d2-lto
