/* The terminal summary: printed to a memory stream and read back line by
 * line: counts, failed and warned checks, the worst spans with their culprit
 * relative to the spec's folder, one advice line per kind, report paths, and
 * colour only when asked for. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "checks.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "summary.h"
#include "workers.h"

#define MS 1000000ull
#define SPEC_DIR "/home/ci/proj"
#define HOSTILE_TASK "demo::\"t\" <a&b>\n50%:x,y\x1b[31m"

struct fixture {
	struct tg_spec spec;
	struct tg_check checks[5];
	struct tg_span span[7];
	const struct tg_span *spans[7];
	struct tg_frame frames[7][2];
	struct tg_results r;
};

static void check(struct tg_check *c, enum tg_check_status st, const char *name, const char *msg)
{
	memset(c, 0, sizeof(*c));
	c->status = st;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->message, sizeof(c->message), "%s", msg);
}

/* Seven spans, longest first: cpu, sleep, cpu (allowed), file, mutex, net, wait. */
static void build(struct fixture *x)
{
	static const enum tg_block_kind kinds[7] = { TG_BLOCK_CPU, TG_BLOCK_SLEEP, TG_BLOCK_CPU,
		TG_BLOCK_FILE_IO, TG_BLOCK_MUTEX, TG_BLOCK_NET_IO, TG_BLOCK_WAIT };

	memset(x, 0, sizeof(*x));
	x->spec.name = "demo-server";
	x->spec.dir = SPEC_DIR;
	x->spec.path = "guard.yaml";
	check(&x->checks[0], TG_CHECK_PASSED, "min_polls >= 1 [all]", "");
	check(&x->checks[1], TG_CHECK_FAILED, "max_poll <= 5ms [task=demo::handler]",
	      "max poll 23.4ms > 5ms in demo::handler");
	check(&x->checks[2], TG_CHECK_FAILED, "max_blocking_spans <= 0 [all]", "6 blocking spans > 0");
	check(&x->checks[3], TG_CHECK_WARNED, "p99_poll <= 1ms [task=demo::*]", "p99 poll 3ms > 1ms in demo::x");
	check(&x->checks[4], TG_CHECK_SKIPPED, "max_poll_regression <= 25% [all]", "skipped: no --baseline given");
	for (int i = 0; i < 7; i++) {
		struct tg_span *s = &x->span[i];

		x->frames[i][0].function = "std::thread::sleep";
		x->frames[i][1].function = "demo::handler";
		x->frames[i][1].file = SPEC_DIR "/src/main.rs";
		x->frames[i][1].line = 40 + i;
		s->frames = x->frames[i];
		s->nframes = 2;
		s->culprit = 1;
		s->kind = kinds[i];
		s->task = i == 0 ? HOSTILE_TASK : "demo::handler";
		s->poll.duration_ns = (uint64_t)(100 - i) * MS;
		s->on_cpu_ns = kinds[i] == TG_BLOCK_CPU ? s->poll.duration_ns : MS / 2;
		s->poll.off_cpu_ns = s->poll.duration_ns - s->on_cpu_ns;
		x->spans[i] = s;
	}
	x->span[2].allowed = true;
	x->span[2].allow_reason = "hashing is bounded by design";
	x->span[3].culprit = -1;
	x->r.spec = &x->spec;
	x->r.checks = x->checks;
	x->r.nchecks = 5;
	x->r.spans = x->spans;
	x->r.nspans = 7;
	x->r.duration_s = 12.3;
	x->r.status = 1;
	x->r.junit_path = "tokio-guard-out/junit.xml";
	x->r.trace_path = "tokio-guard-out/trace.json";
	x->r.results_path = "";
}

/* The summary as a malloc'd string. */
static char *print(const struct tg_results *r, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	tg_summary_print(f, r, color);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* How many lines of OUT contain NEEDLE. */
static int lines_with(const char *out, const char *needle)
{
	int n = 0;
	char *copy = strdup(out), *save = NULL;

	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		n += strstr(l, needle) != NULL;
	free(copy);
	return n;
}

static void test_headline_and_checks(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	out = print(&x.r, false);
	assert_true(strncmp(out, "FAIL", 4) == 0);
	assert_int_equal(lines_with(out, "1 passed, 2 failed, 1 warned, 1 skipped"), 1);
	assert_int_equal(lines_with(out, "demo-server"), 1);
	assert_int_equal(lines_with(out, "failed max_poll <= 5ms [task=demo::handler]: max poll 23.4ms > 5ms"), 1);
	assert_int_equal(lines_with(out, "failed max_blocking_spans <= 0 [all]: 6 blocking spans > 0"), 1);
	assert_int_equal(lines_with(out, "warned p99_poll <= 1ms [task=demo::*]: p99 poll 3ms > 1ms"), 1);
	/* passed and skipped checks are only counted */
	assert_int_equal(lines_with(out, "min_polls"), 0);
	assert_int_equal(lines_with(out, "max_poll_regression"), 0);
	free(out);

	x.checks[1].status = x.checks[2].status = TG_CHECK_PASSED;
	x.r.status = 0;
	out = print(&x.r, false);
	assert_true(strncmp(out, "PASS", 4) == 0);
	assert_int_equal(lines_with(out, "3 passed, 0 failed, 1 warned, 1 skipped"), 1);
	free(out);
}

/* One line per worker, its name's control bytes shown as '?'; none without workers. */
static void test_workers(void **state)
{
	static const struct tg_worker_util w[] = {
		{ .tid = 41, .name = "tokio-rt-worker", .busy_pct = 60.25, .blocked_pct = 20, .idle_pct = 39.75 },
		{ .tid = 42, .name = "evil\033[2J", .busy_pct = 10, .idle_pct = 90 },
	};
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "Workers"), 0);
	free(out);
	x.r.workers = w;
	x.r.nworkers = 2;
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "Workers (busy, of it blocked in spans; idle):"), 1);
	assert_int_equal(lines_with(out, "  tokio-rt-worker 41: busy 60.2%, blocked 20.0%, idle 39.8%"), 1);
	assert_int_equal(lines_with(out, "  evil?[2J 42: busy 10.0%, blocked 0.0%, idle 90.0%"), 1);
	free(out);
}

static void test_worst_spans(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "(7 in all, by task and culprit)"), 1);
	/* at most 5 spans: the 6th (95ms net) and 7th never show */
	assert_int_equal(lines_with(out, "100ms CPU work"), 1);
	assert_int_equal(lines_with(out, "99.0ms thread::sleep"), 1);
	assert_int_equal(lines_with(out, "96.0ms std Mutex wait"), 1);
	assert_int_equal(lines_with(out, tg_block_kind_title(TG_BLOCK_NET_IO)), 0);
	/* culprits relative to the spec's folder, with their line */
	assert_int_equal(lines_with(out, "at demo::handler (src/main.rs:40)"), 1);
	assert_int_equal(lines_with(out, "(src/main.rs:41)"), 1);
	assert_int_equal(lines_with(out, SPEC_DIR), 0);
	assert_int_equal(lines_with(out, "no frame of the target's own code"), 1);
	assert_int_equal(lines_with(out, "allowed: hashing is bounded by design"), 1);
	/* one advice line per kind shown (the allowed span needs none) */
	assert_int_equal(lines_with(out, "-> "), 4);
	assert_int_equal(lines_with(out, tg_block_kind_advice(TG_BLOCK_CPU)), 1);
	assert_int_equal(lines_with(out, tg_block_kind_advice(TG_BLOCK_SLEEP)), 1);
	assert_int_equal(lines_with(out, tg_block_kind_advice(TG_BLOCK_FILE_IO)), 1);
	assert_int_equal(lines_with(out, tg_block_kind_advice(TG_BLOCK_MUTEX)), 1);
	/* the hostile task name stays on its line and cannot drive the terminal */
	assert_null(strchr(out, '\x1b'));
	assert_int_equal(lines_with(out, "demo::\"t\" <a&b>?50%:x,y?[31m"), 1);
	assert_null(strchr(out, '\t'));
	assert_int_equal(lines_with(out, "(x"), 0);
	free(out);
}

/* Spans of one task at one culprit are one finding: the worst, with a count. */
static void test_spans_grouped_by_place(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	/* the 97ms file span and the 96ms mutex span become more of the 99ms sleep */
	for (int i = 3; i <= 4; i++) {
		x.span[i].culprit = 1;
		x.frames[i][1].line = 41;
		x.span[i].kind = TG_BLOCK_SLEEP;
	}
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "99.0ms thread::sleep"), 1);
	assert_int_equal(lines_with(out, "(x3, 292ms in all)"), 1);
	assert_int_equal(lines_with(out, "(src/main.rs:41)"), 1);
	/* the places freed let the 95ms net span and the 94ms wait in */
	assert_int_equal(lines_with(out, "95.0ms blocking network I/O"), 1);
	assert_int_equal(lines_with(out, "94.0ms blocking wait"), 1);
	/* an allowed span is its own finding even at the same place */
	assert_int_equal(lines_with(out, "allowed: hashing is bounded by design"), 1);
	free(out);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "in X s" is the whole run's wall time, never the probed span (which is the
 * system's uptime when the target never started: t0 = 0). */
static void test_run_time_is_wall_time(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	x.r.duration_s = 852.3;
	x.r.phase_ns[TG_PHASE_START] = now_ns() - 4000 * MS;
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "852.3"), 0);
	assert_int_equal(lines_with(out, "1 skipped in 4."), 1);
	free(out);

	/* no known start: no time rather than a wrong one */
	x.r.phase_ns[TG_PHASE_START] = 0;
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "1 skipped in "), 0);
	assert_int_equal(lines_with(out, "1 skipped\n") + lines_with(out, "1 skipped"), 1);
	free(out);
}

/* A failed exec step's last output lines, under its check, one terminal line each. */
static void test_exec_output_under_its_check(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	check(&x.checks[0], TG_CHECK_FAILED, "load: bench",
	      "exec step 'bench' exited with code 2: error: connection refused");
	x.checks[0].output = "Running 2s test @ http://127.0.0.1:1/\n\nerror: connection \x1b[31mrefused\n";
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "failed load: bench: exec step 'bench' exited with code 2: error: connection refused"), 1);
	assert_int_equal(lines_with(out, "    | Running 2s test @ http://127.0.0.1:1/"), 1);
	assert_int_equal(lines_with(out, "    | error: connection ?[31mrefused"), 1);
	assert_int_equal(lines_with(out, "    | "), 2); /* the empty line is left out */
	free(out);
}

static void test_reports_and_color(void **state)
{
	struct fixture x;
	char *out;

	(void)state;
	build(&x);
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "tokio-guard-out/junit.xml"), 1);
	assert_int_equal(lines_with(out, "tokio-guard-out/trace.json  (open it in https://ui.perfetto.dev)"), 1);
	assert_int_equal(lines_with(out, "results"), 0); /* not written: not shown */
	assert_null(strstr(out, "\033["));
	free(out);

	out = print(&x.r, true);
	assert_non_null(strstr(out, "\033[31m")); /* FAIL, failed checks */
	assert_non_null(strstr(out, "\033[33m")); /* warned */
	assert_non_null(strstr(out, "\033[0m"));
	assert_non_null(strstr(out, "max poll 23.4ms > 5ms"));
	free(out);

	/* nothing to show: just the headline, no empty sections */
	memset(&x.r, 0, sizeof(x.r));
	out = print(&x.r, false);
	assert_int_equal(lines_with(out, "0 passed, 0 failed, 0 warned, 0 skipped"), 1);
	assert_null(strstr(out, "Reports"));
	assert_null(strstr(out, "Worst"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headline_and_checks),
		cmocka_unit_test(test_worst_spans),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_spans_grouped_by_place),
		cmocka_unit_test(test_reports_and_color),
		cmocka_unit_test(test_run_time_is_wall_time),
		cmocka_unit_test(test_exec_output_under_its_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
