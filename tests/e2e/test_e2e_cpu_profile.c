/* End-to-end: probe.cpu_profile against examples/costs --hotspot, whose tasks
 * spin in costs::hot_function and costs::cold_function and log the CPU each
 * took (hot_us, cold_us) and the whole process's (process_us, getrusage):
 * the profile's total shares must be within 5 points of hot_us / process_us
 * and cold_us / process_us (the tolerance), hot_function's line the
 * `// guard:hot` line, cpu.folded well formed and summing to the samples,
 * and max_cpu_share failing below the share and passing above it.
 * Two builds: frame pointers (release, unwind fp) and none (release-default
 * in target/nofp, unwind dwarf, no line tables); the second skips when that
 * build is missing. Needs root; skips otherwise. */
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

#define FP_BIN TG_SOURCE_DIR "/examples/target/release/costs"
#define NOFP_BIN TG_SOURCE_DIR "/examples/target/nofp/release-default/costs"
#define COSTS_SRC TG_SOURCE_DIR "/examples/costs/src/main.rs"
/* A period of 1.618 ms (the golden ratio of the example's ~1 ms hot+cold cycle): a rate near a
 * multiple or divisor of 1 kHz (331, 499, 999) samples the cycle at a few phases only and the
 * shares swing by up to 8 points run to run; this one spreads the samples over every phase. */
#define HZ 618
#define POINTS 5.0 /* the tolerance on CPU shares */

struct run {
	char dir[64];
	int status;
	cJSON *results;
	char *log;
	bool ran;
};

static struct run fp_run, nofp_run;

/* costs --hotspot for 3 s (40% hot), sampled at HZ; max_cpu_share on
 * hot_function below (20%) and above (60%) its known share. */
static void do_run(struct run *r, const char *bin, const char *unwind)
{
	char *text, path[128];

	snprintf(r->dir, sizeof(r->dir), "/tmp/tg-e2e-cpu-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_true(asprintf(&text,
		"version: 1\n"
		"name: e2e-cpu-profile\n"
		"target:\n"
		"  command: [\"%s\", \"--hotspot\", \"--seconds\", \"3\", \"--hot-pct\", \"40\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { delay: 100ms }\n"
		"probe:\n"
		"  cpu_profile: %d\n"
		"  unwind: %s\n"
		"load:\n"
		"  - sleep: 3500ms\n"
		"assertions:\n"
		"  - function: \"costs::hot_function\"\n"
		"    max_cpu_share: 20%%\n"
		"  - function: \"costs::hot_*\"\n"
		"    max_cpu_share: 60%%\n",
		bin, r->dir, HZ, unwind) > 0);
	snprintf(path, sizeof(path), "%s/guard.yaml", r->dir);
	assert_true(tg_test_write(path, text));
	free(text);
	r->status = e2e_run_dir(r->dir, &r->results, &r->log);
	r->ran = true;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	if (access(FP_BIN, X_OK) == 0)
		do_run(&fp_run, FP_BIN, "fp");
	if (access(NOFP_BIN, X_OK) == 0)
		do_run(&nofp_run, NOFP_BIN, "dwarf");
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
	free_run(&fp_run);
	free_run(&nofp_run);
	return 0;
}

/* hot_us, cold_us, process_us from the example's own line. */
static void truth(const struct run *r, double *hot, double *cold, double *process)
{
	const char *l;

	assert_non_null(r->log);
	l = strstr(r->log, "kind=hotspot ");
	assert_non_null(l);
	assert_int_equal(sscanf(l, "kind=hotspot hot_us=%lf cold_us=%lf process_us=%lf", hot, cold, process), 3);
	assert_true(*process > 0);
}

static const cJSON *function(const struct run *r, const char *name)
{
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(r->results, "cpu_profile");
	const cJSON *f;

	assert_non_null(cpu);
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cpu, "functions")) {
		const char *n = e2e_str(f, "function");

		if (n && !strcmp(n, name))
			return f;
	}
	fail_msg("%s is not among cpu_profile.functions", name);
	return NULL;
}

static void check_shares(const struct run *r)
{
	double hot, cold, process;
	double hot_pct, cold_pct;

	truth(r, &hot, &cold, &process);
	hot_pct = e2e_num(function(r, "costs::hot_function"), "total_pct");
	cold_pct = e2e_num(function(r, "costs::cold_function"), "total_pct");
	fprintf(stderr, "hot_function %.1f%% (truth %.1f%%), cold_function %.1f%% (truth %.1f%%)\n",
		hot_pct, 100 * hot / process, cold_pct, 100 * cold / process);
	assert_true(hot_pct >= 100 * hot / process - POINTS && hot_pct <= 100 * hot / process + POINTS);
	assert_true(cold_pct >= 100 * cold / process - POINTS && cold_pct <= 100 * cold / process + POINTS);
}

/* Every line `frame;frame count`, the counts summing to the samples. */
static void check_folded(const struct run *r)
{
	char path[128], *text, *save = NULL;
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(r->results, "cpu_profile");
	double samples = e2e_num(cpu, "samples"), sum = 0;
	bool hot = false;

	assert_string_equal(e2e_str(cpu, "folded"), "cpu.folded");
	snprintf(path, sizeof(path), "%s/out/cpu.folded", r->dir);
	assert_non_null(text = tg_test_read(path, NULL));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' '), *end;
		long n;

		assert_non_null(sp);
		n = strtol(sp + 1, &end, 10);
		assert_true(n > 0 && *end == 0 && sp > l);
		assert_null(strstr(l, ";;"));
		hot |= strstr(l, ";costs::hot_function;") != NULL;
		sum += (double)n;
	}
	free(text);
	assert_true(hot);
	assert_true(samples > 0);
	assert_true(sum == samples);
}

/* The first max_cpu_share check fails (20% < ~40%), the second passes (60%). */
static void check_limits(const struct run *r)
{
	const cJSON *c;
	int seen = 0;

	assert_int_equal(r->status, 1);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r->results, "assertions")) {
		const char *name = e2e_str(c, "name");

		if (!name || strncmp(name, "max_cpu_share", 13))
			continue;
		assert_string_equal(e2e_str(c, "status"), seen ? "passed" : "failed");
		seen++;
	}
	assert_int_equal(seen, 2);
}

static void test_fp_shares(void **state)
{
	(void)state;
	E2E_SKIP_UNLESS(fp_run.ran, "needs root and the built costs example");
	check_shares(&fp_run);
}

static void test_fp_hot_line(void **state)
{
	const cJSON *f;
	const char *file;

	(void)state;
	E2E_SKIP_UNLESS(fp_run.ran, "needs root and the built costs example");
	f = function(&fp_run, "costs::hot_function");
	file = e2e_str(f, "file");
	assert_non_null(file);
	assert_non_null(strstr(file, "costs/src/main.rs"));
	assert_int_equal((int)e2e_num(f, "line"), e2e_marker_line(COSTS_SRC, "hot"));
}

static void test_fp_folded(void **state)
{
	(void)state;
	E2E_SKIP_UNLESS(fp_run.ran, "needs root and the built costs example");
	check_folded(&fp_run);
}

static void test_fp_limits(void **state)
{
	char path[128], *junit;

	(void)state;
	E2E_SKIP_UNLESS(fp_run.ran, "needs root and the built costs example");
	check_limits(&fp_run);
	snprintf(path, sizeof(path), "%s/out/junit.xml", fp_run.dir);
	assert_non_null(junit = tg_test_read(path, NULL));
	assert_non_null(strstr(junit, "name=\"cpu_profile.top\""));
	free(junit);
}

/* `report` re-checks the saved run from results.json and cpu.folded: the same
 * profile and verdicts, results.json rewritten with it. */
static void test_fp_report(void **state)
{
	char results[128], saved_path[160], *saved;
	const char *args[] = { "report", results, NULL };
	cJSON *before, *after;
	struct e2e_io io = { .err_path = "/dev/null" };

	(void)state;
	E2E_SKIP_UNLESS(fp_run.ran, "needs root and the built costs example");
	snprintf(results, sizeof(results), "%s/out/results.json", fp_run.dir);
	snprintf(saved_path, sizeof(saved_path), "%s/out/results.saved.json", fp_run.dir);
	assert_non_null(saved = tg_test_read(results, NULL));
	assert_true(tg_test_write(saved_path, saved));
	free(saved);
	assert_int_equal(e2e_run(TG_EXE, args, &io), 1);
	before = e2e_load_json(saved_path);
	after = e2e_load_json(results);
	assert_non_null(before);
	assert_non_null(after);
	assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(before, "cpu_profile"),
				  cJSON_GetObjectItemCaseSensitive(after, "cpu_profile"), true));
	cJSON_Delete(fp_run.results);
	fp_run.results = after;
	check_limits(&fp_run);
	cJSON_Delete(before);
}

static void test_dwarf_shares(void **state)
{
	(void)state;
	E2E_SKIP_UNLESS(nofp_run.ran, "needs root and costs built without frame pointers "
			"(examples/target/nofp/release-default)");
	check_shares(&nofp_run);
	check_folded(&nofp_run);
	check_limits(&nofp_run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_shares),
		cmocka_unit_test(test_fp_hot_line),
		cmocka_unit_test(test_fp_folded),
		cmocka_unit_test(test_fp_limits),
		cmocka_unit_test(test_fp_report),
		cmocka_unit_test(test_dwarf_shares),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
