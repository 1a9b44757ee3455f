/* The cascade of one blocking span: the tasks that were ready to run on its
 * worker while it held it, how long each waited, and the total. Kept bounded:
 * the longest waits by name, the rest only counted. Pure bookkeeping (no
 * probes): tests/unit/test_delayed.c. */
#ifndef TG_DELAYED_H
#define TG_DELAYED_H

#include <stddef.h>
#include <stdint.h>

#define TG_DELAYED_KEEP 16 /* tasks kept per span, longest wait first; the rest are counted */

/* One delayed poll. Its wait is the task's whole wake-to-poll time (what the
 * task would measure itself), not only the part inside the span. */
struct tg_delayed_task {
	const char *task;     /* record-owned (or results.json's) name */
	uint64_t task_id;
	uint32_t tid;         /* the thread it was polled on: the span's */
	uint64_t wait_ns;     /* poll start - wake */
	uint64_t start_ns;    /* its poll: CLOCK_MONOTONIC; 0 when read back from results.json */
	uint64_t duration_ns;
};

struct tg_delayed {
	uint64_t tasks;       /* every delayed poll, kept or not */
	uint64_t total_ns;    /* their waits, summed */
	uint32_t nworst;
	struct tg_delayed_task worst[TG_DELAYED_KEEP]; /* longest wait first */
};

/* Counts T in D and keeps it if it is among the TG_DELAYED_KEEP longest. */
void tg_delayed_add(struct tg_delayed *d, const struct tg_delayed_task *t);

/* "this 25ms poll delayed 37 tasks by 410ms in all" into BUF (SPAN_NS: the
 * span's wall time). Empty when D is NULL or counted no task. */
void tg_delayed_sentence(const struct tg_delayed *d, uint64_t span_ns, char *buf, size_t len);

#endif
