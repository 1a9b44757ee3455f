/* The CPU profile's aggregation (record/cpu_profile.c): self and total
 * shares, recursion counted once, the most sampled line, selector shares and
 * the folded text, from stacks built by hand. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_profile.h"

#define F(fn, l) { fn, "/src/app/src/main.rs", l }

/* main -> run -> hot (x6 at line 10, x1 at line 11); main -> run -> cold (x3);
 * main -> rec -> rec -> rec (x2, recursion); all innermost first. */
static struct tg_cpu_profile *sample_profile(void)
{
	struct tg_cpu_profile *p = tg_cpu_profile_new(99);
	const struct tg_cpu_frame hot[] = { F("app::hot", 10), F("app::run", 20), F("app::main", 30) };
	const struct tg_cpu_frame hot2[] = { F("app::hot", 11), F("app::run", 20), F("app::main", 30) };
	const struct tg_cpu_frame cold[] = { F("app::cold", 40), F("app::run", 21), F("app::main", 30) };
	const struct tg_cpu_frame rec[] = { F("app::rec", 50), F("app::rec", 51), F("app::rec", 51),
					    F("app::main", 31) };

	assert_non_null(p);
	assert_int_equal(tg_cpu_profile_add_stack(p, hot, 3, 6), 0);
	assert_int_equal(tg_cpu_profile_add_stack(p, hot2, 3, 1), 0);
	assert_int_equal(tg_cpu_profile_add_stack(p, cold, 3, 3), 0);
	assert_int_equal(tg_cpu_profile_add_stack(p, rec, 4, 2), 0);
	/* the same stack again: one folded line, its counts added */
	assert_int_equal(tg_cpu_profile_add_stack(p, cold, 3, 0), 0);
	assert_int_equal(tg_cpu_profile_add_stack(p, cold, 3, 1), 0);
	return p;
}

static const struct tg_cpu_fn *find(const struct tg_cpu_fn *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].function, name))
			return &v[i];
	fail_msg("%s not listed", name);
	return NULL;
}

static void test_self_and_total(void **state)
{
	struct tg_cpu_profile *p = sample_profile();
	struct tg_cpu_fn v[16];
	size_t n = tg_cpu_profile_top(p, v, 16, 0);
	const struct tg_cpu_fn *f;

	(void)state;
	assert_int_equal(tg_cpu_profile_samples(p), 13);
	assert_int_equal(n, 5);
	/* by self share first: hot 7, cold 4, rec 2; then callers by total */
	assert_string_equal(v[0].function, "app::hot");
	assert_string_equal(v[1].function, "app::cold");
	assert_string_equal(v[2].function, "app::rec");
	assert_string_equal(v[3].function, "app::main");
	assert_string_equal(v[4].function, "app::run");
	f = find(v, n, "app::hot");
	assert_int_equal(f->self, 7);
	assert_int_equal(f->total, 7);
	assert_int_equal(f->line, 10); /* 6 samples there, 1 at line 11 */
	assert_true(f->self_pct > 53.8 && f->self_pct < 53.9);
	f = find(v, n, "app::rec");
	assert_int_equal(f->total, 2); /* three frames deep, counted once per sample */
	assert_int_equal(f->self, 2);
	f = find(v, n, "app::run");
	assert_int_equal(f->self, 0);
	assert_int_equal(f->total, 11);
	assert_int_equal(f->line, 20); /* the call to hot: 7 samples, against cold's 4 */
	f = find(v, n, "app::main");
	assert_true(f->total_pct == 100.0);
	/* a floor on the callers' total share, and MAX */
	assert_int_equal(tg_cpu_profile_top(p, v, 16, 100.0), 4);
	assert_int_equal(tg_cpu_profile_top(p, v, 2, 0), 2);
	tg_cpu_profile_free(p);
}

static void test_share(void **state)
{
	struct tg_cpu_profile *p = sample_profile();
	bool matched;

	(void)state;
	/* samples with any matching frame, once: hot 7 + cold 4 of 13 */
	assert_true(tg_cpu_profile_share(p, "app::*o*", &matched) > 84.6 &&
		    tg_cpu_profile_share(p, "app::*o*", &matched) < 84.7);
	assert_true(matched);
	assert_true(tg_cpu_profile_share(p, "app::main", &matched) == 100.0);
	assert_true(tg_cpu_profile_share(p, "other::*", &matched) == 0);
	assert_false(matched);
	tg_cpu_profile_free(p);
}

static void test_folded(void **state)
{
	struct tg_cpu_profile *p = sample_profile();
	const struct tg_cpu_frame semi[] = { F("<[u8; 4] as app::T>::f", 1), F("app::main", 30) };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(tg_cpu_profile_add_stack(p, semi, 2, 1), 0);
	assert_int_equal(tg_cpu_profile_write_folded(p, f), 0);
	fclose(f);
	/* outermost first, sorted, one line per distinct stack, ';' in a name made ',' */
	assert_string_equal(text,
		"app::main;<[u8, 4] as app::T>::f 1\n"
		"app::main;app::rec;app::rec;app::rec 2\n"
		"app::main;app::run;app::cold 4\n"
		"app::main;app::run;app::hot 7\n");
	free(text);
	tg_cpu_profile_free(p);
}

static void test_raw_stacks(void **state)
{
	struct tg_cpu_profile *p = tg_cpu_profile_new(999);
	const uint64_t a[] = { 0x1000, 0x2000 }, b[] = { 0x1000, 0x3000 };

	(void)state;
	/* counted by value; nothing aggregated until resolve */
	for (int i = 0; i < 3000; i++)
		assert_int_equal(tg_cpu_profile_add_raw(p, i % 3 ? a : b, 2), 0);
	assert_int_equal(tg_cpu_profile_add_raw(p, a, 0), 0);
	assert_int_equal(tg_cpu_profile_samples(p), 0);
	assert_int_equal(tg_cpu_profile_hz(p), 999);
	tg_cpu_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_and_total),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_raw_stacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
