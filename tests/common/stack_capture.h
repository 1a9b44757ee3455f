/* A copy of the caller's registers and stack, made the way the probe makes
 * one (bpf/poll_probe.bpf.c copy_user_stack), for tests and benchmarks of the
 * unwinder that need no BPF: the stack is this process's own. */
#ifndef TG_STACK_CAPTURE_H
#define TG_STACK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

/* Runs FN(ARG) on a new thread on a stack of SIZE bytes of our own (a copy
 * may then run to its top), and joins it. 0 or -1. */
int tg_run_on_own_stack(void *(*fn)(void *), void *arg, size_t size);

/* Registers and stack from sp's page to the top of the stack tg_run_on_own_stack
 * gave the calling thread: the innermost frame is tg_capture_stack itself.
 * malloc'd; NULL when not on such a stack or out of memory. */
struct tg_stack_copy *tg_capture_stack(void);

#endif
