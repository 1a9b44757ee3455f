/* End-to-end: a run longer than the record's budgets (record/caps.h), the
 * short version of bench/soak.sh. The blocking-server example takes /hello
 * as fast as 4 connections go with every poll a trace slice (trace_min_poll:
 * 0us) while a blocking sleep comes twice a second. Memory itself is measured by the bench; this checks
 * what the budgets must keep true (with report.trace_max_polls set low, so
 * that 30 s on a slow machine are past it, and the floor rises many times):
 *   - the slice floor rose, and every poll is accounted for: kept for the
 *     trace, below the raised floor, or lost in the ring (counted);
 *   - nothing was lost below the consumer's rate;
 *   - every blocking sleep the target measured of itself is a span whose
 *     culprit was resolved while the run went on, at the sleep's marker line.
 * Needs root. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
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
#define KEEP_SLICES 8192 /* report.trace_max_polls: a budget a short run can fill */
#define SECONDS 30
#define MAX_SLEEPS 256

static char dir[64];
static int status;
static cJSON *results;
static char *log_text;
static bool ready;

static int setup(void **state)
{
	char *spec, path[128], out[96];
	const char *args[] = { "run", path, "--out-dir", out, "--quiet", NULL };
	int port = e2e_free_port();

	(void)state;
	ready = geteuid() == 0 && access(SERVER, X_OK) == 0 && port > 0;
	if (!ready)
		return 0;
	snprintf(dir, sizeof dir, "/tmp/tg-e2e-soak-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&spec,
		"version: 1\n"
		"name: soak\n"
		"target:\n"
		"  command: [\"%s\", \"--port\", \"%d\", \"--workers\", \"2\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { tcp: \"127.0.0.1:%d\", timeout: 10s }\n"
		"probe: { blocking_threshold: 10ms }\n"
		"report: { trace_min_poll: 0us, trace_max_polls: %d }\n"
		"load:\n"
		"  - name: steady\n"
		"    parallel:\n"
		"      - name: traffic\n"
		"        http: { url: \"http://127.0.0.1:%d/hello\" }\n"
		"        concurrency: 4\n"
		"        duration: %ds\n"
		"      - name: sleeper\n"
		"        http: { url: \"http://127.0.0.1:%d/sleep?ms=15\" }\n"
		"        rate: 2/s\n"
		"        duration: %ds\n"
		"assertions: []\n",
		SERVER, port, dir, port, KEEP_SLICES, port, SECONDS, port, SECONDS) > 0);
	snprintf(path, sizeof path, "%s/guard.yaml", dir);
	assert_true(tg_test_write(path, spec));
	free(spec);
	snprintf(out, sizeof out, "%s/out", dir);
	status = e2e_run(TG_EXE, args, &(struct e2e_io){ 0 });
	snprintf(path, sizeof path, "%s/out/results.json", dir);
	results = e2e_load_json(path);
	snprintf(path, sizeof path, "%s/example.log", dir);
	log_text = tg_test_read(path, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(results);
	free(log_text);
	return 0;
}

#define NEED_RUN()                                                                  \
	do {                                                                        \
		E2E_SKIP_UNLESS(ready, "needs root and examples/blocking-server");  \
		assert_int_equal(status, 0);                                        \
		assert_non_null(results);                                           \
	} while (0)

static const cJSON *obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsObject(v));
	return v;
}

static void test_every_poll_accounted_for(void **state)
{
	const cJSON *p, *caps, *t;
	double kept, below, lost_ring, runtime, all = 0;

	(void)state;
	NEED_RUN();
	p = obj(results, "probe");
	caps = obj(p, "capped");
	kept = e2e_num(p, "trace_polls");
	below = e2e_num(caps, "polls_below_floor");
	lost_ring = e2e_num(obj(p, "stats"), "ringbuf_full_poll");
	runtime = e2e_num(p, "polls");
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(results, "tasks"))
		all += e2e_num(t, "polls");
	fprintf(stderr, "  %.0f polls: %.0f kept for the trace (floor %.0f ns), %.0f below it, %.0f lost\n",
		runtime, kept, e2e_num(caps, "trace_floor_ns"), below, lost_ring);
	assert_true(runtime > KEEP_SLICES); /* the run went past the budget */
	assert_true(kept <= KEEP_SLICES);
	assert_true(e2e_num(caps, "trace_floor_ns") > 0);
	assert_true(below > 0);
	/* every runtime poll became an event (floor 0), blocking-pool polls too */
	assert_true(kept + below + lost_ring >= runtime);
	assert_true(kept + below + lost_ring <= all);
	assert_int_equal((long)e2e_num(p, "lost_events"), 0);
}

/* The target's own sleeps, one span each, resolved to the marker line. */
static void test_sleeps_are_spans_with_culprits(void **state)
{
	struct e2e_section truth[MAX_SLEEPS];
	size_t n, spans = 0, stackless = 0;
	int line = e2e_marker_line(KINDS_SRC, "sleep");
	const cJSON *s;

	(void)state;
	NEED_RUN();
	assert_non_null(log_text);
	n = e2e_sections(log_text, "sleep", truth, MAX_SLEEPS);
	assert_true(n >= SECONDS); /* 2/s for SECONDS, on a loaded machine */
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(results, "blocking_spans")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "culprit");

		assert_string_equal(e2e_str(s, "task"), "blocking_server::sleep_task");
		spans++;
		if (!cJSON_IsObject(c)) {
			stackless++;
			continue;
		}
		assert_string_equal(e2e_str(c, "function"), "blocking_kinds::sleepy");
		assert_int_equal((int)e2e_num(c, "line"), line);
	}
	fprintf(stderr, "  %zu sleeps measured by the target, %zu spans, %zu without a stack\n", n, spans,
		stackless);
	assert_int_equal(spans, n);
	assert_true(stackless <= 1); /* a stack can fail on this VM (stack_failed) */
	assert_int_equal((long)e2e_num(obj(obj(results, "probe"), "capped"), "spans_without_stacks"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_poll_accounted_for),
		cmocka_unit_test(test_sleeps_are_spans_with_culprits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
