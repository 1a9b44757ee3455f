/* Progress on stderr while the load runs. Steps block in tg_run_step, so a
 * thread reads atomics the load and the event reader feed. */
#define _GNU_SOURCE
#include "progress.h"
#include "launch.h"
#include "record.h"
#include "requests.h"
#include "spec.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS (1000ull * 1000)

static _Atomic size_t g_step;
static _Atomic(const char *) g_step_name;

static struct {
	struct tg_progress_opts o;
	uint64_t t0;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* Counts are the current step's: reset with the step under the reporter's
 * lock, so that no line shows one step's name with another's counts. */
void tg_progress_step(size_t index, const char *name)
{
	pthread_mutex_lock(&P.lock);
	tg_load_requests_reset();
	atomic_store(&g_step_name, name);
	atomic_store(&g_step, index);
	pthread_mutex_unlock(&P.lock);
}

static void secs(uint64_t ns, char *buf, size_t len)
{
	double s = (double)ns / 1e9;

	if (s < 600)
		snprintf(buf, len, "%.1fs", s);
	else
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60), (unsigned)s % 60);
}

void tg_progress_format(char *buf, size_t len)
{
	char el[32], tot[32], floor[32];
	const char *name = atomic_load(&g_step_name);
	uint64_t slices = 0, spans = 0, requests, errors;
	int n;

	tg_load_requests_read(&requests, &errors);
	secs(tg_now_ns() - P.t0, el, sizeof el);
	if (P.o.total_ns)
		secs(P.o.total_ns, tot, sizeof tot);
	if (P.o.rec)
		tg_record_progress(P.o.rec, &slices, &spans);
	tg_format_duration(P.o.slice_floor_ns, floor, sizeof floor);
	n = snprintf(buf, len, "tokio-guard: [%s%s%s] step %zu/%zu '%s' requests %llu errors %llu",
		     el, P.o.total_ns ? "/" : "", P.o.total_ns ? tot : "", atomic_load(&g_step) + 1,
		     P.o.nsteps, name ? name : "", (unsigned long long)requests,
		     (unsigned long long)errors);
	if (n > 0 && (size_t)n < len && P.o.rec)
		snprintf(buf + n, len - (size_t)n, " polls>=%s %llu spans %llu", floor,
			 (unsigned long long)slices, (unsigned long long)spans);
}

static void *reporter(void *arg)
{
	char line[512];

	pthread_mutex_lock(&P.lock);
	for (;;) {
		struct timespec ts;
		uint64_t ns;

		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_nsec + P.o.interval_ns;
		ts.tv_sec += (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		while (!P.stop && pthread_cond_timedwait(&P.cond, &P.lock, &ts) != ETIMEDOUT)
			;
		if (P.stop)
			break;
		tg_progress_format(line, sizeof line);
		if (P.o.tty)
			fprintf(stderr, "\r\033[K%s", line);
		else
			fprintf(stderr, "%s\n", line);
		fflush(stderr);
	}
	pthread_mutex_unlock(&P.lock);
	return NULL;
}

int tg_progress_start(const struct tg_progress_opts *o)
{
	sigset_t all, old;
	int r;

	if (P.running)
		return -EBUSY;
	P.o = *o;
	if (P.o.tty < 0)
		P.o.tty = isatty(2);
	if (!P.o.interval_ns)
		P.o.interval_ns = P.o.tty ? 250 * MS : 2000 * MS;
	P.t0 = tg_now_ns();
	P.stop = false;
	tg_load_requests_reset();
	atomic_store(&g_step, 0);
	atomic_store(&g_step_name, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&P.thread, NULL, reporter, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	P.running = true;
	return 0;
}

void tg_progress_stop(void)
{
	if (!P.running)
		return;
	pthread_mutex_lock(&P.lock);
	P.stop = true;
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
	pthread_join(P.thread, NULL);
	P.running = false;
	if (P.o.tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

static uint64_t step_ns(const struct tg_step *st)
{
	uint64_t max = 0;

	switch (st->kind) {
	case TG_STEP_SLEEP:
		return st->sleep_ns;
	case TG_STEP_HTTP:
	case TG_STEP_TCP:
		return st->traffic.duration_ns;
	case TG_STEP_PARALLEL:
		for (size_t i = 0; i < st->nchildren; i++) {
			uint64_t c = step_ns(&st->children[i]);

			if (!c)
				return 0;
			if (c > max)
				max = c;
		}
		return max;
	default:
		return 0;
	}
}

uint64_t tg_progress_total_ns(const struct tg_spec *spec)
{
	uint64_t total = 0;

	for (size_t i = 0; i < spec->nsteps; i++) {
		uint64_t d = step_ns(&spec->steps[i]);

		if (!d)
			return 0;
		total += d;
	}
	return total;
}
