// SPDX-License-Identifier: MIT
/* A spec built in memory instead of read from a file: what spec.c's build()
 * gives a file that sets nothing but target.command. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adhoc.h"
#include "source_root.h"
#include "spec.h"
#include "spec_parse.h"

static char **copy_argv(char *const *argv)
{
	size_t n = 0;
	char **v;

	while (argv[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		if (!(v[i] = strdup(argv[i]))) {
			tg_strv_free(v);
			return NULL;
		}
	}
	return v;
}

static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return strdup(b && b[1] ? b + 1 : path);
}

int tg_spec_adhoc(char *const *argv, uint64_t threshold_ns, struct tg_spec *s, char *err,
		  size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (!argv || !argv[0] || !argv[0][0]) {
		snprintf(err, errlen, "no command given");
		return -EINVAL;
	}
	spec_defaults(s);
	if (threshold_ns)
		s->probe.blocking_threshold_ns = threshold_ns;
	s->path = strdup(TG_ADHOC_SPEC_PATH);
	s->dir = getcwd(NULL, 0);
	s->root = s->dir ? tg_source_root(s->dir) : NULL;
	s->name = base_name(argv[0]);
	s->target.argv = copy_argv(argv);
	s->target.cwd = s->dir ? strdup(s->dir) : NULL;
	s->target.env = calloc(1, sizeof(char *));
	s->report.dir = strdup("tokio-guard-out");
	s->report.junit = strdup("junit.xml");
	s->report.trace = strdup("trace.json");
	s->report.results = strdup("results.json");
	if (!s->path || !s->dir || !s->root || !s->name || !s->target.argv || !s->target.cwd ||
	    !s->target.env || !s->report.dir || !s->report.junit || !s->report.trace ||
	    !s->report.results) {
		snprintf(err, errlen, "cannot build the ad hoc spec: %s", strerror(errno ? errno : ENOMEM));
		return -ENOMEM;
	}
	return 0;
}
