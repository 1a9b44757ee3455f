// SPDX-License-Identifier: MIT
#include <math.h>

#include "hist.h"
#include "poll_probe.h"

uint64_t tg_hist_bucket_low(uint32_t b)
{
	uint32_t e, sub;

	if (b < TG_HIST_SUB)
		return b;
	e = b / TG_HIST_SUB + TG_HIST_SUB_BITS - 1;
	sub = b % TG_HIST_SUB;
	return (uint64_t)(TG_HIST_SUB + sub) << (e - TG_HIST_SUB_BITS);
}

uint64_t tg_hist_bucket_value(uint32_t b)
{
	uint32_t e;

	if (b < TG_HIST_SUB)
		return b;
	e = b / TG_HIST_SUB + TG_HIST_SUB_BITS - 1;
	return tg_hist_bucket_low(b) + ((1ull << (e - TG_HIST_SUB_BITS)) >> 1);
}

uint64_t tg_hist_quantile(const __u64 *hist, uint64_t count, double q, uint64_t max_ns)
{
	uint64_t rank, seen = 0;
	uint32_t b;

	if (!count)
		return 0;
	rank = (uint64_t)ceil(q * (double)count);
	if (rank < 1)
		rank = 1;
	for (b = 0; b < TG_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank)
			break;
	}
	if (b == TG_HIST_BUCKETS)
		return max_ns;
	/* In the maximum's bucket the maximum is the better estimate: it keeps
	 * every quantile at or below max, and q = 1 exact. */
	if (max_ns && b == tg_hist_bucket(max_ns))
		return max_ns;
	return tg_hist_bucket_value(b);
}
