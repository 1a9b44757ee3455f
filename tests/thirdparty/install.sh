#!/usr/bin/env bash
# Installs the third-party Tokio servers the end-to-end tests run (e2e/thirdparty), unmodified
# from crates.io at pinned versions with their own Cargo.lock, into ROOT/bin:
#   tests/thirdparty/install.sh [CARGO] ROOT
# CMake runs it as the build step "thirdparty" with ROOT=<build>/thirdparty, so the binaries are
# cached in the build tree. A crate already installed at its pinned version is skipped (no
# network). Each is built as the crate ships it (its own release profile: no frame pointers, no
# debug info), which is what users run; flags from the environment are kept out of it.
set -euo pipefail

if [[ $# -eq 2 ]]; then cargo=$1; root=$2
elif [[ $# -eq 1 ]]; then cargo=cargo; root=$1
else echo "usage: $0 [CARGO] ROOT" >&2; exit 2; fi

# crate, pinned version, the binary the tests run
crates=(
	"bore-cli 0.6.0 bore"
	"simple-http-server 0.8.1 simple-http-server"
)

mkdir -p "$root"
root=$(cd "$root" && pwd)
# cargo reads .cargo/config.toml from the working directory up: build from a neutral one, and
# without the caller's flags (the examples' frame-pointer RUSTFLAGS, a shared target dir)
cd "$root"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR

# two builds sharing this root (parallel configs, a rerun) must not install at the same time
exec 9>"$root/.install.lock"
flock 9

installed() { # name version bin: cargo's own record of the install, and the binary itself
	grep -qF "\"$1 $2 (registry+" "$root/.crates.toml" 2>/dev/null && [[ -x "$root/bin/$3" ]]
}

for c in "${crates[@]}"; do
	read -r name version bin <<<"$c"
	if installed "$name" "$version" "$bin"; then
		echo "install.sh: $name $version already in $root"
		continue
	fi
	start=$(date +%s)
	# --force: a binary left by another version or a broken install is replaced
	if ! "$cargo" install --locked --force --version "$version" --root "$root" "$name"; then
		echo "install.sh: cargo install $name $version failed; it needs crates.io and a recent" \
			"cargo (rustup's stable); rerun tests/thirdparty/install.sh $cargo $root to retry" >&2
		exit 1
	fi
	echo "install.sh: $name $version installed in $(( $(date +%s) - start ))s"
done
