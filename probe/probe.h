/* The eBPF probe session: loads poll_probe.bpf.c, attaches it to one target
 * process, and hands its events to a callback. */
#ifndef TG_PROBE_H
#define TG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "poll_probe.h"

struct tg_poll_sites;

struct tg_probe_opts {
	pid_t pid;                   /* the target; may still be waiting at its exec gate */
	const char *exe;             /* the binary the sites were found in */
	const struct tg_poll_sites *sites;
	uint64_t trace_min_ns;       /* polls at or above this become events */
	uint64_t blocking_ns;        /* the blocking span threshold */
	uint32_t sample_rate;        /* on-CPU samples per second per CPU; 0: none */
	uint32_t stack_depth;        /* user frames per stack, at most TG_MAX_STACK_DEPTH */
	uint64_t ringbuf_bytes;      /* a power of two of pages (probe.ring_buffer); 0: 16 MB */
	/* Stacks as register and stack copies for user space to unwind (the
	 * binary keeps no frame pointers), STACK_COPY bytes above sp (0: 16 KB). */
	bool unwind_dwarf;
	uint32_t stack_copy;
	/* Function selectors: each glob is matched against the binary's demangled
	 * function symbols and their entries probed; a poll that entered one gets
	 * bit INDEX in fn_mask and counts in that selector's statistics. */
	const char *const *fn_globs;
	size_t nfn;                  /* at most TG_MAX_FN_SELECTORS */
	bool sched_delay;            /* probe task wakes: scheduling delay per site */
	bool sched_delay_best_effort; /* ... unless the binary has no waker symbols (then off, no error) */
	/* Called from tg_probe_poll for every event; return non-zero to stop. */
	int (*on_event)(void *ctx, void *data, size_t size);
	void *ctx;
};

struct tg_probe;

/* Loads and attaches everything. Returns 0, or -errno with one line in ERR
 * saying what failed and what to do (no permission, no BTF, ...). */
int tg_probe_open(const struct tg_probe_opts *opts, struct tg_probe **out, char *err, size_t errlen);

/* Consumes ready events, waiting up to TIMEOUT_MS. Returns events handled or -errno. */
int tg_probe_poll(struct tg_probe *p, int timeout_ms);
/* Ends a tg_probe_poll wait in another thread now (or the next one to start). */
void tg_probe_wake(struct tg_probe *p);

/* Counters from the stats map, summed over CPUs. */
void tg_probe_read_stats(struct tg_probe *p, uint64_t stats[TG_STAT__COUNT]);

/* One site's per-CPU statistics summed into OUT. */
int tg_probe_read_site(struct tg_probe *p, uint32_t site, struct tg_site_stats *out);

/* Function selector IDX: functions probed for it (0: none found), and the
 * polls that entered one, summed over CPUs into OUT. */
size_t tg_probe_fn_symbols(const struct tg_probe *p, uint32_t idx);
int tg_probe_read_fn(struct tg_probe *p, uint32_t idx, struct tg_site_stats *out);
/* One site's scheduling delay statistics (zeros unless sched_delay was on). */
int tg_probe_read_sched(struct tg_probe *p, uint32_t site, struct tg_sched_stats *out);
/* Whether task wakes are probed (sched_delay, and the binary had the waker symbols). */
bool tg_probe_sched_delay(const struct tg_probe *p);
/* When the probes stop: each thread's worker utilization totals (struct
 * tg_worker_event) handed to FN like ring events, after what the ring holds.
 * 0 or -errno (a kernel without task iterators: the last ~100 ms are missing). */
int tg_probe_read_workers(struct tg_probe *p, int (*fn)(void *ctx, void *data, size_t size), void *ctx);
/* Runtime polls so far (TG_STAT_POLLS summed over CPUs): cheap, for the timeline. */
uint64_t tg_probe_polls(struct tg_probe *p);

/* Number of probes attached (two per site plus samplers and the switch hook). */
size_t tg_probe_attached(const struct tg_probe *p);

/* How on-CPU stacks are sampled: "tick+timer", "perf cpu-clock" or "off". */
const char *tg_probe_sampler(const struct tg_probe *p);

/* Detaches and unloads. Safe with NULL. */
void tg_probe_close(struct tg_probe *p);

#endif
