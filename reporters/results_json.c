// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cpu_report.h"
#include "results_json.h"
#include "workers_json.h"
#include "checks.h"
#include "heap_json.h"
#include "report_file.h"
#include "load.h"
#include "hist.h"
#include "record.h"
#include "spec.h"

uint64_t tg_lost_events(const uint64_t stats[TG_STAT__COUNT], const struct tg_record *rec)
{
	uint64_t lost = stats[TG_STAT_RB_FULL_POLL] + stats[TG_STAT_RB_FULL_SAMPLE] +
			stats[TG_STAT_RB_FULL_OFFCPU] + stats[TG_STAT_RB_FULL_OTHER] +
			stats[TG_STAT_NEST_OVERFLOW];

	return lost + (rec ? tg_record_dropped(rec) : 0);
}

uint64_t tg_results_lost_events(const struct tg_results *r)
{
	if (!r->record && r->saved)
		return tg_lost_events(r->bpf_stats, NULL) + r->saved->user_dropped;
	return tg_lost_events(r->bpf_stats, r->record);
}

/* What the record says, or for a run read back, what its results.json said. */
static uint64_t total_polls(const struct tg_results *r)
{
	return r->record ? tg_record_total_polls(r->record) : r->saved ? r->saved->polls : 0;
}

static const struct tg_span *listed_spans(const struct tg_results *r, size_t *n)
{
	*n = 0;
	if (r->record)
		return tg_record_spans(r->record, n);
	if (!r->saved)
		return NULL;
	*n = r->saved->nspans;
	return r->saved->spans;
}

static const struct tg_fn_summary *fn_summaries(const struct tg_results *r, size_t *n)
{
	*n = 0;
	if (r->record)
		return tg_record_fns(r->record, n);
	if (!r->saved)
		return NULL;
	*n = r->saved->nfns;
	return r->saved->fns;
}

const char *tg_results_root(const struct tg_results *r)
{
	return r ? tg_spec_root(r->spec) : NULL;
}

static cJSON *strings(char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; v && v[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static cJSON *target_json(const struct tg_results *r)
{
	cJSON *t = cJSON_CreateObject(), *ex = cJSON_CreateObject();

	/* the command that ran, not the one an edited spec names now */
	cJSON_AddItemToObject(t, "command", strings(r->saved && r->saved->argv ? r->saved->argv :
						    r->spec->target.argv));
	cJSON_AddStringToObject(t, "executable", r->exe ? r->exe : "");
	cJSON_AddNumberToObject(t, "pid", r->pid);
	cJSON_AddBoolToObject(t, "attached", r->attached);
	if (r->exited && !r->exit_signal)
		cJSON_AddNumberToObject(ex, "code", r->exit_code);
	else
		cJSON_AddNullToObject(ex, "code");
	if (r->exit_signal)
		cJSON_AddNumberToObject(ex, "signal", r->exit_signal);
	else
		cJSON_AddNullToObject(ex, "signal");
	cJSON_AddItemToObject(t, "exit", ex);
	{
		cJSON *pids = cJSON_AddArrayToObject(t, "unprobed_pids");

		for (size_t i = 0; pids && i < r->nunprobed; i++)
			cJSON_AddItemToArray(pids, cJSON_CreateNumber(r->unprobed[i]));
	}
	return t;
}

static const char *const stat_names[TG_STAT__COUNT] = {
	[TG_STAT_RB_FULL_POLL] = "ringbuf_full_poll",
	[TG_STAT_RB_FULL_SAMPLE] = "ringbuf_full_sample",
	[TG_STAT_RB_FULL_OFFCPU] = "ringbuf_full_offcpu",
	[TG_STAT_NEST_OVERFLOW] = "nest_overflow",
	[TG_STAT_UNMATCHED_EXIT] = "unmatched_exit",
	[TG_STAT_NO_STORAGE] = "no_task_storage",
	[TG_STAT_STACK_FAIL] = "stack_failed",
	[TG_STAT_SAMPLES] = "samples",
	[TG_STAT_OFFCPU] = "offcpu_switches",
	[TG_STAT_POLLS] = "polls",
	[TG_STAT_WAKES] = "wakes",
	[TG_STAT_FN_ENTRIES] = "function_entries",
	[TG_STAT_SWITCH_UNPAIRED] = "switch_unpaired",
	[TG_STAT_RB_FULL_OTHER] = "ringbuf_full_other",
};

/* What the memory budgets left out (record/caps.h): a long run keeps the
 * longest polls, spans and stacks, and says how much it did not keep. */
static cJSON *caps_json(const struct tg_results *r)
{
	const struct tg_record_caps *c = r->record ? tg_record_caps(r->record) : &r->saved->caps;
	cJSON *o = cJSON_CreateObject();
	size_t n = 0;

	if (r->record)
		tg_record_spans(r->record, &n);
	cJSON_AddNumberToObject(o, "trace_floor_ns", (double)c->slice_floor_ns);
	cJSON_AddNumberToObject(o, "polls_below_floor", (double)c->slices_dropped);
	cJSON_AddNumberToObject(o, "spans_without_stacks", (double)c->spans_stackless);
	cJSON_AddNumberToObject(o, "spans_not_kept", (double)c->spans_dropped);
	if (!r->record)
		cJSON_AddNumberToObject(o, "spans_unlisted", (double)r->saved->spans_unlisted);
	else
		cJSON_AddNumberToObject(o, "spans_unlisted", n > TG_RESULTS_MAX_SPANS ?
					(double)(n - TG_RESULTS_MAX_SPANS) : 0);
	return o;
}

const char *tg_results_stat_name(int stat)
{
	return stat >= 0 && stat < TG_STAT__COUNT ? stat_names[stat] : NULL;
}

static cJSON *probe_json(const struct tg_results *r)
{
	cJSON *p = cJSON_CreateObject(), *s = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "poll_sites", (double)r->poll_sites);
	cJSON_AddNumberToObject(p, "probes_attached", (double)r->probes_attached);
	cJSON_AddNumberToObject(p, "polls", (double)total_polls(r));
	cJSON_AddNumberToObject(p, "lost_events", (double)tg_results_lost_events(r));
	if (r->record) {
		size_t nslices = 0;

		tg_record_slices(r->record, &nslices);
		cJSON_AddNumberToObject(p, "trace_polls", (double)nslices);
	} else if (r->saved && r->saved->have_trace_polls) {
		cJSON_AddNumberToObject(p, "trace_polls", (double)r->saved->trace_polls);
	}
	/* what `report` needs to decide as the run did */
	cJSON_AddBoolToObject(p, "probed", r->phase_ns[TG_PHASE_ATTACHED] != 0);
	cJSON_AddBoolToObject(p, "scheduling_delay", r->sched_measured);
	cJSON_AddNumberToObject(p, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(p, "blocking_threshold_ns", (double)r->spec->probe.blocking_threshold_ns);
	cJSON_AddNumberToObject(p, "sample_rate", r->spec->probe.sample_rate);
	cJSON_AddStringToObject(p, "sampler", r->sampler ? r->sampler : "off");
	cJSON_AddBoolToObject(p, "frame_pointers", r->frame_pointers);
	cJSON_AddStringToObject(p, "unwind", r->unwind ? r->unwind : "fp");
	cJSON_AddStringToObject(p, "tokio_version", r->tokio_version ? r->tokio_version : "");
	for (int i = 0; i < TG_STAT__COUNT; i++)
		cJSON_AddNumberToObject(s, stat_names[i], (double)r->bpf_stats[i]);
	if (r->record || r->saved)
		cJSON_AddNumberToObject(s, "user_dropped", r->record ? (double)tg_record_dropped(r->record) :
					(double)r->saved->user_dropped);
	cJSON_AddItemToObject(p, "stats", s);
	if (r->record || (r->saved && r->saved->have_caps))
		cJSON_AddItemToObject(p, "capped", caps_json(r));
	return p;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double tg_results_wall_s(const struct tg_results *r)
{
	uint64_t t0 = r ? r->phase_ns[TG_PHASE_START] : 0, now = monotonic_ns();

	return t0 && now > t0 ? (double)(now - t0) / 1e9 : 0;
}

/* Milliseconds from phase A's end to phase B's; -1 when either was never reached. */
static double phase_ms(const struct tg_results *r, enum tg_phase a, enum tg_phase b)
{
	uint64_t ta = r->phase_ns[a], tb = r->phase_ns[b];

	return ta && tb >= ta ? (double)(tb - ta) / 1e6 : -1;
}

/* Where the run's wall time went. teardown: from the end of the load to
 * this file (the last report); writing it is the rest. */
static cJSON *timing_json(const struct tg_results *r)
{
	static const struct {
		const char *key;
		enum tg_phase from, to;
	} spans[] = {
		{ "find_sites_ms", TG_PHASE_START, TG_PHASE_SITES },
		{ "attach_ms", TG_PHASE_SITES, TG_PHASE_ATTACHED },
		{ "ready_ms", TG_PHASE_ATTACHED, TG_PHASE_READY },
		{ "load_ms", TG_PHASE_READY, TG_PHASE_LOAD_END },
		{ "stop_target_ms", TG_PHASE_LOAD_END, TG_PHASE_STOPPED },
		{ "detach_ms", TG_PHASE_STOPPED, TG_PHASE_DETACHED },
		{ "resolve_ms", TG_PHASE_DETACHED, TG_PHASE_RESOLVED },
	};
	cJSON *t;
	uint64_t now = monotonic_ns();

	if (r->saved && r->saved->timing_json && (t = cJSON_Parse(r->saved->timing_json)))
		return t; /* the run's own: re-checking it took no run */
	t = cJSON_CreateObject();

	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		double ms = phase_ms(r, spans[i].from, spans[i].to);

		if (ms >= 0)
			cJSON_AddNumberToObject(t, spans[i].key, ms);
	}
	if (r->phase_ns[TG_PHASE_LOAD_END])
		cJSON_AddNumberToObject(t, "teardown_ms", (double)(now - r->phase_ns[TG_PHASE_LOAD_END]) / 1e6);
	if (r->phase_ns[TG_PHASE_START])
		cJSON_AddNumberToObject(t, "total_ms", (double)(now - r->phase_ns[TG_PHASE_START]) / 1e6);
	return t;
}

/* A histogram as [[bucket, count], ...] of its nonzero buckets (layout in
 * root "hist_layout"): what re-checking quantiles later needs, in little space. */
static void add_hist(cJSON *o, const char *key, const uint64_t *hist)
{
	cJSON *a;

	if (!hist)
		return;
	a = cJSON_AddArrayToObject(o, key);
	for (uint32_t b = 0; a && b < TG_HIST_BUCKETS; b++) {
		cJSON *p;

		if (!hist[b])
			continue;
		p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateNumber(b));
		cJSON_AddItemToArray(p, cJSON_CreateNumber((double)hist[b]));
		cJSON_AddItemToArray(a, p);
	}
}

static cJSON *hist_layout_json(void)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "sub_bits", TG_HIST_SUB_BITS);
	cJSON_AddNumberToObject(o, "max_exp", TG_HIST_MAX_EXP);
	return o;
}

static cJSON *tasks_json(const struct tg_results *r)
{
	cJSON *a = cJSON_CreateArray();
	const struct tg_task_summary *t;
	size_t n = 0;

	/* the session's summaries, when prepared: recomputing them would free
	 * the array other reporters still point into */
	t = r->tasks;
	n = r->ntasks;
	if (!t && r->record)
		t = tg_record_tasks(r->record, &n);
	for (size_t i = 0; t && i < n; i++) {
		cJSON *o;

		if (!t[i].polls)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", t[i].name);
		cJSON_AddStringToObject(o, "kind", t[i].blocking_pool ? "blocking_pool" :
						   t[i].block_on ? "block_on" : "runtime");
		cJSON_AddNumberToObject(o, "polls", (double)t[i].polls);
		cJSON_AddNumberToObject(o, "busy_ns", (double)t[i].busy_ns);
		cJSON_AddNumberToObject(o, "max_poll_ns", (double)t[i].max_ns);
		cJSON_AddNumberToObject(o, "max_poll_wall_ns", (double)t[i].max_wall_ns);
		cJSON_AddNumberToObject(o, "max_own_poll_wall_ns", (double)t[i].max_own_wall_ns);
		cJSON_AddNumberToObject(o, "sites", (double)t[i].sites);
		cJSON_AddNumberToObject(o, "p50_poll_ns", (double)t[i].p50_ns);
		cJSON_AddNumberToObject(o, "p90_poll_ns", (double)t[i].p90_ns);
		cJSON_AddNumberToObject(o, "p99_poll_ns", (double)t[i].p99_ns);
		cJSON_AddNumberToObject(o, "p999_poll_ns", (double)t[i].p999_ns);
		cJSON_AddNumberToObject(o, "blocking_spans", (double)t[i].blocking_spans);
		add_hist(o, "poll_hist", t[i].hist);
		if (t[i].sched_count) {
			cJSON *d = cJSON_AddObjectToObject(o, "scheduling_delay_ns");

			cJSON_AddNumberToObject(d, "count", (double)t[i].sched_count);
			cJSON_AddNumberToObject(d, "p50", (double)t[i].sched_p50_ns);
			cJSON_AddNumberToObject(d, "p99", (double)t[i].sched_p99_ns);
			cJSON_AddNumberToObject(d, "max", (double)t[i].sched_max_ns);
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *frame_json(const struct tg_frame *f, const char *base)
{
	cJSON *o = cJSON_CreateObject();
	char buf[4096];

	cJSON_AddStringToObject(o, "function", f->function ? f->function : "[unknown]");
	if (f->file)
		cJSON_AddStringToObject(o, "file", tg_display_path(f->file, base, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(o, "file");
	cJSON_AddNumberToObject(o, "line", f->line);
	if (f->inlined)
		cJSON_AddBoolToObject(o, "inlined", 1);
	if (f->tail_call)
		cJSON_AddBoolToObject(o, "tail_call", 1);
	return o;
}

static const char *span_kind(const struct tg_span *s)
{
	return s->poll.off_cpu_ns > s->on_cpu_ns ? "off_cpu" : "on_cpu";
}

/* The span's cascade: every task that waited for its worker while it held
 * it; wait_ns is each one's whole wake-to-poll time. */
static void add_delayed(cJSON *o, const struct tg_results *r, const struct tg_span *s)
{
	const struct tg_delayed *d = s->delayed;
	cJSON *j = cJSON_AddObjectToObject(o, "delayed"), *w;

	cJSON_AddNumberToObject(j, "tasks", d ? (double)d->tasks : 0);
	cJSON_AddNumberToObject(j, "total_ns", d ? (double)d->total_ns : 0);
	w = cJSON_AddArrayToObject(j, "worst");
	for (uint32_t i = 0; d && i < d->nworst; i++) {
		const struct tg_delayed_task *t = &d->worst[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "task", t->task ? t->task : "[unknown task]");
		cJSON_AddNumberToObject(e, "task_id", (double)t->task_id);
		cJSON_AddNumberToObject(e, "wait_ns", (double)t->wait_ns);
		if (t->start_ns) /* its poll, when the probes saw it (not read back) */
			cJSON_AddNumberToObject(e, "poll_start_ns", (double)(t->start_ns - r->t0_ns));
		cJSON_AddItemToArray(w, e);
	}
}

static cJSON *span_json(const struct tg_results *r, const struct tg_span *s)
{
	cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateArray();
	const char *base = tg_results_root(r);

	cJSON_AddStringToObject(o, "task", r->record ? tg_record_site_name(r->record, s->poll.site) :
					   s->task ? s->task : "[unknown task]");
	cJSON_AddNumberToObject(o, "task_id", (double)s->poll.task_id);
	cJSON_AddNumberToObject(o, "tid", s->poll.tid);
	cJSON_AddNumberToObject(o, "start_ns", (double)(s->poll.start_ns - r->t0_ns));
	cJSON_AddNumberToObject(o, "duration_ns", (double)s->poll.duration_ns);
	cJSON_AddNumberToObject(o, "own_ns", (double)tg_slice_own_ns(&s->poll));
	cJSON_AddNumberToObject(o, "on_cpu_ns", (double)s->on_cpu_ns);
	cJSON_AddNumberToObject(o, "off_cpu_ns", (double)s->poll.off_cpu_ns);
	cJSON_AddNumberToObject(o, "runqueue_ns", (double)s->poll.runq_ns);
	cJSON_AddStringToObject(o, "kind", span_kind(s));
	cJSON_AddStringToObject(o, "blocking_kind", tg_block_kind_name(s->kind));
	cJSON_AddNumberToObject(o, "samples", s->samples);
	cJSON_AddNumberToObject(o, "stacks", (double)(s->stacks_seen > s->nstacks ? s->stacks_seen : s->nstacks));
	if (s->stacks_dropped)
		cJSON_AddBoolToObject(o, "stacks_dropped", true);
	cJSON_AddBoolToObject(o, "allowed", s->allowed);
	if (s->allowed) {
		cJSON *a = cJSON_AddObjectToObject(o, "allow");

		cJSON_AddStringToObject(a, "function", s->allow_function ? s->allow_function : "");
		cJSON_AddStringToObject(a, "reason", s->allow_reason ? s->allow_reason : "");
	}
	if (s->nfunctions) {
		cJSON *f = cJSON_AddArrayToObject(o, "functions");

		for (size_t i = 0; i < s->nfunctions; i++)
			cJSON_AddItemToArray(f, cJSON_CreateString(s->functions[i]));
	}
	if (s->fn_mask) { /* by glob, not bit: an edited spec numbers its selectors anew */
		const char *globs[TG_MAX_FN_SELECTORS];
		size_t n = tg_fn_selectors(r->spec, globs, TG_MAX_FN_SELECTORS);
		cJSON *f = cJSON_AddArrayToObject(o, "function_selectors");

		for (size_t i = 0; i < n && i < 64; i++)
			if (s->fn_mask >> i & 1)
				cJSON_AddItemToArray(f, cJSON_CreateString(globs[i]));
	}
	if (tg_span_culprit(s)) {
		cJSON_AddItemToObject(o, "culprit", frame_json(tg_span_culprit(s), base));
		cJSON_AddNumberToObject(o, "culprit_frame", s->culprit); /* its index in stack */
	}
	else
		cJSON_AddNullToObject(o, "culprit");
	for (int i = 0; i < s->nframes; i++)
		cJSON_AddItemToArray(st, frame_json(&s->frames[i], base));
	cJSON_AddItemToObject(o, "stack", st);
	if (s->stack_truncated) /* the walk ran out of copied stack: raise probe.stack_copy */
		cJSON_AddBoolToObject(o, "stack_truncated", true);
	if (r->sched_measured || s->delayed)
		add_delayed(o, r, s);
	return o;
}

static int by_start(const void *a, const void *b)
{
	const struct tg_span *x = *(const struct tg_span *const *)a, *y = *(const struct tg_span *const *)b;

	return x->poll.start_ns < y->poll.start_ns ? -1 : x->poll.start_ns > y->poll.start_ns;
}

/* Every span in the order they happened; past TG_RESULTS_MAX_SPANS, the
 * longest that many (probe.capped.spans_unlisted says how many are not). */
static cJSON *spans_json(const struct tg_results *r)
{
	cJSON *a = cJSON_CreateArray();
	const struct tg_span *s, **pick;
	size_t n = 0;

	s = listed_spans(r, &n);
	if (n <= TG_RESULTS_MAX_SPANS || !r->spans || r->nspans != n) {
		for (size_t i = 0; s && i < n; i++)
			cJSON_AddItemToArray(a, span_json(r, &s[i]));
		return a;
	}
	pick = malloc(TG_RESULTS_MAX_SPANS * sizeof(*pick));
	if (!pick)
		return a;
	memcpy(pick, r->spans, TG_RESULTS_MAX_SPANS * sizeof(*pick)); /* longest first */
	qsort(pick, TG_RESULTS_MAX_SPANS, sizeof(*pick), by_start);
	for (size_t i = 0; i < TG_RESULTS_MAX_SPANS; i++)
		cJSON_AddItemToArray(a, span_json(r, pick[i]));
	free(pick);
	return a;
}

static cJSON *step_json(const struct tg_step_result *s, uint64_t t0)
{
	static const char *const err_names[TG_LERR__COUNT] = {
		[TG_LERR_CONNECT] = "connect", [TG_LERR_TIMEOUT] = "timeout",
		[TG_LERR_STATUS] = "status", [TG_LERR_EXPECT] = "expect", [TG_LERR_IO] = "io",
	};
	static const double qs[3] = { 0.5, 0.9, 0.99 };
	static const char *const qnames[3] = { "p50", "p90", "p99" };
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject(), *l = cJSON_CreateObject();
	const char *kind = s->kind == TG_STEP_EXEC ? "exec" : s->kind == TG_STEP_SLEEP ? "sleep" :
			   s->kind == TG_STEP_HTTP ? "http" : s->kind == TG_STEP_TCP ? "tcp" :
			   s->kind == TG_STEP_PARALLEL ? "parallel" : "step";
	uint64_t n = 0;

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddBoolToObject(o, "ok", s->ok);
	cJSON_AddNumberToObject(o, "start_ns", s->start_ns > t0 ? (double)(s->start_ns - t0) : 0);
	cJSON_AddNumberToObject(o, "duration_ns", s->end_ns > s->start_ns ? (double)(s->end_ns - s->start_ns) : 0);
	if (!s->ok)
		cJSON_AddStringToObject(o, "error", s->error);
	if (s->kind == TG_STEP_EXEC) {
		cJSON_AddNumberToObject(o, "exit_code", s->exit_code);
		cJSON_AddNumberToObject(o, "signal", s->signal);
	}
	cJSON_AddNumberToObject(o, "requests", (double)s->requests);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	for (int k = 0; k < TG_LERR__COUNT; k++)
		cJSON_AddNumberToObject(e, err_names[k], (double)s->errors_by_kind[k]);
	cJSON_AddItemToObject(o, "errors_by_kind", e);
	for (size_t b = 0; s->latency_hist && b < TG_HIST_BUCKETS; b++)
		n += s->latency_hist[b];
	for (int q = 0; q < 3; q++)
		cJSON_AddNumberToObject(l, qnames[q], n ? (double)tg_hist_quantile(
			(const __u64 *)s->latency_hist, n, qs[q], s->latency_max_ns) : 0);
	cJSON_AddNumberToObject(l, "max", (double)s->latency_max_ns);
	cJSON_AddItemToObject(o, "latency_ns", l);
	add_hist(o, "latency_hist", s->latency_hist);
	cJSON_AddNumberToObject(o, "throughput_per_s", s->throughput_per_s);
	if (s->output)
		cJSON_AddStringToObject(o, "output", s->output);
	if (s->kind == TG_STEP_PARALLEL || s->nchildren) {
		cJSON *c = cJSON_CreateArray();

		for (size_t i = 0; i < s->nchildren; i++)
			cJSON_AddItemToArray(c, step_json(&s->children[i], t0));
		cJSON_AddItemToObject(o, "children", c);
	}
	return o;
}

static cJSON *load_json(const struct tg_results *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->nsteps; i++)
		cJSON_AddItemToArray(a, step_json(&r->steps[i], r->t0_ns));
	return a;
}

static cJSON *functions_json(const struct tg_results *r)
{
	cJSON *a = cJSON_CreateArray();
	const struct tg_fn_summary *f;
	size_t n = 0;

	f = fn_summaries(r, &n);
	for (size_t i = 0; f && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "function", f[i].pattern ? f[i].pattern : "");
		cJSON_AddNumberToObject(o, "symbols_probed", (double)f[i].symbols);
		cJSON_AddNumberToObject(o, "polls", (double)f[i].polls);
		cJSON_AddNumberToObject(o, "max_poll_ns", (double)f[i].max_ns);
		cJSON_AddNumberToObject(o, "max_poll_wall_ns", (double)f[i].max_wall_ns);
		cJSON_AddNumberToObject(o, "p50_poll_ns", (double)f[i].p50_ns);
		cJSON_AddNumberToObject(o, "max_own_poll_wall_ns", (double)f[i].max_own_wall_ns);
		cJSON_AddNumberToObject(o, "busy_ns", (double)f[i].busy_ns);
		cJSON_AddNumberToObject(o, "p90_poll_ns", (double)f[i].p90_ns);
		cJSON_AddNumberToObject(o, "p99_poll_ns", (double)f[i].p99_ns);
		cJSON_AddNumberToObject(o, "p999_poll_ns", (double)f[i].p999_ns);
		add_hist(o, "poll_hist", f[i].hist);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *check_json(const struct tg_results *r, const struct tg_check *c)
{
	static const char *const groups[] = { "assertion", "probe", "load" };
	cJSON *o = cJSON_CreateObject();
	char loc[4096];

	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "group", groups[c->group]);
	cJSON_AddStringToObject(o, "selector", c->classname);
	cJSON_AddStringToObject(o, "status", tg_check_status_name(c->status));
	cJSON_AddStringToObject(o, "observed", c->observed);
	cJSON_AddStringToObject(o, "limit", c->limit_text);
	cJSON_AddStringToObject(o, "message", c->message);
	if (c->entry)
		cJSON_AddBoolToObject(o, "warn_only", c->entry->warn);
	if (c->task)
		cJSON_AddStringToObject(o, "task", c->task);
	if (c->culprit && tg_frame_location(c->culprit, tg_results_root(r), loc, sizeof(loc))[0])
		cJSON_AddStringToObject(o, "culprit", tg_frame_text(c->culprit, tg_results_root(r), loc, sizeof(loc)));
	return o;
}

static cJSON *checks_json(const struct tg_results *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->nchecks; i++)
		cJSON_AddItemToArray(a, check_json(r, &r->checks[i]));
	return a;
}

static cJSON *results_json(const struct tg_results *r)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddStringToObject(root, "tokio_guard", TG_VERSION);
	cJSON_AddStringToObject(root, "spec", r->spec->path);
	{ /* where `report` finds it again, from any folder */
		char abs[PATH_MAX];

		if (realpath(r->spec->path, abs))
			cJSON_AddStringToObject(root, "spec_file", abs);
	}
	if (tg_results_root(r)) /* where the relative source paths below start */
		cJSON_AddStringToObject(root, "source_root", tg_results_root(r));
	cJSON_AddStringToObject(root, "name", r->spec->name);
	if (r->kernel)
		cJSON_AddStringToObject(root, "kernel", r->kernel);
	cJSON_AddNumberToObject(root, "exit_code", r->status);
	if (r->error)
		cJSON_AddStringToObject(root, "error", r->error);
	else
		cJSON_AddNullToObject(root, "error");
	cJSON_AddItemToObject(root, "target", target_json(r));
	cJSON_AddItemToObject(root, "probe", probe_json(r));
	cJSON_AddItemToObject(root, "timing", timing_json(r));
	cJSON_AddItemToObject(root, "hist_layout", hist_layout_json());
	cJSON_AddItemToObject(root, "tasks", tasks_json(r));
	cJSON_AddItemToObject(root, "blocking_spans", spans_json(r));
	cJSON_AddItemToObject(root, "workers", tg_workers_json(r->workers, r->nworkers));
	cJSON_AddItemToObject(root, "load", load_json(r));
	cJSON_AddItemToObject(root, "function_selectors", functions_json(r));
	if (r->cpu_profile)
		cJSON_AddItemToObject(root, "cpu_profile", tg_cpu_profile_json(r));
	cJSON_AddItemToObject(root, "assertions", checks_json(r));
	if (r->heap)
		cJSON_AddItemToObject(root, "heap", tg_heap_json(r->heap, tg_results_root(r)));
	return root;
}

int tg_results_write(const char *path, const struct tg_results *r, char *err, size_t errlen)
{
	cJSON *root = results_json(r);
	char *text = cJSON_Print(root), tmp[4096 + 32];
	FILE *f;
	int fd, e = 0;

	cJSON_Delete(root);
	if (!text) {
		snprintf(err, errlen, "cannot build %s: out of memory", path);
		return -ENOMEM;
	}
	fd = tg_report_open(path, tmp, sizeof(tmp));
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd < 0)
		e = -fd;
	else if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0)
		e = errno ? errno : EIO;
	if (f && fclose(f) && !e)
		e = errno;
	else if (!f && fd >= 0)
		close(fd);
	if (fd >= 0)
		e = -tg_report_commit(tmp, path, -e);
	free(text);
	if (e)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
	return -e;
}
