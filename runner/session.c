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
#include "load.h"
#include "poll_sites.h"
#include "probe.h"
#include "progress.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "symbolize.h"

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
	struct tg_step_result *steps;
	size_t nsteps;
	uint64_t t0_ns, t_end_ns;
	uint64_t bpf_stats[TG_STAT__COUNT];
	const char *sampler;
	int status;
	char error[1024];
	char out_dir[PATH_MAX];
	char results_path[PATH_MAX];
	char log_path[2][PATH_MAX]; /* target.stdout.log, target.stderr.log */
	struct tg_identity id;      /* who the target and exec steps run as */
	bool progress;
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
	char err[1024];

	if (tg_spec_load(s->o->spec_path, &s->spec, err, sizeof(err)))
		return fail(s, TG_EXIT_USAGE, "%s", err);
	s->have_spec = true;
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
	r = tg_find_poll_sites(s->exe, &s->sites, err, sizeof(err));
	if (r)
		return fail(s, r == -ENOENT || r == -ENOEXEC ? TG_EXIT_ENV : TG_EXIT_TARGET, "%s", err);
	if (!s->sites.frame_pointers)
		fprintf(stderr, "tokio-guard: warning: %s seems built without frame pointers: stacks and "
			"culprits will be incomplete; build it with RUSTFLAGS=\"-C force-frame-pointers=yes\"\n",
			s->exe);
	if (!s->sites.has_dwarf)
		fprintf(stderr, "tokio-guard: note: %s has no debug info: no file:line in stacks; "
			"keep line tables ([profile.release] debug = \"line-tables-only\")\n", s->exe);
	if (s->o->verbose) {
		for (size_t i = 0; i < s->sites.n; i++)
			fprintf(stderr, "tokio-guard: poll site %#llx %s %s (named by %s)\n",
				(unsigned long long)s->sites.v[i].addr, s->sites.v[i].task_name,
				s->sites.v[i].kind == TG_SITE_BLOCKING ? "[blocking pool]" : "",
				s->sites.v[i].named_by);
	}
	return 0;
}

static void *consume(void *arg)
{
	struct session *s = arg;

	while (!atomic_load(&s->consumer_stop))
		tg_probe_poll(s->probe, 100);
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
		.on_event = tg_record_on_event,
	};
	char err[1024];

	if (tg_target_spawn_opts(&s->spec, s->exe, &to, &s->target, err, sizeof(err)))
		return fail(s, TG_EXIT_TARGET, "%s", err);
	s->spawned = true;
	give(s, s->log_path[0]);
	give(s, s->log_path[1]);
	s->rec = tg_record_new(&s->sites, s->spec.probe.blocking_threshold_ns, s->spec.probe.sample_rate);
	if (!s->rec)
		return fail(s, TG_EXIT_ENV, "out of memory");
	po.pid = s->target.pid;
	po.ctx = s->rec;
	if (tg_probe_open(&po, &s->probe, err, sizeof(err)))
		return fail(s, TG_EXIT_ENV, "%s", err);
	if (!s->o->quiet)
		fprintf(stderr, "tokio-guard: %zu poll sites in %s, %zu probes attached, sampling: %s\n",
			s->sites.n, s->exe, tg_probe_attached(s->probe), tg_probe_sampler(s->probe));
	s->sampler = tg_probe_sampler(s->probe);
	return start_consumer(s);
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
	s->sz = tg_symbolizer_new(s->target.pid);
	r = tg_target_wait_ready(&s->target, &s->spec, &g_signal, err, sizeof(err));
	if (interrupted(s)) /* -EINTR comes only from a signal */
		return -1;
	if (r)
		return fail(s, TG_EXIT_TARGET, "%s", err);
	if (s->sz)
		tg_symbolizer_refresh(s->sz, s->target.pid);
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
	if (s->sz && !tg_target_check_exit(&s->target))
		tg_symbolizer_refresh(s->sz, s->target.pid);
	died = tg_target_check_exit(&s->target) && s->target.gate_fd < 0;
	if (not_ready) /* before our stop signal makes it say more */
		tg_target_stderr_tail(&s->target, tail, sizeof(tail), 10);
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
}

static void stop_probe(struct session *s)
{
	struct tg_site_stats *st;

	if (s->consuming) {
		atomic_store(&s->consumer_stop, true);
		pthread_join(s->consumer, NULL);
		s->consuming = false;
	}
	if (!s->probe)
		return;
	tg_probe_read_stats(s->probe, s->bpf_stats);
	st = malloc(sizeof(*st));
	for (uint32_t i = 0; st && i < s->sites.n; i++)
		if (tg_probe_read_site(s->probe, i, st) == 0)
			tg_record_set_site_stats(s->rec, i, st);
	free(st);
	tg_probe_close(s->probe);
	s->probe = NULL;
}

static int make_out_dir(struct session *s)
{
	const char *dir = s->o->out_dir ? s->o->out_dir : s->spec.report.dir;
	char tmp[PATH_MAX];
	int n;

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
	if (s->o->results_file)
		n = snprintf(s->results_path, sizeof(s->results_path), "%s", s->o->results_file);
	else
		n = snprintf(s->results_path, sizeof(s->results_path), "%.2048s/%.1024s", s->out_dir,
			     s->spec.report.results);
	if (n < 0 || (size_t)n >= sizeof(s->results_path)) {
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
	int st = s->target.status;

	*res = (struct tg_results){
		.spec = &s->spec, .exe = s->exe, .pid = s->target.pid,
		.exited = s->target.exited, .poll_sites = s->sites.n,
		.tokio_version = s->sites.tokio_version, .t0_ns = s->t0_ns,
		.duration_s = s->t_end_ns > s->t0_ns ? (double)(s->t_end_ns - s->t0_ns) / 1e9 : 0,
		.record = s->rec, .steps = s->steps, .nsteps = s->nsteps,
		.status = s->status, .error = s->status ? s->error : NULL,
		.sampler = s->sampler, .frame_pointers = s->sites.frame_pointers,
	};
	if (s->target.exited && WIFSIGNALED(st))
		res->exit_signal = WTERMSIG(st);
	else if (s->target.exited)
		res->exit_code = WEXITSTATUS(st);
	memcpy(res->bpf_stats, s->bpf_stats, sizeof(res->bpf_stats));
}

static void write_reports(struct session *s, const struct tg_results *res)
{
	char err[1024];

	if (make_out_dir(s)) {
		fprintf(stderr, "tokio-guard: cannot create %s: %s: no reports written\n", s->out_dir,
			strerror(errno));
		return;
	}
	give(s, s->out_dir);
	if (tg_results_write(s->results_path, res, err, sizeof(err)))
		fprintf(stderr, "tokio-guard: %s\n", err);
	else
		give(s, s->results_path);
}

static void print_summary(struct session *s, const struct tg_results *res)
{
	size_t nspans = 0, ntasks = 0;
	const struct tg_span *sp = tg_record_spans(s->rec, &nspans);
	uint64_t lost = tg_results_lost_events(res);
	char d[32];

	if (lost)
		fprintf(stderr, "tokio-guard: warning: %llu events lost (ring buffer full or memory caps): "
			"spans may be missing; see probe.stats in results.json\n", (unsigned long long)lost);
	const struct tg_task_summary *t = tg_record_tasks(s->rec, &ntasks);
	size_t polled = 0;

	for (size_t i = 0; t && i < ntasks; i++)
		polled += !t[i].blocking_pool && t[i].polls > 0;
	fprintf(stderr, "tokio-guard: %llu polls of %zu task types, %zu blocking spans, %llu events lost\n",
		(unsigned long long)tg_record_total_polls(s->rec), polled, nspans,
		(unsigned long long)lost);
	for (size_t i = 0; i < nspans && i < 10; i++) {
		const struct tg_frame *c = sp[i].culprit >= 0 ? &sp[i].frames[sp[i].culprit] : NULL;

		tg_format_duration(sp[i].poll.duration_ns, d, sizeof(d));
		fprintf(stderr, "  %8s %-7s %s  at %s (%s:%d)\n", d,
			sp[i].poll.off_cpu_ns > sp[i].on_cpu_ns ? "off-CPU" : "on-CPU",
			tg_record_site_name(s->rec, sp[i].poll.site), c ? c->function : "?",
			c && c->file ? c->file : "?", c ? c->line : 0);
	}
}

/* Exit 3 when the probes were attached and saw nothing: never a silent pass. */
static void check_observed(struct session *s)
{
	if (tg_record_total_polls(s->rec) == 0)
		fail(s, TG_EXIT_ENV, "probes attached to %zu poll sites but observed no task polls "
		     "(did the load reach the target?)", s->sites.n);
}

static int finish(struct session *s)
{
	stop_target(s);
	stop_probe(s);
	if (s->rec) {
		struct tg_results res;

		check_observed(s);
		if (s->sz)
			tg_record_resolve(s->rec, s->sz);
		fill_results(s, &res);
		if (!s->o->quiet)
			print_summary(s, &res);
		write_reports(s, &res);
		if (!s->o->quiet)
			fprintf(stderr, "tokio-guard: results in %s\n", s->results_path);
	}
	tg_set_child_identity(NULL); /* it points into S */
	tg_record_free(s->rec);
	tg_symbolizer_free(s->sz);
	for (size_t i = 0; i < s->nsteps; i++)
		tg_step_result_free(&s->steps[i]);
	free(s->steps);
	tg_poll_sites_free(&s->sites);
	free(s->exe);
	if (s->have_spec)
		tg_spec_free(&s->spec);
	return s->status;
}

int tg_session_run(const struct tg_run_opts *o)
{
	struct session s = { .o = o, .target = { .gate_fd = -1, .exec_err_fd = -1 } };

	install_signals();
	if (load_spec(&s) || resolve_user(&s) || find_target(&s) || interrupted(&s))
		return finish(&s);
	if (prepare_output(&s) || start_probe(&s) || interrupted(&s) || start_target(&s))
		return finish(&s);
	run_steps(&s);
	return finish(&s);
}
