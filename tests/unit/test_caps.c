/* The record's memory budgets (record/caps.h): polls, spans and stacks fed
 * through tg_record_on_event past every cap; what is kept is the longest,
 * what is not is counted, and the memory held stays under the budget. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "caps.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"

#define BLOCKING_NS 10000000ull

static struct tg_poll_site site = { .addr = 0x1000, .task_name = "caps::task", .kind = TG_SITE_RUNTIME };
static struct tg_poll_sites sites = { .v = &site, .n = 1 };

/* A duration per index, scrambled so that long and short polls interleave. */
static uint64_t duration(uint32_t i)
{
	return 100000 + (uint64_t)((i * 2654435761u) % 1000003u);
}

static void feed_poll(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t dur)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = 0 },
		.start_ns = (uint64_t)seq * 1000, .duration_ns = dur, .off_cpu_ns = dur,
	};

	assert_int_equal(tg_record_on_event(r, &e, sizeof(e)), 0);
}

static void feed_stack(struct tg_record *r, uint32_t tid, uint32_t seq, uint32_t nr)
{
	static struct tg_stack_event e;

	memset(&e, 0, sizeof(e));
	e.hdr = (struct tg_event_hdr){ .type = TG_EV_OFFCPU, .tid = tid, .seq = seq };
	e.duration_ns = 1000;
	e.sp = 0x7fff0000;
	e.nr = nr;
	for (uint32_t k = 0; k < nr; k++)
		e.ips[k] = 0x1000 + k;
	assert_int_equal(tg_record_on_event(r, &e, sizeof(e)), 0);
}

static void test_raise_floor_keeps_the_longer_half_in_order(void **state)
{
	struct tg_slice v[100];
	uint64_t floor = 0;
	size_t n;

	(void)state;
	for (uint32_t i = 0; i < 100; i++)
		v[i] = (struct tg_slice){ .start_ns = i, .duration_ns = (i * 37) % 100 + 1 };
	n = tg_slices_raise_floor(v, 100, &floor);
	assert_int_equal(n, 50);
	assert_int_equal(floor, 51);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].duration_ns >= floor);
		if (i)
			assert_true(v[i].start_ns > v[i - 1].start_ns);
	}
}

static void test_raise_floor_with_ties_never_keeps_more_than_half(void **state)
{
	struct tg_slice v[10];
	uint64_t floor = 0;
	size_t n;

	(void)state;
	for (int i = 0; i < 10; i++)
		v[i] = (struct tg_slice){ .duration_ns = i < 8 ? 5 : 9 };
	n = tg_slices_raise_floor(v, 10, &floor);
	assert_int_equal(floor, 6);
	assert_int_equal(n, 2);
}

/* Three times the slice cap: the trace keeps exactly the polls at or above
 * the final floor, and every other one is counted. */
static void test_slices_past_the_cap(void **state)
{
	struct tg_record *r = tg_record_new(&sites, UINT64_MAX, 0);
	const struct tg_record_caps *c;
	const struct tg_slice *s;
	uint32_t total = 3 * TG_KEEP_SLICES;
	size_t n, expect = 0;

	(void)state;
	assert_non_null(r);
	for (uint32_t i = 0; i < total; i++)
		feed_poll(r, 1 + i % 4, i, duration(i));
	s = tg_record_slices(r, &n);
	c = tg_record_caps(r);
	assert_true(n <= TG_KEEP_SLICES);
	assert_true(c->slice_floor_ns > 0);
	assert_int_equal(n + c->slices_dropped, total);
	for (uint32_t i = 0; i < total; i++)
		expect += duration(i) >= c->slice_floor_ns;
	assert_int_equal(n, expect);
	for (size_t i = 0; i < n; i++)
		assert_true(s[i].duration_ns >= c->slice_floor_ns);
	assert_int_equal(tg_record_dropped(r), 0); /* a budget, not a loss */
	tg_record_free(r);
}

/* Spans with 4 stacks of 100 frames each until their stacks are twice the
 * budget: the longest spans keep theirs, the held bytes stay under it. */
static void test_stacks_go_to_the_longest_spans(void **state)
{
	struct tg_record *r = tg_record_new(&sites, BLOCKING_NS, 0);
	struct tg_stack probe_st = { .nr = 100, .top = (uint8_t *)"" };
	size_t per_span = 4 * tg_stack_bytes(&probe_st), nspans = 2 * TG_KEEP_STACK_BYTES / per_span;
	const struct tg_span *sp;
	uint64_t shortest_with = UINT64_MAX, longest_without = 0;
	size_t n, held = 0, stackless = 0;

	(void)state;
	for (uint32_t i = 0; i < nspans; i++) {
		for (int k = 0; k < 4; k++)
			feed_stack(r, 7, i, 100);
		feed_poll(r, 7, i, BLOCKING_NS + duration(i));
	}
	sp = tg_record_spans(r, &n);
	assert_int_equal(n, nspans);
	for (size_t i = 0; i < n; i++) {
		uint64_t own = tg_slice_own_ns(&sp[i].poll);

		if (sp[i].nstacks) {
			assert_int_equal(sp[i].nstacks, 4);
			held += per_span;
			shortest_with = own < shortest_with ? own : shortest_with;
		} else {
			assert_true(sp[i].stacks_dropped);
			stackless++;
			longest_without = own > longest_without ? own : longest_without;
		}
	}
	assert_true(held <= TG_KEEP_STACK_BYTES);
	assert_true(held > TG_KEEP_STACK_BYTES / 2);
	assert_int_equal(stackless, tg_record_caps(r)->spans_stackless);
	assert_true(longest_without <= shortest_with);
	tg_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raise_floor_keeps_the_longer_half_in_order),
		cmocka_unit_test(test_raise_floor_with_ties_never_keeps_more_than_half),
		cmocka_unit_test(test_slices_past_the_cap),
		cmocka_unit_test(test_stacks_go_to_the_longest_spans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
