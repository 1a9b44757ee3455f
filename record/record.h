/* What the probes saw: blocking spans with their stacks, poll slices for the
 * trace, and per-task statistics. Fed by ring-buffer events from one thread. */
#ifndef TG_RECORD_H
#define TG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"
#include "span_kind.h"
#include "delayed.h"

struct tg_poll_sites;
struct tg_site_stats;
struct tg_sched_stats;

struct tg_stack {
	uint64_t ts_ns;
	uint64_t weight_ns; /* off-CPU: the interval; sample: the sampling period */
	bool offcpu;
	uint32_t nr;
	uint64_t *ips;      /* innermost first */
	uint64_t sp;        /* user sp at ips[0], and the TG_STACK_TOP bytes there */
	uint8_t *top;       /* NULL when not captured */
	/* DWARF mode: registers and stack bytes, unwound into ips when the span
	 * is resolved (and freed then); truncated: the copy ended before the stack. */
	struct tg_stack_copy *copy;
	bool truncated;
	/* Filled by tg_record_resolve: the call a person recognizes this stack by,
	 * its innermost Rust frame (above libc's wrappers); function NULL when none. */
	struct tg_frame where;
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

/* A poll's own time: its wall time less its waits for a CPU (what poll limits hold). */
static inline uint64_t tg_slice_own_ns(const struct tg_slice *s)
{
	return s->duration_ns > s->runq_ns ? s->duration_ns - s->runq_ns : 0;
}

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
	const char *task;        /* the task's name (record-owned) */
	/* Every distinct function name in any of the span's stacks (inlined
	 * frames included): what function selectors and allow entries match. */
	const char **functions;
	size_t nfunctions;
	uint64_t fn_mask;        /* probed function selectors (bit = index) entered in this poll */
	enum tg_block_kind kind; /* what the poll blocked on: tg_block_kind_of() */
	/* Set by tg_apply_allow (assertions/): matched an allow entry. */
	bool allowed;
	const char *allow_function; /* the allow entry's glob */
	const char *allow_reason;   /* its reason */
	bool stacks_dropped;        /* its stacks went to keep memory bounded (caps.h) */
	bool stack_truncated;       /* FRAMES' walk ended before the stack did (dwarf: copy too short) */
	size_t stacks_seen;         /* stacks it had before tg_record_resolve kept only off-CPU ones */
	uint32_t seq;               /* its poll's (tid, seq): what the probe's wait events name */
	/* The tasks that waited for its worker while it held it (scheduling
	 * delay on); NULL when none did. Owned by the span. */
	struct tg_delayed *delayed;
};

/* What the memory budgets (caps.h) left out: counted, never silent. */
struct tg_record_caps {
	uint64_t slice_floor_ns;  /* polls shorter than this were not kept for the trace (0: all kept) */
	uint64_t slices_dropped;  /* how many */
	uint64_t spans_stackless; /* spans whose stacks went to make room for longer ones' */
	uint64_t spans_dropped;   /* spans beyond TG_KEEP_SPANS: counted in the task statistics only */
};

struct tg_task_summary {
	const char *name;
	bool blocking_pool;   /* spawn_blocking tasks: never blocking spans */
	size_t sites;         /* raw::poll instances merged under this name */
	bool block_on;        /* the future a block_on polls: not a spawned task */
	/* Poll durations are own time (wall less waiting for a CPU); the wall
	 * times are the longest poll's and the longest own-time poll's. */
	uint64_t polls, busy_ns, max_ns, blocking_spans;
	uint64_t max_wall_ns, max_own_wall_ns;
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
	const uint64_t *hist;  /* TG_HIST_BUCKETS own-time counts; NULL when unknown */
	/* Scheduling delay (wake to poll), when probed (sched_count > 0). */
	uint64_t sched_count, sched_max_ns, sched_p50_ns, sched_p99_ns;
};

/* A function selector's polls: polls during which one of the functions its
 * glob matched in the binary was entered (uprobes on their entry). */
struct tg_fn_summary {
	const char *pattern;
	size_t symbols;        /* functions probed; 0: none found (inlined or absent) */
	uint64_t polls, busy_ns, max_ns, max_wall_ns, max_own_wall_ns;
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
	const uint64_t *hist;  /* TG_HIST_BUCKETS; NULL when symbols == 0 */
};

/* A thread that ran polls. Workers ran runtime polls; others (blocking pool,
 * the main thread's LocalSet...) keep their own name. */
struct tg_thread {
	uint32_t tid;
	const char *comm;    /* /proc/PID/task/TID/comm at first sight, or "" */
	bool worker;
	uint32_t worker_no;  /* 1, 2, ... in order of first runtime poll; 0 for others */
	uint64_t slices;     /* polls of this thread at or above the trace floor */
};

/* /proc/PID/task/TID/comm into BUF ("" when it cannot be read): read when a
 * thread is first seen, since by the end of the run it may be gone. */
void tg_thread_comm(int pid, uint32_t tid, char *buf, size_t len);

/* Running totals sampled during the run: the trace's counter tracks. */
struct tg_counter_sample {
	uint64_t ts_ns;   /* CLOCK_MONOTONIC */
	uint64_t polls;   /* runtime polls so far */
	uint64_t spans;   /* blocking spans so far */
};

struct tg_record;

struct tg_record *tg_record_new(const struct tg_poll_sites *sites, uint64_t blocking_ns,
				uint32_t sample_rate);
void tg_record_free(struct tg_record *r);

/* The target: thread names are read from /proc/PID/task/TID/comm when a
 * thread is first seen. */
void tg_record_set_pid(struct tg_record *r, int pid);
/* Polls kept for the trace, the longest (report.trace_max_polls; default TG_KEEP_SLICES). */
void tg_record_set_keep_slices(struct tg_record *r, size_t n);

/* Ring-buffer callback (ctx = the record). Returns 0, or -ENOMEM. */
int tg_record_on_event(void *ctx, void *data, size_t size);

/* Running totals for progress output; safe to call from another thread. */
void tg_record_progress(const struct tg_record *r, uint64_t *slices, uint64_t *spans);

/* After the probes stop: each site's histogram and counters. */
int tg_record_set_site_stats(struct tg_record *r, uint32_t site, const struct tg_site_stats *s);

/* Per site: scheduling delay statistics (when probed). */
int tg_record_set_sched_stats(struct tg_record *r, uint32_t site, const struct tg_sched_stats *s);
/* Function selector IDX (the fn_mask bit): its glob, how many functions were
 * probed for it, and their polls' statistics (S NULL when none were). */
int tg_record_set_fn_stats(struct tg_record *r, uint32_t idx, const char *pattern, size_t symbols,
			   const struct tg_site_stats *s);
const struct tg_fn_summary *tg_record_fns(const struct tg_record *r, size_t *n);

/* Appends a timeline point (called from the event thread every ~250 ms). */
void tg_record_add_sample(struct tg_record *r, uint64_t ts_ns, uint64_t total_polls);
const struct tg_counter_sample *tg_record_samples(const struct tg_record *r, size_t *n);

/* Worker utilization over the run [T0, T1] (CLOCK_MONOTONIC): every thread
 * that ran a task's runtime poll, by tid (record/workers.h); valid until the
 * next call or the record is freed. NULL and 0 when none was seen. */
struct tg_worker_util;
const struct tg_worker_util *tg_record_workers(struct tg_record *r, uint64_t t0, uint64_t t1, size_t *n);

/* Threads that ran polls: workers first (by number), then others by tid. */
const struct tg_thread *tg_record_threads(struct tg_record *r, size_t *n);

/* Symbolizes the spans not yet resolved, picks their culprits and frees
 * their raw stacks. Called as the run goes (by the thread that feeds events)
 * so that a long run holds culprits rather than stacks, and once at the end.
 * Returns how many spans it resolved. */
size_t tg_record_resolve(struct tg_record *r, struct tg_symbolizer *sz);

const struct tg_span *tg_record_spans(const struct tg_record *r, size_t *n);
/* How many spans, from the first, tg_record_resolve has resolved. */
size_t tg_record_resolved(const struct tg_record *r);
/* S's culprit frame (the innermost own-code frame of its heaviest stack), or
 * NULL when it has none. */
const struct tg_frame *tg_span_culprit(const struct tg_span *s);
struct tg_span *tg_record_spans_mut(struct tg_record *r, size_t *n);
const struct tg_slice *tg_record_slices(const struct tg_record *r, size_t *n);
/* Tasks merged by name, busiest first; valid until the record is freed. */
const struct tg_task_summary *tg_record_tasks(struct tg_record *r, size_t *n);
uint64_t tg_record_total_polls(const struct tg_record *r);
/* Events the user side dropped (memory caps), apart from the BPF side's. */
uint64_t tg_record_dropped(const struct tg_record *r);
const struct tg_record_caps *tg_record_caps(const struct tg_record *r);
const char *tg_record_site_name(const struct tg_record *r, uint32_t site);

#endif
