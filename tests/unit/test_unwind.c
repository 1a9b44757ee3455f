/* DWARF CFI unwinding (record/unwind.h) of a copy taken from this very
 * process: a thread on a stack of our own captures its registers and stack
 * (tests/common/stack_capture.h) three calls deep in functions built without
 * frame pointers, and the
 * unwinder, over this process's modules as the symbolizer reports them, must
 * walk back through all three; a copy cut short says it is truncated. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stack_capture.h"
#include "symbolize.h"
#include "unwind.h"

#define STACK_SIZE (256 << 10)
#ifdef __clang__ /* no per-function form: its -O2 omits frame pointers by itself */
#define NOFP __attribute__((noinline))
#else
#define NOFP __attribute__((noinline, optimize("omit-frame-pointer")))
#endif

static struct tg_stack_copy *copy; /* taken three calls deep */

/* Each level keeps a buffer live across its call: frames of known size, and
 * no tail calls (the call is not the last thing each does). */
NOFP static int level3(volatile char *p)
{
	volatile char buf[64];

	buf[0] = p[0];
	copy = tg_capture_stack();
	return buf[0] + 1;
}

NOFP static int level2(volatile char *p)
{
	volatile char buf[12000]; /* three pages: a one-page copy cannot reach level1 */

	buf[0] = p[0];
	buf[sizeof(buf) - 1] = (char)level3(buf);
	return buf[sizeof(buf) - 1] + 1;
}

NOFP static int level1(void)
{
	volatile char buf[32] = { 1 };

	return level2(buf) + buf[1];
}

static void *thread_main(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)level1();
}

static int setup(void **state)
{
	(void)state;
	return tg_run_on_own_stack(thread_main, NULL, STACK_SIZE) == 0 && copy ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	return 0;
}

/* The functions of the unwound frames, innermost first, into NAMES. */
static uint32_t unwind_names(struct tg_stack_copy *c, const char **names, uint32_t max, bool *trunc)
{
	struct tg_symbolizer *sz = tg_symbolizer_new(getpid());
	uint64_t ips[64];
	uint32_t n;

	assert_non_null(sz);
	n = tg_unwind(sz, c, ips, max < 64 ? max : 64, trunc);
	for (uint32_t i = 0; i < n; i++) {
		struct tg_frame f[8];
		int k = tg_symbolize(sz, ips[i], i > 0, f, 8);

		/* the outermost of an address's inlined frames names its function */
		names[i] = k > 0 && f[k - 1].function ? strdup(f[k - 1].function) : strdup("?");
		print_message("  #%u %#llx %s\n", i, (unsigned long long)ips[i], names[i]);
	}
	tg_symbolizer_free(sz);
	return n;
}

static int index_of(const char **names, uint32_t n, const char *fn)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(names[i], fn) == 0)
			return (int)i;
	return -1;
}

static void free_names(const char **names, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free((void *)names[i]);
}

static void test_walks_back_through_every_level(void **state)
{
	const char *names[64];
	bool trunc;
	uint32_t n;

	(void)state;
	n = unwind_names(copy, names, 64, &trunc);
	assert_true(n >= 5);
	assert_int_equal(index_of(names, n, "tg_capture_stack"), 0);
	assert_int_equal(index_of(names, n, "level3"), 1);
	assert_int_equal(index_of(names, n, "level2"), 2);
	assert_int_equal(index_of(names, n, "level1"), 3);
	assert_int_equal(index_of(names, n, "thread_main"), 4);
	assert_false(trunc); /* the whole stack was copied: the walk ended at its bottom */
	free_names(names, n);
}

static void test_short_copy_is_truncated(void **state)
{
	struct tg_stack_copy *c = malloc(sizeof(*c) + TG_COPY_PAGE);
	const char *names[64];
	bool trunc;
	uint32_t n;

	(void)state;
	assert_non_null(c);
	memcpy(c, copy, sizeof(*c));
	c->len = TG_COPY_PAGE;
	memcpy(c->bytes, copy->bytes, TG_COPY_PAGE);
	n = unwind_names(c, names, 64, &trunc);
	assert_true(trunc);
	assert_int_equal(index_of(names, n, "level1"), -1); /* beyond the copy */
	free_names(names, n);
	/* out of room is truncated too */
	n = unwind_names(copy, names, 2, &trunc);
	assert_int_equal(n, 2);
	assert_true(trunc);
	free_names(names, n);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walks_back_through_every_level),
		cmocka_unit_test(test_short_copy_is_truncated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
