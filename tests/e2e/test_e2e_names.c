/* A --baseline from another build matches by task name: tests/targets/names
 * built without debug info and legacy symbols (names-d0), then with full
 * debug info, fat LTO and v0 symbols (v0/names-d2-lto), each run under the
 * probes with the same HTTP load. Both runs see the same task names, and the
 * second run's max_poll_regression finds the first run's task (passed, not
 * skipped for want of a match). Needs root and the names_target builds;
 * skipped without them. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"

#define DIR TG_BINARY_DIR "/names-target"
#define D0 DIR "/names-d0/names-target"
#define D2 DIR "/v0/names-d2-lto/names-target"
#define CONN "hyper::server::conn::http1::Connection (names_target::handle)"

static char tmp[] = "/tmp/tg-e2e-names-XXXXXX";

/* Runs EXE under tokio-guard into TMP/NAME; returns its results.json parsed. */
static cJSON *run(const char *name, const char *exe, const char *baseline)
{
	char spec[256], out[256], results[300], *text;
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL, NULL, NULL };
	int port = e2e_free_port(), rc;
	cJSON *r;

	snprintf(spec, sizeof(spec), "%s/%s.yaml", tmp, name);
	snprintf(out, sizeof(out), "%s/%s", tmp, name);
	assert_true(asprintf(&text,
		"version: 1\n"
		"name: names-%s\n"
		"target:\n"
		"  command: [\"%s\", \"%d\"]\n"
		"  ready: { log: \"tasks done: ok\" }\n" /* the target's own word: every task ran */
		"load:\n"
		"  - name: traffic\n"
		"    http: { url: \"http://127.0.0.1:%d/x\" }\n"
		"    concurrency: 4\n"
		"    requests: 2000\n"
		"assertions:\n"
		"  - task: \"" CONN "\"\n"
		"    max_poll_regression: 100000%%\n"
		"  - task: \"names_target::*\"\n"
		"    min_polls: 1\n", name, exe, port, port) > 0);
	assert_true(tg_test_write(spec, text));
	free(text);
	if (baseline) {
		args[5] = "--baseline";
		args[6] = baseline;
	}
	rc = e2e_run(TG_EXE, args, NULL);
	assert_int_equal(rc, 0);
	snprintf(results, sizeof(results), "%s/results.json", out);
	text = tg_test_read(results, NULL);
	assert_non_null(text);
	r = cJSON_Parse(text);
	free(text);
	assert_non_null(r);
	return r;
}

/* The runtime task names of a run, sorted, one string "a\nb\n...". */
static char *task_names(const cJSON *r)
{
	const cJSON *t;
	char *names[128], *out;
	size_t n = 0, len = 1;

	cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "tasks")) {
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(t, "kind"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(t, "name"));

		if (kind && name && strcmp(kind, "runtime") == 0 && n < 128) {
			names[n++] = (char *)name;
			len += strlen(name) + 1;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *x = names[j];

			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	out = calloc(1, len);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		strcat(strcat(out, names[i]), "\n");
	return out;
}

static const cJSON *check_named(const cJSON *r, const char *prefix)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(r, "assertions")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(a, "name"));

		if (name && strncmp(name, prefix, strlen(prefix)) == 0)
			return a;
	}
	return NULL;
}

static void test_baseline_from_another_build_matches(void **state)
{
	char baseline[300];
	cJSON *a, *b;
	char *na, *nb;
	const cJSON *reg;

	(void)state;
	if (geteuid() != 0 || access(D0, X_OK) != 0 || access(D2, X_OK) != 0) {
		print_message("skipped: needs root and the names_target builds (%s, %s)\n", D0, D2);
		skip();
	}
	a = run("d0", D0, NULL);
	snprintf(baseline, sizeof(baseline), "%s/d0/results.json", tmp);
	b = run("d2", D2, baseline);
	na = task_names(a);
	nb = task_names(b);
	print_message("task names, both builds:\n%s", nb);
	assert_string_equal(na, nb);
	assert_non_null(strstr(na, CONN "\n"));
	reg = check_named(b, "max_poll_regression");
	assert_non_null(reg);
	print_message("%s: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(reg, "status")),
		      cJSON_GetStringValue(cJSON_GetObjectItem(reg, "message")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(reg, "status")), "passed");
	free(na);
	free(nb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (!tg_test_rm_rf(tmp))
		print_message("could not remove %s\n", tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_from_another_build_matches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
