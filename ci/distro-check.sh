#!/usr/bin/env bash
# Builds tokio-guard and runs its unit tests in a minimal Debian chroot made
# by debootstrap from Debian's own packages (ci/packages.sh build): proof that
# a release's compilers and libraries (debian-13: gcc 14, clang 19, libbpf 1.5;
# debian-12: gcc 12, clang 14, libbpf 1.1) build it, warnings being errors.
# The source is the working tree's files that git knows (tracked, or new and
# not ignored), without build trees. No BPF is loaded (a chroot shares the
# kernel, but the e2e tests need the Rust examples): the unit tests only.
#
#   sudo ci/distro-check.sh [debian-12|debian-13|ubuntu-22.04|ubuntu-24.04] [DIR]
#
# Ubuntu (archive.ubuntu.com, main and universe) checks the README's lines
# for it: 24.04 as Debian; 22.04 without its libbpf-dev (0.5), libbpf built
# from its v1.5.0 tag into /usr/local (cloned from GitHub, or copied from
# TG_LIBBPF_SRC, a libbpf source tree). A Debian host has no Ubuntu archive
# key for debootstrap: TG_DISTRO_NO_GPG=1 bootstraps unverified (apt in the
# chroot then checks with the keyring that came with it).
#
# DIR (default /var/tmp/tokio-guard-distro) caches the chroot with its
# packages installed: reruns only copy the source, build and test. Delete
# DIR/<release> to start over. TG_DISTRO_WERROR=0 lets warnings pass;
# TG_DISTRO_CC=clang builds the C side with clang too (default: cc, gcc).
# Needs root, debootstrap and network access to deb.debian.org. Prints one
# line saying which stage failed, and exits 1, on any failure.
set -euo pipefail

release=${1:-debian-13}
cache=${2:-/var/tmp/tokio-guard-distro}
src=$(cd "$(dirname "$0")/.." && pwd)
mirror=${TG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
boot_opts=(--variant=minbase)
own_libbpf=0
case "$release" in
debian-12) suite=bookworm ;;
debian-13) suite=trixie ;;
ubuntu-22.04) suite=jammy own_libbpf=1 ;;
ubuntu-24.04) suite=noble ;;
*) echo "usage: ci/distro-check.sh [debian-12|debian-13|ubuntu-22.04|ubuntu-24.04] [DIR]" >&2; exit 2 ;;
esac
if [[ $release == ubuntu-* ]]; then
	mirror=${TG_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
	boot_opts+=(--components=main,universe)
	if [ -f /usr/share/keyrings/ubuntu-archive-keyring.gpg ]; then
		boot_opts+=(--keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg)
	elif [ "${TG_DISTRO_NO_GPG:-0}" = 1 ]; then
		boot_opts+=(--no-check-gpg)
	else
		echo "ci/distro-check.sh: no Ubuntu archive keyring here: apt-get install ubuntu-keyring, or TG_DISTRO_NO_GPG=1" >&2
		exit 1
	fi
fi
# an older debootstrap may lack the suite's script: every Ubuntu one is gutsy's
script=/usr/share/debootstrap/scripts/$suite
[ -e "$script" ] || script=/usr/share/debootstrap/scripts/gutsy
root=$cache/$release/root
log=$cache/$release/log
stage=setup
mounted=()
t_start=$SECONDS

cleanup() {
	local rc=$? m
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		m=${mounted[i]}
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		echo "distro-check $release: stage '$stage' failed (rc $rc); its output: $log" >&2
	fi
}
trap cleanup EXIT

run() { # the current stage's command, its output kept in the log
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1
}
in_root() { run chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
begin() { stage=$1; t_stage=$SECONDS; echo "distro-check $release: $1" >&2; echo "== $1" >>"$log"; }
done_stage() { echo "distro-check $release: $stage done in $((SECONDS - t_stage)) s" >&2; }
mount_in() { # TYPE SOURCE DIR (in the chroot), unmounted by the trap
	mkdir -p "$root/$3"
	mountpoint -q "$root/$3" && return 0
	mount -t "$1" "$2" "$root/$3"
	mounted+=("$root/$3")
}

if [ "$(id -u)" -ne 0 ]; then
	echo "ci/distro-check.sh: run as root (debootstrap and chroot need it)" >&2
	exit 1
fi
command -v debootstrap >/dev/null || { echo "ci/distro-check.sh: apt-get install debootstrap" >&2; exit 1; }
mkdir -p "$cache/$release"
: >"$log"

# ---- a minimal Debian, once
if [ ! -e "$root/.tg-base" ]; then
	begin debootstrap
	rm -rf --one-file-system "$root"
	run debootstrap "${boot_opts[@]}" "$suite" "$root" "$mirror" "$script"
	touch "$root/.tg-base"
	done_stage
fi

# ---- the build section's packages, again when the list changes
begin packages
packages=$("$src/ci/packages.sh" build | tr '\n' ' ')
if [ "$own_libbpf" = 1 ]; then # the README's Ubuntu 22.04 line
	packages="$(echo " $packages " | sed 's/ libbpf-dev / /')git zlib1g-dev ca-certificates"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" # no daemons started in here
chmod +x "$root/usr/sbin/policy-rc.d"
mount_in proc proc proc
if [ "$(cat "$root/.tg-packages" 2>/dev/null)" != "$packages" ]; then
	in_root apt-get update -q
	# shellcheck disable=SC2086
	in_root apt-get install -y -q --no-install-recommends $packages
	echo "$packages" >"$root/.tg-packages"
fi
if [ "$own_libbpf" = 1 ] && [ ! -e "$root/usr/local/lib/pkgconfig/libbpf.pc" ]; then
	rm -rf --one-file-system "$root/tmp/libbpf"
	if [ -n "${TG_LIBBPF_SRC:-}" ]; then
		cp -a "$TG_LIBBPF_SRC" "$root/tmp/libbpf"
	else
		in_root git clone --depth 1 --branch v1.5.0 https://github.com/libbpf/libbpf /tmp/libbpf
	fi
	in_root make -C /tmp/libbpf/src install install_uapi_headers PREFIX=/usr/local LIBDIR=/usr/local/lib
	in_root ldconfig
fi
chroot "$root" dpkg-query -W -f '  ${Package} ${Version}\n' gcc clang cmake libdw-dev >&2
chroot "$root" pkg-config --modversion libbpf | sed 's/^/  libbpf (pkg-config) /' >&2
done_stage

# ---- the source, fresh each run
begin source
rm -rf --one-file-system "$root/src"
mkdir -p "$root/src"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		case "$f" in build/* | build-*/* | examples/target | examples/target/*) continue ;; esac
		[ -e "$f" ] && printf '%s\0' "$f"
	done | tar -c --null -T - -f -) | tar -x -C "$root/src"
done_stage

# ---- configure, build, unit tests (as the README says)
werror=
[ "${TG_DISTRO_WERROR:-1}" = 1 ] && werror=-DCMAKE_C_FLAGS=-Werror
begin configure
in_root cmake -S /src -B /src/build -DTG_BUILD_EXAMPLES=OFF $werror \
	-DCMAKE_C_COMPILER="${TG_DISTRO_CC:-cc}"
done_stage
begin build
in_root make -k -C /src/build -j"$(nproc)" # -k: every error in one run
done_stage
begin unit-tests
in_root sh -c 'cd /src/build && ctest -L unit --output-on-failure'
grep -E "tests passed|tests failed" "$log" | tail -1 >&2
done_stage

stage=done
echo "distro-check $release: passed in $((SECONDS - t_start)) s" >&2
