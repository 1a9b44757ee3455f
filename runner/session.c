// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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
#include <time.h>
#include <unistd.h>

#include "session.h"
#include "launch.h"
#include "proc_tree.h"
#include "load.h"
#include "poll_sites.h"
#include "probe.h"
#include "progress.h"
#include "watchdog.h"
#include "record.h"
#include "results_json.h"
#include "checks.h"
#include "junit.h"
#include "trace.h"
#include "report_html.h"
#include "github.h"
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
	char out_dir[PATH_MAX];
	char results_path[PATH_MAX];
	char log_path[2][PATH_MAX]; /* target.stdout.log, target.stderr.log */
	char junit_path[PATH_MAX];
	char trace_path[PATH_MAX];
	char html_path[PATH_MAX];   /* "" when report.html is off */
	struct tg_identity id;      /* who the target and exec steps run as */
	bool progress;
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
	size_t nspans;
	bool unwind_dwarf;          /* probe.unwind, auto decided: copies unwound with CFI */
	pid_t unprobed[16];         /* forks of the target's program, or the daemon it became */
	size_t nunprobed;
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

static bool interrupted(struct session *s)
{
	if (!g_signal)
		return false;
	if (!s->status)
		fail(s, g_signal == SIGINT ? TG_EXIT_SIGINT : TG_EXIT_SIGTERM,
		     "interrupted by %s: stopping the target and writing reports",
		     g_signal == SIGINT ? "SIGINT" : "SIGTERM");
	return true;
}

/* ---- phases */

static int load_spec(struct session *s)
{
	static struct tg_spec_errors errs; /* 10 KiB: off the stack */
	char err[1024];

	if (tg_spec_load_all(s->o->spec_path, &s->spec, &errs)) {
		/* every mistake in one round, as check gives them; the first is the run's error */
		fail(s, TG_EXIT_USAGE, "%s", errs.msg[0]);
		if (errs.n > 1 || errs.more)
			tg_spec_errors_print(stderr, s->o->spec_path, &errs, 1);
		return -1;
	}
	s->have_spec = true;
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

static int find_target(struct session *s)
{
	const char *argv0 = s->spec.target.argv[0];
	char err[1024];
	int r;

	s->exe = tg_resolve_exe(argv0, s->spec.target.cwd);
	if (!s->exe)
		return fail(s, TG_EXIT_TARGET, "target %s not found (cwd %s): %s", argv0,
			    s->spec.target.cwd, strerror(errno));
	r = tg_find_task_sites(s->exe, &s->sites, err, sizeof(err));
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
	pthread_mutex_lock(&s->sz_lock);
	if (s->sz)
		tg_record_resolve(s->rec, s->sz);
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
			next_resolve = now + RESOLVE_EVERY_NS;
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

static int make_out_dir(struct session *s);
static void give(struct session *s, const char *path);

/* The output folder exists before the target starts: its logs go there. */
static int prepare_output(struct session *s)
{
	if (make_out_dir(s))
		return fail(s, TG_EXIT_ENV, "cannot create the output folder %s: %s", s->out_dir,
			    strerror(errno));
	give(s, s->out_dir);
	snprintf(s->log_path[0], sizeof(s->log_path[0]), "%.4000s/target.stdout.log", s->out_dir);
	snprintf(s->log_path[1], sizeof(s->log_path[1]), "%.4000s/target.stderr.log", s->out_dir);
	return 0;
}

static int start_probe(struct session *s)
{
	struct tg_target_opts to = {
		.id = &s->id,
		.stdout_log = s->log_path[0],
		.stderr_log = s->log_path[1],
		.echo = !s->o->quiet,
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
		.sched_delay = s->sched_delay,
		.unwind_dwarf = s->unwind_dwarf,
		.stack_copy = s->spec.probe.stack_copy_bytes,
	};
	char err[1024];

	if (tg_target_spawn_opts(&s->spec, s->exe, &to, &s->target, err, sizeof(err)))
		return fail(s, TG_EXIT_TARGET, "%s", err);
	s->spawned = true;
	tg_watchdog_arm(s->target.pid); /* its own process group */
	give(s, s->log_path[0]);
	give(s, s->log_path[1]);
	s->rec = tg_record_new(&s->sites, s->spec.probe.blocking_threshold_ns, s->spec.probe.sample_rate);
	if (!s->rec)
		return fail(s, TG_EXIT_ENV, "out of memory");
	tg_record_set_pid(s->rec, s->target.pid);
	tg_record_set_keep_slices(s->rec, s->spec.report.trace_max_polls);
	po.pid = s->target.pid;
	po.ctx = s->rec;
	if (tg_probe_open(&po, &s->probe, err, sizeof(err)))
		return fail(s, TG_EXIT_ENV, "%s", err);
	if (!s->o->quiet)
		fprintf(stderr, "tokio-guard: %zu poll sites in %s, %zu probes attached, sampling: %s, "
			"stacks: %s\n", s->sites.n, s->exe, tg_probe_attached(s->probe),
			tg_probe_sampler(s->probe),
			s->unwind_dwarf ? "dwarf (registers and stack copied, unwound with CFI)" :
					  "frame pointers");
	s->sampler = tg_probe_sampler(s->probe);
	s->probes_attached = tg_probe_attached(s->probe);
	s->phase_ns[TG_PHASE_ATTACHED] = tg_now_ns();
	return start_consumer(s);
}

/* Libraries loaded since the last look: mapped now, symbolized later. */
static void refresh_symbols(struct session *s)
{
	pthread_mutex_lock(&s->sz_lock);
	if (s->sz)
		tg_symbolizer_refresh(s->sz, s->target.pid);
	pthread_mutex_unlock(&s->sz_lock);
}

static int start_target(struct session *s)
{
	char err[1024];
	int r;

	s->t0_ns = tg_now_ns();
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
	s->phase_ns[TG_PHASE_READY] = tg_now_ns();
	return 0;
}

static bool target_alive(void *ctx)
{
	struct session *s = ctx;

	return !tg_target_check_exit(&s->target);
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

static void stop_target(struct session *s)
{
	char how[128], tail[2048] = "";
	bool died, not_ready = s->status == TG_EXIT_TARGET && strstr(s->error, "not ready after");

	if (s->progress) {
		tg_progress_stop();
		s->progress = false;
		g_progress_tty = false;
	}
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
	if (!s->probe)
		return;
	tg_probe_read_stats(s->probe, s->bpf_stats);
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

/* A report's path: the command line's FILE as given, else NAME inside DIR. */
static int report_path(char out[PATH_MAX], const char *file, const char *dir, const char *name)
{
	int n = file ? snprintf(out, PATH_MAX, "%s", file)
		     : snprintf(out, PATH_MAX, "%.2048s/%.1024s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int make_out_dir(struct session *s)
{
	const char *dir = s->o->out_dir ? s->o->out_dir : s->spec.report.dir;
	char tmp[PATH_MAX];

	snprintf(s->out_dir, sizeof(s->out_dir), "%s", dir);
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0755);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	if (report_path(s->results_path, s->o->results_file, s->out_dir, s->spec.report.results) ||
	    report_path(s->junit_path, s->o->junit_file, s->out_dir, s->spec.report.junit) ||
	    report_path(s->trace_path, s->o->trace_file, s->out_dir, s->spec.report.trace) ||
	    report_path(s->html_path, NULL, s->out_dir, s->spec.report.html ? s->spec.report.html : "")) {
		errno = ENAMETOOLONG;
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Output belongs to the user the target runs as (by default the one behind
 * sudo), not to root. */
static void give(struct session *s, const char *path)
{
	if (!s->id.set || geteuid() != 0 || !path[0])
		return;
	if (chown(path, s->id.uid, s->id.gid) && errno != ENOENT)
		fprintf(stderr, "tokio-guard: cannot give %s to %s: %s\n", path, s->id.name,
			strerror(errno));
}

static void fill_results(struct session *s, struct tg_results *res)
{
	static struct utsname uts;
	int st = s->target.status;

	uname(&uts);
	*res = (struct tg_results){
		.spec = &s->spec, .exe = s->exe, .pid = s->target.pid,
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
	if (s->target.exited && WIFSIGNALED(st))
		res->exit_signal = WTERMSIG(st);
	else if (s->target.exited)
		res->exit_code = WEXITSTATUS(st);
	memcpy(res->bpf_stats, s->bpf_stats, sizeof(res->bpf_stats));
	memcpy(res->phase_ns, s->phase_ns, sizeof(res->phase_ns));
	res->probes_attached = s->probes_attached;
}

/* Writes one report; PATH goes into *SHOWN (the summary lists it) when it worked. */
static void write_one(struct session *s, struct tg_results *res, const char *path,
		      const char **shown, int r, const char *err)
{
	if (r) {
		/* a run without its reports does not pass: exit 3, said in results.json too */
		if (s->status)
			fprintf(stderr, "tokio-guard: %s\n", err);
		else
			fail(s, TG_EXIT_ENV, "%s", err);
		res->status = s->status;
		res->error = s->error;
		return;
	}
	give(s, path);
	*shown = path;
}

/* A long run's memory budgets, when they left something out (results.json's probe.capped). */
static void note_caps(const struct tg_record_caps *c)
{
	if (c->slices_dropped)
		fprintf(stderr, "tokio-guard: note: kept the polls >= %.0fus for the trace in memory "
			"(%llu shorter ones left out)\n", (double)c->slice_floor_ns / 1e3,
			(unsigned long long)c->slices_dropped);
	if (c->spans_stackless || c->spans_dropped)
		fprintf(stderr, "tokio-guard: note: memory budget: %llu shorter blocking spans kept without "
			"stacks, %llu not kept (counted in the task statistics)\n",
			(unsigned long long)c->spans_stackless, (unsigned long long)c->spans_dropped);
}

static void write_reports(struct session *s, struct tg_results *res)
{
	struct tg_trace_stats ts = { 0 };
	char err[1024] = "";
	uint64_t capped;
	int r;

	if (make_out_dir(s)) {
		fprintf(stderr, "tokio-guard: cannot create %s: %s: no reports written\n", s->out_dir,
			strerror(errno));
		return;
	}
	give(s, s->out_dir);
	r = tg_junit_write(s->junit_path, res, err, sizeof(err));
	write_one(s, res, s->junit_path, &res->junit_path, r, err);
	r = s->rec ? tg_trace_write(s->trace_path, res, &ts, err, sizeof(err)) : -1;
	if (s->rec) /* nothing ran: no timeline to draw */
		write_one(s, res, s->trace_path, &res->trace_path, r, err);
	/* the record's own budget is noted below: only the file's is news here */
	capped = s->rec ? tg_record_caps(s->rec)->slices_dropped : 0;
	if (!r && ts.dropped > capped && !s->o->quiet)
		fprintf(stderr, "tokio-guard: note: the trace keeps polls >= %.0fus (%llu shorter ones left "
			"out to stay under %u MB; raise report.trace_min_poll to choose)\n",
			(double)ts.min_poll_ns / 1e3, (unsigned long long)(ts.dropped - capped),
			TG_TRACE_BUDGET_BYTES >> 20);
	if (s->rec && !s->o->quiet)
		note_caps(tg_record_caps(s->rec));
	/* results.json last: it names the other reports' outcome */
	r = tg_results_write(s->results_path, res, err, sizeof(err));
	write_one(s, res, s->results_path, &res->results_path, r, err);
	/* a view drawn from the files just written (as `report` rebuilds it): its
	 * failure costs the page, never the verdict results.json already holds */
	if (s->spec.report.html && s->spec.report.html[0] && res->results_path[0]) {
		r = tg_report_html_write(s->html_path, res->results_path, res->trace_path, err, sizeof(err));
		if (r)
			fprintf(stderr, "tokio-guard: warning: %s\n", err);
		else {
			give(s, s->html_path);
			res->html_path = s->html_path;
		}
	}
}

static void report_github(const struct tg_results *res)
{
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	char err[1024];

	if (!tg_github_active())
		return;
	tg_github_annotate(stdout, res);
	fflush(stdout);
	if (summary && summary[0] && tg_github_summary(summary, res, err, sizeof(err)))
		fprintf(stderr, "tokio-guard: %s\n", err);
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
	};
	if (s->rec) {
		s->tasks = tg_record_tasks(s->rec, &s->ntasks);
		in.fns = tg_record_fns(s->rec, &nfns);
		in.polls = tg_record_total_polls(s->rec);
		in.lost_events = tg_lost_events(s->bpf_stats, s->rec);
	}
	in.tasks = s->tasks;
	in.ntasks = s->ntasks;
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
	stop_target(s);
	tg_watchdog_stop(); /* the target is gone: not a stray */
	strays = tg_kill_strays(); /* before the probes' background release is spawned */
	if (strays)
		fprintf(stderr, "tokio-guard: warning: killed %zu process%s the target or load steps "
			"left behind (daemons outside their process group)\n", strays,
			strays == 1 ? "" : "es");
	phase(s, TG_PHASE_STOPPED);
	stop_probe(s);
	phase(s, TG_PHASE_DETACHED);
	/* A bad spec has nothing to report on; anything later does, even a
	 * target that never started: the CI's test view must say why. */
	if (s->have_spec && s->status != TG_EXIT_USAGE) {
		struct tg_results res;

		if (s->rec)
			check_observed(s);
		if (s->rec && s->sz)
			tg_record_resolve(s->rec, s->sz);
		evaluate(s);
		phase(s, TG_PHASE_RESOLVED);
		fill_results(s, &res);
		write_reports(s, &res);
		if (s->o->quiet) /* quiet hides the chatter, never the verdict */
			tg_summary_print_verdict(stderr, &res, isatty(2) && !getenv("NO_COLOR"));
		else
			tg_summary_print(stderr, &res, isatty(2) && !getenv("NO_COLOR"));
		report_github(&res);
	}
	tg_set_child_identity(NULL); /* it points into S */
	tg_checks_free(s->checks);
	free(s->by_length);
	tg_record_free(s->rec);
	tg_symbolizer_free(s->sz);
	for (size_t i = 0; i < s->nsteps; i++)
		tg_step_result_free(&s->steps[i]);
	free(s->steps);
	tg_poll_sites_free(&s->sites);
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
			     .sz_lock = PTHREAD_MUTEX_INITIALIZER };

	s.phase_ns[TG_PHASE_START] = tg_now_ns();
	install_signals();
	tg_adopt_orphans(); /* a daemon the run leaves comes back to us to be stopped */
	/* before any probe exists: its pipe must be a lower fd than every BPF link */
	if (tg_watchdog_start())
		fprintf(stderr, "tokio-guard: warning: cannot start the watchdog (%s): if tokio-guard "
			"is killed, the target may outlive it\n", strerror(errno));
	tg_load_set_echo(!o->quiet);
	if (load_spec(&s) || resolve_user(&s) || find_target(&s) || interrupted(&s))
		return finish(&s);
	if (prepare_output(&s) || start_probe(&s) || interrupted(&s) || start_target(&s))
		return finish(&s);
	run_steps(&s);
	return finish(&s);
}
