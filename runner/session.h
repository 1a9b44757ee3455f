/* One `tokio-guard run`: spec -> launch -> probe -> load -> stop -> report. */
#ifndef TG_SESSION_H
#define TG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
	bool verbose;
	/* attach and ad hoc runs (runner/cli_attach.c) */
	pid_t attach_pid;         /* > 0: probe this running process (spec optional, its target ignored) */
	char *const *command;     /* run -- CMD ARGS: no spec file (spec_path NULL) */
	uint64_t threshold_ns;    /* ad hoc: probe.blocking_threshold (0: 10ms) */
	uint64_t duration_ns;     /* attach, ad hoc: the run's length (0: until Ctrl-C or the target's end) */
	bool live;                /* the live view (runner/live.c): attach and ad hoc runs default to it on a TTY */
};

/* Runs the spec and returns the process exit code. */
int tg_session_run(const struct tg_run_opts *opts);

#endif
