/* Load steps: drive the target while it is probed. */
#ifndef TG_LOAD_H
#define TG_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct tg_spec;
struct tg_step;

struct tg_step_result {
	const char *name;   /* the step's name (owned by the spec) */
	uint64_t start_ns;  /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	bool ok;
	int exit_code;      /* exec: -1 if killed */
	int signal;         /* exec: killing signal, 0 if none */
	char error[256];    /* one line when !ok */
};

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
