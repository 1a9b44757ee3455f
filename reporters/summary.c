// SPDX-License-Identifier: MIT
/* The block people read at the end of a run: did it pass, what failed, which
 * polls blocked the worst and what to do about them, and where the reports
 * are. Names come from the target's binary: control bytes are shown as '?'
 * so that no symbol can drive the terminal. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cpu_report.h"
#include "checks.h"
#include "heap_sites.h"
#include "heap_text.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "summary.h"
#include "workers.h"

#define SUMMARY_SPANS 5
#define SUMMARY_HEAP_SITES 5
#define SUMMARY_WORKERS 8

struct out {
	FILE *f;
	bool color;
};

static const char *const RED = "\033[31m", *const GREEN = "\033[32m", *const YELLOW = "\033[33m",
		  *const BOLD = "\033[1m", *const RESET = "\033[0m";

static void on(const struct out *o, const char *code)
{
	if (o->color)
		fputs(code, o->f);
}

static void off(const struct out *o)
{
	on(o, RESET);
}

/* S with control bytes (newlines, ESC...) replaced: one terminal line. */
static void text(const struct out *o, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, o->f);
}

static void headline(const struct out *o, const struct tg_results *r)
{
	size_t passed = tg_checks_count(r->checks, r->nchecks, TG_CHECK_PASSED);
	size_t failed = tg_checks_count(r->checks, r->nchecks, TG_CHECK_FAILED);
	size_t warned = tg_checks_count(r->checks, r->nchecks, TG_CHECK_WARNED);
	size_t skipped = tg_checks_count(r->checks, r->nchecks, TG_CHECK_SKIPPED);
	bool pass = failed == 0 && r->status == 0;

	on(o, BOLD);
	on(o, pass ? GREEN : RED);
	fputs(pass ? "PASS" : "FAIL", o->f);
	off(o);
	fputs(" tokio-guard", o->f);
	if (r->spec && r->spec->name) {
		fputs(": ", o->f);
		text(o, r->spec->name);
	}
	double wall = tg_results_wall_s(r);

	fprintf(o->f, ": %zu passed, %zu failed, %zu warned, %zu skipped", passed, failed, warned,
		skipped);
	if (wall > 0) /* the whole run, as a CI's clock sees it */
		fprintf(o->f, " in %.1fs", wall);
	fputc('\n', o->f);
	if (r->error && r->error[0]) {
		on(o, RED);
		fputs("error: ", o->f);
		off(o);
		text(o, r->error);
		fputc('\n', o->f);
	}
}

/* A failed exec step's last output lines, indented under its check. */
static void output_lines(const struct out *o, const char *out)
{
	while (out && *out) {
		size_t n = strcspn(out, "\n");
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), out);
		if (line[0] && strspn(line, " \r") < strlen(line)) {
			fputs("    | ", o->f);
			text(o, line);
			fputc('\n', o->f);
		}
		out += n + (out[n] == '\n');
	}
}

static void problems(const struct out *o, const struct tg_results *r)
{
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct tg_check *c = &r->checks[i];
		bool failed = c->status == TG_CHECK_FAILED;

		if (!failed && c->status != TG_CHECK_WARNED)
			continue;
		fputs("  ", o->f);
		on(o, failed ? RED : YELLOW);
		fputs(failed ? "failed" : "warned", o->f);
		off(o);
		fputs(" ", o->f);
		text(o, c->name);
		if (c->message[0]) {
			fputs(": ", o->f);
			text(o, c->message);
		}
		fputc('\n', o->f);
		output_lines(o, c->output);
	}
}

/* Spans from the same task blocked at the same place are one finding. */
struct place {
	const struct tg_span *worst;
	size_t count;
	uint64_t total_ns;
};

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_place(const struct tg_span *a, const struct tg_span *b)
{
	const struct tg_frame *x = tg_span_culprit(a), *y = tg_span_culprit(b);

	if (!same_str(a->task, b->task) || a->allowed != b->allowed || !x != !y)
		return false;
	return !x || (same_str(x->function, y->function) && same_str(x->file, y->file) && x->line == y->line);
}

static void span_line(const struct out *o, const struct tg_results *r, const struct place *p)
{
	const struct tg_span *s = p->worst;
	const struct tg_frame *c = tg_span_culprit(s);
	char dur[32], oncpu[32], offcpu[32], total[32], where[8192];
	const char *base = tg_results_root(r);

	tg_format_duration(s->poll.duration_ns, dur, sizeof(dur));
	tg_format_duration(s->on_cpu_ns, oncpu, sizeof(oncpu));
	tg_format_duration(s->poll.off_cpu_ns, offcpu, sizeof(offcpu));
	tg_format_duration(p->total_ns, total, sizeof(total));
	fputs("  ", o->f);
	on(o, BOLD);
	fputs(dur, o->f);
	off(o);
	fprintf(o->f, " %s (on-CPU %s, off-CPU %s) in ", tg_block_kind_title(s->kind), oncpu, offcpu);
	text(o, s->task ? s->task : "?");
	if (p->count > 1)
		fprintf(o->f, " (x%zu, %s in all)", p->count, total);
	fputc('\n', o->f);
	if (c) {
		fputs("    at ", o->f);
		text(o, tg_frame_text(c, base, where, sizeof(where)));
	} else {
		fputs("    no frame of the target's own code in its stack", o->f);
	}
	fputc('\n', o->f);
	tg_delayed_sentence(s->delayed, s->poll.duration_ns, where, sizeof(where));
	if (where[0]) { /* its cascade: what the worker it held did not run meanwhile */
		fputs("    ", o->f);
		text(o, where);
		fputc('\n', o->f);
	}
	if (s->allowed) {
		fputs("    allowed: ", o->f);
		text(o, s->allow_reason ? s->allow_reason : "");
		fputc('\n', o->f);
	}
}

/* The first SUMMARY_SPANS places, longest span first; returns how many. */
static size_t gather_places(const struct tg_results *r, struct place *pl)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nspans; i++) {
		const struct tg_span *s = r->spans[i];
		size_t k;

		for (k = 0; k < n && !same_place(pl[k].worst, s); k++)
			;
		if (k == n) {
			if (n == SUMMARY_SPANS)
				continue;
			pl[n++] = (struct place){ .worst = s };
		}
		pl[k].count++;
		pl[k].total_ns += s->poll.duration_ns;
	}
	return n;
}

/* The worst places, each kind's advice once, under its first place. */
static void worst_spans(const struct out *o, const struct tg_results *r)
{
	bool advised[TG_BLOCK_WAIT + 1] = { false };
	struct place pl[SUMMARY_SPANS];
	size_t n = gather_places(r, pl);

	if (n == 0)
		return;
	on(o, BOLD);
	fprintf(o->f, "Blocking spans, worst first (%zu in all, by task and culprit):", r->nspans);
	off(o);
	fputc('\n', o->f);
	for (size_t i = 0; i < n; i++) {
		const struct tg_span *s = pl[i].worst;
		unsigned k = (unsigned)s->kind <= TG_BLOCK_WAIT ? (unsigned)s->kind : TG_BLOCK_UNKNOWN;

		span_line(o, r, &pl[i]);
		if (s->allowed || advised[k])
			continue;
		advised[k] = true;
		fputs("    -> ", o->f);
		fputs(tg_block_kind_advice((enum tg_block_kind)k), o->f);
		fputc('\n', o->f);
	}
}

/* probe.heap: growth and the sites holding the most, where it grew. */
static void heap_block(const struct out *o, const struct tg_results *r)
{
	char line[2048];

	if (!r->heap)
		return;
	tg_heap_headline(r->heap, line, sizeof line);
	on(o, BOLD);
	fputs("Heap:", o->f);
	off(o);
	fputc(' ', o->f);
	text(o, line);
	fputs(r->heap->nsites ? "; most live first:\n" : "\n", o->f);
	for (size_t i = 0; i < r->heap->nsites && i < SUMMARY_HEAP_SITES; i++) {
		tg_heap_site_text(&r->heap->sites[i], tg_results_root(r), line, sizeof line);
		fputs("  ", o->f);
		text(o, line);
		fputc('\n', o->f);
	}
	tg_heap_caveats(r->heap, line, sizeof line);
	if (line[0]) {
		fputs("  note: ", o->f);
		text(o, line);
		fputc('\n', o->f);
	}
}

/* One line per worker thread (the first SUMMARY_WORKERS): what share of
 * the run it ran polls, and held its worker in blocking ones. */
static void workers(const struct out *o, const struct tg_results *r)
{
	if (!r->nworkers)
		return;
	on(o, BOLD);
	fputs("Workers (busy, of it blocked in spans; idle):", o->f);
	off(o);
	fputc('\n', o->f);
	for (size_t i = 0; i < r->nworkers && i < SUMMARY_WORKERS; i++) {
		const struct tg_worker_util *w = &r->workers[i];

		fputs("  ", o->f);
		text(o, w->name && w->name[0] ? w->name : "thread");
		fprintf(o->f, " %u: busy %.1f%%, blocked %.1f%%, idle %.1f%%\n", w->tid, w->busy_pct,
			w->blocked_pct, w->idle_pct);
	}
	if (r->nworkers > SUMMARY_WORKERS)
		fprintf(o->f, "  ... %zu more (results.json workers[])\n", r->nworkers - SUMMARY_WORKERS);
}

static void report_path(const struct out *o, const char *what, const char *path, const char *hint)
{
	if (!path || !path[0])
		return;
	fprintf(o->f, "  %-8s ", what);
	text(o, path);
	if (hint)
		fprintf(o->f, "  (%s)", hint);
	fputc('\n', o->f);
}

void tg_summary_print(FILE *f, const struct tg_results *r, bool color)
{
	struct out o = { f, color };

	if (!f || !r)
		return;
	headline(&o, r);
	problems(&o, r);
	worst_spans(&o, r);
	tg_cpu_summary_print(f, r);
	heap_block(&o, r);
	workers(&o, r);
	if ((r->junit_path && r->junit_path[0]) || (r->trace_path && r->trace_path[0]) ||
	    (r->results_path && r->results_path[0]) || (r->html_path && r->html_path[0])) {
		on(&o, BOLD);
		fputs("Reports:", f);
		off(&o);
		fputc('\n', f);
		report_path(&o, "junit", r->junit_path, NULL);
		report_path(&o, "trace", r->trace_path, "open it in https://ui.perfetto.dev");
		report_path(&o, "results", r->results_path, NULL);
		report_path(&o, "html", r->html_path, "open it in a browser: the run at a glance");
	}
	fflush(f);
}

void tg_summary_print_verdict(FILE *f, const struct tg_results *r, bool color)
{
	struct out o = { f, color };

	if (!f || !r)
		return;
	headline(&o, r);
	problems(&o, r);
	fflush(f);
}
