/* End-to-end: a probe storm loses events loudly, never silently.
 *
 * The target is examples/blocking-tasks --storm: TASKS tasks poll POLLS times
 * each, every poll a SPIN_US spin of wall time (over the spec's 20 us trace
 * floor) and a yield, so every poll of them becomes a ring buffer event; the
 * target counts those polls itself and logs the total (GUARD_EXAMPLE_LOG).
 *
 * With a one-page ring buffer (probe.ring_buffer: 4KB, about 40 poll events)
 * the reader cannot keep up with two spinning workers: the loss must show in
 * results.json (lost_events, stats.ringbuf_full_poll), as a warned "probe:
 * events lost" check in results.json and junit.xml that says what to raise,
 * and it must add up: every storm poll the target counted was seen by the
 * probes, and each became a trace slice or a poll event lost in the ring.
 * With the default 16 MB ring the same storm fits whole: nothing lost, every
 * storm poll a trace slice. Needs root. */
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

#define TARGET TG_SOURCE_DIR "/examples/target/release/blocking-tasks"
#define STORM_TASK "blocking_tasks::storm_task"
#define TASKS 8
#define POLLS 8000
#define SPIN_US 30

struct run {
	char dir[64];
	int status;
	cJSON *results;
	char *junit;
	long own_polls; /* the target's own count; -1: no log line */
};

static struct run small, big;
static bool ready;

/* RING: the probe.ring_buffer value, or NULL for the default. */
static void do_run(struct run *r, const char *ring)
{
	char *spec, path[128], out[96], *log, ring_line[64] = "";
	const char *args[] = { "run", path, "--out-dir", out, "--quiet", NULL };
	const char *line;

	snprintf(r->dir, sizeof r->dir, "/tmp/tg-e2e-storm-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	if (ring)
		snprintf(ring_line, sizeof ring_line, "probe: { ring_buffer: %s }\n", ring);
	assert_true(asprintf(&spec,
		"version: 1\n"
		"name: storm\n"
		"target:\n"
		"  command: [\"%s\", \"--storm\", \"%d\", \"--storm-polls\", \"%d\", \"--storm-us\", \"%d\","
		" \"--seconds\", \"300\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { log: \"storm of\", timeout: 240s }   # the storm runs before the load\n"
		"%s"
		"report: { trace_min_poll: 20us }\n"
		"load:\n"
		"  - sleep: 100ms\n"
		"assertions: []\n",
		TARGET, TASKS, POLLS, SPIN_US, r->dir, ring_line) > 0);
	snprintf(path, sizeof path, "%s/guard.yaml", r->dir);
	assert_true(tg_test_write(path, spec));
	free(spec);
	snprintf(out, sizeof out, "%s/out", r->dir);
	r->status = e2e_run(TG_EXE, args, &(struct e2e_io){ 0 });
	snprintf(path, sizeof path, "%s/out/results.json", r->dir);
	r->results = e2e_load_json(path);
	snprintf(path, sizeof path, "%s/out/junit.xml", r->dir);
	r->junit = tg_test_read(path, NULL);
	snprintf(path, sizeof path, "%s/example.log", r->dir);
	log = tg_test_read(path, NULL);
	line = log ? strstr(log, "kind=storm ") : NULL;
	r->own_polls = -1;
	if (line && !strstr(line, " polls="))
		fail_msg("storm log line without polls=: %s", line);
	if (line)
		r->own_polls = strtol(strstr(line, " polls=") + 7, NULL, 10);
	free(log);
}

static int setup(void **state)
{
	ready = geteuid() == 0 && access(TARGET, X_OK) == 0;
	if (!ready)
		return 0;
	do_run(&small, "4KB");
	do_run(&big, NULL);
	return 0;
}

static int teardown(void **state)
{
	struct run *runs[] = { &small, &big };

	for (size_t i = 0; i < 2; i++) {
		cJSON_Delete(runs[i]->results);
		free(runs[i]->junit);
	}
	return 0;
}

#define NEED_TARGET() E2E_SKIP_UNLESS(ready, "needs root and examples/blocking-tasks")

static const cJSON *obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsObject(v));
	return v;
}

static double task_polls(const struct run *r, const char *name)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r->results, "tasks"))
		if (e2e_str(t, "name") && strcmp(e2e_str(t, "name"), name) == 0)
			return e2e_num(t, "polls");
	fail_msg("no task %s in results.json", name);
	return 0;
}

static const cJSON *check_named(const struct run *r, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r->results, "assertions"))
		if (e2e_str(c, "name") && strcmp(e2e_str(c, "name"), name) == 0)
			return c;
	fail_msg("no check \"%s\" in results.json", name);
	return NULL;
}

/* The run completed and the target counted every poll it was asked for. */
static void common(const struct run *r)
{
	assert_non_null(r->results);
	assert_int_equal(r->status, 0); /* lost events warn: they never fail the run */
	assert_int_equal(r->own_polls, (long)TASKS * POLLS);
	/* the probes were attached before the target ran: they saw every storm poll */
	assert_true(task_polls(r, STORM_TASK) >= (double)r->own_polls);
}

/* Each poll over the floor became a trace slice or a poll event the ring
 * buffer had no room for: at least every storm poll, at most every runtime
 * poll (the block_on body's few polls may cross the floor too). */
static void adds_up(const struct run *r, double storm, double *slices, double *lost_polls)
{
	const cJSON *probe = obj(r->results, "probe"), *stats = obj(probe, "stats");
	const cJSON *capped = cJSON_GetObjectItemCaseSensitive(probe, "capped");
	double all = e2e_num(probe, "polls");

	/* slices the trace budget let go (a raised floor) were events that arrived */
	*slices = e2e_num(probe, "trace_polls") + (capped ? e2e_num(capped, "polls_below_floor") : 0);
	*lost_polls = e2e_num(stats, "ringbuf_full_poll");
	fprintf(stderr, "storm: %.0f storm polls of %.0f; %.0f slices + %.0f poll events lost; lost_events %.0f\n",
		storm, all, *slices, *lost_polls, e2e_num(probe, "lost_events"));
	assert_true(e2e_num(stats, "user_dropped") == 0); /* far below the record's caps */
	assert_true(*slices + *lost_polls >= storm);
	assert_true(*slices + *lost_polls <= all);
	assert_true(e2e_num(probe, "lost_events") >=
		    *lost_polls + e2e_num(stats, "ringbuf_full_sample") + e2e_num(stats, "ringbuf_full_offcpu"));
}

static void test_small_ring_loses_loudly(void **state)
{
	const cJSON *probe, *c;
	double slices, lost_polls, lost;
	char want[128];
	const char *tc;

	NEED_TARGET();
	common(&small);
	adds_up(&small, task_polls(&small, STORM_TASK), &slices, &lost_polls);
	probe = obj(small.results, "probe");
	lost = e2e_num(probe, "lost_events");
	assert_true(lost > 0);
	assert_true(lost_polls > 0);
	c = check_named(&small, "probe: events lost");
	assert_string_equal(e2e_str(c, "status"), "warned");
	snprintf(want, sizeof want, "%.0f", lost);
	assert_string_equal(e2e_str(c, "observed"), want);
	assert_non_null(strstr(e2e_str(c, "message"), "events lost"));
	assert_non_null(strstr(e2e_str(c, "message"), "raise probe.ring_buffer"));
	assert_non_null(strstr(e2e_str(c, "message"), "report.trace_min_poll"));
	/* junit: a warned check is a skipped test case with the warning */
	assert_non_null(small.junit);
	tc = strstr(small.junit, "<testcase name=\"probe: events lost\"");
	assert_non_null(tc);
	snprintf(want, sizeof want, "<skipped message=\"warning: %.0f events lost", lost);
	assert_non_null(strstr(tc, want));
	assert_true(strstr(tc, want) < strstr(tc, "</testcase>"));
}

static void test_default_ring_holds_the_storm(void **state)
{
	double slices, lost_polls, storm;
	const cJSON *c;

	NEED_TARGET();
	common(&big);
	storm = task_polls(&big, STORM_TASK);
	adds_up(&big, storm, &slices, &lost_polls);
	/* 64000 poll events of 96 bytes and a few hundred samples fit in 16 MB
	 * even if the reader never ran */
	assert_true(e2e_num(obj(big.results, "probe"), "lost_events") == 0);
	assert_true(lost_polls == 0);
	assert_true(slices >= storm);
	c = check_named(&big, "probe: events lost");
	assert_string_equal(e2e_str(c, "status"), "passed");
	assert_string_equal(e2e_str(c, "message"), "no events lost");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ring_loses_loudly),
		cmocka_unit_test(test_default_ring_holds_the_storm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
