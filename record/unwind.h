/* DWARF CFI unwinding of copied user stacks (probe.unwind: dwarf), with libdw
 * over the target's binaries as the symbolizer has them: how perf's
 * --call-graph dwarf walks a program built without frame pointers. */
#ifndef TG_UNWIND_H
#define TG_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll_probe.h"
#include "symbolize.h"

/* One copy as the probe took it: registers in DWARF order, LEN stack bytes
 * from user address BASE (sp lies in the first page). */
struct tg_stack_copy {
	uint64_t regs[TG_UNWIND_NREGS];
	uint64_t base;
	size_t len;
	uint8_t bytes[];
};

/* The copy in event E (SIZE bytes as read from the ring), malloc'd; NULL when
 * E holds no page or is cut short. */
struct tg_stack_copy *tg_stack_copy_new(const struct tg_copy_event *e, size_t size);

/* Unwinds C with the CFI (.eh_frame, .debug_frame) of SZ's modules into IPS:
 * the interrupted pc first, then return addresses, as a frame-pointer walk
 * gives them. *TRUNCATED: the walk ended for lack of copied stack or of
 * room in IPS, not at the stack's bottom. Returns the frames written. */
uint32_t tg_unwind(struct tg_symbolizer *sz, const struct tg_stack_copy *c, uint64_t *ips,
		   uint32_t max, bool *truncated);

#endif
