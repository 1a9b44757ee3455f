/* Assertions: the spec's limits checked against what the probes saw. Each
 * (entry, limit) gives one check; probe health and every load step are
 * checks too. The checks decide the exit code and feed every reporter. */
#ifndef TG_CHECKS_H
#define TG_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

struct tg_task_summary;
struct tg_span;
struct tg_step_result;
struct tg_fn_summary;
struct tg_frame;
struct tg_baseline;
struct tg_heap_report;
struct tg_worker_util;

enum tg_check_status { TG_CHECK_PASSED, TG_CHECK_FAILED, TG_CHECK_WARNED, TG_CHECK_SKIPPED };
enum tg_check_group { TG_GROUP_ASSERTION, TG_GROUP_PROBE, TG_GROUP_LOAD };

#define TG_CHECK_WORST 5

struct tg_check {
	enum tg_check_group group;
	enum tg_check_status status;
	const struct tg_assertion *entry; /* NULL for probe and load checks */
	const struct tg_limit *limit;     /* NULL for probe and load checks */
	/* Unique among the run's checks: "max_poll <= 5ms [task=demo::handler]"
	 * (the operator is the one a pass needs: <= for maxima, >= for minima),
	 * "probe: events lost", "load: warmup". */
	char name[384];
	/* The selector: "task=demo::handler", "function=...", "load=warmup", "all";
	 * "probe" and "load" for those groups. */
	char classname[320];
	char observed[64];   /* "23.4ms", "3", "0.5%", "120/s", "+41%"; "" when nothing was observed */
	char limit_text[64]; /* "5ms" as the spec wrote it; "" for probe and load checks */
	/* One line: "max poll 23.4ms > 5ms in demo::handler", "matched no polls",
	 * "skipped: no --baseline given". */
	char message[512];
	double time_s;       /* JUnit time: the observed duration, or the step's run time; else 0 */
	double severity;     /* how far past the limit (observed/limit, >= 1 when failed): worst first */
	const char *task;    /* where the observed value comes from, or NULL */
	/* The spans behind the observed value, longest first (failures and warnings). */
	const struct tg_span *worst[TG_CHECK_WORST];
	size_t nworst;
	const struct tg_frame *culprit; /* worst[0]'s culprit, or NULL: JUnit file/line, annotations */
	/* A failed exec step's last output lines (at most TG_CHECK_OUTPUT_LINES,
	 * TG_CHECK_OUTPUT_BYTES), pointing into the step result; else NULL. */
	const char *output;
};

#define TG_CHECK_OUTPUT_LINES 10
#define TG_CHECK_OUTPUT_BYTES 4096

/* Previous results.json (--baseline): per task poll statistics. */
struct tg_baseline_task {
	char *name;
	uint64_t polls, max_ns, p99_ns;
};
struct tg_baseline {
	char *path;
	struct tg_baseline_task *tasks;
	size_t ntasks;
};

/* Reads a results.json written by tokio-guard. 0, or -errno / -EINVAL with one
 * line in ERR naming the file and what is wrong with it. */
int tg_baseline_load(const char *path, struct tg_baseline *b, char *err, size_t errlen);
void tg_baseline_free(struct tg_baseline *b);

struct tg_assert_input {
	const struct tg_spec *spec;
	const struct tg_task_summary *tasks; /* blocking-pool tasks included; selectors skip them */
	size_t ntasks;
	const struct tg_span *spans;         /* tg_apply_allow already applied */
	size_t nspans;
	const struct tg_step_result *steps;  /* top level; children reached through them */
	size_t nsteps;
	const struct tg_fn_summary *fns;     /* index = tg_fn_selectors() index; may be NULL */
	size_t nfns;
	const struct tg_baseline *baseline;  /* NULL: max_poll_regression is skipped */
	bool sched_measured;                 /* wakes were probed */
	const struct tg_worker_util *workers; /* max_worker_busy: record/workers.h */
	size_t nworkers;
	bool probed;                         /* the probes ran (else only load checks are real) */
	const char *run_error;               /* why the run ended early (target, environment), or
					      * NULL; with !probed, "probe: polls observed" fails with it */
	uint64_t polls;                      /* runtime polls observed */
	const struct tg_cpu_profile *cpu;    /* probe.cpu_profile's, resolved; NULL when off */
	uint64_t lost_events;
	pid_t target_pid;
	const pid_t *unprobed;                 /* processes of the target's program it forked or
					      * daemonized into: not probed (a warning check) */
	size_t nunprobed;
	const struct tg_heap_report *heap;   /* probe.heap's sites, or NULL (off or failed) */
};

/* Marks spans with a frame (any stack) matching an allow entry's glob: the
 * first matching entry wins, its glob and reason are kept on the span. */
void tg_apply_allow(const struct tg_spec *spec, struct tg_span *spans, size_t n);

/* The distinct function selector globs in spec order, at most MAX; the index
 * in OUT is the selector's fn_mask bit and its tg_fn_summary index. */
size_t tg_fn_selectors(const struct tg_spec *spec, const char **out, size_t max);

/* True when an assertion needs scheduling delay (wake probes). */
bool tg_needs_sched_delay(const struct tg_spec *spec);

/* Evaluates everything. *OUT: assertion checks in spec order (entry, then
 * limit), then probe health, then one per load step (children after their
 * parent, named "parent/child"). With no assertions key in the spec, the
 * default check max_blocking_spans: 0 on all tasks is evaluated. 0 or -ENOMEM. */
int tg_assert_eval(const struct tg_assert_input *in, struct tg_check **out, size_t *n);
void tg_checks_free(struct tg_check *c);

/* 1 when a check failed (warn-mode entries report TG_CHECK_WARNED instead),
 * else 0. Load and probe checks count: a failed step already means exit 4. */
int tg_checks_exit_code(const struct tg_check *c, size_t n);
/* How many checks have status ST. */
size_t tg_checks_count(const struct tg_check *c, size_t n, enum tg_check_status st);

/* "passed", "failed", "warned", "skipped": results.json's status values. */
const char *tg_check_status_name(enum tg_check_status s);

#endif
