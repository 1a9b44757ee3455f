/* probe.cpu_profile during a run: the sampler, the profile it fills, and
 * the thread that drains one into the other. */
#ifndef TG_CPU_PROFILING_H
#define TG_CPU_PROFILING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tg_symbolizer;
struct tg_cpu_profile;
struct tg_cpu_profiling;

/* Starts sampling PID at HZ. SZ (which may be set later) and LOCK are the
 * session's symbolizer and its lock (dwarf mode unwinds as it goes).
 * 0, or -errno with one line in ERR. */
int tg_cpu_profiling_start(pid_t pid, uint32_t hz, bool dwarf, uint32_t stack_copy,
			   uint32_t stack_depth, struct tg_symbolizer *const *sz, pthread_mutex_t *lock,
			   struct tg_cpu_profiling **out, char *err, size_t errlen);
/* Stops sampling, drains the ring and hands back the profile (the caller
 * frees it with tg_cpu_profile_free); frees C. NULL C gives NULL. */
struct tg_cpu_profile *tg_cpu_profiling_stop(struct tg_cpu_profiling *c);

#endif
