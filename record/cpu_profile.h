/* probe.cpu_profile's samples, counted per distinct user stack while the run
 * goes, symbolized at its end into functions by self and total share and
 * folded stacks (Brendan Gregg's `outer;inner count`, for inferno and
 * speedscope). */
#ifndef TG_CPU_PROFILE_REC_H
#define TG_CPU_PROFILE_REC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tg_symbolizer;

/* A symbolized frame as the aggregation takes it (strings are copied). */
struct tg_cpu_frame {
	const char *function;
	const char *file; /* absolute, or NULL */
	int line;
};

/* One function of the profile: SELF samples had it innermost, TOTAL had it
 * anywhere (once per sample, however deep it recursed). LINE is the line of
 * it the most samples were at (for a caller: the call's line). */
struct tg_cpu_fn {
	const char *function, *file;
	int line;
	uint64_t self, total;
	double self_pct, total_pct;
};

struct tg_cpu_profile;

struct tg_cpu_profile *tg_cpu_profile_new(uint32_t hz);
void tg_cpu_profile_free(struct tg_cpu_profile *p);

/* Dwarf mode: copies are unwound as they come, with *SZ (which may appear
 * later) under LOCK, the lock every other user of the symbolizer takes. */
void tg_cpu_profile_set_unwinder(struct tg_cpu_profile *p, struct tg_symbolizer *const *sz,
				 pthread_mutex_t *lock);
/* A sample from the ring (struct tg_cpu_sample or tg_copy_event): a
 * ring_buffer callback, CTX is the profile. 0, or -ENOMEM. */
int tg_cpu_profile_on_sample(void *ctx, void *data, size_t size);
/* A raw stack: the interrupted pc, then return addresses. */
int tg_cpu_profile_add_raw(struct tg_cpu_profile *p, const uint64_t *ips, uint32_t n);
/* The sampler's own counts: lost (ring full) and without a stack. */
void tg_cpu_profile_set_lost(struct tg_cpu_profile *p, uint64_t lost, uint64_t nostack);

/* Symbolizes the raw stacks into the aggregation (once, at the end). */
int tg_cpu_profile_resolve(struct tg_cpu_profile *p, struct tg_symbolizer *sz);
/* The aggregation itself: F innermost first, COUNT samples. 0 or -ENOMEM. */
int tg_cpu_profile_add_stack(struct tg_cpu_profile *p, const struct tg_cpu_frame *f, size_t n,
			     uint64_t count);

uint32_t tg_cpu_profile_hz(const struct tg_cpu_profile *p);
uint64_t tg_cpu_profile_samples(const struct tg_cpu_profile *p); /* aggregated */
uint64_t tg_cpu_profile_lost(const struct tg_cpu_profile *p);
/* The top functions into OUT (at most MAX): by self share, then any other with
 * at least MIN_TOTAL_PCT total share, by total. Returns how many. */
size_t tg_cpu_profile_top(const struct tg_cpu_profile *p, struct tg_cpu_fn *out, size_t max,
			  double min_total_pct);
/* % of samples with a frame whose function matches GLOB (selector semantics);
 * *MATCHED: some function matched at all. */
double tg_cpu_profile_share(const struct tg_cpu_profile *p, const char *glob, bool *matched);
/* Folded stacks, outermost first, one distinct stack a line, sorted. 0 or -errno. */
int tg_cpu_profile_write_folded(const struct tg_cpu_profile *p, FILE *f);

#endif
