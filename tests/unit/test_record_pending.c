/* record: the stacks that wait for their poll's event. An outer poll's stacks
 * outlive the nested polls that end inside it (up to TG_MAX_NEST deep); the
 * stacks of polls whose event was lost (ring buffer full) do not wait
 * forever: they neither fill the pending list nor go to a later span. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"

#define MS 1000000ull

static struct tg_poll_site site_v[1] = { { .addr = 0x1000, .task_name = "t::task", .kind = TG_SITE_RUNTIME } };
static const struct tg_poll_sites sites = { .v = site_v, .n = 1 };

static void sample(struct tg_record *r, uint32_t tid, uint32_t seq)
{
	static struct tg_stack_event e;

	memset(&e, 0, sizeof(e));
	e.hdr = (struct tg_event_hdr){ .type = TG_EV_SAMPLE, .tid = tid, .seq = seq };
	e.nr = 2;
	e.ips[0] = 0x1234;
	e.ips[1] = 0x5678;
	assert_int_equal(tg_record_on_event(r, &e, offsetof(struct tg_stack_event, ips) + 16), 0);
}

/* A poll of DUR ending: a span when DUR is over the 10 ms threshold. */
static void poll_end(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t dur)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = 0 },
		.start_ns = 1000 * MS, .duration_ns = dur,
	};

	assert_int_equal(tg_record_on_event(r, &e, sizeof(e)), 0);
}

static const struct tg_span *last_span(struct tg_record *r)
{
	size_t n;
	const struct tg_span *s = tg_record_spans(r, &n);

	assert_true(n > 0);
	return &s[n - 1];
}

static void test_outer_polls_keep_their_stacks(void **state)
{
	struct tg_record *r = tg_record_new(&sites, 10 * MS, 1000);

	/* TG_MAX_NEST - 1 outer polls, each with a stack, around polls that end */
	for (uint32_t seq = 1; seq < TG_MAX_NEST; seq++)
		sample(r, 7, seq);
	for (uint32_t seq = TG_MAX_NEST; seq < TG_MAX_NEST + 50; seq++)
		poll_end(r, 7, seq, 1 * MS);
	for (uint32_t seq = TG_MAX_NEST - 1; seq >= 1; seq--) {
		poll_end(r, 7, seq, 20 * MS);
		assert_int_equal(last_span(r)->nstacks, 1);
	}
	assert_int_equal(tg_record_dropped(r), 0);
	tg_record_free(r);
}

static void test_lost_polls_stacks_do_not_wait(void **state)
{
	struct tg_record *r = tg_record_new(&sites, 10 * MS, 1000);

	/* 70000 polls of thread 8 sampled, their events lost: more than the
	 * pending list holds (the ones past it are dropped, as before) */
	for (uint32_t seq = 1; seq <= 70000; seq++)
		sample(r, 8, seq);
	assert_true(tg_record_dropped(r) > 0);
	poll_end(r, 8, 70001, 1 * MS); /* thread 8's next poll: the lost polls' stacks go */
	uint64_t dropped = tg_record_dropped(r);

	/* another thread's span keeps its stacks: there is room again */
	sample(r, 9, 1);
	sample(r, 9, 1);
	poll_end(r, 9, 1, 20 * MS);
	assert_int_equal(last_span(r)->nstacks, 2);
	assert_int_equal(tg_record_dropped(r), dropped);
	/* and thread 8's next span has its own stack only */
	sample(r, 8, 70002);
	poll_end(r, 8, 70002, 20 * MS);
	assert_int_equal(last_span(r)->nstacks, 1);
	tg_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outer_polls_keep_their_stacks),
		cmocka_unit_test(test_lost_polls_stacks_do_not_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
