/* What the probes saw: blocking spans with their stacks, poll slices for the
 * trace, and per-task statistics. Fed by ring-buffer events from one thread. */
#ifndef TG_RECORD_H
#define TG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

struct tg_poll_sites;
struct tg_site_stats;

struct tg_stack {
	uint64_t ts_ns;
	uint64_t weight_ns; /* off-CPU: the interval; sample: the sampling period */
	bool offcpu;
	uint32_t nr;
	uint64_t *ips;      /* innermost first */
	uint64_t sp;        /* user sp at ips[0], and the TG_STACK_TOP bytes there */
	uint8_t *top;       /* NULL when not captured */
};

/* A poll at or above the trace floor. */
struct tg_slice {
	uint32_t tid;
	uint32_t site;
	uint64_t task_id;
	uint64_t start_ns;
	uint64_t duration_ns;
	uint64_t off_cpu_ns;
	uint64_t runq_ns;
};

struct tg_span {
	struct tg_slice poll;
	uint64_t on_cpu_ns;     /* duration - off-CPU - run-queue wait */
	uint32_t samples;       /* on-CPU samples taken */
	struct tg_stack *stacks;
	size_t nstacks;
	/* Filled by tg_record_resolve: the heaviest stack, symbolized and cut at
	 * the raw::poll frame, and the culprit's index in it (-1: no stack). */
	struct tg_frame *frames;
	int nframes;
	int culprit;
	bool allowed;
};

struct tg_task_summary {
	const char *name;
	bool blocking_pool;   /* spawn_blocking tasks: never blocking spans */
	size_t sites;         /* raw::poll instances merged under this name */
	uint64_t polls, busy_ns, max_ns, blocking_spans;
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
};

struct tg_record;

struct tg_record *tg_record_new(const struct tg_poll_sites *sites, uint64_t blocking_ns,
				uint32_t sample_rate);
void tg_record_free(struct tg_record *r);

/* Ring-buffer callback (ctx = the record). Returns 0, or -ENOMEM. */
int tg_record_on_event(void *ctx, void *data, size_t size);

/* Running totals for progress output; safe to call from another thread. */
void tg_record_progress(const struct tg_record *r, uint64_t *slices, uint64_t *spans);

/* After the probes stop: each site's histogram and counters. */
int tg_record_set_site_stats(struct tg_record *r, uint32_t site, const struct tg_site_stats *s);

/* Symbolizes spans and picks their culprits. */
void tg_record_resolve(struct tg_record *r, struct tg_symbolizer *sz);

const struct tg_span *tg_record_spans(const struct tg_record *r, size_t *n);
const struct tg_slice *tg_record_slices(const struct tg_record *r, size_t *n);
/* Tasks merged by name, busiest first; valid until the record is freed. */
const struct tg_task_summary *tg_record_tasks(struct tg_record *r, size_t *n);
uint64_t tg_record_total_polls(const struct tg_record *r);
/* Events the user side dropped (memory caps), apart from the BPF side's. */
uint64_t tg_record_dropped(const struct tg_record *r);
const char *tg_record_site_name(const struct tg_record *r, uint32_t site);

#endif
