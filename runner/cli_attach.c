// SPDX-License-Identifier: MIT
/* Options of attach and ad hoc runs. getopt stops at "--", so the ad hoc
 * command's own options are never taken for ours. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_attach.h"
#include "spec.h"

enum { OPT_OUT = 256, OPT_DURATION, OPT_THRESHOLD, OPT_LIVE, OPT_NO_LIVE };

static const struct option opts[] = {
	{ "out-dir", required_argument, NULL, OPT_OUT },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "no-live", no_argument, NULL, OPT_NO_LIVE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

bool tg_cli_is_adhoc(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return true;
	return false;
}

static int bad(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	snprintf(why, len, fmt, a, b);
	return -EINVAL;
}

static int duration(const char *cmd, const char *opt, const char *text, uint64_t *ns, char *why,
		    size_t len)
{
	char msg[256];

	if (tg_parse_duration_msg(text, ns, msg, sizeof(msg)))
		return snprintf(why, len, "%s: %s: %s", cmd, opt, msg), -EINVAL;
	if (!*ns)
		return bad(why, len, "%s: %s must be more than 0", cmd, opt);
	return 0;
}

static int parse_pid(const char *text, pid_t *pid, char *why, size_t len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v <= 0 || v > INT_MAX || text[0] == '+' || text[0] == ' ')
		return bad(why, len, "attach: bad PID '%s' (a process id: a number above 0)%s", text, "");
	*pid = (pid_t)v;
	return 0;
}

/* Options up to the first non-option (attach: PID and SPEC may come among them). */
static int options(int argc, char **argv, bool adhoc, struct tg_run_opts *ro, char *why, size_t len)
{
	const char *cmd = adhoc ? "run" : "attach";
	int c;

	/* "+": stop at the first non-option only for the ad hoc command, whose CMD follows "--" */
	while ((c = getopt_long(argc, argv, adhoc ? "+:qv" : ":qv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT: ro->out_dir = optarg; break;
		case OPT_DURATION:
			if (duration(cmd, "--duration", optarg, &ro->duration_ns, why, len))
				return -EINVAL;
			break;
		case OPT_THRESHOLD:
			if (!adhoc)
				return bad(why, len, "%s: --threshold is for run -- CMD (a spec sets "
					   "probe.blocking_threshold)%s", cmd, "");
			if (duration(cmd, "--threshold", optarg, &ro->threshold_ns, why, len))
				return -EINVAL;
			break;
		case OPT_LIVE: ro->live = true; break;
		case OPT_NO_LIVE: ro->live = false; break;
		case 'q': ro->quiet = true; break;
		case 'v': ro->verbose = true; break;
		case ':': return bad(why, len, "%s: %s needs a value", cmd, argv[optind - 1]);
		default:
			if (optopt) {
				char o[3] = { '-', (char)optopt, 0 };

				return bad(why, len, "%s: unknown option '%s'", cmd, o);
			}
			return bad(why, len, "%s: unknown option '%s'", cmd, argv[optind - 1]);
		}
	}
	return 0;
}

int tg_cli_parse(int argc, char **argv, bool adhoc, struct tg_run_opts *ro, char *why, size_t len)
{
	*ro = (struct tg_run_opts){ .live = isatty(2) };
	optind = 1;
	opterr = 0; /* our own messages: getopt's would not start with "tokio-guard:" */
	if (options(argc, argv, adhoc, ro, why, len))
		return -EINVAL;
	if (adhoc) {
		/* getopt consumed the "--"; anything before it that is no option is a mistake */
		if (optind < argc && strcmp(argv[optind - 1], "--"))
			return bad(why, len, "run: '%s' before '--': a spec run takes no command, an ad "
				   "hoc run takes no spec%s", argv[optind], "");
		if (optind >= argc)
			return bad(why, len, "run: no command after '--'%s%s", "", "");
		ro->command = argv + optind;
		return 0;
	}
	if (optind == argc)
		return bad(why, len, "attach needs a PID%s%s", "", "");
	if (parse_pid(argv[optind], &ro->attach_pid, why, len))
		return -EINVAL;
	if (optind + 1 < argc)
		ro->spec_path = argv[optind + 1];
	if (optind + 2 < argc)
		return bad(why, len, "attach takes a PID and at most one SPEC.yaml (the third argument "
			   "is '%s')%s", argv[optind + 2], "");
	return 0;
}
