/* tokio-guard diff (runner/diff_cmd.c) on crafted results.json pairs: the
 * table's rows and changes, new and gone culprits and tasks, the order
 * (worst regression first) and the exit code against --limit. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_files.h"
#include "report_cmd.h"

static char dir[] = "/tmp/tg-diff-XXXXXX";
static char base[256], new_[256], md[256];

#define TASK(name, polls, p50, p99, max) \
	"{\"name\": \"" name "\", \"polls\": " #polls ", \"p50_poll_ns\": " #p50 \
	", \"p99_poll_ns\": " #p99 ", \"max_poll_ns\": " #max ", \"blocking_spans\": 0}"
#define SPAN(task, dur, fn, file, line, allowed) \
	"{\"task\": \"" task "\", \"duration_ns\": " #dur ", \"allowed\": " #allowed \
	", \"culprit\": {\"function\": \"" fn "\", \"file\": \"" file "\", \"line\": " #line "}}"

static const char base_json[] = "{\"version\": 1, \"tasks\": ["
	TASK("demo::steady", 1000, 20000, 100000, 200000) ","
	TASK("demo::slower", 1000, 20000, 1000000, 2000000) ","
	TASK("demo::blocker", 10, 20000000, 20000000, 20000000) ","
	TASK("demo::noisy", 1000, 1000, 2000, 3000) ","
	TASK("demo::only_base", 5, 1000, 1000, 1000) "],"
	"\"blocking_spans\": ["
	SPAN("demo::blocker", 20000000, "demo::sleepy", "src/lib.rs", 66, false) ","
	SPAN("demo::blocker", 20000000, "demo::burn", "src/lib.rs", 58, false) ","
	SPAN("demo::steady", 15000000, "demo::config", "src/io.rs", 3, true) "]}";

static const char new_json[] = "{\"version\": 1, \"tasks\": ["
	TASK("demo::steady", 1100, 21000, 110000, 210000) ","
	TASK("demo::slower", 1000, 20000, 2500000, 2500000) ","
	TASK("demo::blocker", 10, 20000000, 20000000, 20000000) ","
	TASK("demo::noisy", 1000, 1000, 9000, 9000) ","
	TASK("demo::only_new", 5, 1000, 1000, 1000) "],"
	"\"blocking_spans\": ["
	SPAN("demo::blocker", 20000000, "demo::burn", "src/lib.rs", 58, false) ","
	SPAN("demo::steady", 15000000, "demo::config", "src/io.rs", 3, true) ","
	SPAN("demo::steady", 12000000, "demo::hash", "src/h.rs", 9, false) "]}";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(base, sizeof(base), "%s/base.json", dir);
	snprintf(new_, sizeof(new_), "%s/new.json", dir);
	snprintf(md, sizeof(md), "%s/diff.md", dir);
	return tg_test_write(base, base_json) && tg_test_write(new_, new_json) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tg_test_rm_rf(dir);
	return 0;
}

static int diff(const char *a, const char *b, const char *limit)
{
	char *argv[8] = { "diff", (char *)a, (char *)b, "--markdown", md, NULL, NULL, NULL };
	int argc = 5;

	if (limit) {
		argv[argc++] = "--limit";
		argv[argc++] = (char *)limit;
	}
	remove(md);
	return tg_diff_main(argc, argv);
}

/* The line of the table for TASK. */
static char *row(const char *text, const char *task, char *buf, size_t len)
{
	char key[128];
	const char *p, *e;

	snprintf(key, sizeof(key), "| `%s` |", task);
	p = strstr(text, key);
	if (!p)
		return NULL;
	e = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return buf;
}

static void test_table_and_exit(void **state)
{
	char *t, line[1024];

	(void)state;
	assert_int_equal(diff(base, new_, NULL), 1);
	t = tg_test_read(md, NULL);
	assert_non_null(t);
	/* p99 1ms -> 2.5ms is +150%: past 25% */
	assert_non_null(row(t, "demo::slower", line, sizeof(line)));
	assert_non_null(strstr(line, "1.00ms → 2.50ms (+150%)"));
	assert_non_null(strstr(line, "**regressed**"));
	/* steady got a blocking span from none (allowed ones do not count) */
	assert_non_null(row(t, "demo::steady", line, sizeof(line)));
	assert_non_null(strstr(line, "0 → 1"));
	assert_non_null(strstr(line, "0 → 12.0ms (new)"));
	assert_non_null(strstr(line, "**regressed**"));
	/* blocker's blocking time halved: better, not regressed */
	assert_non_null(row(t, "demo::blocker", line, sizeof(line)));
	assert_non_null(strstr(line, "40.0ms → 20.0ms (-50%)"));
	assert_null(strstr(line, "regressed"));
	/* a 2us -> 9us p99 is +350% but only 7us: noise (under 1ms), not a regression */
	assert_non_null(row(t, "demo::noisy", line, sizeof(line)));
	assert_null(strstr(line, "regressed"));
	/* tasks in one run only: listed, never regressions */
	assert_non_null(row(t, "demo::only_base", line, sizeof(line)));
	assert_non_null(strstr(line, "| gone |"));
	assert_non_null(row(t, "demo::only_new", line, sizeof(line)));
	assert_non_null(strstr(line, "| new |"));
	/* worst first: steady (from nothing) before slower (+150%), both before the rest */
	assert_true(strstr(t, "`demo::steady`") < strstr(t, "`demo::slower`"));
	assert_true(strstr(t, "`demo::slower`") < strstr(t, "`demo::blocker`"));
	assert_true(strstr(t, "`demo::blocker`") < strstr(t, "`demo::only_base`"));
	/* culprits by function and file:line */
	assert_non_null(strstr(t, "**New culprits**\n\n- `demo::hash (src/h.rs:9)`: 1 span\n"));
	assert_non_null(strstr(t, "**Gone culprits**\n\n- `demo::sleepy (src/lib.rs:66)`: 1 span\n"));
	assert_null(strstr(t, "demo::burn (src/lib.rs:58)`: "));   /* in both: neither new nor gone */
	assert_null(strstr(t, "demo::config")); /* allowed spans are not blocking */
	assert_non_null(strstr(t, "**2 tasks regressed** past 25%"));
	free(t);
}

static void test_limit(void **state)
{
	char *t;

	(void)state;
	/* steady's blocking time grew from nothing: past any limit */
	assert_int_equal(diff(base, new_, "1000%"), 1);
	t = tg_test_read(md, NULL);
	assert_non_null(strstr(t, "**1 task regressed** past 1000%"));
	free(t);
	/* the other way round: blocker's blocking time doubles (+100%), the rest shrank */
	assert_int_equal(diff(new_, base, "25%"), 1);
	assert_int_equal(diff(new_, base, "150%"), 0);
	t = tg_test_read(md, NULL);
	assert_non_null(strstr(t, "No task regressed past 150%"));
	assert_non_null(strstr(t, "**Gone culprits**\n\n- `demo::hash (src/h.rs:9)`"));
	free(t);
	/* the same run twice: no change at all */
	assert_int_equal(diff(base, base, NULL), 0);
}

static void test_bad_input(void **state)
{
	char bad[300], other[300];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	snprintf(other, sizeof(other), "%s/other.json", dir);
	assert_true(tg_test_write(bad, "{\"version\": 1, \"tasks\": [ {\"name\": } ]}"));
	assert_true(tg_test_write(other, "{\"version\": 3, \"tasks\": []}"));
	assert_int_equal(diff(base, bad, NULL), 2);
	assert_int_equal(diff(other, base, NULL), 2);
	assert_int_equal(diff(base, "/nonexistent.json", NULL), 2);
	assert_int_equal(diff(base, new_, "lots"), 2);
	{
		char *argv[] = { "diff", base, NULL };

		assert_int_equal(tg_diff_main(2, argv), 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_exit),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
