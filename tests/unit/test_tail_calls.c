/* Frames hidden by tail calls, on a real -O2 shared library (tail_target.c):
 * the leaf's own return address is the stack a walk would see, and the
 * function that jumped to it must come back, named, with its jump's line. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolize.h"
#include "tail_calls.h"
#include "tail_target.h"

#define MAX 8

/* The name of the function holding ADDR, from the dynamic linker's view of
 * the library: the ground truth that the leaf returned past mid. */
static const char *sym_of(uint64_t addr)
{
	Dl_info info;
	return dladdr((void *)(uintptr_t)addr, &info) && info.dli_sname ? info.dli_sname : "";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The leaf's return address leads into TOP, and the frame put back there is
 * MID at its jump's line. */
static void check_hidden(const struct tail_seen *seen, const char *top, const char *mid,
			 uint64_t other)
{
	struct tg_symbolizer *sz = tg_symbolizer_new(getpid());
	struct tg_frame f[MAX];

	assert_non_null(sz);
	/* the precondition: mid jumped, so the leaf returns into top (dladdr
	 * knows exported names only, the symbol table the static ones) */
	if (strcmp(top, "tail_got") == 0)
		assert_string_equal(sym_of(seen->ra), top);
	assert_int_equal(tg_symbolize(sz, seen->ra, true, f, MAX), 1);
	assert_string_equal(f[0].function, top);
	int n = tg_tail_call_frames(sz, seen->ra, seen->leaf, false, NULL, f, MAX);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].function, mid);
	assert_true(f[0].tail_call);
	assert_false(f[0].inlined);
	assert_true(ends_with(f[0].file, "/tests/unit/tail_target.c"));
	assert_int_equal(f[0].line, seen->jump_line);
	/* the frame below already is mid's function (by name): nothing is missing */
	assert_int_equal(tg_tail_call_frames(sz, seen->ra, seen->leaf, false, mid, f, MAX), 0);
	/* the frame below is mid itself: nothing is missing */
	assert_int_equal(tg_tail_call_frames(sz, seen->ra, seen->mid, false, NULL, f, MAX), 0);
	/* mid jumps nowhere near OTHER: frames went missing some other way */
	assert_int_equal(tg_tail_call_frames(sz, seen->ra, other, false, NULL, f, MAX), 0);
	/* no room */
	assert_int_equal(tg_tail_call_frames(sz, seen->ra, seen->leaf, false, NULL, f, 0), 0);
	tg_symbolizer_free(sz);
}

static void test_direct_call_and_jmp(void **state)
{
	struct tail_seen seen = { 0 };

	(void)state;
	tail_direct(&seen);
	check_hidden(&seen, "direct_top", "direct_mid", (uint64_t)(uintptr_t)&tail_got_leaf);
}

static void test_calls_through_the_got(void **state)
{
	struct tail_seen seen = { 0 };

	(void)state;
#ifdef __clang__
	/* clang keeps -fno-plt to declarations: its tail_got_mid jumps to a PLT
	 * stub, not through the GOT, so there is no GOT jump here to check */
	print_message("skipped: clang builds tail_target.c's GOT calls as PLT jumps\n");
	skip();
#endif
	tail_got(&seen);
	struct tail_seen direct = { 0 };

	tail_direct(&direct);
	check_hidden(&seen, "tail_got", "tail_got_mid", direct.leaf);
}

static void test_plain_call_adds_nothing(void **state)
{
	struct tg_symbolizer *sz = tg_symbolizer_new(getpid());
	struct tail_seen seen = { 0 };
	struct tg_frame f[MAX];

	(void)state;
	assert_non_null(sz);
	tail_none(&seen);
	assert_int_equal(tg_tail_call_frames(sz, seen.ra, seen.leaf, false, NULL, f, MAX), 0);
	/* not a return address at all (a function's first byte follows no call) */
	assert_int_equal(tg_tail_call_frames(sz, seen.leaf, seen.leaf, false, NULL, f, MAX), 0);
	assert_int_equal(tg_tail_call_frames(sz, 0, seen.leaf, false, NULL, f, MAX), 0);
	tg_symbolizer_free(sz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_call_and_jmp),
		cmocka_unit_test(test_calls_through_the_got),
		cmocka_unit_test(test_plain_call_adds_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
