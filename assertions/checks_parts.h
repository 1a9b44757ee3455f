/* The assertions stage's insides, shared by checks.c, suggest.c and step_checks.c:
 * one limit's measurement and context, and the helpers one file lends another.
 * Not a face: the rest of tokio-guard includes checks.h. */
#ifndef TG_CHECKS_PARTS_H
#define TG_CHECKS_PARTS_H

#include "cat.h"
#include "checks.h"
#include "hist_layout.h" /* struct load_agg: latencies in the probe's layout */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* Below this many polls a task's p99 is one or two polls: comparing it with
 * a baseline measures noise, not a regression. */
#define REGRESSION_MIN_POLLS 100

enum meas_state {
	M_OK,   /* a value was observed: compare it with the limit */
	M_NONE, /* the selector matched nothing: fail, or skip with allow_missing */
	M_SKIP, /* the limit cannot be judged in this run: skipped, message says why */
	M_FAIL, /* nothing to compare, and that is a failure (message says why) */
};

/* What one limit observed over its selection. */
struct meas {
	enum meas_state state;
	uint64_t u;        /* durations (ns) and counts */
	double d;          /* percents and rates */
	char where[256];   /* "demo::handler", "load step warmup"; "" when not one place */
	char note[320];    /* extra context, shown in parentheses */
	char why[400];     /* M_NONE detail, M_SKIP / M_FAIL message */
	char hint[200];    /* M_NONE: "; did you mean `x`?" */
	const char *task;  /* where the value comes from */
};

/* Everything a limit's evaluation looks at, so helpers take one argument. */
struct ctx {
	const struct tg_assert_input *in;
	const struct tg_assertion *e;
	const struct tg_limit *l;
	int fn_idx; /* function selectors: the fn_mask bit and tg_fn_summary index, or -1 */
};

/* Load selectors: the matched steps' leaves (a parallel step's traffic is
 * its children's, so a parent and child both matching count once). */
struct load_agg {
	size_t matched;
	const struct tg_step_result *first;
	uint64_t requests, errors, max_ns, hist_count;
	__u64 hist[TG_HIST_BUCKETS];
	double throughput;
};

/* checks.c */
void load_walk(struct load_agg *a, const char *pat, const struct tg_step_result *r,
	       size_t n, bool parent_matched);

/* worker_checks.c */
void measure_worker_busy(const struct ctx *c, struct meas *m);

/* suggest.c */
void suggest(const struct ctx *c, struct meas *m);
/* max_heap_growth and max_alloc_rate (heap_checks.c). */
void measure_heap(const struct ctx *c, struct meas *m);

/* step_checks.c */
size_t count_steps(const struct tg_step_result *r, size_t n);
size_t load_checks(const struct tg_spec *spec, const struct tg_step_result *r, size_t n,
		   const char *parent, bool limited, struct tg_check *c);
void probe_checks(const struct tg_assert_input *in, struct tg_check *c);
void unprobed_check(const struct tg_assert_input *in, struct tg_check *c);

#endif
