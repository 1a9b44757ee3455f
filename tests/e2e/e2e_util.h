/* What the end-to-end tests share: running tokio-guard (and files). */
#ifndef TG_E2E_UTIL_H
#define TG_E2E_UTIL_H

#include "test_files.h" /* tg_test_read, tg_test_write */

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

#endif
