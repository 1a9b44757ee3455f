/* The spec's assertions checked against what the probes saw. Contract:
 * checks.h and shared/spec.md (assertions, allow). Every (entry, limit) pair
 * becomes one check; probe health and each load step are checks too. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "frame_text.h"
#include "hist.h"
#include "load.h"
#include "names.h"
#include "poll_probe.h"
#include "record.h"
#include "requests.h"
#include "spec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* Below this many polls a task's p99 is one or two polls: comparing it with
 * a baseline measures noise, not a regression. */
#define REGRESSION_MIN_POLLS 100

/* ------------------------------------------------------------ small helpers */

static const char *span_task(const struct tg_span *s)
{
	return s->task ? s->task : "[unknown task]";
}

/* Appends to a fixed buffer; silently truncates (messages are one line). */
static void cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ allow, selectors */

static bool span_has_function(const struct tg_span *s, const char *glob)
{
	for (size_t i = 0; i < s->nfunctions; i++)
		if (tg_glob_match(glob, s->functions[i]))
			return true;
	for (int i = 0; s->frames && i < s->nframes; i++)
		if (tg_glob_match(glob, s->frames[i].function))
			return true;
	return false;
}

void tg_apply_allow(const struct tg_spec *spec, struct tg_span *spans, size_t n)
{
	for (size_t i = 0; spec && i < n; i++) {
		for (size_t a = 0; a < spec->nallow; a++) {
			if (!span_has_function(&spans[i], spec->allow[a].function))
				continue;
			spans[i].allowed = true;
			spans[i].allow_function = spec->allow[a].function;
			spans[i].allow_reason = spec->allow[a].reason;
			break;
		}
	}
}

size_t tg_fn_selectors(const struct tg_spec *spec, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; spec && i < spec->nassertions; i++) {
		const struct tg_assertion *e = &spec->assertions[i];
		size_t j;

		if (e->sel != TG_SEL_FUNCTION || !e->pattern)
			continue;
		for (j = 0; j < n && strcmp(out[j], e->pattern); j++)
			;
		if (j == n && n < max)
			out[n++] = e->pattern;
	}
	return n;
}

static bool is_sched_kind(enum tg_limit_kind k)
{
	return k == TG_LIM_MAX_SCHEDULING_DELAY || k == TG_LIM_P99_SCHEDULING_DELAY;
}

bool tg_needs_sched_delay(const struct tg_spec *spec)
{
	/* Only task entries (and no selector) look at it: a function entry's
	 * scheduling delay limits are skipped, as delay is measured per task. */
	for (size_t i = 0; spec && i < spec->nassertions; i++)
		for (size_t j = 0; j < spec->assertions[i].nlimits; j++)
			if ((spec->assertions[i].sel == TG_SEL_TASK || spec->assertions[i].sel == TG_SEL_ALL) &&
			    is_sched_kind(spec->assertions[i].limits[j].kind))
				return true;
	return false;
}

/* ------------------------------------------------------------ measurements */

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

static bool task_selected(const struct ctx *c, const char *name)
{
	return c->e->sel == TG_SEL_ALL || tg_glob_match(c->e->pattern, name);
}

static bool span_selected(const struct ctx *c, const struct tg_span *s)
{
	switch (c->e->sel) {
	case TG_SEL_ALL:
		return true;
	case TG_SEL_TASK:
		return s->task && tg_glob_match(c->e->pattern, s->task);
	case TG_SEL_FUNCTION:
		if (c->fn_idx >= 0 && c->fn_idx < TG_MAX_FN_SELECTORS && (s->fn_mask >> c->fn_idx & 1))
			return true;
		return span_has_function(s, c->e->pattern);
	default:
		return false;
	}
}

/* Only runtime tasks count: blocking-pool polls (spawn_blocking) are allowed
 * to block by design. Sets M_NONE when the selection holds no runtime poll,
 * saying so when blocking-pool tasks were all the selector matched. */
static uint64_t selected_polls(const struct ctx *c, struct meas *m)
{
	uint64_t polls = 0;
	size_t pool = 0;

	for (size_t i = 0; i < c->in->ntasks; i++) {
		const struct tg_task_summary *t = &c->in->tasks[i];
		if (!task_selected(c, t->name))
			continue;
		if (t->blocking_pool)
			pool++;
		else
			polls += t->polls;
	}
	if (c->e->sel == TG_SEL_ALL && polls < c->in->polls)
		polls = c->in->polls;
	if (polls == 0) {
		m->state = M_NONE;
		if (pool)
			snprintf(m->why, sizeof m->why,
				 " (only blocking-pool tasks match: spawn_blocking polls are not runtime polls)");
	}
	return polls;
}

/* max_poll, pNN_poll, scheduling delays: each runtime task on its own, the
 * worst one observed. Tasks without the value (never woken) are left out. */
static bool task_value(enum tg_limit_kind k, const struct tg_task_summary *t, uint64_t *v)
{
	switch (k) {
	case TG_LIM_MAX_POLL: *v = t->max_ns; return true;
	case TG_LIM_P50_POLL: *v = t->p50_ns; return true;
	case TG_LIM_P90_POLL: *v = t->p90_ns; return true;
	case TG_LIM_P99_POLL: *v = t->p99_ns; return true;
	case TG_LIM_P999_POLL: *v = t->p999_ns; return true;
	case TG_LIM_MAX_SCHEDULING_DELAY: *v = t->sched_max_ns; return t->sched_count > 0;
	case TG_LIM_P99_SCHEDULING_DELAY: *v = t->sched_p99_ns; return t->sched_count > 0;
	default: return false;
	}
}

/* Poll limits hold the poll's own time; where its wall time reads
 * differently, the message shows both: "own; 14.0ms wall, 1.9ms waiting for a CPU". */
static void own_note(struct meas *m, uint64_t own, uint64_t wall)
{
	char o[32], w[32], q[32], pre[128];
	size_t k, len = strlen(m->note);

	if (wall <= own)
		return;
	tg_format_duration(own, o, sizeof o);
	tg_format_duration(wall, w, sizeof w);
	if (strcmp(o, w) == 0)
		return;
	tg_format_duration(wall - own, q, sizeof q);
	snprintf(pre, sizeof pre, "own; %s wall, %s waiting for a CPU%s", w, q, len ? "; " : "");
	k = strlen(pre);
	if (k + len >= sizeof m->note)
		len = sizeof m->note - k - 1;
	memmove(m->note + k, m->note, len);
	memcpy(m->note, pre, k);
	m->note[k + len] = '\0';
}

static void measure_per_task(const struct ctx *c, struct meas *m)
{
	const struct tg_task_summary *worst = NULL;
	size_t over = 0, seen = 0;
	uint64_t v;

	if (is_sched_kind(c->l->kind) && !c->in->sched_measured) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: scheduling delay was not measured in this run");
		return;
	}
	if (selected_polls(c, m) == 0)
		return;
	for (size_t i = 0; i < c->in->ntasks; i++) {
		const struct tg_task_summary *t = &c->in->tasks[i];
		if (t->blocking_pool || !t->polls || !task_selected(c, t->name) ||
		    !task_value(c->l->kind, t, &v))
			continue;
		seen++;
		over += v > c->l->ns;
		if (!worst || v > m->u) {
			worst = t;
			m->u = v;
		}
	}
	if (!seen && !is_sched_kind(c->l->kind)) {
		m->state = M_NONE; /* polls counted, but no task summary holds them */
		return;
	}
	if (!seen) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: no wake-to-poll delay was measured for the matched tasks");
		return;
	}
	m->task = worst->name;
	snprintf(m->where, sizeof m->where, "%s", worst->name);
	if (over > 1)
		snprintf(m->note, sizeof m->note, "and %zu more task%s over the limit", over - 1,
			 over > 2 ? "s" : "");
	if (c->l->kind == TG_LIM_MAX_POLL)
		own_note(m, worst->max_ns, worst->max_own_wall_ns);
}

static const struct tg_baseline_task *baseline_task(const struct tg_baseline *b, const char *name)
{
	for (size_t i = 0; i < b->ntasks; i++)
		if (b->tasks[i].name && strcmp(b->tasks[i].name, name) == 0)
			return &b->tasks[i];
	return NULL;
}

/* p99 now against p99 in the baseline, per task present in both runs. */
static void measure_regression(const struct ctx *c, struct meas *m)
{
	const struct tg_task_summary *worst = NULL;
	const struct tg_baseline_task *worst_b = NULL;
	size_t noise = 0;
	char now[32], then[32];

	if (!c->in->baseline) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: no --baseline given");
		return;
	}
	if (selected_polls(c, m) == 0)
		return;
	for (size_t i = 0; i < c->in->ntasks; i++) {
		const struct tg_task_summary *t = &c->in->tasks[i];
		const struct tg_baseline_task *b;
		if (t->blocking_pool || !task_selected(c, t->name))
			continue;
		if (!(b = baseline_task(c->in->baseline, t->name)))
			continue;
		if (t->polls < REGRESSION_MIN_POLLS || b->polls < REGRESSION_MIN_POLLS || !b->p99_ns) {
			noise++;
			continue;
		}
		double pct = ((double)t->p99_ns - (double)b->p99_ns) * 100.0 / (double)b->p99_ns;
		if (!worst || pct > m->d) {
			worst = t;
			worst_b = b;
			m->d = pct;
		}
	}
	if (!worst) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why,
			 "skipped: no matched task is in the baseline with >= %d polls in both runs%s",
			 REGRESSION_MIN_POLLS, noise ? " (fewer polls are noise)" : "");
		return;
	}
	m->task = worst->name;
	snprintf(m->where, sizeof m->where, "%s", worst->name);
	tg_format_duration(worst->p99_ns, now, sizeof now);
	tg_format_duration(worst_b->p99_ns, then, sizeof then);
	snprintf(m->note, sizeof m->note, "p99 %s, baseline %s", now, then);
	if (noise)
		cat(m->note, sizeof m->note, "; %zu task%s with < %d polls ignored as noise", noise,
		    noise > 1 ? "s" : "", REGRESSION_MIN_POLLS);
}

/* max_blocking_spans and max_blocking_time: allowed spans are accepted blocking. */
static void measure_spans(const struct ctx *c, struct meas *m, bool fn_matched)
{
	size_t count = 0, allowed = 0;
	uint64_t total = 0;

	if (c->e->sel != TG_SEL_FUNCTION && selected_polls(c, m) == 0)
		return;
	for (size_t i = 0; i < c->in->nspans; i++) {
		const struct tg_span *s = &c->in->spans[i];
		if (!span_selected(c, s))
			continue;
		if (s->allowed) {
			allowed++;
			continue;
		}
		count++;
		total += s->poll.duration_ns;
	}
	if (c->e->sel == TG_SEL_FUNCTION && !fn_matched && !count && !allowed) {
		m->state = M_NONE;
		return;
	}
	m->u = c->l->kind == TG_LIM_MAX_BLOCKING_TIME ? total : count;
	if (allowed)
		snprintf(m->note, sizeof m->note, "%zu allowed", allowed);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double quantile_of(enum tg_limit_kind k)
{
	switch (k) {
	case TG_LIM_P50_POLL: return 0.50;
	case TG_LIM_P90_POLL: return 0.90;
	case TG_LIM_P99_POLL: return 0.99;
	case TG_LIM_P999_POLL: return 0.999;
	default: return 1.0;
	}
}

/* Function selectors: the uprobes on the matched functions measured every
 * poll that entered them. When none was found as a symbol (inlined), the
 * blocking spans whose stacks hold it are all there is: exact for max, but
 * their percentiles only describe polls >= blocking_threshold. */
static void measure_function(const struct ctx *c, struct meas *m)
{
	const struct tg_fn_summary *f = NULL;
	uint64_t *d = NULL, span_max = 0, span_max_wall = 0;
	size_t nd = 0;
	bool probed;

	if (c->fn_idx >= 0 && c->in->fns && (size_t)c->fn_idx < c->in->nfns)
		f = &c->in->fns[c->fn_idx];
	probed = f && f->symbols > 0 && f->polls > 0;
	d = calloc(c->in->nspans + 1, sizeof *d);
	for (size_t i = 0; d && i < c->in->nspans; i++) {
		const struct tg_span *s = &c->in->spans[i];
		if (!span_selected(c, s))
			continue;
		uint64_t own = tg_slice_own_ns(&s->poll);

		d[nd++] = own;
		if (own > span_max) {
			span_max = own;
			span_max_wall = s->poll.duration_ns;
			m->task = s->task;
		}
	}
	if (c->l->kind == TG_LIM_MAX_BLOCKING_SPANS || c->l->kind == TG_LIM_MAX_BLOCKING_TIME) {
		measure_spans(c, m, probed);
		free(d);
		return;
	}
	snprintf(m->where, sizeof m->where, "%s", c->e->pattern);
	if (!probed && !nd) {
		m->state = M_NONE;
		if (!f || !f->symbols)
			snprintf(m->why, sizeof m->why,
				 " (no function matching it was found as a symbol, it may be inlined, "
				 "and no blocking span's stack holds it)");
	} else if (c->l->kind == TG_LIM_MAX_POLL) {
		/* A span is a real poll that ran the function, even where the
		 * function was inlined and its uprobe never fired. */
		bool from_probe = probed && f->max_ns > span_max;

		m->u = from_probe ? f->max_ns : span_max;
		own_note(m, m->u, from_probe ? f->max_own_wall_ns : span_max_wall);
	} else if (probed) {
		m->u = c->l->kind == TG_LIM_MIN_POLLS ? f->polls
		     : c->l->kind == TG_LIM_P50_POLL ? f->p50_ns
		     : c->l->kind == TG_LIM_P90_POLL ? f->p90_ns
		     : c->l->kind == TG_LIM_P99_POLL ? f->p99_ns : f->p999_ns;
	} else {
		qsort(d, nd, sizeof *d, cmp_u64);
		if (c->l->kind == TG_LIM_MIN_POLLS) {
			m->u = nd;
		} else {
			size_t rank = (size_t)((double)nd * quantile_of(c->l->kind) + 0.999999);
			m->u = d[(rank ? rank : 1) - 1];
		}
		snprintf(m->note, sizeof m->note, "only polls >= blocking_threshold have stacks");
	}
	free(d);
}

/* Load selectors: the matched steps' leaves (a parallel step's traffic is
 * its children's, so a parent and child both matching count once). */
struct load_agg {
	size_t matched;
	const struct tg_step_result *first;
	uint64_t requests, errors, max_ns, hist_count;
	__u64 hist[TG_HIST_BUCKETS];
	double throughput;
};

static void load_add(struct load_agg *a, const struct tg_step_result *r)
{
	a->requests += r->requests;
	a->errors += r->errors;
	a->throughput += r->throughput_per_s;
	if (r->latency_max_ns > a->max_ns)
		a->max_ns = r->latency_max_ns;
	for (size_t b = 0; r->latency_hist && b < TG_HIST_BUCKETS; b++) {
		a->hist[b] += r->latency_hist[b];
		a->hist_count += r->latency_hist[b];
	}
}

static void load_walk(struct load_agg *a, const char *pat, const struct tg_step_result *r,
		      size_t n, bool parent_matched)
{
	for (size_t i = 0; i < n; i++) {
		bool hit = r[i].name && tg_glob_match(pat, r[i].name);
		if (hit && !a->matched++)
			a->first = &r[i];
		if (r[i].nchildren)
			load_walk(a, pat, r[i].children, r[i].nchildren, hit || parent_matched);
		else if (hit || parent_matched)
			load_add(a, &r[i]);
	}
}

/* The spec's first step (children included) whose name PAT matches, or NULL. */
static const struct tg_step *spec_step(const struct tg_step *st, size_t n, const char *pat)
{
	for (size_t i = 0; st && i < n; i++) {
		const struct tg_step *hit = st[i].name && tg_glob_match(pat, st[i].name) ? &st[i]
					    : spec_step(st[i].children, st[i].nchildren, pat);
		if (hit)
			return hit;
	}
	return NULL;
}

static void measure_load(const struct ctx *c, struct meas *m)
{
	struct load_agg *a = calloc(1, sizeof *a);
	enum tg_limit_kind k = c->l->kind;

	if (!a) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: out of memory");
		return;
	}
	load_walk(a, c->e->pattern, c->in->steps, c->in->nsteps, false);
	if (!a->matched) {
		const struct tg_step *st = c->in->spec ? spec_step(c->in->spec->steps, c->in->spec->nsteps,
								    c->e->pattern) : NULL;

		m->state = st ? M_SKIP : M_NONE;
		if (st)
			snprintf(m->why, sizeof m->why, "not evaluated: load step '%.60s' never ran%s%.300s",
				 st->name, c->in->run_error ? ": " : "",
				 c->in->run_error ? c->in->run_error : "");
		free(a);
		return;
	}
	if (a->matched == 1)
		snprintf(m->where, sizeof m->where, "load step %s", a->first->name);
	else
		snprintf(m->where, sizeof m->where, "%zu load steps matching %s", a->matched,
			 c->e->pattern);
	if (k == TG_LIM_MAX_ERRORS) {
		m->u = a->errors;
	} else if (k == TG_LIM_MIN_THROUGHPUT) {
		m->d = a->throughput;
	} else if (!a->requests || (k != TG_LIM_MAX_ERROR_RATE && !a->hist_count && k != TG_LIM_MAX_LATENCY)) {
		m->state = M_FAIL;
		snprintf(m->why, sizeof m->why, "no requests finished");
	} else if (k == TG_LIM_MAX_ERROR_RATE) {
		m->d = (double)a->errors * 100.0 / (double)a->requests;
	} else if (k == TG_LIM_MAX_LATENCY) {
		m->u = a->max_ns;
	} else {
		m->u = tg_hist_quantile(a->hist, a->hist_count, k == TG_LIM_P50_LATENCY ? 0.5 : 0.99,
					a->max_ns);
	}
	free(a);
}

/* ------------------------------------------------------------ did you mean */

#define SUGGEST_MAX 3
#define SUGGEST_NAME_MAX 128     /* longer names are compared by their first bytes */
#define SUGGEST_CANDIDATES 20000 /* names looked at: a huge run must not stall the end */

/* Levenshtein distance over at most SUGGEST_NAME_MAX bytes of each string. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[SUGGEST_NAME_MAX + 1];

	la = la > SUGGEST_NAME_MAX ? SUGGEST_NAME_MAX : la;
	lb = lb > SUGGEST_NAME_MAX ? SUGGEST_NAME_MAX : lb;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static size_t segments(const char *s)
{
	size_t n = 1;

	for (const char *p = s; (p = strstr(p, "::")); p += 2)
		n++;
	return n;
}

/* How far NAME is from what the user wrote (glob stars dropped): the whole
 * name, or its last path segments when the pattern has fewer ("batch_job"
 * for "hidden_app::batch_job"). */
static size_t name_distance(const char *pat, size_t pat_segs, const char *name)
{
	size_t d = edit_distance(pat, strlen(pat), name, strlen(name));
	size_t segs = segments(name);
	const char *tail = name;

	for (; segs > pat_segs && (tail = strstr(tail, "::")); segs--)
		tail += 2;
	if (tail && tail != name) {
		size_t t = edit_distance(pat, strlen(pat), tail, strlen(tail));
		if (t < d)
			d = t;
	}
	return d;
}

struct suggest {
	const char *glob; /* as written */
	char pat[SUGGEST_NAME_MAX + 1];
	size_t segs, looked;
	const char *best[SUGGEST_MAX];
	size_t dist[SUGGEST_MAX], n;
};

static void consider(struct suggest *g, const char *name)
{
	size_t d, k;

	if (!name || !name[0] || g->looked++ >= SUGGEST_CANDIDATES || tg_glob_match(g->glob, name))
		return; /* a name the selector matched is no alternative to it */
	for (k = 0; k < g->n; k++)
		if (strcmp(g->best[k], name) == 0)
			return;
	d = name_distance(g->pat, g->segs, name);
	for (k = g->n; k > 0 && g->dist[k - 1] > d; k--)
		;
	if (k >= SUGGEST_MAX)
		return;
	if (g->n < SUGGEST_MAX)
		g->n++;
	memmove(&g->best[k + 1], &g->best[k], (g->n - 1 - k) * sizeof g->best[0]);
	memmove(&g->dist[k + 1], &g->dist[k], (g->n - 1 - k) * sizeof g->dist[0]);
	g->best[k] = name;
	g->dist[k] = d;
}

static void consider_results(struct suggest *g, const struct tg_step_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		consider(g, r[i].name);
		consider_results(g, r[i].children, r[i].nchildren);
	}
}

static void consider_steps(struct suggest *g, const struct tg_step *st, size_t n)
{
	for (size_t i = 0; st && i < n; i++) {
		consider(g, st[i].name);
		consider_steps(g, st[i].children, st[i].nchildren);
	}
}

static void consider_observed(struct suggest *g, const struct ctx *c)
{
	const struct tg_assert_input *in = c->in;

	if (c->e->sel == TG_SEL_LOAD) {
		consider_results(g, in->steps, in->nsteps);
		if (in->spec)
			consider_steps(g, in->spec->steps, in->spec->nsteps);
		return;
	}
	for (size_t i = 0; in->tasks && i < in->ntasks; i++)
		consider(g, in->tasks[i].name);
	if (c->e->sel != TG_SEL_FUNCTION)
		return;
	for (size_t i = 0; in->spans && i < in->nspans; i++) {
		for (size_t j = 0; j < in->spans[i].nfunctions; j++)
			consider(g, in->spans[i].functions[j]);
		for (int j = 0; in->spans[i].frames && j < in->spans[i].nframes; j++)
			consider(g, in->spans[i].frames[j].function);
	}
}

/* M_NONE: the observed names closest to the selector, "; did you mean `x`?",
 * or the closest few when none is near. */
static void suggest(const struct ctx *c, struct meas *m)
{
	struct suggest *g;
	size_t o = 0, near = 0, limit;
	const char *what = c->e->sel == TG_SEL_LOAD ? "load steps" :
			   c->e->sel == TG_SEL_FUNCTION ? "functions" : "tasks";

	/* a task selector's WHY says it matched blocking-pool tasks only: no typo */
	if (c->e->sel == TG_SEL_ALL || (c->e->sel == TG_SEL_TASK && m->why[0]) || !c->e->pattern ||
	    !(g = calloc(1, sizeof *g)))
		return;
	for (const char *p = c->e->pattern; *p && o < SUGGEST_NAME_MAX; p++)
		if (*p != '*')
			g->pat[o++] = *p;
	g->segs = segments(g->pat);
	g->glob = c->e->pattern;
	consider_observed(g, c);
	limit = strlen(g->pat) / 3 > 2 ? strlen(g->pat) / 3 : 2;
	/* near the limit and near the best: one clear guess beats three vague ones */
	while (near < g->n && g->dist[near] <= limit && g->dist[near] <= g->dist[0] + 1)
		near++;
	if (near)
		snprintf(m->hint, sizeof m->hint, "; did you mean ");
	else if (g->n)
		snprintf(m->hint, sizeof m->hint, "; observed %s include ", what);
	for (size_t k = 0; k < (near ? near : g->n); k++)
		cat(m->hint, sizeof m->hint, "%s`%.60s`", k == 0 ? "" : k + 1 == (near ? near : g->n) ? " or " : ", ",
		    g->best[k]);
	if (near)
		cat(m->hint, sizeof m->hint, "?");
	free(g);
}

/* ------------------------------------------------------------ one check */

/* How the message reads the limit: "max poll 23.4ms > 5ms", "3 blocking spans > 0". */
static const char *limit_label(enum tg_limit_kind k, bool *count_first)
{
	*count_first = k == TG_LIM_MAX_BLOCKING_SPANS || k == TG_LIM_MIN_POLLS || k == TG_LIM_MAX_ERRORS;
	switch (k) {
	case TG_LIM_MAX_POLL: return "max poll";
	case TG_LIM_P50_POLL: return "p50 poll";
	case TG_LIM_P90_POLL: return "p90 poll";
	case TG_LIM_P99_POLL: return "p99 poll";
	case TG_LIM_P999_POLL: return "p99.9 poll";
	case TG_LIM_MAX_BLOCKING_SPANS: return "blocking spans";
	case TG_LIM_MAX_BLOCKING_TIME: return "blocking time";
	case TG_LIM_MIN_POLLS: return "polls";
	case TG_LIM_MAX_POLL_REGRESSION: return "p99 poll regression";
	case TG_LIM_MAX_SCHEDULING_DELAY: return "max scheduling delay";
	case TG_LIM_P99_SCHEDULING_DELAY: return "p99 scheduling delay";
	case TG_LIM_MAX_ERRORS: return "errors";
	case TG_LIM_MAX_ERROR_RATE: return "error rate";
	case TG_LIM_P50_LATENCY: return "p50 latency";
	case TG_LIM_P99_LATENCY: return "p99 latency";
	case TG_LIM_MAX_LATENCY: return "max latency";
	case TG_LIM_MIN_THROUGHPUT: return "throughput";
	default: return "value";
	}
}

static void format_observed(const struct tg_limit *l, const struct meas *m, char *buf, size_t len)
{
	switch (tg_limit_unit(l->kind)) {
	case TG_UNIT_DURATION: tg_format_duration(m->u, buf, len); break;
	case TG_UNIT_COUNT: snprintf(buf, len, "%" PRIu64, m->u); break;
	case TG_UNIT_RATE: snprintf(buf, len, "%.1f/s", m->d); break;
	case TG_UNIT_PERCENT:
		if (l->kind == TG_LIM_MAX_POLL_REGRESSION)
			snprintf(buf, len, "%+.0f%%", m->d);
		else
			snprintf(buf, len, "%.1f%%", m->d);
		break;
	}
}

/* Fails, and how far past the limit the value is (>= 1 when failed). */
static bool compare(const struct tg_limit *l, const struct meas *m, double *severity)
{
	double obs, lim;

	switch (tg_limit_unit(l->kind)) {
	case TG_UNIT_DURATION: obs = (double)m->u; lim = (double)l->ns; break;
	case TG_UNIT_COUNT: obs = (double)m->u; lim = (double)l->count; break;
	default: obs = m->d; lim = l->value; break;
	}
	if (tg_limit_is_min(l->kind)) {
		*severity = obs > 0 ? lim / obs : lim + 1;
		return obs < lim;
	}
	*severity = lim > 0 ? obs / lim : obs + 1;
	switch (tg_limit_unit(l->kind)) { /* integers compare exactly */
	case TG_UNIT_DURATION: return m->u > l->ns;
	case TG_UNIT_COUNT: return m->u > l->count;
	default: return obs > lim;
	}
}

static int cmp_worst(const void *a, const void *b)
{
	const struct tg_span *x = *(const struct tg_span *const *)a, *y = *(const struct tg_span *const *)b;

	if (x->allowed != y->allowed)
		return x->allowed ? 1 : -1;
	if (x->poll.duration_ns != y->poll.duration_ns)
		return x->poll.duration_ns > y->poll.duration_ns ? -1 : 1;
	return 0;
}

/* The spans behind a failure: the selection's, non-allowed and longest first.
 * A scheduling delay is caused by whatever held the worker, any task: there
 * every span is a suspect. */
static void pick_worst(const struct ctx *c, struct tg_check *ch)
{
	const struct tg_span **all;
	size_t n = 0;
	bool any = is_sched_kind(c->l->kind);

	if (c->e->sel == TG_SEL_LOAD || !c->in->nspans || !(all = calloc(c->in->nspans, sizeof *all)))
		return;
	for (size_t i = 0; i < c->in->nspans; i++)
		if (any || span_selected(c, &c->in->spans[i]))
			all[n++] = &c->in->spans[i];
	qsort(all, n, sizeof *all, cmp_worst);
	for (ch->nworst = 0; ch->nworst < n && ch->nworst < TG_CHECK_WORST; ch->nworst++)
		ch->worst[ch->nworst] = all[ch->nworst];
	ch->culprit = n ? tg_span_culprit(all[0]) : NULL;
	free(all);
}

/* "(worst 101ms in demo::sleep_task at blocking_kinds::sleepy (src/lib.rs:64))" */
static void worst_note(const struct ctx *c, const struct tg_check *ch, struct meas *m)
{
	const struct tg_span *w = ch->nworst ? ch->worst[0] : NULL;
	char d[32], f[512];
	const struct tg_frame *cf;

	if (!w || w->allowed)
		return;
	tg_format_duration(w->poll.duration_ns, d, sizeof d);
	snprintf(m->note, sizeof m->note, "worst %s in %s", d, span_task(w));
	if ((cf = tg_span_culprit(w)))
		cat(m->note, sizeof m->note, " at %s",
		    tg_frame_text(cf, c->in->spec ? c->in->spec->dir : NULL, f, sizeof f));
	if (!m->task)
		m->task = w->task;
}

static void set_message(const struct tg_check *ch, const struct tg_limit *l, const struct meas *m,
			bool failed, char *msg, size_t len)
{
	bool count_first, min = tg_limit_is_min(l->kind);
	const char *label = limit_label(l->kind, &count_first);
	const char *op = failed ? (min ? "<" : ">") : (min ? ">=" : "<=");

	if (count_first)
		snprintf(msg, len, "%s %s %s %s", ch->observed, label, op, l->text);
	else
		snprintf(msg, len, "%s %s %s %s", label, ch->observed, op, l->text);
	if (failed && m->where[0])
		cat(msg, len, " in %s", m->where);
	if (failed && m->note[0])
		cat(msg, len, " (%s)", m->note);
	if (!failed && (m->where[0] || m->note[0]))
		cat(msg, len, " (%s%s%s)", m->where, m->where[0] && m->note[0] ? "; " : "", m->note);
}

static void name_check(struct tg_check *ch, const struct tg_assertion *e, const struct tg_limit *l)
{
	/* what a pass needs: compare() fails a maximum only above it */
	const char *op = tg_limit_is_min(l->kind) ? ">=" : "<=";
	static const char *const sel[] = { [TG_SEL_TASK] = "task", [TG_SEL_FUNCTION] = "function",
					   [TG_SEL_LOAD] = "load" };

	if (e->sel <= TG_SEL_ALL || e->sel > TG_SEL_LOAD || !e->pattern)
		snprintf(ch->classname, sizeof ch->classname, "all");
	else
		snprintf(ch->classname, sizeof ch->classname, "%s=%.300s", sel[e->sel], e->pattern);
	snprintf(ch->name, sizeof ch->name, "%s %s %.40s [%.320s]", tg_limit_name(l->kind), op,
		 l->text ? l->text : "", ch->classname);
	snprintf(ch->limit_text, sizeof ch->limit_text, "%s", l->text ? l->text : "");
}

static void measure(const struct ctx *c, struct meas *m)
{
	enum tg_limit_kind k = c->l->kind;

	if (k <= 0 || k >= TG_LIM__COUNT || c->e->sel < TG_SEL_ALL || c->e->sel > TG_SEL_LOAD) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: unknown limit or selector (a tokio-guard bug)");
	} else if (tg_limit_is_load(k) != (c->e->sel == TG_SEL_LOAD)) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: %s does not apply to %s selectors",
			 tg_limit_name(k), c->e->sel == TG_SEL_LOAD ? "load" : "task and function");
	} else if (c->e->sel == TG_SEL_LOAD) {
		measure_load(c, m);
	} else if (!c->in->probed) {
		m->state = M_SKIP;
		if (c->in->run_error)
			snprintf(m->why, sizeof m->why, "not evaluated: %.180s", c->in->run_error);
		else
			snprintf(m->why, sizeof m->why, "skipped: the probes did not run");
	} else if (c->e->sel == TG_SEL_FUNCTION) {
		if (is_sched_kind(k) || k == TG_LIM_MAX_POLL_REGRESSION) {
			m->state = M_SKIP;
			snprintf(m->why, sizeof m->why, "skipped: %s is measured per task, not per function",
				 tg_limit_name(k));
		} else {
			measure_function(c, m);
		}
	} else if (k == TG_LIM_MAX_BLOCKING_SPANS || k == TG_LIM_MAX_BLOCKING_TIME) {
		measure_spans(c, m, false);
	} else if (k == TG_LIM_MIN_POLLS) {
		m->u = selected_polls(c, m);
	} else if (k == TG_LIM_MAX_POLL_REGRESSION) {
		measure_regression(c, m);
	} else {
		measure_per_task(c, m);
	}
}

static void eval_limit(const struct ctx *c, struct tg_check *ch)
{
	struct meas m = { 0 };
	bool failed;

	ch->group = TG_GROUP_ASSERTION;
	ch->entry = c->e;
	ch->limit = c->l;
	name_check(ch, c->e, c->l);
	measure(c, &m);
	switch (m.state) {
	case M_SKIP:
		ch->status = TG_CHECK_SKIPPED;
		snprintf(ch->message, sizeof ch->message, "%s", m.why);
		return;
	case M_NONE:
		suggest(c, &m);
		if (c->in->run_error) {
			/* the run ended early: nothing says the selection was wrong */
			ch->status = TG_CHECK_SKIPPED;
			snprintf(ch->message, sizeof ch->message, "not evaluated: %.290s%.199s", c->in->run_error,
				 m.hint);
			return;
		}
		ch->status = c->e->allow_missing ? TG_CHECK_SKIPPED : TG_CHECK_FAILED;
		ch->severity = c->e->allow_missing ? 0 : 1;
		snprintf(ch->message, sizeof ch->message, "%s%.280s%.199s",
			 c->e->sel == TG_SEL_LOAD ? "matched no load step" : "matched no polls", m.why, m.hint);
		break;
	case M_FAIL:
		ch->status = TG_CHECK_FAILED;
		ch->severity = 1;
		snprintf(ch->message, sizeof ch->message, "%.250s%s%.250s", m.why, m.where[0] ? " in " : "",
			 m.where);
		break;
	case M_OK:
		format_observed(c->l, &m, ch->observed, sizeof ch->observed);
		failed = compare(c->l, &m, &ch->severity);
		if (tg_limit_unit(c->l->kind) == TG_UNIT_DURATION)
			ch->time_s = (double)m.u / 1e9;
		if (failed) {
			pick_worst(c, ch);
			if (c->l->kind == TG_LIM_MAX_BLOCKING_SPANS || c->l->kind == TG_LIM_MAX_BLOCKING_TIME)
				worst_note(c, ch, &m);
		}
		ch->task = m.task;
		ch->status = failed ? TG_CHECK_FAILED : TG_CHECK_PASSED;
		set_message(ch, c->l, &m, failed, ch->message, sizeof ch->message);
		break;
	}
	if (ch->status == TG_CHECK_FAILED && c->e->warn)
		ch->status = TG_CHECK_WARNED;
}

/* ------------------------------------------------------------ probe and load checks */

/* Forks of the target (a pre-fork server) or the daemon it became run the
 * same program unseen: the run measured one process of several. */
static void unprobed_check(const struct tg_assert_input *in, struct tg_check *c)
{
	char pids[160] = "";
	size_t o = 0, shown = in->nunprobed < 8 ? in->nunprobed : 8;

	for (size_t i = 0; i < shown && o < sizeof pids; i++)
		o += (size_t)snprintf(pids + o, sizeof pids - o, "%s%d", i ? ", " : "", (int)in->unprobed[i]);
	c->group = TG_GROUP_PROBE;
	c->status = TG_CHECK_WARNED;
	snprintf(c->classname, sizeof c->classname, "probe");
	snprintf(c->name, sizeof c->name, "probe: every process of the program probed");
	snprintf(c->observed, sizeof c->observed, "%zu", in->nunprobed);
	snprintf(c->message, sizeof c->message,
		 "%zu other process%s of the target's program (pid %s%s) ran unprobed: only pid %d, "
		 "the one tokio-guard started, is measured", in->nunprobed,
		 in->nunprobed == 1 ? "" : "es", pids, shown < in->nunprobed ? ", ..." : "",
		 (int)in->target_pid);
}

static void probe_checks(const struct tg_assert_input *in, struct tg_check *c)
{
	for (int i = 0; i < 2; i++) {
		c[i].group = TG_GROUP_PROBE;
		snprintf(c[i].classname, sizeof c[i].classname, "probe");
		if (!in->probed) {
			c[i].status = TG_CHECK_SKIPPED;
			snprintf(c[i].message, sizeof c[i].message, "the probes did not run");
		}
	}
	snprintf(c[0].name, sizeof c[0].name, "probe: polls observed");
	snprintf(c[1].name, sizeof c[1].name, "probe: events lost");
	if (!in->probed && in->run_error) {
		/* a CI's test view must show why there is nothing else to see */
		c[0].status = TG_CHECK_FAILED;
		c[0].severity = 1;
		snprintf(c[0].message, sizeof c[0].message, "the probes did not run: %s", in->run_error);
	}
	if (!in->probed)
		return;
	snprintf(c[0].observed, sizeof c[0].observed, "%" PRIu64, in->polls);
	if (in->polls) {
		snprintf(c[0].message, sizeof c[0].message, "%" PRIu64 " runtime polls observed", in->polls);
	} else {
		c[0].status = TG_CHECK_FAILED;
		c[0].severity = 1;
		if (in->run_error) /* why the target ran no task: the run ended early */
			snprintf(c[0].message, sizeof c[0].message, "no runtime polls observed: %.400s",
				 in->run_error);
		else
			snprintf(c[0].message, sizeof c[0].message,
				 "no runtime polls observed: the probes saw no Tokio task run");
	}
	snprintf(c[1].observed, sizeof c[1].observed, "%" PRIu64, in->lost_events);
	if (in->lost_events) {
		c[1].status = TG_CHECK_WARNED;
		/* the reader fell behind the probes: a bigger ring holds a longer
		 * burst, a higher trace floor makes fewer polls events at all */
		snprintf(c[1].message, sizeof c[1].message,
			 "%" PRIu64 " events lost: spans may be missing; raise probe.ring_buffer "
			 "(default 16MB) or report.trace_min_poll (default 100us)", in->lost_events);
	} else {
		snprintf(c[1].message, sizeof c[1].message, "no events lost");
	}
}

static size_t count_steps(const struct tg_step_result *r, size_t n)
{
	size_t total = n;

	for (size_t i = 0; i < n; i++)
		total += count_steps(r[i].children, r[i].nchildren);
	return total;
}

/* The last LINES lines of OUT, at most BYTES of them (a whole line when it can). */
static const char *output_tail(const char *out, size_t lines, size_t bytes)
{
	size_t len = out ? strlen(out) : 0;
	const char *p;

	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
		len--;
	if (!len)
		return NULL;
	for (p = out + len; p > out && lines; p--)
		if (p[-1] == '\n' && --lines == 0)
			break;
	if ((size_t)(out + len - p) > bytes) {
		const char *nl;

		p = out + len - bytes;
		if ((nl = memchr(p, '\n', bytes)) && nl + 1 < out + len)
			p = nl + 1;
	}
	return p;
}

/* ": <the output's last non-empty line>", cut to fit one message line. */
static void last_line(const char *out, char *msg, size_t len)
{
	const char *tail = output_tail(out, 1, 200);
	size_t n = 0;

	if (!tail)
		return;
	while (tail[n] && tail[n] != '\n' && tail[n] != '\r')
		n++;
	cat(msg, len, ": %.*s", (int)n, tail);
}

static void step_message(const struct tg_step_result *r, bool errors_fail, char *msg, size_t len)
{
	struct load_agg *a;
	char d[32], kinds[256];

	if (!r->ok) {
		snprintf(msg, len, "%s", r->error[0] ? r->error : "the step could not run");
		if (r->kind == TG_STEP_EXEC)
			last_line(r->output, msg, len);
		return;
	}
	if (r->kind == TG_STEP_EXEC) {
		if (r->signal)
			snprintf(msg, len, "killed by signal %d", r->signal);
		else
			snprintf(msg, len, "exit %d", r->exit_code);
		return;
	}
	if (r->kind == TG_STEP_SLEEP) {
		tg_format_duration(r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0, d, sizeof d);
		snprintf(msg, len, "slept %s", d);
		return;
	}
	if (r->kind == TG_STEP_PARALLEL && !r->requests) {
		snprintf(msg, len, "ran %zu steps", r->nchildren);
		return;
	}
	if (!(a = calloc(1, sizeof *a))) {
		snprintf(msg, len, "%" PRIu64 " requests, %" PRIu64 " errors", r->requests, r->errors);
		return;
	}
	load_walk(a, "*", r, 1, false);
	tg_format_duration(tg_hist_quantile(a->hist, a->hist_count, 0.99, a->max_ns), d, sizeof d);
	snprintf(msg, len, "%" PRIu64 " request%s, %" PRIu64 " error%s, p99 %s, %.1f/s", a->requests,
		 a->requests == 1 ? "" : "s", a->errors, a->errors == 1 ? "" : "s",
		 a->hist_count ? d : "-", a->throughput);
	if (a->errors) {
		tg_load_errors_text(r, kinds, sizeof kinds);
		cat(msg, len, " (%s)%s", kinds, errors_fail ? ": errors fail the step unless an assertion "
			"on it sets max_errors or max_error_rate" : "");
	}
	free(a);
}

/* An assertion on the step (or on its parent) limits its errors: then they
 * are that assertion's to judge, not the step's. */
static bool errors_limited(const struct tg_spec *spec, const char *name)
{
	for (size_t i = 0; spec && name && i < spec->nassertions; i++) {
		const struct tg_assertion *e = &spec->assertions[i];
		if (e->sel != TG_SEL_LOAD || !e->pattern || !tg_glob_match(e->pattern, name))
			continue;
		for (size_t j = 0; j < e->nlimits; j++)
			if (e->limits[j].kind == TG_LIM_MAX_ERRORS || e->limits[j].kind == TG_LIM_MAX_ERROR_RATE)
				return true;
	}
	return false;
}

/* LIMITED: an assertion on a parent limits the errors of its children. */
static size_t load_checks(const struct tg_spec *spec, const struct tg_step_result *r, size_t n,
			  const char *parent, bool limited, struct tg_check *c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct tg_check *ch = &c[k++];
		bool lim = limited || errors_limited(spec, r[i].name);
		/* a parallel step's errors are its children's: failed there, once */
		bool counted = r[i].errors && !lim && r[i].kind != TG_STEP_PARALLEL;
		bool failed = !r[i].ok || counted;
		char path[320];

		snprintf(path, sizeof path, "%s%s%.300s", parent ? parent : "", parent ? "/" : "",
			 r[i].name ? r[i].name : "?");
		ch->group = TG_GROUP_LOAD;
		ch->status = failed ? TG_CHECK_FAILED : TG_CHECK_PASSED;
		ch->severity = failed ? 1 : 0;
		ch->time_s = r[i].end_ns > r[i].start_ns ? (double)(r[i].end_ns - r[i].start_ns) / 1e9 : 0;
		snprintf(ch->name, sizeof ch->name, "load: %s", path);
		snprintf(ch->classname, sizeof ch->classname, "load");
		step_message(&r[i], r[i].ok && counted, ch->message, sizeof ch->message);
		if (!r[i].ok && r[i].kind == TG_STEP_EXEC)
			ch->output = output_tail(r[i].output, TG_CHECK_OUTPUT_LINES, TG_CHECK_OUTPUT_BYTES);
		k += load_checks(spec, r[i].children, r[i].nchildren, path, lim, c + k);
	}
	return k;
}

/* ------------------------------------------------------------ the whole run */

/* A duplicate name gets " #2", " #3": reporters key testcases by name. */
static void unique_names(struct tg_check *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char base[sizeof c->name];
		bool taken = true;

		memcpy(base, c[i].name, sizeof base);
		for (unsigned k = 1; taken; k++) {
			if (k > 1)
				snprintf(c[i].name, sizeof c[i].name, "%.370s #%u", base, k);
			taken = false;
			for (size_t j = 0; j < i && !taken; j++)
				taken = strcmp(c[j].name, c[i].name) == 0;
		}
	}
}

int tg_assert_eval(const struct tg_assert_input *in, struct tg_check **out, size_t *n)
{
	/* No assertions key: a run must still say whether anything blocked. */
	static struct tg_limit def_limit = { .kind = TG_LIM_MAX_BLOCKING_SPANS, .count = 0, .text = "0" };
	static const struct tg_assertion def_entry = { .sel = TG_SEL_ALL, .limits = &def_limit, .nlimits = 1 };
	const struct tg_spec *spec = in->spec;
	const struct tg_assertion *entries = &def_entry;
	size_t nentries = 1, total = 3 + count_steps(in->steps, in->nsteps), k = 0;
	const char *fns[TG_MAX_FN_SELECTORS];
	size_t nfns = tg_fn_selectors(spec, fns, TG_MAX_FN_SELECTORS);
	struct tg_check *c;

	*out = NULL;
	*n = 0;
	if (spec && spec->has_assertions) {
		entries = spec->assertions;
		nentries = spec->nassertions;
	}
	for (size_t i = 0; i < nentries; i++)
		total += entries[i].limits ? entries[i].nlimits : 0;
	if (!(c = calloc(total, sizeof *c)))
		return -ENOMEM;
	for (size_t i = 0; i < nentries; i++) {
		struct ctx cx = { .in = in, .e = &entries[i], .fn_idx = -1 };
		for (size_t j = 0; entries[i].sel == TG_SEL_FUNCTION && j < nfns; j++)
			if (entries[i].pattern && strcmp(fns[j], entries[i].pattern) == 0)
				cx.fn_idx = (int)j;
		for (size_t j = 0; entries[i].limits && j < entries[i].nlimits; j++) {
			cx.l = &entries[i].limits[j];
			eval_limit(&cx, &c[k++]);
		}
	}
	probe_checks(in, &c[k]);
	k += 2;
	if (in->nunprobed)
		unprobed_check(in, &c[k++]);
	k += load_checks(spec, in->steps, in->nsteps, NULL, false, &c[k]);
	unique_names(c, k);
	*out = c;
	*n = k;
	return 0;
}

void tg_checks_free(struct tg_check *c)
{
	free(c);
}

int tg_checks_exit_code(const struct tg_check *c, size_t n)
{
	return tg_checks_count(c, n, TG_CHECK_FAILED) ? 1 : 0;
}

size_t tg_checks_count(const struct tg_check *c, size_t n, enum tg_check_status st)
{
	size_t k = 0;

	for (size_t i = 0; c && i < n; i++)
		k += c[i].status == st;
	return k;
}

const char *tg_check_status_name(enum tg_check_status s)
{
	switch (s) {
	case TG_CHECK_PASSED: return "passed";
	case TG_CHECK_FAILED: return "failed";
	case TG_CHECK_WARNED: return "warned";
	case TG_CHECK_SKIPPED: return "skipped";
	}
	return "unknown";
}
