// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* probe.cpu_profile: a cpu-clock perf event per CPU at N Hz; every sample
 * that lands on a thread of the target (any thread, however late it was
 * started: the check is on the tgid) sends its user stack to user space,
 * which counts and symbolizes them. Nothing here depends on poll state:
 * this object loads apart from poll_probe. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "cpu_profile_event.h"
#include "user_stack_copy.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL"; /* GPL-compatible: the probe-read helpers are GPL-only */

const volatile __u32 target_tgid = 0;
const volatile __u32 stack_bytes = TG_MAX_STACK_DEPTH * 8; /* user frames * 8 */
const volatile bool unwind_dwarf = false; /* registers + stack copies instead of a fp walk */
const volatile __u32 copy_pages = 5;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} samples SEC(".maps");

/* [0]: samples taken, [1]: lost (ring full), [2]: stack unreadable */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &which);

	if (v)
		(*v)++;
}

static __always_inline int copy_sample(struct task_struct *task)
{
	struct tg_copy_event *e;

	e = bpf_ringbuf_reserve(&samples, offsetof(struct tg_copy_event, data) + copy_pages * TG_COPY_PAGE, 0);
	if (!e) {
		count(1);
		return 0;
	}
	tg_copy_user_stack(task, e, copy_pages);
	if (!e->npages) {
		count(2);
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	e->hdr.type = TG_EV_SAMPLE_COPY;
	e->hdr.tid = task->pid;
	e->hdr.seq = 0;
	e->hdr.site = 0;
	e->ts_ns = 0;
	e->duration_ns = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP); /* read every few ms: no wakeup per sample */
	return 0;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tg_cpu_sample *e;
	long n;

	if (BPF_CORE_READ(task, tgid) != target_tgid)
		return 0;
	count(0);
	if (unwind_dwarf)
		return copy_sample(task);
	e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
	if (!e) {
		count(1);
		return 0;
	}
	/* user stack even when the sample hit the kernel: the syscall's caller */
	n = bpf_get_stack(ctx, e->ips, stack_bytes, BPF_F_USER_STACK);
	if (n <= 0) {
		count(2);
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	e->type = TG_EV_CPU_SAMPLE;
	e->tid = task->pid;
	e->nr = n / sizeof(__u64);
	e->pad = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP); /* read every few ms: no wakeup per sample */
	return 0;
}
