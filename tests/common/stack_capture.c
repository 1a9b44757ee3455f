/* See stack_capture.h. x86-64 only, like the probe's copy. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stack_capture.h"

static __thread uint8_t *t_stack_hi; /* the top of the thread's own stack */

struct start {
	void *(*fn)(void *);
	void *arg;
	uint8_t *hi;
};

static void *trampoline(void *p)
{
	struct start *s = p;

	t_stack_hi = s->hi;
	return s->fn(s->arg);
}

int tg_run_on_own_stack(void *(*fn)(void *), void *arg, size_t size)
{
	uint8_t *lo = aligned_alloc(TG_COPY_PAGE, size);
	struct start s = { fn, arg, lo + size };
	pthread_attr_t a;
	pthread_t t;
	int rc = -1;

	if (lo && !pthread_attr_init(&a)) {
		if (!pthread_attr_setstack(&a, lo, size) && !pthread_create(&t, &a, trampoline, &s) &&
		    !pthread_join(t, NULL))
			rc = 0;
		pthread_attr_destroy(&a);
	}
	free(lo);
	return rc;
}

/* The registers the CFI walk needs (sp, pc, the callee-saved ones) are read
 * here, so this function is the innermost frame; no frame pointer, so the
 * walk must use its CFI from the first step. optimize() is GCC's; clang has
 * no per-function form (and omits frame pointers at -O2 by itself). */
#ifdef __clang__
__attribute__((noinline))
#else
__attribute__((noinline, optimize("omit-frame-pointer")))
#endif
struct tg_stack_copy *tg_capture_stack(void)
{
	uint64_t r[TG_UNWIND_NREGS] = { 0 }, base;
	struct tg_stack_copy *c;
	size_t len;

	__asm__ volatile("mov %%rbx, %0\n\t"
			 "mov %%rbp, %1\n\t"
			 "mov %%rsp, %2\n\t"
			 "mov %%r12, %3\n\t"
			 "mov %%r13, %4\n\t"
			 "mov %%r14, %5\n\t"
			 "mov %%r15, %6\n\t"
			 "lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, %7\n\t"
			 : "=m"(r[3]), "=m"(r[6]), "=m"(r[7]), "=m"(r[12]), "=m"(r[13]), "=m"(r[14]),
			   "=m"(r[15]), "=m"(r[16])
			 :
			 : "rax", "memory");
	base = r[7] & ~(uint64_t)(TG_COPY_PAGE - 1);
	if (!t_stack_hi || base >= (uint64_t)t_stack_hi)
		return NULL;
	len = (size_t)((uint64_t)t_stack_hi - base);
	c = malloc(sizeof(*c) + len);
	if (!c)
		return NULL;
	memcpy(c->regs, r, sizeof(r));
	c->base = base;
	c->len = len;
	memcpy(c->bytes, (void *)base, len);
	return c;
}
