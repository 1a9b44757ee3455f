#!/usr/bin/env bash
# Installs what tokio-guard links against, and, when it is to be built
# (TG_BUILD=true: no cached build), the tools to build it. Only missing
# packages are installed, so a runner that has them all spends no time here.
# Ubuntu 22.04's libbpf (0.5) is too old: libbpf 1.5 is built from its tag.
set -euo pipefail
. /etc/os-release
sudo=; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
case "${ID}-${VERSION_ID:-}" in
  ubuntu-22.04|ubuntu-24.04|debian-12|debian-13) ;;
  *) echo "tokio-guard action: ${PRETTY_NAME:-this system} is not one it was made for" \
          "(Ubuntu 22.04/24.04, Debian 12/13); trying Debian's package names" >&2 ;;
esac

# the -dev packages bring the shared libraries whatever their names on each release
libs=(libelf-dev libdw-dev libyaml-dev libcjson-dev libcurl4-openssl-dev libxml2-dev zlib1g-dev
      libcap2-bin)
[ "${ID}-${VERSION_ID:-}" = ubuntu-22.04 ] || libs+=(libbpf-dev)
tools=(build-essential cmake pkg-config clang llvm libiberty-dev git ca-certificates)
want=("${libs[@]}")
[ "${TG_BUILD:-true}" = true ] && want+=("${tools[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tokio-guard action: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
