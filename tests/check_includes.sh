#!/bin/sh
# The include rule (docs/architecture.md): a stage folder includes only its own headers and those
# of the stages before it in the flow. Run by ctest (unit/check_includes); a back-include fails it
# with one line per offence. Includes are bare names found through the include path, so each
# name is looked up in the stage folders; names in no folder (libc, generated skeletons) pass.
# usage: tests/check_includes.sh [SOURCE_DIR]
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"

# The flow, lowest first; stages on one line share a rank (bpf/ is the probe's kernel half).
ranks='common
spec
target
load
probe bpf
record
assertions
reporters
runner'

rank_of() { # folder -> its rank, or nothing when it is not a stage
	printf '%s\n' "$ranks" | awk -v d="$1" '{ for (i = 1; i <= NF; i++) if ($i == d) print NR }'
}

folder_of() { # header name -> the stage folder that holds it (first match)
	for d in $(printf '%s\n' "$ranks" | tr ' ' '\n'); do
		[ -f "$d/$1" ] && { echo "$d"; return; }
	done
	true
}

bad=0
checked=0
for dir in $(printf '%s\n' "$ranks" | tr ' ' '\n'); do
	[ -d "$dir" ] || { echo "check_includes: stage folder $dir/ is missing: update the list in $0" >&2; exit 2; }
	own=$(rank_of "$dir")
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		checked=$((checked + 1))
		for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
			name=$(basename "$h")
			[ -f "$dir/$name" ] && continue
			to=$(folder_of "$name")
			[ -n "$to" ] || continue
			if [ "$(rank_of "$to")" -gt "$own" ]; then
				echo "back-include: $f includes $to/$name, a later stage: move what it needs down (docs/architecture.md)"
				bad=$((bad + 1))
			fi
		done
	done
done
[ "$checked" -gt 0 ] || { echo "check_includes: no sources found under $root: pass the source directory" >&2; exit 2; }
if [ "$bad" -gt 0 ]; then
	echo "check_includes: $bad back-include(s) in $checked files"
	exit 1
fi
echo "check_includes: $checked files, no back-include"
