/* Many task types: tests/targets/scale, 1000 async fns each spawned as a task
 * of its own type (two rounds), under uprobe_multi links; and its small build
 * (TG_SCALE_SMALL_TASKS types) under one uprobe per probe (TG_UPROBE_SINGLE=1,
 * the fallback: its perf events are released one grace period each, minutes
 * for thousands, so it gets the size CI affords). Against the target's own
 * count: at least one poll site per type, every type a task of its own name
 * with at least the polls it counted, the totals, and the probe's health. No
 * timing: bench/scale.sh measures speed. Needs root and the scale_target
 * build; skipped without them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"
#include "e2e_truth.h"

#define SCALE_DIR TG_BINARY_DIR "/scale-target/release"
#define BIG SCALE_DIR "/scale-target"
#define SMALL SCALE_DIR "/scale-target-small"
#define ROUNDS 2

static char tmp[] = "/tmp/tg-e2e-scale-XXXXXX";

/* What the target counted of itself (target.stdout.log). */
struct truth {
	size_t types;
	long polls_total;
	size_t n;
	char (*name)[32];
	long *polls;
};

static void truth_free(struct truth *t)
{
	free(t->name);
	free(t->polls);
}

/* Its "task=NAME polls=K" lines and the "done ... types=N ... polls_total=M" line. */
static void read_truth(const char *log_path, struct truth *t)
{
	char *log = tg_test_read(log_path, NULL), *save = NULL;
	long rounds = 0, spawned = 0;
	bool done = false;

	assert_non_null(log);
	*t = (struct truth){ 0 };
	for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32];
		long k;

		if (sscanf(line, "task=%31s polls=%ld", name, &k) == 2) {
			t->name = realloc(t->name, (t->n + 1) * sizeof(*t->name));
			t->polls = realloc(t->polls, (t->n + 1) * sizeof(*t->polls));
			assert_true(t->name && t->polls);
			snprintf(t->name[t->n], sizeof(t->name[0]), "%s", name);
			t->polls[t->n++] = k;
		} else if (strncmp(line, "done ", 5) == 0) {
			assert_int_equal(sscanf(line, "done rounds=%ld types=%zu spawned=%ld polls_total=%ld",
						&rounds, &t->types, &spawned, &t->polls_total), 4);
			done = true;
		}
	}
	free(log);
	assert_true(done);
	assert_int_equal(rounds, ROUNDS);
	assert_int_equal(t->n, t->types);
	assert_int_equal(spawned, (long)t->types * ROUNDS);
}

/* The fallback's perf events are closed by a detached process ("tg-detach")
 * after tokio-guard exits; it still carries tokio-guard's command line, so
 * OUT (unique to the run) finds it. Waits for it, so the next test's uprobes
 * are not queued behind its grace periods. */
static void wait_detached(const char *out)
{
	time_t t0 = time(NULL);
	bool alive = true;

	while (alive && time(NULL) - t0 < 900) {
		DIR *d = opendir("/proc");
		struct dirent *e;

		alive = false;
		while (d && (e = readdir(d)) && !alive) {
			char path[300], cmd[4096];
			FILE *f;
			size_t n;

			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
			if (!(f = fopen(path, "r")))
				continue;
			n = fread(cmd, 1, sizeof(cmd) - 1, f);
			fclose(f);
			for (size_t i = 0; i < n; i++)
				cmd[i] = cmd[i] ? cmd[i] : ' ';
			cmd[n] = 0;
			alive = strstr(cmd, out) != NULL;
		}
		if (d)
			closedir(d);
		if (alive)
			sleep(1);
	}
	print_message("probes released %lds after tokio-guard exited\n", (long)(time(NULL) - t0));
}

/* Runs EXE (crate CRATE) under tokio-guard into TMP/NAME, SINGLE forcing one
 * uprobe per probe; returns its results.json parsed and the target's truth. */
static cJSON *run(const char *name, const char *exe, const char *crate, bool single, struct truth *t)
{
	char spec[256], out[256], path[300], *text;
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL };
	cJSON *r;
	int rc;

	snprintf(spec, sizeof(spec), "%s/%s.yaml", tmp, name);
	snprintf(out, sizeof(out), "%s/%s", tmp, name);
	assert_true(asprintf(&text,
		"version: 1\n"
		"name: scale-%s\n"
		"target:\n"
		"  command: [\"%s\", \"--rounds\", \"%d\", \"--every\", \"10\"]\n"
		"  ready: { log: \"^done rounds=\", timeout: 5m }\n" /* its own word: every round ran */
		"load:\n"
		"  - sleep: 100ms\n"
		"assertions:\n"
		"  - task: \"%s::task_*\"\n"
		"    min_polls: 1\n", name, exe, ROUNDS, crate) > 0);
	assert_true(tg_test_write(spec, text));
	free(text);
	if (single)
		setenv("TG_UPROBE_SINGLE", "1", 1);
	rc = e2e_run(TG_EXE, args, NULL);
	unsetenv("TG_UPROBE_SINGLE");
	if (single)
		wait_detached(out);
	assert_int_equal(rc, 0);
	snprintf(path, sizeof(path), "%s/target.stdout.log", out);
	read_truth(path, t);
	snprintf(path, sizeof(path), "%s/results.json", out);
	r = e2e_load_json(path);
	assert_non_null(r);
	return r;
}

static const cJSON *task_named(const cJSON *tasks, const char *name)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, tasks) {
		const char *n = e2e_str(x, "name");

		if (n && strcmp(n, name) == 0)
			return x;
	}
	return NULL;
}

/* The scale tasks of a run: entries named CRATE::task_*, their polls summed. */
static size_t our_tasks(const cJSON *tasks, const char *crate, double *polls)
{
	const cJSON *x;
	char prefix[64];
	size_t n = 0;

	snprintf(prefix, sizeof(prefix), "%s::task_", crate);
	*polls = 0;
	cJSON_ArrayForEach(x, tasks) {
		const char *name = e2e_str(x, "name");

		if (name && strncmp(name, prefix, strlen(prefix)) == 0) {
			n++;
			*polls += e2e_num(x, "polls");
		}
	}
	return n;
}

/* What does not depend on names: sites, probes, every poll counted, health. */
static void check_counts(const cJSON *r, const char *crate, const struct truth *t)
{
	const cJSON *probe = cJSON_GetObjectItem(r, "probe"), *stats = cJSON_GetObjectItem(probe, "stats");
	const cJSON *exit = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "target"), "exit");
	double sites = e2e_num(probe, "poll_sites"), polls;

	print_message("%s: %zu types, %ld polls counted; %.0f poll sites, %.0f probes, %.0f polls seen\n",
		      crate, t->types, t->polls_total, sites, e2e_num(probe, "probes_attached"),
		      e2e_num(probe, "polls"));
	assert_true(sites >= (double)t->types);
	/* every site has its entry probe at least */
	assert_true(e2e_num(probe, "probes_attached") >= sites);
	assert_true(e2e_num(probe, "polls") >= (double)t->polls_total);
	assert_true(e2e_num(probe, "lost_events") == 0);
	assert_true(e2e_num(stats, "polls") == e2e_num(probe, "polls"));
	assert_true(e2e_num(stats, "nest_overflow") == 0);
	/* the target ran until tokio-guard stopped it (SIGTERM) */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(exit, "code")));
	assert_int_equal((int)e2e_num(exit, "signal"), 15);
	/* the task entries, whatever they are named, hold every poll the tasks counted */
	assert_true(our_tasks(cJSON_GetObjectItem(r, "tasks"), crate, &polls) > 0);
	assert_true(polls >= (double)t->polls_total);
}

/* Every type a task of its own name (CRATE::task_NNNN), with at least the
 * polls it counted; one entry per type, none split, none merged. */
static void check_names(const cJSON *r, const char *crate, const struct truth *t)
{
	const cJSON *tasks = cJSON_GetObjectItem(r, "tasks");
	size_t missing = 0;
	double polls;

	for (size_t i = 0; i < t->n; i++) {
		char full[96];
		const cJSON *task;

		snprintf(full, sizeof(full), "%s::%s", crate, t->name[i]);
		task = task_named(tasks, full);
		if (!task) {
			if (missing++ < 3)
				print_message("task type %s is not in results.json under its name\n", full);
			continue;
		}
		if (e2e_num(task, "polls") < (double)t->polls[i])
			fail_msg("%s: %.0f polls seen, the task counted %ld", full, e2e_num(task, "polls"),
				 t->polls[i]);
		assert_string_equal(e2e_str(task, "kind"), "runtime");
	}
	if (missing)
		fail_msg("%zu of %zu task types are not in results.json under their names", missing, t->n);
	assert_int_equal(our_tasks(tasks, crate, &polls), t->types);
}

/* One run per build, shared by its two checks. */
struct scale_run {
	const char *name, *exe, *crate;
	bool single;
	bool done;
	cJSON *r;
	struct truth t;
};

static struct scale_run multi = { "multi", BIG, "scale_target", false };
static struct scale_run single = { "single", SMALL, "scale_target_small", true };

static struct scale_run *get(struct scale_run *s)
{
	E2E_SKIP_UNLESS(geteuid() == 0 && access(s->exe, X_OK) == 0,
			"needs root and the scale_target build (" SCALE_DIR ")");
	if (!s->done) {
		s->done = true; /* a failed run fails its first check only */
		s->r = run(s->name, s->exe, s->crate, s->single, &s->t);
	}
	assert_non_null(s->r);
	return s;
}

static void test_multi_counts(void **state)
{
	struct scale_run *s = get(&multi);

	(void)state;
	assert_true(s->t.types >= 1000);
	check_counts(s->r, s->crate, &s->t);
}

static void test_multi_names(void **state)
{
	struct scale_run *s = get(&multi);

	(void)state;
	check_names(s->r, s->crate, &s->t);
}

static void test_single_counts(void **state)
{
	struct scale_run *s = get(&single);

	(void)state;
	check_counts(s->r, s->crate, &s->t);
}

static void test_single_names(void **state)
{
	struct scale_run *s = get(&single);

	(void)state;
	check_names(s->r, s->crate, &s->t);
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
	for (size_t i = 0; i < 2; i++) {
		struct scale_run *s = i ? &single : &multi;

		cJSON_Delete(s->r);
		truth_free(&s->t);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multi_counts),
		cmocka_unit_test(test_multi_names),
		cmocka_unit_test(test_single_counts),
		cmocka_unit_test(test_single_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
