// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* Measures every Tokio task poll of one process.
 *
 * poll_enter/poll_exit sit on each tokio::runtime::task::raw::poll<T, S>
 * instance (the attach cookie carries the site index and kind), and keep a
 * per-thread stack of open polls in task storage. Every poll lands in its
 * site's per-CPU histogram; only polls at or above the trace floor become
 * events. While a runtime poll is open, sched_switch measures its voluntary
 * off-CPU time (with the user stack at the switch-out: the blocking call site)
 * and cpu-clock samples record on-CPU stacks.
 *
 * Optional, loaded only when asked: fn_enter marks the open runtime poll
 * that entered a selected function (function selectors), and task_wake
 * times a task's wake to its next poll (scheduling delay). */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define TG_INLINE static __always_inline
#include "poll_probe.h"
#include "user_stack_copy.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL"; /* GPL-compatible: the probe-read helpers are GPL-only */

const volatile __u32 target_tgid = 0;
const volatile __u64 trace_min_ns = 100000;     /* poll events at or above this */
const volatile __u64 blocking_ns = 10000000;    /* blocking span threshold */
const volatile __u64 stack_floor_ns = 100000;   /* stacks only from polls/intervals this long */
const volatile __u32 stack_bytes = 64 * 8;      /* user stack depth * 8 */
const volatile __u64 wakeup_bytes = 1 << 20;    /* wake the reader only past this backlog */
const volatile __u64 sample_period_ns = 1001001; /* 1e9 / sample_rate */
const volatile __u64 boost_after_ns = 2500000;   /* a poll this old at a tick is sampled at rate */
const volatile bool sched_delay = false;         /* task_wake is attached: time wakes to polls */
const volatile __u32 wake_slot_bits = 0;         /* wake_slots has 1 << this many entries */
const volatile bool timer_sampler = false;       /* on-CPU samples from the tick and BPF timers */
const volatile __u32 block_on_main_site = ~0u;   /* block_on segments on the main thread */
const volatile __u32 block_on_other_site = ~0u;  /* ... on other threads (Handle::block_on) */
const volatile bool unwind_dwarf = false;        /* stacks as register + stack copies (no frame pointers) */
const volatile __u32 copy_pages = 5;             /* pages per copy: probe.stack_copy / 4096 + 1 */

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif
#define HEADER_VTABLE_OFF 0x10 /* Header { state, queue_next, vtable, ... }: repr(C) */
#define VTABLE_ID_OFFSET_SLOT 9

struct open_poll {
	__u64 header;
	__u64 start_ns;
	__u64 off_ns;
	__u64 runq_ns;
	__u64 switch_ts; /* non-zero while switched out */
	__u64 wake_ts;   /* when a sleep that switch_ts began was woken: from then on it waits for a CPU */
	__u64 child_span_ns; /* time in nested runtime polls that were spans themselves */
	__u64 fn_mask;   /* function selectors entered while this poll was innermost */
	__u64 delay_wake; /* its wake, when that came before the thread's last span ended (sched_delay) */
	__u32 delay_seq;  /* that span's seq */
	__u32 site;
	__u32 seq;
	__u32 samples;
	__u16 offcpu_events;
	__u8 kind;
	__u8 voluntary;
	__u8 segment;  /* a block_on poll bounded by parks (SEG_*): opened at a park's return */
	__u8 covered;  /* a segment around an out-of-line block_on body's poll: that one counts */
};

enum { SEG_PARK = 1, SEG_DRIVER = 2 };

struct thread_state {
	__u32 depth;
	__u32 seq;
	__u32 worker; /* ran a task's runtime poll: its parks are a scheduler's, not a block_on's */
	__u32 span_seq; /* the last blocking span of this thread (sched_delay): its seq and end */
	__u64 span_end;
	struct open_poll polls[TG_MAX_NEST];
	struct tg_worker_acc util; /* worker utilization: its outermost polls' totals */
	/* The stack taken at the last voluntary switch-out, sent at switch-in
	 * only if the thread then stayed off-CPU for long enough. */
	struct tg_stack_event pending;
};

/* DWARF mode's counterpart of thread_state.pending: the copy taken at the
 * last voluntary switch-out, sent at switch-in if it stayed off long enough.
 * Its own map: created only for threads that block inside a poll. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tg_copy_event);
} pending_copies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* set to the number of poll sites before load */
	__type(key, __u32);
	__type(value, struct tg_site_stats);
} site_stats SEC(".maps");

/* Per function selector: the polls that entered one of its functions. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* TG_MAX_FN_SELECTORS when selectors are probed */
	__type(key, __u32);
	__type(value, struct tg_site_stats);
} fn_stats SEC(".maps");

/* Per poll site: wake to next poll start. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* the number of poll sites when sched_delay is on */
	__type(key, __u32);
	__type(value, struct tg_sched_stats);
} sched_stats SEC(".maps");

/* A task's earliest wake not yet followed by a poll, in a slot chosen by a
 * hash of its header: an array, not a hash map, because a wake and a poll
 * then cost one inlined lookup each instead of an LRU hash's locked
 * update, lookup and delete (most of scheduling delay's cost besides the
 * wake's trap). Two pending tasks in one slot: the later wake takes it and
 * the earlier task's delay goes unmeasured (not mismeasured: the header is
 * checked). A slot of a task never polled again is simply reused. */
struct wake_slot {
	__u64 header;
	__u64 ts; /* 0: no wake pending */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* 1 << wake_slot_bits when sched_delay is on */
	__type(key, __u32);
	__type(value, struct wake_slot);
} wake_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* The thread whose runtime poll is open on this CPU (0: none), and how many
 * runtime polls are switched out right now: together they let the switch
 * hook skip task storage on the common switches (workers parking and waking
 * between polls), which would otherwise cost about 1% of throughput. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cpu_poll_tid SEC(".maps");

__u64 suspended_polls = 0;

/* On-CPU sampling without a timer interrupt of its own: the scheduler tick
 * (an hrtimer) already interrupts every busy CPU. A tick that lands in a runtime poll
 * older than boost_after_ns starts this CPU's timer, which samples that poll
 * every sample_period_ns until it ends. Extra interrupts happen only while a
 * poll is long, i.e. while something blocks. */
struct cpu_sampler {
	struct bpf_timer timer;
	__u32 tid;
	__u32 seq;
	__u32 armed;
	__u32 ready;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* one per possible CPU, set before load */
	__type(key, __u32);
	__type(value, struct cpu_sampler);
} samplers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized before load */
} events SEC(".maps");

/* The reader drains the ring on a timer; waking it for every event would
 * cost a context switch per event on the target's CPUs. */
static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* Going to sleep, as opposed to being preempted: a task preempted on its
 * way back to user space switches out with preempt == false but is still
 * TASK_RUNNING. */
static __always_inline bool is_sleeping(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) != 0;
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state) != 0;
}

/* The user registers saved on kernel entry are the ones the user stack walk
 * starts from, for samples and for switch-outs alike. */
static __always_inline void copy_stack_top(struct task_struct *task, struct tg_stack_event *e)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 sp = BPF_CORE_READ(regs, sp);

	e->sp = sp;
	if (!sp || bpf_probe_read_user(e->top, sizeof(e->top), (void *)sp))
		e->sp = 0;
}

static __always_inline void set_cpu_poll_tid(__u32 tid)
{
	__u32 zero = 0, *v = bpf_map_lookup_elem(&cpu_poll_tid, &zero);

	if (v)
		*v = tid;
}

static __always_inline bool cpu_in_poll_of(__u32 tid)
{
	__u32 zero = 0, *v = bpf_map_lookup_elem(&cpu_poll_tid, &zero);

	return v && *v == tid;
}

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		(*v)++;
}

/* The innermost open poll of a thread, if it is a runtime poll. */
static __always_inline struct open_poll *top_runtime_poll(struct thread_state *ts)
{
	__u32 d;

	if (!ts)
		return NULL;
	d = ts->depth;
	if (d == 0 || d > TG_MAX_NEST)
		return NULL;
	d = (d - 1) & (TG_MAX_NEST - 1);
	if (ts->polls[d].kind == TG_SITE_BLOCKING)
		return NULL;
	return &ts->polls[d];
}

static __always_inline struct wake_slot *wake_slot_of(__u64 header)
{
	__u32 k = wake_slot_bits ? (__u32)((header * 0x9E3779B97F4A7C15ull) >> (64 - wake_slot_bits)) : 0;

	return bpf_map_lookup_elem(&wake_slots, &k);
}

/* A wake's delay ends when the task's next runtime poll starts. A spawned
 * task's first poll follows no wake (it is scheduled directly): not measured.
 * Returns the wake's time, 0 when none was pending. */
static __always_inline __u64 sched_delay_end(__u64 header, __u32 site, __u64 now)
{
	struct wake_slot *w = wake_slot_of(header);
	struct tg_sched_stats *s;
	__u64 delay, wake;
	__u32 b;

	if (!w || w->header != header || !w->ts)
		return 0;
	wake = w->ts;
	w->ts = 0;
	delay = now > wake ? now - wake : 0;
	s = bpf_map_lookup_elem(&sched_stats, &site);
	if (!s)
		return wake;
	s->count++;
	s->total_ns += delay;
	if (delay > s->max_ns)
		s->max_ns = delay;
	b = tg_hist_bucket(delay);
	if (b < TG_HIST_BUCKETS)
		s->hist[b]++;
	return wake;
}

/* A wake during the task's own poll (yield_now, a self-wake, a wake racing
 * the poll): the task waits from the poll's end, not from the wake. */
static __always_inline void sched_delay_restart(struct open_poll *p, __u64 now)
{
	struct wake_slot *w = wake_slot_of(p->header);

	if (w && w->header == p->header && w->ts > p->start_ns)
		w->ts = now;
}

/* waker::wake_by_val / wake_by_ref: the RawWaker data is the task header,
 * the same pointer raw::poll gets. The earliest pending wake counts. */
SEC("uprobe")
int BPF_KPROBE(task_wake, void *header)
{
	struct wake_slot *w = wake_slot_of((__u64)header);

	count(TG_STAT_WAKES);
	if (!w || (w->header == (__u64)header && w->ts))
		return 0;
	w->header = (__u64)header;
	w->ts = bpf_ktime_get_ns();
	return 0;
}

/* Entry of a function selected by selector (cookie): marks the innermost
 * open poll, if it is a runtime poll. */
SEC("uprobe")
int BPF_KPROBE(fn_enter)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 bit = bpf_get_attach_cookie(ctx) & (TG_MAX_FN_SELECTORS - 1);
	struct open_poll *p;

	p = top_runtime_poll(bpf_task_storage_get(&threads, task, 0, 0));
	if (!p)
		return 0;
	p->fn_mask |= 1ull << bit;
	count(TG_STAT_FN_ENTRIES);
	return 0;
}

static __always_inline __u64 read_task_id(__u64 header)
{
	__u64 vtable = 0, id_off = 0, id = 0;

	bpf_probe_read_user(&vtable, sizeof(vtable), (void *)(header + HEADER_VTABLE_OFF));
	bpf_probe_read_user(&id_off, sizeof(id_off),
			    (void *)(vtable + VTABLE_ID_OFFSET_SLOT * sizeof(__u64)));
	/* Tokio before 1.23 has no id_offset slot: fall back to the header address. */
	if (id_off == 0 || id_off > 4096 || (id_off & 7))
		return header;
	if (bpf_probe_read_user(&id, sizeof(id), (void *)(header + id_off)))
		return header;
	return id;
}

/* A poll's own time: its wall time less the time its thread waited for a CPU
 * (an overloaded machine, not the task). */
static __always_inline __u64 own_time(struct open_poll *p, __u64 dur)
{
	return dur > p->runq_ns ? dur - p->runq_ns : 0;
}

/* A poll is a span when it blocked by itself: its own time, less nested polls
 * that were spans of their own (a LocalSet's poll around a blocking task). */
static __always_inline bool is_span(struct open_poll *p, __u64 own)
{
	return p->kind != TG_SITE_BLOCKING && own >= blocking_ns + p->child_span_ns;
}

static __always_inline void add_poll(struct tg_site_stats *s, bool span, __u64 own, __u64 dur)
{
	__u32 b;

	s->polls++;
	s->busy_ns += own;
	if (own > s->max_ns) {
		s->max_ns = own;
		s->max_own_wall_ns = dur;
	}
	if (dur > s->max_wall_ns)
		s->max_wall_ns = dur;
	if (span)
		s->blocking_spans++;
	b = tg_hist_bucket(own);
	if (b < TG_HIST_BUCKETS)
		s->hist[b]++;
}

static __always_inline void account(struct open_poll *p, __u64 own, __u64 dur)
{
	struct tg_site_stats *s = bpf_map_lookup_elem(&site_stats, &p->site);

	if (s)
		add_poll(s, is_span(p, own), own, dur);
}

struct fn_walk {
	__u64 mask;
	__u64 own;
	__u64 dur;
	bool span;
};

static int account_fn_bit(__u32 i, struct fn_walk *w)
{
	__u32 idx;
	struct tg_site_stats *s;

	if (!w->mask)
		return 1;
	idx = tg_log2(w->mask & -w->mask);
	w->mask &= w->mask - 1;
	s = bpf_map_lookup_elem(&fn_stats, &idx);
	if (s)
		add_poll(s, w->span, w->own, w->dur);
	return 0;
}

/* The poll counts once in every selector whose bit it has: the lowest set
 * bit is taken off each round (no ctz in BPF). bpf_loop, because the
 * verifier would walk an open-coded 64-round loop's branches to its limit. */
static __always_inline void account_fns(struct open_poll *p, __u64 own, __u64 dur)
{
	struct fn_walk w = { .mask = p->fn_mask, .own = own, .dur = dur, .span = is_span(p, own) };

	bpf_loop(TG_MAX_FN_SELECTORS, account_fn_bit, &w, 0);
}

static __always_inline void emit_poll(struct open_poll *p, __u32 tid, __u64 dur)
{
	struct tg_poll_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(TG_STAT_RB_FULL_POLL);
		return;
	}
	e->hdr.type = TG_EV_POLL;
	e->hdr.tid = tid;
	e->hdr.seq = p->seq;
	e->hdr.site = p->site;
	/* a block_on future has no task header: its argument is the future itself */
	e->task_id = p->kind == TG_SITE_BLOCK_ON ? 0 : read_task_id(p->header);
	e->start_ns = p->start_ns;
	e->duration_ns = dur;
	e->off_cpu_ns = p->off_ns;
	e->runq_ns = p->runq_ns;
	e->child_span_ns = p->child_span_ns;
	e->samples = p->samples;
	e->offcpu_events = p->offcpu_events;
	e->fn_mask = p->fn_mask;
	bpf_ringbuf_submit(e, rb_flags());
}

/* P waited for its worker while that worker's last span held it. */
static __always_inline void emit_wait(struct open_poll *p, __u32 tid, __u64 dur)
{
	struct tg_wait_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(TG_STAT_RB_FULL_OTHER);
		return;
	}
	e->hdr.type = TG_EV_WAIT;
	e->hdr.tid = tid;
	e->hdr.seq = p->delay_seq;
	e->hdr.site = p->site;
	e->task_id = read_task_id(p->header);
	e->wake_ns = p->delay_wake;
	e->start_ns = p->start_ns;
	e->duration_ns = dur;
	bpf_ringbuf_submit(e, rb_flags());
}

static __always_inline void emit_worker(struct thread_state *ts, __u32 tid)
{
	struct tg_worker_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(TG_STAT_RB_FULL_OTHER);
		return;
	}
	e->hdr.type = TG_EV_WORKER;
	e->hdr.tid = tid;
	e->hdr.seq = ts->seq;
	e->hdr.site = 0;
	e->acc = ts->util;
	bpf_ringbuf_submit(e, rb_flags());
}

/* Worker utilization counts a thread's outermost polls only: a nested
 * poll's time is inside its parent's. A covered segment is not counted, the
 * poll inside it is; a blocking-pool poll (a worker's launch) is no parent. */
static __always_inline bool util_outermost(struct thread_state *ts, __u32 d)
{
	struct open_poll *up;

	if (d == 0)
		return true;
	up = &ts->polls[(d - 1) & (TG_MAX_NEST - 1)];
	return up->kind == TG_SITE_BLOCKING || up->covered;
}

/* Every poll adds to its thread's totals; an event goes out only every
 * TG_WORKER_EMIT_NS (or for a span), so short polls cost no ring traffic.
 * A span held the worker for its whole wall time, preempted or not; any other
 * poll counts its own time (a busy machine's preemptions are not the
 * program's). Nested spans of a poll that is none (a LocalSet's) are blocked. */
static __always_inline void util_add(struct thread_state *ts, struct open_poll *p, __u64 now,
				     __u64 own, __u64 dur)
{
	struct tg_worker_acc *u = &ts->util;
	bool span = is_span(p, own);
	__u64 busy = span ? dur : own;

	u->busy_ns += busy;
	u->blocked_ns += span ? dur : p->child_span_ns < own ? p->child_span_ns : own;
	u->prev_end_ns = u->last_end_ns;
	u->last_start_ns = p->start_ns;
	u->last_own_ns = busy;
	u->last_end_ns = now;
	u->last_span = span;
	u->worker = ts->worker;
	if (span || now - u->last_emit_ns >= TG_WORKER_EMIT_NS) {
		u->last_emit_ns = now;
		emit_worker(ts, (__u32)bpf_get_current_pid_tgid());
	}
}

static __always_inline void pop_poll(struct thread_state *ts)
{
	struct open_poll *p;
	__u64 dur, own, now;
	__u32 d;

	d = --ts->depth;
	if (d >= TG_MAX_NEST)
		return;
	asm volatile("" : "+r"(d));
	p = &ts->polls[d & (TG_MAX_NEST - 1)];
	now = bpf_ktime_get_ns();
	dur = now - p->start_ns;
	own = own_time(p, dur);
	if (p->covered)
		goto out;
	account(p, own, dur);
	if (p->kind != TG_SITE_BLOCKING) {
		count(TG_STAT_POLLS);
		if (util_outermost(ts, d))
			util_add(ts, p, now, own, dur);
		if (sched_delay) {
			sched_delay_restart(p, now);
			if (p->delay_wake)
				emit_wait(p, (__u32)bpf_get_current_pid_tgid(), dur);
			/* what the tasks polled next on this thread may have waited behind */
			if (is_span(p, own)) {
				ts->span_end = now;
				ts->span_seq = p->seq;
			}
		}
		if (p->fn_mask)
			account_fns(p, own, dur);
		if (dur >= trace_min_ns)
			emit_poll(p, (__u32)bpf_get_current_pid_tgid(), dur);
	}
	/* The outer poll's wall time holds this one's: so does its CPU wait. */
	if (d > 0) {
		struct open_poll *up = &ts->polls[(d - 1) & (TG_MAX_NEST - 1)];

		up->runq_ns += p->runq_ns;
		if (is_span(p, own))
			up->child_span_ns += own;
	}
out:
	set_cpu_poll_tid(top_runtime_poll(ts) ? (__u32)bpf_get_current_pid_tgid() : 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(poll_exit)
{
	struct thread_state *ts = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0, 0);

	if (!ts || ts->depth == 0) {
		count(TG_STAT_UNMATCHED_EXIT);
		return 0;
	}
	pop_poll(ts);
	return 0;
}

static __always_inline struct open_poll *push_poll(struct thread_state *ts, __u64 header,
						     __u32 site, __u8 kind)
{
	struct open_poll *p, *up = top_runtime_poll(ts);
	__u32 d;

	/* A driver segment ends where the current_thread scheduler turns to its
	 * tasks. Any other segment around an out-of-line body's poll: that poll
	 * counts, once; around a task's: a scheduler's thread parked, not a block_on's. */
	if (kind == TG_SITE_RUNTIME && up && up->segment == SEG_DRIVER) {
		pop_poll(ts);
		up = NULL;
	}
	if (kind != TG_SITE_BLOCKING && up && up->segment)
		up->covered = 1;
	if (kind == TG_SITE_RUNTIME)
		ts->worker = 1;
	d = ts->depth++;
	if (d >= TG_MAX_NEST) {
		count(TG_STAT_NEST_OVERFLOW);
		return NULL;
	}
	/* keeps the mask: clang drops it after the check, the verifier wants it */
	asm volatile("" : "+r"(d));
	p = &ts->polls[d & (TG_MAX_NEST - 1)];
	p->header = header;
	p->site = site;
	p->kind = kind;
	p->seq = ++ts->seq;
	p->off_ns = 0;
	p->runq_ns = 0;
	p->switch_ts = 0;
	p->wake_ts = 0;
	p->child_span_ns = 0;
	p->samples = 0;
	p->offcpu_events = 0;
	p->fn_mask = 0;
	p->delay_wake = 0;
	p->segment = 0;
	p->covered = 0;
	if (p->kind != TG_SITE_BLOCKING)
		set_cpu_poll_tid((__u32)bpf_get_current_pid_tgid());
	p->start_ns = bpf_ktime_get_ns();
	/* after the start: the wait ends there, without a clock read of its own */
	if (sched_delay && kind == TG_SITE_RUNTIME) {
		__u64 wake = sched_delay_end(p->header, p->site, p->start_ns);

		if (wake && wake < ts->span_end) {
			p->delay_wake = wake;
			p->delay_seq = ts->span_seq;
		}
	}
	return p;
}

SEC("uprobe")
int BPF_KPROBE(poll_enter, void *header)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cookie = bpf_get_attach_cookie(ctx);
	struct thread_state *ts;

	ts = bpf_task_storage_get(&threads, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		count(TG_STAT_NO_STORAGE);
		return 0;
	}
	push_poll(ts, (__u64)header, (__u32)cookie, (__u8)(cookie >> 32));
	return 0;
}

/* After a park, until it parks again, a thread that runs block_on's loop
 * polls the block_on future, even where that poll was inlined into the loop
 * and has no function of its own: a thread that never polled a task, back
 * from CachedParkThread's park (SEG_PARK); or a current_thread runtime's
 * thread, back from the driver's park outside any poll, up to its first task
 * (SEG_DRIVER: multi-thread workers park there too, but inside the blocking
 * pool task that launched them). */
SEC("uretprobe")
int BPF_KRETPROBE(park_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u8 seg = (bpf_get_attach_cookie(ctx) >> 32) == TG_SITE_DRIVER_PARK ? SEG_DRIVER : SEG_PARK;
	__u32 site = (__u32)id == (__u32)(id >> 32) ? block_on_main_site : block_on_other_site;
	struct thread_state *ts;
	struct open_poll *p;

	if (site == ~0u)
		return 0;
	ts = bpf_task_storage_get(&threads, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts || (seg == SEG_PARK && ts->worker) || (seg == SEG_DRIVER && ts->depth))
		return 0;
	p = push_poll(ts, 0, site, TG_SITE_BLOCK_ON);
	if (p)
		p->segment = seg;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(park_enter)
{
	struct thread_state *ts = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0, 0);
	struct open_poll *p = top_runtime_poll(ts);

	if (p && p->segment)
		pop_poll(ts);
	return 0;
}

/* take_sample in DWARF mode: the registers and stack, unwound in user space. */
static __always_inline void take_copy_sample(struct task_struct *task, struct open_poll *p, __u64 now)
{
	struct tg_copy_event *e;

	e = bpf_ringbuf_reserve(&events, offsetof(struct tg_copy_event, data) + copy_pages * TG_COPY_PAGE, 0);
	if (!e) {
		count(TG_STAT_RB_FULL_SAMPLE);
		return;
	}
	tg_copy_user_stack(task, e, copy_pages);
	p->samples++;
	if (!e->npages) {
		/* nothing to unwind: counted, not sent (user space would count it lost) */
		count(TG_STAT_STACK_FAIL);
		bpf_ringbuf_discard(e, 0);
		return;
	}
	e->hdr.type = TG_EV_SAMPLE_COPY;
	e->hdr.tid = task->pid;
	e->hdr.seq = p->seq;
	e->hdr.site = p->site;
	e->ts_ns = now;
	e->duration_ns = 0;
	bpf_ringbuf_submit(e, rb_flags());
}

/* A user stack of TASK (current) inside its open runtime poll P. */
static __always_inline void take_sample(struct task_struct *task, struct open_poll *p, __u64 now)
{
	struct tg_stack_event *e;
	long n;

	count(TG_STAT_SAMPLES);
	if (unwind_dwarf) {
		take_copy_sample(task, p, now);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TG_STAT_RB_FULL_SAMPLE);
		return;
	}
	n = bpf_get_task_stack(task, e->ips, stack_bytes, BPF_F_USER_STACK);
	if (n < 0) {
		count(TG_STAT_STACK_FAIL);
		n = 0;
	}
	copy_stack_top(task, e);
	e->hdr.type = TG_EV_SAMPLE;
	e->hdr.tid = task->pid;
	e->hdr.seq = p->seq;
	e->hdr.site = p->site;
	e->ts_ns = now;
	e->duration_ns = 0;
	e->nr = n / sizeof(__u64);
	bpf_ringbuf_submit(e, rb_flags());
	p->samples++;
}

/* switch_out in DWARF mode: prev is current, its registers and stack are
 * the blocking call's; held until switch_in knows how long it slept. */
static __always_inline void hold_copy(struct task_struct *prev, struct open_poll *p, __u64 now)
{
	struct tg_copy_event *c = bpf_task_storage_get(&pending_copies, prev, 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!c) {
		count(TG_STAT_NO_STORAGE);
		return;
	}
	tg_copy_user_stack(prev, c, copy_pages);
	if (!c->npages)
		count(TG_STAT_STACK_FAIL);
	c->hdr.seq = p->seq;
	c->ts_ns = now;
}

/* switch_in's sending of a held copy: P slept DELTA, at least the floor. */
static __always_inline void send_copy(struct task_struct *next, struct open_poll *p, __u64 delta)
{
	struct tg_copy_event *c = bpf_task_storage_get(&pending_copies, next, 0, 0);
	__u32 np;

	if (!c || !c->npages || c->hdr.seq != p->seq)
		return;
	np = c->npages;
	if (np > TG_COPY_MAX_PAGES)
		np = TG_COPY_MAX_PAGES;
	c->hdr.type = TG_EV_OFFCPU_COPY;
	c->hdr.tid = next->pid;
	c->hdr.site = p->site;
	c->duration_ns = delta;
	if (bpf_ringbuf_output(&events, c, offsetof(struct tg_copy_event, data) + np * TG_COPY_PAGE,
			       rb_flags()))
		count(TG_STAT_RB_FULL_OFFCPU);
	else
		p->offcpu_events++;
	c->npages = 0;
}

static __always_inline void switch_out(void *ctx, struct task_struct *prev, bool preempt, __u64 now)
{
	struct thread_state *ts;
	struct open_poll *p;
	long n;

	if (!cpu_in_poll_of(prev->pid))
		return;
	set_cpu_poll_tid(0);
	ts = bpf_task_storage_get(&threads, prev, 0, 0);
	p = top_runtime_poll(ts);
	if (!p)
		return;
	if (p->switch_ts)
		count(TG_STAT_SWITCH_UNPAIRED);
	__sync_fetch_and_add(&suspended_polls, 1);
	p->switch_ts = now;
	p->wake_ts = 0;
	p->voluntary = !preempt && is_sleeping(prev);
	if (!p->voluntary) {
		/* Preempted in a long poll: prev is where its CPU time goes. On a busy
		 * machine the ticks that would sample it may all land while it waits
		 * for the CPU, so this is often its only on-CPU sample. */
		if (sample_period_ns && now - p->start_ns >= stack_floor_ns)
			take_sample(prev, p, now);
		return;
	}
	count(TG_STAT_OFFCPU);
	if (unwind_dwarf) {
		hold_copy(prev, p, now);
		return;
	}
	/* prev is still current here: its user stack is the blocking call site. */
	n = bpf_get_stack(ctx, ts->pending.ips, stack_bytes, BPF_F_USER_STACK);
	if (n <= 0) {
		count(TG_STAT_STACK_FAIL);
		ts->pending.nr = 0;
		return;
	}
	ts->pending.nr = n / sizeof(__u64);
	ts->pending.hdr.seq = p->seq;
	ts->pending.ts_ns = now;
	copy_stack_top(prev, &ts->pending);
}

/* The current thread's runtime poll, if it is open on this CPU and at least
 * MIN_AGE old. */
static __always_inline struct open_poll *long_poll(struct task_struct *task, __u64 now, __u64 min_age)
{
	struct open_poll *p;

	if (task->tgid != target_tgid || !cpu_in_poll_of(task->pid))
		return NULL;
	p = top_runtime_poll(bpf_task_storage_get(&threads, task, 0, 0));
	if (!p || now - p->start_ns < min_age)
		return NULL;
	return p;
}

static int sampler_fire(void *map, __u32 *key, struct cpu_sampler *cs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 now = bpf_ktime_get_ns();
	struct open_poll *p;

	p = task->pid == cs->tid ? long_poll(task, now, 0) : NULL;
	if (!p || p->seq != cs->seq) {
		cs->armed = 0; /* the poll ended or left this CPU: stop until the next tick */
		return 0;
	}
	take_sample(task, p, now);
	bpf_timer_start(&cs->timer, sample_period_ns, BPF_F_TIMER_CPU_PIN);
	return 0;
}

static __always_inline bool boost(__u32 tid, __u32 seq)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cpu_sampler *cs = bpf_map_lookup_elem(&samplers, &cpu);

	if (!cs)
		return false;
	if (cs->armed && cs->tid == tid && cs->seq == seq)
		return true;
	if (!cs->ready) {
		bpf_timer_init(&cs->timer, &samplers, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&cs->timer, sampler_fire);
		cs->ready = 1;
	}
	cs->tid = tid;
	cs->seq = seq;
	cs->armed = 1;
	return bpf_timer_start(&cs->timer, sample_period_ns, BPF_F_TIMER_CPU_PIN) == 0;
}

static __always_inline void switch_in(struct task_struct *next, __u64 now)
{
	struct thread_state *ts;
	struct open_poll *p;
	__u64 delta, size;

	if (!suspended_polls)
		return;
	ts = bpf_task_storage_get(&threads, next, 0, 0);
	p = top_runtime_poll(ts);
	if (!p || !p->switch_ts)
		return;
	__sync_fetch_and_add(&suspended_polls, -1);
	set_cpu_poll_tid(next->pid);
	/* A long poll back on a CPU is sampled from now: waiting for the next
	 * tick would miss a spin that only ever runs in short slices. */
	if (timer_sampler && now - p->start_ns >= boost_after_ns)
		boost(next->pid, p->seq);
	delta = now - p->switch_ts;
	p->switch_ts = 0;
	if (!p->voluntary) {
		p->runq_ns += delta;
		return;
	}
	/* Asleep until woken, then runnable: the wait for a CPU after a wake-up
	 * is the machine's, like a preemption's. */
	if (p->wake_ts > now - delta && p->wake_ts <= now) {
		p->runq_ns += now - p->wake_ts;
		delta = p->wake_ts - (now - delta);
	}
	p->off_ns += delta;
	if (delta >= stack_floor_ns && unwind_dwarf) {
		send_copy(next, p, delta);
		return;
	}
	if (delta < stack_floor_ns || !ts->pending.nr || ts->pending.hdr.seq != p->seq)
		return;
	ts->pending.hdr.type = TG_EV_OFFCPU;
	ts->pending.hdr.tid = next->pid;
	ts->pending.hdr.site = p->site;
	ts->pending.duration_ns = delta;
	size = offsetof(struct tg_stack_event, ips) + ts->pending.nr * sizeof(__u64);
	if (size > sizeof(ts->pending))
		size = sizeof(ts->pending);
	if (bpf_ringbuf_output(&events, &ts->pending, size, rb_flags()))
		count(TG_STAT_RB_FULL_OFFCPU);
	else
		p->offcpu_events++;
	ts->pending.nr = 0;
}

/* A sleeping thread inside a poll is woken: it runs again when it gets a CPU. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *t)
{
	struct open_poll *p;

	if (t->tgid != target_tgid || !suspended_polls)
		return 0;
	p = top_runtime_poll(bpf_task_storage_get(&threads, t, 0, 0));
	if (p && p->switch_ts && p->voluntary && !p->wake_ts)
		p->wake_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now;

	if (prev->tgid != target_tgid && next->tgid != target_tgid)
		return 0;
	now = bpf_ktime_get_ns();
	if (prev->tgid == target_tgid)
		switch_out(ctx, prev, preempt, now);
	if (next->tgid == target_tgid)
		switch_in(next, now);
	return 0;
}

/* Every hrtimer expiry, the scheduler tick among them: all run in interrupt
 * context with the interrupted thread as current. */
SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(on_tick, struct hrtimer *timer, ktime_t *now_unused)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 now = bpf_ktime_get_ns();
	struct open_poll *p = long_poll(task, now, stack_floor_ns);

	if (!p)
		return 0;
	/* Once boosted, the timer samples this poll: a tick sample would count twice. */
	if (now - p->start_ns >= boost_after_ns && boost(task->pid, p->seq))
		return 0;
	take_sample(task, p, now);
	return 0;
}

/* Fallback where fentry on the tick or BPF timers are unavailable: a
 * cpu-clock perf event per CPU at sample_rate, which costs an interrupt per
 * sample whether a poll is open or not. */
SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 now = bpf_ktime_get_ns();
	struct open_poll *p;

	if (BPF_CORE_READ(task, tgid) != target_tgid)
		return 0;
	p = long_poll(task, now, stack_floor_ns);
	if (p)
		take_sample(task, p, now);
	return 0;
}

/* A thread's end: its totals since its last event (a stopped target's
 * threads are gone before the probes stop). Fires once per exiting thread:
 * nothing on the polls' path. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *t)
{
	struct thread_state *ts;

	if (t->tgid != target_tgid)
		return 0;
	ts = bpf_task_storage_get(&threads, t, 0, 0);
	if (ts && ts->util.busy_ns && ts->util.last_emit_ns != ts->util.last_end_ns)
		emit_worker(ts, t->pid);
	return 0;
}

/* When the probes stop: the totals of every thread still alive since its
 * last event (user space cannot walk task storage; a task iterator can). */
SEC("iter/task")
int worker_totals(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct thread_state *ts;
	struct tg_worker_event e = {};

	if (!task || task->tgid != target_tgid)
		return 0;
	ts = bpf_task_storage_get(&threads, task, 0, 0);
	if (!ts || !ts->util.busy_ns)
		return 0;
	e.hdr.type = TG_EV_WORKER;
	e.hdr.tid = task->pid;
	e.hdr.seq = ts->seq;
	e.acc = ts->util;
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
