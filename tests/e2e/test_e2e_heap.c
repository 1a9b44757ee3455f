/* End-to-end: probe.heap on costs --leak, which leaks B bytes per request at
 * its guard:leak line and frees a 4 KB buffer per request, and logs what it
 * did (kind=leak requests= leaked= freed_allocs=). The growth must be within
 * 5% of what it leaked; the top live site must be costs::handle_request at
 * guard:leak with one allocation per request and the leak live; the 4 KB
 * buffer's site must hold nothing; max_heap_growth must fail below the leak
 * and pass above it; max_alloc_rate on handle_request must see the
 * example's allocations per second. Needs root. */
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

#include "e2e_truth.h"
#include "e2e_util.h"

#define COSTS TG_SOURCE_DIR "/examples/target/release/costs"
#define REQUESTS 2000
#define LEAK_BYTES 4000

static char dir[64];

static double log_field(const char *log, const char *key)
{
	const char *line = strstr(log, "kind=leak "), *p;
	char pat[64];

	snprintf(pat, sizeof pat, " %s=", key);
	p = line ? strstr(line, pat) : NULL;
	assert_non_null(p);
	return atof(p + strlen(pat));
}

static const cJSON *check_named(const cJSON *r, const char *prefix, const char *selector)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "assertions"))
		if (strncmp(e2e_str(c, "name"), prefix, strlen(prefix)) == 0 &&
		    strcmp(e2e_str(c, "selector"), selector) == 0)
			return c;
	fail_msg("no check %s [%s] in results.json", prefix, selector);
	return NULL;
}

/* the source file a site names: as the binary has it, else this checkout's */
static void source_of(const cJSON *r, const cJSON *site, char *out, size_t len)
{
	const char *f = e2e_str(site, "file"), *root = e2e_str(r, "source_root");

	if (f[0] == '/')
		snprintf(out, len, "%s", f);
	else
		snprintf(out, len, "%s/%s", root, f);
	if (access(out, R_OK))
		snprintf(out, len, "%s/examples/costs/src/main.rs", TG_SOURCE_DIR);
}

/* `tokio-guard report` on the saved run: the heap and its verdicts come back the same */
static void recheck(const cJSON *r)
{
	char saved[128], out[128], path[160];
	const char *args[] = { "report", saved, "--out-dir", out, NULL };
	struct e2e_io io = { .err_path = "/dev/null" };
	cJSON *again;

	snprintf(saved, sizeof saved, "%s/out/results.json", dir);
	snprintf(out, sizeof out, "%s/again", dir);
	assert_int_equal(e2e_run(TG_EXE, args, &io), 1);
	snprintf(path, sizeof path, "%s/results.json", out);
	again = e2e_load_json(path);
	assert_non_null(again);
	assert_true(e2e_num(cJSON_GetObjectItemCaseSensitive(again, "heap"), "growth_bytes") ==
		    e2e_num(cJSON_GetObjectItemCaseSensitive(r, "heap"), "growth_bytes"));
	assert_string_equal(e2e_str(check_named(again, "max_heap_growth", "all"), "status"), "failed");
	assert_string_equal(e2e_str(check_named(again, "max_alloc_rate", "function=costs::handle_request*"),
				    "status"), "passed");
	cJSON_Delete(again);
}

static void test_leak(void **state)
{
	char spec[128], *text, *log = NULL, path[4096];
	const cJSON *heap, *sites, *s, *top, *scratch = NULL;
	double requests, leaked, freed, growth, rate, window;
	int leak_line;
	cJSON *r = NULL;

	(void)state;
	E2E_SKIP_UNLESS(geteuid() == 0 && access(COSTS, X_OK) == 0, "needs root and the built example");
	snprintf(spec, sizeof spec, "%s/guard.yaml", dir);
	/* the limits straddle the leak: 10% under it fails, 10% over passes */
	assert_true(asprintf(&text,
		"version: 1\nname: heap\n"
		"target:\n  command: [\"%s\", \"--leak\", \"--requests\", \"%d\", \"--leak-bytes\", \"%d\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n  ready: { log: \"costs: done\" }\n"
		"probe: { heap: true }\nload:\n  - sleep: 300ms\n"
		"assertions:\n"
		"  - max_heap_growth: %d\n"
		"  - function: \"costs::*\"\n    max_heap_growth: %d\n"
		"  - function: \"costs::handle_request*\"\n    max_alloc_rate: 1000000/s\n",
		COSTS, REQUESTS, LEAK_BYTES, dir, REQUESTS * LEAK_BYTES / 10 * 9,
		REQUESTS * LEAK_BYTES / 10 * 11) > 0);
	assert_true(tg_test_write(spec, text));
	free(text);
	assert_int_equal(e2e_run_dir(dir, &r, &log), 1); /* the limit under the leak fails */
	assert_non_null(r);
	assert_non_null(log);
	requests = log_field(log, "requests");
	leaked = log_field(log, "leaked");
	freed = log_field(log, "freed_allocs");
	assert_true(requests == REQUESTS && leaked == (double)REQUESTS * LEAK_BYTES);

	heap = cJSON_GetObjectItemCaseSensitive(r, "heap");
	assert_non_null(heap);
	growth = e2e_num(heap, "growth_bytes");
	print_message("growth %.0f bytes, the example leaked %.0f\n", growth, leaked);
	assert_true(fabs(growth - leaked) <= 0.05 * leaked);
	assert_true(e2e_num(heap, "peak_live_bytes") >= growth);

	sites = cJSON_GetObjectItemCaseSensitive(heap, "sites");
	top = cJSON_GetArrayItem(sites, 0);
	assert_non_null(top);
	assert_string_equal(e2e_str(top, "function"), "costs::handle_request");
	source_of(r, top, path, sizeof path);
	leak_line = e2e_marker_line(path, "leak");
	assert_true(leak_line > 0);
	assert_int_equal((int)e2e_num(top, "line"), leak_line);
	assert_true(fabs(e2e_num(top, "allocs") - requests) <= 0.05 * requests);
	assert_true(fabs(e2e_num(top, "live_bytes") - leaked) <= 0.05 * leaked);
	/* the 4 KB buffer: handle_request's other site, every block freed */
	cJSON_ArrayForEach(s, sites)
		if (strcmp(e2e_str(s, "function"), "costs::handle_request") == 0 &&
		    (int)e2e_num(s, "line") != leak_line && e2e_num(s, "bytes") >= 4096.0 * requests * 0.95)
			scratch = s;
	assert_non_null(scratch);
	assert_true(fabs(e2e_num(scratch, "allocs") - freed) <= 0.05 * freed);
	assert_true(e2e_num(scratch, "live_bytes") == 0);

	assert_string_equal(e2e_str(check_named(r, "max_heap_growth", "all"), "status"), "failed");
	assert_string_equal(e2e_str(check_named(r, "max_heap_growth", "function=costs::*"), "status"),
			    "passed");
	s = check_named(r, "max_alloc_rate", "function=costs::handle_request*");
	assert_string_equal(e2e_str(s, "status"), "passed");
	/* handle_request allocates twice a request: the leak and the buffer */
	window = e2e_num(heap, "window_s");
	rate = atof(e2e_str(s, "observed"));
	print_message("alloc rate %.1f/s, the example's %.1f/s over %.2fs\n", rate,
		      (requests + freed) / window, window);
	assert_true(window > 0 && fabs(rate - (requests + freed) / window) <= 0.1 * (requests + freed) / window);
	free(log);
	recheck(r);
	cJSON_Delete(r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tg-e2e-heap-XXXXXX");
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
		cmocka_unit_test(test_leak),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
