#!/usr/bin/env bash
# Builds the scale target (see Cargo.toml):
#   tests/targets/scale/build.sh [CARGO] [TARGET_DIR]   (default target dir: ./target)
#   TARGET_DIR/release/scale-target         TG_SCALE_TASKS types (default 1000), line tables
#   TARGET_DIR/release/scale-target-small   TG_SCALE_SMALL_TASKS types (default 100)
# The full-debug variant (profile scale-debug) is bench/scale.sh's, not built here.
set -euo pipefail

CARGO="${1:-cargo}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(realpath -m "${2:-$here/target}")" # before the cd below
cd "$here"

# tokio-guard walks stacks by frame pointer (.cargo/config.toml); an RUSTFLAGS from the
# environment would replace that list, so the flag is given here.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
export RUSTFLAGS="-C force-frame-pointers=yes"
echo "scale/build.sh: $CARGO build --locked --release (into $out)" >&2
CARGO_TARGET_DIR="$out" "$CARGO" build --locked --release
