// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* The user registers (in DWARF order) and the stack from sp's page up, page
 * by page until PAGES or a page that faults (the top of the stack): the copy
 * record/unwind.c unwinds. One copy for every BPF object that takes stacks
 * (poll_probe, cpu_profile); include it after libbpf's headers. */
#ifndef TG_USER_STACK_COPY_BPF_H
#define TG_USER_STACK_COPY_BPF_H

static __always_inline void tg_copy_user_stack(struct task_struct *task, struct tg_copy_event *e,
					       __u32 pages)
{
	struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct pt_regs r;
	__u64 base;

	e->npages = 0;
	if (bpf_probe_read_kernel(&r, sizeof(r), uregs))
		return;
	e->regs[0] = r.ax;
	e->regs[1] = r.dx;
	e->regs[2] = r.cx;
	e->regs[3] = r.bx;
	e->regs[4] = r.si;
	e->regs[5] = r.di;
	e->regs[6] = r.bp;
	e->regs[7] = r.sp;
	e->regs[8] = r.r8;
	e->regs[9] = r.r9;
	e->regs[10] = r.r10;
	e->regs[11] = r.r11;
	e->regs[12] = r.r12;
	e->regs[13] = r.r13;
	e->regs[14] = r.r14;
	e->regs[15] = r.r15;
	e->regs[16] = r.ip;
	base = r.sp & ~(__u64)(TG_COPY_PAGE - 1);
	e->base = base;
	for (__u32 k = 0; k < TG_COPY_MAX_PAGES; k++) {
		if (k >= pages ||
		    bpf_probe_read_user(e->data + k * TG_COPY_PAGE, TG_COPY_PAGE, (void *)(base + k * TG_COPY_PAGE)))
			break;
		e->npages = k + 1;
	}
}

#endif
