/* The live view's content: spans grouped by culprit, worker shares over the
 * window, the screen cut to the terminal's size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_view.h"

#define MS 1000000ull

static struct tg_live_view *view(void)
{
	struct tg_live_view *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	snprintf(v->title, sizeof(v->title), "demo (pid 1)");
	return v;
}

static void test_rows_by_culprit(void **state)
{
	struct tg_live_view *v = view();
	const struct tg_live_row *a, *b, *c;
	bool fresh;

	(void)state;
	a = tg_live_add_span(v, "app::cpu_task", "app::burn", "src/lib.rs:58", TG_BLOCK_CPU, 20 * MS,
			     100 * MS, 7, 0, &fresh);
	assert_true(fresh);
	b = tg_live_add_span(v, "app::cpu_task", "app::burn", "src/lib.rs:58", TG_BLOCK_CPU, 50 * MS,
			     200 * MS, 7, 0, &fresh);
	assert_false(fresh);
	assert_ptr_equal(a, b);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->worst_ns, 50 * MS);
	assert_int_equal(b->last_ns, 200 * MS);
	/* the same culprit blocking another way is another line */
	c = tg_live_add_span(v, "app::cpu_task", "app::burn", "src/lib.rs:58", TG_BLOCK_SLEEP, 5 * MS,
			     300 * MS, 7, 5 * MS, &fresh);
	assert_true(fresh);
	assert_ptr_not_equal(c, a);
	/* no culprit: still counted, under its own line */
	c = tg_live_add_span(v, "app::t", NULL, NULL, TG_BLOCK_CPU, 11 * MS, 300 * MS, 7, 0, &fresh);
	assert_true(fresh);
	assert_string_equal(c->culprit, "(no culprit)");
	assert_int_equal(v->spans, 4);
	assert_int_equal(v->nrows, 3);
	free(v);
}

static void test_table_full(void **state)
{
	struct tg_live_view *v = view();
	char fn[32];
	bool fresh;

	(void)state;
	for (int i = 0; i < TG_LIVE_MAX_ROWS + 3; i++) {
		snprintf(fn, sizeof fn, "app::f%d", i);
		const struct tg_live_row *r = tg_live_add_span(v, "t", fn, "", TG_BLOCK_CPU, MS, MS, 1, 0,
							       &fresh);
		assert_true(i < TG_LIVE_MAX_ROWS ? r != NULL : r == NULL);
	}
	assert_int_equal(v->nrows, TG_LIVE_MAX_ROWS);
	assert_int_equal(v->other_spans, 3);
	assert_int_equal(v->spans, TG_LIVE_MAX_ROWS + 3);
	free(v);
}

/* Shares over the window: CPU from the thread's clock, blocked from the
 * off-CPU time of the spans it ran, only the part inside the window (a span
 * seen late, or begun before the window, is not counted whole). */
static void test_worker_shares(void **state)
{
	struct tg_live_view *v = view();
	double cpu, blocked;
	bool fresh;

	(void)state;
	tg_live_worker_point(v, 7, 1, "tokio-rt-worker", 1000 * MS, 100 * MS);
	assert_false(tg_live_worker_shares(&v->workers[0], &cpu, &blocked)); /* one point */
	tg_live_add_span(v, "t", "f", "", TG_BLOCK_SLEEP, 300 * MS, 1500 * MS, 7, 240 * MS, &fresh);
	/* 800 ms before the window: half of it inside */
	tg_live_add_span(v, "t", "f", "", TG_BLOCK_SLEEP, 800 * MS, 1400 * MS, 7, 400 * MS, &fresh);
	tg_live_worker_point(v, 7, 1, "tokio-rt-worker", 2000 * MS, 600 * MS);
	assert_true(tg_live_worker_shares(&v->workers[0], &cpu, &blocked));
	assert_true(cpu > 49.9 && cpu < 50.1);
	assert_true(blocked > 43.9 && blocked < 44.1); /* (240 + 400 * 400 / 800) / 1000 */
	/* the window slides: after TG_LIVE_WINDOW points the first falls out */
	for (int i = 0; i < TG_LIVE_WINDOW; i++)
		tg_live_worker_point(v, 7, 1, "w", (3000 + 250 * i) * MS, 600 * MS);
	assert_true(tg_live_worker_shares(&v->workers[0], &cpu, &blocked));
	assert_true(cpu < 0.001 && blocked < 0.001);
	free(v);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void test_screen(void **state)
{
	struct tg_live_view *v = view();
	static char buf[16 << 10];
	char line[256];
	bool fresh;

	(void)state;
	tg_live_worker_point(v, 7, 1, "tokio-rt-worker", 0, 0);
	tg_live_worker_point(v, 7, 1, "tokio-rt-worker", 1000 * MS, 500 * MS);
	tg_live_add_span(v, "app::sleep_task", "app::sleepy", "src/lib.rs:66", TG_BLOCK_SLEEP,
			 100 * MS, 900 * MS, 7, 100 * MS, &fresh);
	tg_live_add_span(v, "app::cpu_task", "app::burn", "src/lib.rs:58", TG_BLOCK_CPU, 20 * MS,
			 950 * MS, 7, 0, &fresh);
	v->now_ns = 1000 * MS;
	tg_live_render(v, 200, 40, buf, sizeof buf);
	/* worst first, each line ends by clearing its tail: a redraw needs no blank frame */
	assert_non_null(strstr(buf, "demo (pid 1)"));
	assert_true(strstr(buf, "app::sleepy (src/lib.rs:66)") < strstr(buf, "app::burn (src/lib.rs:58)"));
	assert_non_null(strstr(buf, "#1 tokio-rt-worker 7"));
	assert_int_equal(count(buf, "\033[K\n"), count(buf, "\n"));
	/* cut to the width, never inside a character */
	tg_live_render(v, 40, 40, buf, sizeof buf);
	for (char *l = buf, *e; (e = strstr(l, "\033[K\n")); l = e + 4) {
		size_t cols = 0;

		for (char *c = l; c < e; c++)
			cols += (*c & 0xc0) != 0x80;
		assert_true(cols <= 40);
		assert_true(e == l || (e[-1] & 0xc0) != 0xc0); /* no lead byte left alone */
	}
	/* too short for every row: the rest is counted */
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "app::f%d", i);
		tg_live_add_span(v, "t", line, "", TG_BLOCK_CPU, MS, MS, 7, 0, &fresh);
	}
	tg_live_render(v, 200, 12, buf, sizeof buf);
	assert_true(count(buf, "\n") <= 12);
	assert_non_null(strstr(buf, "more culprits"));
	tg_live_line(&v->rows[0], line, sizeof line);
	assert_string_equal(line, "tokio-guard: new culprit: 100ms sleep in app::sleep_task at app::sleepy "
				  "(src/lib.rs:66)");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_by_culprit),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_worker_shares),
		cmocka_unit_test(test_screen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
