// SPDX-License-Identifier: MIT
/* trace.json in the Chrome Trace Event Format, streamed through a buffered
 * FILE: a run can hold two million slices, so the document is never built in
 * memory.
 *
 * Tracks (pid = the target's pid):
 *   - one per OS thread (tid = the thread id): poll slices, blocking spans, and
 *     inside each span its off-CPU intervals (cat "off_cpu");
 *   - load steps on pseudo-threads whose tid no real thread can have (Linux
 *     tids stay below PID_MAX_LIMIT, 2^22): "load steps" is LOAD_TID, and
 *     each child of a parallel step gets a lane of its own (LOAD_TID + 1, + 2,
 *     ...) because siblings run at the same time and would not nest;
 *   - counters: "polls/s" (rate between two timeline samples, drawn at the
 *     start of the interval it measures) and "blocking spans" (cumulative:
 *     a step up shows when a span happened, the height how many so far),
 *     and per worker "busy % <thread> <tid>" (its busy share each second).
 *
 * Samples: speedscope names every X slice by its name *and* its args' JSON
 * (src/import/trace-event.ts, keyForEvent), and the args are what Perfetto
 * shows for a slice. So the same timeline is there a second time as
 * "samples" with "stackFrames" (Trace Event Format, both), which speedscope
 * imports instead of the slices: one sample at each slice boundary naming the
 * stack then open (no "sf" when the thread is idle), each frame named by the
 * task alone. They come after "metadata": a reader that stops at a key it
 * does not know has read everything else.
 *
 * ts and dur are integer nanoseconds printed as microseconds with three
 * decimals, so they are exact and no rounding can break nesting; what real
 * data could still break (a slice that starts inside another and ends after
 * it) is clamped to its parent before writing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.h"
#include "report_file.h"
#include "grow.h"
#include "load.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "trace_frames.h"
#include "workers.h"

#define LOAD_TID (1u << 30)
#define NONE UINT32_MAX

static uint64_t budget_override; /* tg_trace_set_budget: tests only */

void tg_trace_set_budget(uint64_t bytes)
{
	budget_override = bytes;
}

/* ---- output: a FILE, or only a byte count (to size events for the budget) */

struct out {
	FILE *f;        /* NULL: count only */
	uint64_t bytes;
	uint64_t events;
};

static void put(struct out *o, const char *s, size_t n)
{
	o->bytes += n;
	if (o->f)
		fwrite(s, 1, n, o->f);
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Length of the valid UTF-8 sequence at S, or 0: overlong forms, surrogates
 * and code points past U+10FFFF are invalid. S is NUL-terminated, and NUL is
 * never a continuation byte, so this never reads past the end. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string: quotes and backslashes escaped, control characters as
 * \u00XX, each byte of invalid UTF-8 as U+FFFD. */
static void put_str(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : ""), *run = s;

	put(o, "\"", 1);
	while (*s) {
		int n = utf8_len(s);
		char esc[8];

		if (n > 0 && *s >= 0x20 && *s != '"' && *s != '\\') {
			s += n;
			continue;
		}
		put(o, (const char *)run, (size_t)(s - run));
		if (*s == '"' || *s == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *s);
		else if (n == 0)
			snprintf(esc, sizeof(esc), "\\ufffd");
		else
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
		puts_(o, esc);
		run = ++s;
	}
	put(o, (const char *)run, (size_t)(s - run));
	put(o, "\"", 1);
}

/* NS nanoseconds as microseconds with three decimals: exact. */
static void put_us(struct out *o, const char *key, uint64_t ns)
{
	putf(o, ",\"%s\":%llu.%03llu", key, (unsigned long long)(ns / 1000),
	     (unsigned long long)(ns % 1000));
}

static void begin_event(struct out *o, const char *ph)
{
	puts_(o, o->events++ ? ",\n{\"ph\":\"" : "\n{\"ph\":\"");
	puts_(o, ph);
	puts_(o, "\"");
}

/* ---- what gets drawn */

enum item_kind { IT_POLL, IT_OFFCPU, IT_STEP };

/* One X event. POLL: A = slice index (NONE: a span without a slice), B = span
 * index or NONE. OFFCPU: A = span, B = its stack. STEP: A = flat step index. */
struct item {
	uint64_t start, end; /* relative to t0 */
	uint32_t tid;
	uint32_t kind;
	uint32_t a, b;
	uint32_t frame;      /* its stackFrames id, parents included */
};

struct step_ref {
	const struct tg_step_result *res;
	uint32_t lane;       /* 0: "load steps", k: LOAD_TID + k */
};

struct ctx {
	const struct tg_results *r;
	const char *base;             /* the spec's folder: frame paths are shown below it */
	const struct tg_slice *slices;
	size_t nslices;
	const struct tg_span *spans;
	size_t nspans;
	struct item *items;
	size_t nitems, capitems;
	struct step_ref *steps;
	size_t nsteps, capsteps;
	uint32_t nlanes;
	uint32_t *tids;               /* every thread with a slice, sorted, unique */
	size_t ntids;
	uint64_t floor_ns;            /* trace_min_poll, raised by the budget */
	uint64_t dropped;
	bool no_plain_polls;          /* sizing what the budget cannot drop */
	struct tg_trace_frames frames;
};


static uint64_t rel(const struct ctx *c, uint64_t ns)
{
	return ns > c->r->t0_ns ? ns - c->r->t0_ns : 0;
}

static int add_item(struct ctx *c, uint32_t kind, uint32_t tid, uint64_t start_ns, uint64_t end_ns,
		    uint32_t a, uint32_t b)
{
	if (tg_grow((void **)&c->items, &c->capitems, c->nitems + 1, sizeof(*c->items)))
		return -ENOMEM;
	c->items[c->nitems++] = (struct item){
		.start = rel(c, start_ns), .end = rel(c, end_ns > start_ns ? end_ns : start_ns),
		.tid = tid, .kind = kind, .a = a, .b = b,
	};
	return 0;
}

static const char *task_name(const struct ctx *c, const struct tg_slice *s, const struct tg_span *sp)
{
	if (sp && sp->task)
		return sp->task;
	return tg_record_site_name(c->r->record, s->site);
}

/* ---- events */

static void put_poll_args(struct out *o, const struct tg_slice *s, uint64_t on_cpu_ns)
{
	putf(o, ",\"args\":{\"task_id\":%llu", (unsigned long long)s->task_id);
	/* the slice's length is wall time; poll limits hold its own time */
	put_us(o, "own_us", tg_slice_own_ns(s));
	put_us(o, "on_cpu_us", on_cpu_ns);
	put_us(o, "off_cpu_us", s->off_cpu_ns);
	put_us(o, "runqueue_us", s->runq_ns);
}

static void put_x(struct out *o, const struct item *it, const char *name, const char *cat,
		  pid_t pid)
{
	begin_event(o, "X");
	putf(o, ",\"pid\":%d,\"tid\":%u", (int)pid, it->tid);
	put_us(o, "ts", it->start);
	put_us(o, "dur", it->end - it->start);
	puts_(o, ",\"name\":");
	put_str(o, name);
	puts_(o, ",\"cat\":");
	put_str(o, cat);
}

static void put_span_args(struct out *o, const struct ctx *c, const struct tg_span *sp)
{
	char buf[8192];

	putf(o, ",\"samples\":%u,\"kind\":", sp->samples);
	put_str(o, tg_block_kind_name(sp->kind));
	puts_(o, ",\"culprit\":");
	put_str(o, tg_span_culprit(sp) ? tg_frame_text(tg_span_culprit(sp), c->base, buf, sizeof(buf)) : "");
	puts_(o, sp->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
	if (sp->allowed) {
		puts_(o, ",\"allow_reason\":");
		put_str(o, sp->allow_reason);
		puts_(o, ",\"allow_function\":");
		put_str(o, sp->allow_function);
	}
	puts_(o, ",\"stack\":[");
	for (int i = 0; i < sp->nframes; i++) {
		if (i)
			puts_(o, ",");
		put_str(o, tg_frame_text(&sp->frames[i], c->base, buf, sizeof(buf)));
	}
	puts_(o, "]");
}

static void put_poll(struct out *o, const struct ctx *c, const struct item *it)
{
	const struct tg_span *sp = it->b != NONE ? &c->spans[it->b] : NULL;
	const struct tg_slice *s = it->a != NONE ? &c->slices[it->a] : &sp->poll;
	uint64_t wait = s->off_cpu_ns + s->runq_ns;

	put_x(o, it, task_name(c, s, sp), sp ? "blocking" : "poll", c->r->pid);
	put_poll_args(o, s, sp ? sp->on_cpu_ns : s->duration_ns > wait ? s->duration_ns - wait : 0);
	if (sp)
		put_span_args(o, c, sp);
	puts_(o, "}}");
}

/* The blocking call an off-CPU interval is named by (record/culprit.c resolved each stack). */
static const struct tg_frame *blocking_frame(const struct tg_stack *st)
{
	return st->where.function ? &st->where : NULL;
}

static void put_offcpu(struct out *o, const struct ctx *c, const struct item *it)
{
	const struct tg_span *sp = &c->spans[it->a];
	const struct tg_stack *st = &sp->stacks[it->b];
	const struct tg_frame *f = blocking_frame(st);
	char buf[8192];

	put_x(o, it, f ? f->function : "off-CPU", "off_cpu", c->r->pid);
	putf(o, ",\"args\":{\"task_id\":%llu", (unsigned long long)sp->poll.task_id);
	put_us(o, "off_cpu_us", st->weight_ns);
	if (f) {
		puts_(o, ",\"at\":");
		put_str(o, tg_frame_text(f, c->base, buf, sizeof(buf)));
	}
	puts_(o, "}}");
}

static void put_step(struct out *o, const struct ctx *c, const struct item *it)
{
	const struct tg_step_result *s = c->steps[it->a].res;

	put_x(o, it, s->name ? s->name : "step", "load", c->r->pid);
	puts_(o, ",\"args\":{\"kind\":");
	put_str(o, tg_step_kind_name((enum tg_step_kind)s->kind));
	puts_(o, s->ok ? ",\"ok\":true" : ",\"ok\":false");
	putf(o, ",\"requests\":%llu,\"errors\":%llu,\"throughput_per_s\":%.1f",
	     (unsigned long long)s->requests, (unsigned long long)s->errors, s->throughput_per_s);
	if (s->kind == TG_STEP_EXEC)
		putf(o, ",\"exit_code\":%d,\"signal\":%d", s->exit_code, s->signal);
	if (!s->ok) {
		puts_(o, ",\"error\":");
		put_str(o, s->error);
	}
	puts_(o, "}}");
}

static bool is_plain_poll(const struct item *it);

/* The name and category an item is drawn with. */
static const char *item_name(const struct ctx *c, const struct item *it, const char **cat)
{
	if (it->kind == IT_POLL) {
		const struct tg_span *sp = it->b != NONE ? &c->spans[it->b] : NULL;

		*cat = sp ? "blocking" : "poll";
		return task_name(c, it->a != NONE ? &c->slices[it->a] : &sp->poll, sp);
	}
	if (it->kind == IT_OFFCPU) {
		const struct tg_frame *f = blocking_frame(&c->spans[it->a].stacks[it->b]);

		*cat = "off_cpu";
		return f ? f->function : "off-CPU";
	}
	*cat = "load";
	return c->steps[it->a].res->name ? c->steps[it->a].res->name : "step";
}

/* A sample: STACK open on TID from TS on (0: idle). Counted, it is sized as
 * if it named the widest id, so the budget never undercounts. */
static void put_sample(struct out *o, const struct ctx *c, bool *first, uint32_t tid, uint64_t ts,
		       uint32_t stack)
{
	puts_(o, *first ? "\n{" : ",\n{");
	*first = false;
	putf(o, "\"pid\":%d,\"tid\":%u", (int)c->r->pid, tid);
	put_us(o, "ts", ts);
	if (!o->f)
		stack = (uint32_t)c->frames.n;
	if (stack)
		putf(o, ",\"sf\":%u", stack);
	puts_(o, "}");
}

static void put_frames(struct out *o, const struct ctx *c)
{
	puts_(o, ",\n\"stackFrames\":{");
	for (size_t i = 0; i < c->frames.n; i++) {
		const struct tg_trace_frame *f = &c->frames.v[i];

		putf(o, "%s\"%zu\":{\"name\":", i ? ",\n" : "\n", i + 1);
		put_str(o, f->name);
		puts_(o, ",\"category\":");
		put_str(o, f->cat);
		if (f->parent)
			putf(o, ",\"parent\":\"%u\"", f->parent);
		puts_(o, "}");
	}
	puts_(o, "}");
}

/* Items are in order (order_and_nest): a sweep with a stack of the open ones
 * gives every boundary in time order. */
static void put_samples(struct out *o, const struct ctx *c)
{
	const struct item **open = NULL;
	size_t depth = 0, cap = 0;
	bool first = true;

	puts_(o, ",\n\"samples\":[");
	for (size_t i = 0; i <= c->nitems; i++) {
		const struct item *it = i < c->nitems ? &c->items[i] : NULL;

		if (it && c->no_plain_polls && is_plain_poll(it))
			continue;
		while (depth && (!it || it->tid != open[0]->tid || open[depth - 1]->end <= it->start)) {
			depth--;
			put_sample(o, c, &first, open[depth]->tid, open[depth]->end,
				   depth ? open[depth - 1]->frame : 0);
		}
		if (!it)
			break;
		if (tg_grow((void **)&open, &cap, depth + 1, sizeof(*open)))
			break; /* out of memory: the samples end here, the slices are whole */
		open[depth++] = it;
		put_sample(o, c, &first, it->tid, it->start, it->frame);
	}
	free(open);
	puts_(o, "\n]");
}

static void put_item(struct out *o, const struct ctx *c, const struct item *it)
{
	if (it->kind == IT_POLL)
		put_poll(o, c, it);
	else if (it->kind == IT_OFFCPU)
		put_offcpu(o, c, it);
	else
		put_step(o, c, it);
}

static void put_meta(struct out *o, pid_t pid, const char *what, uint32_t tid, bool has_tid,
		     const char *key, const char *str, long num)
{
	begin_event(o, "M");
	putf(o, ",\"pid\":%d", (int)pid);
	if (has_tid)
		putf(o, ",\"tid\":%u", tid);
	puts_(o, ",\"name\":");
	put_str(o, what);
	putf(o, ",\"args\":{\"%s\":", key);
	if (str)
		put_str(o, str);
	else
		putf(o, "%ld", num);
	puts_(o, "}}");
}

static void put_thread(struct out *o, pid_t pid, uint32_t tid, const char *name, long order)
{
	put_meta(o, pid, "thread_name", tid, true, "name", name, 0);
	put_meta(o, pid, "thread_sort_index", tid, true, "sort_index", NULL, order);
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p ? p : "";
}

static bool known_thread(const struct tg_thread *t, size_t n, uint32_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].tid == tid)
			return true;
	return false;
}

/* Workers first (by number), other threads after them, load lanes last. */
static void put_names(struct out *o, const struct ctx *c)
{
	const struct tg_spec *spec = c->r->spec;
	const char *exe = c->r->exe ? c->r->exe : spec && spec->target.argv ? spec->target.argv[0] : "";
	size_t nt = 0;
	const struct tg_thread *t = tg_record_threads(c->r->record, &nt);
	char name[512];
	long order = 0;

	snprintf(name, sizeof(name), "%s (%s)", spec && spec->name ? spec->name : "tokio-guard",
		 base_name(exe));
	put_meta(o, c->r->pid, "process_name", 0, false, "name", name, 0);
	for (size_t i = 0; t && i < nt; i++) {
		if (t[i].worker)
			snprintf(name, sizeof(name), t[i].comm && t[i].comm[0] ? "worker %u (%s)" : "worker %u",
				 t[i].worker_no, t[i].comm);
		else if (t[i].comm && t[i].comm[0])
			snprintf(name, sizeof(name), "%s", t[i].comm);
		else
			snprintf(name, sizeof(name), "thread %u", t[i].tid);
		put_thread(o, c->r->pid, t[i].tid, name, ++order);
	}
	/* threads the record has no entry for still get a name and a place */
	for (size_t i = 0; i < c->ntids; i++) {
		if (t && known_thread(t, nt, c->tids[i]))
			continue;
		snprintf(name, sizeof(name), "thread %u", c->tids[i]);
		put_thread(o, c->r->pid, c->tids[i], name, ++order);
	}
	for (uint32_t k = 0; c->nsteps && k <= c->nlanes; k++) {
		const struct step_ref *p = NULL;

		for (size_t i = 0; k && i < c->nsteps && !p; i++)
			if (c->steps[i].lane == k)
				p = &c->steps[i];
		if (p)
			snprintf(name, sizeof(name), "load steps: %s", p->res->name ? p->res->name : "step");
		else
			snprintf(name, sizeof(name), "load steps");
		put_thread(o, c->r->pid, LOAD_TID + k, name, ++order + 1000000);
	}
}

static void put_counter(struct out *o, const struct ctx *c, const char *name, uint64_t ts,
			const char *value)
{
	begin_event(o, "C");
	putf(o, ",\"pid\":%d", (int)c->r->pid);
	put_us(o, "ts", ts);
	puts_(o, ",\"name\":");
	put_str(o, name);
	puts_(o, ",\"args\":{");
	put_str(o, name);
	putf(o, ":%s}}", value);
}

static void put_counters(struct out *o, const struct ctx *c)
{
	size_t n = 0;
	const struct tg_counter_sample *s = tg_record_samples(c->r->record, &n);
	char v[64];

	for (size_t i = 0; s && i < n; i++) {
		if (s[i].ts_ns < c->r->t0_ns)
			continue;
		if (i + 1 < n && s[i + 1].ts_ns > s[i].ts_ns && s[i + 1].polls >= s[i].polls) {
			snprintf(v, sizeof(v), "%.1f", (double)(s[i + 1].polls - s[i].polls) * 1e9 /
							 (double)(s[i + 1].ts_ns - s[i].ts_ns));
			put_counter(o, c, "polls/s", rel(c, s[i].ts_ns), v);
		}
		snprintf(v, sizeof(v), "%llu", (unsigned long long)s[i].spans);
		put_counter(o, c, "blocking spans", rel(c, s[i].ts_ns), v);
	}
}

/* "busy % <thread> <tid>": each worker's busy share per second, a point at
 * the start of each second it measures. */
static void put_worker_counters(struct out *o, const struct ctx *c)
{
	char name[64], v[32];

	for (size_t i = 0; c->r->workers && i < c->r->nworkers; i++) {
		const struct tg_worker_util *w = &c->r->workers[i];

		snprintf(name, sizeof(name), "busy %% %.16s %u", w->name && w->name[0] ? w->name : "thread",
			 w->tid);
		for (size_t s = 0; s < w->nseconds; s++) {
			snprintf(v, sizeof(v), "%.1f", w->timeline[s]);
			put_counter(o, c, name, (uint64_t)s * 1000000000ull, v);
		}
	}
}

static void put_metadata(struct out *o, const struct ctx *c)
{
	const struct tg_spec *spec = c->r->spec;
	uint64_t min = spec ? spec->report.trace_min_poll_ns : 0;

	puts_(o, "\n],\n\"metadata\":{\"tokio_guard\":");
	put_str(o, TG_VERSION);
	puts_(o, ",\"spec\":");
	put_str(o, spec ? spec->path : "");
	putf(o, ",\"pid\":%d,\"clock\":\"CLOCK_MONOTONIC\",\"t0_ns\":%llu", (int)c->r->pid,
	     (unsigned long long)c->r->t0_ns);
	puts_(o, ",\"trace_min_poll_us\":");
	putf(o, "%llu.%03llu", (unsigned long long)(min / 1000), (unsigned long long)(min % 1000));
	puts_(o, ",\"effective_min_poll_us\":");
	putf(o, "%llu.%03llu", (unsigned long long)(c->floor_ns / 1000),
	     (unsigned long long)(c->floor_ns % 1000));
	putf(o, ",\"dropped_slices\":%llu,\"load_steps_tid\":%u,\"blocking_spans_counter\":\"cumulative\"}",
	     (unsigned long long)c->dropped, LOAD_TID);
}

static bool is_plain_poll(const struct item *it)
{
	return it->kind == IT_POLL && it->b == NONE;
}

/* A delayed poll too short to be in the trace as a poll: drawn for its arrow. */
static void put_delayed_poll(struct out *o, const struct ctx *c, const struct tg_delayed_task *t)
{
	struct item it = { .start = rel(c, t->start_ns), .end = rel(c, t->start_ns + t->duration_ns),
			   .tid = t->tid };

	put_x(o, &it, t->task ? t->task : "[unknown task]", "delayed", c->r->pid);
	putf(o, ",\"args\":{\"task_id\":%llu", (unsigned long long)t->task_id);
	put_us(o, "waited_us", t->wait_ns);
	puts_(o, "}}");
}

static void put_flow(struct out *o, const struct ctx *c, const char *ph, uint64_t id, uint32_t tid,
		     uint64_t ts)
{
	begin_event(o, ph);
	putf(o, ",\"id\":%llu,\"pid\":%d,\"tid\":%u", (unsigned long long)id, (int)c->r->pid, tid);
	put_us(o, "ts", ts);
	puts_(o, ",\"name\":\"delayed\",\"cat\":\"cascade\"");
	if (ph[0] == 'f')
		puts_(o, ",\"bp\":\"e\""); /* bound to the slice it is in, not the next one */
	puts_(o, "}");
}

/* The cascade: an arrow from each span to the polls it kept waiting (the
 * longest waits its record kept). Flow v1 events bind to the slice enclosing
 * their ts: 1 ns into each poll, before any off-CPU child of the span. */
static void put_cascades(struct out *o, const struct ctx *c)
{
	uint64_t id = 0;

	for (size_t i = 0; i < c->nspans; i++) {
		const struct tg_span *sp = &c->spans[i];

		for (uint32_t k = 0; sp->delayed && k < sp->delayed->nworst; k++) {
			const struct tg_delayed_task *t = &sp->delayed->worst[k];

			if (!t->start_ns)
				continue;
			if (t->duration_ns < c->floor_ns)
				put_delayed_poll(o, c, t);
			put_flow(o, c, "s", ++id, sp->poll.tid, rel(c, sp->poll.start_ns) + 1);
			put_flow(o, c, "f", id, t->tid, rel(c, t->start_ns) + 1);
		}
	}
}

static void put_document(struct out *o, const struct ctx *c)
{
	puts_(o, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
	put_names(o, c);
	put_counters(o, c);
	put_worker_counters(o, c);
	for (size_t i = 0; i < c->nitems; i++)
		if (!c->no_plain_polls || !is_plain_poll(&c->items[i]))
			put_item(o, c, &c->items[i]);
	put_cascades(o, c);
	put_metadata(o, c);
	put_frames(o, c);
	put_samples(o, c);
	puts_(o, "}\n");
}

/* ---- collecting and ordering the slices */

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *x = pa, *y = pb;
	uint64_t dx = x->end - x->start, dy = y->end - y->start;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (x->kind != y->kind) /* a poll encloses its off-CPU interval of the same length */
		return x->kind < y->kind ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

static int span_key_cmp(const struct tg_slice *x, const struct tg_slice *y)
{
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->duration_ns != y->duration_ns)
		return x->duration_ns < y->duration_ns ? -1 : 1;
	return x->task_id < y->task_id ? -1 : x->task_id > y->task_id;
}

static int span_idx_cmp(const void *a, const void *b, void *spans)
{
	const struct tg_span *v = spans;

	return span_key_cmp(&v[*(const uint32_t *)a].poll, &v[*(const uint32_t *)b].poll);
}

/* The span whose poll is slice S, or NONE. ORDER: span indexes sorted by key. */
static uint32_t find_span(const struct ctx *c, const uint32_t *order, const struct tg_slice *s)
{
	size_t lo = 0, hi = c->nspans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = span_key_cmp(&c->spans[order[mid]].poll, s);

		if (d == 0)
			return order[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Polls at or above the floor, each blocking span exactly once (with its
 * slice when the record kept one). */
static int collect_polls(struct ctx *c)
{
	uint32_t *order = malloc((c->nspans ? c->nspans : 1) * sizeof(*order));
	bool *seen = calloc(c->nspans ? c->nspans : 1, sizeof(*seen));
	int e = order && seen ? 0 : -ENOMEM;

	for (size_t i = 0; !e && i < c->nspans; i++)
		order[i] = (uint32_t)i;
	if (!e)
		qsort_r(order, c->nspans, sizeof(*order), span_idx_cmp, (void *)c->spans);
	for (size_t i = 0; !e && i < c->nslices; i++) {
		const struct tg_slice *s = &c->slices[i];
		uint32_t sp = c->nspans ? find_span(c, order, s) : NONE;

		if (sp != NONE && seen[sp])
			sp = NONE; /* the same poll twice: one of them is the span */
		if (sp == NONE && s->duration_ns < c->floor_ns)
			continue;
		if (sp != NONE)
			seen[sp] = true;
		e = add_item(c, IT_POLL, s->tid, s->start_ns, s->start_ns + s->duration_ns, (uint32_t)i, sp);
	}
	for (size_t j = 0; !e && j < c->nspans; j++) {
		const struct tg_slice *p = &c->spans[j].poll;

		if (!seen[j])
			e = add_item(c, IT_POLL, p->tid, p->start_ns, p->start_ns + p->duration_ns, NONE,
				     (uint32_t)j);
	}
	free(order);
	free(seen);
	return e;
}

/* Off-CPU intervals start at the switch-out (bpf: ts_ns = the sched_switch
 * time, weight = until the switch-in); clipped to their span. */
static int collect_offcpu(struct ctx *c)
{
	for (size_t j = 0; j < c->nspans; j++) {
		const struct tg_span *sp = &c->spans[j];
		uint64_t lo = sp->poll.start_ns, hi = lo + sp->poll.duration_ns;

		for (size_t k = 0; k < sp->nstacks; k++) {
			const struct tg_stack *st = &sp->stacks[k];
			uint64_t a = st->ts_ns > lo ? st->ts_ns : lo;
			uint64_t b = st->ts_ns + st->weight_ns < hi ? st->ts_ns + st->weight_ns : hi;

			if (!st->offcpu || b <= a)
				continue;
			if (add_item(c, IT_OFFCPU, sp->poll.tid, a, b, (uint32_t)j, (uint32_t)k))
				return -ENOMEM;
		}
	}
	return 0;
}

static int add_steps(struct ctx *c, const struct tg_step_result *v, size_t n, uint32_t lane)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t self = (uint32_t)c->nsteps;

		if (tg_grow((void **)&c->steps, &c->capsteps, c->nsteps + 1, sizeof(*c->steps)))
			return -ENOMEM;
		c->steps[c->nsteps++] = (struct step_ref){ .res = &v[i], .lane = lane };
		if (v[i].start_ns && add_item(c, IT_STEP, LOAD_TID + lane, v[i].start_ns, v[i].end_ns,
					      self, 0))
			return -ENOMEM;
		/* siblings overlap: each child of a parallel step on its own lane */
		for (size_t k = 0; k < v[i].nchildren; k++)
			if (add_steps(c, &v[i].children[k], 1, ++c->nlanes))
				return -ENOMEM;
	}
	return 0;
}

/* Sorted by (tid, ts, -dur), then each slice clamped to end within the slice
 * that encloses its start: a proper nesting per track, as viewers need. */
static int order_and_nest(struct ctx *c)
{
	uint64_t *ends = NULL;
	size_t depth = 0, cap = 0;

	if (c->nitems) /* a run that never started has none, and items is NULL */
		qsort(c->items, c->nitems, sizeof(*c->items), item_cmp);
	for (size_t i = 0; i < c->nitems; i++) {
		struct item *it = &c->items[i];

		if (i && it->tid != c->items[i - 1].tid)
			depth = 0;
		while (depth && ends[depth - 1] <= it->start)
			depth--;
		if (depth && it->end > ends[depth - 1])
			it->end = ends[depth - 1];
		if (tg_grow((void **)&ends, &cap, depth + 1, sizeof(*ends))) {
			free(ends);
			return -ENOMEM;
		}
		ends[depth++] = it->end;
	}
	free(ends);
	return 0;
}

/* Each item's frame: its name under the frame of the item it nests in. */
static int assign_frames(struct ctx *c)
{
	const struct item **open = NULL;
	size_t depth = 0, cap = 0;

	for (size_t i = 0; i < c->nitems; i++) {
		struct item *it = &c->items[i];
		const char *cat, *name = item_name(c, it, &cat);

		if (i && it->tid != c->items[i - 1].tid)
			depth = 0;
		while (depth && open[depth - 1]->end <= it->start)
			depth--;
		it->frame = tg_trace_frame_id(&c->frames, depth ? open[depth - 1]->frame : 0, name, cat);
		if (!it->frame || tg_grow((void **)&open, &cap, depth + 1, sizeof(*open))) {
			free(open);
			return -ENOMEM;
		}
		open[depth++] = it;
	}
	free(open);
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every thread a poll was seen on, kept or not: the names do not depend on
 * the budget. */
static int collect_tids(struct ctx *c)
{
	size_t n = 0, total = c->nslices + c->nspans;

	c->tids = malloc((total ? total : 1) * sizeof(*c->tids));
	if (!c->tids)
		return -ENOMEM;
	for (size_t i = 0; i < c->nslices; i++)
		c->tids[n++] = c->slices[i].tid;
	for (size_t i = 0; i < c->nspans; i++)
		c->tids[n++] = c->spans[i].poll.tid;
	qsort(c->tids, n, sizeof(*c->tids), u32_cmp);
	c->ntids = 0;
	for (size_t i = 0; i < n; i++)
		if (!c->ntids || c->tids[c->ntids - 1] != c->tids[i])
			c->tids[c->ntids++] = c->tids[i];
	return 0;
}

/* ---- the budget */

struct sized {
	uint64_t dur, bytes;
};

static int sized_cmp(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;

	return x->dur > y->dur ? -1 : x->dur < y->dur;
}

/* The document without its plain polls, with metadata numbers as wide as
 * they can get: what stays whatever the budget drops. */
static uint64_t fixed_bytes(struct ctx *c)
{
	struct out cnt = { .f = NULL };
	uint64_t floor = c->floor_ns;

	c->no_plain_polls = true;
	c->dropped = c->floor_ns = UINT64_MAX;
	put_document(&cnt, c);
	c->no_plain_polls = false;
	c->dropped = 0;
	c->floor_ns = floor;
	return cnt.bytes;
}

/* Each plain poll's duration and exact size as written (separator included). */
static struct sized *plain_sizes(const struct ctx *c, size_t *n, uint64_t *total)
{
	struct sized *v = malloc((c->nitems ? c->nitems : 1) * sizeof(*v));
	struct out cnt = { .f = NULL, .events = 1 };

	*n = 0;
	*total = 0;
	for (size_t i = 0; v && i < c->nitems; i++) {
		if (!is_plain_poll(&c->items[i]))
			continue;
		bool first = false;

		cnt.bytes = 0;
		put_item(&cnt, c, &c->items[i]);
		put_sample(&cnt, c, &first, c->items[i].tid, c->items[i].start, 1);
		put_sample(&cnt, c, &first, c->items[i].tid, c->items[i].end, 1);
		v[(*n)++] = (struct sized){ .dur = c->slices[c->items[i].a].duration_ns, .bytes = cnt.bytes };
		*total += cnt.bytes;
	}
	return v;
}

static void drop_plain_below(struct ctx *c, uint64_t floor)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->nitems; i++) {
		const struct item *it = &c->items[i];

		if (is_plain_poll(it) && c->slices[it->a].duration_ns < floor)
			c->dropped++;
		else
			c->items[kept++] = *it;
	}
	c->nitems = kept;
}

/* When the plain polls do not fit next to everything else, the floor rises
 * to the shortest duration that still fits (longest polls kept first; polls
 * of equal length are kept or dropped together). Sizes are measured by
 * writing each event to a counter: what is counted is what gets written. */
static int apply_budget(struct ctx *c, uint64_t budget)
{
	uint64_t fixed = fixed_bytes(c), total, room, used = 0;
	size_t nv, kept = 0;
	struct sized *v = plain_sizes(c, &nv, &total);

	if (!v)
		return -ENOMEM;
	if (fixed + total > budget) {
		room = budget > fixed ? budget - fixed : 0;
		qsort(v, nv, sizeof(*v), sized_cmp);
		while (kept < nv && used + v[kept].bytes <= room)
			used += v[kept++].bytes;
		if (kept < nv && v[kept].dur + 1 > c->floor_ns)
			c->floor_ns = v[kept].dur + 1;
		drop_plain_below(c, c->floor_ns);
	}
	free(v);
	return 0;
}

/* ---- writing */

static int write_file(const char *path, const struct ctx *c, uint64_t *bytes, char *err,
		      size_t errlen)
{
	char tmp[4096];
	struct out o = { 0 };
	int fd, e = 0;

	fd = tg_report_open(path, tmp, sizeof(tmp));
	if (fd < 0 || !(o.f = fdopen(fd, "w"))) {
		e = fd < 0 ? -fd : errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	setvbuf(o.f, NULL, _IOFBF, 1 << 20);
	put_document(&o, c);
	if (ferror(o.f))
		e = errno ? errno : EIO;
	if (fclose(o.f) && !e)
		e = errno ? errno : EIO;
	e = -tg_report_commit(tmp, path, -e);
	if (e) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	*bytes = o.bytes;
	return 0;
}

static void free_ctx(struct ctx *c)
{
	free(c->items);
	free(c->steps);
	free(c->tids);
	tg_trace_frames_free(&c->frames);
}

int tg_trace_write(const char *path, const struct tg_results *r, struct tg_trace_stats *st,
		   char *err, size_t errlen)
{
	struct ctx c = { .r = r };
	uint64_t bytes = 0, polls = 0;
	int e;

	if (!r || !r->record) {
		snprintf(err, errlen, "cannot write %s: the probes recorded nothing to trace", path);
		return -EINVAL;
	}
	c.base = tg_results_root(r);
	c.floor_ns = r->spec ? r->spec->report.trace_min_poll_ns : 0;
	/* a long run's record kept only the longest polls: its floor is where the trace starts */
	if (tg_record_caps(r->record)->slice_floor_ns > c.floor_ns)
		c.floor_ns = tg_record_caps(r->record)->slice_floor_ns;
	c.slices = tg_record_slices(r->record, &c.nslices);
	c.spans = tg_record_spans(r->record, &c.nspans);
	e = collect_tids(&c);
	if (!e)
		e = collect_polls(&c);
	if (!e)
		e = collect_offcpu(&c);
	if (!e)
		e = add_steps(&c, r->steps, r->steps ? r->nsteps : 0, 0);
	/* in order and nested first: the samples' sizes count in the budget */
	if (!e)
		e = order_and_nest(&c);
	if (!e)
		e = assign_frames(&c);
	if (!e)
		e = apply_budget(&c, budget_override ? budget_override : TG_TRACE_BUDGET_BYTES);
	c.dropped += tg_record_caps(r->record)->slices_dropped;
	if (e) {
		snprintf(err, errlen, "cannot write %s: out of memory", path);
		free_ctx(&c);
		return e;
	}
	e = write_file(path, &c, &bytes, err, errlen);
	for (size_t i = 0; i < c.nitems; i++)
		polls += c.items[i].kind == IT_POLL;
	if (st && !e)
		*st = (struct tg_trace_stats){
			.slices = polls, .dropped = c.dropped, .min_poll_ns = c.floor_ns, .bytes = bytes,
		};
	free_ctx(&c);
	return e;
}
