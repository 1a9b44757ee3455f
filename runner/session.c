// SPDX-License-Identifier: MIT
/* One run, start to end. Every path out of it goes through finish(): the
 * target is stopped, the probes detached, and reports are written for
 * whatever was seen, errors and interruptions included. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "session.h"
#include "cpu_profile.h"
#include "cpu_profiling.h"
#include "adhoc.h"
#include "attach.h"
#include "launch.h"
#include "proc_tree.h"
#include "load.h"
#include "poll_sites.h"
#include "probe.h"
#include "live.h"
#include "progress.h"
#include "watchdog.h"
#include "record.h"
#include "results_json.h"
#include "reports.h"
#include "checks.h"
#include "heap_probe.h"
#include "heap_sites.h"
#include "summary.h"
#include "spec.h"
#include "symbolize.h"
#include <sys/utsname.h>

#define SAMPLE_EVERY_NS 250000000ull /* the trace's counter tracks: 4 points a second */
#define RESOLVE_EVERY_NS 1000000000ull /* spans symbolized as the run goes: memory stays flat */

_Static_assert(TG_SPEC_STACK_COPY_MAX <= (TG_COPY_MAX_PAGES - 1) * TG_COPY_PAGE,
	       "probe.stack_copy's largest must fit the BPF copy");

struct session {
	const struct tg_run_opts *o;
	struct tg_spec spec;
	bool have_spec;
	char *exe;
	struct tg_poll_sites sites;
	struct tg_target target;
	bool spawned;
	struct tg_record *rec;
	struct tg_probe *probe;
	pthread_t consumer;
	bool consuming;
	atomic_bool consumer_stop;
	struct tg_symbolizer *sz;
	/* The consumer resolves spans as they come; the main thread makes and
	 * refreshes the symbolizer: one at a time. */
	pthread_mutex_t sz_lock;
	struct tg_step_result *steps;
	size_t nsteps;
	uint64_t t0_ns, t_end_ns;
	uint64_t phase_ns[TG_PHASE__COUNT];
	size_t probes_attached;
	uint64_t bpf_stats[TG_STAT__COUNT];
	const char *sampler;
	int status;
	char error[1024];
	struct tg_reports out;      /* the output folder and the reports' paths */
	char log_path[2][PATH_MAX]; /* target.stdout.log, target.stderr.log */
	struct tg_identity id;      /* who the target and exec steps run as */
	bool progress;
	atomic_bool live;           /* the live view is up: the event thread feeds it */
	struct tg_baseline baseline;
	bool have_baseline;
	const char *fn_globs[TG_MAX_FN_SELECTORS]; /* function selectors, by fn_mask bit */
	size_t nfn;
	bool sched_delay;
	struct tg_check *checks;
	size_t nchecks;
	const struct tg_span **by_length; /* every span, longest first */
	const struct tg_task_summary *tasks; /* computed once, for the checks and every report */
	size_t ntasks;
	const struct tg_worker_util *workers; /* record-owned */
	size_t nworkers;
	size_t nspans;
	bool unwind_dwarf;          /* probe.unwind, auto decided: copies unwound with CFI */
	pid_t unprobed[16];         /* forks of the target's program, or the daemon it became */
	size_t nunprobed;
	/* attach: a process we did not start; target.pid is its pid, but it is never
	 * waited for, signalled or stopped (spawned stays false) */
	bool attached;
	struct tg_attached att;
	bool adhoc;                 /* run -- CMD: its exit ends the run, it is no failure */
	struct tg_cpu_profiling *cpu_run; /* probe.cpu_profile while it samples */
	struct tg_cpu_profile *cpu;       /* ... and what it sampled, once stopped */
	/* probe.heap: the allocator probes, their maps as read at the end of the
	 * load (before the stop frees what the program held), and the sites */
	struct tg_heap_probe *heap;
	struct tg_heap_snapshot heap_snap;
	bool heap_read, heap_frees;
	char heap_symbols[160];
	struct tg_heap_report heap_rep;
	bool have_heap;
};

static volatile sig_atomic_t g_signal;
/* An updating progress line is on the terminal: clear it before a message. */
static bool g_progress_tty;

static const char *eol_clear(void)
{
	return g_progress_tty ? "\r\033[K" : "";
}

static void on_signal(int sig)
{
	g_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waits wake up */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL); /* --duration's end (arm_duration) */
	signal(SIGPIPE, SIG_IGN);
}

/* Records the first failure: its exit code and its one-line message. */
static int fail(struct session *s, int status, const char *fmt, ...)
{
	va_list ap;

	if (s->status)
		return -1;
	s->status = status;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%stokio-guard: %s\n", eol_clear(), s->error);
	return -1;
}

/* Attach and ad hoc runs end at --duration (SIGALRM) or Ctrl-C: their normal end. */
static bool normal_end(struct session *s)
{
	return g_signal == SIGALRM || (g_signal == SIGINT && (s->attached || s->adhoc));
}

static bool interrupted(struct session *s)
{
	if (!g_signal)
		return false;
	if (normal_end(s))
		return true;
	if (!s->status)
		fail(s, g_signal == SIGINT ? TG_EXIT_SIGINT : TG_EXIT_SIGTERM,
		     "interrupted by %s: stopping the target and writing reports",
		     g_signal == SIGINT ? "SIGINT" : "SIGTERM");
	return true;
}

/* ---- phases */

/* run -- CMD, or attach without a spec: every default, the default check. */
static int load_adhoc(struct session *s)
{
	static char *const none[] = { "(attached)", NULL };
	char err[1024];

	if (tg_spec_adhoc(s->adhoc ? s->o->command : none, s->o->threshold_ns, &s->spec, err,
			  sizeof(err))) {
		tg_spec_free(&s->spec);
		return fail(s, TG_EXIT_ENV, "%s", err);
	}
	s->have_spec = true;
	return 0;
}

/* attach: the process runs already, as whoever started it. */
static void ignore_target_section(struct session *s)
{
	if (s->spec.target.argv && !s->o->quiet)
		fprintf(stderr, "tokio-guard: note: attaching to pid %d: the target section of %s is "
			"ignored\n", (int)s->o->attach_pid, s->spec.path);
	free(s->spec.target.user);
	s->spec.target.user = NULL;
}

static int load_spec(struct session *s)
{
	static struct tg_spec_errors errs; /* 10 KiB: off the stack */
	char err[1024];

	if (s->adhoc || (s->attached && !s->o->spec_path))
		return load_adhoc(s);
	if ((s->attached ? tg_spec_load_all_attach : tg_spec_load_all)(s->o->spec_path, &s->spec, &errs)) {
		/* every mistake in one round, as check gives them; the first is the run's error */
		fail(s, TG_EXIT_USAGE, "%s", errs.msg[0]);
		if (errs.n > 1 || errs.more)
			tg_spec_errors_print(stderr, s->o->spec_path, &errs, 1);
		return -1;
	}
	s->have_spec = true;
	if (s->attached)
		ignore_target_section(s);
	s->nfn = tg_fn_selectors(&s->spec, s->fn_globs, TG_MAX_FN_SELECTORS);
	s->sched_delay = tg_needs_sched_delay(&s->spec);
	if (!s->spec.has_assertions && !s->o->quiet)
		fprintf(stderr, "tokio-guard: no assertions in %s: checking the default, "
			"max_blocking_spans: 0 (write assertions: [] to only measure)\n", s->spec.path);
	if (!s->o->baseline)
		return 0;
	if (tg_baseline_load(s->o->baseline, &s->baseline, err, sizeof(err)))
		return fail(s, TG_EXIT_USAGE, "%s", err);
	s->have_baseline = true;
	return 0;
}

/* target.user, or the user behind sudo: the target and exec steps run as
 * them, and the output belongs to them. */
static int resolve_user(struct session *s)
{
	char err[1024];
	int r = tg_resolve_identity(s->spec.target.user, &s->id, err, sizeof(err));

	if (r)
		return fail(s, r == -EPERM ? TG_EXIT_ENV : TG_EXIT_USAGE, "%s", err);
	tg_set_child_identity(s->id.set ? &s->id : NULL);
	if (s->o->verbose && s->id.set)
		fprintf(stderr, "tokio-guard: target and exec steps run as %s (uid %u, gid %u)\n",
			s->id.name, (unsigned)s->id.uid, (unsigned)s->id.gid);
	return 0;
}

/* attach: the process, and its command line in place of the spec's. */
static int find_attached(struct session *s)
{
	char err[1024];
	int r = tg_attach_open(s->o->attach_pid, &s->att, err, sizeof(err));

	if (r)
		return fail(s, r == -ESRCH ? TG_EXIT_TARGET : r == -EINVAL ? TG_EXIT_USAGE : TG_EXIT_ENV,
			    "%s", err);
	tg_strv_free(s->spec.target.argv);
	s->spec.target.argv = s->att.argv; /* the spec owns it from here */
	s->att.argv = NULL;
	s->target.pid = s->att.pid;
	if (!s->o->spec_path) { /* named after its program, as an ad hoc run is */
		const char *base = strrchr(s->att.shown, '/');

		free(s->spec.name);
		s->spec.name = strdup(base && base[1] ? base + 1 : s->att.shown);
	}
	s->exe = strdup(s->att.exe);
	return s->exe ? 0 : fail(s, TG_EXIT_ENV, "out of memory");
}

static int find_target(struct session *s)
{
	const char *argv0 = s->spec.target.argv ? s->spec.target.argv[0] : "";
	char err[1024];
	int r;

	if (s->attached ? find_attached(s) : 0)
		return -1;
	s->exe = s->exe ? s->exe : tg_resolve_exe(argv0, s->spec.target.cwd);
	if (!s->exe)
		return fail(s, TG_EXIT_TARGET, "target %s not found (cwd %s): %s", argv0,
			    s->spec.target.cwd, strerror(errno));
	r = tg_find_task_sites(s->exe, &s->sites, err, sizeof(err));
	if (r && s->attached && r == -ENOENT)
		return fail(s, TG_EXIT_ENV, "pid %d (%s) is not a Tokio program: no "
			    "tokio::runtime::task::raw::poll in its binary", (int)s->att.pid, s->att.shown);
	if (r)
		return fail(s, r == -ENOENT || r == -ENOEXEC ? TG_EXIT_ENV : TG_EXIT_TARGET, "%s", err);
	s->unwind_dwarf = s->spec.probe.unwind == TG_UNWIND_DWARF ||
			  (s->spec.probe.unwind == TG_UNWIND_AUTO && !s->sites.frame_pointers);
	if (!s->sites.frame_pointers && !s->unwind_dwarf)
		fprintf(stderr, "tokio-guard: warning: %s seems built without frame pointers and "
			"probe.unwind is fp: stacks will stop after the leaf; use probe.unwind: auto\n",
			s->exe);
	if (!s->sites.has_symtab)
		fprintf(stderr, "tokio-guard: warning: %s is stripped: its %zu poll sites were found "
			"through the task vtables, tasks are named by address, functions by offset, "
			"block_on bodies are not measured; keep the symbol table with [profile.release] "
			"strip = \"debuginfo\" (Rust's default)\n", s->exe, s->sites.n);
	else if (!s->sites.has_dwarf)
		fprintf(stderr, "tokio-guard: note: %s has no debug info: no file:line in stacks; "
			"keep line tables ([profile.release] debug = \"line-tables-only\")\n", s->exe);
	if (s->o->verbose) {
		for (size_t i = 0; i < s->sites.n; i++)
			fprintf(stderr, "tokio-guard: poll site %#llx %s %s (named by %s)\n",
				(unsigned long long)s->sites.v[i].addr, s->sites.v[i].task_name,
				s->sites.v[i].kind == TG_SITE_BLOCKING ? "[blocking pool]" :
				s->sites.v[i].kind == TG_SITE_BLOCK_ON ? "[block_on]" : "",
				s->sites.v[i].named_by);
	}
	s->phase_ns[TG_PHASE_SITES] = tg_now_ns();
	return 0;
}

static void resolve_some(struct session *s)
{
	size_t n = 0;

	pthread_mutex_lock(&s->sz_lock);
	if (s->sz) {
		/* libraries mapped since the last look (a target with no ready: may
		 * still have been in ld.so then): a span resolves once, for good */
		tg_record_spans(s->rec, &n);
		if (tg_record_resolved(s->rec) < n)
			tg_symbolizer_refresh(s->sz, s->target.pid);
		tg_record_resolve(s->rec, s->sz);
	}
	pthread_mutex_unlock(&s->sz_lock);
}

static void *consume(void *arg)
{
	struct session *s = arg;
	uint64_t next = 0, next_resolve = 0;

	while (!atomic_load(&s->consumer_stop)) {
		uint64_t now = tg_now_ns();

		if (now >= next) {
			tg_record_add_sample(s->rec, now, tg_probe_polls(s->probe));
			next = now + SAMPLE_EVERY_NS;
		}
		if (now >= next_resolve) {
			resolve_some(s);
			if (atomic_load(&s->live))
				tg_live_feed(s->rec, tg_probe_polls(s->probe));
			next_resolve = now + (atomic_load(&s->live) ? TG_LIVE_EVERY_NS : RESOLVE_EVERY_NS);
		}
		tg_probe_poll(s->probe, 100);
	}
	while (tg_probe_poll(s->probe, 0) > 0)
		;
	return NULL;
}

static int start_consumer(struct session *s)
{
	sigset_t all, old;
	int r;

	/* Signals belong to the main thread, which runs the waits. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->consumer, NULL, consume, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return fail(s, TG_EXIT_ENV, "cannot start the event reader: %s", strerror(r));
	s->consuming = true;
	return 0;
}

static int make_out_dir(struct session *s)
{
	s->out = (struct tg_reports){ .id = &s->id, .quiet = s->o->quiet, .status = &s->status,
				      .error = s->error, .errlen = sizeof(s->error),
				      .html_name = s->spec.report.html };
	return tg_reports_paths(&s->out, s->o->out_dir ? s->o->out_dir : s->spec.report.dir,
				s->o->results_file, s->spec.report.results, s->o->junit_file,
				s->spec.report.junit, s->o->trace_file, s->spec.report.trace);
}

static void give(struct session *s, const char *path)
{
	tg_reports_give(&s->out, path);
}

/* Every report, or a line saying why none could be. */
static void write_reports(struct session *s, struct tg_results *res)
{
	if (make_out_dir(s)) {
		fprintf(stderr, "tokio-guard: cannot create %s: %s: no reports written\n", s->out.dir,
			strerror(errno));
		return;
	}
	tg_reports_write(&s->out, res);
}

/* The output folder exists before the target starts: its logs go there. */
static int prepare_output(struct session *s)
{
	if (make_out_dir(s))
		return fail(s, TG_EXIT_ENV, "cannot create the output folder %s: %s", s->out.dir,
			    strerror(errno));
	give(s, s->out.dir);
	snprintf(s->log_path[0], sizeof(s->log_path[0]), "%.4000s/target.stdout.log", s->out.dir);
	snprintf(s->log_path[1], sizeof(s->log_path[1]), "%.4000s/target.stderr.log", s->out.dir);
	return 0;
}

/* probe.heap's own BPF object, beside the poll probes. */
static int start_heap(struct session *s, char *err, size_t errlen)
{
	int r = tg_heap_probe_open(s->exe, s->target.pid, &s->heap, err, errlen);

	if (r)
		return r;
	s->heap_frees = tg_heap_probe_sees_frees(s->heap);
	snprintf(s->heap_symbols, sizeof(s->heap_symbols), "%s", tg_heap_probe_symbols(s->heap));
	if (!s->o->quiet)
		fprintf(stderr, "tokio-guard: heap: probing %s\n", s->heap_symbols);
	if (!s->heap_frees)
		fprintf(stderr, "tokio-guard: warning: probe.heap: %s has no dealloc symbol (LTO inlined "
			"it): frees are not seen, live bytes and growth count every allocation\n", s->exe);
	return 0;
}

static int start_probe(struct session *s)
{
	struct tg_target_opts to = {
		.id = &s->id,
		.stdout_log = s->log_path[0],
		.stderr_log = s->log_path[1],
		.echo = !s->o->quiet && !s->o->live, /* the live view has the terminal */
	};
	struct tg_probe_opts po = {
		.exe = s->exe,
		.sites = &s->sites,
		.trace_min_ns = s->spec.report.trace_min_poll_ns,
		.blocking_ns = s->spec.probe.blocking_threshold_ns,
		.sample_rate = s->spec.probe.sample_rate,
		.stack_depth = s->spec.probe.stack_depth,
		.ringbuf_bytes = s->spec.probe.ring_buffer_bytes,
		.on_event = tg_record_on_event,
		.fn_globs = s->fn_globs,
		.nfn = s->nfn,
		.sched_delay = s->sched_delay || s->spec.probe.scheduling_delay,
		/* asked for by a limit: its absence is an error; on by default: it is not */
		.sched_delay_best_effort = !s->sched_delay,
		.unwind_dwarf = s->unwind_dwarf,
		.stack_copy = s->spec.probe.stack_copy_bytes,
	};
	char err[1024];

	if (!s->attached) { /* attach: it runs already, its output is its own */
		if (tg_target_spawn_opts(&s->spec, s->exe, &to, &s->target, err, sizeof(err)))
			return fail(s, TG_EXIT_TARGET, "%s", err);
		s->spawned = true;
		tg_watchdog_arm(s->target.pid); /* its own process group */
		give(s, s->log_path[0]);
		give(s, s->log_path[1]);
	}
	s->rec = tg_record_new(&s->sites, s->spec.probe.blocking_threshold_ns, s->spec.probe.sample_rate);
	if (!s->rec)
		return fail(s, TG_EXIT_ENV, "out of memory");
	tg_record_set_pid(s->rec, s->target.pid);
	tg_record_set_keep_slices(s->rec, s->spec.report.trace_max_polls);
	po.pid = s->target.pid;
	po.ctx = s->rec;
	if (tg_probe_open(&po, &s->probe, err, sizeof(err)))
		return fail(s, TG_EXIT_ENV, "%s", err);
	s->sched_delay = tg_probe_sched_delay(s->probe);
	if (s->spec.probe.heap && start_heap(s, err, sizeof(err)))
		return fail(s, TG_EXIT_ENV, "%s", err);
	if (!s->o->quiet)
		fprintf(stderr, "tokio-guard: %zu poll sites in %s, %zu probes attached, sampling: %s, "
			"stacks: %s\n", s->sites.n, s->attached ? s->att.shown : s->exe,
			tg_probe_attached(s->probe),
			tg_probe_sampler(s->probe),
			s->unwind_dwarf ? "dwarf (registers and stack copied, unwound with CFI)" :
					  "frame pointers");
	if (s->spec.probe.cpu_profile_hz &&
	    tg_cpu_profiling_start(s->target.pid, s->spec.probe.cpu_profile_hz, s->unwind_dwarf,
				   s->spec.probe.stack_copy_bytes, s->spec.probe.stack_depth, &s->sz,
				   &s->sz_lock, &s->cpu_run, err, sizeof(err)))
		return fail(s, TG_EXIT_ENV, "%s", err);
	s->sampler = tg_probe_sampler(s->probe);
	s->probes_attached = tg_probe_attached(s->probe);
	s->phase_ns[TG_PHASE_ATTACHED] = tg_now_ns();
	return start_consumer(s);
}

/* The allocation view, at the end of the load: what the program still holds
 * then, before the stop makes it free its runtime. */
static void read_heap(struct session *s)
{
	if (s->heap && !s->heap_read)
		s->heap_read = tg_heap_probe_read(s->heap, &s->heap_snap) == 0;
}

static void build_heap(struct session *s)
{
	uint64_t at = s->heap_snap.at_ns;

	if (!s->heap_read || !s->t0_ns)
		return;
	if (tg_heap_build(&s->heap_rep, &s->heap_snap, s->sz,
			  at > s->t0_ns ? (double)(at - s->t0_ns) / 1e9 : 0)) {
		tg_heap_free(&s->heap_rep);
		fprintf(stderr, "tokio-guard: warning: out of memory building the heap sites\n");
		return;
	}
	s->heap_rep.frees_seen = s->heap_frees;
	snprintf(s->heap_rep.symbols, sizeof(s->heap_rep.symbols), "%s", s->heap_symbols);
	s->have_heap = true;
}

/* Libraries loaded since the last look: mapped now, symbolized later. */
static void refresh_symbols(struct session *s)
{
	pthread_mutex_lock(&s->sz_lock);
	if (s->sz)
		tg_symbolizer_refresh(s->sz, s->target.pid);
	pthread_mutex_unlock(&s->sz_lock);
}

static void alarm_mask(int how)
{
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGALRM);
	pthread_sigmask(how, &m, NULL);
}

/* --duration: SIGALRM ends the wait as a signal does. A spec's load is not
 * cut short by it (an interrupted step would fail its check): the alarm is
 * held until the load is done, so the run lasts the longer of the two. */
static void arm_duration(struct session *s)
{
	struct itimerval it = { 0 };

	if (!s->o->duration_ns)
		return;
	if (s->spec.nsteps)
		alarm_mask(SIG_BLOCK); /* before the load's threads: they inherit it */
	it.it_value.tv_sec = (time_t)(s->o->duration_ns / 1000000000ull);
	it.it_value.tv_usec = (suseconds_t)(s->o->duration_ns % 1000000000ull / 1000);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* attach: probes on, the process already running: it is ready as it is. */
static int start_attached(struct session *s)
{
	pthread_mutex_lock(&s->sz_lock);
	s->sz = tg_symbolizer_new(s->target.pid);
	pthread_mutex_unlock(&s->sz_lock);
	if (!s->sz && !tg_attach_alive(&s->att))
		return fail(s, TG_EXIT_TARGET, "pid %d exited while the probes were attached",
			    (int)s->att.pid);
	if (!s->o->quiet)
		fprintf(stderr, "tokio-guard: attached to pid %d (%s) in %.0f ms%s\n", (int)s->att.pid,
			s->att.shown, (double)(tg_now_ns() - s->phase_ns[TG_PHASE_START]) / 1e6,
			s->o->duration_ns ? "" : ": Ctrl-C to detach");
	arm_duration(s);
	s->phase_ns[TG_PHASE_READY] = tg_now_ns();
	return 0;
}

static int start_target(struct session *s)
{
	char err[1024];
	int r;

	s->t0_ns = tg_now_ns();
	if (s->attached)
		return start_attached(s);
	if (tg_target_release(&s->target, err, sizeof(err)))
		return fail(s, TG_EXIT_TARGET, "%s", err);
	/* The binary is mapped from exec on: enough to symbolize it even if the
	 * target dies before it is ready. */
	pthread_mutex_lock(&s->sz_lock);
	s->sz = tg_symbolizer_new(s->target.pid);
	pthread_mutex_unlock(&s->sz_lock);
	r = tg_target_wait_ready(&s->target, &s->spec, &g_signal, err, sizeof(err));
	if (interrupted(s)) /* -EINTR comes only from a signal */
		return -1;
	if (r)
		return fail(s, TG_EXIT_TARGET, "%s", err);
	refresh_symbols(s);
	if (s->adhoc)
		arm_duration(s);
	s->phase_ns[TG_PHASE_READY] = tg_now_ns();
	return 0;
}

static bool target_alive(void *ctx)
{
	struct session *s = ctx;

	return s->attached ? tg_attach_alive(&s->att) : !tg_target_check_exit(&s->target);
}

/* Attach and ad hoc runs go on after their load (if any) until --duration,
 * Ctrl-C or the target's end. The live view (o->live, runner/live.c) starts
 * here and is stopped in stop_target. */
static void run_until_end(struct session *s)
{
	if (!s->attached && !s->adhoc)
		return;
	alarm_mask(SIG_UNBLOCK); /* one that came during the load ends the wait at once */
	if (!s->o->duration_ns && s->spec.nsteps)
		return; /* a spec's load decides how long */
	tg_wait_end(0, &g_signal, target_alive, s);
	interrupted(s);
}

/* The live view replaces the progress line: the whole terminal is its own. */
static void start_live(struct session *s)
{
	char title[256];
	const char *shown = s->attached ? s->att.shown : s->exe, *slash = strrchr(shown, '/');
	struct tg_live_opts lo = {
		.title = title,
		.root = tg_spec_root(&s->spec),
		.pid = s->target.pid,
		.t0_ns = s->t0_ns,
		.tty = -1,
	};

	snprintf(title, sizeof title, "%s%.200s (pid %d)", s->attached ? "attached to " : "",
		 slash ? slash + 1 : shown, (int)s->target.pid);
	if (tg_live_start(&lo) == 0) {
		atomic_store(&s->live, true);
		tg_probe_wake(s->probe); /* the event thread feeds it from now on */
	}
}

static void stop_live(struct session *s)
{
	if (!atomic_load(&s->live))
		return;
	atomic_store(&s->live, false);
	tg_live_stop();
}

static void start_progress(struct session *s)
{
	struct tg_progress_opts po = {
		.rec = s->rec,
		.slice_floor_ns = s->spec.report.trace_min_poll_ns,
		.nsteps = s->spec.nsteps,
		.total_ns = tg_progress_total_ns(&s->spec),
		.tty = -1,
	};

	if (s->o->live) {
		start_live(s);
		return;
	}
	if (s->o->quiet || !s->spec.nsteps)
		return;
	s->progress = tg_progress_start(&po) == 0;
	g_progress_tty = s->progress && isatty(2);
}

static int run_steps(struct session *s)
{
	s->steps = calloc(s->spec.nsteps ? s->spec.nsteps : 1, sizeof(*s->steps));
	if (!s->steps)
		return fail(s, TG_EXIT_ENV, "out of memory");
	start_progress(s);
	for (size_t i = 0; i < s->spec.nsteps; i++) {
		struct tg_step_result *res = &s->steps[s->nsteps++];
		int r;

		tg_progress_step(i, s->spec.steps[i].name);
		if (!s->o->quiet)
			fprintf(stderr, "%stokio-guard: load step %zu/%zu: %s\n", eol_clear(), i + 1,
				s->spec.nsteps, s->spec.steps[i].name);
		r = tg_run_step(&s->spec, &s->spec.steps[i], res, &g_signal, target_alive, s);
		if (interrupted(s))
			return -1;
		if (r == -ECHILD)
			return -1; /* reported by stop_target with the exit status */
		if (r)
			return fail(s, TG_EXIT_TARGET, "load step '%s' failed: %s", res->name, res->error);
	}
	return 0;
}

/* ---- the end, on every path */

/* The last lines the target wrote to stderr (TAIL, or read now), indented. */
static void print_stderr_tail(struct session *s, char *tail)
{
	char buf[2048];

	if (!tail) {
		tg_target_stderr_tail(&s->target, buf, sizeof(buf), 10);
		tail = buf;
	}
	if (!tail[0])
		return;
	fprintf(stderr, "tokio-guard: last lines of the target's stderr (%s):\n", s->log_path[1]);
	for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
}

/* The target ended but left its program running: it daemonized. What the
 * user must change goes into the run's error, so every report says it. */
static void say_daemonized(struct session *s)
{
	size_t len = strlen(s->error);

	snprintf(s->error + len, sizeof(s->error) - len,
		 "; it left pid %d of the same program running: the program daemonizes itself, and "
		 "tokio-guard measures only the process it starts (run it in the foreground)",
		 (int)s->unprobed[0]);
	fprintf(stderr, "%stokio-guard: the target left pid %d of the same program running: it "
		"daemonizes itself; run it in the foreground, tokio-guard measures only the process "
		"it starts\n", eol_clear(), (int)s->unprobed[0]);
}

/* attach: nothing is sent to the process; its end, if it came, is noted. */
static void detach_target(struct session *s)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
	s->t_end_ns = tg_now_ns();
	if (tg_attach_alive(&s->att)) {
		refresh_symbols(s);
		return;
	}
	s->target.exited = true; /* its exit status is its parent's to know */
	if (!s->o->quiet)
		fprintf(stderr, "%stokio-guard: pid %d exited during the run: detached, reports cover "
			"it up to its end\n", eol_clear(), (int)s->att.pid);
}

static void stop_target(struct session *s)
{
	char how[128], tail[2048] = "";
	bool died, not_ready = s->status == TG_EXIT_TARGET && strstr(s->error, "not ready after");

	if (s->progress) {
		tg_progress_stop();
		s->progress = false;
		g_progress_tty = false;
	}
	stop_live(s); /* before any message */
	if (s->attached && s->phase_ns[TG_PHASE_ATTACHED])
		detach_target(s);
	if (!s->spawned)
		return;
	if (!tg_target_check_exit(&s->target))
		refresh_symbols(s);
	died = tg_target_check_exit(&s->target) && s->target.gate_fd < 0;
	if (not_ready) /* before our stop signal makes it say more */
		tg_target_stderr_tail(&s->target, tail, sizeof(tail), 10);
	/* before the stop: forks in the target's group die with it */
	s->nunprobed = tg_same_program(s->exe, s->target.pid, s->unprobed, 16);
	if (s->nunprobed > 16)
		s->nunprobed = 16;
	/* stopping also ends the output capture: the logs are complete after it */
	tg_target_stop(&s->target, s->spec.target.stop.signal, s->spec.target.stop.grace_ns);
	s->t_end_ns = tg_now_ns();
	/* exited before it was ready, or never became ready: said already, the
	 * target's last words are what is new */
	if (not_ready) {
		print_stderr_tail(s, tail);
	} else if (s->status == TG_EXIT_TARGET && strstr(s->error, "before it was ready")) {
		print_stderr_tail(s, NULL);
	} else if (died && s->adhoc) { /* its exit ends an ad hoc run: no failure */
		tg_describe_status(s->target.status, how, sizeof(how));
		if (!s->o->quiet)
			fprintf(stderr, "tokio-guard: %s %s: the run ends\n", s->exe, how);
	} else if (died) {
		bool first = !s->status;

		tg_describe_status(s->target.status, how, sizeof(how));
		fail(s, TG_EXIT_TARGET, "target %s during the run", how);
		if (first)
			print_stderr_tail(s, NULL);
	}
	if (s->target.exited && s->nunprobed && s->status == TG_EXIT_TARGET)
		say_daemonized(s);
}

static void read_sched_stats(struct session *s)
{
	struct tg_sched_stats *st = s->sched_delay ? malloc(sizeof(*st)) : NULL;

	for (uint32_t i = 0; st && i < s->sites.n; i++)
		if (tg_probe_read_sched(s->probe, i, st) == 0 && st->count)
			tg_record_set_sched_stats(s->rec, i, st);
	free(st);
}

static void stop_probe(struct session *s)
{
	struct tg_site_stats *st;

	if (s->consuming) {
		atomic_store(&s->consumer_stop, true);
		tg_probe_wake(s->probe);
		pthread_join(s->consumer, NULL);
		s->consuming = false;
	}
	s->cpu = tg_cpu_profiling_stop(s->cpu_run);
	s->cpu_run = NULL;
	if (!s->probe)
		return;
	tg_probe_read_stats(s->probe, s->bpf_stats);
	tg_probe_read_workers(s->probe, tg_record_on_event, s->rec);
	tg_record_add_sample(s->rec, tg_now_ns(), tg_probe_polls(s->probe));
	st = malloc(sizeof(*st));
	for (uint32_t i = 0; st && i < s->sites.n; i++)
		if (tg_probe_read_site(s->probe, i, st) == 0)
			tg_record_set_site_stats(s->rec, i, st);
	for (uint32_t i = 0; st && i < s->nfn; i++) {
		size_t n = tg_probe_fn_symbols(s->probe, i);

		tg_record_set_fn_stats(s->rec, i, s->fn_globs[i], n,
				       n && tg_probe_read_fn(s->probe, i, st) == 0 ? st : NULL);
	}
	free(st);
	read_sched_stats(s);
	tg_probe_close(s->probe);
	s->probe = NULL;
}

static void fill_results(struct session *s, struct tg_results *res)
{
	static struct utsname uts;
	int st = s->target.status;

	uname(&uts);
	*res = (struct tg_results){
		.spec = &s->spec, .exe = s->attached ? s->att.shown : s->exe, .pid = s->target.pid,
		.attached = s->attached,
		.unprobed = s->unprobed, .nunprobed = s->nunprobed,
		.exited = s->target.exited, .poll_sites = s->sites.n,
		.tokio_version = s->sites.tokio_version, .t0_ns = s->t0_ns,
		/* t0 is set when the target is released: without it (no root, no
		 * binary) there was no probed run to measure */
		.duration_s = s->t0_ns && s->t_end_ns > s->t0_ns ?
			      (double)(s->t_end_ns - s->t0_ns) / 1e9 : 0,
		.record = s->rec, .steps = s->steps, .nsteps = s->nsteps,
		.status = s->status, .error = s->status ? s->error : NULL,
		.sampler = s->sampler, .frame_pointers = s->sites.frame_pointers,
		.unwind = s->unwind_dwarf ? "dwarf" : "fp",
		.kernel = uts.release, .sched_measured = s->sched_delay,
		.spans = s->by_length, .nspans = s->nspans,
		.checks = s->checks, .nchecks = s->nchecks,
		.junit_path = "", .trace_path = "", .results_path = "", .html_path = "",
	};
	res->tasks = s->tasks;
	res->ntasks = s->ntasks;
	res->cpu_profile = s->cpu;
	res->heap = s->have_heap ? &s->heap_rep : NULL;
	res->workers = s->workers;
	res->nworkers = s->nworkers;
	if (s->attached) /* not our child: no status to tell */
		;
	else if (s->target.exited && WIFSIGNALED(st))
		res->exit_signal = WTERMSIG(st);
	else if (s->target.exited)
		res->exit_code = WEXITSTATUS(st);
	memcpy(res->bpf_stats, s->bpf_stats, sizeof(res->bpf_stats));
	memcpy(res->phase_ns, s->phase_ns, sizeof(res->phase_ns));
	res->probes_attached = s->probes_attached;
}

static int longest_first(const void *a, const void *b)
{
	const struct tg_span *x = *(const struct tg_span *const *)a, *y = *(const struct tg_span *const *)b;

	return x->poll.duration_ns < y->poll.duration_ns ? 1 : x->poll.duration_ns > y->poll.duration_ns ? -1 : 0;
}

/* Allow-list, assertions, exit code: what the run decides. An earlier
 * failure (target, environment, signal) keeps its own exit code. */
static void evaluate(struct session *s)
{
	size_t nspans = 0, nfns = 0;
	struct tg_span *spans = s->rec ? tg_record_spans_mut(s->rec, &nspans) : NULL;
	struct tg_assert_input in;

	tg_apply_allow(&s->spec, spans, nspans);
	s->by_length = calloc(nspans ? nspans : 1, sizeof(*s->by_length));
	for (size_t i = 0; s->by_length && i < nspans; i++)
		s->by_length[s->nspans++] = &spans[i];
	if (s->by_length)
		qsort(s->by_length, s->nspans, sizeof(*s->by_length), longest_first);
	in = (struct tg_assert_input){
		.spec = &s->spec, .spans = spans, .nspans = nspans,
		.steps = s->steps, .nsteps = s->nsteps,
		.baseline = s->have_baseline ? &s->baseline : NULL, .sched_measured = s->sched_delay,
		/* attached, not merely prepared: a probe that failed to load saw nothing */
		.probed = s->phase_ns[TG_PHASE_ATTACHED] != 0, .run_error = s->status ? s->error : NULL,
		.target_pid = s->target.pid, .unprobed = s->unprobed, .nunprobed = s->nunprobed,
		.cpu = s->cpu,
	};
	if (s->rec) {
		s->tasks = tg_record_tasks(s->rec, &s->ntasks);
		in.fns = tg_record_fns(s->rec, &nfns);
		in.polls = tg_record_total_polls(s->rec);
		in.lost_events = tg_lost_events(s->bpf_stats, s->rec);
		s->workers = tg_record_workers(s->rec, s->t0_ns, s->t_end_ns, &s->nworkers);
	}
	in.workers = s->workers;
	in.nworkers = s->nworkers;
	in.tasks = s->tasks;
	in.ntasks = s->ntasks;
	in.heap = s->have_heap ? &s->heap_rep : NULL;
	in.nfns = nfns;
	if (tg_assert_eval(&in, &s->checks, &s->nchecks)) {
		fail(s, TG_EXIT_ENV, "out of memory while checking assertions");
		return;
	}
	if (!s->status)
		s->status = tg_checks_exit_code(s->checks, s->nchecks);
}

/* Exit 3 when the probes were attached and saw nothing: never a silent pass. */
static void check_observed(struct session *s)
{
	if (tg_record_total_polls(s->rec) == 0)
		fail(s, TG_EXIT_ENV, "probes attached to %zu poll sites but observed no task polls "
		     "(did the load reach the target?)", s->sites.n);
}

static void phase(struct session *s, enum tg_phase p)
{
	if (s->phase_ns[TG_PHASE_ATTACHED]) /* the end of what never began is no phase */
		s->phase_ns[p] = tg_now_ns();
}

static int finish(struct session *s)
{
	size_t strays;

	if (s->phase_ns[TG_PHASE_READY])
		phase(s, TG_PHASE_LOAD_END);
	read_heap(s);
	stop_target(s);
	tg_watchdog_stop(); /* the target is gone: not a stray */
	strays = tg_kill_strays(); /* before the probes' background release is spawned */
	if (strays)
		fprintf(stderr, "tokio-guard: warning: killed %zu process%s the target or load steps "
			"left behind (daemons outside their process group)\n", strays,
			strays == 1 ? "" : "es");
	phase(s, TG_PHASE_STOPPED);
	stop_probe(s);
	tg_heap_probe_close(s->heap);
	s->heap = NULL;
	phase(s, TG_PHASE_DETACHED);
	/* A bad spec has nothing to report on; anything later does, even a
	 * target that never started: the CI's test view must say why. */
	if (s->have_spec && s->status != TG_EXIT_USAGE &&
	    !(s->attached && !s->phase_ns[TG_PHASE_ATTACHED])) { /* attach: nothing probed, one line said it */
		struct tg_results res;

		if (s->rec)
			check_observed(s);
		if (s->rec && s->sz)
			tg_record_resolve(s->rec, s->sz);
		if (s->cpu && s->sz)
			tg_cpu_profile_resolve(s->cpu, s->sz);
		build_heap(s);
		evaluate(s);
		phase(s, TG_PHASE_RESOLVED);
		fill_results(s, &res);
		write_reports(s, &res);
		if (s->o->quiet) /* quiet hides the chatter, never the verdict */
			tg_summary_print_verdict(stderr, &res, isatty(2) && !getenv("NO_COLOR"));
		else
			tg_summary_print(stderr, &res, isatty(2) && !getenv("NO_COLOR"));
		tg_reports_github(&res);
	}
	tg_set_child_identity(NULL); /* it points into S */
	tg_checks_free(s->checks);
	free(s->by_length);
	tg_record_free(s->rec);
	tg_cpu_profile_free(s->cpu);
	tg_heap_free(&s->heap_rep);
	tg_heap_snapshot_free(&s->heap_snap);
	tg_symbolizer_free(s->sz);
	for (size_t i = 0; i < s->nsteps; i++)
		tg_step_result_free(&s->steps[i]);
	free(s->steps);
	tg_poll_sites_free(&s->sites);
	tg_attach_close(&s->att);
	free(s->exe);
	if (s->have_baseline)
		tg_baseline_free(&s->baseline);
	if (s->have_spec)
		tg_spec_free(&s->spec);
	return s->status;
}

int tg_session_run(const struct tg_run_opts *o)
{
	struct session s = { .o = o, .target = { .gate_fd = -1, .exec_err_fd = -1 },
			     .sz_lock = PTHREAD_MUTEX_INITIALIZER, .attached = o->attach_pid > 0,
			     .att = { .pidfd = -1 }, .adhoc = o->command != NULL };

	s.phase_ns[TG_PHASE_START] = tg_now_ns();
	install_signals();
	tg_adopt_orphans(); /* a daemon the run leaves comes back to us to be stopped */
	/* before any probe exists: its pipe must be a lower fd than every BPF link.
	 * None for attach: the process outlives us whatever happens to us. */
	if (!s.attached && tg_watchdog_start())
		fprintf(stderr, "tokio-guard: warning: cannot start the watchdog (%s): if tokio-guard "
			"is killed, the target may outlive it\n", strerror(errno));
	tg_load_set_echo(!o->quiet);
	if (load_spec(&s) || resolve_user(&s) || find_target(&s) || interrupted(&s))
		return finish(&s);
	if (prepare_output(&s) || start_probe(&s) || interrupted(&s) || start_target(&s))
		return finish(&s);
	if (!run_steps(&s))
		run_until_end(&s);
	return finish(&s);
}
