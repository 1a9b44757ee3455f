// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* Allocations of one process through the Rust allocator shims
 * (__rust_alloc, __rust_alloc_zeroed, __rust_realloc, __rust_dealloc, or the
 * __rg_* / __rdl_* functions behind them): every live block in a hash by
 * address with its size and stack, and per stack the allocations, bytes and
 * live bytes. Needs no poll state, so it is an object of its own, loaded only
 * for probe.heap. Built with -mcpu=v3: the live total's fetch-and-add (kernel
 * 5.12+) gives the peak without a lock, which tracing programs cannot take. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "heap_maps.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL"; /* GPL-compatible: the probe-read helpers are GPL-only */

#define MAP_HASH 1 /* BPF_MAP_TYPE_HASH */

const volatile __u32 target_tgid = 0;

struct tg_heap_totals totals = {};

struct pending {
	__u64 size;
	__u64 stack;
	__u64 old; /* realloc: the block it replaces */
};

struct {
	__uint(type, MAP_HASH);
	__uint(max_entries, TG_HEAP_MAX_LIVE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as the blocks come, not the cap's worth */
	__type(key, __u64);
	__type(value, struct tg_heap_block);
} live SEC(".maps");

struct {
	__uint(type, MAP_HASH);
	__uint(max_entries, TG_HEAP_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct tg_heap_stack);
} stacks SEC(".maps");

struct {
	__uint(type, MAP_HASH);
	__uint(max_entries, TG_HEAP_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

/* a stack is too big for the BPF stack: built here, copied into `stacks` once */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_heap_stack);
} scratch SEC(".maps");

static __always_inline void count(int stat)
{
	if (stat >= 0 && stat < TG_HEAP_STAT__COUNT)
		__sync_fetch_and_add(&totals.stats[stat], 1);
}

static __always_inline bool ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline __u64 hash_frames(const struct tg_heap_stack *s, __u64 nr)
{
	__u64 h = 0xcbf29ce484222325ull;

	for (int i = 0; i < TG_HEAP_DEPTH; i++) {
		if (i >= nr)
			break;
		h = (h ^ s->ips[i]) * 0x100000001b3ull;
	}
	return h ? h : 1; /* 0 is the unknown site */
}

/* The stack of the allocator call being entered, as a key of `stacks`.
 * At the shim's first instruction the frame pointer is still the caller's,
 * so a frame-pointer walk starts at the caller's caller: the caller itself
 * is the return address at sp, put in place of the shim's own address. */
static __always_inline __u64 stack_key(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct tg_heap_stack *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 ra = 0, key;
	long n;

	if (!s)
		return 0;
	n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), BPF_F_USER_STACK);
	if (n <= 0) {
		count(TG_HEAP_STACK_FAIL);
		return 0;
	}
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)PT_REGS_SP(ctx)) == 0)
		s->ips[0] = ra;
	s->nr = (__u64)n / sizeof(__u64);
	key = hash_frames(s, s->nr);
	if (bpf_map_lookup_elem(&stacks, &key))
		return key;
	s->allocs = s->bytes = 0;
	s->live_bytes = 0;
	if (bpf_map_update_elem(&stacks, &key, s, BPF_NOEXIST) && !bpf_map_lookup_elem(&stacks, &key)) {
		count(TG_HEAP_STACKS_FULL);
		return 0;
	}
	return key;
}

static __always_inline void enter(struct pt_regs *ctx, __u64 size, __u64 old)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending p = { .size = size, .old = old };

	p.stack = stack_key(ctx);
	if (bpf_map_update_elem(&pending, &tid, &p, 0))
		count(TG_HEAP_PENDING_FULL);
}

static __always_inline void untrack(__u64 addr)
{
	struct tg_heap_block *b = bpf_map_lookup_elem(&live, &addr);
	struct tg_heap_stack *st;
	__u64 size, key;

	if (!b) {
		count(TG_HEAP_FREE_UNKNOWN);
		return;
	}
	size = b->size;
	key = b->stack;
	/* two frees of one address cannot race: only the one that deletes counts */
	if (bpf_map_delete_elem(&live, &addr))
		return;
	if ((st = bpf_map_lookup_elem(&stacks, &key)))
		__sync_fetch_and_sub(&st->live_bytes, (__s64)size);
	__sync_fetch_and_sub(&totals.live, (__s64)size);
	count(TG_HEAP_FREES);
}

static __always_inline void raise_peak(__s64 now)
{
	for (int i = 0; i < 4; i++) {
		__s64 seen = totals.peak;

		if (now <= seen || __sync_val_compare_and_swap(&totals.peak, seen, now) == seen)
			return;
	}
}

static __always_inline void track(__u64 addr, const struct pending *p)
{
	struct tg_heap_block b = { .size = p->size, .stack = p->stack };
	struct tg_heap_stack *st = bpf_map_lookup_elem(&stacks, &b.stack);

	count(TG_HEAP_ALLOCS);
	if (st) {
		__sync_fetch_and_add(&st->allocs, 1);
		__sync_fetch_and_add(&st->bytes, p->size);
	}
	if (bpf_map_update_elem(&live, &addr, &b, 0)) {
		count(TG_HEAP_LIVE_FULL);
		return;
	}
	if (st)
		__sync_fetch_and_add(&st->live_bytes, (__s64)p->size);
	raise_peak(__sync_fetch_and_add(&totals.live, (__s64)p->size) + (__s64)p->size);
}

/* the return of an alloc or realloc: the block it made */
static __always_inline int leave(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *pp = bpf_map_lookup_elem(&pending, &tid), p;
	__u64 addr = PT_REGS_RC(ctx);

	if (!pp)
		return 0;
	p = *pp;
	bpf_map_delete_elem(&pending, &tid);
	if (!addr) /* failed: a failed realloc keeps the old block */
		return 0;
	if (p.old)
		untrack(p.old);
	track(addr, &p);
	return 0;
}

SEC("uprobe") /* __rust_alloc(size, align), __rust_alloc_zeroed(size, align) */
int alloc_enter(struct pt_regs *ctx)
{
	if (ours())
		enter(ctx, PT_REGS_PARM1(ctx), 0);
	return 0;
}

SEC("uprobe") /* __rust_realloc(ptr, old_size, align, new_size) */
int realloc_enter(struct pt_regs *ctx)
{
	if (ours())
		enter(ctx, PT_REGS_PARM4(ctx), PT_REGS_PARM1(ctx));
	return 0;
}

SEC("uretprobe")
int alloc_exit(struct pt_regs *ctx)
{
	return ours() ? leave(ctx) : 0;
}

SEC("uprobe") /* __rust_dealloc(ptr, size, align) */
int free_enter(struct pt_regs *ctx)
{
	if (ours())
		untrack(PT_REGS_PARM1(ctx));
	return 0;
}
