/* SPDX-License-Identifier: MIT */
/* Structs shared by poll_probe.bpf.c and the user-space side (probe/, record/).
 * Only fixed-width types: this header is compiled by clang -target bpf too. */
#ifndef TG_POLL_PROBE_H
#define TG_POLL_PROBE_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* the BPF side gets __u32/__u64 from kernel_types.h */
#endif

#define TG_MAX_STACK_DEPTH 127 /* kernel.perf_event_max_stack on this class of machine */
#define TG_MAX_NEST 8          /* open polls per thread (LocalSet and worker launch nest) */
#define TG_STACK_TOP 256       /* user stack bytes copied at sp: the leaf frame's return address */
#define TG_MAX_FN_SELECTORS 64 /* function selectors probed at once: bits of fn_mask */

#include "hist_layout.h" /* TG_HIST_*, tg_hist_bucket: load/ fills the same layout */

/* What raw::poll<T, S> instance a site is; S decides it. */
enum tg_site_kind {
	TG_SITE_RUNTIME = 0,  /* a runtime worker or current-thread poll: can block */
	TG_SITE_BLOCKING = 1, /* blocking pool (spawn_blocking, worker launch): never a span */
	TG_SITE_BLOCK_ON = 2, /* the future a block_on polls (#[tokio::main]'s body): like a runtime poll */
	TG_SITE_PARK = 3,     /* block_on's park: its return and entry bound the polls in between */
	TG_SITE_DRIVER_PARK = 4, /* the I/O and time driver's park: on a current_thread runtime's
				  * thread, its return up to the first task's poll is block_on's poll */
};

struct tg_site_info {
	__u32 kind;      /* enum tg_site_kind */
	__u32 id_offset; /* cached vtable id_offset, 0 until first read, ~0 if unusable */
};

/* Per site, per CPU: summed by user space. Durations are a poll's own time
 * (wall minus the time its thread waited for a CPU): a busy machine does not
 * make a well-behaved poll look long. The wall times sit beside them. */
struct tg_site_stats {
	__u64 polls;
	__u64 busy_ns;        /* own time, summed */
	__u64 max_ns;         /* the longest own time */
	__u64 max_own_wall_ns; /* wall time of the poll whose own time is max_ns */
	__u64 max_wall_ns;    /* the longest wall time (may be another poll) */
	__u64 blocking_spans;
	__u64 hist[TG_HIST_BUCKETS]; /* own time */
};

/* Per site, per CPU: wake (waker::wake_by_val / wake_by_ref) to the next poll's start. */
struct tg_sched_stats {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[TG_HIST_BUCKETS];
};

enum tg_stat {
	TG_STAT_RB_FULL_POLL,    /* ring buffer reserve failed for a poll event */
	TG_STAT_RB_FULL_SAMPLE,  /* ... for an on-CPU sample */
	TG_STAT_RB_FULL_OFFCPU,  /* ... for an off-CPU interval */
	TG_STAT_NEST_OVERFLOW,   /* more than TG_MAX_NEST polls open on one thread */
	TG_STAT_UNMATCHED_EXIT,  /* a return with no open poll (probe attached mid-poll) */
	TG_STAT_NO_STORAGE,      /* task storage could not be created */
	TG_STAT_STACK_FAIL,      /* bpf_get_stack failed */
	TG_STAT_SAMPLES,         /* on-CPU samples taken inside runtime polls */
	TG_STAT_OFFCPU,          /* voluntary switch-outs inside runtime polls */
	TG_STAT_POLLS,           /* runtime polls ended (the timeline's counter) */
	TG_STAT_WAKES,           /* task wakes seen (scheduling delay probes) */
	TG_STAT_FN_ENTRIES,      /* probed function entries inside an open poll */
	TG_STAT_SWITCH_UNPAIRED, /* a switch-out of a poll whose last switch-in was not seen */
	TG_STAT_RB_FULL_OTHER,   /* ... for a cascade wait or a worker-totals event */
	TG_STAT__COUNT
};

enum tg_event_type {
	TG_EV_POLL = 1,   /* a poll at or above the trace floor ended */
	TG_EV_SAMPLE = 2, /* an on-CPU sample inside an open runtime poll */
	TG_EV_OFFCPU = 3, /* a voluntary off-CPU interval inside an open runtime poll */
	TG_EV_SAMPLE_COPY = 4, /* the same two, as registers and stack bytes to unwind */
	TG_EV_OFFCPU_COPY = 5,
	TG_EV_WAIT = 6,   /* a poll whose wake came before its thread's last blocking span ended */
	TG_EV_WORKER = 7, /* a thread's running busy/blocked totals (worker utilization) */
};

/* Every event starts with this; seq ties samples and off-CPU intervals to
 * the poll they happened in: (tid, seq) is unique for the session. */
struct tg_event_hdr {
	__u32 type;
	__u32 tid;
	__u32 seq;
	__u32 site;
};

struct tg_poll_event {
	struct tg_event_hdr hdr;
	__u64 task_id;
	__u64 start_ns;    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 duration_ns;
	__u64 off_cpu_ns;  /* voluntary sleeps: I/O, locks, thread::sleep */
	__u64 runq_ns;     /* preempted, waiting for a CPU (nested polls' included): not the poll's fault */
	__u64 child_span_ns; /* own time of nested polls that were spans of their own */
	__u32 samples;
	__u32 offcpu_events;
	__u64 fn_mask;     /* function selectors (bit = index) entered during this poll */
};

/* A task that was ready while a blocking span held its worker: woken before
 * the span ended, polled on the span's thread after it. hdr.seq is the span's
 * poll (tid, seq), hdr.site the delayed poll's site. Sent when that poll ends. */
struct tg_wait_event {
	struct tg_event_hdr hdr;
	__u64 task_id;
	__u64 wake_ns;     /* the earliest wake not followed by a poll */
	__u64 start_ns;    /* the delayed poll's start: wait = start - wake */
	__u64 duration_ns; /* the delayed poll's wall time */
};

/* A thread's totals over its outermost runtime and block_on polls (every
 * poll, not only those over the trace floor), sent at a poll's end at most
 * every TG_WORKER_EMIT_NS per thread, at every blocking span's end, and once
 * per thread at its exit (on_exit) and by the worker_totals iterator when the
 * probes stop. blocked is the wall time of the polls that were blocking spans
 * (they held the worker, preempted or not); busy is that plus the own time
 * (wall less waiting for a CPU) of the other polls. The last poll's bounds and the
 * end of the one before it let user space place the time on a timeline: the
 * polls between the previous event and prev_end_ns lie in that window. */
#define TG_WORKER_EMIT_NS 100000000ull

struct tg_worker_acc {
	__u64 busy_ns;
	__u64 blocked_ns;
	__u64 last_emit_ns;
	__u64 last_start_ns; /* the last counted poll: start, busy time, end */
	__u64 last_own_ns;
	__u64 last_end_ns;
	__u64 prev_end_ns;   /* the end of the counted poll before it */
	__u32 last_span;     /* the last poll was a blocking span */
	__u32 worker;        /* the thread ran a task's runtime poll */
};

struct tg_worker_event {
	struct tg_event_hdr hdr;
	struct tg_worker_acc acc;
};

/* Sample and off-CPU events carry their stack inline, truncated to nr frames.
 * The frame-pointer walk skips the caller of a leaf without a frame pointer
 * (libc's syscall wrappers): sp and the top of the stack let user space find
 * that return address through the leaf's CFI. */
struct tg_stack_event {
	struct tg_event_hdr hdr;
	__u64 ts_ns;
	__u64 duration_ns; /* off-CPU interval length; 0 for samples */
	__u64 sp;          /* user stack pointer when ips[0] was taken; 0: top[] unusable */
	__u8 top[TG_STACK_TOP];
	__u32 nr;          /* frames in ips[] */
	__u32 pad;
	__u64 ips[TG_MAX_STACK_DEPTH];
};

/* DWARF unwinding (probe.unwind: dwarf): where the target keeps no frame
 * pointers, the user registers and the top of the user stack are copied and
 * user space unwinds them with the binaries' CFI (perf's --call-graph dwarf).
 * The copy starts at the page sp is in, so every page read is whole and at a
 * fixed offset; a page that faults (the stack's end) ends it. */
#define TG_UNWIND_NREGS 17     /* x86-64 DWARF registers 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
#define TG_COPY_PAGE 4096
#define TG_COPY_MAX_PAGES 15   /* task storage values stay under 64 KB: probe.stack_copy <= 56 KB */

struct tg_copy_event {
	struct tg_event_hdr hdr;
	__u64 ts_ns;
	__u64 duration_ns;     /* off-CPU interval length; 0 for samples */
	__u64 regs[TG_UNWIND_NREGS];
	__u64 base;            /* user address of data[0] */
	__u32 npages;          /* whole pages in data[] */
	__u32 pad;
	__u8 data[TG_COPY_MAX_PAGES * TG_COPY_PAGE]; /* only npages of them are sent */
};

#endif
