/* Histogram layout and quantiles: the same bucket function runs in BPF. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"
#include "poll_probe.h"

static void test_bucket_bounds(void **state)
{
	/* Every value lands in a bucket whose [low, next low) range holds it. */
	for (uint64_t v = 0; v < (1ull << 41); v = v < 100 ? v + 1 : v + v / 7 + 1) {
		uint32_t b = tg_hist_bucket(v);

		assert_true(b < TG_HIST_BUCKETS);
		assert_true(tg_hist_bucket_low(b) <= v);
		if (b + 1 < TG_HIST_BUCKETS)
			assert_true(v < tg_hist_bucket_low(b + 1));
	}
}

static void test_buckets_monotonic_and_exact_below_sub(void **state)
{
	for (uint64_t v = 0; v < TG_HIST_SUB; v++)
		assert_int_equal(tg_hist_bucket_value(tg_hist_bucket(v)), v);
	for (uint32_t b = 1; b < TG_HIST_BUCKETS; b++)
		assert_true(tg_hist_bucket_low(b) > tg_hist_bucket_low(b - 1));
	/* Anything past the range is clamped into the last bucket. */
	assert_int_equal(tg_hist_bucket(UINT64_MAX), TG_HIST_BUCKETS - 1);
}

static void test_bucket_value_relative_error(void **state)
{
	for (uint64_t v = TG_HIST_SUB; v < (1ull << 40); v = v + v / 13 + 1) {
		double got = (double)tg_hist_bucket_value(tg_hist_bucket(v));
		double err = (got > (double)v ? got - (double)v : (double)v - got) / (double)v;

		assert_true(err <= 1.0 / (2 * TG_HIST_SUB) + 1e-9);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Quantiles from the histogram against exact order statistics of the same
 * data: a log-normal-ish spread of poll times from 1us to 100ms. */
static void test_quantiles_within_5_percent(void **state)
{
	enum { N = 200000 };
	uint64_t *vals = malloc(N * sizeof(*vals));
	__u64 *hist = calloc(TG_HIST_BUCKETS, sizeof(*hist));
	const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	uint64_t max = 0;

	srand(42);
	for (int i = 0; i < N; i++) {
		double e = 3.0 + 5.0 * ((double)rand() / RAND_MAX) * ((double)rand() / RAND_MAX);
		uint64_t v = (uint64_t)__builtin_powi(10.0, (int)e) * (1 + rand() % 9);

		vals[i] = v;
		hist[tg_hist_bucket(v)]++;
		if (v > max)
			max = v;
	}
	qsort(vals, N, sizeof(*vals), cmp_u64);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t exact = vals[(size_t)(qs[k] * N + 0.999999) - 1];
		uint64_t got = tg_hist_quantile(hist, N, qs[k], max);
		double err = got > exact ? (double)(got - exact) / exact : (double)(exact - got) / exact;

		assert_true(err < 0.05);
	}
	assert_int_equal(tg_hist_quantile(hist, N, 1.0, max), max);
	free(vals);
	free(hist);
}

static void test_quantile_edges(void **state)
{
	__u64 *hist = calloc(TG_HIST_BUCKETS, sizeof(*hist));

	assert_int_equal(tg_hist_quantile(hist, 0, 0.5, 0), 0);
	hist[tg_hist_bucket(12345678)] = 1; /* one poll: every quantile is it */
	assert_int_equal(tg_hist_quantile(hist, 1, 0.5, 12345678), 12345678);
	assert_int_equal(tg_hist_quantile(hist, 1, 0.999, 12345678), 12345678);
	free(hist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_buckets_monotonic_and_exact_below_sub),
		cmocka_unit_test(test_bucket_value_relative_error),
		cmocka_unit_test(test_quantiles_within_5_percent),
		cmocka_unit_test(test_quantile_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
