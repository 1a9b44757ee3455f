/* Reading the BPF side's log-linear poll histograms (layout in poll_probe.h). */
#ifndef TG_HIST_H
#define TG_HIST_H

#include <stdint.h>

#include "poll_probe.h"

/* Smallest value that lands in bucket B. */
uint64_t tg_hist_bucket_low(uint32_t b);

/* The value reported for bucket B: its midpoint (exact below TG_HIST_SUB). */
uint64_t tg_hist_bucket_value(uint32_t b);

/* The Q-quantile (0 < Q <= 1) of the TG_HIST_BUCKETS counts in HIST holding
 * COUNT values whose maximum is MAX_NS; 0 when COUNT is 0. Within 1.6% of
 * the exact order statistic. */
uint64_t tg_hist_quantile(const __u64 *hist, uint64_t count, double q, uint64_t max_ns);

#endif
