// SPDX-License-Identifier: MIT
/* junit.xml as action-junit-report (mikepenz), GitLab and Jenkins read it:
 * one testsuite per spec, one testcase per check, the worst spans of a failed
 * check in its <failure> body. Written with libxml2's xmlTextWriter (it
 * escapes < & " for us) into a temporary file renamed over PATH, so that a CI
 * step never reads half a report. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/xmlwriter.h>

#include "cpu_report.h"
#include "junit.h"
#include "report_file.h"
#include "checks.h"
#include "glob.h"
#include "heap_sites.h"
#include "heap_text.h"
#include "load.h"
#include "record.h"
#include "results_json.h"
#include "span_kind.h"
#include "spec.h"

#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif

/* Stack lines per span in a failure body: enough to reach the culprit's
 * callers, short enough for a CI page. */
#define TG_JUNIT_MAX_FRAMES 20
/* The tail of an exec step's output shown with its load check. */
#define TG_JUNIT_OUTPUT_TAIL 8192

/* ---- strings that are always well-formed XML 1.0 ---- */

/* Length of the valid UTF-8 sequence at S holding a character XML 1.0
 * allows (#x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF), or 0. */
static size_t xml_char_len(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r';
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0; /* overlong or beyond Unicode */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/* A malloc'd copy of S without the characters XML 1.0 cannot carry. ATTR:
 * line breaks and tabs become spaces, so that an attribute stays one line
 * for every reader. NULL only when out of memory. */
static char *xml_clean(const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = malloc(strlen((const char *)p) + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = xml_char_len(p);

		if (!n) {
			p++;
			continue;
		}
		if (attr && (*p == '\n' || *p == '\r' || *p == '\t'))
			*o++ = ' ';
		else
			memcpy(o, p, n), o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *v = xml_clean(value, true);
	int rc = v ? xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v) : -1;

	free(v);
	return rc < 0 ? -1 : 0;
}

__attribute__((format(printf, 3, 4)))
static int attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return attr(w, name, buf);
}

/* <NAME>TEXT</NAME>, TEXT cleaned but keeping its lines. */
static int text_element(xmlTextWriterPtr w, const char *name, const char *text)
{
	char *v = xml_clean(text, false);
	int rc = v ? xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST v) : -1;

	free(v);
	return rc < 0 ? -1 : 0;
}

/* ---- properties ---- */

/* ARG as a POSIX shell reads it back: bare when it only holds safe
 * characters, else in single quotes ('\'' for a quote inside). */
static void shell_quote(FILE *out, const char *arg)
{
	if (arg[0] && arg[strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_@%+=:,./-")] == '\0') {
		fputs(arg, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = arg; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out);
		else
			fputc(*p, out);
	}
	fputc('\'', out);
}

/* The target's argv joined as one shell command line; malloc'd or NULL. */
static char *command_line(char *const *argv)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			fputc(' ', f);
		shell_quote(f, argv[i]);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int property(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (xmlTextWriterStartElement(w, BAD_CAST "property") < 0 || attr(w, "name", name) < 0 ||
	    attr(w, "value", value) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	return 0;
}

static uint64_t runtime_polls(const struct tg_results *r)
{
	uint64_t n = 0;

	for (size_t i = 0; r->tasks && i < r->ntasks; i++)
		if (!r->tasks[i].blocking_pool)
			n += r->tasks[i].polls;
	return n;
}

/* probe.heap: "grew 7.6MB (peak 7.7MB live), ..." */
static int heap_property(xmlTextWriterPtr w, const struct tg_results *r)
{
	char line[256];

	if (!r->heap)
		return 0;
	tg_heap_headline(r->heap, line, sizeof(line));
	return property(w, "heap", line);
}

static int properties(xmlTextWriterPtr w, const struct tg_results *r)
{
	const struct tg_spec *spec = r->spec;
	char thr[32], num[32], poll[32], spans[32], top[2048];
	char *cmd = command_line(spec->target.argv);
	int rc = -1;

	if (!cmd)
		return -1;
	tg_format_duration(spec->probe.blocking_threshold_ns, thr, sizeof(thr));
	snprintf(num, sizeof(num), "%d", r->status);
	snprintf(poll, sizeof(poll), "%llu", (unsigned long long)runtime_polls(r));
	snprintf(spans, sizeof(spans), "%zu", r->nspans);
	if (xmlTextWriterStartElement(w, BAD_CAST "properties") < 0 ||
	    property(w, "tokio-guard.version", TG_VERSION) < 0 ||
	    (r->kernel && r->kernel[0] && property(w, "kernel", r->kernel) < 0) ||
	    property(w, "target.command", cmd) < 0 ||
	    (r->exe && r->exe[0] && property(w, "target.executable", r->exe) < 0) ||
	    (r->tokio_version && r->tokio_version[0] &&
	     property(w, "tokio.version", r->tokio_version) < 0) ||
	    property(w, "spec", spec->path ? spec->path : "") < 0 ||
	    property(w, "exit_code", num) < 0 ||
	    property(w, "blocking_threshold", thr) < 0 ||
	    property(w, "polls", poll) < 0 ||
	    property(w, "blocking_spans", spans) < 0 || heap_property(w, r) < 0 ||
	    (r->cpu_profile && property(w, "cpu_profile.top", tg_cpu_top_text(r, 5, top, sizeof(top))) < 0) ||
	    xmlTextWriterEndElement(w) < 0)
		goto out;
	rc = 0;
out:
	free(cmd);
	return rc;
}

/* ---- a check's body: observed value, worst spans, their stacks ---- */

static void span_lines(FILE *f, const struct tg_results *r, const struct tg_span *s, size_t no)
{
	const char *base = tg_results_root(r);
	char dur[32], text[8192];
	double at = s->poll.start_ns >= r->t0_ns ? (double)(s->poll.start_ns - r->t0_ns) / 1e9 : 0;
	int n = s->frames && s->nframes > 0 ? s->nframes : 0;

	tg_format_duration(s->poll.duration_ns, dur, sizeof(dur));
	fprintf(f, "#%zu %s %s (%s) in %s, tid %u, at +%.3fs\n", no, dur,
		s->poll.off_cpu_ns > s->on_cpu_ns ? "off-CPU" : "on-CPU", tg_block_kind_name(s->kind),
		s->task ? s->task : "[unknown task]", (unsigned)s->poll.tid, at);
	if (tg_span_culprit(s))
		fprintf(f, "   culprit: %s\n", tg_frame_text(tg_span_culprit(s), base, text, sizeof(text)));
	if (s->allowed)
		fprintf(f, "   allowed: %s\n", s->allow_reason ? s->allow_reason : "");
	tg_delayed_sentence(s->delayed, s->poll.duration_ns, text, sizeof(text));
	if (text[0])
		fprintf(f, "   %s\n", text);
	for (int i = 0; i < n && i < TG_JUNIT_MAX_FRAMES; i++) {
		const struct tg_frame *fr = &s->frames[i];
		const char *fn = fr->function ? fr->function : "[unknown]";

		tg_frame_location(fr, base, text, sizeof(text));
		if (text[0])
			fprintf(f, "   %s %s\n", text, fn);
		else
			fprintf(f, "   %s\n", fn);
	}
	if (n > TG_JUNIT_MAX_FRAMES)
		fprintf(f, "   ... %d more frames\n", n - TG_JUNIT_MAX_FRAMES);
}

/* The load step a load check stands for: "load: parent/child". */
static const struct tg_step_result *find_step(const struct tg_step_result *v, size_t n,
					      const char *path)
{
	for (size_t i = 0; v && i < n; i++) {
		size_t len = v[i].name ? strlen(v[i].name) : 0;

		if (!len || strncmp(path, v[i].name, len) != 0)
			continue;
		if (path[len] == '\0')
			return &v[i];
		if (path[len] == '/') {
			const struct tg_step_result *c = find_step(v[i].children, v[i].nchildren, path + len + 1);

			if (c)
				return c;
		}
	}
	return NULL;
}

/* What an exec step printed last: why it failed, most of the time. */
static void step_lines(FILE *f, const struct tg_results *r, const struct tg_check *c)
{
	const char *prefix = "load: ";
	const struct tg_step_result *st;

	if (c->group != TG_GROUP_LOAD || strncmp(c->name, prefix, strlen(prefix)) != 0)
		return;
	st = find_step(r->steps, r->nsteps, c->name + strlen(prefix));
	if (!st)
		return;
	if (!st->ok && st->error[0])
		fprintf(f, "error: %s\n", st->error);
	if (st->output && st->output[0]) {
		size_t len = strlen(st->output);
		const char *tail = st->output + (len > TG_JUNIT_OUTPUT_TAIL ? len - TG_JUNIT_OUTPUT_TAIL : 0);

		fprintf(f, "output%s:\n%s%s", tail != st->output ? " (tail)" : "", tail,
			st->output[len - 1] == '\n' ? "" : "\n");
	}
}

/* A heap limit's body: the run's heap, and the sites the selector holds. */
static void heap_lines(FILE *f, const struct tg_results *r, const struct tg_check *c)
{
	const char *glob = c->entry && c->entry->sel == TG_SEL_FUNCTION ? c->entry->pattern : NULL;
	char line[2048];
	size_t shown = 0;

	if (!r->heap || !c->limit || (c->limit->kind != TG_LIM_MAX_HEAP_GROWTH &&
				      c->limit->kind != TG_LIM_MAX_ALLOC_RATE))
		return;
	tg_heap_headline(r->heap, line, sizeof line);
	fprintf(f, "heap: %s\n", line);
	for (size_t i = 0; i < r->heap->nsites && shown < TG_CHECK_WORST; i++) {
		if (glob && !tg_glob_match(glob, r->heap->sites[i].function))
			continue;
		tg_heap_site_text(&r->heap->sites[i], tg_results_root(r), line, sizeof line);
		fprintf(f, "  %s\n", line);
		shown++;
	}
	tg_heap_caveats(r->heap, line, sizeof line);
	if (line[0])
		fprintf(f, "note: %s\n", line);
}

/* The failure or warning body; malloc'd or NULL. */
static char *check_body(const struct tg_results *r, const struct tg_check *c)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	if (c->observed[0] && c->limit_text[0])
		fprintf(f, "observed %s, limit %s\n", c->observed, c->limit_text);
	else if (c->observed[0])
		fprintf(f, "observed %s\n", c->observed);
	if (c->message[0])
		fprintf(f, "%s\n", c->message);
	for (size_t i = 0; i < c->nworst && i < TG_CHECK_WORST; i++)
		if (c->worst[i])
			span_lines(f, r, c->worst[i], i + 1);
	step_lines(f, r, c);
	heap_lines(f, r, c);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- testcases ---- */

/* "tokio-guard.max_poll", "tokio-guard.probe", "tokio-guard.load". */
static void failure_type(const struct tg_check *c, char *buf, size_t len)
{
	const char *key = c->limit ? tg_limit_name(c->limit->kind)
				   : c->group == TG_GROUP_PROBE ? "probe" : "load";

	snprintf(buf, len, "tokio-guard.%s", key ? key : "assertion");
}

/* C's name, made unique among the checks before it (tg_check promises
 * unique names; a report that silently merges two testcases would hide one). */
static void unique_name(const struct tg_check *checks, size_t idx, char *buf, size_t len)
{
	size_t dup = 0;

	for (size_t i = 0; i < idx; i++)
		dup += strcmp(checks[i].name, checks[idx].name) == 0;
	if (dup)
		snprintf(buf, len, "%s #%zu", checks[idx].name, dup + 1);
	else
		snprintf(buf, len, "%s", checks[idx].name);
}

static int location_attrs(xmlTextWriterPtr w, const struct tg_results *r, const struct tg_check *c)
{
	char rel[4096];
	const char *file;

	if (!c->culprit || !c->culprit->file || !c->culprit->file[0])
		return 0;
	file = tg_display_path(c->culprit->file, tg_results_root(r), rel, sizeof(rel));
	if (attr(w, "file", file) < 0)
		return -1;
	return c->culprit->line > 0 ? attrf(w, "line", "%d", c->culprit->line) : 0;
}

/* <failure message= type=>BODY</failure> */
static int failure_element(xmlTextWriterPtr w, const struct tg_check *c, const char *body)
{
	char type[128];
	char *v = xml_clean(body, false);
	int rc = -1;

	failure_type(c, type, sizeof(type));
	if (v && xmlTextWriterStartElement(w, BAD_CAST "failure") >= 0 &&
	    attr(w, "message", c->message[0] ? c->message : "failed") >= 0 &&
	    attr(w, "type", type) >= 0 && xmlTextWriterWriteString(w, BAD_CAST v) >= 0 &&
	    xmlTextWriterEndElement(w) >= 0)
		rc = 0;
	free(v);
	return rc;
}

/* <skipped message=/>, then BODY (a warning's spans) when there is one. */
static int skipped_element(xmlTextWriterPtr w, const char *message, const char *body)
{
	if (xmlTextWriterStartElement(w, BAD_CAST "skipped") < 0 || attr(w, "message", message) < 0 ||
	    xmlTextWriterEndElement(w) < 0)
		return -1;
	return body ? text_element(w, "system-out", body) : 0;
}

static int outcome(xmlTextWriterPtr w, const struct tg_results *r, const struct tg_check *c)
{
	char msg[sizeof(c->message) + 16];
	char *body = NULL;
	int rc = -1;

	switch (c->status) {
	case TG_CHECK_FAILED:
		if ((body = check_body(r, c)))
			rc = failure_element(w, c, body);
		break;
	case TG_CHECK_WARNED:
		snprintf(msg, sizeof(msg), "warning: %s", c->message[0] ? c->message : "limit exceeded");
		if ((body = check_body(r, c)))
			rc = skipped_element(w, msg, body);
		break;
	case TG_CHECK_SKIPPED:
		rc = skipped_element(w, c->message[0] ? c->message : "skipped", NULL);
		break;
	default:
		rc = c->message[0] ? text_element(w, "system-out", c->message) : 0;
		break;
	}
	free(body);
	return rc;
}

static int testcase(xmlTextWriterPtr w, const struct tg_results *r, size_t idx)
{
	const struct tg_check *c = &r->checks[idx];
	char name[sizeof(c->name) + 24];
	double t = c->time_s > 0 ? c->time_s : 0; /* also drops NaN */

	unique_name(r->checks, idx, name, sizeof(name));
	if (xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0 || attr(w, "name", name) < 0 ||
	    attr(w, "classname", c->classname[0] ? c->classname : "all") < 0 ||
	    attrf(w, "time", "%.6f", t) < 0 || location_attrs(w, r, c) < 0 ||
	    outcome(w, r, c) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	return 0;
}

/* ---- the document ---- */

struct counts {
	size_t tests, failures, skipped;
};

static struct counts count_checks(const struct tg_results *r)
{
	struct counts k = { .tests = r->nchecks };

	k.failures = tg_checks_count(r->checks, r->nchecks, TG_CHECK_FAILED);
	k.skipped = tg_checks_count(r->checks, r->nchecks, TG_CHECK_WARNED) +
		    tg_checks_count(r->checks, r->nchecks, TG_CHECK_SKIPPED);
	return k;
}

static int count_attrs(xmlTextWriterPtr w, const struct counts *k, double time_s)
{
	if (attrf(w, "tests", "%zu", k->tests) < 0 || attrf(w, "failures", "%zu", k->failures) < 0 ||
	    attr(w, "errors", "0") < 0 || attrf(w, "skipped", "%zu", k->skipped) < 0 ||
	    attrf(w, "time", "%.3f", time_s > 0 ? time_s : 0) < 0)
		return -1;
	return 0;
}

/* When the run started, in UTC: the JUnit schema's timestamp has no zone. */
static void start_timestamp(double duration_s, char *buf, size_t len)
{
	time_t start = time(NULL) - (time_t)(duration_s > 0 ? duration_s : 0);
	struct tm tm;

	if (!gmtime_r(&start, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "%s", "1970-01-01T00:00:00");
}

static int document(xmlTextWriterPtr w, const struct tg_results *r)
{
	struct counts k = count_checks(r);
	char stamp[32], host[256] = "localhost";

	start_timestamp(r->duration_s, stamp, sizeof(stamp));
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "%s", "localhost");
	host[sizeof(host) - 1] = '\0';
	if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "testsuites") < 0 ||
	    attr(w, "name", "tokio-guard") < 0 || count_attrs(w, &k, r->duration_s) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0 ||
	    attr(w, "name", r->spec->name && r->spec->name[0] ? r->spec->name : "tokio-guard") < 0 ||
	    count_attrs(w, &k, r->duration_s) < 0 || attr(w, "timestamp", stamp) < 0 ||
	    attr(w, "hostname", host) < 0 || properties(w, r) < 0)
		return -1;
	for (size_t i = 0; r->checks && i < r->nchecks; i++)
		if (testcase(w, r, i) < 0)
			return -1;
	if (xmlTextWriterEndElement(w) < 0 || xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterEndDocument(w) < 0)
		return -1;
	return 0;
}

/* ---- the file ---- */

struct sink {
	int fd;
	int err; /* the first write's errno */
};

static int sink_write(void *ctx, const char *buf, int len)
{
	struct sink *s = ctx;

	for (int done = 0; done < len;) {
		ssize_t n = write(s->fd, buf + done, (size_t)(len - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!s->err)
				s->err = n < 0 ? errno : EIO;
			return -1;
		}
		done += (int)n;
	}
	return len;
}


/* Writes the document to FD. 0 or -errno. */
static int write_fd(int fd, const struct tg_results *r)
{
	struct sink s = { .fd = fd };
	xmlOutputBufferPtr out = xmlOutputBufferCreateIO(sink_write, NULL, &s, NULL);
	xmlTextWriterPtr w = out ? xmlNewTextWriter(out) : NULL;
	int rc;

	if (!w) {
		if (out)
			xmlOutputBufferClose(out);
		return -ENOMEM;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	rc = document(w, r);
	if (xmlTextWriterFlush(w) < 0)
		rc = -1;
	xmlFreeTextWriter(w); /* frees OUT too */
	if (s.err)
		return -s.err;
	return rc < 0 ? -ENOMEM : 0; /* not a write error: the writer ran out of memory */
}

int tg_junit_write(const char *path, const struct tg_results *r, char *err, size_t errlen)
{
	char tmp[4096 + 32];
	int fd, rc;

	if (!path || !path[0] || !r || !r->spec) {
		snprintf(err, errlen, "junit: no report path or no results to write (internal error)");
		return -EINVAL;
	}
	if (strlen(path) > 4096) {
		snprintf(err, errlen, "junit: cannot write %.64s...: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = tg_report_open(path, tmp, sizeof(tmp));
	if (fd < 0) {
		snprintf(err, errlen, "junit: cannot create %s: %s (check the folder exists and is writable)",
			 path, strerror(-fd));
		return fd;
	}
	rc = write_fd(fd, r);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	rc = tg_report_commit(tmp, path, rc);
	if (rc < 0)
		snprintf(err, errlen, "junit: cannot write %s: %s", path, strerror(-rc));
	return rc;
}
