#!/usr/bin/env bash
# Runs the spec as the job's own user. The probes need CAP_BPF and CAP_PERFMON
# (and CAP_SYS_ADMIN before Linux 6.6, whose single-uprobe fallback needs it);
# they are put on the binary, so nothing goes through sudo: sudo's env_reset
# would drop GITHUB_ACTIONS, GITHUB_STEP_SUMMARY and GITHUB_WORKSPACE, and with
# them the annotations and the step summary.
set -uo pipefail
tg="${TG_PREFIX:?}/bin/tokio-guard"
out="${TG_OUT:-tokio-guard-out}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
echo "reports=$out" >> "$GITHUB_OUTPUT"

caps=cap_bpf,cap_perfmon
IFS=. read -r major minor _ <<< "$(uname -r)"
if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[!0-9]*}" -lt 6 ]; }; then
  caps=$caps,cap_sys_admin
fi
if [ "$(id -u)" -ne 0 ] && ! getcap "$tg" | grep -q cap_perfmon; then
  # a restored cache loses file capabilities: set them on every run
  sudo -n setcap "$caps+ep" "$tg" || {
    echo "::error title=tokio-guard::could not give $tg the capabilities $caps (passwordless sudo and setcap needed)"
    exit 3
  }
fi

args=(run "${TG_SPEC:-guard.yaml}" --out-dir "$out")
[ -n "${TG_BASELINE:-}" ] && args+=(--baseline "$TG_BASELINE")
read -r -a extra <<< "${TG_ARGS:-}"
"$tg" "${args[@]}" "${extra[@]}"
rc=$?
echo "exit-code=$rc" >> "$GITHUB_OUTPUT"
exit $rc
