/* record: a blocking span's cascade. Every delayed poll is counted and its
 * wait summed; only the TG_DELAYED_KEEP longest are kept, longest first; a
 * wait event reaches the span it names (tid, seq) and no other; the sentence
 * the reports print. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "delayed.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"

#define MS 1000000ull

static struct tg_poll_site site_v[2] = {
	{ .addr = 0x1000, .task_name = "t::blocker", .kind = TG_SITE_RUNTIME },
	{ .addr = 0x2000, .task_name = "t::waiter", .kind = TG_SITE_RUNTIME },
};
static const struct tg_poll_sites sites = { .v = site_v, .n = 2 };

static void test_keeps_the_longest_counts_all(void **state)
{
	struct tg_delayed d = { 0 };
	uint64_t sum = 0;

	(void)state;
	/* 100 waits in a scrambled order: 1..100 us */
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t w = ((i * 37) % 100 + 1) * 1000;
		struct tg_delayed_task t = { .task = "t::waiter", .wait_ns = w, .task_id = i };

		tg_delayed_add(&d, &t);
		sum += w;
	}
	assert_int_equal(d.tasks, 100);
	assert_int_equal(d.total_ns, sum);
	assert_int_equal(d.nworst, TG_DELAYED_KEEP);
	for (uint32_t k = 0; k < d.nworst; k++)
		assert_int_equal(d.worst[k].wait_ns, (100 - k) * 1000);
}

static void test_few_are_all_kept(void **state)
{
	struct tg_delayed d = { 0 };
	const uint64_t w[] = { 5, 9, 1, 9 };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		tg_delayed_add(&d, &(struct tg_delayed_task){ .wait_ns = w[i], .task_id = i });
	assert_int_equal(d.nworst, 4);
	assert_int_equal(d.worst[0].wait_ns, 9);
	assert_int_equal(d.worst[1].wait_ns, 9);
	assert_int_equal(d.worst[2].wait_ns, 5);
	assert_int_equal(d.worst[3].wait_ns, 1);
	assert_int_equal(d.total_ns, 24);
}

static void test_sentence(void **state)
{
	struct tg_delayed d = { .tasks = 37, .total_ns = 410 * MS };
	char buf[128];

	(void)state;
	tg_delayed_sentence(&d, 25 * MS, buf, sizeof buf);
	assert_string_equal(buf, "this 25.0ms poll delayed 37 tasks by 410ms in all");
	d.tasks = 1;
	d.total_ns = 3 * MS;
	tg_delayed_sentence(&d, 12 * MS, buf, sizeof buf);
	assert_string_equal(buf, "this 12.0ms poll delayed 1 task by 3.00ms in all");
	tg_delayed_sentence(NULL, 12 * MS, buf, sizeof buf);
	assert_string_equal(buf, "");
}

static void poll_end(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t start, uint64_t dur)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = 0 },
		.start_ns = start, .duration_ns = dur,
	};

	assert_int_equal(tg_record_on_event(r, &e, sizeof(e)), 0);
}

static void wait_end(struct tg_record *r, uint32_t tid, uint32_t span_seq, uint64_t wake, uint64_t start)
{
	struct tg_wait_event e = {
		.hdr = { .type = TG_EV_WAIT, .tid = tid, .seq = span_seq, .site = 1 },
		.task_id = 9, .wake_ns = wake, .start_ns = start, .duration_ns = 1000,
	};

	assert_int_equal(tg_record_on_event(r, &e, sizeof(e)), 0);
}

static void test_waits_reach_their_span(void **state)
{
	struct tg_record *r = tg_record_new(&sites, 10 * MS, 1000);
	const struct tg_span *s;
	size_t n;

	(void)state;
	poll_end(r, 7, 3, 1000 * MS, 25 * MS); /* thread 7's span, seq 3 */
	poll_end(r, 8, 3, 1000 * MS, 20 * MS); /* the same seq on thread 8 */
	wait_end(r, 7, 3, 1005 * MS, 1026 * MS);
	wait_end(r, 7, 3, 1010 * MS, 1026 * MS);
	wait_end(r, 8, 4, 1010 * MS, 1026 * MS); /* a span not kept: ignored */
	s = tg_record_spans(r, &n);
	assert_int_equal(n, 2);
	assert_non_null(s[0].delayed);
	assert_int_equal(s[0].delayed->tasks, 2);
	assert_int_equal(s[0].delayed->total_ns, 37 * MS);
	assert_string_equal(s[0].delayed->worst[0].task, "t::waiter");
	assert_int_equal(s[0].delayed->worst[0].wait_ns, 21 * MS);
	assert_null(s[1].delayed);
	tg_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_the_longest_counts_all),
		cmocka_unit_test(test_few_are_all_kept),
		cmocka_unit_test(test_sentence),
		cmocka_unit_test(test_waits_reach_their_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
