// SPDX-License-Identifier: MIT
/* libdw unwinds a "thread" whose registers and memory we supply: the Dwfl of
 * the symbolizer (its modules reported at their load addresses) gets a
 * process state attached once, and each unwind points that state at one
 * copy. Reads outside the copy fail: CFI needs only the stack, the binaries'
 * own bytes (CFI tables) libdw reads from the files. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "unwind.h"

struct walk {
	const struct tg_stack_copy *copy;
	uint64_t *ips;
	uint32_t n, max;
	bool read_past_copy;
};

/* One unwind at a time: the state attached to a Dwfl has one argument. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct walk *g_walk;

#define FAKE_TID 1 /* any: the "process" has this one thread */

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)arg;
	if (*thread_arg)
		return 0;
	*thread_arg = (void *)1;
	return FAKE_TID;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)arg;
	*thread_arg = (void *)1;
	return tid == FAKE_TID;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	const struct tg_stack_copy *c = g_walk->copy;

	(void)dwfl;
	(void)arg;
	if (addr < c->base || addr - c->base > c->len - sizeof(*result)) {
		/* above the copy: the stack went on, we did not copy it */
		if (addr >= c->base + c->len)
			g_walk->read_past_copy = true;
		return false;
	}
	memcpy(result, c->bytes + (addr - c->base), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	(void)thread_arg;
	return dwfl_thread_state_registers(thread, 0, TG_UNWIND_NREGS,
					   (const Dwarf_Word *)g_walk->copy->regs);
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	if (w->n >= w->max)
		return DWARF_CB_ABORT;
	w->ips[w->n++] = pc;
	return DWARF_CB_OK;
}

struct tg_stack_copy *tg_stack_copy_new(const struct tg_copy_event *e, size_t size)
{
	size_t head = offsetof(struct tg_copy_event, data), len;
	struct tg_stack_copy *c;

	if (size < head || !e->npages || e->npages > TG_COPY_MAX_PAGES)
		return NULL;
	len = (size_t)e->npages * TG_COPY_PAGE;
	if (size - head < len)
		return NULL;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return NULL;
	memcpy(c->regs, e->regs, sizeof(c->regs));
	c->base = e->base;
	c->len = len;
	memcpy(c->bytes, e->data, len);
	return c;
}

uint32_t tg_unwind(struct tg_symbolizer *sz, const struct tg_stack_copy *c, uint64_t *ips,
		   uint32_t max, bool *truncated)
{
	struct walk w = { .copy = c, .ips = ips, .max = max };
	Dwfl *dwfl = tg_symbolizer_dwfl(sz);

	*truncated = false;
	if (!dwfl || !c || !max)
		return 0;
	pthread_mutex_lock(&g_lock);
	g_walk = &w;
	/* attached once per Dwfl: dwfl_pid says whether this one is */
	if (dwfl_pid(dwfl) < 0 && !dwfl_attach_state(dwfl, NULL, FAKE_TID, &callbacks, NULL)) {
		g_walk = NULL;
		pthread_mutex_unlock(&g_lock);
		return 0;
	}
	/* its result does not tell a walk that ran out of copy from one that
	 * reached the stack's bottom: the reads past the copy do */
	dwfl_getthread_frames(dwfl, FAKE_TID, on_frame, &w);
	g_walk = NULL;
	pthread_mutex_unlock(&g_lock);
	*truncated = w.n >= max || w.read_past_copy;
	return w.n;
}
