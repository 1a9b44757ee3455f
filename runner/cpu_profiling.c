/* Samples are sent without a wakeup each (bpf/cpu_profile.bpf.c): this
 * thread reads the ring every DRAIN_MS, which at 999 Hz on a few CPUs is a
 * few hundred samples a time, well inside the ring. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_profile.h"
#include "cpu_profiling.h"
#include "cpu_sampler.h"

#define DRAIN_MS 20

struct tg_cpu_profiling {
	struct tg_cpu_sampler *sampler;
	struct tg_cpu_profile *prof;
	pthread_t thread;
	atomic_bool stop;
};

static void *drain(void *arg)
{
	struct tg_cpu_profiling *c = arg;
	struct timespec ts = { 0, DRAIN_MS * 1000000L };

	while (!atomic_load(&c->stop)) {
		tg_cpu_sampler_consume(c->sampler);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int tg_cpu_profiling_start(pid_t pid, uint32_t hz, bool dwarf, uint32_t stack_copy,
			   uint32_t stack_depth, struct tg_symbolizer *const *sz, pthread_mutex_t *lock,
			   struct tg_cpu_profiling **out, char *err, size_t errlen)
{
	struct tg_cpu_profiling *c = calloc(1, sizeof(*c));
	struct tg_cpu_sampler_opts o = { .pid = pid, .hz = hz, .stack_depth = stack_depth,
					 .unwind_dwarf = dwarf, .stack_copy = stack_copy,
					 .on_sample = tg_cpu_profile_on_sample };
	sigset_t all, old;
	int r;

	*out = NULL;
	if (!c || !(c->prof = tg_cpu_profile_new(hz))) {
		free(c);
		snprintf(err, errlen, "probe.cpu_profile: out of memory");
		return -ENOMEM;
	}
	tg_cpu_profile_set_unwinder(c->prof, sz, lock);
	o.ctx = c->prof;
	if ((r = tg_cpu_sampler_open(&o, &c->sampler, err, errlen))) {
		tg_cpu_profile_free(c->prof);
		free(c);
		return r;
	}
	sigfillset(&all); /* signals belong to the main thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&c->thread, NULL, drain, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "probe.cpu_profile: cannot start its reader: %s", strerror(r));
		tg_cpu_sampler_close(c->sampler);
		tg_cpu_profile_free(c->prof);
		free(c);
		return -r;
	}
	*out = c;
	return 0;
}

struct tg_cpu_profile *tg_cpu_profiling_stop(struct tg_cpu_profiling *c)
{
	struct tg_cpu_profile *p;
	uint64_t taken, lost, nostack;

	if (!c)
		return NULL;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	tg_cpu_sampler_consume(c->sampler);
	tg_cpu_sampler_counts(c->sampler, &taken, &lost, &nostack);
	tg_cpu_profile_set_lost(c->prof, lost, nostack);
	tg_cpu_sampler_close(c->sampler);
	p = c->prof;
	free(c);
	return p;
}
