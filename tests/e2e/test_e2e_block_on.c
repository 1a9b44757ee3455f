/* End-to-end: the block_on body (what #[tokio::main] runs) is measured like a
 * task, on multi-thread and current_thread runtimes, and poll time is the
 * poll's own time: wall less the time its thread waited for a CPU.
 *
 * The target is examples/blocking-main: its block_on future alternates
 * awaits with a CPU spin and a thread::sleep, and logs each section's wall
 * and thread-CPU time (GUARD_EXAMPLE_LOG). Every logged section must come
 * back as a blocking span of "blocking_main::main (block_on)" with the
 * section's wall time, the marker line as culprit, and, with CPU hogs beside
 * it, an own time equal to the CPU time the section got. Needs root. */
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

#define TARGET TG_SOURCE_DIR "/examples/target/release/blocking-main"
#define KINDS_SRC TG_SOURCE_DIR "/examples/blocking-kinds/src/lib.rs"
#define TASK "blocking_main::main (block_on)"
#define BLOCK_MS 30
#define THRESHOLD_MS 5

struct run {
	char dir[64];
	int status;
	cJSON *results;
	char *log;
};

static struct run multi, current, hogged, single;
static bool ready;

/* Two CPU hogs for 2.5 s, one per core of this machine: the target's threads
 * wait for a CPU, which must not count as their polls' time. */
static const char hogs[] =
	"  - exec: [\"sh\", \"-c\", \"for i in 1 2; do timeout 2.5 sh -c 'while :; do :; done' & done; wait\"]\n"
	"    timeout: 10s\n";

/* ENV: extra environment for tokio-guard (NULL: none). */
static void do_run_env(struct run *r, const char *flags, const char *load, const char *env);

static void do_run(struct run *r, const char *flags, const char *load)
{
	do_run_env(r, flags, load, NULL);
}

static void do_run_env(struct run *r, const char *flags, const char *load, const char *env)
{
	extern char **environ;
	char *envp[256];
	size_t ne = 0;
	struct e2e_io io = { .env = envp };
	char *spec, path[128], out[96];
	const char *args[] = { "run", path, "--out-dir", out, "--quiet", NULL };

	snprintf(r->dir, sizeof r->dir, "/tmp/tg-e2e-bo-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_true(asprintf(&spec,
		"version: 1\n"
		"name: block-on\n"
		"target:\n"
		"  command: [\"%s\", \"--seconds\", \"20\", \"--block-ms\", \"%d\"%s]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { log: \"running\", timeout: 20s }\n"
		"probe: { blocking_threshold: %dms }\n"
		"load:\n%s"
		"assertions:\n"
		"  - max_poll: 5ms                  # no selector: the block_on body is included\n"
		"  - task: \"blocking_main::ticker\"\n"
		"    max_blocking_spans: 0\n",
		TARGET, BLOCK_MS, flags, r->dir, THRESHOLD_MS, load) > 0);
	snprintf(path, sizeof path, "%s/guard.yaml", r->dir);
	assert_true(tg_test_write(path, spec));
	free(spec);
	snprintf(out, sizeof out, "%s/out", r->dir);
	for (char **e = environ; *e && ne < 254; e++)
		envp[ne++] = *e;
	if (env)
		envp[ne++] = (char *)env;
	envp[ne] = NULL;
	r->status = e2e_run(TG_EXE, args, &io);
	snprintf(path, sizeof path, "%s/out/results.json", r->dir);
	r->results = e2e_load_json(path);
	snprintf(path, sizeof path, "%s/example.log", r->dir);
	r->log = tg_test_read(path, NULL);
}

static int setup(void **state)
{
	ready = geteuid() == 0 && access(TARGET, X_OK) == 0;
	if (!ready)
		return 0;
	do_run(&multi, "", "  - sleep: 1500ms\n");
	do_run(&current, ", \"--current-thread\"", "  - sleep: 1500ms\n");
	do_run(&hogged, "", hogs);
	do_run_env(&single, "", "  - sleep: 1500ms\n", "TG_UPROBE_SINGLE=1");
	return 0;
}

static int teardown(void **state)
{
	struct run *runs[] = { &multi, &current, &hogged, &single };

	for (size_t i = 0; i < 4; i++) {
		cJSON_Delete(runs[i]->results);
		free(runs[i]->log);
	}
	return 0;
}

#define NEED_TARGET() E2E_SKIP_UNLESS(ready, "needs root and examples/blocking-main")

static const cJSON *task_named(const struct run *r, const char *name)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r->results, "tasks"))
		if (e2e_str(t, "name") && strcmp(e2e_str(t, "name"), name) == 0)
			return t;
	return NULL;
}

static int by_start(const void *a, const void *b)
{
	double x = e2e_num(*(const cJSON *const *)a, "start_ns"), y = e2e_num(*(const cJSON *const *)b, "start_ns");

	return x < y ? -1 : x > y;
}

/* The spans of TASK whose blocking kind is KIND, in the order they started:
 * the order the target logged its sections in (all of them are ~BLOCK_MS
 * long, so durations cannot pair them). */
static size_t spans_of_kind(const struct run *r, const char *kind, const cJSON **out, size_t max)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r->results, "blocking_spans"))
		if (n < max && strcmp(e2e_str(s, "task"), TASK) == 0 && e2e_num(s, "stacks") > 0 &&
		    strcmp(e2e_str(s, "blocking_kind"), kind) == 0)
			out[n++] = s;
	qsort(out, n, sizeof *out, by_start);
	return n;
}

/* Whether span S is section SEC: a spin's own time is the CPU time it got;
 * a sleep's own time is its BLOCK_MS asleep, at most the section's wall
 * time (which also holds its wait for a CPU once woken). The poll's wall
 * time holds the section's, and maybe waits for a CPU outside it. */
static bool is_section(const cJSON *s, const struct e2e_section *sec, bool spin)
{
	double own_us = e2e_num(s, "own_ns") / 1000.0, wall_us = e2e_num(s, "duration_ns") / 1000.0;

	if (wall_us + 500 < (double)sec->wall_us)
		return false;
	if (spin)
		return e2e_close_us(own_us, (double)sec->cpu_us);
	return (own_us + 500 >= BLOCK_MS * 1000.0 && e2e_close_us(own_us, (double)sec->wall_us)) ||
	       (own_us >= BLOCK_MS * 1000.0 && own_us <= (double)sec->wall_us);
}

/* The spin's poll by its wall time: it holds the section, and is longer
 * only by its waits for a CPU (and the tolerance). */
static bool same_wall(const cJSON *s, const struct e2e_section *sec)
{
	double wall_us = e2e_num(s, "duration_ns") / 1000.0, runq_us = e2e_num(s, "runqueue_ns") / 1000.0;

	return wall_us + 500 >= (double)sec->wall_us &&
	       wall_us <= (double)sec->wall_us + e2e_tolerance_us((double)sec->wall_us) + runq_us;
}

/* Every logged section is a span of the block_on body, in the order they
 * ran: timed (is_section), classified, attributed. All sections are about BLOCK_MS long,
 * so order pairs them, not duration. A spin that got less CPU than the
 * threshold (hogs, a loaded machine) is rightly no span; the last section
 * may be cut by the stop signal between its log line and its poll's end. */
static void check_sections(const struct run *r)
{
	static const char *const kinds[] = { "cpu", "sleep" };
	static const char *const fns[] = { "blocking_kinds::burn_cpu", "blocking_kinds::sleepy" };

	size_t stackless = 0;
	const cJSON *sp;

	assert_non_null(r->results);
	assert_non_null(r->log);
	/* A span sometimes has no stack and no off-CPU time (stats.stack_failed
	 * counts it; more often the busier the machine): it cannot be told
	 * apart, so its section may go unmatched. A fifth of them at most. */
	cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(r->results, "blocking_spans"))
		stackless += e2e_num(sp, "stacks") == 0;
	if (stackless)
		fprintf(stderr, "  note: %zu span(s) without a stack\n", stackless);
	assert_true(stackless * 5 <= (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r->results, "blocking_spans")));
	for (size_t k = 0; k < 2; k++) {
		struct e2e_section sec[128];
		const cJSON *spans[128];
		size_t n = e2e_sections(r->log, kinds[k], sec, 128), ns = spans_of_kind(r, kinds[k], spans, 128);
		size_t i, j = 0, matched = 0, mistimed = 0;

		assert_true(n >= 3);
		for (i = 0; i < n; i++) {
			const cJSON *s = j < ns ? spans[j] : NULL, *c;

			fprintf(stderr, "  %-5s truth wall %6ldus cpu %6ldus | span %6.0fus own %6.0fus runq %6.0fus\n",
				kinds[k], sec[i].wall_us, sec[i].cpu_us, s ? e2e_num(s, "duration_ns") / 1000.0 : 0,
				s ? e2e_num(s, "own_ns") / 1000.0 : 0, s ? e2e_num(s, "runqueue_ns") / 1000.0 : 0);
			if (s && !is_section(s, &sec[i], k == 0) && k == 0 && same_wall(s, &sec[i])) {
				/* the spin's poll, but its own time is not the CPU time the spin got */
				fprintf(stderr, "  note: a spin's own time is off by %.0fus\n",
					e2e_num(s, "own_ns") / 1000.0 - (double)sec[i].cpu_us);
				mistimed++;
			} else if (!s || !is_section(s, &sec[i], k == 0)) {
				bool starved = k == 0 && sec[i].cpu_us < THRESHOLD_MS * 1000 + 500;

				if (!starved && i + 1 < n) {
					assert_true(stackless > 0);
					stackless--;
				}
				continue;
			}
			j++;
			matched++;
			assert_string_equal(e2e_str(s, "kind"), k == 0 ? "on_cpu" : "off_cpu"); /* a spin, a sleep */
			assert_int_equal((int)e2e_num(s, "tid"), (int)sec[i].tid);
			c = cJSON_GetObjectItemCaseSensitive(s, "culprit");
			assert_true(cJSON_IsObject(c));
			assert_string_equal(e2e_str(c, "function"), fns[k]);
			assert_int_equal((int)e2e_num(c, "line"), e2e_marker_line(KINDS_SRC, kinds[k]));
		}
		assert_int_equal(j, ns); /* no span that was not a section */
		assert_true(matched >= 3);
		/* Rarely (1 or 2 of ~75 spins a run, quiet machine or not) a spin's poll
		 * shows 2-5 ms (about one scheduler tick) more run-queue time than the
		 * spin's own CPU clock leaves room for: not explained yet (see the
		 * limits in docs/how-it-works.md). Both of a run's can land in one
		 * case (seen twice in fresh-clone CI: 2 of 9 and 2 of 13 spins), so up
		 * to two are tolerated, or a tenth of the spins. */
		assert_true(mistimed <= 2 || mistimed * 10 <= matched);
	}
}

/* A pseudo-task of kind block_on that the selector-less limit includes,
 * and no span anywhere else. */
static void check_task(const struct run *r)
{
	const cJSON *t = task_named(r, TASK), *c, *s;
	bool named = false;

	assert_non_null(t);
	assert_string_equal(e2e_str(t, "kind"), "block_on");
	assert_true(e2e_num(t, "blocking_spans") >= 6);
	assert_true(e2e_num(t, "max_poll_ns") <= e2e_num(t, "max_poll_wall_ns"));
	assert_int_equal(r->status, 1);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r->results, "assertions")) {
		const char *name = e2e_str(c, "name");

		if (name && strcmp(name, "max_poll <= 5ms [all]") == 0) {
			assert_string_equal(e2e_str(c, "status"), "failed");
			assert_non_null(strstr(e2e_str(c, "message"), "in " TASK));
			named = true;
		}
		if (name && strstr(name, "[task=blocking_main::ticker]"))
			assert_string_equal(e2e_str(c, "status"), "passed");
	}
	assert_true(named);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r->results, "blocking_spans"))
		assert_string_equal(e2e_str(s, "task"), TASK);
}

static void test_multi_thread_block_on(void **state)
{
	NEED_TARGET();
	check_task(&multi);
	check_sections(&multi);
}

static void test_current_thread_block_on(void **state)
{
	NEED_TARGET();
	check_task(&current);
	check_sections(&current);
}

/* With the CPUs taken by hogs, walls grow and own times do not: spans still
 * match the wall time, and a spin's own time is the CPU time it got. */
static void test_own_time_under_cpu_contention(void **state)
{
	const cJSON *s;
	double runq = 0;

	NEED_TARGET();
	check_task(&hogged);
	check_sections(&hogged);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(hogged.results, "blocking_spans")) {
		assert_true(e2e_num(s, "own_ns") + e2e_num(s, "runqueue_ns") == e2e_num(s, "duration_ns"));
		runq += e2e_num(s, "runqueue_ns");
	}
	assert_true(runq > 0); /* the hogs did take the CPU from the target */
}

/* Kernels without uprobe_multi get one uprobe per probe: the same spans. */
static void test_single_uprobes_fallback(void **state)
{
	E2E_SKIP_UNLESS(ready, "needs root and examples/blocking-main");
	check_task(&single);
	check_sections(&single);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multi_thread_block_on),
		cmocka_unit_test(test_current_thread_block_on),
		cmocka_unit_test(test_own_time_under_cpu_contention),
		cmocka_unit_test(test_single_uprobes_fallback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
