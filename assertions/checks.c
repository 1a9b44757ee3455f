/* The spec's assertions checked against what the probes saw. Contract:
 * checks.h and shared/spec.md (assertions, allow). Every (entry, limit) pair
 * becomes one check; probe health and each load step are checks too.
 *
 * This file: allow and selectors, the measurements, one check per (entry, limit)
 * and the whole run; suggest.c says "did you mean", step_checks.c judges the
 * probe's health and each load step (checks_parts.h). */
#include "checks_parts.h"
#include "cpu_profile.h"
#include "frame_text.h"
#include "heap_sites.h"
#include "hist.h"
#include "load.h"
#include "names.h"
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ small helpers */

static const char *span_task(const struct tg_span *s)
{
	return s->task ? s->task : "[unknown task]";
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
	 * scheduling delay limits are skipped, as delay is measured per task.
	 * A span's cascade is any entry's. */
	for (size_t i = 0; spec && i < spec->nassertions; i++)
		for (size_t j = 0; j < spec->assertions[i].nlimits; j++) {
			enum tg_limit_kind k = spec->assertions[i].limits[j].kind;

			if (k == TG_LIM_MAX_DELAYED_TASKS ||
			    ((spec->assertions[i].sel == TG_SEL_TASK || spec->assertions[i].sel == TG_SEL_ALL) &&
			     is_sched_kind(k)))
				return true;
		}
	return false;
}

/* ------------------------------------------------------------ measurements */

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
		tg_cat(m->note, sizeof m->note, "; %zu task%s with < %d polls ignored as noise",
			      noise, noise > 1 ? "s" : "", REGRESSION_MIN_POLLS);
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

/* max_delayed_tasks: the selected span that kept the most tasks waiting for
 * its worker (allowed spans are accepted blocking: their cascade too). */
static void measure_delayed(const struct ctx *c, struct meas *m)
{
	const struct tg_span *w = NULL;
	char sentence[160];

	if (!c->in->sched_measured) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: scheduling delay was not measured "
			 "(probe.scheduling_delay: off, or the binary has no Tokio waker symbols)");
		return;
	}
	for (size_t i = 0; i < c->in->nspans; i++) {
		const struct tg_span *s = &c->in->spans[i];

		if (!s->allowed && s->delayed && span_selected(c, s) &&
		    (!w || s->delayed->tasks > w->delayed->tasks))
			w = s;
	}
	m->u = w ? w->delayed->tasks : 0;
	if (!w)
		return;
	m->task = w->task;
	snprintf(m->where, sizeof m->where, "%s", span_task(w));
	tg_delayed_sentence(w->delayed, w->poll.duration_ns, sentence, sizeof sentence);
	snprintf(m->note, sizeof m->note, "%s", sentence);
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

void load_walk(struct load_agg *a, const char *pat, const struct tg_step_result *r,
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

/* ------------------------------------------------------------ one check */

/* How the message reads the limit: "max poll 23.4ms > 5ms", "3 blocking spans > 0". */
static const char *limit_label(enum tg_limit_kind k, bool *count_first)
{
	*count_first = k == TG_LIM_MAX_BLOCKING_SPANS || k == TG_LIM_MIN_POLLS || k == TG_LIM_MAX_ERRORS ||
		       k == TG_LIM_MAX_DELAYED_TASKS;
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
	case TG_LIM_MAX_CPU_SHARE: return "CPU share";
	case TG_LIM_MAX_SCHEDULING_DELAY: return "max scheduling delay";
	case TG_LIM_P99_SCHEDULING_DELAY: return "p99 scheduling delay";
	case TG_LIM_MAX_DELAYED_TASKS: return "tasks delayed by one span";
	case TG_LIM_MAX_ERRORS: return "errors";
	case TG_LIM_MAX_ERROR_RATE: return "error rate";
	case TG_LIM_P50_LATENCY: return "p50 latency";
	case TG_LIM_P99_LATENCY: return "p99 latency";
	case TG_LIM_MAX_LATENCY: return "max latency";
	case TG_LIM_MIN_THROUGHPUT: return "throughput";
	case TG_LIM_MAX_HEAP_GROWTH: return "heap growth";
	case TG_LIM_MAX_ALLOC_RATE: return "allocation rate";
	case TG_LIM_MAX_WORKER_BUSY: return "worker busy";
	default: return "value";
	}
}

static void format_observed(const struct tg_limit *l, const struct meas *m, char *buf, size_t len)
{
	switch (tg_limit_unit(l->kind)) {
	case TG_UNIT_DURATION: tg_format_duration(m->u, buf, len); break;
	case TG_UNIT_COUNT: snprintf(buf, len, "%" PRIu64, m->u); break;
	case TG_UNIT_RATE: snprintf(buf, len, "%.1f/s", m->d); break;
	case TG_UNIT_BYTES: tg_heap_format_bytes(m->u, buf, len); break;
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
	case TG_UNIT_COUNT:
	case TG_UNIT_BYTES: obs = (double)m->u; lim = (double)l->count; break;
	default: obs = m->d; lim = l->value; break;
	}
	if (tg_limit_is_min(l->kind)) {
		*severity = obs > 0 ? lim / obs : lim + 1;
		return obs < lim;
	}
	*severity = lim > 0 ? obs / lim : obs + 1;
	switch (tg_limit_unit(l->kind)) { /* integers compare exactly */
	case TG_UNIT_DURATION: return m->u > l->ns;
	case TG_UNIT_COUNT:
	case TG_UNIT_BYTES: return m->u > l->count;
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
	/* the worst span's culprit, or when it has none (its stack was lost) the
	 * next worst one's: an annotation belongs on a line of code */
	ch->culprit = NULL;
	for (size_t i = 0; i < n && !ch->culprit; i++)
		ch->culprit = tg_span_culprit(all[i]);
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
		tg_cat(m->note, sizeof m->note, " at %s",
		    tg_frame_text(cf, tg_spec_root(c->in->spec), f, sizeof f));
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
		tg_cat(msg, len, " in %s", m->where);
	if (failed && m->note[0])
		tg_cat(msg, len, " (%s)", m->note);
	if (!failed && (m->where[0] || m->note[0]))
		tg_cat(msg, len, " (%s%s%s)", m->where, m->where[0] && m->note[0] ? "; " : "", m->note);
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

/* The selector's functions' total share: samples with any of them on the stack. */
static void measure_cpu_share(const struct ctx *c, struct meas *m)
{
	bool matched;

	if (!c->in->cpu || !tg_cpu_profile_samples(c->in->cpu)) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: %s", c->in->cpu ?
			 "the CPU profile took no samples of the target" :
			 "no CPU profile: set probe.cpu_profile (samples a second, e.g. 99)");
		return;
	}
	m->d = tg_cpu_profile_share(c->in->cpu, c->e->pattern, &matched);
	if (!matched) {
		m->state = M_NONE;
		snprintf(m->why, sizeof m->why, " (no function of the CPU profile matches %.200s)",
			 c->e->pattern);
	}
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
	} else if (k == TG_LIM_MAX_DELAYED_TASKS) {
		measure_delayed(c, m);
	} else if (k == TG_LIM_MAX_CPU_SHARE) {
		measure_cpu_share(c, m);
	} else if (k == TG_LIM_MAX_HEAP_GROWTH || k == TG_LIM_MAX_ALLOC_RATE) {
		measure_heap(c, m);
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
	} else if (k == TG_LIM_MAX_WORKER_BUSY) {
		measure_worker_busy(c, m);
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
