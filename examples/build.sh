#!/usr/bin/env bash
# Build the Rust example targets: examples/build.sh [CARGO] [extra cargo build args...]
# CMake runs it from examples/ (target "examples"). Output: examples/target/release/, plus the
# v0-mangled fat-LTO blocking-tasks at examples/target/v0-lto/release-lto/blocking-tasks.
#
# Offline mode: where Debian's packaged crates are installed (/usr/share/cargo/registry/tokio-*)
# and TG_CARGO_ONLINE is not set, crates.io is replaced by that directory registry through
# offline-cargo.toml and cargo runs with --offline. Otherwise cargo uses crates.io normally.
set -euo pipefail

CARGO="${1:-cargo}"
if [[ $# -gt 0 ]]; then shift; fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

DEBIAN_REGISTRY=/usr/share/cargo/registry
args=(build)
case " $* " in
    *" --profile "*|*" --profile="*) ;;   # e.g. build.sh cargo --profile release-lto
    *) args+=(--release) ;;
esac
mode=online
if [[ -z "${TG_CARGO_ONLINE:-}" ]] && compgen -G "$DEBIAN_REGISTRY/tokio-*" >/dev/null; then
    mode=offline
    args+=(--config "$here/offline-cargo.toml" --offline)
fi

# Cargo.lock is not committed. A lock resolved against one source does not fit the other
# (other versions; Debian's crates carry no checksums), and a newer cargo writes a lock format an
# older one cannot read: start a fresh lock when the mode or the cargo changes.
stamp="$here/target/.tg-lock-mode"
lock_id="$mode $("$CARGO" --version 2>/dev/null || echo unknown-cargo)"
if [[ -f Cargo.lock ]] && [[ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_id" ]]; then
    echo "build.sh: Cargo.lock was not resolved by this cargo in $mode mode; re-resolving" >&2
    rm -f Cargo.lock
fi

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

mkdir -p "$here/target"
echo "$lock_id" >"$stamp"
hard=yes
case " $* " in *" --profile"*) hard=no ;; esac   # an explicit profile builds only what was asked
args+=("$@")
echo "build.sh: $CARGO ${args[*]} ($mode)" >&2
"$CARGO" "${args[@]}"

# The "hard" variant of blocking-tasks, for the prober's tests: v0 symbol mangling, fat LTO,
# codegen-units=1 (profile release-lto), frame pointers and debug info kept. Its own target dir,
# since other rustflags would otherwise rebuild the normal build's dependencies every time.
#   -> target/v0-lto/release-lto/blocking-tasks      (skip with TG_EXAMPLES_HARD=0)
if [[ "$hard" == yes && "${TG_EXAMPLES_HARD:-1}" != 0 ]]; then
    hard_args=(build --profile release-lto -p blocking-tasks)
    if [[ "$mode" == offline ]]; then hard_args+=(--config "$here/offline-cargo.toml" --offline); fi
    if [[ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]]; then
        export CARGO_ENCODED_RUSTFLAGS="${CARGO_ENCODED_RUSTFLAGS}"$'\x1f'"-C"$'\x1f'"symbol-mangling-version=v0"
    else
        export RUSTFLAGS="${RUSTFLAGS:--C force-frame-pointers=yes} -C symbol-mangling-version=v0"
    fi
    echo "build.sh: $CARGO ${hard_args[*]} ($mode, v0 mangling, into target/v0-lto)" >&2
    CARGO_TARGET_DIR="$here/target/v0-lto" "$CARGO" "${hard_args[@]}"
fi
