/* Assertions: every limit kind passing and failing with its exact observed
 * value and message, each selector (glob, blocking-pool exclusion, function
 * fallbacks, load aggregation over real histograms), the allow-list, warn
 * mode, allow_missing, the default entry, unique names, baselines read from
 * real files, probe and load checks and the exit code. Specs are built by
 * hand: the parser is tested in test_spec. One file over 1000 lines on
 * purpose: every case builds its spec with the same hand-made fixtures. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu_profile.h"
#include "checks.h"
#include "workers.h"
#include "hist.h"
#include "load.h"
#include "poll_probe.h"
#include "record.h"
#include "requests.h"
#include "spec.h"

#define US 1000ull
#define MS 1000000ull

/* Quotes, brackets, ampersand, newline, percent, colon, comma. */
#define HOSTILE "demo::\"h\" <a&b>\n50%:x,y"

/* ---- a spec built by hand ---- */

#define MAXE 8
static struct tg_spec spec;
static struct tg_assertion entries[MAXE];
static struct tg_limit limits[MAXE][4];
static struct tg_allow allows[4];
static struct tg_assert_input in;
static struct tg_check *checks;
static size_t nchecks;

static int reset(void **state)
{
	tg_checks_free(checks);
	checks = NULL;
	nchecks = 0;
	memset(&spec, 0, sizeof spec);
	memset(entries, 0, sizeof entries);
	memset(limits, 0, sizeof limits);
	memset(&in, 0, sizeof in);
	spec.dir = "/src/demo";
	spec.has_assertions = true;
	spec.assertions = entries;
	spec.allow = allows;
	in.spec = &spec;
	in.probed = true;
	in.sched_measured = true;
	in.polls = 1000;
	return 0;
}

static int done(void **state)
{
	tg_checks_free(checks);
	checks = NULL;
	return 0;
}

static struct tg_assertion *entry(enum tg_selector sel, const char *pattern)
{
	struct tg_assertion *e = &entries[spec.nassertions];

	assert_true(spec.nassertions < MAXE);
	memset(e, 0, sizeof *e);
	e->sel = sel;
	e->pattern = (char *)pattern;
	e->limits = limits[spec.nassertions++];
	return e;
}

/* The limit as the parser would hold it: TEXT parsed by the spec's own parsers. */
static struct tg_assertion *limit(struct tg_assertion *e, enum tg_limit_kind k, const char *text)
{
	struct tg_limit *l = &e->limits[e->nlimits++];
	char why[128];

	l->kind = k;
	l->text = (char *)text;
	switch (tg_limit_unit(k)) {
	case TG_UNIT_DURATION: assert_int_equal(tg_parse_duration(text, &l->ns), 0); break;
	case TG_UNIT_COUNT: l->count = strtoull(text, NULL, 10); break;
	case TG_UNIT_PERCENT: assert_int_equal(tg_parse_percent(text, &l->value, why, sizeof why), 0); break;
	case TG_UNIT_RATE: assert_int_equal(tg_parse_rate(text, &l->value, why, sizeof why), 0); break;
	case TG_UNIT_BYTES: l->count = strtoull(text, NULL, 10); break;
	}
	return e;
}

static void eval(void)
{
	tg_checks_free(checks);
	assert_int_equal(tg_assert_eval(&in, &checks, &nchecks), 0);
	assert_non_null(checks);
}

/* The I-th assertion check (assertion checks come first, in spec order). */
static const struct tg_check *chk(size_t i)
{
	assert_true(i < nchecks);
	assert_int_equal(checks[i].group, TG_GROUP_ASSERTION);
	return &checks[i];
}

static const struct tg_check *by_name(const char *name)
{
	for (size_t i = 0; i < nchecks; i++)
		if (strcmp(checks[i].name, name) == 0)
			return &checks[i];
	fail_msg("no check named \"%s\"", name);
	return NULL;
}

static void expect(const struct tg_check *c, enum tg_check_status st, const char *observed,
		   const char *message)
{
	assert_string_equal(tg_check_status_name(c->status), tg_check_status_name(st));
	if (observed)
		assert_string_equal(c->observed, observed);
	if (message)
		assert_string_equal(c->message, message);
}

/* C's message starts with PREFIX (the rest: what was observed nearby). */
static void expect_prefix(const struct tg_check *c, enum tg_check_status st, const char *prefix)
{
	assert_string_equal(tg_check_status_name(c->status), tg_check_status_name(st));
	if (strncmp(c->message, prefix, strlen(prefix)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", c->message, prefix);
}

/* ---- what the probes saw ---- */

static struct tg_task_summary tasks[] = {
	{ .name = "demo::handler", .polls = 5000, .max_ns = 23400 * US, .p50_ns = 200 * US,
	  .p90_ns = 900 * US, .p99_ns = 4 * MS, .p999_ns = 12 * MS, .sched_count = 4000,
	  .sched_max_ns = 7 * MS, .sched_p99_ns = 2 * MS },
	{ .name = "demo::other", .polls = 150, .max_ns = 1200 * US, .p50_ns = 100 * US,
	  .p90_ns = 300 * US, .p99_ns = 800 * US, .p999_ns = 1100 * US, .sched_count = 0,
	  .sched_max_ns = 90 * MS, .sched_p99_ns = 90 * MS },
	{ .name = "demo::pool_work", .blocking_pool = true, .polls = 10, .max_ns = 900 * MS,
	  .p50_ns = 900 * MS, .p90_ns = 900 * MS, .p99_ns = 900 * MS, .p999_ns = 900 * MS },
	{ .name = "web::serve", .polls = 20, .max_ns = 31 * MS, .p50_ns = 1 * MS, .p90_ns = 2 * MS,
	  .p99_ns = 30 * MS, .p999_ns = 31 * MS, .sched_count = 20, .sched_max_ns = 3 * MS,
	  .sched_p99_ns = 3 * MS },
};

static struct tg_frame frames_sleep[] = {
	{ .function = "std::thread::sleep", .file = "/rustc/abc/library/std/src/thread/mod.rs", .line = 1 },
	{ .function = "blocking_kinds::sleepy", .file = "/src/demo/src/lib.rs", .line = 64, .own = true },
	{ .function = "demo::sleep_task", .file = "/src/demo/src/main.rs", .line = 10, .own = true },
};
static const char *fn_sleep[] = { "std::thread::sleep", "blocking_kinds::sleepy", "demo::sleep_task" };
static const char *fn_hash[] = { "ring::pbkdf2::derive", "demo::compute_hash" };
static const char *fn_lock[] = { "std::sync::Mutex::lock", "web::serve" };

static struct tg_span spans[4];

/* A: 101ms sleeping in demo::sleep_task; B: 50ms hashing in demo::handler;
 * C: 30ms on a lock in web::serve; D: 12ms in demo::handler, no stack. */
static void set_spans(void)
{
	memset(spans, 0, sizeof spans);
	spans[0] = (struct tg_span){ .poll = { .duration_ns = 101 * MS }, .task = "demo::sleep_task",
				     .frames = frames_sleep, .nframes = 3, .culprit = 1,
				     .functions = fn_sleep, .nfunctions = 3 };
	spans[1] = (struct tg_span){ .poll = { .duration_ns = 50 * MS }, .task = "demo::handler",
				     .culprit = -1, .functions = fn_hash, .nfunctions = 2 };
	spans[2] = (struct tg_span){ .poll = { .duration_ns = 30 * MS }, .task = "web::serve",
				     .culprit = -1, .functions = fn_lock, .nfunctions = 2 };
	spans[3] = (struct tg_span){ .poll = { .duration_ns = 12 * MS }, .task = "demo::handler",
				     .culprit = -1, .fn_mask = 1 };
	in.spans = spans;
	in.nspans = 4;
}

static void set_tasks(void)
{
	in.tasks = tasks;
	in.ntasks = sizeof tasks / sizeof tasks[0];
}

/* ---- per-task limits ---- */

static void test_max_poll_task_glob(void **state)
{
	set_tasks();
	limit(entry(TG_SEL_TASK, "demo::*"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_TASK, "demo::other"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_POLL, "50ms");
	limit(entry(TG_SEL_TASK, "*"), TG_LIM_MAX_POLL, "1ms");
	eval();
	/* 3 assertion checks... then probe and no load */
	assert_int_equal(nchecks, 4 + 2);

	const struct tg_check *c = chk(0);
	expect(c, TG_CHECK_FAILED, "23.4ms", "max poll 23.4ms > 5ms in demo::handler");
	assert_string_equal(c->name, "max_poll <= 5ms [task=demo::*]");
	assert_string_equal(c->classname, "task=demo::*");
	assert_string_equal(c->limit_text, "5ms");
	assert_string_equal(c->task, "demo::handler");
	assert_true(fabs(c->time_s - 0.0234) < 1e-9);
	assert_true(fabs(c->severity - 23.4 / 5) < 1e-9);
	assert_ptr_equal(c->entry, &entries[0]);
	assert_ptr_equal(c->limit, &entries[0].limits[0]);

	expect(chk(1), TG_CHECK_PASSED, "1.20ms", "max poll 1.20ms <= 5ms (demo::other)");
	assert_true(chk(1)->severity < 1);
	/* The blocking pool's 900ms is not a runtime poll: web::serve's 31ms is the worst. */
	expect(chk(2), TG_CHECK_PASSED, "31.0ms", "max poll 31.0ms <= 50ms (web::serve)");
	assert_string_equal(chk(2)->classname, "all");
	assert_string_equal(chk(2)->name, "max_poll <= 50ms [all]");
	/* Several tasks over the limit: the worst is named, the others counted. */
	expect(chk(3), TG_CHECK_FAILED, "31.0ms",
	       "max poll 31.0ms > 1ms in web::serve (and 2 more tasks over the limit)");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 1);
}

/* Poll limits hold own time (wall less waiting for a CPU); a failing check
 * shows both when they read differently, and the wall time alone never fails. */
static void test_max_poll_own_time(void **state)
{
	struct tg_task_summary t[] = {
		{ .name = "demo::busy", .polls = 10, .max_ns = 12100 * US, .max_own_wall_ns = 14 * MS,
		  .max_wall_ns = 14 * MS },
		{ .name = "demo::preempted", .polls = 10, .max_ns = 40 * US, .max_own_wall_ns = 6460 * US,
		  .max_wall_ns = 6500 * US },
	};
	in.tasks = t;
	in.ntasks = 2;
	limit(entry(TG_SEL_TASK, "demo::busy"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_TASK, "demo::preempted"), TG_LIM_MAX_POLL, "5ms");
	eval();
	expect(chk(0), TG_CHECK_FAILED, "12.1ms",
	       "max poll 12.1ms > 5ms in demo::busy (own; 14.0ms wall, 1.90ms waiting for a CPU)");
	/* 6.5ms of wall time, 40us of its own: a busy machine, not the code */
	expect(chk(1), TG_CHECK_PASSED, "40.0us", NULL);
	assert_non_null(strstr(chk(1)->message, "own; 6.46ms wall, 6.42ms waiting for a CPU"));
}

/* A function selector's spans are measured by own time too. */
static void test_function_max_poll_own_time(void **state)
{
	struct tg_span sp[] = {
		{ .poll = { .duration_ns = 30 * MS, .runq_ns = 25 * MS }, .task = "web::serve",
		  .culprit = -1, .functions = fn_lock, .nfunctions = 2 },
	};
	in.spans = sp;
	in.nspans = 1;
	limit(entry(TG_SEL_FUNCTION, "std::sync::Mutex::lock"), TG_LIM_MAX_POLL, "10ms");
	eval();
	expect(chk(0), TG_CHECK_PASSED, "5.00ms", NULL);
	assert_non_null(strstr(chk(0)->message, "own; 30.0ms wall, 25.0ms waiting for a CPU"));
}

static void test_percentiles(void **state)
{
	set_tasks();
	struct tg_assertion *e = entry(TG_SEL_TASK, "demo::handler");
	limit(e, TG_LIM_P50_POLL, "200us");  /* equal passes */
	limit(e, TG_LIM_P90_POLL, "500us");
	limit(e, TG_LIM_P99_POLL, "5ms");
	limit(e, TG_LIM_P999_POLL, "10ms");
	eval();
	expect(chk(0), TG_CHECK_PASSED, "200us", "p50 poll 200us <= 200us (demo::handler)");
	assert_string_equal(chk(0)->name, "p50_poll <= 200us [task=demo::handler]");
	expect(chk(1), TG_CHECK_FAILED, "900us", "p90 poll 900us > 500us in demo::handler");
	expect(chk(2), TG_CHECK_PASSED, "4.00ms", "p99 poll 4.00ms <= 5ms (demo::handler)");
	expect(chk(3), TG_CHECK_FAILED, "12.0ms", "p99.9 poll 12.0ms > 10ms in demo::handler");
	assert_string_equal(chk(3)->name, "p999_poll <= 10ms [task=demo::handler]");
}

/* max_delayed_tasks: the selected span that delayed the most tasks, per span (not a sum). */
static void test_delayed_tasks(void **state)
{
	static struct tg_delayed a = { .tasks = 37, .total_ns = 410 * MS }, b = { .tasks = 3, .total_ns = 9 * MS };

	set_tasks();
	set_spans();
	spans[0].delayed = &a; /* demo::sleep_task, 101ms */
	spans[1].delayed = &b; /* demo::handler, 50ms */
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_DELAYED_TASKS, "10");
	limit(entry(TG_SEL_TASK, "demo::handler"), TG_LIM_MAX_DELAYED_TASKS, "3");
	limit(entry(TG_SEL_TASK, "web::*"), TG_LIM_MAX_DELAYED_TASKS, "0");
	assert_true(tg_needs_sched_delay(&spec));
	eval();
	expect(chk(0), TG_CHECK_FAILED, "37", "37 tasks delayed by one span > 10 in demo::sleep_task "
	       "(this 101ms poll delayed 37 tasks by 410ms in all)");
	assert_string_equal(chk(0)->name, "max_delayed_tasks <= 10 [all]");
	expect(chk(1), TG_CHECK_PASSED, "3", "3 tasks delayed by one span <= 3 (demo::handler; "
	       "this 50.0ms poll delayed 3 tasks by 9.00ms in all)");
	expect(chk(2), TG_CHECK_PASSED, "0", "0 tasks delayed by one span <= 0");

	spans[0].allowed = true; /* accepted blocking: its cascade too */
	eval();
	expect(chk(0), TG_CHECK_PASSED, "3", "3 tasks delayed by one span <= 10 (demo::handler; "
	       "this 50.0ms poll delayed 3 tasks by 9.00ms in all)");

	in.sched_measured = false;
	eval();
	expect_prefix(chk(0), TG_CHECK_SKIPPED, "skipped: scheduling delay was not measured");
}

static void test_scheduling_delay(void **state)
{
	set_tasks();
	/* demo::other was never woken (sched_count 0): its 90ms is not a measurement. */
	limit(limit(entry(TG_SEL_TASK, "demo::*"), TG_LIM_MAX_SCHEDULING_DELAY, "5ms"),
	      TG_LIM_P99_SCHEDULING_DELAY, "2ms");
	limit(entry(TG_SEL_TASK, "demo::other"), TG_LIM_MAX_SCHEDULING_DELAY, "5ms");
	assert_true(tg_needs_sched_delay(&spec));
	eval();
	expect(chk(0), TG_CHECK_FAILED, "7.00ms", "max scheduling delay 7.00ms > 5ms in demo::handler");
	expect(chk(1), TG_CHECK_PASSED, "2.00ms", "p99 scheduling delay 2.00ms <= 2ms (demo::handler)");
	expect(chk(2), TG_CHECK_SKIPPED, "", "skipped: no wake-to-poll delay was measured for the matched tasks");

	in.sched_measured = false;
	eval();
	for (int i = 0; i < 3; i++)
		expect(chk(i), TG_CHECK_SKIPPED, "", "skipped: scheduling delay was not measured in this run");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0);
}

/* max_cpu_share: the selector's functions anywhere on a sample's stack, once a sample. */
static void test_cpu_share(void **state)
{
	struct tg_cpu_profile *p = tg_cpu_profile_new(99);
	const struct tg_cpu_frame hot[] = { { "app::spin", NULL, 0 }, { "app::hot", NULL, 0 },
					    { "app::main", NULL, 0 } };
	const struct tg_cpu_frame cold[] = { { "app::cold", NULL, 0 }, { "app::main", NULL, 0 } };

	(void)state;
	assert_int_equal(tg_cpu_profile_add_stack(p, hot, 3, 30), 0);
	assert_int_equal(tg_cpu_profile_add_stack(p, cold, 2, 70), 0);
	limit(entry(TG_SEL_FUNCTION, "app::hot"), TG_LIM_MAX_CPU_SHARE, "25%");
	limit(entry(TG_SEL_FUNCTION, "app::*o*"), TG_LIM_MAX_CPU_SHARE, "100%");
	limit(entry(TG_SEL_FUNCTION, "other::*"), TG_LIM_MAX_CPU_SHARE, "10%");
	eval(); /* no profile: skipped, saying how to get one */
	expect(chk(0), TG_CHECK_SKIPPED, "", "skipped: no CPU profile: set probe.cpu_profile (samples a second, e.g. 99)");
	in.cpu = p;
	eval();
	expect(chk(0), TG_CHECK_FAILED, "30.0%", "CPU share 30.0% > 25%");
	expect(chk(1), TG_CHECK_PASSED, "100.0%", "CPU share 100.0% <= 100%");
	expect_prefix(chk(2), TG_CHECK_FAILED, "matched no polls (no function of the CPU profile matches other::*)");
	tg_cpu_profile_free(p);
}

/* max_worker_busy: the busiest worker against the limit; no worker seen is
 * a selection that matched nothing. */
static void test_worker_busy(void **state)
{
	static const struct tg_worker_util w[] = {
		{ .tid = 11, .name = "tokio-rt-worker", .busy_pct = 42.5, .blocked_pct = 30, .idle_pct = 57.5 },
		{ .tid = 12, .name = "tokio-rt-worker", .busy_pct = 61.25, .blocked_pct = 5, .idle_pct = 38.75 },
	};

	limit(limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_WORKER_BUSY, "60%"), TG_LIM_MAX_WORKER_BUSY, "70%");
	in.workers = w;
	in.nworkers = 2;
	eval();
	expect(chk(0), TG_CHECK_FAILED, "61.2%",
	       "worker busy 61.2% > 60% in worker tokio-rt-worker (tid 12) (blocked 5.0%, idle 38.8%)");
	assert_string_equal(chk(0)->name, "max_worker_busy <= 60% [all]");
	expect(chk(1), TG_CHECK_PASSED, "61.2%",
	       "worker busy 61.2% <= 70% (worker tokio-rt-worker (tid 12); blocked 5.0%, idle 38.8%)");
	in.nworkers = 0;
	eval();
	expect(chk(0), TG_CHECK_FAILED, "", "matched no polls: no worker thread ran a task's poll");
}

static void test_min_polls(void **state)
{
	set_tasks();
	limit(limit(entry(TG_SEL_TASK, "demo::*"), TG_LIM_MIN_POLLS, "5151"), TG_LIM_MIN_POLLS, "5150");
	eval();
	/* 5000 + 150: the blocking pool's 10 polls do not count. */
	expect(chk(0), TG_CHECK_FAILED, "5150", "5150 polls < 5151");
	assert_string_equal(chk(0)->name, "min_polls >= 5151 [task=demo::*]");
	assert_true(chk(0)->severity > 1);
	expect(chk(1), TG_CHECK_PASSED, "5150", "5150 polls >= 5150");
	assert_true(chk(1)->time_s == 0);
}

static void test_blocking_pool_only_matches_nothing(void **state)
{
	set_tasks();
	limit(entry(TG_SEL_TASK, "demo::pool_*"), TG_LIM_MAX_POLL, "1s");
	limit(entry(TG_SEL_TASK, "nothing::here"), TG_LIM_MAX_BLOCKING_SPANS, "0");
	eval();
	expect(chk(0), TG_CHECK_FAILED, "",
	       "matched no polls (only blocking-pool tasks match: spawn_blocking polls are not runtime polls)");
	/* nothing near: the closest observed names, nearest first */
	expect(chk(1), TG_CHECK_FAILED, "", NULL);
	expect_prefix(chk(1), TG_CHECK_FAILED, "matched no polls; observed tasks include `");
	assert_null(strstr(chk(1)->message, "did you mean"));
	assert_string_equal(chk(1)->name, "max_blocking_spans <= 0 [task=nothing::here]");

	/* No selector and no polls at all: never a silent pass. */
	in.ntasks = 0;
	in.polls = 0;
	spec.nassertions = 0;
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_POLL, "1s");
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_BLOCKING_SPANS, "0");
	eval();
	expect(chk(0), TG_CHECK_FAILED, "", "matched no polls");
	expect(chk(1), TG_CHECK_FAILED, "", "matched no polls");
	assert_string_equal(chk(1)->name, "max_blocking_spans <= 0 [all]");
	assert_true(chk(0)->severity >= 1);
}

/* ---- spans, allow-list ---- */

static void test_apply_allow(void **state)
{
	set_spans();
	allows[0] = (struct tg_allow){ .function = "ring::pbkdf2::*", .reason = "bounded \"by\" <design>" };
	allows[1] = (struct tg_allow){ .function = "*::compute_hash", .reason = "second" };
	allows[2] = (struct tg_allow){ .function = "blocking_kinds::sleep?", .reason = "frames match too" };
	spec.nallow = 3;
	spans[0].functions = NULL; /* only the symbolized frames hold sleepy */
	spans[0].nfunctions = 0;
	tg_apply_allow(&spec, spans, 4);
	assert_true(spans[1].allowed);
	assert_string_equal(spans[1].allow_function, "ring::pbkdf2::*"); /* first match wins */
	assert_string_equal(spans[1].allow_reason, "bounded \"by\" <design>");
	assert_true(spans[0].allowed);
	assert_string_equal(spans[0].allow_reason, "frames match too");
	assert_false(spans[2].allowed);
	assert_null(spans[2].allow_reason);
	assert_false(spans[3].allowed);
}

static void test_blocking_spans_and_time(void **state)
{
	set_tasks();
	set_spans();
	allows[0] = (struct tg_allow){ .function = "ring::pbkdf2::*", .reason = "bounded" };
	spec.nallow = 1;
	tg_apply_allow(&spec, spans, 4);
	limit(limit(limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_BLOCKING_SPANS, "0"),
		    TG_LIM_MAX_BLOCKING_TIME, "150ms"), TG_LIM_MAX_BLOCKING_TIME, "100ms");
	limit(entry(TG_SEL_TASK, "demo::handler"), TG_LIM_MAX_BLOCKING_SPANS, "1");
	limit(entry(TG_SEL_TASK, "web::*"), TG_LIM_MAX_BLOCKING_SPANS, "0");
	eval();

	/* The allowed 50ms span is not counted: 101 + 30 + 12. */
	const struct tg_check *c = chk(0);
	expect(c, TG_CHECK_FAILED, "3",
	       "3 blocking spans > 0 (worst 101ms in demo::sleep_task at blocking_kinds::sleepy (src/lib.rs:64))");
	assert_string_equal(c->name, "max_blocking_spans <= 0 [all]");
	assert_true(c->severity == 4); /* limit 0: observed + 1 */
	assert_int_equal(c->nworst, 4);
	assert_ptr_equal(c->worst[0], &spans[0]);
	assert_ptr_equal(c->worst[1], &spans[2]);
	assert_ptr_equal(c->worst[2], &spans[3]);
	assert_ptr_equal(c->worst[3], &spans[1]); /* allowed last */
	assert_ptr_equal(c->culprit, &frames_sleep[1]);
	assert_string_equal(c->task, "demo::sleep_task");
	assert_true(c->time_s == 0);

	expect(chk(1), TG_CHECK_PASSED, "143ms", "blocking time 143ms <= 150ms (1 allowed)");
	assert_true(fabs(chk(1)->time_s - 0.143) < 1e-9);
	assert_int_equal(chk(1)->nworst, 0); /* only failures carry spans */
	expect(chk(2), TG_CHECK_FAILED, "143ms",
	       "blocking time 143ms > 100ms (worst 101ms in demo::sleep_task at blocking_kinds::sleepy (src/lib.rs:64))");
	/* demo::handler: the 12ms span counts, the allowed 50ms one does not. */
	expect(chk(3), TG_CHECK_PASSED, "1", "1 blocking spans <= 1 (1 allowed)");
	expect(chk(4), TG_CHECK_FAILED, "1", "1 blocking spans > 0 (worst 30.0ms in web::serve)");
	assert_int_equal(chk(4)->nworst, 1);
	assert_null(chk(4)->culprit);
}

/* The worst span lost its stack: the check's culprit (where its annotation
 * goes) is the next worst span's, not none. */
static void test_culprit_of_a_stackless_worst_span(void **state)
{
	set_tasks();
	set_spans();
	spans[0].frames = NULL;
	spans[0].nframes = 0;
	spans[0].culprit = -1;
	spans[2].frames = frames_sleep;
	spans[2].nframes = 3;
	spans[2].culprit = 1;
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_BLOCKING_SPANS, "0");
	eval();
	assert_ptr_equal(chk(0)->worst[0], &spans[0]);
	assert_ptr_equal(chk(0)->culprit, &frames_sleep[1]);
}

/* ---- function selectors ---- */

static void test_function_selectors(void **state)
{
	static const uint64_t hist[TG_HIST_BUCKETS];
	struct tg_fn_summary fns[2] = {
		{ .pattern = "demo::compute_*", .symbols = 2, .polls = 40, .max_ns = 9 * MS,
		  .p50_ns = 1 * MS, .p90_ns = 2 * MS, .p99_ns = 8 * MS, .p999_ns = 9 * MS, .hist = hist },
		{ .pattern = "std::sync::Mutex::lock", .symbols = 0 },
	};
	const char *sel[8];

	set_tasks();
	set_spans();
	limit(limit(limit(entry(TG_SEL_FUNCTION, "demo::compute_*"), TG_LIM_MAX_POLL, "40ms"),
		    TG_LIM_P99_POLL, "5ms"), TG_LIM_MIN_POLLS, "40");
	limit(limit(entry(TG_SEL_FUNCTION, "std::sync::Mutex::lock"), TG_LIM_MAX_POLL, "10ms"),
	      TG_LIM_P50_POLL, "10ms");
	limit(entry(TG_SEL_FUNCTION, "demo::compute_*"), TG_LIM_MAX_BLOCKING_SPANS, "1");
	limit(entry(TG_SEL_FUNCTION, "not::there"), TG_LIM_MAX_POLL, "1ms");
	limit(entry(TG_SEL_FUNCTION, "not::there"), TG_LIM_MAX_SCHEDULING_DELAY, "1ms");
	assert_int_equal(tg_fn_selectors(&spec, sel, 8), 3); /* distinct, in spec order */
	assert_string_equal(sel[0], "demo::compute_*");
	assert_string_equal(sel[1], "std::sync::Mutex::lock");
	assert_string_equal(sel[2], "not::there");
	assert_int_equal(tg_fn_selectors(&spec, sel, 1), 1);
	/* Scheduling delay is per task: a function entry never needs the wake probes. */
	assert_false(tg_needs_sched_delay(&spec));
	in.fns = fns;
	in.nfns = 2;
	eval();

	/* The 50ms span holds demo::compute_hash in its stack, longer than any
	 * poll the uprobes timed (the function was inlined there). */
	expect(chk(0), TG_CHECK_FAILED, "50.0ms", "max poll 50.0ms > 40ms in demo::compute_*");
	assert_string_equal(chk(0)->classname, "function=demo::compute_*");
	assert_string_equal(chk(0)->name, "max_poll <= 40ms [function=demo::compute_*]");
	/* worst: the 50ms span (function glob) and the 12ms one (fn_mask bit 0). */
	assert_int_equal(chk(0)->nworst, 2);
	assert_ptr_equal(chk(0)->worst[0], &spans[1]);
	assert_ptr_equal(chk(0)->worst[1], &spans[3]);
	expect(chk(1), TG_CHECK_FAILED, "8.00ms", "p99 poll 8.00ms > 5ms in demo::compute_*");
	expect(chk(2), TG_CHECK_PASSED, "40", "40 polls >= 40 (demo::compute_*)");
	/* Not found as a symbol: the spans whose stacks hold it. */
	expect(chk(3), TG_CHECK_FAILED, "30.0ms", "max poll 30.0ms > 10ms in std::sync::Mutex::lock");
	expect(chk(4), TG_CHECK_FAILED, "30.0ms",
	       "p50 poll 30.0ms > 10ms in std::sync::Mutex::lock (only polls >= blocking_threshold have stacks)");
	expect(chk(5), TG_CHECK_FAILED, "2",
	       "2 blocking spans > 1 (worst 50.0ms in demo::handler)");
	expect_prefix(chk(6), TG_CHECK_FAILED,
	       "matched no polls (no function matching it was found as a symbol, it may be inlined, "
	       "and no blocking span's stack holds it)");
	expect(chk(7), TG_CHECK_SKIPPED, "", "skipped: max_scheduling_delay is measured per task, not per function");
}

/* ---- entry options, default entry, names ---- */

static void test_warn_and_allow_missing(void **state)
{
	set_tasks();
	struct tg_assertion *e = limit(entry(TG_SEL_TASK, "demo::handler"), TG_LIM_MAX_POLL, "5ms");
	e->warn = true;
	e = limit(entry(TG_SEL_TASK, "never::*"), TG_LIM_MAX_POLL, "5ms");
	e->allow_missing = true;
	e = limit(entry(TG_SEL_LOAD, "nope"), TG_LIM_MAX_ERRORS, "0");
	e->allow_missing = true;
	e = limit(entry(TG_SEL_LOAD, "nope"), TG_LIM_MAX_ERRORS, "0");
	e->warn = true;
	eval();
	expect(chk(0), TG_CHECK_WARNED, "23.4ms", "max poll 23.4ms > 5ms in demo::handler");
	expect_prefix(chk(1), TG_CHECK_SKIPPED, "matched no polls");
	expect_prefix(chk(2), TG_CHECK_SKIPPED, "matched no load step");
	expect_prefix(chk(3), TG_CHECK_WARNED, "matched no load step");
	assert_int_equal(tg_checks_count(checks, nchecks, TG_CHECK_WARNED), 2);
	assert_int_equal(tg_checks_count(checks, nchecks, TG_CHECK_SKIPPED), 2);
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0);
}

static void test_default_entry(void **state)
{
	set_tasks();
	set_spans();
	spec.has_assertions = false;
	spec.assertions = NULL;
	eval();
	assert_int_equal(nchecks, 3);
	expect(chk(0), TG_CHECK_FAILED, "4", NULL);
	assert_string_equal(chk(0)->name, "max_blocking_spans <= 0 [all]");
	assert_string_equal(chk(0)->limit_text, "0");
	assert_int_equal(chk(0)->limit->kind, TG_LIM_MAX_BLOCKING_SPANS);
	assert_int_equal(chk(0)->entry->sel, TG_SEL_ALL);

	in.nspans = 0;
	eval();
	expect(chk(0), TG_CHECK_PASSED, "0", "0 blocking spans <= 0");

	/* assertions: [] measures only. */
	spec.has_assertions = true;
	eval();
	assert_int_equal(nchecks, 2);
	assert_int_equal(checks[0].group, TG_GROUP_PROBE);
}

static void test_unique_names(void **state)
{
	set_tasks();
	for (int i = 0; i < 3; i++)
		limit(entry(TG_SEL_TASK, "demo::handler"), TG_LIM_MAX_POLL, "50ms");
	eval();
	assert_string_equal(chk(0)->name, "max_poll <= 50ms [task=demo::handler]");
	assert_string_equal(chk(1)->name, "max_poll <= 50ms [task=demo::handler] #2");
	assert_string_equal(chk(2)->name, "max_poll <= 50ms [task=demo::handler] #3");
}

static void test_hostile_names(void **state)
{
	struct tg_task_summary t[] = { { .name = HOSTILE, .polls = 10, .max_ns = 7 * MS } };

	in.tasks = t;
	in.ntasks = 1;
	limit(entry(TG_SEL_TASK, HOSTILE), TG_LIM_MAX_POLL, "5ms");
	eval();
	expect(chk(0), TG_CHECK_FAILED, "7.00ms", "max poll 7.00ms > 5ms in " HOSTILE);
	assert_string_equal(chk(0)->classname, "task=" HOSTILE);
	assert_string_equal(chk(0)->name, "max_poll <= 5ms [task=" HOSTILE "]");
	assert_string_equal(chk(0)->task, HOSTILE);
}

/* ---- regression and baselines ---- */

static char tmpdir[64];
static char written[16][128];
static size_t nwritten;

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/tg-assert-XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	assert_true(nwritten < 16);
	snprintf(written[nwritten++], sizeof written[0], "%s", path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_regression(void **state)
{
	struct tg_baseline b;
	char err[512];
	const char *path = write_file("base.json",
		"{\"version\": 1, \"spec\": \"g.yaml\", \"tasks\": ["
		"{\"name\": \"demo::handler\", \"polls\": 4000, \"busy_ns\": 1, \"max_poll_ns\": 20000000,"
		" \"p50_poll_ns\": 1, \"p99_poll_ns\": 2836879, \"blocking_spans\": 0},"
		"{\"name\": \"web::serve\", \"polls\": 9000, \"max_poll_ns\": 1, \"p99_poll_ns\": 1000000},"
		"{\"name\": \"" "demo::\\\"h\\\" <a&b>\\n50%:x,y" "\", \"polls\": 1, \"max_poll_ns\": 1, \"p99_poll_ns\": 1}]}");

	assert_int_equal(tg_baseline_load(path, &b, err, sizeof err), 0);
	assert_int_equal(b.ntasks, 3);
	assert_string_equal(b.tasks[0].name, "demo::handler");
	assert_int_equal(b.tasks[0].polls, 4000);
	assert_int_equal(b.tasks[0].max_ns, 20 * MS);
	assert_int_equal(b.tasks[0].p99_ns, 2836879);
	assert_string_equal(b.tasks[2].name, HOSTILE);
	assert_string_equal(b.path, path);

	set_tasks();
	limit(entry(TG_SEL_TASK, "demo::*"), TG_LIM_MAX_POLL_REGRESSION, "25%");
	limit(entry(TG_SEL_TASK, "demo::*"), TG_LIM_MAX_POLL_REGRESSION, "42%");
	limit(entry(TG_SEL_TASK, "web::*"), TG_LIM_MAX_POLL_REGRESSION, "0%");
	limit(entry(TG_SEL_TASK, "demo::other"), TG_LIM_MAX_POLL_REGRESSION, "0%");
	eval();
	for (int i = 0; i < 4; i++)
		expect(chk(i), TG_CHECK_SKIPPED, "", "skipped: no --baseline given");
	assert_string_equal(chk(0)->name, "max_poll_regression <= 25% [task=demo::*]");

	in.baseline = &b;
	eval();
	/* 4ms vs 2.836879ms: +41.0%. */
	expect(chk(0), TG_CHECK_FAILED, "+41%",
	       "p99 poll regression +41% > 25% in demo::handler (p99 4.00ms, baseline 2.84ms)");
	assert_true(fabs(chk(0)->severity - 41.0 / 25) < 0.01);
	expect(chk(1), TG_CHECK_PASSED, "+41%",
	       "p99 poll regression +41% <= 42% (demo::handler; p99 4.00ms, baseline 2.84ms)");
	/* web::serve has 20 polls now: noise. */
	expect(chk(2), TG_CHECK_SKIPPED, "",
	       "skipped: no matched task is in the baseline with >= 100 polls in both runs (fewer polls are noise)");
	/* demo::other is not in the baseline. */
	expect(chk(3), TG_CHECK_SKIPPED, "", "skipped: no matched task is in the baseline with >= 100 polls in both runs");

	/* Improvement, and a noisy task mentioned. */
	struct tg_task_summary t[] = {
		{ .name = "web::serve", .polls = 500, .p99_ns = 500 * US },
		{ .name = HOSTILE, .polls = 500, .p99_ns = 500 * US },
	};
	in.tasks = t;
	in.ntasks = 2;
	eval();
	expect(chk(2), TG_CHECK_PASSED, "-50%",
	       "p99 poll regression -50% <= 0% (web::serve; p99 500us, baseline 1.00ms)");
	expect(chk(0), TG_CHECK_SKIPPED, "", NULL); /* HOSTILE has 1 baseline poll */
	tg_baseline_free(&b);
}

static void test_bad_baselines(void **state)
{
	struct tg_baseline b;
	char err[512], missing[128];
	const char *p;

	snprintf(missing, sizeof missing, "/tmp/tg-assert-missing-%d/results.json", (int)getpid());
	assert_int_equal(tg_baseline_load(missing, &b, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "cannot read: No such file or directory"));
	assert_null(strchr(err, '\n'));

	p = write_file("bad.json", "{\"version\": 1,\n \"tasks\": [ {\"name\": } ]}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "not JSON"));
	assert_null(b.tasks);

	p = write_file("other.json", "{\"traceEvents\": []}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a tokio-guard results.json"));

	p = write_file("v2.json", "{\"version\": 2, \"tasks\": []}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "version 2"));

	p = write_file("types.json", "{\"version\": 1, \"tasks\": [{\"name\": \"a\", \"polls\": 1,"
				     " \"max_poll_ns\": 1, \"p99_poll_ns\": 1}, {\"name\": \"b\", \"polls\": \"7\","
				     " \"max_poll_ns\": 1, \"p99_poll_ns\": 1}]}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "tasks[1].polls"));
	assert_int_equal(b.ntasks, 0);

	p = write_file("neg.json", "{\"version\": 1, \"tasks\": [{\"name\": 3}]}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "tasks[0].name is not a string"));

	p = write_file("arr.json", "{\"version\": 1, \"tasks\": {}}");
	assert_int_equal(tg_baseline_load(p, &b, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "\"tasks\" is not an array"));
	tg_baseline_free(&b); /* safe on a failed load */
}

/* ---- load selectors and load checks ---- */

static uint64_t hist_a[TG_HIST_BUCKETS], hist_b[TG_HIST_BUCKETS];

static void fill(uint64_t *h, uint64_t ns, uint64_t n)
{
	h[tg_hist_bucket(ns)] += n;
}

static struct tg_step_result steps[3], children[2];

/* warmup: 90 requests at 1ms, 2 errors; main: 10 at 61.2ms; a parallel step
 * of an exec and an http child; a sleep at the end. */
static void set_steps(void)
{
	memset(hist_a, 0, sizeof hist_a);
	memset(hist_b, 0, sizeof hist_b);
	fill(hist_a, 1 * MS, 90);
	fill(hist_b, 61200 * US, 10);
	memset(steps, 0, sizeof steps);
	memset(children, 0, sizeof children);
	steps[0] = (struct tg_step_result){ .name = "warmup", .kind = TG_STEP_HTTP, .ok = true,
					    .start_ns = 1000 * MS, .end_ns = 2500 * MS, .requests = 90,
					    .errors = 2, .latency_hist = hist_a, .latency_max_ns = 1 * MS,
					    .throughput_per_s = 60 };
	steps[0].errors_by_kind[TG_LERR_STATUS] = 2;
	children[0] = (struct tg_step_result){ .name = "bench", .kind = TG_STEP_EXEC, .ok = false,
					       .exit_code = 3, .start_ns = 0, .end_ns = 3 * MS,
					       .error = "exec step bench: exit status 3" };
	children[1] = (struct tg_step_result){ .name = "main", .kind = TG_STEP_HTTP, .ok = true,
					       .requests = 10, .latency_hist = hist_b,
					       .latency_max_ns = 61200 * US, .throughput_per_s = 5 };
	steps[1] = (struct tg_step_result){ .name = "par", .kind = TG_STEP_PARALLEL, .ok = false,
					    .error = "exec step bench: exit status 3", .requests = 10,
					    .children = children, .nchildren = 2 };
	steps[2] = (struct tg_step_result){ .name = "pause", .kind = TG_STEP_SLEEP, .ok = true,
					    .start_ns = 5000 * MS, .end_ns = 7000 * MS };
	in.steps = steps;
	in.nsteps = 3;
}

static void test_load_limits(void **state)
{
	uint64_t ns;

	set_steps();
	struct tg_assertion *w = entry(TG_SEL_LOAD, "warmup");
	limit(limit(limit(w, TG_LIM_MAX_ERRORS, "2"), TG_LIM_MAX_ERROR_RATE, "2%"), TG_LIM_MIN_THROUGHPUT, "61/s");
	limit(w, TG_LIM_P99_LATENCY, "1ms");
	struct tg_assertion *all = entry(TG_SEL_LOAD, "*a*"); /* warmup, par, par/main (counted once), pause */
	limit(limit(limit(all, TG_LIM_P99_LATENCY, "50ms"), TG_LIM_P50_LATENCY, "2ms"), TG_LIM_MAX_LATENCY, "61.2ms");
	limit(entry(TG_SEL_LOAD, "m?in"), TG_LIM_MAX_ERROR_RATE, "0%");
	limit(limit(entry(TG_SEL_LOAD, "pause"), TG_LIM_P99_LATENCY, "1s"), TG_LIM_MAX_ERRORS, "0");
	limit(entry(TG_SEL_LOAD, "pause"), TG_LIM_MAX_ERROR_RATE, "0%");
	limit(entry(TG_SEL_LOAD, "nothing"), TG_LIM_MAX_ERRORS, "0");
	limit(entry(TG_SEL_LOAD, "main"), TG_LIM_MIN_THROUGHPUT, "5/s");
	eval();

	expect(chk(0), TG_CHECK_PASSED, "2", "2 errors <= 2 (load step warmup)");
	assert_string_equal(chk(0)->name, "max_errors <= 2 [load=warmup]");
	assert_string_equal(chk(0)->classname, "load=warmup");
	expect(chk(1), TG_CHECK_FAILED, "2.2%", "error rate 2.2% > 2% in load step warmup");
	assert_string_equal(chk(1)->name, "max_error_rate <= 2% [load=warmup]");
	expect(chk(2), TG_CHECK_FAILED, "60.0/s", "throughput 60.0/s < 61/s in load step warmup");
	assert_string_equal(chk(2)->name, "min_throughput >= 61/s [load=warmup]");
	assert_true(fabs(chk(2)->severity - 61.0 / 60) < 1e-9);
	/* Every value in one bucket: the quantile is the maximum. */
	expect(chk(3), TG_CHECK_PASSED, "1.00ms", "p99 latency 1.00ms <= 1ms (load step warmup)");

	/* warmup + main merged: 100 requests, rank 99 lies among main's 61.2ms. */
	expect(chk(4), TG_CHECK_FAILED, "61.2ms", "p99 latency 61.2ms > 50ms in 4 load steps matching *a*");
	assert_true(fabs(chk(4)->time_s - 0.0612) < 1e-9);
	assert_int_equal(chk(4)->nworst, 0);
	assert_int_equal(tg_parse_duration(chk(5)->observed, &ns), 0);
	assert_true(ns >= 985 * US && ns <= 1016 * US); /* a bucket's midpoint: within 1.6% */
	assert_int_equal(chk(5)->status, TG_CHECK_PASSED);
	expect(chk(6), TG_CHECK_PASSED, "61.2ms", "max latency 61.2ms <= 61.2ms (4 load steps matching *a*)");
	/* A child is matched by its own name. */
	expect(chk(7), TG_CHECK_PASSED, "0.0%", "error rate 0.0% <= 0% (load step main)");
	/* A sleep has no latency. */
	expect(chk(8), TG_CHECK_FAILED, "", "no requests finished in load step pause");
	expect(chk(9), TG_CHECK_PASSED, "0", "0 errors <= 0 (load step pause)");
	expect(chk(10), TG_CHECK_FAILED, "", "no requests finished in load step pause");
	expect_prefix(chk(11), TG_CHECK_FAILED, "matched no load step");
	expect(chk(12), TG_CHECK_PASSED, "5.0/s", "throughput 5.0/s >= 5/s (load step main)");
}

/* Forks of the target and the daemon it became: a warning naming them, only when there are any. */
static void test_unprobed_processes(void **state)
{
	static const pid_t pids[] = { 4101, 4102, 4103, 4104, 4105, 4106, 4107, 4108, 4109 };
	const struct tg_check *c;

	(void)state;
	in.target_pid = 4100;
	eval();
	for (size_t i = 0; i < nchecks; i++)
		assert_null(strstr(checks[i].name, "every process"));
	in.unprobed = pids;
	in.nunprobed = 2;
	eval();
	c = by_name("probe: every process of the program probed");
	assert_int_equal(c->group, TG_GROUP_PROBE);
	expect(c, TG_CHECK_WARNED, "2",
	       "2 other processes of the target's program (pid 4101, 4102) ran unprobed: only pid 4100, "
	       "the one tokio-guard started, is measured");
	assert_ptr_equal(c, by_name("probe: events lost") + 1); /* with the probe's checks */
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0); /* a warning, not a failure */
	in.nunprobed = 9;
	eval();
	expect(by_name("probe: every process of the program probed"), TG_CHECK_WARNED, "9",
	       "9 other processes of the target's program (pid 4101, 4102, 4103, 4104, 4105, 4106, "
	       "4107, 4108, ...) ran unprobed: only pid 4100, the one tokio-guard started, is measured");
	in.nunprobed = 1;
	eval();
	expect(by_name("probe: every process of the program probed"), TG_CHECK_WARNED, "1",
	       "1 other process of the target's program (pid 4101) ran unprobed: only pid 4100, "
	       "the one tokio-guard started, is measured");
	in.unprobed = NULL;
	in.nunprobed = 0;
}

static void test_probe_and_load_checks(void **state)
{
	const struct tg_check *c;

	set_steps();
	in.polls = 1234;
	in.lost_events = 0;
	eval();
	assert_int_equal(nchecks, 2 + 5);
	c = by_name("probe: polls observed");
	assert_int_equal(c->group, TG_GROUP_PROBE);
	assert_string_equal(c->classname, "probe");
	expect(c, TG_CHECK_PASSED, "1234", "1234 runtime polls observed");
	assert_null(c->entry);
	assert_null(c->limit);
	assert_string_equal(c->limit_text, "");
	expect(by_name("probe: events lost"), TG_CHECK_PASSED, "0", "no events lost");

	c = by_name("load: warmup");
	assert_ptr_equal(c, &checks[2]);
	assert_int_equal(c->group, TG_GROUP_LOAD);
	assert_string_equal(c->classname, "load");
	/* its errors fail it: no assertion on it limits them */
	expect(c, TG_CHECK_FAILED, NULL, "90 requests, 2 errors, p99 1.00ms, 60.0/s (2 status errors): "
	       "errors fail the step unless an assertion on it sets max_errors or max_error_rate");
	assert_true(fabs(c->time_s - 1.5) < 1e-9);
	expect(by_name("load: par"), TG_CHECK_FAILED, NULL, "exec step bench: exit status 3");
	assert_ptr_equal(by_name("load: par/bench"), &checks[4]); /* children after their parent */
	expect(by_name("load: par/bench"), TG_CHECK_FAILED, NULL, "exec step bench: exit status 3");
	assert_true(fabs(by_name("load: par/bench")->time_s - 0.003) < 1e-9);
	expect(by_name("load: par/main"), TG_CHECK_PASSED, NULL, "10 requests, 0 errors, p99 61.2ms, 5.0/s");
	expect(by_name("load: pause"), TG_CHECK_PASSED, NULL, "slept 2.00s");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 1);
	assert_int_equal(tg_checks_count(checks, nchecks, TG_CHECK_FAILED), 3);

	children[0].ok = true;
	steps[1].ok = true;
	steps[0].errors = 0;
	steps[0].errors_by_kind[TG_LERR_STATUS] = 0;
	eval();
	expect(by_name("load: par/bench"), TG_CHECK_PASSED, NULL, "exit 3");
	expect(by_name("load: par"), TG_CHECK_PASSED, NULL, "10 requests, 0 errors, p99 61.2ms, 5.0/s");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0);
	steps[0].errors = 2;
	steps[0].errors_by_kind[TG_LERR_STATUS] = 2;

	/* Two steps with one name still give distinct testcases. */
	steps[2].name = "warmup";
	eval();
	assert_string_equal(checks[6].name, "load: warmup #2");

	in.polls = 0;
	in.lost_events = 17;
	eval();
	expect(by_name("probe: polls observed"), TG_CHECK_FAILED, "0", NULL);
	expect(by_name("probe: events lost"), TG_CHECK_WARNED, "17",
	       "17 events lost: spans may be missing; raise probe.ring_buffer (default 16MB) or "
	       "report.trace_min_poll (default 100us)");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 1);

	in.probed = false;
	set_tasks();
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_POLL, "1ms");
	limit(entry(TG_SEL_LOAD, "warmup"), TG_LIM_MAX_ERRORS, "5");
	eval();
	expect(chk(0), TG_CHECK_SKIPPED, "", "skipped: the probes did not run");
	expect(chk(1), TG_CHECK_PASSED, "2", NULL); /* load limits are still real */
	expect(by_name("probe: polls observed"), TG_CHECK_SKIPPED, "", "the probes did not run");
	expect(by_name("probe: events lost"), TG_CHECK_SKIPPED, "", "the probes did not run");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0);

	/* the run ended early: the test view says why */
	in.run_error = "target ./srv not found (cwd /x): No such file or directory";
	eval();
	expect(by_name("probe: polls observed"), TG_CHECK_FAILED, "",
	       "the probes did not run: target ./srv not found (cwd /x): No such file or directory");
	expect(by_name("probe: events lost"), TG_CHECK_SKIPPED, "", "the probes did not run");
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 1);
}

/* ---- load errors, exec output, runs that ended early, near names ---- */

static void test_load_errors_fail_the_step(void **state)
{
	char text[256];

	set_steps();
	children[0].ok = true;
	steps[1].ok = true;
	children[1].errors = 3;
	children[1].errors_by_kind[TG_LERR_CONNECT] = 1;
	children[1].errors_by_kind[TG_LERR_TIMEOUT] = 2;
	steps[1].errors = 3;
	tg_load_errors_text(&children[1], text, sizeof text);
	assert_string_equal(text, "1 connect error, 2 timeouts");
	tg_load_errors_text(&steps[2], text, sizeof text);
	assert_string_equal(text, "no errors");
	eval();
	expect_prefix(by_name("load: warmup"), TG_CHECK_FAILED, "90 requests, 2 errors, p99 1.00ms, 60.0/s (2 status errors): errors fail");
	/* a parallel step's errors are its child's: failed there, not twice */
	expect(by_name("load: par"), TG_CHECK_PASSED, NULL, NULL);
	expect(by_name("load: par/main"), TG_CHECK_FAILED, NULL, NULL);
	assert_non_null(strstr(by_name("load: par/main")->message, "(1 connect error, 2 timeouts): errors fail"));
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 1);

	/* an error limit on the step (or its parent) makes the errors that limit's to judge */
	limit(entry(TG_SEL_LOAD, "warmup"), TG_LIM_MAX_ERROR_RATE, "5%");
	limit(entry(TG_SEL_LOAD, "par"), TG_LIM_MAX_ERRORS, "10");
	eval();
	expect(chk(0), TG_CHECK_PASSED, "2.2%", "error rate 2.2% <= 5% (load step warmup)");
	assert_string_equal(chk(0)->name, "max_error_rate <= 5% [load=warmup]");
	expect(by_name("load: warmup"), TG_CHECK_PASSED, NULL, "90 requests, 2 errors, p99 1.00ms, 60.0/s (2 status errors)");
	expect(by_name("load: par/main"), TG_CHECK_PASSED, NULL, NULL);
	assert_int_equal(tg_checks_exit_code(checks, nchecks), 0);
}

static void test_check_names_show_the_applied_operator(void **state)
{
	set_steps();
	steps[0].errors = 0;
	limit(entry(TG_SEL_LOAD, "warmup"), TG_LIM_MAX_ERROR_RATE, "0%");
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_POLL, "31ms"); /* web::serve: 31ms */
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MIN_POLLS, "10");
	set_tasks();
	eval();
	/* 0.0% passes "max_error_rate: 0%": the name says <=, as compare() applies */
	expect(chk(0), TG_CHECK_PASSED, "0.0%", NULL);
	assert_string_equal(chk(0)->name, "max_error_rate <= 0% [load=warmup]");
	expect(chk(1), TG_CHECK_PASSED, "31.0ms", NULL); /* at the limit passes */
	assert_string_equal(chk(1)->name, "max_poll <= 31ms [all]");
	assert_string_equal(chk(2)->name, "min_polls >= 10 [all]");
}

static void test_exec_failure_carries_its_output(void **state)
{
	char out[2048] = "";

	set_steps();
	for (int i = 1; i <= 15; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "line %d\n", i);
	strcat(out, "fatal: connection refused\n\n");
	children[0].output = out;
	eval();
	expect(by_name("load: par/bench"), TG_CHECK_FAILED, NULL,
	       "exec step bench: exit status 3: fatal: connection refused");
	/* the last 10 lines, for the summary, junit and the annotation */
	assert_non_null(by_name("load: par/bench")->output);
	assert_true(strncmp(by_name("load: par/bench")->output, "line 7\n", 7) == 0);
	assert_non_null(strstr(by_name("load: par/bench")->output, "line 15\nfatal: connection refused"));
	assert_null(by_name("load: warmup")->output);
	children[0].output = NULL;
}

static struct tg_step spec_steps[1] = { { .name = "traffic", .kind = TG_STEP_HTTP } };

static void test_not_evaluated_after_an_early_end(void **state)
{
	spec.steps = spec_steps;
	spec.nsteps = 1;
	in.run_error = "target exited with code 101 before it was ready";
	in.polls = 0;
	in.ntasks = 0;
	limit(entry(TG_SEL_TASK, "demo::handler"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_ALL, NULL), TG_LIM_MAX_BLOCKING_SPANS, "0");
	limit(entry(TG_SEL_LOAD, "traffic"), TG_LIM_P99_LATENCY, "50ms");
	eval();
	expect(chk(0), TG_CHECK_SKIPPED, "", "not evaluated: target exited with code 101 before it was ready");
	expect(chk(1), TG_CHECK_SKIPPED, "", "not evaluated: target exited with code 101 before it was ready");
	expect(chk(2), TG_CHECK_SKIPPED, "",
	       "not evaluated: load step 'traffic' never ran: target exited with code 101 before it was ready");
	assert_null(strstr(chk(0)->message, "blocking-pool"));
	expect(by_name("probe: polls observed"), TG_CHECK_FAILED, "0",
	       "no runtime polls observed: target exited with code 101 before it was ready");

	/* the probes never ran (no root): the same reason */
	in.probed = false;
	in.run_error = "cannot load the BPF programs: Operation not permitted (run as root)";
	eval();
	expect(chk(0), TG_CHECK_SKIPPED, "",
	       "not evaluated: cannot load the BPF programs: Operation not permitted (run as root)");
	spec.steps = NULL;
	spec.nsteps = 0;
}

static void test_selector_typo_names_the_closest(void **state)
{
	static struct tg_task_summary near[] = {
		{ .name = "hidden_app::batch_job", .polls = 10 },
		{ .name = "hidden_app::serve", .polls = 10 },
		{ .name = "tokio::runtime::blocking::task::BlockingTask<F>", .polls = 3, .blocking_pool = true },
	};
	static struct tg_frame frames[] = { { .function = "hidden_app::compute_hash" },
					    { .function = "std::thread::sleep" } };
	static struct tg_span span = { .task = "hidden_app::serve", .frames = frames, .nframes = 2 };

	in.tasks = near;
	in.ntasks = 3;
	in.spans = &span;
	in.nspans = 1;
	set_steps();
	limit(entry(TG_SEL_TASK, "hidden_app::batch_jbo"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_TASK, "batch_job"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_FUNCTION, "hidden_app::compute_hsh"), TG_LIM_MAX_POLL, "5ms");
	limit(entry(TG_SEL_LOAD, "warmpu"), TG_LIM_MAX_ERRORS, "0");
	eval();
	expect(chk(0), TG_CHECK_FAILED, "", "matched no polls; did you mean `hidden_app::batch_job`?");
	expect(chk(1), TG_CHECK_FAILED, "", "matched no polls; did you mean `hidden_app::batch_job`?");
	assert_non_null(strstr(chk(2)->message, "; did you mean `hidden_app::compute_hash`?"));
	expect(chk(3), TG_CHECK_FAILED, "", "matched no load step; did you mean `warmup`?");
}

static void test_status_names(void **state)
{
	assert_string_equal(tg_check_status_name(TG_CHECK_PASSED), "passed");
	assert_string_equal(tg_check_status_name(TG_CHECK_FAILED), "failed");
	assert_string_equal(tg_check_status_name(TG_CHECK_WARNED), "warned");
	assert_string_equal(tg_check_status_name(TG_CHECK_SKIPPED), "skipped");
	assert_int_equal(tg_checks_exit_code(NULL, 0), 0);
	assert_int_equal(tg_checks_count(NULL, 0, TG_CHECK_FAILED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_max_poll_task_glob, reset, done),
		cmocka_unit_test_setup_teardown(test_cpu_share, reset, done),
		cmocka_unit_test_setup_teardown(test_max_poll_own_time, reset, done),
		cmocka_unit_test_setup_teardown(test_function_max_poll_own_time, reset, done),
		cmocka_unit_test_setup_teardown(test_percentiles, reset, done),
		cmocka_unit_test_setup_teardown(test_scheduling_delay, reset, done),
		cmocka_unit_test_setup_teardown(test_delayed_tasks, reset, done),
		cmocka_unit_test_setup_teardown(test_worker_busy, reset, done),
		cmocka_unit_test_setup_teardown(test_min_polls, reset, done),
		cmocka_unit_test_setup_teardown(test_blocking_pool_only_matches_nothing, reset, done),
		cmocka_unit_test_setup_teardown(test_apply_allow, reset, done),
		cmocka_unit_test_setup_teardown(test_blocking_spans_and_time, reset, done),
		cmocka_unit_test_setup_teardown(test_function_selectors, reset, done),
		cmocka_unit_test_setup_teardown(test_warn_and_allow_missing, reset, done),
		cmocka_unit_test_setup_teardown(test_load_errors_fail_the_step, reset, done),
		cmocka_unit_test_setup_teardown(test_check_names_show_the_applied_operator, reset, done),
		cmocka_unit_test_setup_teardown(test_exec_failure_carries_its_output, reset, done),
		cmocka_unit_test_setup_teardown(test_not_evaluated_after_an_early_end, reset, done),
		cmocka_unit_test_setup_teardown(test_selector_typo_names_the_closest, reset, done),
		cmocka_unit_test_setup_teardown(test_default_entry, reset, done),
		cmocka_unit_test_setup_teardown(test_unique_names, reset, done),
		cmocka_unit_test_setup_teardown(test_hostile_names, reset, done),
		cmocka_unit_test_setup_teardown(test_regression, reset, done),
		cmocka_unit_test_setup_teardown(test_bad_baselines, reset, done),
		cmocka_unit_test_setup_teardown(test_load_limits, reset, done),
		cmocka_unit_test_setup_teardown(test_unprobed_processes, reset, done),
		cmocka_unit_test_setup_teardown(test_probe_and_load_checks, reset, done),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test_setup_teardown(test_culprit_of_a_stackless_worst_span, reset, done),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	for (size_t i = 0; i < nwritten; i++)
		unlink(written[i]);
	if (tmpdir[0])
		rmdir(tmpdir);
	return rc;
}
