#!/bin/sh
# The Debian packages of some sections of ci/packages.txt, one per line.
# usage: ci/packages.sh SECTION...   (build, e2e, distro, viewer)
set -eu
[ $# -gt 0 ] || { echo "usage: ci/packages.sh SECTION... (build, e2e, distro, viewer)" >&2; exit 2; }
list=$(dirname "$0")/packages.txt
for s in "$@"; do
	grep -q "^# @$s\$" "$list" || { echo "ci/packages.sh: no section @$s in $list" >&2; exit 2; }
done
awk -v want=" $* " '/^# @/ { sec = substr($2, 2); next } /^#/ || NF == 0 { next }
	index(want, " " sec " ") { print $1 }' "$list"
