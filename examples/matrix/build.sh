#!/usr/bin/env bash
# The tokio version matrix: examples/matrix/build.sh [CARGO]
# Builds the blocking-tasks example, unchanged, once per cell (examples/matrix/<cell>/: its own
# workspace, tokio pinned, Cargo.lock committed) into one shared target dir, and copies each binary
# to a name of its own: examples/target/matrix/bin/blocking-tasks-<cell>. CMake runs it (target
# "matrix"); tests/e2e/test_e2e_matrix.c runs tokio-guard on every binary there.
#
# Cargo runs from each cell's folder, so its config is examples/.cargo/config.toml (frame pointers)
# merged with the cell's own .cargo/config.toml where it has one (--cfg tokio_unstable). A RUSTFLAGS
# from the caller would replace both, so it is dropped: a cell builds the same everywhere.
set -euo pipefail

CARGO="${1:-cargo}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CARGO_TARGET_DIR="${TG_MATRIX_TARGET_DIR:-$here/../target/matrix}"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
mkdir -p "$CARGO_TARGET_DIR/bin"

for manifest in "$here"/*/Cargo.toml; do
    dir="$(dirname "$manifest")"
    cell="$(basename "$dir")"
    echo "build.sh: $cell: $CARGO build --release --locked" >&2
    (cd "$dir" && "$CARGO" build --release --locked --quiet)
    # Every cell's binary lands on the same path: rename it before the next cell overwrites it.
    # cp to a temporary, then mv: a test running the old binary never sees a half-written file.
    out="$CARGO_TARGET_DIR/bin/blocking-tasks-$cell"
    cp "$CARGO_TARGET_DIR/release/blocking-tasks" "$out.tmp"
    mv -f "$out.tmp" "$out"
done
