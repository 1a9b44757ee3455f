/* The command lines of `tokio-guard attach` and of ad hoc `run -- CMD`. */
#ifndef TG_CLI_ATTACH_H
#define TG_CLI_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

/* True when a run's arguments hold "--": an ad hoc run. */
bool tg_cli_is_adhoc(int argc, char **argv);

/* Parses `attach PID [--duration D] [SPEC.yaml] [--out-dir DIR] [--live|--no-live]
 * [--quiet] [--verbose]` (ARGV[0] is "attach") or, with ADHOC, `run [--duration D]
 * [--out-dir DIR] [--threshold T] [--live|--no-live] [--quiet] [--verbose] -- CMD
 * [ARGS...]` into RO (pointing into ARGV). 0, or -EINVAL with one line in WHY (no
 * "tokio-guard: " prefix: the caller adds it and the synopsis). */
int tg_cli_parse(int argc, char **argv, bool adhoc, struct tg_run_opts *ro, char *why, size_t len);

#endif
