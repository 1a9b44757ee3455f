/* Load steps: drive the target while it is probed. */
#define _GNU_SOURCE
#include "load.h"
#include "launch.h"
#include "load_http.h"
#include "load_tcp.h"
#include "hist_layout.h"
#include "requests.h"
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS (1000ull * 1000)
#define SEC (1000 * MS)
#define EXEC_TIMEOUT_DEFAULT (300 * SEC)
#define REQ_TIMEOUT_DEFAULT (10 * SEC)
#define CHECK_EVERY (20 * MS)
#define OPEN_CAP_DEFAULT 1000
#define OUTPUT_MAX (64 * 1024)

extern char **environ;

static void set_error(struct tg_step_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap); /* a long message is cut, that's fine */
	va_end(ap);
}

static const char *kind_name(const struct tg_step *step)
{
	switch (step->kind) {
	case TG_STEP_EXEC: return "exec";
	case TG_STEP_SLEEP: return "sleep";
	case TG_STEP_HTTP: return "http";
	case TG_STEP_TCP: return "tcp";
	case TG_STEP_PARALLEL: return "parallel";
	}
	return "load";
}

static const char *step_name(const struct tg_step *step)
{
	return step->name ? step->name : kind_name(step);
}

static int interrupted(const struct tg_step *step, struct tg_step_result *res,
		       volatile sig_atomic_t *stop, tg_alive_fn alive, void *ctx)
{
	if (stop && *stop) {
		set_error(res, "%s step '%s' interrupted", kind_name(step),
			 step_name(step));
		return -EINTR;
	}
	if (alive && !alive(ctx)) {
		set_error(res, "%s step '%s' stopped: the target exited",
			 kind_name(step), step_name(step));
		return -ECHILD;
	}
	return 0;
}

void tg_step_result_free(struct tg_step_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nchildren; i++)
		tg_step_result_free(&res->children[i]);
	free(res->children);
	free(res->latency_hist);
	free(res->output);
	res->children = NULL;
	res->nchildren = 0;
	res->latency_hist = NULL;
	res->output = NULL;
}

/* ---- sleep ---- */

static int run_sleep(const struct tg_step *step, struct tg_step_result *res,
		     volatile sig_atomic_t *stop, tg_alive_fn alive, void *ctx)
{
	uint64_t end = tg_now_ns() + step->sleep_ns;

	for (;;) {
		int rc = interrupted(step, res, stop, alive, ctx);
		uint64_t now = tg_now_ns();

		if (rc || now >= end)
			return rc;
		tg_nap(end - now < CHECK_EVERY ? end - now : CHECK_EVERY);
	}
}

/* ---- traffic (http, tcp): one scheduler, the transport does the I/O ---- */

struct sched {
	struct tg_step_result *res;
	uint64_t *intended;  /* per slot: when its request should have started */
	unsigned *free;      /* stack of free slots */
	unsigned nfree;
	unsigned inflight;
};

static void record_request(struct tg_step_result *res, uint64_t lat, int kind)
{
	tg_progress_add_requests(1, kind >= 0 && kind < TG_LERR__COUNT);
	res->requests++;
	if (kind >= 0 && kind < TG_LERR__COUNT) {
		res->errors++;
		res->errors_by_kind[kind]++;
	}
	if (kind == TG_LERR_CONNECT)
		return; /* never reached the target: its latency says nothing */
	res->latency_hist[tg_hist_bucket(lat)]++;
	if (lat > res->latency_max_ns)
		res->latency_max_ns = lat;
}

static void on_done(void *ctx, unsigned slot, int kind)
{
	struct sched *s = ctx;
	uint64_t now = tg_now_ns(), t = s->intended[slot];

	record_request(s->res, now > t ? now - t : 0, kind);
	s->free[s->nfree++] = slot;
	s->inflight--;
}

static uint64_t due_at(uint64_t t0, double rate, uint64_t i)
{
	return t0 + (uint64_t)((double)i * 1e9 / rate);
}

static int run_traffic(const struct tg_step *step, struct tg_step_result *res,
		       volatile sig_atomic_t *stop, tg_alive_fn alive, void *actx,
		       const struct tg_xport_ops *ops, uint64_t timeout)
{
	const struct tg_traffic *tr = &step->traffic;
	bool open = tr->rate_per_s > 0;
	unsigned nslots = tr->concurrency ? tr->concurrency : open ? OPEN_CAP_DEFAULT : 1;
	uint64_t limit = tr->requests, issued = 0, t0, end, next_check = 0;
	struct sched s = { .res = res };
	char msg[200];
	void *x = NULL;
	int rc = 0;

	if (!tr->duration_ns && !tr->requests) {
		set_error(res, "%s step '%s' needs duration or requests", kind_name(step),
			 step_name(step));
		return -EIO;
	}
	if (!timeout)
		timeout = REQ_TIMEOUT_DEFAULT;
	res->latency_hist = calloc(TG_HIST_BUCKETS, sizeof *res->latency_hist);
	s.intended = calloc(nslots, sizeof *s.intended);
	s.free = calloc(nslots, sizeof *s.free);
	if (!res->latency_hist || !s.intended || !s.free) {
		set_error(res, "%s step '%s': out of memory", kind_name(step), step_name(step));
		rc = -EIO;
		goto out;
	}
	for (unsigned i = 0; i < nslots; i++)
		s.free[s.nfree++] = nslots - 1 - i;
	rc = ops->open(&x, step, nslots, on_done, &s, msg, sizeof msg);
	if (rc < 0) {
		set_error(res, "%s step '%s': %s", kind_name(step), step_name(step), msg);
		rc = -EIO;
		goto out;
	}
	t0 = tg_now_ns();
	end = tr->duration_ns ? t0 + tr->duration_ns : UINT64_MAX;
	for (;;) {
		uint64_t now = tg_now_ns(), wait = CHECK_EVERY, due = now;
		bool starting = true;

		if (now >= next_check) {
			rc = interrupted(step, res, stop, alive, actx);
			if (rc)
				break;
			next_check = now + CHECK_EVERY;
		}
		for (;;) {
			if (limit && issued >= limit) {
				starting = false;
				break;
			}
			due = open ? due_at(t0, tr->rate_per_s, issued) : now;
			if (due >= end || (!open && now >= end)) {
				starting = false;
				break;
			}
			if (due > now)
				break;
			if (s.nfree == 0) {
				/* open model, all slots busy: the request waits for one, late,
				 * its latency counted from when it was due; once it is
				 * a timeout late, it is one */
				if (open && now - due >= timeout) {
					record_request(res, now - due, TG_LERR_TIMEOUT);
					issued++;
					continue;
				}
				break;
			}
			unsigned slot = s.free[--s.nfree];

			s.intended[slot] = due;
			s.inflight++;
			issued++;
			ops->start(x, slot);
			now = tg_now_ns();
		}
		if (!starting && s.inflight == 0)
			break;
		if (starting && open && s.nfree > 0)
			wait = due > now ? (due - now < wait ? due - now : wait) : 0;
		ops->wait(x, wait);
	}
out:
	if (x)
		ops->close(x);
	free(s.intended);
	free(s.free);
	return rc;
}

/* A traffic step that never got one good response did not load the target:
 * the step fails (exit 4), naming the errors by kind and where they went. */
static int judge_traffic(const struct tg_step *step, struct tg_step_result *res)
{
	char kinds[200], expected[32] = "";
	bool v6 = step->tcp.host && strchr(step->tcp.host, ':');

	if (res->requests > res->errors)
		return 0;
	if (!res->requests) {
		set_error(res, "%s step '%s' finished no request", kind_name(step), step_name(step));
		return -EIO;
	}
	tg_load_errors_text(res, kinds, sizeof kinds);
	if (res->errors_by_kind[TG_LERR_STATUS] && step->kind == TG_STEP_HTTP)
		snprintf(expected, sizeof expected, step->http.expect_status ? " (expected %d)" :
			 " (expected 2xx)", step->http.expect_status);
	if (step->kind == TG_STEP_HTTP)
		set_error(res, "%s step '%s' got no successful response: %s%s to %s", kind_name(step),
			  step_name(step), kinds, expected, step->http.url ? step->http.url : "?");
	else
		set_error(res, "%s step '%s' got no successful response: %s to %s%s%s:%s", kind_name(step),
			  step_name(step), kinds, v6 ? "[" : "", step->tcp.host ? step->tcp.host : "?",
			  v6 ? "]" : "", step->tcp.port ? step->tcp.port : "?");
	return -EIO;
}

/* ---- exec: no shell, own process group, output kept and forwarded ---- */

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct tail {
	char *buf;
	size_t len, cap;
};

static void tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= OUTPUT_MAX) {
		p += n - OUTPUT_MAX;
		n = OUTPUT_MAX;
	}
	if (t->len + n > t->cap) {
		size_t keep = OUTPUT_MAX - n;

		if (t->len > keep) {
			memmove(t->buf, t->buf + t->len - keep, keep);
			t->len = keep;
		}
		if (t->len + n > t->cap) {
			size_t cap = t->cap ? t->cap : 4096;
			char *b;

			while (cap < t->len + n)
				cap *= 2;
			if (cap > 2 * OUTPUT_MAX)
				cap = 2 * OUTPUT_MAX;
			b = realloc(t->buf, cap + 1);
			if (!b)
				return;
			t->buf = b;
			t->cap = cap;
		}
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static bool g_echo = true;

void tg_load_set_echo(bool on)
{
	g_echo = on;
}

/* Reads what is there (waiting at most WAIT_MS for it); false at EOF. */
static bool pump_output(int fd, struct tail *t, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[16384];

	if (fd < 0) {
		if (wait_ms > 0)
			tg_nap((uint64_t)wait_ms * MS);
		return false;
	}
	if (poll(&p, 1, wait_ms) <= 0)
		return true;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		if (g_echo)
			write_all(2, buf, (size_t)n);
		tail_add(t, buf, (size_t)n);
	}
}

/* The exec step's child, its stdout and stderr into a pipe whose read end
 * (non-blocking) is *OUT: spawned like the target (launch.c). */
static int spawn_exec(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		      struct tg_target *t, int *out, char *err, size_t errlen)
{
	int op[2], r;

	*out = -1;
	if (pipe2(op, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot start %s: %s", exe, strerror(-r));
		return r;
	}
	r = tg_child_spawn_output(exe, argv, envp, cwd, op[1], t, err, errlen);
	close(op[1]);
	if (r) {
		close(op[0]);
		return r;
	}
	fcntl(op[0], F_SETFL, fcntl(op[0], F_GETFL) | O_NONBLOCK);
	*out = op[0];
	return 0;
}

static void record_status(const struct tg_target *child, struct tg_step_result *res)
{
	res->exit_code = WIFEXITED(child->status) ? WEXITSTATUS(child->status) : -1;
	res->signal = WIFSIGNALED(child->status) ? WTERMSIG(child->status) : 0;
}

static int judge_exit(const struct tg_step *step, const struct tg_target *child,
		      struct tg_step_result *res)
{
	char how[64];

	record_status(child, res);
	if (WIFEXITED(child->status) && WEXITSTATUS(child->status) == 0)
		return 0;
	tg_describe_status(child->status, how, sizeof how);
	set_error(res, "exec step '%s' %s", step_name(step), how);
	return -EIO;
}

static int run_exec(const struct tg_spec *spec, const struct tg_step *step,
		    struct tg_step_result *res, volatile sig_atomic_t *stop, tg_alive_fn alive,
		    void *ctx)
{
	uint64_t timeout = step->timeout_ns ? step->timeout_ns : EXEC_TIMEOUT_DEFAULT;
	uint64_t deadline = tg_now_ns() + timeout, drain_end;
	const char *cwd = step->cwd ? step->cwd : spec->dir;
	struct tg_target child;
	struct tail out = { 0 };
	char msg[sizeof res->error], secs[32];
	char **envp = NULL, *exe;
	int rc = 0, fd = -1;

	if (!step->argv || !step->argv[0]) {
		set_error(res, "exec step '%s' has no command",
			 step_name(step));
		return -EIO;
	}
	exe = tg_resolve_exe(step->argv[0], cwd);
	if (!exe) {
		rc = errno;
		set_error(res, "exec step '%s': %s: %s", step_name(step),
			 step->argv[0], rc == ENOENT ? "command not found" : strerror(rc));
		return -EIO;
	}
	envp = tg_build_env(step->env);
	if (!envp) {
		free(exe);
		set_error(res, "exec step '%s': out of memory", step_name(step));
		return -EIO;
	}
	rc = spawn_exec(exe, step->argv, envp, cwd, &child, &fd, msg, sizeof msg);
	free(exe);
	free(envp);
	if (rc < 0) {
		set_error(res, "exec step '%s': %s", step_name(step), msg);
		return -EIO;
	}
	rc = 0;
	while (!tg_target_check_exit(&child) && rc == 0) {
		rc = interrupted(step, res, stop, alive, ctx);
		if (rc == 0 && tg_now_ns() >= deadline)
			rc = -ETIMEDOUT;
		else if (rc == 0 && !pump_output(fd, &out, (int)(CHECK_EVERY / MS))) {
			if (fd >= 0)
				close(fd); /* EOF: the tool closed its output, it may still run */
			fd = -1;
		}
	}
	if (rc != 0) {
		/* the whole group: a load script's own children must not outlive it */
		tg_target_stop(&child, SIGKILL, 0);
		record_status(&child, res);
	}
	/* what is left in the pipe; a grandchild that left the group may hold it open */
	drain_end = tg_now_ns() + 200 * MS;
	while (fd >= 0 && tg_now_ns() < drain_end && pump_output(fd, &out, 20))
		;
	if (fd >= 0)
		close(fd);
	if (out.buf) {
		out.buf[out.len] = '\0';
		res->output = out.buf;
	}
	if (rc == 0)
		return judge_exit(step, &child, res);
	if (rc != -ETIMEDOUT)
		return rc;
	tg_fmt_secs(timeout, secs, sizeof secs);
	set_error(res, "exec step '%s' timed out after %s", step_name(step),
		 secs);
	return -EIO;
}

/* ---- parallel: one thread per child ---- */

struct par_child {
	const struct tg_spec *spec;
	const struct tg_step *step;
	struct tg_step_result *res;
	volatile sig_atomic_t *stop;
	pthread_t thread;
	bool started;
	int rc;
	volatile sig_atomic_t done;
};

static void *par_main(void *arg)
{
	struct par_child *c = arg;

	/* only the group's thread asks ALIVE: it reaps the target, one caller at a time */
	c->rc = tg_run_step(c->spec, c->step, c->res, c->stop, NULL, NULL);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sum_child(struct tg_step_result *res, const struct tg_step_result *c)
{
	res->requests += c->requests;
	res->errors += c->errors;
	for (int k = 0; k < TG_LERR__COUNT; k++)
		res->errors_by_kind[k] += c->errors_by_kind[k];
	if (c->latency_max_ns > res->latency_max_ns)
		res->latency_max_ns = c->latency_max_ns;
	if (!c->latency_hist)
		return;
	if (!res->latency_hist)
		res->latency_hist = calloc(TG_HIST_BUCKETS, sizeof *res->latency_hist);
	for (size_t b = 0; res->latency_hist && b < TG_HIST_BUCKETS; b++)
		res->latency_hist[b] += c->latency_hist[b];
}

static int run_parallel(const struct tg_spec *spec, const struct tg_step *step,
			struct tg_step_result *res, volatile sig_atomic_t *stop,
			tg_alive_fn alive, void *ctx)
{
	size_t n = step->nchildren;
	volatile sig_atomic_t group_stop = 0;
	struct par_child *c;
	int rc = 0, first_fail = -1;

	res->children = calloc(n ? n : 1, sizeof *res->children);
	c = calloc(n ? n : 1, sizeof *c);
	if (!res->children || !c) {
		free(c);
		set_error(res, "parallel step '%s': out of memory", step_name(step));
		return -EIO;
	}
	res->nchildren = n;
	for (size_t i = 0; i < n; i++) {
		c[i] = (struct par_child){ spec, &step->children[i], &res->children[i], &group_stop };
		res->children[i].name = step->children[i].name;
		res->children[i].kind = step->children[i].kind;
		if (pthread_create(&c[i].thread, NULL, par_main, &c[i]) != 0) {
			set_error(res, "parallel step '%s': cannot start a thread", step_name(step));
			rc = -EIO;
			break;
		}
		c[i].started = true;
	}
	for (;;) {
		bool all = true;

		for (size_t i = 0; i < n; i++)
			all = all && (!c[i].started || __atomic_load_n(&c[i].done, __ATOMIC_ACQUIRE));
		if (all)
			break;
		if (rc == 0)
			rc = interrupted(step, res, stop, alive, ctx);
		if (rc != 0)
			group_stop = 1;
		tg_nap(CHECK_EVERY / 4);
	}
	for (size_t i = 0; i < n; i++) {
		if (!c[i].started)
			continue;
		pthread_join(c[i].thread, NULL);
		sum_child(res, &res->children[i]);
		if (c[i].rc != 0 && first_fail < 0)
			first_fail = (int)i;
	}
	if (rc == 0 && first_fail >= 0) {
		set_error(res, "parallel step '%s': %s", step_name(step),
			 res->children[first_fail].error);
		rc = c[first_fail].rc == -EINTR || c[first_fail].rc == -ECHILD ? c[first_fail].rc : -EIO;
	}
	free(c);
	return rc;
}

int tg_run_step(const struct tg_spec *spec, const struct tg_step *step,
		struct tg_step_result *res, volatile sig_atomic_t *stop,
		tg_alive_fn alive, void *alive_ctx)
{
	int rc;

	memset(res, 0, sizeof *res);
	res->name = step->name;
	res->kind = step->kind;
	res->start_ns = tg_now_ns();
	switch (step->kind) {
	case TG_STEP_EXEC:
		rc = run_exec(spec, step, res, stop, alive, alive_ctx);
		break;
	case TG_STEP_SLEEP:
		rc = run_sleep(step, res, stop, alive, alive_ctx);
		break;
	case TG_STEP_HTTP:
		rc = run_traffic(step, res, stop, alive, alive_ctx, &tg_xport_http,
				 step->http.timeout_ns);
		if (rc == 0)
			rc = judge_traffic(step, res);
		break;
	case TG_STEP_TCP:
		rc = run_traffic(step, res, stop, alive, alive_ctx, &tg_xport_tcp,
				 step->tcp.timeout_ns);
		if (rc == 0)
			rc = judge_traffic(step, res);
		break;
	case TG_STEP_PARALLEL:
		rc = run_parallel(spec, step, res, stop, alive, alive_ctx);
		break;
	default:
		set_error(res, "step '%s': unknown kind %d", step_name(step),
			 (int)step->kind);
		rc = -EIO;
	}
	res->end_ns = tg_now_ns();
	if (res->end_ns > res->start_ns && res->requests)
		res->throughput_per_s = (double)res->requests * 1e9 / (double)(res->end_ns - res->start_ns);
	res->ok = rc == 0;
	return rc;
}
