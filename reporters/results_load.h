/* A results.json read back into what the checks and the reporters read
 * (struct tg_results without a record): `tokio-guard report`. */
#ifndef TG_RESULTS_LOAD_H
#define TG_RESULTS_LOAD_H

#include <stddef.h>
#include <sys/types.h>

#include "results_json.h"
#include "record.h"
#include "heap_sites.h"
#include "load.h"

struct cJSON;
struct tg_spec;

struct tg_saved_run {
	struct tg_results res;         /* record NULL, saved = &saved; spec set by tg_saved_run_bind */
	struct tg_results_saved saved;
	struct cJSON *doc;             /* every string below points into it */
	struct tg_task_summary *tasks; /* busiest first, as listed */
	size_t ntasks;
	struct tg_span *spans;         /* as listed: the order the checks saw */
	size_t nspans;
	struct tg_fn_summary *file_fns; /* as listed in results.json */
	size_t nfile_fns;
	struct tg_fn_summary *fns;     /* by the bound spec's selector index */
	struct tg_worker_util *workers; /* as listed (timelines owned) */
	size_t nworkers;
	struct tg_step_result *steps;
	size_t nsteps;
	pid_t *unprobed;
	const char *spec_file;         /* the spec the run used (absolute when recorded), or NULL */
	const char *spec_given;        /* the same as the run's command line named it, or NULL */
	int exit_code;                 /* the run's */
	const char *error;             /* the run's error line, or NULL */
	bool probed;                   /* its probes were attached */
	struct tg_heap_report heap;    /* results.json's heap (probe.heap), when have_heap */
	bool have_heap;
};

/* Reads PATH. 0, or -errno / -EINVAL with one line in ERR naming the file and
 * what is wrong ("results x.json: tasks[2].polls is not a non-negative number"). */
int tg_saved_run_load(const char *path, struct tg_saved_run *run, char *err, size_t errlen);

/* Points the run at SPEC (kept by the caller): function selectors are matched
 * to SPEC's by glob, allow marks are cleared for tg_apply_allow. 0 or -ENOMEM. */
int tg_saved_run_bind(struct tg_saved_run *run, const struct tg_spec *spec);

void tg_saved_run_free(struct tg_saved_run *run);

#endif
