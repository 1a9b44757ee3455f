/* End-to-end: a frame that a tail call hid. blocking_kinds::nap's body is a
 * jmp into std::thread::sleep, so no stack walk sees nap; tokio-guard puts it
 * back from nap_task's `call nap`. The real blocking-server serves /nap under
 * real eBPF; its GUARD_EXAMPLE_LOG says how many naps ran and how long, the
 * `// guard:nap` marker where. Needs root and the built example; skips otherwise. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"
#include "e2e_truth.h"

#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"
#define KINDS_SRC TG_SOURCE_DIR "/examples/blocking-kinds/src/lib.rs"
#define NAP "blocking_kinds::nap"
#define MAX_NAPS 8

struct run {
	char dir[64];
	int status;
	cJSON *results;
	char *log;
};

static struct run plain, allowed;
static bool can_run;

/* A spec serving three naps of 20, 30 and 40 ms (above the 3 ms threshold),
 * with the YAML text EXTRA (allow entries, assertions). */
static void write_spec(const char *dir, int port, const char *extra)
{
	char *text, path[128];

	assert_true(asprintf(&text,
		"version: 1\n"
		"name: e2e-tail\n"
		"target:\n"
		"  command: [\"%s\", \"--port\", \"%d\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { tcp: \"127.0.0.1:%d\", timeout: 20s }\n"
		"  stop: { signal: SIGTERM, grace: 5s }\n"
		"probe:\n"
		"  blocking_threshold: 3ms\n"
		"load:\n"
		"  - exec: [\"curl\", \"-fsS\", \"-o\", \"/dev/null\", \"http://127.0.0.1:%d/nap?ms=20\",\n"
		"           \"-o\", \"/dev/null\", \"http://127.0.0.1:%d/nap?ms=30\",\n"
		"           \"-o\", \"/dev/null\", \"http://127.0.0.1:%d/nap?ms=40\"]\n"
		"    timeout: 60s\n"
		"%s",
		SERVER, port, dir, port, port, port, port, extra) > 0);
	snprintf(path, sizeof(path), "%s/guard.yaml", dir);
	assert_true(tg_test_write(path, text));
	free(text);
}

static void do_run(struct run *r, const char *extra)
{
	char spec[128], out[128], path[160];
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL };
	struct e2e_io io = { 0 };

	snprintf(r->dir, sizeof(r->dir), "/tmp/tg-e2e-tail-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	write_spec(r->dir, e2e_free_port(), extra);
	snprintf(spec, sizeof(spec), "%s/guard.yaml", r->dir);
	snprintf(out, sizeof(out), "%s/out", r->dir);
	r->status = e2e_run(TG_EXE, args, &io);
	snprintf(path, sizeof(path), "%s/out/results.json", r->dir);
	r->results = e2e_load_json(path);
	snprintf(path, sizeof(path), "%s/example.log", r->dir);
	r->log = tg_test_read(path, NULL);
}

static int setup(void **state)
{
	(void)state;
	can_run = geteuid() == 0 && access(SERVER, X_OK) == 0;
	if (!can_run)
		return 0;
	do_run(&plain, "assertions:\n  - function: \"" NAP "\"\n    max_blocking_spans: 0\n");
	do_run(&allowed, "allow:\n  - function: \"" NAP "\"\n    reason: \"e2e: naps are fine\"\n"
			 "assertions:\n  - function: \"" NAP "\"\n    max_blocking_spans: 0\n");
	return 0;
}

static void free_run(struct run *r)
{
	cJSON_Delete(r->results);
	free(r->log);
	if (r->dir[0] && !tg_test_rm_rf(r->dir))
		fprintf(stderr, "could not remove %s\n", r->dir);
}

static int teardown(void **state)
{
	(void)state;
	free_run(&plain);
	free_run(&allowed);
	return 0;
}

#define NEED_ROOT() E2E_SKIP_UNLESS(can_run, "needs root and the built blocking-server example")

static bool flag(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The spans of nap_task in R, at most MAX_NAPS. */
static size_t nap_spans(const struct run *r, const cJSON **out)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r->results, "blocking_spans"))
		if (strcmp(e2e_str(s, "task"), "blocking_server::nap_task") == 0 && n < MAX_NAPS)
			out[n++] = s;
	return n;
}

/* One span per nap the server measured, each as long as the server says. */
static size_t check_spans_match_log(const struct run *r, const cJSON **spans)
{
	struct e2e_section sec[MAX_NAPS];
	size_t nsec, n;

	assert_non_null(r->results);
	assert_non_null(r->log);
	nsec = e2e_sections(r->log, "nap", sec, MAX_NAPS);
	assert_int_equal(nsec, 3);
	n = nap_spans(r, spans);
	assert_int_equal(n, nsec);
	for (size_t i = 0; i < n; i++) {
		bool matched = false;

		double dur_us = e2e_num(spans[i], "duration_ns") / 1e3;
		double own_us = dur_us - e2e_num(spans[i], "runqueue_ns") / 1e3;

		/* as test_e2e: the poll holds the section, and of its own time no more */
		for (size_t j = 0; j < nsec && !matched; j++) {
			double tol = e2e_tolerance_us((double)sec[j].wall_us);

			matched = dur_us >= sec[j].wall_us - tol && own_us <= sec[j].wall_us + tol;
		}
		assert_true(matched);
	}
	return n;
}

/* nap sits, marked tail_call, between the sleep it jumped to and nap_task,
 * which called it; and it is the culprit, at the marker's line. */
static void test_stacks_hold_the_tail_call(void **state)
{
	const cJSON *spans[MAX_NAPS];
	int marker = e2e_marker_line(KINDS_SRC, "nap");

	(void)state;
	NEED_ROOT();
	size_t n = check_spans_match_log(&plain, spans);
	for (size_t i = 0; i < n; i++) {
		const cJSON *stack = cJSON_GetObjectItemCaseSensitive(spans[i], "stack");
		const cJSON *culprit = cJSON_GetObjectItemCaseSensitive(spans[i], "culprit");
		int depth = cJSON_GetArraySize(stack), at = -1;

		for (int k = 0; k < depth && at < 0; k++)
			if (strcmp(e2e_str(cJSON_GetArrayItem(stack, k), "function"), NAP) == 0)
				at = k;
		assert_true(at > 0 && at + 1 < depth);
		const cJSON *f = cJSON_GetArrayItem(stack, at);
		assert_true(flag(f, "tail_call"));
		assert_int_equal((int)e2e_num(f, "line"), marker);
		assert_non_null(strstr(e2e_str(cJSON_GetArrayItem(stack, at - 1), "function"), "std::thread"));
		assert_non_null(strstr(e2e_str(cJSON_GetArrayItem(stack, at - 1), "function"), "sleep"));
		assert_non_null(strstr(e2e_str(cJSON_GetArrayItem(stack, at + 1), "function"),
				       "blocking_server::nap_task"));
		/* nothing else in the stack was put back: the other calls were calls */
		for (int k = 0; k < depth; k++)
			assert_true(k == at || !flag(cJSON_GetArrayItem(stack, k), "tail_call"));
		assert_string_equal(e2e_str(culprit, "function"), NAP);
		assert_int_equal((int)e2e_num(culprit, "line"), marker);
		assert_true(flag(culprit, "tail_call"));
	}
}

static const cJSON *assertion(const struct run *r, const char *name)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(r->results, "assertions"))
		if (strcmp(e2e_str(a, "name"), name) == 0)
			return a;
	fail_msg("no assertion \"%s\" in results.json", name);
	return NULL;
}

/* A function selector naming nap selects the naps' spans. */
static void test_function_assertion_fails_on_naps(void **state)
{
	const cJSON *spans[MAX_NAPS];

	(void)state;
	NEED_ROOT();
	size_t n = check_spans_match_log(&plain, spans);
	const cJSON *a = assertion(&plain, "max_blocking_spans <= 0 [function=" NAP "]");
	assert_int_equal(plain.status, 1);
	assert_string_equal(e2e_str(a, "status"), "failed");
	assert_int_equal(atoi(e2e_str(a, "observed")), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_false(flag(spans[i], "allowed"));
}

/* An allow entry naming nap matches the stacks (it has no probe of its own):
 * every nap is allowed, and the selector counts none of them. */
static void test_allow_entry_allows_naps(void **state)
{
	const cJSON *spans[MAX_NAPS];

	(void)state;
	NEED_ROOT();
	size_t n = check_spans_match_log(&allowed, spans);
	for (size_t i = 0; i < n; i++)
		assert_true(flag(spans[i], "allowed"));
	assert_string_equal(e2e_str(assertion(&allowed, "max_blocking_spans <= 0 [function=" NAP "]"),
				    "status"), "passed");
	assert_int_equal(allowed.status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stacks_hold_the_tail_call),
		cmocka_unit_test(test_function_assertion_fails_on_naps),
		cmocka_unit_test(test_allow_entry_allows_naps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
