/* Load steps: drive the target while it is probed. */
#define _GNU_SOURCE
#include "load.h"
#include "launch.h"
#include "spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MS (1000ull * 1000)
#define SEC (1000 * MS)
#define EXEC_TIMEOUT_DEFAULT (300 * SEC)
#define CHECK_EVERY (20 * MS)

static void set_error(struct tg_step_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap); /* a long message is cut, that's fine */
	va_end(ap);
}

static const char *kind_name(const struct tg_step *step)
{
	return step->kind == TG_STEP_EXEC ? "exec" : step->kind == TG_STEP_SLEEP ? "sleep" : "load";
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

static int start_exec(const struct tg_spec *spec, const struct tg_step *step,
		      struct tg_step_result *res, struct tg_target *child)
{
	char msg[sizeof res->error];
	char *exe;
	int rc;

	exe = tg_resolve_exe(step->argv[0], spec->dir);
	if (!exe) {
		rc = errno;
		set_error(res, "exec step '%s': %s: %s", step_name(step),
			 step->argv[0], rc == ENOENT ? "command not found" : strerror(rc));
		return -EIO;
	}
	/* no user env: the load tool runs in tokio-guard's environment */
	rc = tg_child_spawn(exe, step->argv, NULL, spec->dir, true, child, msg, sizeof msg);
	free(exe);
	if (rc == 0)
		rc = tg_target_release(child, msg, sizeof msg);
	if (rc < 0) {
		tg_target_stop(child, SIGKILL, 0);
		set_error(res, "exec step '%s': %s", step_name(step), msg);
		return -EIO;
	}
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
	uint64_t deadline = tg_now_ns() + timeout;
	struct tg_target child;
	char secs[32];
	int rc = 0;

	if (!step->argv || !step->argv[0]) {
		set_error(res, "exec step '%s' has no command",
			 step_name(step));
		return -EIO;
	}
	rc = start_exec(spec, step, res, &child);
	if (rc < 0)
		return rc;
	while (!tg_target_check_exit(&child) && rc == 0) {
		rc = interrupted(step, res, stop, alive, ctx);
		if (rc == 0 && tg_now_ns() >= deadline)
			rc = -ETIMEDOUT;
		else if (rc == 0)
			tg_nap(CHECK_EVERY);
	}
	if (rc == 0)
		return judge_exit(step, &child, res);
	/* the whole group: a load script's own children must not outlive it */
	tg_target_stop(&child, SIGKILL, 0);
	record_status(&child, res);
	if (rc != -ETIMEDOUT)
		return rc;
	tg_fmt_secs(timeout, secs, sizeof secs);
	set_error(res, "exec step '%s' timed out after %s", step_name(step),
		 secs);
	return -EIO;
}

int tg_run_step(const struct tg_spec *spec, const struct tg_step *step,
		struct tg_step_result *res, volatile sig_atomic_t *stop,
		tg_alive_fn alive, void *alive_ctx)
{
	int rc;

	memset(res, 0, sizeof *res);
	res->name = step->name;
	res->start_ns = tg_now_ns();
	if (step->kind == TG_STEP_EXEC) {
		rc = run_exec(spec, step, res, stop, alive, alive_ctx);
	} else if (step->kind == TG_STEP_SLEEP) {
		rc = run_sleep(step, res, stop, alive, alive_ctx);
	} else {
		set_error(res, "step '%s': unknown kind %d", step_name(step),
			 (int)step->kind);
		rc = -EIO;
	}
	res->end_ns = tg_now_ns();
	res->ok = rc == 0;
	return rc;
}
