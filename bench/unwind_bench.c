/* User-space unwinding speed (probe.unwind: dwarf): a copy of a stack DEPTH
 * frames deep (functions without frame pointers, 256 bytes of locals each,
 * taken as the probe takes one) unwound with libdw over and over, and the
 * same stacks symbolized, reported as stacks and frames per second.
 *
 *   build/unwind_bench [DEPTH=40] [STACKS=20000] [ROUNDS=5]   (bench/unwind.sh) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stack_capture.h"
#include "symbolize.h"
#include "unwind.h"

static struct tg_stack_copy *g_copy;

#ifdef __clang__ /* optimize() is GCC's; clang's -O2 omits frame pointers by itself */
__attribute__((noinline))
#else
__attribute__((noinline, optimize("omit-frame-pointer")))
#endif
static int dive(int n, volatile char *up)
{
	volatile char buf[256];

	buf[0] = up ? up[0] : 1;
	if (n == 0)
		g_copy = tg_capture_stack();
	else
		buf[1] = (char)dive(n - 1, buf);
	return buf[0] + buf[1]; /* work after the call: no tail call */
}

static void *deep(void *arg)
{
	dive((int)(long)arg, NULL);
	return NULL;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 40, stacks = argc > 2 ? atoi(argv[2]) : 20000;
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	double unw[32], sym[32];
	struct tg_symbolizer *sz;
	uint64_t ips[TG_MAX_STACK_DEPTH];
	uint32_t n = 0;
	bool trunc;

	if (rounds > 32)
		rounds = 32;
	if (tg_run_on_own_stack(deep, (void *)(long)depth, 4u << 20) || !g_copy ||
	    !(sz = tg_symbolizer_new(getpid()))) {
		fprintf(stderr, "unwind_bench: could not take a stack copy\n");
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();

		for (int i = 0; i < stacks; i++)
			n = tg_unwind(sz, g_copy, ips, TG_MAX_STACK_DEPTH, &trunc);
		unw[r] = stacks / (now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < stacks; i++)
			for (uint32_t k = 0; k < n; k++) {
				struct tg_frame f[8];

				tg_symbolize(sz, ips[k], k > 0, f, 8);
			}
		sym[r] = stacks / (now_s() - t0);
	}
	qsort(unw, (size_t)rounds, sizeof(*unw), cmp);
	qsort(sym, (size_t)rounds, sizeof(*sym), cmp);
	printf("depth %d: %u frames per stack%s, %zu KB copied\n", depth, n, trunc ? " (truncated)" : "",
	       g_copy->len >> 10);
	printf("unwind     median %.0f stacks/s (%.0f frames/s), min %.0f, max %.0f over %d rounds\n",
	       unw[rounds / 2], unw[rounds / 2] * n, unw[0], unw[rounds - 1], rounds);
	printf("symbolize  median %.0f stacks/s (cached), min %.0f, max %.0f\n", sym[rounds / 2], sym[0],
	       sym[rounds - 1]);
	tg_symbolizer_free(sz);
	free(g_copy);
	return 0;
}
