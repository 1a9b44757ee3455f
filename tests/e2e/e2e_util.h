/* What the end-to-end tests share: running tokio-guard (and files), free ports, skipping. */
#ifndef TG_E2E_UTIL_H
#define TG_E2E_UTIL_H

#include <stdio.h>
#include <cjson/cJSON.h>
#include "test_files.h" /* tg_test_read, tg_test_write */

/* In a cmocka test: skips it, saying WHY on stderr, unless OK (root, a built
 * target): a machine without them runs the rest. */
#define E2E_SKIP_UNLESS(ok, why)                                  \
	do {                                                      \
		if (!(ok)) {                                      \
			fprintf(stderr, "skipped: %s\n", (why)); \
			skip();                                   \
		}                                                 \
	} while (0)

struct e2e_io {
	const char *out_path;   /* stdout into this file; NULL: inherited */
	const char *err_path;   /* stderr into this file; NULL: inherited */
	char *const *env;       /* the environment; NULL: ours */
	int sig;                /* sent after AFTER_MS when both are non-zero */
	int after_ms;
};

/* Runs EXE with ARGS (NULL-terminated, without argv[0]). Its exit code, or
 * 128+signal, or -1 when it could not be started. */
int e2e_run(const char *exe, const char *const *args, const struct e2e_io *io);

/* tokio-guard on DIR/guard.yaml (written by the caller), reports in DIR/out,
 * quiet. Its exit code; *RESULTS is DIR/out/results.json parsed (NULL when
 * missing), *LOG the target's DIR/example.log (GUARD_EXAMPLE_LOG; NULL when
 * it wrote none). */
int e2e_run_dir(const char *dir, cJSON **results, char **log);

/* DIR/guard.yaml for the blocking-tasks example BIN run 4 s (every kind
 * blocking BLOCK_MS, logged to DIR/example.log) under a 2 s sleep, spans from
 * THRESHOLD_MS, measured only (no assertions): e2e/builds', e2e/matrix's. */
void e2e_tasks_spec(const char *dir, const char *name, const char *bin, int block_ms, int threshold_ms);

/* A TCP port of 127.0.0.1 the kernel picked as free a moment ago: tests never
 * hard-code one, other builds run beside them. */
int e2e_free_port(void);

#endif
