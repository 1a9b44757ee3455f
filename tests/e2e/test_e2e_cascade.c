/* End-to-end: the cascade of a blocking span. examples/costs --cascade holds
 * its only worker in std::thread::sleep (costs::hold_worker, the
 * `// guard:cascade` line) while a plain thread wakes N tasks; each of them
 * logs how long it waited from its wake to its poll (GUARD_EXAMPLE_LOG
 * `kind=delayed round= task= wait_us=`). Every blocker span must come back
 * with delayed.tasks == N and a total within 10% of that round's logged waits
 * (rounds matched to spans by time order), the sentence in the terminal
 * summary, the junit failure body and the GitHub step summary, flow arrows in
 * trace.json from the span to polls of costs::delayed_task, and
 * max_delayed_tasks failing below N. Needs root. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"
#include "e2e_truth.h"

#define TARGET TG_SOURCE_DIR "/examples/target/release/costs"
#define SRC TG_SOURCE_DIR "/examples/costs/src/main.rs"
#define ROUNDS 4
#define DELAYED 12
#define BLOCK_MS 30
#define LIMIT 5 /* below DELAYED: that check fails */

static struct {
	char dir[64];
	int status;
	cJSON *results, *trace;
	char *log, *out, *junit, *step;
	double waits_us[ROUNDS]; /* each round's logged waits, summed */
	int ntasks[ROUNDS];
} run;
static bool ready;

static char *read_in(const char *name)
{
	char path[160];

	snprintf(path, sizeof path, "%s/%s", run.dir, name);
	return tg_test_read(path, NULL);
}

static void read_truth(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	for (const char *l = run.log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		int round, task;
		long wait;

		if (strncmp(l, "kind=delayed ", 13) != 0)
			continue;
		assert_int_equal(sscanf(l, "kind=delayed round=%d task=%d wait_us=%ld", &round, &task, &wait), 3);
		assert_in_range(round, 0, ROUNDS - 1);
		run.waits_us[round] += (double)wait;
		run.ntasks[round]++;
	}
	for (int r = 0; r < ROUNDS; r++)
		assert_int_equal(run.ntasks[r], DELAYED);
}

static int setup(void **state)
{
	extern char **environ;
	char *envp[256], *spec, summary[128], path[128], out[96], so[96], se[96];
	const char *args[] = { "run", path, "--out-dir", out, NULL };
	size_t ne = 0;
	struct e2e_io io = { .env = envp, .out_path = so, .err_path = se };

	(void)state;
	if (geteuid() != 0 || access(TARGET, X_OK) != 0)
		return 0;
	snprintf(run.dir, sizeof run.dir, "/tmp/tg-e2e-cascade-XXXXXX");
	assert_non_null(mkdtemp(run.dir));
	assert_true(asprintf(&spec,
		"version: 1\n"
		"name: cascade\n"
		"target:\n"
		"  command: [\"%s\", \"--cascade\", \"--rounds\", \"%d\", \"--delayed\", \"%d\", \"--block-ms\", \"%d\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  stop: { signal: SIGTERM, grace: 5s }\n"
		"probe: { scheduling_delay: on }\n"
		"load:\n"
		"  - sleep: 3s\n"
		"assertions:\n"
		"  - task: \"costs::blocker_task\"\n"
		"    max_delayed_tasks: 1000\n"
		"  - max_delayed_tasks: %d\n",
		TARGET, ROUNDS, DELAYED, BLOCK_MS, run.dir, LIMIT) >= 0);
	snprintf(path, sizeof path, "%s/guard.yaml", run.dir);
	assert_true(tg_test_write(path, spec));
	free(spec);
	snprintf(out, sizeof out, "%s/out", run.dir);
	snprintf(so, sizeof so, "%s/stdout", run.dir);
	snprintf(se, sizeof se, "%s/stderr", run.dir);
	snprintf(summary, sizeof summary, "GITHUB_STEP_SUMMARY=%s/step.md", run.dir);
	for (char **e = environ; *e && ne < 250; e++)
		if (strncmp(*e, "GITHUB_", 7) != 0)
			envp[ne++] = *e;
	envp[ne++] = "GITHUB_ACTIONS=true";
	envp[ne++] = summary;
	envp[ne] = NULL;
	run.status = e2e_run(TG_EXE, args, &io);
	run.results = e2e_load_json(strcat(strcpy(path, out), "/results.json"));
	run.trace = e2e_load_json(strcat(strcpy(path, out), "/trace.json"));
	run.log = read_in("example.log");
	run.out = read_in("stderr");
	run.junit = read_in("out/junit.xml");
	run.step = read_in("step.md");
	ready = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(run.results);
	cJSON_Delete(run.trace);
	free(run.log);
	free(run.out);
	free(run.junit);
	free(run.step);
	return 0;
}

static void need_run(void)
{
	E2E_SKIP_UNLESS(ready, "needs root and examples/target/release/costs");
	assert_non_null(run.results);
	assert_non_null(run.log);
	read_truth();
}

/* The blocker spans in time order (results.json lists spans as they happened). */
static size_t blocker_spans(const cJSON **out, size_t max)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(run.results, "blocking_spans"))
		if (e2e_str(s, "task") && strcmp(e2e_str(s, "task"), "costs::blocker_task") == 0 && n < max)
			out[n++] = s;
	return n;
}

static void test_counts_and_waits(void **state)
{
	const cJSON *sp[ROUNDS + 4];
	int line;

	(void)state;
	need_run();
	line = e2e_marker_line(SRC, "cascade");
	assert_int_equal(blocker_spans(sp, ROUNDS + 4), ROUNDS);
	for (int r = 0; r < ROUNDS; r++) {
		const cJSON *d = cJSON_GetObjectItem(sp[r], "delayed"), *w, *c = cJSON_GetObjectItem(sp[r], "culprit");
		double tasks = e2e_num(d, "tasks"), total_us = e2e_num(d, "total_ns") / 1000, prev = INFINITY;

		assert_non_null(c);
		assert_string_equal(e2e_str(c, "function"), "costs::hold_worker");
		assert_int_equal((int)e2e_num(c, "line"), line);
		fprintf(stderr, "round %d: %.0f tasks (truth %d), %.0fus waited (truth %.0fus)\n", r, tasks,
			run.ntasks[r], total_us, run.waits_us[r]);
		assert_true(fabs(tasks - DELAYED) <= DELAYED * 0.1);
		assert_true(fabs(total_us - run.waits_us[r]) <= run.waits_us[r] * 0.1);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(d, "worst")) > 0);
		cJSON_ArrayForEach(w, cJSON_GetObjectItem(d, "worst")) {
			assert_string_equal(e2e_str(w, "task"), "costs::delayed_task");
			assert_true(e2e_num(w, "wait_ns") <= prev); /* longest first */
			prev = e2e_num(w, "wait_ns");
		}
	}
}

static void test_sentence(void **state)
{
	char want[64];

	(void)state;
	need_run();
	/* "this 30.2ms poll delayed 12 tasks by 230ms in all" */
	snprintf(want, sizeof want, "poll delayed %d tasks by ", DELAYED);
	assert_non_null(run.out);
	assert_non_null(strstr(run.out, want));
	assert_non_null(run.junit);
	assert_non_null(strstr(run.junit, want));
	assert_non_null(run.step);
	assert_non_null(strstr(run.step, want));
}

static void test_limit(void **state)
{
	const cJSON *c;
	int passed = 0, failed = 0;
	char name[64];

	(void)state;
	need_run();
	assert_int_equal(run.status, 1);
	snprintf(name, sizeof name, "max_delayed_tasks <= %d [all]", LIMIT);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(run.results, "assertions")) {
		const char *n = e2e_str(c, "name"), *st = e2e_str(c, "status");

		if (n && strcmp(n, name) == 0 && st && strcmp(st, "failed") == 0)
			failed++;
		if (n && strcmp(n, "max_delayed_tasks <= 1000 [task=costs::blocker_task]") == 0 && st &&
		    strcmp(st, "passed") == 0)
			passed++;
	}
	assert_int_equal(failed, 1);
	assert_int_equal(passed, 1);
}

/* The X slice named NAME on TID that holds TS (µs), if any. */
static bool in_slice(const char *name, double tid, double ts)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(run.trace, "traceEvents")) {
		const char *ph = e2e_str(e, "ph"), *n = e2e_str(e, "name");

		if (!ph || strcmp(ph, "X") != 0 || !n || strcmp(n, name) != 0)
			continue;
		if (e2e_num(e, "tid") == tid && ts >= e2e_num(e, "ts") && ts <= e2e_num(e, "ts") + e2e_num(e, "dur"))
			return true;
	}
	return false;
}

static void test_flows(void **state)
{
	const cJSON *e;
	int starts = 0, ends = 0;

	(void)state;
	need_run();
	assert_non_null(run.trace);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(run.trace, "traceEvents")) {
		const char *ph = e2e_str(e, "ph"), *cat = e2e_str(e, "cat");

		if (!ph || !cat || strcmp(cat, "cascade") != 0)
			continue;
		if (strcmp(ph, "s") == 0) {
			assert_true(in_slice("costs::blocker_task", e2e_num(e, "tid"), e2e_num(e, "ts")));
			starts++;
		} else if (strcmp(ph, "f") == 0) {
			assert_string_equal(e2e_str(e, "bp"), "e");
			assert_true(in_slice("costs::delayed_task", e2e_num(e, "tid"), e2e_num(e, "ts")));
			ends++;
		}
	}
	fprintf(stderr, "%d flow arrows\n", ends);
	assert_int_equal(starts, ends);
	assert_true(ends >= ROUNDS * (DELAYED * 9 / 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_waits),
		cmocka_unit_test(test_sentence),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_flows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
