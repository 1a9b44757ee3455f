/* The record's own state, shared by record.c and culprit.c. Not a face: the
 * rest of tokio-guard includes record.h and sees struct tg_record as opaque. */
#ifndef TG_RECORD_PARTS_H
#define TG_RECORD_PARTS_H

#include "record.h"
#include "caps.h"
#include "poll_probe.h"
#include "workers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_PENDING 65536
#define PEND_BUCKETS 64 /* pending stacks counted by tid % this: most polls' threads have none */
#define MAX_FRAMES 512

#define MAX_THREADS 4096
#define MAX_SAMPLES (1u << 20)

struct pending {
	uint32_t tid, seq;
	struct tg_stack st;
};

struct thread {
	uint32_t tid;
	char comm[16];
	bool worker;
	uint64_t first_runtime_ns; /* start of its first runtime poll slice */
	uint64_t slices;
};

struct tg_record {
	const struct tg_poll_sites *sites;
	uint64_t blocking_ns;
	uint64_t sample_period_ns;
	struct pending *pend;
	size_t npend, cappend;
	uint32_t pend_by_tid[PEND_BUCKETS];
	struct tg_span *spans;
	size_t nspans, capspans;
	struct tg_slice *slices;
	size_t nslices, capslices;
	struct tg_site_stats **site_stats;
	struct tg_sched_stats **sched_stats;
	struct tg_task_summary *tasks;
	uint64_t (*task_hist)[TG_HIST_BUCKETS];
	size_t ntasks;
	struct tg_fn_summary fns[TG_MAX_FN_SELECTORS];
	uint64_t (*fn_hist)[TG_HIST_BUCKETS];
	size_t nfns;
	int pid;
	struct thread *threads;
	size_t nthreads, capthreads;
	struct tg_thread *pub_threads;
	struct tg_counter_sample *samples;
	size_t nsamples, capsamples;
	uint64_t dropped;
	struct tg_record_caps caps;
	struct tg_span_heap stacked; /* spans holding raw stacks, shortest first */
	size_t stack_bytes;          /* what they hold */
	size_t resolved;             /* spans[0, resolved) symbolized, their raw stacks freed */
	size_t keep_slices;          /* TG_KEEP_SLICES unless set */
	struct tg_workers *workers;  /* utilization totals (TG_EV_WORKER); NULL until the first */
	_Atomic uint64_t progress_slices, progress_spans;
};

/* record.c */
size_t span_stack_bytes(const struct tg_span *sp);

#endif
