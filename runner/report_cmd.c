// SPDX-License-Identifier: MIT
/* tokio-guard report RESULTS.json: the saved run's assertions checked again
 * (against its spec, or an edited one) and every report rewritten, through
 * the same checks and writers as `run`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_profile.h"
#include "cpu_report.h"
#include "report_cmd.h"
#include "reports.h"
#include "session.h"
#include "usage.h"
#include "results_load.h"
#include "checks.h"
#include "summary.h"
#include "spec.h"

const char tg_report_help[] =
	"usage: tokio-guard report RESULTS.json [--spec SPEC.yaml] [--baseline B.json] [--out-dir DIR]\n"
	"\n"
	"Checks a saved run's assertions again, without probes or root, and rewrites every\n"
	"report (junit.xml, results.json, the GitHub annotations and step summary; trace.json\n"
	"is copied as the run wrote it). --spec: the spec to check against (default: the one\n"
	"the run used, as results.json names it), e.g. with a threshold changed or an assertion\n"
	"removed. --baseline: an earlier results.json for max_poll_regression. --out-dir: where\n"
	"the reports go (default: RESULTS.json's folder). An unchanged spec gives the run's\n"
	"verdict, statuses and observed values.\n"
	"\n"
	"exit codes: as run: 0 passed, 1 assertion failed, 2 bad usage, spec or results.json;\n"
	"a run that ended in an error (3, 4) keeps its exit code.\n";

struct report_opts {
	const char *results, *spec, *baseline, *out_dir;
};

static const char report_usage[] =
	"usage: tokio-guard report RESULTS.json [--spec SPEC.yaml] [--baseline B.json] [--out-dir DIR]\n";

#define usage_error(...) tg_usage_error(report_usage, __VA_ARGS__)

static int parse(int argc, char **argv, struct report_opts *o)
{
	enum { OPT_SPEC = 256, OPT_BASELINE, OPT_OUT };
	static const struct option opts[] = {
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "out-dir", required_argument, NULL, OPT_OUT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SPEC: o->spec = optarg; break;
		case OPT_BASELINE: o->baseline = optarg; break;
		case OPT_OUT: o->out_dir = optarg; break;
		case 'h': fputs(tg_report_help, stdout); return -1;
		case ':': return usage_error("report: %s needs a value", argv[optind - 1]);
		default: return usage_error("report: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return usage_error("report needs a RESULTS.json (the results.json of a run)");
	if (optind != argc - 1)
		return usage_error("report takes one RESULTS.json, got %d arguments (the second is '%s')",
				   argc - optind, argv[optind + 1]);
	o->results = argv[optind];
	return 0;
}

/* The spec: --spec, else the one the run recorded. */
static int load_spec(const struct report_opts *o, const struct tg_saved_run *run, struct tg_spec *spec)
{
	static struct tg_spec_errors errs; /* 10 KiB: off the stack */
	/* as the run named it when that still reads from here: the reports say the same */
	const char *path = o->spec ? o->spec : run->spec_given && !access(run->spec_given, R_OK) ?
			   run->spec_given : run->spec_file;

	if (!path) {
		fprintf(stderr, "tokio-guard: results %s names no spec: give it with --spec SPEC.yaml\n",
			o->results);
		return -1;
	}
	if (!o->spec && access(path, R_OK)) {
		fprintf(stderr, "tokio-guard: results %s: its spec %s is not readable here (%s): give it "
			"with --spec SPEC.yaml\n", o->results, path, strerror(errno));
		return -1;
	}
	if (tg_spec_load_all(path, spec, &errs)) {
		/* as run says them: the first, then the rest */
		fprintf(stderr, "tokio-guard: %s\n", errs.msg[0]);
		if (errs.n > 1 || errs.more)
			tg_spec_errors_print(stderr, path, &errs, 1);
		return -1;
	}
	return 0;
}

static int longest_first(const void *a, const void *b)
{
	const struct tg_span *x = *(const struct tg_span *const *)a, *y = *(const struct tg_span *const *)b;

	return x->poll.duration_ns < y->poll.duration_ns ? 1 : x->poll.duration_ns > y->poll.duration_ns ? -1 : 0;
}

/* What the run's evaluate() did, on what it saw (session.c). */
static int evaluate(struct tg_saved_run *run, const struct tg_baseline *baseline,
		    struct tg_check **checks, size_t *nchecks, const struct tg_span ***by_length)
{
	struct tg_results *r = &run->res;
	struct tg_assert_input in = {
		.spec = r->spec, .tasks = run->tasks, .ntasks = run->ntasks,
		.spans = run->spans, .nspans = run->nspans, .steps = run->steps, .nsteps = run->nsteps,
		.fns = run->fns, .nfns = run->saved.nfns, .baseline = baseline,
		.sched_measured = r->sched_measured, .probed = run->probed, .run_error = run->error,
		.polls = run->saved.polls, .lost_events = tg_results_lost_events(r),
		.target_pid = r->pid, .unprobed = r->unprobed, .nunprobed = r->nunprobed,
		.cpu = r->cpu_profile,
		.heap = r->heap,
		.workers = r->workers, .nworkers = r->nworkers,
	};

	tg_apply_allow(r->spec, run->spans, run->nspans);
	*by_length = calloc(run->nspans ? run->nspans : 1, sizeof(**by_length));
	if (!*by_length)
		return -ENOMEM;
	for (size_t i = 0; i < run->nspans; i++)
		(*by_length)[i] = &run->spans[i];
	qsort(*by_length, run->nspans, sizeof(**by_length), longest_first);
	r->spans = *by_length;
	r->nspans = run->nspans;
	if (tg_assert_eval(&in, checks, nchecks))
		return -ENOMEM;
	r->checks = *checks;
	r->nchecks = *nchecks;
	return 0;
}

/* Where the reports go, and the trace the run wrote. */
static int out_paths(const struct report_opts *o, const struct tg_spec *spec, struct tg_reports *w,
		     char *trace_src, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *in_dir, *name;

	snprintf(a, sizeof(a), "%s", o->results);
	snprintf(b, sizeof(b), "%s", o->results);
	in_dir = dirname(a);
	name = basename(b); /* results.json keeps its own name where it is rewritten */
	snprintf(trace_src, len, "%.2048s/%.1024s", in_dir, spec->report.trace);
	w->trace_src = trace_src;
	w->html_name = spec->report.html;
	if (tg_reports_paths(w, o->out_dir ? o->out_dir : in_dir, NULL, name, NULL, spec->report.junit,
			     NULL, spec->report.trace)) {
		fprintf(stderr, "tokio-guard: cannot create the output folder %s: %s\n", w->dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int recheck(const struct report_opts *o, struct tg_saved_run *run, const struct tg_spec *spec,
		   const struct tg_baseline *baseline)
{
	char error[1024] = "", trace_src[PATH_MAX];
	int status = 0;
	struct tg_reports w = { .status = &status, .error = error, .errlen = sizeof(error) };
	struct tg_results *r = &run->res;
	const struct tg_span **by_length = NULL;
	struct tg_check *checks = NULL;
	size_t nchecks = 0;

	if (tg_saved_run_bind(run, spec) || evaluate(run, baseline, &checks, &nchecks, &by_length)) {
		fprintf(stderr, "tokio-guard: out of memory while checking assertions\n");
		status = TG_EXIT_ENV;
		goto out;
	}
	/* a run that ended in an error keeps its exit code, as run's evaluate() does */
	if (run->error && run->exit_code > TG_EXIT_ASSERTION) {
		status = run->exit_code;
		snprintf(error, sizeof(error), "%s", run->error);
	} else {
		status = tg_checks_exit_code(checks, nchecks);
	}
	r->status = status;
	r->error = status ? error : NULL; /* as the run wrote it: "" for failed assertions */
	if (out_paths(o, spec, &w, trace_src, sizeof(trace_src))) {
		status = TG_EXIT_ENV;
		goto out;
	}
	tg_reports_write(&w, r);
	tg_summary_print(stderr, r, isatty(2) && !getenv("NO_COLOR"));
	tg_reports_github(r);
out:
	tg_checks_free(checks);
	free(by_length);
	return status;
}

int tg_report_main(int argc, char **argv)
{
	struct report_opts o = { 0 };
	struct tg_saved_run run;
	struct tg_spec spec;
	struct tg_baseline baseline;
	char err[1024];
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? TG_EXIT_OK : rc;
	if (tg_saved_run_load(o.results, &run, err, sizeof(err))) {
		fprintf(stderr, "tokio-guard: %s\n", err);
		return TG_EXIT_USAGE;
	}
	if (load_spec(&o, &run, &spec)) {
		tg_saved_run_free(&run);
		return TG_EXIT_USAGE;
	}
	if (o.baseline && tg_baseline_load(o.baseline, &baseline, err, sizeof(err))) {
		fprintf(stderr, "tokio-guard: %s\n", err);
		rc = TG_EXIT_USAGE;
	} else {
		struct tg_cpu_profile *cpu = tg_cpu_profile_load(run.doc, o.results);

		run.res.cpu_profile = cpu;
		rc = recheck(&o, &run, &spec, o.baseline ? &baseline : NULL);
		tg_cpu_profile_free(cpu);
		if (o.baseline)
			tg_baseline_free(&baseline);
	}
	tg_saved_run_free(&run);
	tg_spec_free(&spec);
	return rc;
}
