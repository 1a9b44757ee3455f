// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tokio-guard: catch blocking in Tokio tasks, in CI, without changing the program. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "spec.h"

static const char usage[] =
	"usage: tokio-guard run SPEC.yaml [--out-dir DIR] [--results FILE] [--junit FILE]\n"
	"                                 [--trace FILE] [--baseline RESULTS.json] [--quiet] [--verbose]\n"
	"       tokio-guard check SPEC.yaml   validate the spec only (no probes, no root)\n"
	"       tokio-guard --version | --help\n"
	"\n"
	"Runs the spec's target under eBPF probes on every Tokio task poll, drives its load\n"
	"steps, and reports the polls that blocked a worker thread. The target's output is\n"
	"kept in the output folder (target.stdout.log, target.stderr.log) and echoed as\n"
	"`target| ...`; progress goes to stderr. --quiet silences both and the summary.\n"
	"Reports: junit.xml, trace.json (Perfetto / chrome://tracing) and results.json in\n"
	"--out-dir (default: the spec's report.dir); --junit/--trace/--results put one\n"
	"elsewhere. --baseline checks max_poll_regression against an earlier results.json.\n"
	"Under GitHub Actions (GITHUB_ACTIONS=true) failures become annotations and a\n"
	"summary is appended to $GITHUB_STEP_SUMMARY.\n"
	"\n"
	"exit codes: 0 passed, 1 assertion failed, 2 bad usage or spec, 3 environment\n"
	"(no eBPF/BTF, no permission, no poll sites, nothing observed), 4 target or load\n"
	"failure, 130/143 interrupted by SIGINT/SIGTERM.\n";

static int cmd_check(int argc, char **argv)
{
	struct tg_spec spec;
	char err[1024];

	if (argc != 2) {
		fputs(usage, stderr);
		return TG_EXIT_USAGE;
	}
	if (tg_spec_load(argv[1], &spec, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return TG_EXIT_USAGE;
	}
	printf("%s: ok (%s, %zu load steps, %zu assertions, %zu allowed)\n", argv[1], spec.name,
	       spec.nsteps, spec.nassertions, spec.nallow);
	tg_spec_free(&spec);
	return TG_EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	enum { OPT_OUT = 256, OPT_RESULTS, OPT_JUNIT, OPT_TRACE, OPT_BASELINE };
	static const struct option opts[] = {
		{ "out-dir", required_argument, NULL, OPT_OUT },
		{ "results", required_argument, NULL, OPT_RESULTS },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct tg_run_opts ro = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT: ro.out_dir = optarg; break;
		case OPT_RESULTS: ro.results_file = optarg; break;
		case OPT_JUNIT: ro.junit_file = optarg; break;
		case OPT_TRACE: ro.trace_file = optarg; break;
		case OPT_BASELINE: ro.baseline = optarg; break;
		case 'q': ro.quiet = true; break;
		case 'v': ro.verbose = true; break;
		default:
			fputs(usage, stderr);
			return TG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tokio-guard: run needs exactly one SPEC.yaml\n%s", usage);
		return TG_EXIT_USAGE;
	}
	ro.spec_path = argv[optind];
	return tg_session_run(&ro);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return TG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tokio-guard %s\n", TG_VERSION);
		return TG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return TG_EXIT_OK;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "tokio-guard: unknown command '%s'\n%s", argv[1], usage);
	return TG_EXIT_USAGE;
}
