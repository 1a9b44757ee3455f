/* results.json back into what the checks read (reporters/results_load.c):
 * a hand-built run written by results_json.c and read back gives the same
 * task, span, function selector and load step fields, and the same checks;
 * a file that is not a results.json gets one line naming it and the fault. */
#define _GNU_SOURCE
#include <errno.h>
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

#include "test_files.h"

#include "checks.h"
#include "hist.h"
#include "load.h"
#include "record.h"
#include "results_json.h"
#include "results_load.h"
#include "spec.h"

#define MS 1000000ull
#define US 1000ull

static char dir[] = "/tmp/tg-results-load-XXXXXX";
static char spec_path[256], json_path[256];

static const char spec_yaml[] =
	"version: 1\n"
	"name: roundtrip\n"
	"target:\n"
	"  command: [\"/bin/true\"]\n"
	"load:\n"
	"  - name: warmup\n"
	"    http: { url: \"http://127.0.0.1:1/\" }\n"
	"    requests: 10\n"
	"  - name: both\n"
	"    parallel:\n"
	"      - name: a\n"
	"        http: { url: \"http://127.0.0.1:1/a\" }\n"
	"        requests: 5\n"
	"      - name: b\n"
	"        exec: [\"/bin/true\"]\n"
	"allow:\n"
	"  - function: \"demo::startup_read\"\n"
	"    reason: \"read once\"\n"
	"assertions:\n"
	"  - max_poll: 5ms\n"
	"  - task: \"demo::handler\"\n"
	"    p99_poll: 1ms\n"
	"    max_blocking_spans: 0\n"
	"  - function: \"demo::other_fn\"\n"
	"    max_blocking_spans: 0\n"
	"  - function: \"demo::hash*\"\n"
	"    max_blocking_spans: 0\n"
	"    p99_poll: 2ms\n"
	"  - p99_scheduling_delay: 10ms\n"
	"  - max_blocking_time: 10ms\n"
	"  - load: warmup\n"
	"    p99_latency: 2ms\n"
	"    max_error_rate: 10%\n";

/* ---- the run, by hand */

static uint64_t task_hist[2][TG_HIST_BUCKETS], fn_hist[TG_HIST_BUCKETS];
static uint64_t lat_warm[TG_HIST_BUCKETS], lat_a[TG_HIST_BUCKETS];
static struct tg_task_summary tasks[2];
static struct tg_frame frames[2][3];
static const char *fns0[] = { "demo::hash_block", "std::thread::sleep" };
static const char *fns1[] = { "demo::startup_read" };
static struct tg_span spans[2];
static const struct tg_span *by_length[2];
static struct tg_fn_summary fns[2];
static struct tg_step_result children[2], steps[2];
static pid_t unprobed[] = { 4321 };
static char *argv0[] = { "/bin/true", NULL };
static struct tg_results_saved saved;

static void hist_add(uint64_t *h, uint64_t ns, uint64_t n)
{
	h[tg_hist_bucket(ns)] += n;
}

static void build_run(void)
{
	for (int i = 0; i < 90; i++)
		hist_add(task_hist[0], 40 * US + (uint64_t)i * 100, 1);
	hist_add(task_hist[0], 3 * MS, 9);
	hist_add(task_hist[0], 12 * MS, 1);
	hist_add(task_hist[1], 7, 20); /* exact buckets below 32ns */
	hist_add(fn_hist, 12 * MS, 1);
	hist_add(fn_hist, 900 * US, 3);
	hist_add(lat_warm, 800 * US, 9);
	hist_add(lat_warm, 3 * MS, 1);
	hist_add(lat_a, 200 * US, 5);
	tasks[0] = (struct tg_task_summary){
		.name = "demo::handler", .sites = 2, .polls = 100, .busy_ns = 60 * MS, .max_ns = 12 * MS,
		.blocking_spans = 1, .max_wall_ns = 13 * MS, .max_own_wall_ns = 12500 * US,
		.p50_ns = 45 * US, .p90_ns = 49 * US, .p99_ns = 3 * MS, .p999_ns = 12 * MS,
		.hist = task_hist[0], .sched_count = 50, .sched_max_ns = 11 * MS,
		.sched_p50_ns = 10 * US, .sched_p99_ns = 11 * MS,
	};
	tasks[1] = (struct tg_task_summary){
		.name = "demo::pool", .blocking_pool = true, .polls = 20, .busy_ns = 140,
		.max_ns = 7, .max_wall_ns = 7, .max_own_wall_ns = 7, .p50_ns = 7, .p99_ns = 7,
		.hist = task_hist[1],
	};
	frames[0][0] = (struct tg_frame){ .function = "std::thread::sleep", .file = "/rustc/abc/library/std/src/thread/mod.rs", .line = 10 };
	frames[0][1] = (struct tg_frame){ .function = "demo::hash_block", .file = "src/main.rs", .line = 42, .inlined = true };
	frames[0][2] = (struct tg_frame){ .function = "demo::handler::{{closure}}", .file = "src/main.rs", .line = 7, .tail_call = true };
	frames[1][0] = (struct tg_frame){ .function = "demo::startup_read", .file = "src/io.rs", .line = 3 };
	spans[0] = (struct tg_span){
		.poll = { .tid = 101, .task_id = 7, .start_ns = 5 * MS, .duration_ns = 13 * MS,
			  .off_cpu_ns = 1 * MS, .runq_ns = 500 * US },
		.on_cpu_ns = 11500 * US, .samples = 11, .frames = frames[0], .nframes = 3, .culprit = 1,
		.task = "demo::handler", .functions = fns0, .nfunctions = 2,
		.fn_mask = 2, /* demo::hash* is the second function selector */
		.kind = TG_BLOCK_SLEEP, .stacks_seen = 12, .stack_truncated = true,
	};
	spans[1] = (struct tg_span){
		.poll = { .tid = 102, .task_id = 8, .start_ns = 2 * MS, .duration_ns = 20 * MS },
		.on_cpu_ns = 20 * MS, .frames = frames[1], .nframes = 1, .culprit = 0,
		.task = "demo::handler", .functions = fns1, .nfunctions = 1, .kind = TG_BLOCK_FILE_IO,
		.stacks_dropped = true,
	};
	fns[0] = (struct tg_fn_summary){ .pattern = "demo::other_fn" };
	fns[1] = (struct tg_fn_summary){
		.pattern = "demo::hash*", .symbols = 2, .polls = 4, .busy_ns = 15 * MS, .max_ns = 12 * MS,
		.max_wall_ns = 13 * MS, .max_own_wall_ns = 12 * MS, .p50_ns = 900 * US, .p90_ns = 12 * MS,
		.p99_ns = 12 * MS, .p999_ns = 12 * MS, .hist = fn_hist,
	};
	children[0] = (struct tg_step_result){
		.name = "a", .kind = TG_STEP_HTTP, .ok = true, .start_ns = 100 * MS, .end_ns = 200 * MS,
		.requests = 5, .latency_hist = lat_a, .latency_max_ns = 210 * US, .throughput_per_s = 50,
	};
	children[1] = (struct tg_step_result){
		.name = "b", .kind = TG_STEP_EXEC, .ok = true, .start_ns = 100 * MS, .end_ns = 150 * MS,
		.exit_code = 3, .output = "line one\nline two\n",
	};
	steps[0] = (struct tg_step_result){
		.name = "warmup", .kind = TG_STEP_HTTP, .ok = true, .start_ns = 0, .end_ns = 100 * MS,
		.requests = 10, .errors = 1, .errors_by_kind = { [TG_LERR_TIMEOUT] = 1 },
		.latency_hist = lat_warm, .latency_max_ns = 3 * MS, .throughput_per_s = 100,
	};
	steps[1] = (struct tg_step_result){
		.name = "both", .kind = TG_STEP_PARALLEL, .ok = true, .start_ns = 100 * MS,
		.end_ns = 200 * MS, .requests = 5, .latency_hist = lat_a, .latency_max_ns = 210 * US,
		.children = children, .nchildren = 2,
	};
	by_length[0] = &spans[1];
	by_length[1] = &spans[0];
	saved = (struct tg_results_saved){ .polls = 120, .trace_polls = 30, .have_trace_polls = true,
					   .spans = spans, .nspans = 2, .fns = fns, .nfns = 2, .argv = argv0 };
}

static void fill(struct tg_results *r, const struct tg_spec *spec, struct tg_check *checks, size_t n)
{
	*r = (struct tg_results){
		.spec = spec, .exe = "/bin/true", .pid = 1234, .unprobed = unprobed, .nunprobed = 1,
		.poll_sites = 3, .probes_attached = 3, .tokio_version = "1.40.0", .sampler = "off",
		.duration_s = 1.5, .steps = steps, .nsteps = 2, .status = 1, .error = "",
		.kernel = "6.1.0-test", .tasks = tasks, .ntasks = 2, .spans = by_length, .nspans = 2,
		.checks = checks, .nchecks = n, .sched_measured = true, .saved = &saved,
		.junit_path = "", .trace_path = "", .results_path = "",
	};
	r->bpf_stats[TG_STAT_POLLS] = 120;
	r->bpf_stats[TG_STAT_RB_FULL_POLL] = 2;
	r->phase_ns[TG_PHASE_ATTACHED] = 1;
}

static struct tg_assert_input input(const struct tg_spec *spec, const struct tg_task_summary *t, size_t nt,
				    const struct tg_span *s, size_t ns, const struct tg_fn_summary *f,
				    size_t nf, const struct tg_step_result *st, size_t nst)
{
	return (struct tg_assert_input){
		.spec = spec, .tasks = t, .ntasks = nt, .spans = s, .nspans = ns, .steps = st,
		.nsteps = nst, .fns = f, .nfns = nf, .sched_measured = true, .probed = true,
		.polls = 120, .lost_events = 2, .target_pid = 1234, .unprobed = unprobed, .nunprobed = 1,
	};
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(spec_path, sizeof(spec_path), "%s/guard.yaml", dir);
	snprintf(json_path, sizeof(json_path), "%s/results.json", dir);
	build_run();
	return tg_test_write(spec_path, spec_yaml) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tg_test_rm_rf(dir);
	return 0;
}

static void same_frame(const struct tg_frame *a, const struct tg_frame *b)
{
	assert_string_equal(a->function, b->function);
	assert_string_equal(a->file, b->file);
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->inlined, b->inlined);
	assert_int_equal(a->tail_call, b->tail_call);
}

static void same_step(const struct tg_step_result *a, const struct tg_step_result *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->ok, b->ok);
	assert_int_equal(a->end_ns - a->start_ns, b->end_ns - b->start_ns);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->requests, b->requests);
	assert_int_equal(a->errors, b->errors);
	assert_memory_equal(a->errors_by_kind, b->errors_by_kind, sizeof(a->errors_by_kind));
	assert_int_equal(a->latency_max_ns, b->latency_max_ns);
	assert_true(a->throughput_per_s == b->throughput_per_s);
	assert_int_equal(!a->latency_hist, !b->latency_hist);
	if (a->latency_hist)
		assert_memory_equal(a->latency_hist, b->latency_hist, TG_HIST_BUCKETS * sizeof(uint64_t));
	if (a->output)
		assert_string_equal(a->output, b->output);
	assert_int_equal(a->nchildren, b->nchildren);
	for (size_t i = 0; i < a->nchildren; i++)
		same_step(&a->children[i], &b->children[i]);
}

/* Written, read back: every field the checks read is what was written. */
static void test_round_trip_fields(void **state)
{
	struct tg_spec spec;
	struct tg_results r;
	struct tg_saved_run run;
	char err[512];

	(void)state;
	assert_int_equal(tg_spec_load(spec_path, &spec, err, sizeof(err)), 0);
	fill(&r, &spec, NULL, 0);
	assert_int_equal(tg_results_write(json_path, &r, err, sizeof(err)), 0);
	assert_int_equal(tg_saved_run_load(json_path, &run, err, sizeof(err)), 0);
	assert_int_equal(tg_saved_run_bind(&run, &spec), 0);

	assert_int_equal(run.ntasks, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct tg_task_summary *a = &tasks[i], *b = &run.tasks[i];

		assert_string_equal(a->name, b->name);
		assert_int_equal(a->blocking_pool, b->blocking_pool);
		assert_int_equal(a->sites, b->sites);
		assert_int_equal(a->polls, b->polls);
		assert_int_equal(a->busy_ns, b->busy_ns);
		assert_int_equal(a->max_ns, b->max_ns);
		assert_int_equal(a->max_wall_ns, b->max_wall_ns);
		assert_int_equal(a->max_own_wall_ns, b->max_own_wall_ns);
		assert_int_equal(a->p50_ns, b->p50_ns);
		assert_int_equal(a->p90_ns, b->p90_ns);
		assert_int_equal(a->p99_ns, b->p99_ns);
		assert_int_equal(a->p999_ns, b->p999_ns);
		assert_int_equal(a->blocking_spans, b->blocking_spans);
		assert_int_equal(a->sched_count, b->sched_count);
		assert_int_equal(a->sched_p99_ns, b->sched_p99_ns);
		assert_int_equal(a->sched_max_ns, b->sched_max_ns);
		assert_non_null(b->hist);
		assert_memory_equal(a->hist, b->hist, TG_HIST_BUCKETS * sizeof(uint64_t));
	}
	assert_int_equal(run.nspans, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct tg_span *a = &spans[i], *b = &run.spans[i];

		assert_string_equal(a->task, b->task);
		assert_int_equal(a->poll.tid, b->poll.tid);
		assert_int_equal(a->poll.task_id, b->poll.task_id);
		assert_int_equal(a->poll.start_ns, b->poll.start_ns);
		assert_int_equal(a->poll.duration_ns, b->poll.duration_ns);
		assert_int_equal(a->poll.off_cpu_ns, b->poll.off_cpu_ns);
		assert_int_equal(a->poll.runq_ns, b->poll.runq_ns);
		assert_int_equal(a->on_cpu_ns, b->on_cpu_ns);
		assert_int_equal(a->samples, b->samples);
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->fn_mask, b->fn_mask);
		assert_int_equal(a->culprit, b->culprit);
		assert_int_equal(a->stack_truncated, b->stack_truncated);
		assert_int_equal(a->stacks_dropped, b->stacks_dropped);
		assert_int_equal(a->nframes, b->nframes);
		for (int k = 0; k < a->nframes; k++)
			same_frame(&a->frames[k], &b->frames[k]);
		assert_int_equal(a->nfunctions, b->nfunctions);
		for (size_t k = 0; k < a->nfunctions; k++)
			assert_string_equal(a->functions[k], b->functions[k]);
	}
	assert_int_equal(run.saved.nfns, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct tg_fn_summary *a = &fns[i], *b = &run.fns[i];

		assert_string_equal(a->pattern, b->pattern);
		assert_int_equal(a->symbols, b->symbols);
		assert_int_equal(a->polls, b->polls);
		assert_int_equal(a->max_ns, b->max_ns);
		assert_int_equal(a->max_own_wall_ns, b->max_own_wall_ns);
		assert_int_equal(a->p50_ns, b->p50_ns);
		assert_int_equal(a->p90_ns, b->p90_ns);
		assert_int_equal(a->p99_ns, b->p99_ns);
		assert_int_equal(a->p999_ns, b->p999_ns);
		assert_int_equal(!a->hist, !b->hist);
		if (a->hist)
			assert_memory_equal(a->hist, b->hist, TG_HIST_BUCKETS * sizeof(uint64_t));
	}
	assert_int_equal(run.nsteps, 2);
	for (size_t i = 0; i < 2; i++)
		same_step(&steps[i], &run.steps[i]);
	assert_int_equal(run.saved.polls, 120);
	assert_int_equal(tg_results_lost_events(&run.res), 2);
	assert_true(run.probed);
	assert_true(run.res.sched_measured);
	assert_int_equal(run.res.pid, 1234);
	assert_int_equal(run.res.nunprobed, 1);
	assert_int_equal(run.res.unprobed[0], 4321);
	assert_int_equal(run.exit_code, 1);
	assert_string_equal(run.saved.argv[0], "/bin/true");
	assert_string_equal(run.res.kernel, "6.1.0-test");
	tg_saved_run_free(&run);
	tg_spec_free(&spec);
}

static void same_checks(const struct tg_check *a, size_t na, const struct tg_check *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].name, b[i].name);
		assert_int_equal(a[i].status, b[i].status);
		assert_string_equal(a[i].observed, b[i].observed);
		assert_string_equal(a[i].message, b[i].message);
	}
}

/* The checks on the read-back run are the run's checks, to the message. */
static void test_round_trip_checks(void **state)
{
	struct tg_spec spec;
	struct tg_results r;
	struct tg_saved_run run;
	struct tg_check *c1, *c2;
	size_t n1, n2, failed = 0;
	struct tg_assert_input in;
	char err[512];

	(void)state;
	assert_int_equal(tg_spec_load(spec_path, &spec, err, sizeof(err)), 0);
	tg_apply_allow(&spec, spans, 2);
	assert_true(spans[1].allowed); /* demo::startup_read */
	in = input(&spec, tasks, 2, spans, 2, fns, 2, steps, 2);
	assert_int_equal(tg_assert_eval(&in, &c1, &n1), 0);
	for (size_t i = 0; i < n1; i++)
		failed += c1[i].status == TG_CHECK_FAILED;
	assert_true(failed >= 4); /* max_poll, p99_poll, hash* spans, p99_latency at least */
	fill(&r, &spec, c1, n1);
	assert_int_equal(tg_results_write(json_path, &r, err, sizeof(err)), 0);

	assert_int_equal(tg_saved_run_load(json_path, &run, err, sizeof(err)), 0);
	assert_int_equal(tg_saved_run_bind(&run, &spec), 0);
	tg_apply_allow(&spec, run.spans, run.nspans);
	in = input(&spec, run.tasks, run.ntasks, run.spans, run.nspans, run.fns, run.saved.nfns,
		   run.steps, run.nsteps);
	in.lost_events = tg_results_lost_events(&run.res);
	in.polls = run.saved.polls;
	assert_int_equal(tg_assert_eval(&in, &c2, &n2), 0);
	same_checks(c1, n1, c2, n2);
	assert_int_equal(tg_checks_exit_code(c1, n1), tg_checks_exit_code(c2, n2));
	tg_checks_free(c1);
	tg_checks_free(c2);
	tg_saved_run_free(&run);
	spans[1].allowed = false;
	spans[1].allow_function = spans[1].allow_reason = NULL;
	tg_spec_free(&spec);
}

/* Rewritten from what was read: the same document (what `report` writes). */
static void test_rewrite_is_identical(void **state)
{
	struct tg_spec spec;
	struct tg_results r;
	struct tg_saved_run run;
	char err[512], again[300];
	char *a, *b;

	(void)state;
	assert_int_equal(tg_spec_load(spec_path, &spec, err, sizeof(err)), 0);
	fill(&r, &spec, NULL, 0);
	assert_int_equal(tg_results_write(json_path, &r, err, sizeof(err)), 0);
	assert_int_equal(tg_saved_run_load(json_path, &run, err, sizeof(err)), 0);
	assert_int_equal(tg_saved_run_bind(&run, &spec), 0);
	run.res.spans = by_length; /* only the count and order of what the checks decided */
	run.res.nspans = 0;
	run.res.status = run.exit_code;
	run.res.error = run.error;
	snprintf(again, sizeof(again), "%s/again.json", dir);
	assert_int_equal(tg_results_write(again, &run.res, err, sizeof(err)), 0);
	a = tg_test_read(json_path, NULL);
	b = tg_test_read(again, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	tg_saved_run_free(&run);
	tg_spec_free(&spec);
}

static void load_fails(const char *name, const char *text, const char *want)
{
	struct tg_saved_run run;
	char path[300], err[512] = "";

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true(tg_test_write(path, text));
	assert_int_not_equal(tg_saved_run_load(path, &run, err, sizeof(err)), 0);
	if (!strstr(err, want) || !strstr(err, path))
		fail_msg("error \"%s\" does not name %s and \"%s\"", err, path, want);
	assert_null(strchr(err, '\n'));
}

static void test_bad_files(void **state)
{
	struct tg_saved_run run;
	char err[512];

	(void)state;
	load_fails("notjson.json", "{\"version\": 1,\n \"tasks\": [ {\"name\": } ]}", ":2:");
	load_fails("v2.json", "{\"version\": 2, \"tasks\": []}", "version 2");
	load_fails("trace.json", "{\"traceEvents\": []}", "not a tokio-guard results.json");
	load_fails("neg.json", "{\"version\": 1, \"tasks\": [{\"name\": \"x\", \"polls\": -1}]}",
		   "tasks[0].polls");
	load_fails("hist.json", "{\"version\": 1, \"tasks\": [{\"name\": \"x\", \"polls\": 1, "
		   "\"busy_ns\": 1, \"max_poll_ns\": 1, \"p50_poll_ns\": 1, \"p99_poll_ns\": 1, "
		   "\"blocking_spans\": 0, \"poll_hist\": [[99999, 1]]}]}", "tasks[0].poll_hist");
	load_fails("layout.json", "{\"version\": 1, \"tasks\": [], \"hist_layout\": "
		   "{\"sub_bits\": 4, \"max_exp\": 40}}", "hist_layout");
	load_fails("span.json", "{\"version\": 1, \"tasks\": [], \"blocking_spans\": [{\"task\": 3}]}",
		   "blocking_spans[0].task");
	assert_int_equal(tg_saved_run_load("/nonexistent/r.json", &run, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/r.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_fields),
		cmocka_unit_test(test_round_trip_checks),
		cmocka_unit_test(test_rewrite_is_identical),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
