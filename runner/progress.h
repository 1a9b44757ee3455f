/* Progress on stderr while the load runs: one updating line on a terminal
 * (every 250ms), plain lines every 2s otherwise (CI logs). */
#ifndef TG_PROGRESS_H
#define TG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_record;
struct tg_spec;

struct tg_progress_opts {
	const struct tg_record *rec; /* polls (slices) and blocking spans so far; may be NULL */
	uint64_t slice_floor_ns;     /* polls at least this long are counted (trace_min_poll) */
	size_t nsteps;
	uint64_t total_ns;           /* expected length of the load; 0: unknown */
	int tty;                     /* -1: isatty(2), 0: plain lines, 1: updating line */
	uint64_t interval_ns;        /* 0: 250ms on a terminal, 2s otherwise */
};

/* Starts the reporter thread. 0 or -errno. Counters are reset. */
int tg_progress_start(const struct tg_progress_opts *o);
/* The step now running: INDEX counts from 0; NAME must outlive the step. */
void tg_progress_step(size_t index, const char *name);
/* The load counts the requests it shows: tg_progress_add_requests, load/requests.h. */
/* Stops the reporter (a terminal's line is cleared). Safe when not started. */
void tg_progress_stop(void);
/* Formats the current line (without newline) into BUF: for tests. */
void tg_progress_format(char *buf, size_t len);
/* The sum of the steps' durations when every step has one (sleep, traffic by
 * duration; parallel: its longest child), else 0. */
uint64_t tg_progress_total_ns(const struct tg_spec *spec);

#endif
