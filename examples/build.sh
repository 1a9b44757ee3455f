#!/usr/bin/env bash
# Build the Rust example targets: examples/build.sh [CARGO] [extra cargo build args...]
# CMake runs it from examples/ (target "examples"). Output: examples/target/release/, plus the
# v0-mangled fat-LTO blocking-tasks at examples/target/v0-lto/release-lto/blocking-tasks, and the
# build matrix (build-matrix.sh) at examples/target/builds/<variant>/blocking-tasks.
# Crates come from crates.io at the versions of the committed Cargo.lock (--locked: a build
# never re-resolves; after changing a Cargo.toml, run `cargo update -p <crate>` and commit the lock).
set -euo pipefail

CARGO="${1:-cargo}"
if [[ $# -gt 0 ]]; then shift; fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

args=(build --locked)
case " $* " in
    *" --profile "*|*" --profile="*) ;;   # e.g. build.sh cargo --profile release-lto
    *) args+=(--release) ;;
esac

# A RUSTFLAGS (or CARGO_ENCODED_RUSTFLAGS) variable replaces .cargo/config.toml's rustflags:
# keep frame pointers, tokio-guard walks stacks with them.
if [[ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]]; then
    case "$CARGO_ENCODED_RUSTFLAGS" in
        *force-frame-pointers*) ;;
        *) export CARGO_ENCODED_RUSTFLAGS="${CARGO_ENCODED_RUSTFLAGS}"$'\x1f'"-C"$'\x1f'"force-frame-pointers=yes" ;;
    esac
elif [[ -n "${RUSTFLAGS:-}" ]]; then
    case "$RUSTFLAGS" in
        *force-frame-pointers*) ;;
        *) export RUSTFLAGS="$RUSTFLAGS -C force-frame-pointers=yes" ;;
    esac
fi

hard=yes
case " $* " in *" --profile"*) hard=no ;; esac   # an explicit profile builds only what was asked
args+=("$@")
echo "build.sh: $CARGO ${args[*]}" >&2
"$CARGO" "${args[@]}"

# The "hard" variant of blocking-tasks, for the prober's tests: v0 symbol mangling, fat LTO,
# codegen-units=1 (profile release-lto), frame pointers and debug info kept. Its own target dir,
# since other rustflags would otherwise rebuild the normal build's dependencies every time.
#   -> target/v0-lto/release-lto/blocking-tasks      (skip with TG_EXAMPLES_HARD=0)
if [[ "$hard" == yes && "${TG_EXAMPLES_HARD:-1}" != 0 ]]; then
    hard_args=(build --locked --profile release-lto -p blocking-tasks)
    if [[ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]]; then
        export CARGO_ENCODED_RUSTFLAGS="${CARGO_ENCODED_RUSTFLAGS}"$'\x1f'"-C"$'\x1f'"symbol-mangling-version=v0"
    else
        export RUSTFLAGS="${RUSTFLAGS:--C force-frame-pointers=yes} -C symbol-mangling-version=v0"
    fi
    echo "build.sh: $CARGO ${hard_args[*]} (v0 mangling, into target/v0-lto)" >&2
    CARGO_TARGET_DIR="$here/target/v0-lto" "$CARGO" "${hard_args[@]}"
fi

# blocking-tasks built the ways users do (default release, line tables only, the two above),
# for e2e/builds: target/builds/<variant>/blocking-tasks (skip with TG_EXAMPLES_BUILDS=0)
if [[ "$hard" == yes && "${TG_EXAMPLES_BUILDS:-1}" != 0 ]]; then
    env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS "$here/build-matrix.sh" "$CARGO"
fi
