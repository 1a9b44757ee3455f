#!/usr/bin/env bash
# Builds blocking-tasks the ways users do, for tests/e2e/test_e2e_builds.c:
#   examples/build-matrix.sh [CARGO]
#   -> target/builds/default/blocking-tasks  default `cargo build --release`: no frame pointers,
#                                            debuginfo stripped (symbols and .eh_frame kept)
#      target/builds/lines/blocking-tasks    debug = "line-tables-only", no frame pointers
#      target/builds/fp-lines/blocking-tasks line tables only with frame pointers (what the
#                                            README recommended before: DWARF's short names)
#      target/builds/fp/blocking-tasks       frame pointers + full debug (target/release)
#      target/builds/v0-lto/blocking-tasks   v0 mangling + fat LTO (target/v0-lto)
# build.sh calls it after the other builds, which the last two copy from. The first two share
# one target dir: without .cargo/config.toml's rustflags every crate's hash differs, and a dir
# of their own keeps the frame-pointer builds' caches warm.
set -euo pipefail

CARGO="${1:-cargo}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
out="$here/target/builds"
nofp="$here/target/nofp"

# An empty CARGO_ENCODED_RUSTFLAGS means "no flags": config.toml's force-frame-pointers is dropped.
for v in default:release-default lines:release-lines; do
    name="${v%%:*}" profile="${v#*:}"
    echo "build-matrix.sh: $CARGO build --locked --profile $profile -p blocking-tasks (no frame pointers)" >&2
    CARGO_ENCODED_RUSTFLAGS="" RUSTFLAGS="" CARGO_TARGET_DIR="$nofp" \
        "$CARGO" build --locked --profile "$profile" -p blocking-tasks
    mkdir -p "$out/$name"
    cp -f "$nofp/$profile/blocking-tasks" "$out/$name/blocking-tasks"
done
# costs the default way too (target/nofp/release-default/costs): tests/e2e/test_e2e_cpu_profile.c
# profiles it in dwarf mode; its dependencies are the ones just built
CARGO_ENCODED_RUSTFLAGS="" RUSTFLAGS="" CARGO_TARGET_DIR="$nofp" \
    "$CARGO" build --locked --profile release-default -p costs

# .cargo/config.toml's frame pointers: the workspace's own target dir
echo "build-matrix.sh: $CARGO build --locked --profile release-lines -p blocking-tasks (frame pointers)" >&2
"$CARGO" build --locked --profile release-lines -p blocking-tasks
mkdir -p "$out/fp-lines"
cp -f "$here/target/release-lines/blocking-tasks" "$out/fp-lines/blocking-tasks"

copy() { # copy NAME FROM: a build of build.sh's, when it exists
    if [[ -x "$2" ]]; then
        mkdir -p "$out/$1"
        cp -f "$2" "$out/$1/blocking-tasks"
    else
        echo "build-matrix.sh: $2 not built, target/builds/$1 left out" >&2
    fi
}
copy fp "$here/target/release/blocking-tasks"
copy v0-lto "$here/target/v0-lto/release-lto/blocking-tasks"
