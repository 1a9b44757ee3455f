#!/usr/bin/env bash
# The unit tests and two end-to-end tests (e2e/reports, e2e/storm: real eBPF, real
# Tokio targets) again, with tokio-guard and the tests built with ASan + UBSan
# (-DTG_SANITIZE=ON). Not e2e/blocking_kinds: it passes under ASan with no report,
# but its sampling check fails on a loaded machine more often with a slower tokio-guard.
# ci/test.sh runs it after the main build, whose Rust examples (examples/target/release)
# the end-to-end tests share, so no Rust is built here.
# Any sanitizer report fails it, including one from a tokio-guard the tests started
# and whose exit code they did not look at: every report goes to a log file.
# Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SANITIZE_BUILD_DIR:-build-sanitize}
e2e='^e2e/(reports|storm)$'
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE=ON -DTG_BUILD_EXAMPLES=OFF >/dev/null
# only what the chosen tests run: "all" would also cargo-install the third-party servers
# (unit tests named test_* are executables; unit/check_includes is a script)
units=$(cd "$build" && ctest -N -L unit | sed -n 's|^ *Test *#[0-9]*: unit/\(test_\)|\1|p')
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target tokio-guard test_e2e_reports test_e2e_storm $units

logs=$(mktemp -d /tmp/tg-sanitize-XXXXXX)
chmod 777 "$logs" # the tests run as root, the reports are read back as you
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"

run_as_root=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  run_as_root=(sudo --preserve-env=PATH,ASAN_OPTIONS,UBSAN_OPTIONS)
fi
rc=0
(cd "$build" && "${run_as_root[@]}" ctest --output-on-failure -R "^unit/|$e2e" "$@") || rc=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "ci/sanitize.sh: sanitizer reports (ASan/UBSan/LSan) in $logs:" >&2
  for f in "$logs"/*; do
    echo "---- $f" >&2
    cat "$f" >&2
  done
  exit 1
fi
rmdir "$logs"
exit "$rc"
