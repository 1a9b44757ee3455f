/* The live view's content: blocking spans grouped by culprit as they come,
 * per-worker shares over a sliding window, polls per second; and the screen
 * drawn from it. Pure (no terminal, no threads): unit-tested. */
#ifndef TG_LIVE_VIEW_H
#define TG_LIVE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span_kind.h"

#define TG_LIVE_MAX_ROWS 64
#define TG_LIVE_MAX_WORKERS 64
#define TG_LIVE_WINDOW 8 /* points per worker: 8 x 250 ms = the 2 s the shares are over */

/* One culprit: spans of the same task, culprit and kind. */
struct tg_live_row {
	char task[128];
	char culprit[160];  /* function */
	char where[192];    /* file:line from the source root, or "" */
	enum tg_block_kind kind;
	uint64_t count, worst_ns, last_ns; /* last_ns: when the latest ended (monotonic) */
};

struct tg_live_point {
	uint64_t ts_ns, cpu_ns;
};

/* A blocking poll of the worker: its off-CPU time is spread over its wall
 * time, so that a window holds only the part of it that fell inside. */
struct tg_live_block {
	uint64_t start_ns, end_ns, off_cpu_ns;
};
#define TG_LIVE_BLOCKS 256

struct tg_live_worker {
	uint32_t tid, no;
	char name[32];
	struct tg_live_point pts[TG_LIVE_WINDOW];
	size_t npts;              /* ring fill, newest at (head - 1) */
	size_t head;
	struct tg_live_block blocks[TG_LIVE_BLOCKS]; /* the latest, a ring */
	size_t nblocks, block_head;
};

struct tg_live_view {
	char title[256];      /* what is being watched */
	uint64_t t0_ns;       /* start of the run */
	uint64_t now_ns;
	uint64_t spans;       /* blocking spans so far */
	uint64_t polls, polls_prev, polls_ts, polls_prev_ts;
	struct tg_live_row rows[TG_LIVE_MAX_ROWS];
	size_t nrows;
	uint64_t other_spans; /* spans of culprits beyond TG_LIVE_MAX_ROWS */
	struct tg_live_worker workers[TG_LIVE_MAX_WORKERS];
	size_t nworkers;
};

/* One blocking span. Returns the row it went to, and *FRESH when it is a new
 * culprit (the line a non-terminal log gets); NULL when the table is full. */
const struct tg_live_row *tg_live_add_span(struct tg_live_view *v, const char *task,
					   const char *culprit, const char *where,
					   enum tg_block_kind kind, uint64_t duration_ns,
					   uint64_t end_ns, uint32_t tid, uint64_t off_cpu_ns,
					   bool *fresh);
/* A worker thread's CPU clock at NOW (schedstat); creates the worker. */
void tg_live_worker_point(struct tg_live_view *v, uint32_t tid, uint32_t no, const char *name,
			  uint64_t now_ns, uint64_t cpu_ns);
/* Shares of the last window, in percent: on CPU, blocked in a poll. False
 * until the worker has two points. */
bool tg_live_worker_shares(const struct tg_live_worker *w, double *cpu_pct, double *blocked_pct);
void tg_live_polls(struct tg_live_view *v, uint64_t now_ns, uint64_t total_polls);

/* The plain line a log gets for a new culprit (no newline). */
void tg_live_line(const struct tg_live_row *r, char *buf, size_t len);
/* The screen, WIDTH x HEIGHT, each line ending "\033[K\n" so that a redraw
 * from the top overwrites without clearing (no flicker). Returns the length. */
size_t tg_live_render(const struct tg_live_view *v, int width, int height, char *buf, size_t len);

#endif
