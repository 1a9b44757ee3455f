/* SPDX-License-Identifier: MIT */
/* Structs shared by heap.bpf.c and user space (probe/heap_probe.c,
 * record/heap.c). Only fixed-width types: clang -target bpf compiles it too. */
#ifndef TG_HEAP_MAPS_H
#define TG_HEAP_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TG_HEAP_DEPTH 48          /* user frames kept per allocation stack */
#define TG_HEAP_MAX_LIVE (1u << 19) /* live allocations tracked at once */
#define TG_HEAP_MAX_STACKS 16384  /* distinct allocation stacks */
#define TG_HEAP_MAX_PENDING 4096  /* threads inside an allocator call at once */

enum tg_heap_stat {
	TG_HEAP_ALLOCS,        /* allocations seen (alloc, alloc_zeroed, realloc) */
	TG_HEAP_FREES,         /* frees of tracked allocations (dealloc, realloc's old block) */
	TG_HEAP_FREE_UNKNOWN,  /* frees of blocks allocated before the probes or not tracked */
	TG_HEAP_LIVE_FULL,     /* allocations not tracked: the live map was full */
	TG_HEAP_STACKS_FULL,   /* allocations counted at the unknown site: the stack map was full */
	TG_HEAP_STACK_FAIL,    /* no user stack: counted at the unknown site */
	TG_HEAP_PENDING_FULL,  /* an allocation's entry could not be kept for its return */
	TG_HEAP_STAT__COUNT,
};

/* One allocation stack (key: a hash of its frames; 0 is the unknown site). */
struct tg_heap_stack {
	__u64 allocs;
	__u64 bytes;
	__s64 live_bytes; /* may go below 0 for a while: a free can land before its alloc's return */
	__u64 nr;
	__u64 ips[TG_HEAP_DEPTH]; /* ips[0]: the allocator's caller (read at sp), then the walk */
};

/* A live allocation (key: its address). */
struct tg_heap_block {
	__u64 size;
	__u64 stack;
};

struct tg_heap_totals {
	__s64 live;
	__s64 peak;
	__u64 stats[TG_HEAP_STAT__COUNT];
};

#endif
