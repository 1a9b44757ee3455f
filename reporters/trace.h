/* trace.json: Chrome Trace Event Format, streamed to the file as it is built. */
#ifndef TG_TRACE_H
#define TG_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct tg_results;

/* The trace stays under this size with default settings: when the polls at or
 * above trace_min_poll would not fit, the floor is raised (longest polls and
 * every blocking span are kept) and the metadata says so. */
#define TG_TRACE_BUDGET_BYTES (45u << 20)

struct tg_trace_stats {
	uint64_t slices;        /* poll slices written */
	uint64_t dropped;       /* polls above trace_min_poll left out to keep the budget */
	uint64_t min_poll_ns;   /* the floor actually used */
	uint64_t bytes;
};

/* Writes the trace of R (R->record must be set) to PATH. 0, or -errno with one
 * line in ERR. ST may be NULL. */
int tg_trace_write(const char *path, const struct tg_results *r, struct tg_trace_stats *st,
		   char *err, size_t errlen);

/* Tests only: a budget of BYTES instead of TG_TRACE_BUDGET_BYTES (0: the
 * default again), to reach the floor-raising path with a small record. */
void tg_trace_set_budget(uint64_t bytes);

#endif
