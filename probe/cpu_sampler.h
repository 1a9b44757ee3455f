/* probe.cpu_profile: bpf/cpu_profile.bpf.c on a cpu-clock perf event per
 * CPU at N Hz, its samples (every thread of one process) read from a ring
 * buffer of its own. Apart from the poll probe: it needs no poll state. */
#ifndef TG_CPU_SAMPLER_H
#define TG_CPU_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpu_profile_event.h"

struct tg_cpu_sampler_opts {
	pid_t pid;            /* the target (its tgid) */
	uint32_t hz;          /* samples per second per CPU, 1 to 10000 */
	uint32_t stack_depth; /* user frames per fp stack, at most TG_MAX_STACK_DEPTH (0: all) */
	bool unwind_dwarf;    /* send struct tg_copy_event (registers + stack) instead */
	uint32_t stack_copy;  /* bytes above sp in dwarf mode (0: 16 KB) */
	/* every sample: a struct tg_cpu_sample or a struct tg_copy_event */
	int (*on_sample)(void *ctx, void *data, size_t size);
	void *ctx;
};

struct tg_cpu_sampler;

/* Loads and attaches. 0, or -errno with one line in ERR. */
int tg_cpu_sampler_open(const struct tg_cpu_sampler_opts *o, struct tg_cpu_sampler **out, char *err,
			size_t errlen);
/* Hands every sample in the ring to on_sample: the count, or -errno. */
int tg_cpu_sampler_consume(struct tg_cpu_sampler *s);
/* Samples taken on the target, lost (ring full) and with no readable stack. */
void tg_cpu_sampler_counts(struct tg_cpu_sampler *s, uint64_t *taken, uint64_t *lost, uint64_t *nostack);
/* Detaches and unloads (NULL is fine). */
void tg_cpu_sampler_close(struct tg_cpu_sampler *s);

#endif
