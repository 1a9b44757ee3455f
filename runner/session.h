/* One `tokio-guard run`: spec -> launch -> probe -> load -> stop -> report. */
#ifndef TG_SESSION_H
#define TG_SESSION_H

#include <stdbool.h>

/* Exit codes: stable, documented in the README (contract: shared/spec.md). */
enum tg_exit {
	TG_EXIT_OK = 0,
	TG_EXIT_ASSERTION = 1,
	TG_EXIT_USAGE = 2,
	TG_EXIT_ENV = 3,
	TG_EXIT_TARGET = 4,
	TG_EXIT_SIGINT = 130,
	TG_EXIT_SIGTERM = 143,
};

struct tg_run_opts {
	const char *spec_path;
	const char *out_dir;      /* overrides report.dir */
	const char *results_file; /* overrides report.results (a path) */
	const char *junit_file;   /* overrides report.junit (a path) */
	const char *trace_file;   /* overrides report.trace (a path) */
	const char *baseline;     /* an earlier results.json: max_poll_regression */
	bool quiet;
	bool live;                /* the live view (runner/live.h) while it runs */
	bool verbose;
};

/* Runs the spec and returns the process exit code. */
int tg_session_run(const struct tg_run_opts *opts);

#endif
