#!/usr/bin/env bash
# Installs everything tokio-guard needs to build, test and run its examples:
# Debian's packages (ci/packages.txt) and a cargo. The examples' Rust crates
# are not Debian packages: cargo fetches them from crates.io at the versions
# of examples/Cargo.lock. Run as root on Debian 12 or a recent Ubuntu.
# TG_WITH_BENCH=1 adds what bench/overhead.sh needs (wrk, bpftrace).
# With SECTIONs (ci/install-deps.sh build [e2e] [viewer]): only those sections
# of ci/packages.txt ("build": to build and run the unit tests), and cargo and
# npm only for the e2e and viewer sections.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install-deps.sh: run as root (sudo ci/install-deps.sh)" >&2
  exit 1
fi

all=" ${*:-build e2e viewer} "
if [ $# -gt 0 ]; then
  mapfile -t packages < <(ci/packages.sh "$@")
else
  mapfile -t packages < <(grep -v '^#' ci/packages.txt)
fi
if [ "${TG_WITH_BENCH:-0}" = 1 ]; then
  packages+=(wrk bpftrace)
fi
# npm for the trace viewer test, unless a Node.js that brings its own is there
[[ $all == *" viewer "* ]] && ! command -v npm >/dev/null 2>&1 && packages+=(npm)

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

# A Rust toolchain: rustup's when present, Debian's cargo otherwise (the locked
# crates need Rust 1.85: Debian 13's, not 12's; use rustup there).
if [[ $all == *" e2e "* ]] && ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  apt-get install -y -q --no-install-recommends cargo rustc
fi
