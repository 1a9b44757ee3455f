// SPDX-License-Identifier: MIT
/* results.json back into tasks, spans, function selectors and load steps, as
 * the run held them when it checked its assertions. Field by field the
 * inverse of results_json.c; a field the file lacks reads as the run's zero. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "results_load.h"
#include "heap_json.h"
#include "json_file.h"
#include "checks.h"
#include "spec.h"
#include "workers.h"

#define get(o, k) cJSON_GetObjectItemCaseSensitive((o), (k))

/* One line of what is wrong, and -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static uint64_t u64_or0(const cJSON *o, const char *key)
{
	uint64_t v = 0;

	return tg_json_u64(o, key, &v) ? v : 0;
}

/* WHERE.KEY must be a count or nanoseconds when present. */
static int req_u64(const cJSON *o, const char *key, uint64_t *v, const char *where, char *why, size_t len)
{
	if (tg_json_u64(o, key, v))
		return 0;
	return bad(why, len, "%s.%s is not a non-negative number", where, key);
}

/* [[bucket, count], ...] into TG_HIST_BUCKETS counts (NULL when absent). */
static int read_hist(const cJSON *a, uint64_t **out, const char *where, char *why, size_t len)
{
	const cJSON *p;

	*out = NULL;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return bad(why, len, "%s is not an array of [bucket, count]", where);
	if (!(*out = calloc(TG_HIST_BUCKETS, sizeof(**out))))
		return -ENOMEM;
	cJSON_ArrayForEach(p, a) {
		const cJSON *b = cJSON_GetArrayItem(p, 0), *n = cJSON_GetArrayItem(p, 1);

		if (!cJSON_IsNumber(b) || !cJSON_IsNumber(n) || b->valuedouble < 0 ||
		    b->valuedouble >= TG_HIST_BUCKETS || n->valuedouble < 0)
			return bad(why, len, "%s holds a bad [bucket, count] (buckets are 0..%u)", where,
				   TG_HIST_BUCKETS - 1);
		(*out)[(uint32_t)b->valuedouble] += (uint64_t)n->valuedouble;
	}
	return 0;
}

static int read_layout(const cJSON *doc, char *why, size_t len)
{
	const cJSON *l = get(doc, "hist_layout");

	if (!l) /* written before histograms were kept: none to decode */
		return 0;
	if (tg_json_num(l, "sub_bits", -1) != TG_HIST_SUB_BITS || tg_json_num(l, "max_exp", -1) != TG_HIST_MAX_EXP)
		return bad(why, len, "hist_layout is sub_bits %g, max_exp %g; this tokio-guard reads %d, %d",
			   tg_json_num(l, "sub_bits", -1), tg_json_num(l, "max_exp", -1),
			   TG_HIST_SUB_BITS, TG_HIST_MAX_EXP);
	return 0;
}

static int read_task(const cJSON *o, size_t i, struct tg_task_summary *t, char *why, size_t len)
{
	static const char *const keys[] = { "polls", "busy_ns", "max_poll_ns", "p50_poll_ns",
					    "p99_poll_ns", "blocking_spans" };
	uint64_t *dst[] = { &t->polls, &t->busy_ns, &t->max_ns, &t->p50_ns, &t->p99_ns,
			    &t->blocking_spans };
	const char *kind = tg_json_str(o, "kind");
	const cJSON *d = get(o, "scheduling_delay_ns");
	char where[64];
	int rc;

	snprintf(where, sizeof(where), "tasks[%zu]", i);
	if (!cJSON_IsObject(o))
		return bad(why, len, "%s is not an object", where);
	if (!(t->name = tg_json_str(o, "name")))
		return bad(why, len, "%s.name is not a string", where);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if ((rc = req_u64(o, keys[k], dst[k], where, why, len)))
			return rc;
	t->blocking_pool = kind && !strcmp(kind, "blocking_pool");
	t->block_on = kind && !strcmp(kind, "block_on");
	t->sites = (size_t)u64_or0(o, "sites");
	t->max_wall_ns = u64_or0(o, "max_poll_wall_ns");
	t->max_own_wall_ns = u64_or0(o, "max_own_poll_wall_ns");
	t->p90_ns = u64_or0(o, "p90_poll_ns");
	t->p999_ns = u64_or0(o, "p999_poll_ns");
	if (cJSON_IsObject(d)) {
		t->sched_count = u64_or0(d, "count");
		t->sched_p50_ns = u64_or0(d, "p50");
		t->sched_p99_ns = u64_or0(d, "p99");
		t->sched_max_ns = u64_or0(d, "max");
	}
	snprintf(where, sizeof(where), "tasks[%zu].poll_hist", i);
	return read_hist(get(o, "poll_hist"), (uint64_t **)&t->hist, where, why, len);
}

static int read_frame(const cJSON *o, struct tg_frame *f)
{
	const char *fn = tg_json_str(o, "function");

	if (!cJSON_IsObject(o))
		return -EINVAL;
	/* file as written: already relative to the root, and tg_display_path keeps it */
	f->function = (char *)(fn ? fn : "[unknown]");
	f->file = (char *)tg_json_str(o, "file");
	f->line = (int)tg_json_num(o, "line", 0);
	f->inlined = tg_json_bool(o, "inlined", false);
	f->tail_call = tg_json_bool(o, "tail_call", false);
	return 0;
}

static bool same_frame(const struct tg_frame *a, const struct tg_frame *b)
{
	return !strcmp(a->function, b->function) && a->line == b->line &&
	       (a->file ? b->file && !strcmp(a->file, b->file) : !b->file);
}

static enum tg_block_kind block_kind(const char *name)
{
	for (int k = TG_BLOCK_UNKNOWN; name && k <= TG_BLOCK_WAIT; k++)
		if (!strcmp(tg_block_kind_name((enum tg_block_kind)k), name))
			return (enum tg_block_kind)k;
	return TG_BLOCK_UNKNOWN;
}

static int read_functions(const cJSON *a, struct tg_span *s)
{
	const cJSON *f;
	size_t n = (size_t)cJSON_GetArraySize(a);

	if (!cJSON_IsArray(a) || !n)
		return 0;
	if (!(s->functions = calloc(n, sizeof(*s->functions))))
		return -ENOMEM;
	cJSON_ArrayForEach(f, a)
		if (cJSON_IsString(f))
			s->functions[s->nfunctions++] = f->valuestring;
	return 0;
}

static int read_stack(const cJSON *o, struct tg_span *s, const char *where, char *why, size_t len)
{
	const cJSON *st = get(o, "stack"), *f, *c = get(o, "culprit");
	struct tg_frame culprit = { 0 };
	int idx = (int)tg_json_num(o, "culprit_frame", -1);

	s->culprit = -1;
	if (!cJSON_IsArray(st))
		return bad(why, len, "%s.stack is not an array", where);
	if (cJSON_GetArraySize(st) > 0 &&
	    !(s->frames = calloc((size_t)cJSON_GetArraySize(st), sizeof(*s->frames))))
		return -ENOMEM;
	cJSON_ArrayForEach(f, st)
		if (read_frame(f, &s->frames[s->nframes]) == 0)
			s->nframes++;
	if (!cJSON_IsObject(c) || read_frame(c, &culprit))
		return 0;
	if (idx >= 0 && idx < s->nframes && same_frame(&s->frames[idx], &culprit)) {
		s->culprit = idx;
		return 0;
	}
	for (int i = 0; i < s->nframes && s->culprit < 0; i++) /* older files: by content */
		if (same_frame(&s->frames[i], &culprit))
			s->culprit = i;
	return 0;
}

/* blocking_spans[].delayed (absent when scheduling delay was off). */
static int read_delayed(const cJSON *o, struct tg_span *s)
{
	const cJSON *w, *e;

	if (!cJSON_IsObject(o))
		return 0;
	if (!(s->delayed = calloc(1, sizeof(*s->delayed))))
		return -ENOMEM;
	s->delayed->tasks = u64_or0(o, "tasks");
	s->delayed->total_ns = u64_or0(o, "total_ns");
	w = get(o, "worst");
	cJSON_ArrayForEach(e, w) {
		struct tg_delayed_task *t = &s->delayed->worst[s->delayed->nworst];

		if (s->delayed->nworst == TG_DELAYED_KEEP || !cJSON_IsObject(e))
			break;
		t->task = tg_json_str(e, "task");
		t->task_id = u64_or0(e, "task_id");
		t->wait_ns = u64_or0(e, "wait_ns");
		t->tid = s->poll.tid;
		s->delayed->nworst++;
	}
	return 0;
}

static int read_span(const cJSON *o, size_t i, struct tg_span *s, char *why, size_t len)
{
	static const char *const keys[] = { "start_ns", "duration_ns" };
	uint64_t *dst[] = { &s->poll.start_ns, &s->poll.duration_ns };
	char where[64];
	int rc;

	snprintf(where, sizeof(where), "blocking_spans[%zu]", i);
	if (!cJSON_IsObject(o))
		return bad(why, len, "%s is not an object", where);
	if (!(s->task = tg_json_str(o, "task")))
		return bad(why, len, "%s.task is not a string", where);
	for (size_t k = 0; k < 2; k++)
		if ((rc = req_u64(o, keys[k], dst[k], where, why, len)))
			return rc;
	s->poll.task_id = u64_or0(o, "task_id");
	s->poll.tid = (uint32_t)u64_or0(o, "tid");
	s->poll.off_cpu_ns = u64_or0(o, "off_cpu_ns");
	s->poll.runq_ns = u64_or0(o, "runqueue_ns");
	s->on_cpu_ns = u64_or0(o, "on_cpu_ns");
	s->samples = (uint32_t)u64_or0(o, "samples");
	s->stacks_seen = (size_t)u64_or0(o, "stacks");
	s->stacks_dropped = tg_json_bool(o, "stacks_dropped", false);
	s->stack_truncated = tg_json_bool(o, "stack_truncated", false);
	s->kind = block_kind(tg_json_str(o, "blocking_kind"));
	if ((rc = read_delayed(get(o, "delayed"), s)))
		return bad(why, len, "%s.delayed: out of memory", where);
	if ((rc = read_functions(get(o, "functions"), s)))
		return rc;
	return read_stack(o, s, where, why, len);
}

static int read_fn(const cJSON *o, size_t i, struct tg_fn_summary *f, char *why, size_t len)
{
	char where[64];

	snprintf(where, sizeof(where), "function_selectors[%zu]", i);
	if (!cJSON_IsObject(o) || !(f->pattern = tg_json_str(o, "function")))
		return bad(why, len, "%s has no \"function\" string", where);
	f->symbols = (size_t)u64_or0(o, "symbols_probed");
	f->polls = u64_or0(o, "polls");
	f->busy_ns = u64_or0(o, "busy_ns");
	f->max_ns = u64_or0(o, "max_poll_ns");
	f->max_wall_ns = u64_or0(o, "max_poll_wall_ns");
	f->max_own_wall_ns = u64_or0(o, "max_own_poll_wall_ns");
	f->p50_ns = u64_or0(o, "p50_poll_ns");
	f->p90_ns = u64_or0(o, "p90_poll_ns");
	f->p99_ns = u64_or0(o, "p99_poll_ns");
	f->p999_ns = u64_or0(o, "p999_poll_ns");
	snprintf(where, sizeof(where), "function_selectors[%zu].poll_hist", i);
	return read_hist(get(o, "poll_hist"), (uint64_t **)&f->hist, where, why, len);
}

static int step_kind(const char *k)
{
	static const char *const names[] = { [TG_STEP_EXEC] = "exec", [TG_STEP_SLEEP] = "sleep",
					     [TG_STEP_HTTP] = "http", [TG_STEP_TCP] = "tcp",
					     [TG_STEP_PARALLEL] = "parallel" };

	for (int i = TG_STEP_EXEC; k && i <= TG_STEP_PARALLEL; i++)
		if (!strcmp(names[i], k))
			return i;
	return 0;
}

static int read_steps(const cJSON *a, struct tg_step_result **out, size_t *n, const char *where,
		      char *why, size_t len);

static int read_step(const cJSON *o, struct tg_step_result *s, const char *where, char *why, size_t len)
{
	static const char *const err_names[TG_LERR__COUNT] = {
		[TG_LERR_CONNECT] = "connect", [TG_LERR_TIMEOUT] = "timeout",
		[TG_LERR_STATUS] = "status", [TG_LERR_EXPECT] = "expect", [TG_LERR_IO] = "io",
	};
	const cJSON *e = get(o, "errors_by_kind"), *l = get(o, "latency_ns");
	const char *error = tg_json_str(o, "error"), *output = tg_json_str(o, "output");
	char sub[128];
	int rc;

	if (!cJSON_IsObject(o) || !(s->name = tg_json_str(o, "name")))
		return bad(why, len, "%s has no \"name\" string", where);
	s->kind = step_kind(tg_json_str(o, "kind"));
	s->ok = tg_json_bool(o, "ok", true);
	s->start_ns = u64_or0(o, "start_ns");
	s->end_ns = s->start_ns + u64_or0(o, "duration_ns");
	s->exit_code = (int)tg_json_num(o, "exit_code", 0);
	s->signal = (int)tg_json_num(o, "signal", 0);
	snprintf(s->error, sizeof(s->error), "%s", error ? error : "");
	s->requests = u64_or0(o, "requests");
	s->errors = u64_or0(o, "errors");
	for (int k = 0; cJSON_IsObject(e) && k < TG_LERR__COUNT; k++)
		s->errors_by_kind[k] = u64_or0(e, err_names[k]);
	s->latency_max_ns = cJSON_IsObject(l) ? u64_or0(l, "max") : 0;
	s->throughput_per_s = tg_json_num(o, "throughput_per_s", 0);
	if (output && !(s->output = strdup(output)))
		return -ENOMEM;
	snprintf(sub, sizeof(sub), "%.100s.latency_hist", where);
	if ((rc = read_hist(get(o, "latency_hist"), &s->latency_hist, sub, why, len)))
		return rc;
	snprintf(sub, sizeof(sub), "%.100s.children", where);
	return read_steps(get(o, "children"), &s->children, &s->nchildren, sub, why, len);
}

static int read_steps(const cJSON *a, struct tg_step_result **out, size_t *n, const char *where,
		      char *why, size_t len)
{
	const cJSON *o;
	char sub[128];
	int rc;

	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return bad(why, len, "%s is not an array", where);
	if (!cJSON_GetArraySize(a) || !(*out = calloc((size_t)cJSON_GetArraySize(a), sizeof(**out))))
		return cJSON_GetArraySize(a) ? -ENOMEM : 0;
	cJSON_ArrayForEach(o, a) {
		snprintf(sub, sizeof(sub), "%.100s[%zu]", where, *n);
		rc = read_step(o, &(*out)[(*n)++], sub, why, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* workers[]: absent from files of runs before worker utilization. */
static int read_worker(const cJSON *o, size_t i, struct tg_worker_util *w, char *why, size_t len)
{
	const cJSON *tl = get(o, "timeline"), *pt;

	if (!cJSON_IsObject(o))
		return bad(why, len, "workers[%zu] is not an object", i);
	w->tid = (uint32_t)u64_or0(o, "tid");
	w->name = tg_json_str(o, "name");
	w->busy_pct = tg_json_num(o, "busy_pct", 0);
	w->blocked_pct = tg_json_num(o, "blocked_pct", 0);
	w->idle_pct = tg_json_num(o, "idle_pct", 100 - w->busy_pct);
	w->busy_ns = u64_or0(o, "busy_ns");
	w->blocked_ns = u64_or0(o, "blocked_ns");
	if (!cJSON_IsArray(tl) || !cJSON_GetArraySize(tl))
		return 0;
	if (!(w->timeline = calloc((size_t)cJSON_GetArraySize(tl), sizeof(*w->timeline))))
		return -ENOMEM;
	cJSON_ArrayForEach(pt, tl)
		w->timeline[w->nseconds++] = cJSON_IsArray(pt) && cJSON_IsNumber(cJSON_GetArrayItem(pt, 1)) ?
					     cJSON_GetArrayItem(pt, 1)->valuedouble : 0;
	return 0;
}

/* Every element of DOC's array KEY through READ into a new array of SIZE each. */
#define READ_ARRAY(doc, key, arr, n, read, why, len) ({                                   \
	const cJSON *a_ = get(doc, key), *o_;                                              \
	int rc_ = 0;                                                                       \
	if (a_ && !cJSON_IsArray(a_))                                                      \
		rc_ = bad(why, len, "\"%s\" is not an array", key);                        \
	else if (cJSON_GetArraySize(a_) > 0 &&                                             \
		 !((arr) = calloc((size_t)cJSON_GetArraySize(a_), sizeof(*(arr)))))         \
		rc_ = -ENOMEM;                                                             \
	cJSON_ArrayForEach(o_, a_) {                                                       \
		if (rc_)                                                                   \
			break;                                                             \
		rc_ = read(o_, (n), &(arr)[(n)], why, len);                                \
		(n)++; /* a half-read element is freed with the others */                  \
	}                                                                                  \
	rc_; })

static void read_probe(const cJSON *doc, struct tg_saved_run *run)
{
	const cJSON *p = get(doc, "probe"), *st = get(p, "stats"), *c = get(p, "capped");
	struct tg_results *r = &run->res;
	struct tg_results_saved *s = &run->saved;

	r->poll_sites = (size_t)u64_or0(p, "poll_sites");
	r->probes_attached = (size_t)u64_or0(p, "probes_attached");
	s->polls = u64_or0(p, "polls");
	s->have_trace_polls = tg_json_u64(p, "trace_polls", &s->trace_polls);
	r->duration_s = tg_json_num(p, "duration_s", 0);
	r->sampler = tg_json_str(p, "sampler");
	r->frame_pointers = tg_json_bool(p, "frame_pointers", false);
	r->unwind = tg_json_str(p, "unwind");
	r->tokio_version = tg_json_str(p, "tokio_version");
	if (!r->tokio_version)
		r->tokio_version = "";
	for (int i = 0; i < TG_STAT__COUNT; i++)
		r->bpf_stats[i] = u64_or0(st, tg_results_stat_name(i));
	s->user_dropped = u64_or0(st, "user_dropped");
	if (cJSON_IsObject(c)) {
		s->have_caps = true;
		s->caps.slice_floor_ns = u64_or0(c, "trace_floor_ns");
		s->caps.slices_dropped = u64_or0(c, "polls_below_floor");
		s->caps.spans_stackless = u64_or0(c, "spans_without_stacks");
		s->caps.spans_dropped = u64_or0(c, "spans_not_kept");
		s->spans_unlisted = u64_or0(c, "spans_unlisted");
	}
	/* files from before these keys: attached when probes were, scheduling when a task has it */
	run->probed = tg_json_bool(p, "probed", r->probes_attached > 0);
	r->sched_measured = tg_json_bool(p, "scheduling_delay", false);
	for (size_t i = 0; !get(p, "scheduling_delay") && i < run->ntasks; i++)
		r->sched_measured |= run->tasks[i].sched_count > 0;
}

static int read_target(const cJSON *doc, struct tg_saved_run *run)
{
	const cJSON *t = get(doc, "target"), *cmd = get(t, "command"), *pids = get(t, "unprobed_pids"), *x;
	const cJSON *ex = get(t, "exit");
	struct tg_results *r = &run->res;
	size_t n = 0;

	r->exe = tg_json_str(t, "executable");
	r->pid = (pid_t)tg_json_num(t, "pid", 0);
	if (cJSON_IsNumber(get(ex, "code")) || cJSON_IsNumber(get(ex, "signal"))) {
		r->exited = true;
		r->exit_code = (int)tg_json_num(ex, "code", 0);
		r->exit_signal = (int)tg_json_num(ex, "signal", 0);
	}
	if (cJSON_IsArray(cmd)) {
		if (!(run->saved.argv = calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(char *))))
			return -ENOMEM;
		cJSON_ArrayForEach(x, cmd)
			if (cJSON_IsString(x))
				run->saved.argv[n++] = x->valuestring;
	}
	if (cJSON_IsArray(pids) && cJSON_GetArraySize(pids) > 0) {
		if (!(run->unprobed = calloc((size_t)cJSON_GetArraySize(pids), sizeof(pid_t))))
			return -ENOMEM;
		cJSON_ArrayForEach(x, pids)
			if (cJSON_IsNumber(x))
				run->unprobed[r->nunprobed++] = (pid_t)x->valuedouble;
	}
	r->unprobed = run->unprobed;
	return 0;
}

static int read_doc(const cJSON *doc, struct tg_saved_run *run, char *why, size_t len)
{
	const cJSON *timing = get(doc, "timing");
	struct tg_results *r = &run->res;
	int rc;

	if ((rc = tg_json_check_results(doc, why, len)) || (rc = read_layout(doc, why, len)))
		return rc;
	if ((rc = READ_ARRAY(doc, "tasks", run->tasks, run->ntasks, read_task, why, len)) ||
	    (rc = READ_ARRAY(doc, "blocking_spans", run->spans, run->nspans, read_span, why, len)) ||
	    (rc = READ_ARRAY(doc, "function_selectors", run->file_fns, run->nfile_fns, read_fn, why, len)) ||
	    (rc = READ_ARRAY(doc, "workers", run->workers, run->nworkers, read_worker, why, len)) ||
	    (rc = read_steps(get(doc, "load"), &run->steps, &run->nsteps, "load", why, len)) ||
	    (rc = read_target(doc, run)))
		return rc;
	read_probe(doc, run);
	if (get(doc, "heap")) {
		if ((rc = tg_heap_from_json(get(doc, "heap"), &run->heap)))
			return rc;
		run->have_heap = true;
		r->heap = &run->heap;
	}
	run->spec_given = tg_json_str(doc, "spec");
	run->spec_file = tg_json_str(doc, "spec_file");
	if (!run->spec_file)
		run->spec_file = run->spec_given;
	run->exit_code = (int)tg_json_num(doc, "exit_code", 0);
	run->error = tg_json_str(doc, "error");
	r->kernel = tg_json_str(doc, "kernel");
	if (timing && !(run->saved.timing_json = cJSON_PrintUnformatted(timing)))
		return -ENOMEM;
	r->tasks = run->tasks;
	r->ntasks = run->ntasks;
	r->workers = run->workers;
	r->nworkers = run->nworkers;
	r->steps = run->steps;
	r->nsteps = run->nsteps;
	r->saved = &run->saved;
	r->phase_ns[TG_PHASE_ATTACHED] = run->probed; /* results.json's probe.probed */
	r->junit_path = r->trace_path = r->results_path = "";
	run->saved.spans = run->spans;
	run->saved.nspans = run->nspans;
	return 0;
}

int tg_saved_run_load(const char *path, struct tg_saved_run *run, char *err, size_t errlen)
{
	char why[512] = "";
	int rc;

	memset(run, 0, sizeof(*run));
	if ((rc = tg_json_read_file("results", path, (cJSON **)&run->doc, err, errlen)))
		return rc;
	run->saved.path = path;
	rc = read_doc(run->doc, run, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "results %s: %s", path,
			 rc == -ENOMEM ? "out of memory" : why);
		tg_saved_run_free(run);
	}
	return rc;
}

static const struct tg_fn_summary *file_fn(const struct tg_saved_run *run, const char *glob)
{
	for (size_t i = 0; i < run->nfile_fns; i++)
		if (!strcmp(run->file_fns[i].pattern, glob))
			return &run->file_fns[i];
	return NULL;
}

int tg_saved_run_bind(struct tg_saved_run *run, const struct tg_spec *spec)
{
	const char *globs[TG_MAX_FN_SELECTORS];
	size_t n = tg_fn_selectors(spec, globs, TG_MAX_FN_SELECTORS);
	const cJSON *a = get(run->doc, "blocking_spans"), *o;
	size_t i = 0;

	run->res.spec = spec;
	free(run->fns);
	if (!(run->fns = calloc(n ? n : 1, sizeof(*run->fns))))
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct tg_fn_summary *f = file_fn(run, globs[k]);

		/* a selector the run did not have: nothing was probed for it */
		run->fns[k] = f ? *f : (struct tg_fn_summary){ .pattern = globs[k] };
	}
	run->saved.fns = run->fns;
	run->saved.nfns = n;
	cJSON_ArrayForEach(o, a) {
		struct tg_span *s = &run->spans[i++];
		const cJSON *sel = get(o, "function_selectors"), *g;

		s->fn_mask = 0;
		s->allowed = false;
		s->allow_function = s->allow_reason = NULL;
		cJSON_ArrayForEach(g, sel)
			for (size_t k = 0; cJSON_IsString(g) && k < n && k < 64; k++)
				if (!strcmp(globs[k], g->valuestring))
					s->fn_mask |= 1ull << k;
	}
	return 0;
}

static void free_steps(struct tg_step_result *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		tg_step_result_free(&s[i]);
	free(s);
}

void tg_saved_run_free(struct tg_saved_run *run)
{
	for (size_t i = 0; run->tasks && i < run->ntasks; i++)
		free((void *)run->tasks[i].hist);
	free(run->tasks);
	for (size_t i = 0; run->spans && i < run->nspans; i++) {
		free(run->spans[i].frames);
		free(run->spans[i].functions);
		free(run->spans[i].delayed);
	}
	free(run->spans);
	for (size_t i = 0; run->file_fns && i < run->nfile_fns; i++)
		free((void *)run->file_fns[i].hist);
	free(run->file_fns);
	free(run->fns);
	for (size_t i = 0; run->workers && i < run->nworkers; i++)
		free(run->workers[i].timeline);
	free(run->workers);
	free_steps(run->steps, run->nsteps);
	free(run->unprobed);
	free(run->saved.argv);
	free((void *)run->saved.timing_json);
	tg_heap_free(&run->heap);
	cJSON_Delete(run->doc);
	memset(run, 0, sizeof(*run));
}
