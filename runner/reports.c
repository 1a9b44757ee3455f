// SPDX-License-Identifier: MIT
/* Every report of a run, written in one place: `run` and `report` share it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports.h"
#include "session.h"
#include "launch.h"
#include "record.h"
#include "results_json.h"
#include "junit.h"
#include "trace.h"
#include "github.h"
#include "report_file.h"
#include "cpu_report.h"
#include "report_html.h"

/* A report's path: the command line's FILE as given, else NAME inside DIR. */
static int report_path(char out[PATH_MAX], const char *file, const char *dir, const char *name)
{
	int n = file ? snprintf(out, PATH_MAX, "%s", file)
		     : snprintf(out, PATH_MAX, "%.2048s/%.1024s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int tg_reports_paths(struct tg_reports *w, const char *dir, const char *results_file,
		     const char *results_name, const char *junit_file, const char *junit_name,
		     const char *trace_file, const char *trace_name)
{
	char tmp[PATH_MAX];

	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0755);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	if (report_path(w->results, results_file, w->dir, results_name) ||
	    report_path(w->junit, junit_file, w->dir, junit_name) ||
	    report_path(w->trace, trace_file, w->dir, trace_name) ||
	    report_path(w->html, NULL, w->dir, w->html_name ? w->html_name : "")) {
		errno = ENAMETOOLONG;
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Output belongs to the user the target runs as (by default the one behind
 * sudo), not to root. */
void tg_reports_give(const struct tg_reports *w, const char *path)
{
	if (!w->id || !w->id->set || geteuid() != 0 || !path[0])
		return;
	if (chown(path, w->id->uid, w->id->gid) && errno != ENOENT)
		fprintf(stderr, "tokio-guard: cannot give %s to %s: %s\n", path, w->id->name,
			strerror(errno));
}

/* Records one report's outcome; PATH goes into *SHOWN (the summary lists it) when it worked. */
static void write_one(struct tg_reports *w, struct tg_results *res, const char *path,
		      const char **shown, int r, const char *err)
{
	if (r) {
		/* a run without its reports does not pass: exit 3, said in results.json too */
		fprintf(stderr, "tokio-guard: %s\n", err);
		if (!*w->status) {
			*w->status = TG_EXIT_ENV;
			snprintf(w->error, w->errlen, "%s", err);
		}
		res->status = *w->status;
		res->error = w->error;
		return;
	}
	tg_reports_give(w, path);
	*shown = path;
}

/* A long run's memory budgets, when they left something out (results.json's probe.capped). */
static void note_caps(const struct tg_record_caps *c)
{
	if (c->slices_dropped)
		fprintf(stderr, "tokio-guard: note: kept the polls >= %.0fus for the trace in memory "
			"(%llu shorter ones left out)\n", (double)c->slice_floor_ns / 1e3,
			(unsigned long long)c->slices_dropped);
	if (c->spans_stackless || c->spans_dropped)
		fprintf(stderr, "tokio-guard: note: memory budget: %llu shorter blocking spans kept without "
			"stacks, %llu not kept (counted in the task statistics)\n",
			(unsigned long long)c->spans_stackless, (unsigned long long)c->spans_dropped);
}

/* SRC copied to DST whole (report_file.h: readers never see half a file). */
static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out, e = 0;
	ssize_t n;

	if (in < 0) {
		snprintf(err, errlen, "cannot read %.900s: %s", src, strerror(errno));
		return -errno;
	}
	out = tg_report_open(dst, tmp, sizeof(tmp));
	if (out < 0) {
		close(in);
		snprintf(err, errlen, "cannot write %.900s: %s", dst, strerror(-out));
		return out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			e = errno ? errno : EIO;
			break;
		}
	if (n < 0)
		e = errno;
	close(in);
	if (close(out) && !e)
		e = errno;
	e = -tg_report_commit(tmp, dst, -e);
	if (e)
		snprintf(err, errlen, "cannot write %.900s: %s", dst, strerror(e));
	return -e;
}

/* The trace: drawn from the record, or copied from the saved run's. */
static void write_trace(struct tg_reports *w, struct tg_results *res)
{
	struct tg_trace_stats ts = { 0 };
	char err[1024] = "", a[PATH_MAX], b[PATH_MAX];
	uint64_t capped;
	int r;

	if (!res->record) {
		if (!w->trace_src) /* nothing ran: no timeline to draw */
			return;
		/* the same file: it is already where it belongs */
		if (realpath(w->trace_src, a) && realpath(w->trace, b) && !strcmp(a, b)) {
			res->trace_path = w->trace;
			return;
		}
		if (access(w->trace_src, F_OK)) /* the run wrote none */
			return;
		r = copy_file(w->trace_src, w->trace, err, sizeof(err));
		write_one(w, res, w->trace, &res->trace_path, r, err);
		return;
	}
	r = tg_trace_write(w->trace, res, &ts, err, sizeof(err));
	write_one(w, res, w->trace, &res->trace_path, r, err);
	/* the record's own budget is noted below: only the file's is news here */
	capped = tg_record_caps(res->record)->slices_dropped;
	if (!r && ts.dropped > capped && !w->quiet)
		fprintf(stderr, "tokio-guard: note: the trace keeps polls >= %.0fus (%llu shorter ones left "
			"out to stay under %u MB; raise report.trace_min_poll to choose)\n",
			(double)ts.min_poll_ns / 1e3, (unsigned long long)(ts.dropped - capped),
			TG_TRACE_BUDGET_BYTES >> 20);
	if (!w->quiet)
		note_caps(tg_record_caps(res->record));
}

/* A view drawn from the files just written (as `report` rebuilds it): its
 * failure costs the page, never the verdict results.json already holds. */
static void write_html(struct tg_reports *w, struct tg_results *res)
{
	char err[1024];

	if (!w->html_name || !w->html_name[0] || !res->results_path || !res->results_path[0])
		return;
	if (tg_report_html_write(w->html, res->results_path, res->trace_path, err, sizeof(err))) {
		fprintf(stderr, "tokio-guard: warning: %s\n", err);
		return;
	}
	tg_reports_give(w, w->html);
	res->html_path = w->html;
}

/* cpu.folded beside the other reports, for inferno and speedscope. */
static void write_folded(struct tg_reports *w, struct tg_results *res)
{
	char path[PATH_MAX + 16], err[1024];

	if (!res->cpu_profile)
		return;
	snprintf(path, sizeof(path), "%s/%s", w->dir, TG_CPU_FOLDED_NAME);
	if (tg_cpu_folded_write(path, res, err, sizeof(err)))
		fprintf(stderr, "tokio-guard: warning: %s\n", err);
	else
		tg_reports_give(w, path);
}

void tg_reports_write(struct tg_reports *w, struct tg_results *res)
{
	char err[1024] = "";
	int r;

	tg_reports_give(w, w->dir);
	write_folded(w, res);
	r = tg_junit_write(w->junit, res, err, sizeof(err));
	write_one(w, res, w->junit, &res->junit_path, r, err);
	write_trace(w, res);
	/* results.json last: it names the other reports' outcome */
	r = tg_results_write(w->results, res, err, sizeof(err));
	write_one(w, res, w->results, &res->results_path, r, err);
	write_html(w, res);
}

void tg_reports_github(const struct tg_results *res)
{
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	char err[1024];

	if (!tg_github_active())
		return;
	tg_github_annotate(stdout, res);
	fflush(stdout);
	if (summary && summary[0] && tg_github_summary(summary, res, err, sizeof(err)))
		fprintf(stderr, "tokio-guard: %s\n", err);
}
