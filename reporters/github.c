// SPDX-License-Identifier: MIT
/* GitHub Actions: ::error / ::warning workflow commands for the checks that
 * failed or warned, and the Markdown job summary. The summary is built in
 * memory under a size budget (GitHub drops a step summary above 1 MiB) and
 * appended with one write. */
#define _GNU_SOURCE /* O_CLOEXEC under strict C11 too */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_report.h"
#include "checks.h"
#include "github.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "workers.h"

#define SUMMARY_SPANS 20
#define SUMMARY_TASKS 50
#define CELL_MAX 1024      /* bytes of one table cell's text before escaping */
#define SUMMARY_TAIL 8192  /* kept free for the lines after the last table */

int tg_github_active(void)
{
	const char *v = getenv("GITHUB_ACTIONS");

	return v && strcmp(v, "true") == 0;
}

/* ---- workflow commands */

/* Escapes S into BUF (at most LEN bytes with the NUL), never cutting an escape in two. */
static const char *escape(const char *s, char *buf, size_t len, bool property)
{
	size_t o = 0;

	if (!buf || len == 0)
		return buf;
	for (; s && *s; s++) {
		const char *rep = NULL;
		char one[2] = { *s, '\0' };

		switch (*s) {
		case '%': rep = "%25"; break;
		case '\r': rep = "%0D"; break;
		case '\n': rep = "%0A"; break;
		case ':': rep = property ? "%3A" : NULL; break;
		case ',': rep = property ? "%2C" : NULL; break;
		}
		if (!rep)
			rep = one;
		if (o + strlen(rep) >= len)
			break;
		memcpy(buf + o, rep, strlen(rep));
		o += strlen(rep);
	}
	buf[o] = '\0';
	return buf;
}

const char *tg_github_escape_data(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, false);
}

const char *tg_github_escape_property(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, true);
}

static bool annotated(const struct tg_check *c)
{
	return c->status == TG_CHECK_FAILED || c->status == TG_CHECK_WARNED;
}

/* Errors before warnings, then the furthest past its limit; spec order on ties. */
static int worst_first(const void *a, const void *b)
{
	const struct tg_check *x = *(const struct tg_check *const *)a;
	const struct tg_check *y = *(const struct tg_check *const *)b;

	if (x->status != y->status)
		return x->status == TG_CHECK_FAILED ? -1 : 1;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The spec file from the repository's root, where a check has no culprit. */
static const char *spec_display_path(const struct tg_spec *spec, const char *root, char *buf, size_t len)
{
	const char *slash = strrchr(spec->path, '/');
	char abs[4096], rel[4096];

	if (!spec->dir)
		return spec->path;
	snprintf(abs, sizeof(abs), "%s/%s", spec->dir, slash ? slash + 1 : spec->path);
	snprintf(buf, len, "%s", tg_display_path(abs, root, rel, sizeof(rel)));
	return buf;
}

static void annotation(FILE *out, const struct tg_results *r, const struct tg_check *c)
{
	/* static: escaping may triple a text, too much for the stack */
	static char file[4096], prop[3 * 4096 + 1], msg[3 * 8192 + 1], text[8192], rel[4096];
	const struct tg_frame *f = c->culprit;
	const char *base = tg_results_root(r);
	int line = 0;

	/* GitHub places an annotation by a path from the repository's root */
	if (f && f->file) {
		snprintf(file, sizeof(file), "%s", tg_display_path(f->file, base, rel, sizeof(rel)));
		line = f->line;
	} else if (r->spec && r->spec->path) {
		snprintf(file, sizeof(file), "%s", spec_display_path(r->spec, base, rel, sizeof(rel)));
		line = c->entry ? c->entry->line : 0;
	} else {
		file[0] = 0;
	}
	fputs(c->status == TG_CHECK_FAILED ? "::error " : "::warning ", out);
	if (file[0])
		fprintf(out, "file=%s,", tg_github_escape_property(file, prop, sizeof(prop)));
	if (line > 0)
		fprintf(out, "line=%d,", line);
	fprintf(out, "title=%s::", tg_github_escape_property(c->name, prop, sizeof(prop)));
	if (f && !(f->function && strstr(c->message, f->function))) /* not said twice */
		snprintf(text, sizeof(text), "%s (culprit: %s)", c->message,
			 tg_frame_text(f, base, rel, sizeof(rel)));
	else
		snprintf(text, sizeof(text), "%s", c->message);
	if (c->output) /* a failed exec step: its own last words say why */
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "\n\nlast output:\n%.*s",
			 TG_CHECK_OUTPUT_BYTES, c->output);
	fprintf(out, "%s\n", tg_github_escape_data(text, msg, sizeof(msg)));
}

void tg_github_annotate(FILE *out, const struct tg_results *r)
{
	const struct tg_check **v;
	size_t n = 0;

	if (!out || !r || !r->nchecks)
		return;
	v = calloc(r->nchecks, sizeof(*v));
	if (!v) {
		fprintf(stderr, "tokio-guard: GitHub annotations skipped: out of memory\n");
		return;
	}
	for (size_t i = 0; i < r->nchecks; i++)
		if (annotated(&r->checks[i]))
			v[n++] = &r->checks[i];
	qsort(v, n, sizeof(*v), worst_first);
	for (size_t i = 0; i < n && i < TG_GITHUB_MAX_ANNOTATIONS; i++)
		annotation(out, r, v[i]);
	if (n > TG_GITHUB_MAX_ANNOTATIONS)
		fprintf(out, "::warning title=tokio-guard::%zu more failed or warned checks are not "
			"annotated: see the job summary and the JUnit report\n",
			n - TG_GITHUB_MAX_ANNOTATIONS);
	free(v);
	fflush(out);
}

/* ---- the job summary */

struct md {
	char *p;
	size_t len, cap;
	size_t max; /* bytes this summary may take */
	bool nomem;
};

static bool md_reserve(struct md *m, size_t more)
{
	size_t cap = m->cap ? m->cap : 4096;
	char *p;

	if (m->len + more + 1 <= m->cap)
		return true;
	while (cap < m->len + more + 1)
		cap *= 2;
	p = realloc(m->p, cap);
	if (!p) {
		m->nomem = true;
		return false;
	}
	m->p = p;
	m->cap = cap;
	return true;
}

static void md_put(struct md *m, const char *s, size_t n)
{
	if (!md_reserve(m, n))
		return;
	memcpy(m->p + m->len, s, n);
	m->len += n;
	m->p[m->len] = '\0';
}

static void md_printf(struct md *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void md_printf(struct md *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !md_reserve(m, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(m->p + m->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	m->len += (size_t)n;
}

/* S as inline text: no line breaks, no pipe or backslash that could end a
 * table cell, no HTML or emphasis; cut (at a character boundary) after CELL_MAX bytes. */
static void md_text(struct md *m, const char *s)
{
	const char *start = s;
	size_t n = 0;

	for (; s && *s; s++, n++) {
		char c = *s;

		if (n >= CELL_MAX && ((unsigned char)c & 0xc0) != 0x80) {
			md_put(m, "\xe2\x80\xa6", 3); /* … */
			break;
		}
		switch (c) {
		case '|': md_put(m, "\\|", 2); break;
		case '\\': md_put(m, "\\\\", 2); break;
		case '`': md_put(m, "\\`", 2); break;
		case '*': md_put(m, "\\*", 2); break;
		case '_':
			/* between two letters or digits an underscore cannot start or end
			 * emphasis (GFM): snake_case names stay readable in the raw file */
			if (s > start && isalnum((unsigned char)s[-1]) && isalnum((unsigned char)s[1]))
				md_put(m, "_", 1);
			else
				md_put(m, "\\_", 2);
			break;
		case '[': md_put(m, "\\[", 2); break;
		case ']': md_put(m, "\\]", 2); break;
		case '<': md_put(m, "&lt;", 4); break;
		case '>': md_put(m, "&gt;", 4); break;
		case '&': md_put(m, "&amp;", 5); break;
		default:
			if ((unsigned char)c < 0x20 || c == 0x7f)
				md_put(m, " ", 1);
			else
				md_put(m, &c, 1);
		}
	}
}

static void md_cell(struct md *m, const char *s)
{
	md_put(m, " ", 1);
	md_text(m, s);
	md_put(m, " |", 2);
}

/* S in a code span: a backtick would close it (shown as '), a pipe still ends
 * a table cell; nothing else is special inside. */
static void md_code(struct md *m, const char *s)
{
	size_t n = 0;

	if (!s || !s[0])
		return;
	md_put(m, "`", 1);
	for (; *s; s++, n++) {
		char c = *s;

		if (n >= CELL_MAX && ((unsigned char)c & 0xc0) != 0x80) {
			md_put(m, "\xe2\x80\xa6", 3); /* … */
			break;
		}

		if (c == '`')
			c = '\'';
		else if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == '|')
			md_put(m, "\\|", 2);
		else
			md_put(m, &c, 1);
	}
	md_put(m, "`", 1);
}

static void md_code_cell(struct md *m, const char *s)
{
	md_put(m, " ", 1);
	md_code(m, s);
	md_put(m, " |", 2);
}

/* A table: ROW(i) appends row i to a scratch buffer; rows that no longer fit the
 * budget (or beyond LIMIT) become one "... N more rows" line. */
typedef void (*row_fn)(struct md *m, const struct tg_results *r, size_t i);

static void md_table(struct md *m, const struct tg_results *r, const char *header, size_t n,
		     size_t limit, row_fn row)
{
	struct md scratch = { 0 };
	size_t i;

	md_printf(m, "%s", header);
	for (i = 0; i < n && i < limit; i++) {
		scratch.len = 0;
		row(&scratch, r, i);
		md_put(&scratch, "\n", 1);
		if (scratch.nomem || m->len + scratch.len + SUMMARY_TAIL > m->max)
			break;
		md_put(m, scratch.p, scratch.len);
	}
	if (i < n)
		md_printf(m, "\n... %zu more rows\n", n - i);
	md_put(m, "\n", 1);
	free(scratch.p);
}

static void check_row(struct md *m, const struct tg_results *r, size_t i)
{
	const struct tg_check *c = &r->checks[i];

	md_printf(m, c->status == TG_CHECK_FAILED ? "| **%s** |" : "| %s |",
		  tg_check_status_name(c->status));
	md_cell(m, c->name);
	md_cell(m, c->observed);
	md_cell(m, c->limit_text);
	md_cell(m, c->message);
}

static void span_row(struct md *m, const struct tg_results *r, size_t i)
{
	const struct tg_span *s = r->spans[i];
	const struct tg_frame *f = tg_span_culprit(s);
	char dur[32], loc[4096], allowed[1024];

	tg_format_duration(s->poll.duration_ns, dur, sizeof(dur));
	md_put(m, "|", 1);
	md_cell(m, dur);
	md_cell(m, tg_block_kind_title(s->kind));
	md_cell(m, s->task ? s->task : "?");
	md_cell(m, f && f->function ? f->function : "");
	md_code_cell(m, f ? tg_frame_location(f, tg_results_root(r), loc, sizeof(loc)) : "");
	snprintf(allowed, sizeof(allowed), "%s%s", s->allowed ? "yes: " : "no",
		 s->allowed && s->allow_reason ? s->allow_reason : "");
	md_cell(m, allowed);
}

/* Under the spans table: what each listed span kept from running (its cascade). */
static void span_cascades(struct md *m, const struct tg_results *r)
{
	char sentence[160];
	bool any = false;

	for (size_t i = 0; i < r->nspans && i < SUMMARY_SPANS; i++) {
		const struct tg_span *s = r->spans[i];

		tg_delayed_sentence(s->delayed, s->poll.duration_ns, sentence, sizeof(sentence));
		if (!sentence[0])
			continue;
		md_printf(m, "- ");
		md_code(m, s->task ? s->task : "?");
		md_printf(m, ": %s\n", sentence);
		any = true;
	}
	if (any)
		md_printf(m, "\n");
}

/* Runtime tasks only: the index maps over r->tasks skipping blocking-pool ones. */
static const struct tg_task_summary *runtime_task(const struct tg_results *r, size_t i)
{
	for (size_t k = 0; k < r->ntasks; k++)
		if (!r->tasks[k].blocking_pool && i-- == 0)
			return &r->tasks[k];
	return NULL;
}

static void task_row(struct md *m, const struct tg_results *r, size_t i)
{
	const struct tg_task_summary *t = runtime_task(r, i);
	char max[32], p50[32], p99[32], num[64];

	if (!t)
		return;
	tg_format_duration(t->max_ns, max, sizeof(max));
	tg_format_duration(t->p50_ns, p50, sizeof(p50));
	tg_format_duration(t->p99_ns, p99, sizeof(p99));
	md_put(m, "|", 1);
	md_cell(m, t->name);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)t->polls);
	md_cell(m, num);
	md_cell(m, max);
	md_cell(m, p50);
	md_cell(m, p99);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)t->blocking_spans);
	md_cell(m, num);
}

static void worker_row(struct md *m, const struct tg_results *r, size_t i)
{
	const struct tg_worker_util *w = &r->workers[i];

	md_put(m, "|", 1);
	md_cell(m, w->name && w->name[0] ? w->name : "thread");
	md_printf(m, " %u | %.1f%% | %.1f%% | %.1f%% |", w->tid, w->busy_pct, w->blocked_pct, w->idle_pct);
}

static void headline(struct md *m, const struct tg_results *r)
{
	size_t failed = tg_checks_count(r->checks, r->nchecks, TG_CHECK_FAILED);
	bool pass = failed == 0 && r->status == 0;

	md_printf(m, "## tokio-guard: ");
	md_text(m, r->spec && r->spec->name ? r->spec->name : "run");
	md_printf(m, " - %s\n\n", pass ? "passed" : "failed");
	md_printf(m, "%zu passed, %zu failed, %zu warned, %zu skipped",
		  tg_checks_count(r->checks, r->nchecks, TG_CHECK_PASSED), failed,
		  tg_checks_count(r->checks, r->nchecks, TG_CHECK_WARNED),
		  tg_checks_count(r->checks, r->nchecks, TG_CHECK_SKIPPED));
	if (tg_results_wall_s(r) > 0)
		md_printf(m, " in %.1fs", tg_results_wall_s(r));
	md_put(m, ".\n\n", 3);
	if (r->error && r->error[0]) {
		md_printf(m, "Error: ");
		md_text(m, r->error);
		md_printf(m, "\n\n");
	}
}

static void artifacts(struct md *m, const struct tg_results *r)
{
	const char *paths[] = { r->html_path, r->junit_path, r->trace_path, r->results_path };
	bool any = false;

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		if (!paths[i] || !paths[i][0])
			continue;
		md_printf(m, "%s", any ? ", " : "Reports (upload them as artifacts): ");
		md_code(m, paths[i]);
		any = true;
	}
	if (r->html_path && r->html_path[0])
		md_printf(m, ". Open report.html from the run's artifact for the timeline, flame graph "
			  "and histograms");
	if (any)
		md_printf(m, ". The trace opens in https://ui.perfetto.dev.\n");
}

static size_t runtime_tasks(const struct tg_results *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ntasks; i++)
		n += !r->tasks[i].blocking_pool;
	return n;
}

/* Writes all of BUF to the end of PATH. */
static int append_file(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open the GitHub step summary: %s", path, strerror(-rc));
		return rc;
	}
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: cannot write the GitHub step summary: %s", path,
				 strerror(-rc));
			break;
		}
		buf += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot write the GitHub step summary: %s", path, strerror(-rc));
	}
	return rc;
}

int tg_github_summary(const char *path, const struct tg_results *r, char *err, size_t errlen)
{
	struct md m = { 0 };
	struct stat st;
	size_t used = 0;
	int rc;

	if (!path || !path[0] || !r) {
		snprintf(err, errlen, "GitHub step summary: no file given (GITHUB_STEP_SUMMARY is empty)");
		return -EINVAL;
	}
	if (stat(path, &st) == 0 && st.st_size > 0)
		used = (size_t)st.st_size;
	if (used + 2 * SUMMARY_TAIL > TG_GITHUB_SUMMARY_MAX) {
		snprintf(err, errlen, "%s: the GitHub step summary is already near its 1 MiB limit; "
			 "tokio-guard's summary was left out", path);
		return -EFBIG;
	}
	m.max = TG_GITHUB_SUMMARY_MAX - used;
	headline(&m, r);
	if (r->nchecks) {
		md_printf(&m, "### Assertions\n\n");
		md_table(&m, r, "| Status | Check | Observed | Limit | Message |\n|---|---|---|---|---|\n",
			 r->nchecks, r->nchecks, check_row);
	}
	md_printf(&m, "### Worst blocking spans (%zu)\n\n", r->nspans);
	if (r->nspans)
		md_table(&m, r, "| Duration | Kind | Task | Culprit | Location | Allowed |\n"
			 "|---:|---|---|---|---|---|\n", r->nspans, SUMMARY_SPANS, span_row);
	if (r->nspans)
		span_cascades(&m, r);
	else
		md_printf(&m, "No poll held a worker past the blocking threshold.\n\n");
	if (runtime_tasks(r)) {
		md_printf(&m, "### Task polls\n\n");
		md_table(&m, r, "| Task | Polls | Max | p50 | p99 | Blocking spans |\n"
			 "|---|---:|---:|---:|---:|---:|\n", runtime_tasks(r), SUMMARY_TASKS, task_row);
	}
	if (r->cpu_profile) {
		char top[2048];

		md_printf(&m, "### CPU profile\n\nTop functions by self share: ");
		md_text(&m, tg_cpu_top_text(r, 5, top, sizeof(top)));
		md_printf(&m, " (folded stacks: `cpu.folded`)\n\n");
	}
	if (r->nworkers) {
		md_printf(&m, "### Workers\n\n");
		md_table(&m, r, "| Thread | Tid | Busy | Blocked | Idle |\n|---|---:|---:|---:|---:|\n",
			 r->nworkers, SUMMARY_TASKS, worker_row);
	}
	artifacts(&m, r);
	if (m.nomem) {
		free(m.p);
		snprintf(err, errlen, "%s: GitHub step summary not written: out of memory", path);
		return -ENOMEM;
	}
	rc = append_file(path, m.p, m.len, err, errlen);
	free(m.p);
	return rc;
}
