/* probe.heap's accounting in user space: stacks folded into call sites,
 * the order of the sites, rates and live bytes per selector, and how a
 * snapshot's unknown site and totals come through. No BPF. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heap_probe.h"
#include "heap_sites.h"

static void test_merge_and_order(void **state)
{
	struct tg_heap_report r = { .window_s = 2.0, .growth_bytes = 5000 };

	(void)state;
	/* two stacks at one line merge; another line of the same function does not */
	assert_int_equal(tg_heap_add(&r, "demo::handle", "/src/main.rs", 10, true, 100, 1000, 1000), 0);
	assert_int_equal(tg_heap_add(&r, "demo::handle", "/src/main.rs", 11, true, 100, 409600, 0), 0);
	assert_int_equal(tg_heap_add(&r, "demo::handle", "/src/main.rs", 10, true, 50, 500, 400), 0);
	assert_int_equal(tg_heap_add(&r, "tokio::runtime::x", NULL, 0, false, 7, 70, 70), 0);
	assert_int_equal(r.nsites, 3);
	tg_heap_sort(&r);
	assert_string_equal(r.sites[0].function, "demo::handle");
	assert_int_equal(r.sites[0].line, 10);
	assert_int_equal(r.sites[0].allocs, 150);
	assert_int_equal(r.sites[0].bytes, 1500);
	assert_int_equal(r.sites[0].live_bytes, 1400);
	assert_string_equal(r.sites[1].function, "tokio::runtime::x"); /* 70 live beats 0 */
	assert_int_equal(r.sites[2].line, 11);
	/* 257 allocations in 2 s; 150 + 100 of them in demo::* */
	assert_true(tg_heap_alloc_rate(&r, NULL) == 128.5);
	assert_true(tg_heap_alloc_rate(&r, "demo::*") == 125.0);
	assert_true(tg_heap_live(&r, "demo::handle") == 1400);
	assert_true(tg_heap_live(&r, NULL) == 5000); /* no selector: the run's growth */
	r.window_s = 0;
	assert_true(tg_heap_alloc_rate(&r, NULL) == 0);
	tg_heap_free(&r);
}

/* a snapshot with only the unknown site (stack 0): no symbolizer needed */
static void test_snapshot_unknown(void **state)
{
	struct tg_heap_stack st[2] = { { .allocs = 3, .bytes = 30, .live_bytes = 20 }, { 0 } };
	uint64_t keys[2] = { 0, 0 };
	struct tg_heap_snapshot snap = { .keys = keys, .stacks = st, .n = 2 };
	struct tg_heap_report r = { 0 };

	(void)state;
	snap.totals.live = 20;
	snap.totals.peak = 90;
	snap.totals.stats[TG_HEAP_ALLOCS] = 3;
	assert_int_equal(tg_heap_build(&r, &snap, NULL, 1.5), 0);
	assert_int_equal(r.nsites, 1); /* the empty stack is left out */
	assert_string_equal(r.sites[0].function, "[no stack]");
	assert_false(r.sites[0].own);
	assert_true(r.growth_bytes == 20 && r.peak_live_bytes == 90 && r.window_s == 1.5);
	assert_int_equal(r.stats[TG_HEAP_ALLOCS], 3);
	tg_heap_free(&r);
}

static void test_format_bytes(void **state)
{
	char b[32];

	(void)state;
	tg_heap_format_bytes(17, b, sizeof b);
	assert_string_equal(b, "17B");
	tg_heap_format_bytes(512 * 1024, b, sizeof b);
	assert_string_equal(b, "512.0KB");
	tg_heap_format_bytes(8000000, b, sizeof b);
	assert_string_equal(b, "7.6MB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_and_order),
		cmocka_unit_test(test_snapshot_unknown),
		cmocka_unit_test(test_format_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
