/* What the record keeps in memory on a run of any length, and what it drops
 * first when a budget is full: the shortest polls and the stacks of the
 * shortest spans, counted, so that hours of load cost the same memory as
 * minutes and the reports say what was left out. */
#ifndef TG_CAPS_H
#define TG_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define TG_KEEP_SLICES (128u << 10)       /* trace polls: the longest this many (report.trace_max_polls) */
#define TG_KEEP_STACK_BYTES (32u << 20)   /* span stacks: the longest spans' */
#define TG_KEEP_SPANS (256u << 10)        /* spans, with or without stacks */

/* Raises *FLOOR so that at most half of V's N slices (rounded up) are at or
 * above it, and keeps those, in order. Returns how many remain. */
size_t tg_slices_raise_floor(struct tg_slice *v, size_t n, uint64_t *floor);

/* Bytes a stack holds. */
size_t tg_stack_bytes(const struct tg_stack *st);

/* Spans holding stacks, shortest on top (a binary min-heap on own time). */
struct tg_span_heap {
	struct { uint64_t key; uint32_t span; } *v;
	size_t n, cap;
};

int tg_span_heap_push(struct tg_span_heap *h, uint64_t key, uint32_t span);
/* The shortest's key and span; 0 when empty, else 1 and it is removed. */
int tg_span_heap_pop(struct tg_span_heap *h, uint64_t *key, uint32_t *span);
void tg_span_heap_free(struct tg_span_heap *h);

#endif
