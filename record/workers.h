/* Worker utilization: per thread that runs Tokio tasks, how much of the run
 * it was busy (inside a poll), blocked (inside a poll that was a blocking
 * span) and idle (the rest), overall and per second. Fed by the BPF side's
 * running totals (struct tg_worker_acc), which count every poll.
 *
 * Definitions (the README's "Worker utilization"):
 *   blocked = wall time of the thread's polls that were blocking spans (own
 *             time at or above blocking_threshold): the worker was held by a
 *             poll that blocked, whether it ran, slept or waited for a CPU;
 *   busy    = blocked + the own time of its other polls (wall less waiting for
 *             a CPU: a busy machine preempting a well-behaved poll is not the
 *             program's busy time); polls counted are the outermost runtime
 *             and block_on polls; blocked <= busy;
 *   idle    = 100% - busy (parked between polls, or preempted in a short one). */
#ifndef TG_WORKERS_H
#define TG_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll_probe.h"

struct tg_worker_util {
	uint32_t tid;
	const char *name;     /* the thread's name ("tokio-runtime-w"), or "" */
	double busy_pct, blocked_pct, idle_pct; /* of the window */
	uint64_t busy_ns, blocked_ns;
	/* busy % per second of the window, from its start; the last one a
	 * partial second's (one under 100 ms is part of the second before) */
	double *timeline;
	size_t nseconds;
};

struct tg_workers;

/* PID: names are read from /proc/PID/task/TID/comm at first sight (0: none). */
struct tg_workers *tg_workers_new(int pid);
void tg_workers_free(struct tg_workers *w);

/* One running-totals record of thread TID (ring event or the final
 * iterator's); older or repeated totals add nothing. 0 or -ENOMEM. */
int tg_workers_add(struct tg_workers *w, uint32_t tid, const struct tg_worker_acc *acc);

/* The shares over [T0, T1] (CLOCK_MONOTONIC) of every thread that ran a
 * task's runtime poll, by tid; valid until the next call or the free. */
const struct tg_worker_util *tg_workers_compute(struct tg_workers *w, uint64_t t0, uint64_t t1,
						 size_t *n);

#endif
