/* Worker utilization's accounting (record/workers.c): running totals as the
 * BPF side sends them, turned into busy / blocked / idle shares and a busy
 * share per second. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "workers.h"

#define MS 1000000ull
#define S 1000000000ull
#define T0 (100 * S) /* CLOCK_MONOTONIC is never 0 */

/* One thread's totals as util_add keeps them. */
struct sim {
	struct tg_worker_acc acc;
};

/* A poll of thread SIM on [start, start + dur) adding BUSY, a span or not;
 * sent when SEND (the BPF side sends at most every 100 ms, and every span). */
static void poll(struct tg_workers *w, struct sim *sim, uint64_t start, uint64_t dur, uint64_t busy,
		 bool span, bool send)
{
	struct tg_worker_acc *u = &sim->acc;

	u->busy_ns += busy;
	if (span)
		u->blocked_ns += busy;
	u->prev_end_ns = u->last_end_ns;
	u->last_start_ns = start;
	u->last_own_ns = busy;
	u->last_end_ns = start + dur;
	u->last_span = span;
	u->worker = 1;
	if (send)
		assert_int_equal(tg_workers_add(w, 7, u), 0);
}

static void near(double got, double want)
{
	if (fabs(got - want) > 0.05)
		fail_msg("%.3f, expected %.3f", got, want);
}

/* 1 ms polls every 4 ms for 2 s (25% busy), sent every 100 ms, then a 300 ms
 * span in second 2, then nothing until 4 s: the shares and the timeline. */
static void test_shares_and_timeline(void **state)
{
	struct tg_workers *w = tg_workers_new(0);
	struct sim sim = { 0 };
	const struct tg_worker_util *u;
	uint64_t last_sent = 0;
	size_t n;

	(void)state;
	for (uint64_t t = T0; t < T0 + 2 * S; t += 4 * MS) {
		bool send = t + MS - last_sent >= 100 * MS;

		poll(w, &sim, t, MS, MS, false, send);
		if (send)
			last_sent = t + MS;
	}
	poll(w, &sim, T0 + 2 * S + 500 * MS, 300 * MS, 300 * MS, true, true);
	u = tg_workers_compute(w, T0, T0 + 4 * S, &n);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].tid, 7);
	assert_int_equal(u[0].busy_ns, 500 * MS + 300 * MS);
	assert_int_equal(u[0].blocked_ns, 300 * MS);
	near(u[0].busy_pct, 20.0);       /* 800 ms of 4 s */
	near(u[0].blocked_pct, 7.5);     /* 300 ms of 4 s */
	near(u[0].idle_pct, 80.0);
	assert_int_equal(u[0].nseconds, 4);
	near(u[0].timeline[0], 25.0);
	near(u[0].timeline[1], 25.0);
	near(u[0].timeline[2], 30.0);
	near(u[0].timeline[3], 0.0);
	tg_workers_free(w);
}

/* Totals sent twice (a thread's exit, then the final iterator) count once;
 * polls not yet sent come with the last record; a thread that never ran a
 * task's runtime poll is no worker. */
static void test_repeats_unsent_and_non_workers(void **state)
{
	struct tg_workers *w = tg_workers_new(0);
	struct sim sim = { 0 };
	struct tg_worker_acc other = { .busy_ns = 5 * MS, .last_end_ns = T0 + 10 * MS,
				       .last_start_ns = T0 + 5 * MS, .last_own_ns = 5 * MS };
	const struct tg_worker_util *u;
	size_t n;

	(void)state;
	poll(w, &sim, T0, 10 * MS, 10 * MS, false, true);
	poll(w, &sim, T0 + 20 * MS, 10 * MS, 10 * MS, false, false);
	poll(w, &sim, T0 + 40 * MS, 10 * MS, 10 * MS, false, true);
	assert_int_equal(tg_workers_add(w, 7, &sim.acc), 0);
	assert_int_equal(tg_workers_add(w, 9, &other), 0); /* worker = 0: a block_on thread */
	u = tg_workers_compute(w, T0, T0 + S, &n);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].busy_ns, 30 * MS);
	near(u[0].busy_pct, 3.0);
	near(u[0].timeline[0], 3.0);
	tg_workers_free(w);
}

/* Polls outside the run (after the stop, before the probes detached) do not
 * count; a poll across the end counts for its part inside. */
static void test_window_clipped(void **state)
{
	struct tg_workers *w = tg_workers_new(0);
	struct sim sim = { 0 };
	const struct tg_worker_util *u;
	size_t n;

	(void)state;
	poll(w, &sim, T0 + 900 * MS, 200 * MS, 200 * MS, true, true);
	poll(w, &sim, T0 + 2 * S, 100 * MS, 100 * MS, false, true);
	u = tg_workers_compute(w, T0, T0 + S, &n);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].busy_ns, 100 * MS);
	assert_int_equal(u[0].blocked_ns, 100 * MS);
	near(u[0].busy_pct, 10.0);
	assert_int_equal(u[0].nseconds, 1);
	near(u[0].timeline[0], 10.0);
	tg_workers_free(w);
}

/* A partial last second is a share of its own length. */
static void test_partial_second(void **state)
{
	struct tg_workers *w = tg_workers_new(0);
	struct sim sim = { 0 };
	const struct tg_worker_util *u;
	size_t n;

	(void)state;
	poll(w, &sim, T0 + S + 100 * MS, 250 * MS, 250 * MS, false, true);
	u = tg_workers_compute(w, T0, T0 + S + 500 * MS, &n);
	assert_int_equal(u[0].nseconds, 2);
	near(u[0].timeline[0], 0.0);
	near(u[0].timeline[1], 50.0);
	near(u[0].busy_pct, 100.0 * 250 / 1500);
	tg_workers_free(w);

	/* a 50 ms tail is part of the last whole second: 140 ms of 1.05 s */
	w = tg_workers_new(0);
	sim = (struct sim){ 0 };
	poll(w, &sim, T0 + 900 * MS, 100 * MS, 100 * MS, false, true);
	poll(w, &sim, T0 + S, 40 * MS, 40 * MS, false, true);
	u = tg_workers_compute(w, T0, T0 + S + 50 * MS, &n);
	assert_int_equal(u[0].nseconds, 1);
	near(u[0].timeline[0], 100.0 * 140 / 1050);
	tg_workers_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_and_timeline),
		cmocka_unit_test(test_repeats_unsent_and_non_workers),
		cmocka_unit_test(test_window_clipped),
		cmocka_unit_test(test_partial_second),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
