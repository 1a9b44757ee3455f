/* SPDX-License-Identifier: MIT */
/* The histogram layout shared by the BPF probe (bpf/poll_probe.h: poll times),
 * the load driver (request latencies) and everything that reads them back.
 * Only fixed-width types: this header is compiled by clang -target bpf too. */
#ifndef TG_HIST_LAYOUT_H
#define TG_HIST_LAYOUT_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* the BPF side gets __u32/__u64 from kernel_types.h */
#endif

/* Log-linear poll-duration histogram: values below 2^TG_HIST_SUB_BITS ns are
 * exact; above, each power of two is split into 2^TG_HIST_SUB_BITS buckets, so
 * a bucket's midpoint is within 1/64 (1.6%) of any value it holds. */
#define TG_HIST_SUB_BITS 5
#define TG_HIST_SUB (1u << TG_HIST_SUB_BITS)
#define TG_HIST_MAX_EXP 40 /* 2^40 ns = 18 minutes; longer polls land in the last bucket */
#define TG_HIST_BUCKETS ((TG_HIST_MAX_EXP - TG_HIST_SUB_BITS + 2) * TG_HIST_SUB)

#ifndef TG_INLINE
#define TG_INLINE static inline
#endif

/* floor(log2(v)) for v > 0, branch-only: BPF has no clz instruction. */
TG_INLINE __u32 tg_log2(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

TG_INLINE __u32 tg_hist_bucket(__u64 ns)
{
	__u32 e;
	if (ns < TG_HIST_SUB)
		return (__u32)ns;
	e = tg_log2(ns);
	if (e > TG_HIST_MAX_EXP)
		return TG_HIST_BUCKETS - 1;
	return (e - TG_HIST_SUB_BITS + 1) * TG_HIST_SUB +
	       (__u32)((ns >> (e - TG_HIST_SUB_BITS)) & (TG_HIST_SUB - 1));
}

#endif
