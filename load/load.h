/* Load steps: drive the target while it is probed. */
#ifndef TG_LOAD_H
#define TG_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct tg_spec;
struct tg_step;

/* Why a request failed. */
enum tg_load_error {
	TG_LERR_CONNECT,  /* refused, reset, unreachable, DNS */
	TG_LERR_TIMEOUT,  /* per-request timeout */
	TG_LERR_STATUS,   /* http: status other than expected */
	TG_LERR_EXPECT,   /* tcp: reply without the expected text */
	TG_LERR_IO,       /* anything else while sending or receiving */
	TG_LERR__COUNT
};

struct tg_step_result {
	const char *name;   /* the step's name (owned by the spec) */
	int kind;           /* enum tg_step_kind */
	uint64_t start_ns;  /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	bool ok;            /* the step could run; http/tcp: and got at least one good response
			     * (other request errors are counted, the load check judges them) */
	int exit_code;      /* exec: -1 if killed */
	int signal;         /* exec: killing signal, 0 if none */
	char error[256];    /* one line when !ok */
	/* http, tcp (and parallel: the sum of its children) */
	uint64_t requests;  /* finished, successfully or not */
	uint64_t errors;
	uint64_t errors_by_kind[TG_LERR__COUNT];
	uint64_t *latency_hist; /* TG_HIST_BUCKETS counts of latency in ns (common/hist_layout.h
				 * layout); open model: from each request's intended start */
	uint64_t latency_max_ns;
	double throughput_per_s; /* requests / (end - start) */
	char *output;       /* exec: the tail of its stdout+stderr (at most 64 KiB), or NULL */
	struct tg_step_result *children; /* parallel */
	size_t nchildren;
};

/* Frees what a result owns (histogram, output, children), not RES itself. */
void tg_step_result_free(struct tg_step_result *res);

/* Whether exec steps copy their output to our stderr (default on; --quiet
 * turns it off). Set before the first step: parallel steps read it. */
void tg_load_set_echo(bool on);

/* Called while a step runs; a step stops early when it returns false
 * (the target died). */
typedef bool (*tg_alive_fn)(void *ctx);

/* Runs STEP to completion. 0 when it ran and succeeded, -EINTR when *STOP
 * became non-zero (the step's child is killed), -ECHILD when ALIVE said the
 * target died, -EIO when the step itself failed (error in RES). */
int tg_run_step(const struct tg_spec *spec, const struct tg_step *step,
		struct tg_step_result *res, volatile sig_atomic_t *stop,
		tg_alive_fn alive, void *alive_ctx);

#endif
