/* probe.heap's results: allocation stacks folded into call sites, each the
 * innermost frame of the program's own code (tg_is_own_code), with the
 * allocations, bytes and live bytes made there, and the run's peak and growth. */
#ifndef TG_HEAP_SITES_H
#define TG_HEAP_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap_maps.h"
#include "symbolize.h"

struct tg_heap_snapshot;

struct tg_heap_site {
	char *function;
	char *file;     /* NULL when unknown */
	int line;
	bool own;       /* false: no own-code frame in the stack, the first frame past the allocator */
	uint64_t allocs;
	uint64_t bytes;
	int64_t live_bytes;
};

struct tg_heap_report {
	struct tg_heap_site *sites; /* by live bytes, then bytes, largest first */
	size_t nsites, cap;
	int64_t live_bytes;         /* at the snapshot */
	int64_t peak_live_bytes;
	int64_t growth_bytes;       /* live at the snapshot minus live at attach (0: nothing is seen before) */
	uint64_t stats[TG_HEAP_STAT__COUNT];
	double window_s;            /* attach to snapshot: what rates are per */
	bool frees_seen;            /* false: no dealloc symbol, live bytes count no frees */
	char symbols[160];          /* the symbols probed (tg_heap_probe_symbols) */
};

/* Adds counts at one call site, merged with an equal (function, file, line).
 * Pure accounting: no probe, no symbolizer. 0 or -ENOMEM. */
int tg_heap_add(struct tg_heap_report *r, const char *function, const char *file, int line, bool own,
		uint64_t allocs, uint64_t bytes, int64_t live_bytes);
/* Orders the sites: most live bytes first, then most bytes. */
void tg_heap_sort(struct tg_heap_report *r);

/* The report of snapshot SNAP: each stack's call site symbolized with SZ,
 * totals, and WINDOW_S seconds as the rates' denominator. 0 or -ENOMEM. */
int tg_heap_build(struct tg_heap_report *r, const struct tg_heap_snapshot *snap,
		  struct tg_symbolizer *sz, double window_s);

/* Allocations per second at the sites whose function GLOB matches (NULL:
 * every site). 0 when the window is empty. */
double tg_heap_alloc_rate(const struct tg_heap_report *r, const char *glob);
/* Live bytes at the sites GLOB matches (NULL: the run's growth). */
int64_t tg_heap_live(const struct tg_heap_report *r, const char *glob);

/* "2.0MB", "512KB", "17B" (binary units, as the spec's sizes). */
void tg_heap_format_bytes(uint64_t n, char *buf, size_t len);

void tg_heap_free(struct tg_heap_report *r);

#endif
