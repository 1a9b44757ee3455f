// SPDX-License-Identifier: MIT
/* tokio-guard: catch blocking in Tokio tasks, in CI, without changing the program. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_attach.h"
#include "session.h"
#include "usage.h"
#include "report_cmd.h"
#include "spec.h"

static const char synopsis[] =
	"usage: tokio-guard run SPEC.yaml [--out-dir DIR] [--results FILE] [--junit FILE]\n"
	"                                 [--trace FILE] [--baseline RESULTS.json] [--live|--no-live]\n"
	"                                 [--quiet] [--verbose]\n"
	"       tokio-guard run [--duration D] [--out-dir DIR] [--threshold 10ms] -- CMD [ARGS...]\n"
	"       tokio-guard attach PID [--duration D] [SPEC.yaml] [--out-dir DIR] [--live|--no-live]\n"
	"       tokio-guard check SPEC.yaml   validate the spec only (no probes, no root)\n"
	"       tokio-guard report RESULTS.json [--spec SPEC.yaml] [--baseline B.json] [--out-dir DIR]\n"
	"                                     re-check a saved run, rewrite its reports (no root)\n"
	"       tokio-guard diff BASE.json NEW.json [--markdown FILE] [--limit 25%]\n"
	"                                     compare two runs per task (Markdown table)\n"
	"       tokio-guard help [COMMAND] | COMMAND --help | --version\n";

static const char details[] =
	"\n"
	"Runs the spec's target under eBPF probes on every Tokio task poll, drives its load\n"
	"steps, and reports the polls that blocked a worker thread. The target's output is\n"
	"kept in the output folder (target.stdout.log, target.stderr.log) and echoed as\n"
	"`target| ...`; progress goes to stderr. --quiet silences both; the verdict line and\n"
	"the failed checks still print. --live shows, while it runs, the worst blocking spans\n"
	"by culprit, each worker's busy share and polls per second, redrawn in place on a\n"
	"terminal (q quits, as Ctrl-C: the reports are still written; the target's output\n"
	"then goes only to its logs), or one line per new culprit elsewhere.\n"
	"check lists every error it finds in the spec (up to 20), each at file:line:column.\n"
	"Reports: junit.xml, trace.json (Perfetto / chrome://tracing) and results.json in\n"
	"--out-dir (default: the spec's report.dir); --junit/--trace/--results put one\n"
	"elsewhere. --baseline checks max_poll_regression against an earlier results.json.\n"	"run -- CMD runs CMD without a spec: default probe settings and the default check\n"
	"(max_blocking_spans: 0), until --duration, Ctrl-C or its exit. attach PID probes a\n"
	"running process the same way (a SPEC.yaml adds its probe settings, load and\n"
	"assertions; its target section is ignored) and never stops, signals or reaps it.\n"
	"For both, Ctrl-C ends the run normally: reports are written and the verdict decides.\n"
	"Under GitHub Actions (GITHUB_ACTIONS=true) failures become annotations and a\n"
	"summary is appended to $GITHUB_STEP_SUMMARY.\n"
	"\n"
	"exit codes: 0 passed, 1 assertion failed, 2 bad usage or spec, 3 environment\n"
	"(no eBPF/BTF, no permission, no poll sites or not a Tokio program, nothing observed),\n"
	"4 target or load failure (attach: no such process), 130/143 interrupted by\n"
	"SIGINT/SIGTERM (attach and run -- CMD: SIGINT gives the verdict).\n";

static int help(void)
{
	fputs(synopsis, stdout);
	fputs(details, stdout);
	return TG_EXIT_OK;
}

#define bad_usage(...) tg_usage_error(synopsis, __VA_ARGS__)

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* --help or -h anywhere among a command's options (not after "--", which ends them). */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

static int cmd_check(int argc, char **argv)
{
	static struct tg_spec_errors errs; /* 10 KiB: off the stack */
	struct tg_spec spec;

	if (wants_help(argc, argv))
		return help();
	if (argc < 2)
		return bad_usage("check needs a SPEC.yaml");
	if (argc > 2)
		return bad_usage("check takes one SPEC.yaml, got %d arguments (the second is '%s')",
				 argc - 1, argv[2]);
	if (tg_spec_load_all(argv[1], &spec, &errs)) {
		tg_spec_errors_print(stderr, argv[1], &errs, 0);
		return TG_EXIT_USAGE;
	}
	printf("%s: ok (%s, %zu load steps, %zu assertions, %zu allowed)\n", argv[1], spec.name,
	       spec.nsteps, spec.nassertions, spec.nallow);
	tg_spec_free(&spec);
	return TG_EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	enum { OPT_OUT = 256, OPT_RESULTS, OPT_JUNIT, OPT_TRACE, OPT_BASELINE, OPT_LIVE, OPT_NO_LIVE };
	static const struct option opts[] = {
		{ "out-dir", required_argument, NULL, OPT_OUT },
		{ "results", required_argument, NULL, OPT_RESULTS },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "no-live", no_argument, NULL, OPT_NO_LIVE },
		{ 0 },
	};
	struct tg_run_opts ro = { 0 };
	char why[512];
	int c;

	if (wants_help(argc, argv))
		return help();
	if (tg_cli_is_adhoc(argc, argv)) /* run -- CMD: cli_attach.c */
		return tg_cli_parse(argc, argv, true, &ro, why, sizeof(why)) ? bad_usage("%s", why)
									       : tg_session_run(&ro);
	optind = 1;
	opterr = 0; /* our own messages: getopt's would say "run:", not "tokio-guard:" */
	while ((c = getopt_long(argc, argv, ":qv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT: ro.out_dir = optarg; break;
		case OPT_RESULTS: ro.results_file = optarg; break;
		case OPT_JUNIT: ro.junit_file = optarg; break;
		case OPT_TRACE: ro.trace_file = optarg; break;
		case OPT_BASELINE: ro.baseline = optarg; break;
		case 'q': ro.quiet = true; break;
		case 'v': ro.verbose = true; break;
		case OPT_LIVE: ro.live = true; break;
		case OPT_NO_LIVE: ro.live = false; break;
		case ':':
			return bad_usage("run: %s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return bad_usage("run: unknown option '-%c'", optopt);
			return bad_usage("run: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return bad_usage("run needs a SPEC.yaml");
	if (optind != argc - 1)
		return bad_usage("run takes one SPEC.yaml, got %d arguments (the second is '%s')",
				 argc - optind, argv[optind + 1]);
	ro.spec_path = argv[optind];
	return tg_session_run(&ro);
}

static int cmd_attach(int argc, char **argv)
{
	struct tg_run_opts ro;
	char why[512];

	if (wants_help(argc, argv))
		return help();
	if (tg_cli_parse(argc, argv, false, &ro, why, sizeof(why)))
		return bad_usage("%s", why);
	return tg_session_run(&ro);
}

/* help [COMMAND]: the one usage text covers every command. */
static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return bad_usage("help takes at most one COMMAND");
	if (argc == 2 && !strcmp(argv[1], "report")) {
		fputs(tg_report_help, stdout);
		return TG_EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "diff")) {
		fputs(tg_diff_help, stdout);
		return TG_EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "run") && strcmp(argv[1], "check") && strcmp(argv[1], "help") &&
	    strcmp(argv[1], "attach"))
		return bad_usage("help: unknown command '%s' (the commands are run, attach, check, report "
				 "and diff)", argv[1]);
	return help();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("no command given (the commands are run, attach, check, report and diff)");
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tokio-guard %s\n", TG_VERSION);
		return TG_EXIT_OK;
	}
	if (is_help(argv[1]))
		return help();
	if (!strcmp(argv[1], "help"))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return tg_report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return tg_diff_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	return bad_usage("unknown command '%s' (the commands are run, attach, check, report and diff)",
			 argv[1]);
}
