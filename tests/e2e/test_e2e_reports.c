/* End-to-end: the bundled example specs as a CI job would run them. The
 * blocking-server guard.yaml must fail with exit 1 and exactly the failing
 * testcases its header lists; clean.yaml must pass with exit 0; and run as in
 * GitHub Actions, the failures must come out as annotations and a step
 * summary. Real eBPF, real HTTP, real reports parsed back. Needs root. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "e2e_util.h"

#define EXAMPLE TG_SOURCE_DIR "/examples/blocking-server"
#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"

extern char **environ;

/* The failing testcases guard.yaml's header promises. */
static const char *const want_failed[] = {
	"max_poll <= 50ms [all]",
	"max_poll <= 10ms [task=blocking_server::cpu_task]",
	"max_blocking_spans <= 0 [function=blocking_kinds::sleepy]",
	"max_blocking_spans <= 0 [all]",
};
#define NFAILED (sizeof(want_failed) / sizeof(want_failed[0]))

struct testcase {
	char *name, *classname, *file, *line;
	bool failed, skipped;
	char *message;
};

struct junit {
	struct testcase tc[128];
	size_t n;
	long tests, failures, skipped;
};

static bool have_root;
static char tmp[] = "/tmp/tg-e2e-reports-XXXXXX";

#define NEED_ROOT() do { if (!have_root) skip(); } while (0)

static char *prop(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static long prop_long(xmlNode *n, const char *name)
{
	char *s = prop(n, name);
	long v = s ? strtol(s, NULL, 10) : -1;

	free(s);
	return v;
}

/* Every testcase of the one testsuite, with what tells its outcome. */
static void read_junit(const char *path, struct junit *j)
{
	xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	xmlNode *root, *suite, *c;

	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "testsuites");
	for (suite = root->children; suite && suite->type != XML_ELEMENT_NODE; suite = suite->next)
		;
	assert_non_null(suite);
	assert_string_equal((const char *)suite->name, "testsuite");
	j->tests = prop_long(suite, "tests");
	j->failures = prop_long(suite, "failures");
	j->skipped = prop_long(suite, "skipped");
	for (c = suite->children; c; c = c->next) {
		struct testcase *t;

		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "testcase"))
			continue;
		assert_true(j->n < 128);
		t = &j->tc[j->n++];
		memset(t, 0, sizeof(*t));
		t->name = prop(c, "name");
		t->classname = prop(c, "classname");
		t->file = prop(c, "file");
		t->line = prop(c, "line");
		for (xmlNode *k = c->children; k; k = k->next) {
			if (k->type != XML_ELEMENT_NODE)
				continue;
			if (!strcmp((const char *)k->name, "failure")) {
				t->failed = true;
				t->message = prop(k, "message");
			} else if (!strcmp((const char *)k->name, "skipped")) {
				t->skipped = true;
				t->message = prop(k, "message");
			}
		}
	}
	xmlFreeDoc(doc);
}

static void free_junit(struct junit *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->tc[i].name);
		free(j->tc[i].classname);
		free(j->tc[i].file);
		free(j->tc[i].line);
		free(j->tc[i].message);
	}
}

static const struct testcase *find(const struct junit *j, const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->tc[i].name, name))
			return &j->tc[i];
	return NULL;
}

/* Runs SPEC (a file of the example) into OUT with ENV; stdout to OUT/stdout.txt. */
static int run_example(const char *spec, const char *out, char *const *env, const char *baseline)
{
	char path[256], stdout_path[256];
	const char *args[] = { "run", path, "--out-dir", out, "--quiet", NULL, NULL, NULL };
	struct e2e_io io = { .out_path = stdout_path, .env = env };

	snprintf(path, sizeof(path), "%s/%s", EXAMPLE, spec);
	snprintf(stdout_path, sizeof(stdout_path), "%s/stdout.txt", out);
	mkdir(out, 0755);
	if (baseline) {
		args[5] = "--baseline";
		args[6] = baseline;
	}
	return e2e_run(TG_EXE, args, &io);
}

static int setup(void **state)
{
	have_root = geteuid() == 0 && access(SERVER, X_OK) == 0;
	if (have_root)
		assert_non_null(mkdtemp(tmp));
	return 0;
}

static void test_guard_fails_with_exactly_the_promised_testcases(void **state)
{
	char out[128], junit[160];
	struct junit j = { 0 };
	size_t failed = 0;
	const struct testcase *t;

	NEED_ROOT();
	snprintf(out, sizeof(out), "%s/fail", tmp);
	assert_int_equal(run_example("guard.yaml", out, environ, NULL), 1);
	snprintf(junit, sizeof(junit), "%s/junit.xml", out);
	read_junit(junit, &j);
	for (size_t i = 0; i < j.n; i++) {
		if (!j.tc[i].failed)
			continue;
		failed++;
		bool expected = false;

		for (size_t k = 0; k < NFAILED; k++)
			expected |= !strcmp(j.tc[i].name, want_failed[k]);
		if (!expected)
			fprintf(stderr, "  unexpected failure: %s: %s\n", j.tc[i].name, j.tc[i].message);
		assert_true(expected);
	}
	assert_int_equal(failed, NFAILED);
	assert_int_equal(j.failures, (long)NFAILED);
	/* the CPU task's failure points at the culprit line, from the repository's root */
	t = find(&j, want_failed[1]);
	assert_non_null(t);
	assert_string_equal(t->classname, "task=blocking_server::cpu_task");
	assert_non_null(t->file);
	assert_string_equal(t->file, "examples/blocking-kinds/src/lib.rs");
	assert_non_null(t->line);
	assert_true(atoi(t->line) > 0);
	assert_non_null(strstr(t->message, "blocking_server::cpu_task"));
	assert_non_null(strstr(t->message, "> 10ms"));
	/* warn mode never fails; no baseline skips the regression check */
	t = find(&j, "p99_latency <= 20ms [load=traffic]");
	assert_non_null(t);
	assert_false(t->failed);
	t = find(&j, "max_poll_regression <= 25% [task=blocking_server::file_task]");
	assert_non_null(t);
	assert_true(t->skipped);
	assert_non_null(strstr(t->message, "baseline"));
	/* the twins pass; probe health and every load step are testcases too */
	t = find(&j, "max_poll <= 25ms [task=blocking_server::*_ok_task]");
	assert_non_null(t);
	assert_false(t->failed || t->skipped);
	assert_non_null(find(&j, "probe: polls observed"));
	t = find(&j, "min_polls >= 3 [function=blocking_kinds::burn_cpu]");
	assert_non_null(t);
	assert_false(t->failed || t->skipped);
	t = find(&j, "p99_scheduling_delay <= 1s [all]");
	assert_non_null(t);
	assert_false(t->failed || t->skipped);
	assert_non_null(find(&j, "load: warmup"));
	assert_non_null(find(&j, "load: traffic-under-blocking/traffic"));
	free_junit(&j);
}

/* The allow-list is applied: file spans are allowed with their reason, in results.json. */
static void test_allowed_spans_carry_their_reason(void **state)
{
	char path[160], *text;
	const cJSON *s;
	cJSON *doc;
	size_t allowed = 0, counted = 0;

	NEED_ROOT();
	snprintf(path, sizeof(path), "%s/fail/results.json", tmp);
	text = tg_test_read(path, NULL);
	if (!text)
		skip(); /* the failing run did not happen */
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "blocking_spans")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "allow");
		const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "task"));

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "allowed"))) {
			allowed++;
			assert_string_equal(task, "blocking_server::file_task");
			assert_non_null(strstr(cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(a, "reason")), "accepted on purpose"));
		} else {
			counted++;
			assert_string_not_equal(task, "blocking_server::file_task");
		}
	}
	/* The two 20 ms file requests are allowed spans when their own time reached the
	 * threshold: a loaded machine keeps their fsync wakeups waiting for a CPU, and what
	 * is left of them may stay under 10 ms (own time, as spec.md's Additions define it). */
	const cJSON *task;
	double file_max = 0;
	cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(doc, "tasks"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "name")) ?: "",
			    "blocking_server::file_task"))
			file_max = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(task, "max_poll_ns"));
	if (file_max >= 10e6)
		assert_true(allowed >= 1);
	else
		fprintf(stderr, "note: file_task's longest own poll %.1f ms: no span to allow\n", file_max / 1e6);
	assert_true(counted >= 5);
	/* the opt-in probes ran: burn_cpu's polls counted exactly, wakes timed */
	const cJSON *f, *t;
	size_t timed = 0;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "function_selectors")) {
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "function")),
			   "blocking_kinds::burn_cpu"))
			continue;
		assert_true(cJSON_GetObjectItemCaseSensitive(f, "symbols_probed")->valuedouble >= 1);
		assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(f, "polls")->valuedouble, 3);
		/* a 50 ms spin lasts 50 ms of wall time; its own time is less when it waited for a CPU */
		assert_true(cJSON_GetObjectItemCaseSensitive(f, "max_poll_wall_ns")->valuedouble >= 49e6);
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tasks")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "scheduling_delay_ns");

		if (!d)
			continue;
		timed++;
		assert_true(cJSON_GetObjectItemCaseSensitive(d, "count")->valuedouble >= 1);
		assert_true(cJSON_GetObjectItemCaseSensitive(d, "max")->valuedouble >=
			    cJSON_GetObjectItemCaseSensitive(d, "p50")->valuedouble);
	}
	assert_true(timed >= 1);
	cJSON_Delete(doc);
}

static void test_clean_spec_passes(void **state)
{
	char out[128], junit[160];
	struct junit j = { 0 };

	NEED_ROOT();
	snprintf(out, sizeof(out), "%s/pass", tmp);
	assert_int_equal(run_example("clean.yaml", out, environ, NULL), 0);
	snprintf(junit, sizeof(junit), "%s/junit.xml", out);
	read_junit(junit, &j);
	assert_int_equal(j.failures, 0);
	assert_true(j.tests >= 7);
	for (size_t i = 0; i < j.n; i++)
		assert_false(j.tc[i].failed);
	assert_non_null(find(&j, "max_blocking_spans <= 0 [all]"));
	free_junit(&j);
}

/* The environment GitHub Actions gives a step. */
static char **github_env(const char *summary, char **owned)
{
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	assert_non_null(env);
	memcpy(env, environ, n * sizeof(*env));
	env[n++] = "GITHUB_ACTIONS=true";
	assert_true(asprintf(owned, "GITHUB_STEP_SUMMARY=%s", summary) > 0);
	env[n++] = *owned;
	env[n++] = "GITHUB_WORKSPACE=" TG_SOURCE_DIR;
	return env;
}

static void test_github_actions_annotations_and_summary(void **state)
{
	char out[128], summary[160], stdout_path[160], baseline[160], *text, *md, *owned;
	size_t errors = 0, escaped = 0;
	char **env;

	NEED_ROOT();
	snprintf(out, sizeof(out), "%s/gha", tmp);
	snprintf(summary, sizeof(summary), "%s/step-summary.md", tmp);
	assert_true(tg_test_write(summary, "earlier step's summary\n"));
	env = github_env(summary, &owned);
	/* the failing run's results as a baseline: the regression check runs */
	snprintf(baseline, sizeof(baseline), "%s/fail/results.json", tmp);
	assert_int_equal(run_example("guard.yaml", out, env, access(baseline, R_OK) ? NULL : baseline), 1);
	free(owned);
	free(env);
	snprintf(stdout_path, sizeof(stdout_path), "%s/stdout.txt", out);
	text = tg_test_read(stdout_path, NULL);
	assert_non_null(text);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "::error ", 8))
			continue;
		errors++;
		/* file relative to the workspace, a line, a title; properties escaped */
		assert_non_null(strstr(line, "file="));
		assert_non_null(strstr(line, ",line="));
		assert_non_null(strstr(line, ",title="));
		escaped += strstr(line, "title=max_blocking_spans <= 0 "
				  "[function=blocking_kinds%3A%3Asleepy]") != NULL;
		if (strstr(line, "cpu_task"))
			assert_non_null(strstr(line, "file=examples/blocking-kinds/src/lib.rs,"));
	}
	assert_int_equal(errors, NFAILED);
	assert_int_equal(escaped, 1); /* ':' in a property is %3A */
	free(text);
	md = tg_test_read(summary, NULL);
	assert_non_null(md);
	assert_true(strncmp(md, "earlier step's summary\n", 23) == 0); /* appended */
	assert_non_null(strstr(md, "tokio-guard"));
	assert_non_null(strstr(md, "blocking_server::cpu_task"));
	assert_non_null(strstr(md, "examples/blocking-kinds/src/lib.rs:"));
	assert_null(strstr(md, "../")); /* nothing relative to the spec's folder */
	assert_non_null(strstr(md, "| "));
	assert_true(strlen(md) < 1024 * 1024);
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_fails_with_exactly_the_promised_testcases),
		cmocka_unit_test(test_allowed_spans_carry_their_reason),
		cmocka_unit_test(test_clean_spec_passes),
		cmocka_unit_test(test_github_actions_annotations_and_summary),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
