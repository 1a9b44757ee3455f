/* probe.heap: uprobes on the target's Rust allocator shims (bpf/heap.bpf.c,
 * an object of its own), and a snapshot of what they counted. */
#ifndef TG_HEAP_PROBE_H
#define TG_HEAP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heap_maps.h"

/* What the BPF maps held at one moment. */
struct tg_heap_snapshot {
	struct tg_heap_totals totals;
	uint64_t *keys;               /* stack keys (0: the unknown site) */
	struct tg_heap_stack *stacks; /* their counters and frames */
	size_t n;
	uint64_t at_ns;               /* CLOCK_MONOTONIC when it was read */
};

struct tg_heap_probe;

/* Finds the allocator symbols in EXE and attaches to PID. 0, or -errno with
 * one line in ERR saying what failed and what to do. */
int tg_heap_probe_open(const char *exe, pid_t pid, struct tg_heap_probe **out, char *err,
		       size_t errlen);
/* The symbols probed, as "alloc=__rust_alloc free=__rust_dealloc ..." (static storage of P). */
const char *tg_heap_probe_symbols(const struct tg_heap_probe *p);
/* False when the binary has no dealloc symbol (LTO inlined it into the
 * callers): frees cannot be seen, live bytes and growth mean nothing. */
bool tg_heap_probe_sees_frees(const struct tg_heap_probe *p);
/* Reads the maps into OUT (free with tg_heap_snapshot_free). 0 or -errno. */
int tg_heap_probe_read(struct tg_heap_probe *p, struct tg_heap_snapshot *out);
void tg_heap_snapshot_free(struct tg_heap_snapshot *s);
/* Detaches and unloads (NULL is fine). */
void tg_heap_probe_close(struct tg_heap_probe *p);

#endif
