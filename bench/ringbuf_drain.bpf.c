// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* The producer half of bench/ringbuf_drain.c: every BPF_PROG_TEST_RUN of
 * emit_batch writes BATCH poll events (and, one poll in SPAN_EVERY, 4 stack
 * events before it) into a ring buffer the way poll_probe.bpf.c does:
 * reserve, fill, submit without a wakeup until the backlog passes
 * wakeup_bytes. Reserve failures are counted: the events the reader lost. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include "poll_probe.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL"; /* GPL-compatible: the probe-read helpers are GPL-only */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* set from user space */
} events SEC(".maps");

const volatile __u32 batch = 1000;
const volatile __u32 span_every = 0;     /* 0: every poll a plain slice */
const volatile __u64 wakeup_bytes = 2 << 20;

__u64 emitted, lost;
__u32 seq;

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void emit_stack(__u32 tid, __u32 s, __u32 type)
{
	struct tg_stack_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		lost++;
		return;
	}
	e->hdr.type = type;
	e->hdr.tid = tid;
	e->hdr.seq = s;
	e->hdr.site = s % 50;
	e->ts_ns = bpf_ktime_get_ns();
	e->duration_ns = type == TG_EV_OFFCPU ? 4000000 : 0;
	e->sp = 0;
	e->nr = 32;
	for (int i = 0; i < 32; i++)
		e->ips[i] = 0x400000 + i * 0x40;
	bpf_ringbuf_submit(e, rb_flags());
	emitted++;
}

static long emit_one(__u64 i, void *ctx)
{
	__u32 s = ++seq, tid = 1000 + (s & 7);
	bool span = span_every && s % span_every == 0;
	struct tg_poll_event *e;

	if (span) {
		emit_stack(tid, s, TG_EV_SAMPLE);
		emit_stack(tid, s, TG_EV_SAMPLE);
		emit_stack(tid, s, TG_EV_SAMPLE);
		emit_stack(tid, s, TG_EV_OFFCPU);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		lost++;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = TG_EV_POLL;
	e->hdr.tid = tid;
	e->hdr.seq = s;
	e->hdr.site = s % 50;
	e->task_id = s % 5000;
	e->start_ns = bpf_ktime_get_ns();
	e->duration_ns = span ? 12000000 : 100000 + (s * 7919) % 200000;
	bpf_ringbuf_submit(e, rb_flags());
	emitted++;
	return 0;
}

SEC("syscall")
int emit_batch(void *ctx)
{
	bpf_loop(batch, emit_one, NULL, 0);
	return 0;
}
