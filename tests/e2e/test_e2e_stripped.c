/* End-to-end: a fully stripped binary (objcopy --strip-all of the
 * blocking-tasks example: the same code, no symbol table, no debug info).
 * Its poll sites come from the task vtables (probe/vtable_sites.c); every
 * blocking section the example measured of itself must be a span on its own
 * thread, of its own length, and no blocking-pool task (the twins'
 * spawn_blocking closures, the mutex holder) may be one. Needs root. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_truth.h"
#include "e2e_util.h"

#define TASKS TG_SOURCE_DIR "/examples/target/release/blocking-tasks"
#define NKINDS 3

static const char *const kinds[NKINDS] = { "cpu", "sleep", "mutex" };
static char dir[64];

/* SPAN is SEC: on its thread, as long as it within the truth's tolerance
 * (its own time, wall less waiting for a CPU, not longer). */
static bool matches(const cJSON *span, const struct e2e_section *sec)
{
	double wall_us = e2e_num(span, "duration_ns") / 1e3;
	double own_us = wall_us - e2e_num(span, "runqueue_ns") / 1e3, tol = e2e_tolerance_us((double)sec->wall_us);

	return (long)e2e_num(span, "tid") == sec->tid && wall_us >= sec->wall_us - tol &&
	       own_us <= sec->wall_us + tol;
}

static const cJSON *span_of(const cJSON *r, const struct e2e_section *sec)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "blocking_spans"))
		if (matches(s, sec))
			return s;
	return NULL;
}

static void test_stripped_target(void **state)
{
	static struct e2e_section sec[256];
	char bin[128], spec[128], out[128], err[128], path[160], *text, *cmd;
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL };
	struct e2e_io io = { .err_path = err };
	const cJSON *s;
	cJSON *r;
	size_t matched[NKINDS] = { 0 }, nsec = 0;

	(void)state;
	E2E_SKIP_UNLESS(geteuid() == 0 && access(TASKS, X_OK) == 0, "needs root and the built example");
	snprintf(bin, sizeof bin, "%s/blocking-tasks", dir);
	assert_true(asprintf(&cmd, "objcopy --strip-all '%s' '%s'", TASKS, bin) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	snprintf(spec, sizeof spec, "%s/guard.yaml", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/stderr.txt", dir);
	assert_true(asprintf(&text,
		"version: 1\nname: stripped\n"
		"target:\n  command: [\"%s\", \"--seconds\", \"30\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n  ready: { delay: 300ms }\n"
		"probe: { blocking_threshold: 5ms }\nassertions: []\nload:\n  - sleep: 2s\n", bin, dir) > 0);
	assert_true(tg_test_write(spec, text));
	free(text);
	assert_int_equal(e2e_run(TG_EXE, args, &io), 0);
	text = tg_test_read(err, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "is stripped: its ")); /* said, with the fix */
	assert_non_null(strstr(text, "strip = \"debuginfo\""));
	free(text);
	snprintf(path, sizeof path, "%s/results.json", out);
	r = e2e_load_json(path);
	assert_non_null(r);
	snprintf(path, sizeof path, "%s/example.log", dir);
	text = tg_test_read(path, NULL);
	assert_non_null(text);
	for (size_t k = 0; k < NKINDS; k++) {
		size_t n = e2e_sections(text, kinds[k], sec + nsec, 256 - nsec);

		for (size_t i = nsec; i < nsec + n; i++)
			matched[k] += span_of(r, &sec[i]) != NULL;
		print_message("%s: %zu of %zu sections are spans\n", kinds[k], matched[k], n);
		/* the first and last rounds may fall outside the probed window */
		assert_true(n >= 8);
		assert_true(matched[k] + 2 >= n);
		nsec += n;
	}
	free(text);
	/* and every span is one of them: a blocking-pool poll taken for a
	 * runtime one (the mutex holder's sleep, the twins' spawn_blocking
	 * spins: as long, on threads no section ran on) matches none */
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "blocking_spans")) {
		bool mine = false;

		assert_non_null(strstr(e2e_str(s, "task"), "tokio::task@0x")); /* no names without symbols */
		for (size_t i = 0; i < nsec && !mine; i++)
			mine = matches(s, &sec[i]);
		if (!mine)
			fail_msg("span of %s on tid %d (%.1f ms) is no section the example measured",
				 e2e_str(s, "task"), (int)e2e_num(s, "tid"), e2e_num(s, "duration_ns") / 1e6);
	}
	cJSON_Delete(r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tg-e2e-stripped-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tg_test_rm_rf(dir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_target),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
