/* results.json: everything needed to re-check assertions or compare runs. */
#ifndef TG_RESULTS_JSON_H
#define TG_RESULTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "poll_probe.h"
#include "frame_text.h" /* tg_display_path, tg_frame_location, tg_frame_text */
#include "record.h"     /* struct tg_record_caps */

struct tg_spec;
struct tg_record;
struct tg_step_result;
struct tg_task_summary;
struct tg_span;
struct tg_check;
struct tg_frame;
struct tg_cpu_profile;

/* When each phase of the run ended (CLOCK_MONOTONIC ns; 0: never reached):
 * where a CI minute goes, in results.json's "timing". */
enum tg_phase {
	TG_PHASE_START,    /* the session began */
	TG_PHASE_SITES,    /* poll sites found in the binary */
	TG_PHASE_ATTACHED, /* target spawned at its exec gate, probes loaded and attached */
	TG_PHASE_READY,    /* target released and ready */
	TG_PHASE_LOAD_END, /* the last load step ended */
	TG_PHASE_STOPPED,  /* target stopped */
	TG_PHASE_DETACHED, /* probes detached, events drained */
	TG_PHASE_RESOLVED, /* stacks symbolized, checks evaluated */
	TG_PHASE__COUNT
};

struct tg_results {
	const struct tg_spec *spec;
	const char *exe;            /* resolved target binary */
	pid_t pid;
	bool attached;              /* tokio-guard attach: a process it did not start */
	const pid_t *unprobed;      /* other processes of its program (forks, its daemon) */
	size_t nunprobed;
	bool exited;                /* the target's own end, if it came before the stop */
	int exit_code;              /* valid when exited and not signalled */
	int exit_signal;            /* 0 when none */
	size_t poll_sites;
	size_t probes_attached;
	const char *tokio_version;  /* "" when unknown */
	const char *sampler;        /* on-CPU sampling: "tick+timer", "perf cpu-clock", "off" */
	bool frame_pointers;        /* the target keeps frame pointers */
	const char *unwind;         /* how user stacks were walked: "fp" or "dwarf" (NULL: "fp") */
	uint64_t t0_ns;             /* CLOCK_MONOTONIC origin of every *_ns timestamp */
	double duration_s;
	uint64_t bpf_stats[TG_STAT__COUNT];
	uint64_t phase_ns[TG_PHASE__COUNT];
	struct tg_record *record;   /* NULL when the probes never ran */
	const struct tg_step_result *steps;
	size_t nsteps;
	int status;                 /* tokio-guard's exit code */
	const char *error;          /* the run's error line, or NULL */
	const char *kernel;         /* uname -r */
	/* What every reporter shows, prepared once by the session (unit tests build
	 * these by hand: reporters other than the trace never need RECORD). */
	const struct tg_task_summary *tasks;   /* busiest first */
	size_t ntasks;
	const struct tg_span *const *spans;    /* every blocking span, longest first */
	size_t nspans;
	const struct tg_check *checks;         /* assertions, probe health, load steps */
	size_t nchecks;
	bool sched_measured;                   /* scheduling delay was probed */
	const struct tg_cpu_profile *cpu_profile; /* probe.cpu_profile's, resolved; NULL: off */
	const struct tg_heap_report *heap;     /* probe.heap's sites, or NULL */
	const struct tg_worker_util *workers;  /* worker utilization, by tid (record/workers.h) */
	size_t nworkers;
	const struct tg_results_saved *saved;  /* set when RECORD is NULL because the
					       * run was read back: `report` */
	/* Report files as written ("" when not written): the summary points at them. */
	const char *junit_path, *trace_path, *results_path;
	const char *html_path;      /* report.html; NULL or "" when not written */
};

/* A run read back from its results.json (`tokio-guard report`): what the
 * record would otherwise answer. Owned by the loader (results_load.h). */
struct tg_results_saved {
	const char *path;             /* the results.json it came from */
	uint64_t polls, trace_polls, user_dropped, spans_unlisted;
	bool have_trace_polls, have_caps;
	struct tg_record_caps caps;
	const struct tg_span *spans;  /* in results.json's order (what the checks saw) */
	size_t nspans;
	const struct tg_fn_summary *fns; /* by the spec's tg_fn_selectors() index */
	size_t nfns;
	char **argv;                  /* the command the run ran (NULL-terminated) */
	const char *timing_json;      /* the run's "timing" object as JSON text, or NULL */
};

/* The folder report paths are relative to: the repository's root (spec.md,
 * "Additions"); specs built by hand in unit tests may have only a folder. */
const char *tg_results_root(const struct tg_results *r);

/* blocking_spans lists at most this many: the longest, in the order they happened. */
#define TG_RESULTS_MAX_SPANS 10000

/* Events lost anywhere: ring buffer full, nesting overflow, user-side caps. */
uint64_t tg_results_lost_events(const struct tg_results *r);
uint64_t tg_lost_events(const uint64_t stats[TG_STAT__COUNT], const struct tg_record *rec);

/* Wall time of the whole run so far (from TG_PHASE_START to now, teardown and
 * reports included), in seconds; 0 when the start is unknown. */
double tg_results_wall_s(const struct tg_results *r);

/* probe.stats' key for TG_STAT_* STAT ("ringbuf_full_poll", ...), or NULL. */
const char *tg_results_stat_name(int stat);

/* Writes the JSON document to PATH. 0 or -errno with one line in ERR. */
int tg_results_write(const char *path, const struct tg_results *r, char *err, size_t errlen);

#endif
