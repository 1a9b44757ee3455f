/* End-to-end: the build matrix. blocking-tasks, its source unchanged, built
 * the ways users do by examples/build-matrix.sh (target/builds/<build>/):
 *   default   `cargo build --release`: no frame pointers, debuginfo stripped
 *   lines     debug = "line-tables-only", no frame pointers
 *   fp-lines  the same with frame pointers (DWARF's names are short there:
 *             "{async_fn#0}"; the stack must still end where the poll entered Tokio)
 *   fp        frame pointers and full debug info (the examples' own build)
 *   v0-lto    the same with v0 mangling and fat LTO
 * Real eBPF on each; one cmocka test per build. Each reports, against the
 * target's own GUARD_EXAMPLE_LOG sections and its `// guard:<kind>` marker
 * lines: spans found, culprit function right, culprit file:line right, stacks
 * that reach the task's own async fn (blocking_tasks::<kind>_task), stacks cut
 * where the poll entered Tokio, tokio_version. Then asserts what issue 11
 * requires of that build (struct build). Needs root; skips otherwise, and when
 * the matrix was not built. */
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

#include "e2e_truth.h"
#include "e2e_util.h"

#define BUILDS_DIR TG_SOURCE_DIR "/examples/target/builds"
#define KINDS_SRC TG_SOURCE_DIR "/examples/blocking-kinds/src/lib.rs"
#define LOCK_FILE TG_SOURCE_DIR "/examples/Cargo.lock"
#define BLOCK_MS 20
#define THRESHOLD_MS 3
#define NKINDS 3
#define MAX_SECTIONS 128

static const char *const kinds[NKINDS] = { "cpu", "sleep", "mutex" };
static const char *const culprit_fn[NKINDS] = { "blocking_kinds::burn_cpu", "blocking_kinds::sleepy",
						"blocking_kinds::lock_shared" };

/* What a build must give (issue 11, "Must hold"); shares are of the spans with a stack. */
struct build {
	const char *name;
	bool line_tables;    /* file:line is there to be right */
	bool frame_pointers; /* stacks reach the task fn without DWARF unwinding */
	double fn_right;     /* least share with the right culprit function */
	double line_right;   /* least share with the right culprit file:line (line_tables) */
	double reach;        /* least share reaching the task fn (0: not required) */
};

static const struct build builds[] = {
	{ "default", false, false, 0.90, 0, 0.90 },
	{ "lines", true, false, 0.90, 0.95, 0 },
	{ "fp-lines", true, true, 0.95, 0.95, 0.90 },
	{ "fp", true, true, 0.95, 0.95, 0.90 },
	{ "v0-lto", true, true, 0.95, 0.95, 0.90 },
};
#define NBUILDS (sizeof(builds) / sizeof(builds[0]))

struct run {
	char dir[64];
	char bin[256];
	int status;
	cJSON *results;
	char *log;
};

/* What one build gave, per kind. */
struct tally {
	size_t sections, spans, matched, stacked, fn_ok, line_ok, reach, cut, overrun, shown;
};

static int marker[NKINDS];

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* tokio's version in examples/Cargo.lock: what every build links. */
static bool locked_tokio(char *out, size_t size)
{
	static const char key[] = "\nname = \"tokio\"\nversion = \"";
	char *lock = tg_test_read(LOCK_FILE, NULL), *p = lock ? strstr(lock, key) : NULL;
	bool ok = p && size >= 32 && sscanf(p + strlen(key), "%31[^\"]", out) == 1;

	free(lock);
	return ok;
}

/* ---- one run */

static void run_build(struct run *r, const char *name)
{
	char spec_name[96];

	snprintf(r->dir, sizeof(r->dir), "/tmp/tg-e2e-builds-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(spec_name, sizeof(spec_name), "builds-%s", name);
	e2e_tasks_spec(r->dir, spec_name, r->bin, BLOCK_MS, THRESHOLD_MS);
	r->status = e2e_run_dir(r->dir, &r->results, &r->log);
}

/* ---- one span */

static size_t kind_of_task(const char *task)
{
	return e2e_kind_of_task(task, "blocking_tasks", kinds, NKINDS);
}

/* The span is one of the example's own sections: its poll holds the section
 * (wall), and apart from waiting for a CPU it lasts no longer than the
 * section by more than the tolerance (the bounds of e2e/matrix). */
static bool matches_log(const cJSON *s, const struct e2e_section *sec, size_t n)
{
	double wall = e2e_num(s, "duration_ns") / 1e3, own = wall - e2e_num(s, "runqueue_ns") / 1e3;

	for (size_t i = 0; i < n; i++) {
		double t = (double)sec[i].wall_us;

		if (wall + 500 >= t && own <= t + e2e_tolerance_us(t))
			return true;
	}
	return false;
}

static const char *frame_fn(const cJSON *f)
{
	const char *fn = e2e_str(f, "function");

	return fn ? fn : "?";
}

/* A frame of the task's own async fn: "blocking_tasks::cpu_task::{{closure}}"
 * as the symbol table names it, "...::{async_fn#0}" as DWARF does. */
static bool is_task_fn(const char *fn, size_t k)
{
	char name[64];
	size_t n = (size_t)snprintf(name, sizeof(name), "blocking_tasks::%s_task", kinds[k]);

	return strncmp(fn, name, n) == 0 && (fn[n] == 0 || fn[n] == ':');
}

/* Where the poll entered Tokio: the frame a stack is cut after. */
static bool is_tokio_entry(const char *fn)
{
	return strncmp(fn, "tokio::runtime::task::raw::poll", 31) == 0 ||
	       strncmp(fn, "tokio::runtime::task::harness::", 31) == 0;
}

/* A frame of the worker loop below the poll: a stack not cut at the entry.
 * (Prefixes: a frame above the entry may name a scheduler type as a generic.) */
static bool is_below_entry(const char *fn)
{
	static const char *const below[] = { "tokio::runtime::scheduler::", "<tokio::runtime::scheduler::",
					     "start_thread", "std::sys::pal::unix::thread::Thread::new" };

	for (size_t i = 0; i < sizeof(below) / sizeof(below[0]); i++)
		if (strncmp(fn, below[i], strlen(below[i])) == 0)
			return true;
	return false;
}

/* Tallies one span of kind K: what its culprit and stack got right. Shows
 * the first two spans a frame of which B should have got right but did not. */
static void tally_span(const cJSON *s, size_t k, const struct build *b, struct tally *t)
{
	const cJSON *c = item(s, "culprit"), *stack = item(s, "stack"), *f;
	const char *fn = cJSON_IsObject(c) ? e2e_str(c, "function") : NULL;
	const char *file = fn ? e2e_str(c, "file") : NULL;
	int n = cJSON_GetArraySize(stack), i = 0, task_at = -1;
	bool below = false;

	if (!fn || n == 0)
		return;
	t->stacked++;
	t->fn_ok += strstr(fn, culprit_fn[k]) != NULL;
	t->line_ok += file && strstr(file, "blocking-kinds/src/lib.rs") &&
		      (int)e2e_num(c, "line") == marker[k];
	cJSON_ArrayForEach(f, stack) {
		if (task_at < 0 && is_task_fn(frame_fn(f), k))
			task_at = i;
		below |= is_below_entry(frame_fn(f));
		i++;
	}
	t->reach += task_at >= 0;
	t->overrun += below;
	/* the task fn is a few frames above the entry, never the worker loop's 60 */
	t->cut += task_at >= 0 && is_tokio_entry(frame_fn(cJSON_GetArrayItem(stack, n - 1))) &&
		  n - task_at <= 24;
	if ((!strstr(fn, culprit_fn[k]) || (b->line_tables && (!file || (int)e2e_num(c, "line") != marker[k])) ||
	     (b->frame_pointers && task_at < 0) || below) && t->shown++ < 2) {
		fprintf(stderr, "    %s span: culprit %s at %s:%d; %d frames:", kinds[k], fn,
			file ? file : "?", (int)e2e_num(c, "line"), n);
		for (i = 0; i < n && i < 6; i++)
			fprintf(stderr, " %s%s", i ? "<- " : "", frame_fn(cJSON_GetArrayItem(stack, i)));
		fprintf(stderr, "%s\n", n > 6 ? " ..." : "");
	}
}

/* ---- checks */

static double share(size_t part, size_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static void tally_run(const struct run *r, const struct build *b, struct tally *t)
{
	struct e2e_section sec[NKINDS][MAX_SECTIONS];
	const cJSON *s;

	for (size_t k = 0; k < NKINDS; k++)
		t[k].sections = e2e_sections(r->log, kinds[k], sec[k], MAX_SECTIONS);
	cJSON_ArrayForEach(s, item(r->results, "blocking_spans")) {
		size_t k = kind_of_task(e2e_str(s, "task"));

		if (k == NKINDS)
			fprintf(stderr, "  unexpected span in %s\n", e2e_str(s, "task") ? e2e_str(s, "task") : "?");
		assert_true(k < NKINDS);
		t[k].spans++;
		if (matches_log(s, sec[k], t[k].sections))
			t[k].matched++;
		else
			fprintf(stderr, "  %s span fits no section of the log: wall %.0fus, waiting for a CPU "
				"%.0fus, off-CPU %.0fus\n", kinds[k], e2e_num(s, "duration_ns") / 1e3,
				e2e_num(s, "runqueue_ns") / 1e3, e2e_num(s, "off_cpu_ns") / 1e3);
		tally_span(s, k, b, &t[k]);
	}
}

static void report(const struct build *b, const struct tally *t, struct tally *all)
{
	for (size_t k = 0; k <= NKINDS; k++) {
		const struct tally *x = k < NKINDS ? &t[k] : all;

		if (k < NKINDS) {
			all->sections += x->sections, all->spans += x->spans, all->matched += x->matched;
			all->stacked += x->stacked, all->fn_ok += x->fn_ok, all->line_ok += x->line_ok;
			all->reach += x->reach, all->cut += x->cut, all->overrun += x->overrun;
		}
		fprintf(stderr, "  %-8s %-5s spans %zu (%zu match the log's %zu sections), with a stack %zu: "
			"culprit fn %.0f%%, file:line %.0f%%, reach the task fn %.0f%%, end at tokio's poll "
			"%.0f%%, past it %zu\n",
			b->name, k < NKINDS ? kinds[k] : "all", x->spans, x->matched, x->sections, x->stacked,
			100 * share(x->fn_ok, x->stacked), 100 * share(x->line_ok, x->stacked),
			100 * share(x->reach, x->stacked), 100 * share(x->cut, x->stacked), x->overrun);
	}
}

/* The probe's facts: a Tokio binary, its version known at every debug level. */
static void check_probe(const struct run *r, const struct build *b)
{
	const cJSON *probe = item(r->results, "probe");
	char tokio[32];

	assert_non_null(probe);
	assert_true(locked_tokio(tokio, sizeof(tokio)));
	fprintf(stderr, "  %s: tokio %s (reported %s), unwind %s, %d poll sites, %d polls, exit %d\n",
		b->name, tokio, e2e_str(probe, "tokio_version") ? e2e_str(probe, "tokio_version") : "?",
		e2e_str(probe, "unwind") ? e2e_str(probe, "unwind") : "(not reported)",
		(int)e2e_num(probe, "poll_sites"), (int)e2e_num(probe, "polls"), r->status);
	assert_true(e2e_num(probe, "poll_sites") >= 8);
	assert_int_equal((int)e2e_num(probe, "lost_events"), 0);
	assert_non_null(e2e_str(probe, "tokio_version"));
	assert_string_equal(e2e_str(probe, "tokio_version"), tokio);
}

/* Stacks of a build without frame pointers reach the task fn only by DWARF
 * unwinding (probe.unwind "dwarf"): without it, that one assertion waits. */
static bool can_reach(const struct run *r, const struct build *b)
{
	const char *unwind = e2e_str(item(r->results, "probe"), "unwind");

	if (b->frame_pointers || (unwind && strcmp(unwind, "dwarf") == 0))
		return true;
	fprintf(stderr, "  %s: NOT CHECKED: stacks reaching the task fn need DWARF unwinding, and "
		"results.json has probe.unwind %s, not \"dwarf\"\n", b->name, unwind ? unwind : "(absent)");
	return false;
}

static void check_build(const struct run *r, const struct build *b)
{
	struct tally t[NKINDS], all;

	memset(t, 0, sizeof(t));
	memset(&all, 0, sizeof(all));
	tally_run(r, b, t);
	report(b, t, &all);
	for (size_t k = 0; k < NKINDS; k++) {
		/* every span is a section of the log, but for one a build: the example
		 * writes its log line inside the poll, after the section, under a lock
		 * the other kinds' tasks take too (ground-truth's log_line), and on a
		 * busy machine that wait can outlast the 1 ms tolerance (seen once in
		 * about ten runs, a mutex span). A section may start before the probes attach or
		 * end after they detach, and a busy machine can push one spin's own
		 * time under the threshold. */
		assert_true(t[k].matched + 1 >= t[k].spans);
		assert_true(t[k].spans <= t[k].sections && t[k].spans + 2 >= t[k].sections);
		/* off-CPU spans take their stack at the switch; a spin is sampled on a timer.
		 * Known and open: about one off-CPU span in a few hundred comes without any
		 * stack (seen in fp and dwarf builds, a sleep or a mutex wait); a check then
		 * names the next span's culprit. One per kind is tolerated until it is found. */
		assert_true(k == 0 ? t[k].stacked * 2 >= t[k].spans : t[k].stacked + 1 >= t[k].spans);
	}
	assert_true(all.spans >= 5 * NKINDS && all.matched + 1 >= all.spans);
	assert_true(share(all.fn_ok, all.stacked) >= b->fn_right);
	if (b->line_tables)
		assert_true(share(all.line_ok, all.stacked) >= b->line_right);
	/* no stack runs on into the worker loop, at any debug level */
	assert_int_equal(all.overrun, 0);
	if (!can_reach(r, b))
		return;
	if (b->reach > 0)
		assert_true(share(all.reach, all.stacked) >= b->reach);
	/* a whole stack ends where the poll entered Tokio */
	assert_int_equal(all.cut, all.reach);
}

/* ---- tests */

static void test_build(void **state)
{
	const struct build *b = *state;
	struct run r = { .status = -1 };

	E2E_SKIP_UNLESS(geteuid() == 0, "needs root (eBPF)");
	snprintf(r.bin, sizeof(r.bin), "%s/%s/blocking-tasks", BUILDS_DIR, b->name);
	E2E_SKIP_UNLESS(access(BUILDS_DIR, F_OK) == 0, "the build matrix is not built: examples/build-matrix.sh");
	if (access(r.bin, X_OK))
		fail_msg("%s: not built: run examples/build.sh (it runs build-matrix.sh)", r.bin);
	for (size_t k = 0; k < NKINDS; k++)
		marker[k] = e2e_marker_line(KINDS_SRC, kinds[k]);
	run_build(&r, b->name);
	assert_int_equal(r.status, 0);
	assert_non_null(r.results);
	assert_non_null(r.log);
	check_probe(&r, b);
	check_build(&r, b);
	cJSON_Delete(r.results);
	free(r.log);
	tg_test_rm_rf(r.dir); /* kept when a check failed, to look into */
}

int main(void)
{
	struct CMUnitTest tests[NBUILDS];

	for (size_t i = 0; i < NBUILDS; i++)
		tests[i] = (struct CMUnitTest){ .name = builds[i].name, .test_func = test_build,
						.initial_state = (void *)&builds[i] };
	if (getenv("TG_BUILDS_CELL")) /* one build (a glob on its name), to look into it */
		cmocka_set_test_filter(getenv("TG_BUILDS_CELL"));
	return _cmocka_run_group_tests("e2e_builds", tests, NBUILDS, NULL, NULL);
}
