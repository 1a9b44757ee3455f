/* launch.c and load.c against real processes: no BPF, no root. Timing
 * assertions are generous upper bounds: the machine is shared. One file
 * over 1000 lines on purpose: its cases share the child-process fixtures
 * (spawn, gate, reap) that each would otherwise carry. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "load.h"
#include "progress.h"
#include "requests.h"
#include "spec.h"

#include <pwd.h>

#define MS (1000ull * 1000)
#define SEC (1000 * MS)

static char tmpdir[256];

/* ---- helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
	return buf[i];
}

static bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

/* Waits for a file the child writes; its content as a pid. */
static pid_t wait_pid_file(const char *path)
{
	char buf[64];

	for (int i = 0; i < 500; i++) {
		if (read_file(path, buf, sizeof buf) && strchr(buf, '\n'))
			return (pid_t)atoi(buf);
		sleep_ms(10);
	}
	return -1;
}

/* pid 1 here may not reap orphans: a zombie counts as gone. */
static bool proc_alive(pid_t pid, pid_t *pgrp)
{
	char path[64], buf[512], *p;
	char state;
	int ppid, grp;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!read_file(path, buf, sizeof buf))
		return false;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &grp) != 3)
		return false;
	if (pgrp)
		*pgrp = grp;
	return state != 'Z' && state != 'X';
}

static bool group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool any = false;

	assert_non_null(d);
	while (!any && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name), grp;

		if (pid > 0 && proc_alive(pid, &grp) && grp == pgid)
			any = true;
	}
	closedir(d);
	return any;
}

/* Death after SIGKILL is asynchronous for grandchildren: allow a moment. */
static bool gone_soon(pid_t pid, bool group)
{
	for (int i = 0; i < 300; i++) {
		if (!(group ? group_alive(pid) : proc_alive(pid, NULL)))
			return true;
		sleep_ms(10);
	}
	return false;
}

static bool wait_exit(struct tg_target *t, unsigned ms)
{
	for (unsigned i = 0; i < ms / 10; i++) {
		if (tg_target_check_exit(t))
			return true;
		sleep_ms(10);
	}
	return tg_target_check_exit(t);
}

static char *sh_argv[4];

static void make_spec(struct tg_spec *spec, const char *script, char **env)
{
	memset(spec, 0, sizeof *spec);
	sh_argv[0] = "sh";
	sh_argv[1] = "-c";
	sh_argv[2] = (char *)script;
	sh_argv[3] = NULL;
	spec->dir = tmpdir;
	spec->target.argv = sh_argv;
	spec->target.cwd = tmpdir;
	spec->target.env = env;
	spec->target.stop.signal = SIGTERM;
	spec->target.stop.grace_ns = 5 * SEC;
}

static void spawn_sh(struct tg_spec *spec, struct tg_target *t, const char *script)
{
	char err[256] = "";
	char *exe = tg_resolve_exe("sh", NULL);

	make_spec(spec, script, NULL);
	assert_non_null(exe);
	assert_int_equal(tg_target_spawn(spec, exe, t, err, sizeof err), 0);
	free(exe);
}

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void remove_tree(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlink(tmp_path(e->d_name));
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tg-launch-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* compare against what getcwd reports in the child */
	char *real = realpath(tmpdir, NULL);
	snprintf(tmpdir, sizeof tmpdir, "%s", real);
	free(real);
	return 0;
}

static int teardown(void **state)
{
	remove_tree();
	return 0;
}

/* ---- resolve ---- */

static void test_resolve_path_search(void **state)
{
	char *p = tg_resolve_exe("sh", "/");

	assert_non_null(p);
	assert_true(p[0] == '/');
	assert_int_equal(access(p, X_OK), 0);
	free(p);
}

static void test_resolve_relative_to_cwd(void **state)
{
	char *p;
	int fd = open(tmp_path("tool"), O_CREAT | O_WRONLY | O_TRUNC, 0755);

	assert_true(fd >= 0);
	close(fd);
	p = tg_resolve_exe("./tool", tmpdir);
	assert_non_null(p);
	assert_string_equal(p, tmp_path("tool"));
	free(p);
}

static void test_resolve_errors(void **state)
{
	int fd = open(tmp_path("plain"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_null(tg_resolve_exe("tg-no-such-command-xyz", tmpdir));
	assert_int_equal(errno, ENOENT);
	assert_null(tg_resolve_exe("./plain", tmpdir));
	assert_int_equal(errno, EACCES);
	assert_null(tg_resolve_exe(tmpdir, "/")); /* a directory */
	assert_int_equal(errno, EACCES);
	assert_null(tg_resolve_exe("", tmpdir));
	assert_int_equal(errno, ENOENT);
}

/* ---- gate, env, cwd, exec errors ---- */

static void test_gate_holds_until_release(void **state)
{
	char *env[] = { "FOO=bar from spec", "HOME=/nowhere", NULL };
	char err[256] = "", buf[512];
	struct tg_spec spec;
	struct tg_target t;
	char *exe = tg_resolve_exe("sh", NULL);

	make_spec(&spec, "echo \"$FOO|$HOME\" > gate.out; pwd > gate.cwd", env);
	assert_int_equal(tg_target_spawn(&spec, exe, &t, err, sizeof err), 0);
	free(exe);
	assert_true(t.pid > 0);
	sleep_ms(300);
	assert_false(tg_target_check_exit(&t));
	assert_int_equal(access(tmp_path("gate.out"), F_OK), -1);
	assert_int_equal(getpgid(t.pid), t.pid);

	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_true(wait_exit(&t, 5000));
	assert_true(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
	assert_true(read_file(tmp_path("gate.out"), buf, sizeof buf));
	assert_string_equal(buf, "bar from spec|/nowhere\n");
	assert_true(read_file(tmp_path("gate.cwd"), buf, sizeof buf));
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, tmpdir);
	tg_target_stop(&t, SIGTERM, SEC);
}

static void test_signals_reset_in_child(void **state)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	char buf[64];
	struct tg_spec spec;
	struct tg_target t;
	char err[256];

	/* tokio-guard ignores SIGPIPE; the target must not inherit that */
	sigaction(SIGPIPE, &ign, &old);
	spawn_sh(&spec, &t, "grep SigIgn /proc/self/status > sig.out");
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_true(wait_exit(&t, 5000));
	assert_true(read_file(tmp_path("sig.out"), buf, sizeof buf));
	/* bit 13 (SIGPIPE) clear; sh itself may ignore nothing else here */
	unsigned long long mask = strtoull(buf + strlen("SigIgn:"), NULL, 16);
	assert_int_equal(mask & (1ull << (SIGPIPE - 1)), 0);
}

static void test_exec_errors_through_release(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "";
	int fd;

	make_spec(&spec, "true", NULL);
	assert_int_equal(tg_target_spawn(&spec, "/nonexistent/tg-target", &t, err, sizeof err), 0);
	assert_int_equal(tg_target_release(&t, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "cannot execute /nonexistent/tg-target: "));
	assert_true(wait_exit(&t, 5000));
	assert_int_equal(WEXITSTATUS(t.status), 127);
	tg_target_stop(&t, SIGTERM, SEC);

	fd = open(tmp_path("noexec"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tg_target_spawn(&spec, tmp_path("noexec"), &t, err, sizeof err), 0);
	assert_int_equal(tg_target_release(&t, err, sizeof err), -EACCES);
	assert_non_null(strstr(err, "cannot execute"));
	tg_target_stop(&t, SIGTERM, SEC);
}

static void test_bad_cwd_fails_spawn(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "";

	make_spec(&spec, "true", NULL);
	spec.target.cwd = "/nonexistent/dir";
	assert_int_equal(tg_target_spawn(&spec, "/bin/sh", &t, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir"));
	tg_target_stop(&t, SIGTERM, SEC); /* safe after a failed spawn */
}

/* ---- readiness ---- */

static void test_ready_tcp(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "", port[16];
	int p, lfd = listener(&p);
	uint64_t t0;

	spawn_sh(&spec, &t, "exec sleep 30");
	snprintf(port, sizeof port, "%d", p);
	spec.target.ready.kind = TG_READY_TCP;
	spec.target.ready.tcp_host = "127.0.0.1";
	spec.target.ready.tcp_port = port;
	spec.target.ready.timeout_ns = 10 * SEC;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	t0 = now_ns();
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), 0);
	assert_true(now_ns() - t0 < 5 * SEC);
	close(lfd);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	assert_true(t.exited);
}

static void test_ready_tcp_timeout(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "", port[16], want[64];
	int p, lfd = listener(&p);

	close(lfd); /* the port is now (very likely) free: nothing accepts */
	spawn_sh(&spec, &t, "exec sleep 30");
	snprintf(port, sizeof port, "%d", p);
	spec.target.ready.kind = TG_READY_TCP;
	spec.target.ready.tcp_host = "127.0.0.1";
	spec.target.ready.tcp_port = port;
	spec.target.ready.timeout_ns = 300 * MS;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ETIMEDOUT);
	snprintf(want, sizeof want, "nothing accepted on 127.0.0.1:%d", p);
	assert_non_null(strstr(err, "target not ready after 300ms"));
	assert_non_null(strstr(err, want));
	tg_target_stop(&t, SIGTERM, 5 * SEC);
}

static void test_ready_fails_fast_on_exit(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "";
	uint64_t t0;

	spawn_sh(&spec, &t, "exit 1");
	spec.target.ready.kind = TG_READY_TCP;
	spec.target.ready.tcp_host = "127.0.0.1";
	spec.target.ready.tcp_port = "1"; /* tcpmux: nobody listens */
	spec.target.ready.timeout_ns = 30 * SEC;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	t0 = now_ns();
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ECHILD);
	assert_true(now_ns() - t0 < 5 * SEC);
	assert_string_equal(err, "target exited before it was ready: exited with code 1");
	tg_target_stop(&t, SIGTERM, SEC);
}

static void test_ready_stop_flag_delay_none(void **state)
{
	volatile sig_atomic_t stop = 1;
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "";
	uint64_t t0;

	spawn_sh(&spec, &t, "exec sleep 30");
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	spec.target.ready.kind = TG_READY_NONE;
	assert_int_equal(tg_target_wait_ready(&t, &spec, &stop, err, sizeof err), 0);
	spec.target.ready.kind = TG_READY_DELAY;
	spec.target.ready.delay_ns = 60 * SEC;
	t0 = now_ns();
	assert_int_equal(tg_target_wait_ready(&t, &spec, &stop, err, sizeof err), -EINTR);
	assert_true(now_ns() - t0 < 5 * SEC);
	stop = 0;
	spec.target.ready.delay_ns = 100 * MS;
	t0 = now_ns();
	assert_int_equal(tg_target_wait_ready(&t, &spec, &stop, err, sizeof err), 0);
	assert_true(now_ns() - t0 >= 100 * MS);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
}

/* ---- stop ---- */

static void test_stop_sigterm(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256], how[64];
	uint64_t t0;

	spawn_sh(&spec, &t, "exec sleep 100");
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	sleep_ms(100);
	t0 = now_ns();
	tg_target_stop(&t, SIGTERM, 10 * SEC);
	assert_true(now_ns() - t0 < 5 * SEC);
	assert_true(t.exited);
	assert_true(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGTERM);
	tg_describe_status(t.status, how, sizeof how);
	assert_string_equal(how, "killed by SIGTERM");
	tg_target_stop(&t, SIGTERM, 10 * SEC); /* idempotent */
	assert_true(t.exited);
}

static void test_stop_kills_after_grace_with_children(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256];
	pid_t kid, pgid;
	uint64_t t0;

	spawn_sh(&spec, &t, "trap '' TERM; sleep 100 & echo $! > kid.pid; wait");
	pgid = t.pid;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	kid = wait_pid_file(tmp_path("kid.pid"));
	assert_true(kid > 0);
	assert_true(proc_alive(kid, NULL));
	t0 = now_ns();
	tg_target_stop(&t, SIGTERM, 300 * MS);
	assert_true(now_ns() - t0 >= 300 * MS);
	assert_true(now_ns() - t0 < 8 * SEC);
	assert_true(t.exited);
	assert_true(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL);
	assert_true(gone_soon(kid, false));
	assert_true(gone_soon(pgid, true));
}

static void test_orphans_killed_when_leader_exits(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256];
	pid_t kid, pgid;

	spawn_sh(&spec, &t, "sleep 100 & echo $! > orphan.pid");
	pgid = t.pid;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	kid = wait_pid_file(tmp_path("orphan.pid"));
	assert_true(kid > 0);
	assert_true(wait_exit(&t, 5000));
	assert_true(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
	assert_true(gone_soon(kid, false));
	assert_true(gone_soon(pgid, true));
	tg_target_stop(&t, SIGTERM, SEC);
}

static void test_stop_at_gate(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	uint64_t t0;

	spawn_sh(&spec, &t, "echo ran > gated.out");
	t0 = now_ns();
	tg_target_stop(&t, SIGTERM, 30 * SEC);
	assert_true(now_ns() - t0 < 5 * SEC);
	assert_true(t.exited);
	assert_true(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 127);
	assert_int_equal(t.gate_fd, -1);
	assert_int_equal(t.exec_err_fd, -1);
	assert_int_equal(access(tmp_path("gated.out"), F_OK), -1);
	tg_target_stop(&t, SIGTERM, 30 * SEC);
}

static void test_stop_on_zeroed_target(void **state)
{
	struct tg_target t;

	bool stdin_open = fcntl(0, F_GETFD) >= 0;

	/* pid 0 must never become kill(0, SIGKILL), nor fd 0 be closed: we survive to check */
	memset(&t, 0, sizeof t);
	tg_target_stop(&t, SIGKILL, 0);
	assert_true(tg_target_check_exit(&t));
	assert_int_equal(fcntl(0, F_GETFD) >= 0, stdin_open);
}

static void test_describe_status(void **state)
{
	char buf[64];

	tg_describe_status(3 << 8, buf, sizeof buf);
	assert_string_equal(buf, "exited with code 3");
	tg_describe_status(SIGSEGV, buf, sizeof buf);
	assert_string_equal(buf, "killed by SIGSEGV");
	tg_fmt_secs(60 * SEC, buf, sizeof buf);
	assert_string_equal(buf, "60s");
	tg_fmt_secs(1500 * MS, buf, sizeof buf);
	assert_string_equal(buf, "1.5s");
	tg_fmt_secs(250 * MS, buf, sizeof buf);
	assert_string_equal(buf, "250ms");
}

/* ---- load steps ---- */

static struct tg_step exec_step(char **argv, uint64_t timeout_ns)
{
	struct tg_step s = { .name = "load", .kind = TG_STEP_EXEC, .argv = argv,
			     .timeout_ns = timeout_ns };
	return s;
}

static void test_step_exit_codes(void **state)
{
	char *ok[] = { "sh", "-c", "pwd > step.cwd", NULL };
	char *bad[] = { "sh", "-c", "exit 3", NULL };
	struct tg_step_result res;
	struct tg_spec spec;
	struct tg_step s;
	char buf[512];

	make_spec(&spec, "true", NULL);
	s = exec_step(ok, 10 * SEC);
	assert_int_equal(tg_run_step(&spec, &s, &res, NULL, NULL, NULL), 0);
	assert_true(res.ok);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.name, "load");
	assert_true(res.end_ns >= res.start_ns && res.start_ns > 0);
	assert_true(read_file(tmp_path("step.cwd"), buf, sizeof buf));
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, tmpdir);

	s = exec_step(bad, 10 * SEC);
	assert_int_equal(tg_run_step(&spec, &s, &res, NULL, NULL, NULL), -EIO);
	assert_false(res.ok);
	assert_int_equal(res.exit_code, 3);
	assert_string_equal(res.error, "exec step 'load' exited with code 3");
}

static void test_step_not_found(void **state)
{
	char *argv[] = { "tg-no-such-load-tool", "-x", NULL };
	struct tg_step_result res;
	struct tg_spec spec;
	struct tg_step s = exec_step(argv, 10 * SEC);

	make_spec(&spec, "true", NULL);
	assert_int_equal(tg_run_step(&spec, &s, &res, NULL, NULL, NULL), -EIO);
	assert_false(res.ok);
	assert_non_null(strstr(res.error, "tg-no-such-load-tool: command not found"));
}

static void test_step_stdout_goes_to_stderr(void **state)
{
	char *argv[] = { "sh", "-c", "echo to-stdout", NULL };
	struct tg_step s = exec_step(argv, 10 * SEC);
	struct tg_step_result res;
	struct tg_spec spec;
	char buf[256];
	int out = dup(1), errfd = dup(2);
	int fo = open(tmp_path("o.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	int fe = open(tmp_path("e.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	int rc;

	make_spec(&spec, "true", NULL);
	fflush(stdout);
	fflush(stderr);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = tg_run_step(&spec, &s, &res, NULL, NULL, NULL);
	dup2(out, 1);
	dup2(errfd, 2);
	close(out);
	close(errfd);
	close(fo);
	close(fe);
	assert_int_equal(rc, 0);
	assert_true(read_file(tmp_path("o.txt"), buf, sizeof buf));
	assert_string_equal(buf, "");
	assert_true(read_file(tmp_path("e.txt"), buf, sizeof buf));
	assert_string_equal(buf, "to-stdout\n");
	tg_step_result_free(&res); /* the output kept for the reports */
}

static void test_step_timeout_kills_group(void **state)
{
	char *argv[] = { "sh", "-c", "sleep 100 & echo $! > step-kid.pid; wait", NULL };
	struct tg_step s = exec_step(argv, 500 * MS);
	struct tg_step_result res;
	struct tg_spec spec;
	pid_t kid;

	make_spec(&spec, "true", NULL);
	assert_int_equal(tg_run_step(&spec, &s, &res, NULL, NULL, NULL), -EIO);
	assert_false(res.ok);
	assert_string_equal(res.error, "exec step 'load' timed out after 500ms");
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGKILL);
	assert_true(res.end_ns - res.start_ns < 8 * SEC);
	kid = wait_pid_file(tmp_path("step-kid.pid"));
	assert_true(kid > 0);
	assert_true(gone_soon(kid, false));
}

static volatile sig_atomic_t flag;

static void *raise_flag_later(void *arg)
{
	sleep_ms(200);
	flag = 1;
	return NULL;
}

static void test_step_stop_flag(void **state)
{
	char *argv[] = { "sleep", "100", NULL };
	struct tg_step s = exec_step(argv, 60 * SEC);
	struct tg_step_result res;
	struct tg_spec spec;
	pthread_t th;

	make_spec(&spec, "true", NULL);
	flag = 0;
	assert_int_equal(pthread_create(&th, NULL, raise_flag_later, NULL), 0);
	assert_int_equal(tg_run_step(&spec, &s, &res, &flag, NULL, NULL), -EINTR);
	pthread_join(th, NULL);
	assert_false(res.ok);
	assert_true(res.end_ns - res.start_ns < 5 * SEC);
	assert_int_equal(res.signal, SIGKILL);
}

static bool alive_for_a_while(void *ctx)
{
	int *calls = ctx;

	return ++*calls < 5;
}

static void test_step_alive_false(void **state)
{
	char *argv[] = { "sleep", "100", NULL };
	struct tg_step s = exec_step(argv, 60 * SEC);
	struct tg_step_result res;
	struct tg_spec spec;
	int calls = 0;

	make_spec(&spec, "true", NULL);
	assert_int_equal(tg_run_step(&spec, &s, &res, NULL, alive_for_a_while, &calls), -ECHILD);
	assert_false(res.ok);
	assert_true(res.end_ns - res.start_ns < 5 * SEC);
	assert_non_null(strstr(res.error, "target exited"));
}

static void test_sleep_step(void **state)
{
	struct tg_step s = { .name = "pause", .kind = TG_STEP_SLEEP, .sleep_ns = 200 * MS };
	volatile sig_atomic_t stop = 0;
	struct tg_step_result res;
	struct tg_spec spec;
	int calls = 0;

	make_spec(&spec, "true", NULL);
	assert_int_equal(tg_run_step(&spec, &s, &res, &stop, NULL, NULL), 0);
	assert_true(res.ok);
	assert_true(res.end_ns - res.start_ns >= 200 * MS);
	assert_true(res.end_ns - res.start_ns < 5 * SEC);

	s.sleep_ns = 60 * SEC;
	stop = 1;
	assert_int_equal(tg_run_step(&spec, &s, &res, &stop, NULL, NULL), -EINTR);
	assert_true(res.end_ns - res.start_ns < 5 * SEC);
	stop = 0;
	assert_int_equal(tg_run_step(&spec, &s, &res, &stop, alive_for_a_while, &calls), -ECHILD);
	assert_true(res.end_ns - res.start_ns < 5 * SEC);
}

/* ---- ready by http, by log; output capture ---- */

struct http_srv {
	int fd, status;
	pthread_t th;
	volatile bool stop;
};

static void *http_srv_main(void *arg)
{
	struct http_srv *h = arg;

	while (!h->stop) {
		char buf[2048], resp[128];
		int c = accept(h->fd, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		n = read(c, buf, sizeof buf - 1); /* the request fits one read */
		if (n > 0 && !strncmp(buf, "GET /health HTTP/1.", 19)) {
			snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", h->status);
			(void)!write(c, resp, strlen(resp));
		}
		close(c);
	}
	return NULL;
}

static int http_srv_start(struct http_srv *h, int status)
{
	int port;

	h->fd = listener(&port);
	h->status = status;
	h->stop = false;
	assert_int_equal(pthread_create(&h->th, NULL, http_srv_main, h), 0);
	return port;
}

static void http_srv_stop(struct http_srv *h, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	h->stop = true;
	connect(fd, (struct sockaddr *)&a, sizeof a); /* wakes accept */
	close(fd);
	pthread_join(h->th, NULL);
	close(h->fd);
}

static void test_ready_http(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	struct http_srv h;
	char err[256] = "", url[64];
	int port = http_srv_start(&h, 200);
	uint64_t t0;

	spawn_sh(&spec, &t, "exec sleep 30");
	snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
	spec.target.ready.kind = TG_READY_HTTP;
	spec.target.ready.http_url = url;
	spec.target.ready.timeout_ns = 10 * SEC;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	t0 = now_ns();
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), 0);
	assert_true(now_ns() - t0 < 5 * SEC);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	http_srv_stop(&h, port);
}

static void test_ready_http_not_2xx_times_out(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	struct http_srv h;
	char err[256] = "", url[64];
	int port = http_srv_start(&h, 500);

	spawn_sh(&spec, &t, "exec sleep 30");
	snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
	spec.target.ready.kind = TG_READY_HTTP;
	spec.target.ready.http_url = url;
	spec.target.ready.timeout_ns = 400 * MS;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ETIMEDOUT);
	assert_non_null(strstr(err, "target not ready after 400ms"));
	assert_non_null(strstr(err, "answered 500"));
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	http_srv_stop(&h, port);

	/* nothing listening at all; and a URL we cannot use */
	spawn_sh(&spec, &t, "exec sleep 30");
	spec.target.ready.kind = TG_READY_HTTP;
	spec.target.ready.http_url = url;
	spec.target.ready.timeout_ns = 200 * MS;
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ETIMEDOUT);
	assert_non_null(strstr(err, "no HTTP answer from"));
	spec.target.ready.http_url = "https://127.0.0.1/";
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -EINVAL);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
}

static void spawn_captured(struct tg_spec *spec, struct tg_target *t, const char *script,
			   const char *regex)
{
	struct tg_target_opts o = { .stdout_log = tmp_path("target.stdout.log"),
				    .stderr_log = tmp_path("target.stderr.log") };
	char err[256] = "";

	make_spec(spec, script, NULL);
	if (regex) {
		spec->target.ready.kind = TG_READY_LOG;
		spec->target.ready.log_regex = (char *)regex;
		spec->target.ready.timeout_ns = 10 * SEC;
	}
	assert_int_equal(tg_target_spawn_opts(spec, "/bin/sh", &o, t, err, sizeof err), 0);
	assert_non_null(t->cap);
	assert_int_equal(tg_target_release(t, err, sizeof err), 0);
}

static void test_ready_log(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "", buf[256];
	uint64_t t0 = now_ns();

	spawn_captured(&spec, &t, "echo starting; echo to-stderr >&2; sleep 0.3; "
		       "echo listening on 1234; sleep 5", "listening on [0-9]+");
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), 0);
	/* only the second stdout line makes it ready */
	assert_true(now_ns() - t0 >= 250 * MS);
	assert_true(now_ns() - t0 < 5 * SEC);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	assert_null(t.cap);
	assert_true(read_file(tmp_path("target.stdout.log"), buf, sizeof buf));
	assert_string_equal(buf, "starting\nlistening on 1234\n");
	assert_true(read_file(tmp_path("target.stderr.log"), buf, sizeof buf));
	assert_string_equal(buf, "to-stderr\n");
	tg_target_stderr_tail(&t, buf, sizeof buf, 5);
	assert_string_equal(buf, "to-stderr");
}

static void test_ready_log_timeout_and_exit(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char err[256] = "";

	spawn_captured(&spec, &t, "echo starting; exec sleep 30", "^ready$");
	spec.target.ready.timeout_ns = 300 * MS;
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ETIMEDOUT);
	assert_string_equal(err, "target not ready after 300ms: no output line matched /^ready$/");
	tg_target_stop(&t, SIGTERM, 5 * SEC);

	/* a target that dies first: said at once, its last stderr lines kept */
	spawn_captured(&spec, &t, "echo one >&2; echo two >&2; echo three >&2; exit 3", "^ready$");
	assert_int_equal(tg_target_wait_ready(&t, &spec, NULL, err, sizeof err), -ECHILD);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	tg_target_stderr_tail(&t, err, sizeof err, 2);
	assert_string_equal(err, "two\nthree");

	/* a bad regex fails the spawn */
	make_spec(&spec, "exit 0", NULL);
	spec.target.ready.kind = TG_READY_LOG;
	spec.target.ready.log_regex = "(unclosed";
	assert_int_equal(tg_target_spawn_opts(&spec, "/bin/sh", NULL, &t, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "invalid regex"));
}

static void test_capture_long_lines_and_closed_output(void **state)
{
	struct tg_spec spec;
	struct tg_target t;
	char *buf = malloc(200000), err[64];
	size_t n1;

	assert_non_null(buf);
	/* 70000 bytes without a newline, then a line without one at EOF; the
	 * target then closes its output and keeps running */
	spawn_captured(&spec, &t, "head -c 70000 /dev/zero | tr '\\0' a; echo; printf last; "
		       "exec >&- 2>&-; sleep 0.3; exit 0", NULL);
	for (int i = 0; i < 500 && !tg_target_check_exit(&t); i++)
		sleep_ms(10);
	tg_target_stop(&t, SIGTERM, 5 * SEC);
	assert_true(read_file(tmp_path("target.stdout.log"), buf, 200000));
	n1 = strcspn(buf, "\n");
	assert_int_equal(n1, 65536);
	assert_int_equal(strcspn(buf + n1 + 1, "\n"), 70000 - 65536);
	assert_string_equal(buf + 70000 + 2, "last\n");
	tg_target_stderr_tail(&t, err, sizeof err, 5);
	assert_string_equal(err, "");
	free(buf);
}

/* ---- users ---- */

static void test_resolve_identity(void **state)
{
	struct tg_identity id;
	char err[256] = "";

	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	assert_int_equal(tg_resolve_identity(NULL, &id, err, sizeof err), 0);
	assert_false(id.set);
	assert_int_equal(tg_resolve_identity("no-such-user-xyz", &id, err, sizeof err), -ENOENT);
	assert_string_equal(err, "target.user: no such user 'no-such-user-xyz'");
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	assert_int_equal(tg_resolve_identity(NULL, &id, err, sizeof err), 0);
	if (geteuid() == 0) {
		/* through sudo: the invoking user by default */
		assert_true(id.set);
		assert_int_equal(id.uid, 65534);
		assert_int_equal(id.gid, 65534);
		assert_true(id.ngroups >= 1);
		assert_int_equal(tg_resolve_identity("54321", &id, err, sizeof err), 0);
		assert_true(id.set);
		assert_int_equal(id.uid, 54321);
		assert_int_equal(id.gid, 54321); /* no passwd entry: the same number */
	} else {
		assert_false(id.set); /* not root: SUDO_UID means nothing */
		assert_int_equal(tg_resolve_identity("0", &id, err, sizeof err), -EPERM);
		assert_non_null(strstr(err, "needs root"));
	}
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
}

static void test_privileges_dropped(void **state)
{
	struct tg_identity id;
	struct passwd *pw = getpwnam("nobody");
	struct tg_spec spec;
	struct tg_target t;
	char dir[64] = "/tmp/tg-launch-user-XXXXXX", err[256] = "", buf[256], want[64];
	char *argv[] = { "sh", "-c", "id -u > uid; id -G > groups", NULL };
	int st;
	pid_t pid;

	if (geteuid() != 0 || !pw) {
		fprintf(stderr, "skipped: needs root and a 'nobody' user\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(tg_resolve_identity("nobody", &id, err, sizeof err), 0);
	assert_true(id.set);
	assert_int_equal(id.uid, pw->pw_uid);

	/* the target */
	make_spec(&spec, argv[2], NULL);
	spec.target.cwd = dir;
	struct tg_target_opts o = { .id = &id };
	assert_int_equal(tg_target_spawn_opts(&spec, "/bin/sh", &o, &t, err, sizeof err), 0);
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_true(wait_exit(&t, 5000));
	assert_true(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
	snprintf(want, sizeof want, "%u\n", (unsigned)pw->pw_uid);
	snprintf(buf, sizeof buf, "%s/uid", dir);
	assert_true(read_file(buf, err, sizeof err));
	assert_string_equal(err, want);
	snprintf(buf, sizeof buf, "%s/groups", dir);
	assert_true(read_file(buf, err, sizeof err));
	assert_null(strstr(err, "0 ")); /* root's group is gone */
	assert_true(strcmp(err, "0\n") != 0);
	tg_target_stop(&t, SIGTERM, SEC);

	/* exec load steps: every tg_child_spawn child, once the identity is set */
	snprintf(buf, sizeof buf, "%s/uid", dir);
	unlink(buf);
	tg_set_child_identity(&id);
	assert_ptr_equal(tg_child_identity(), &id); /* what load.c's exec children use */
	assert_int_equal(tg_child_spawn("/bin/sh", argv, NULL, dir, true, &t, err, sizeof err), 0);
	tg_set_child_identity(NULL);
	assert_null(tg_child_identity());
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_true(wait_exit(&t, 5000));
	assert_true(read_file(buf, err, sizeof err));
	assert_string_equal(err, want);
	tg_target_stop(&t, SIGTERM, SEC);

	/* no way back to root after the drop */
	pid = fork();
	if (pid == 0) {
		if (tg_drop_privileges(&id) < 0)
			_exit(1);
		_exit(setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || getuid() != pw->pw_uid ? 2 : 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* clean up */
	snprintf(buf, sizeof buf, "%s/uid", dir);
	unlink(buf);
	snprintf(buf, sizeof buf, "%s/groups", dir);
	unlink(buf);
	rmdir(dir);
}

/* The user's HOME, USER and LOGNAME, not root's; the spec's env still wins. */
static void test_env_for_user(void **state)
{
	struct tg_identity id;
	struct passwd *pw = getpwnam("nobody");
	char err[256] = "", home[320], *extra[] = { "LOGNAME=spec", "FOO=1", NULL }, **env;
	bool saw_home = false, saw_user = false, saw_logname = false, saw_foo = false;

	if (geteuid() != 0 || !pw) {
		fprintf(stderr, "skipped: needs root and a 'nobody' user\n");
		skip();
	}
	setenv("HOME", "/root", 1);
	setenv("USER", "root", 1);
	assert_int_equal(tg_resolve_identity("nobody", &id, err, sizeof err), 0);
	tg_set_child_identity(&id);
	env = tg_build_env(extra);
	tg_set_child_identity(NULL);
	assert_non_null(env);
	snprintf(home, sizeof home, "HOME=%s", pw->pw_dir);
	for (size_t i = 0; env[i]; i++) {
		if (!strncmp(env[i], "HOME=", 5)) {
			assert_false(saw_home);
			assert_string_equal(env[i], home);
			saw_home = true;
		} else if (!strncmp(env[i], "USER=", 5)) {
			assert_false(saw_user);
			assert_string_equal(env[i], "USER=nobody");
			saw_user = true;
		} else if (!strncmp(env[i], "LOGNAME=", 8)) {
			assert_false(saw_logname);
			assert_string_equal(env[i], "LOGNAME=spec");
			saw_logname = true;
		}
		saw_foo |= !strcmp(env[i], "FOO=1");
	}
	assert_true(saw_home && saw_user && saw_logname && saw_foo);
	free(env);
	/* no user switch: the environment as inherited */
	env = tg_build_env(NULL);
	assert_non_null(env);
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], "HOME=", 5))
			assert_string_equal(env[i], "HOME=/root");
	free(env);
}

/* Children read EOF on stdin, never the terminal's input. */
static void test_stdin_is_dev_null(void **state)
{
	char dir[64] = "/tmp/tg-launch-stdin-XXXXXX", path[96], got[256] = "", err[256] = "";
	char *argv[] = { "sh", "-c", "readlink /proc/self/fd/0 > stdin", NULL };
	struct tg_target t;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(tg_child_spawn("/bin/sh", argv, NULL, dir, true, &t, err, sizeof err), 0);
	assert_int_equal(tg_target_release(&t, err, sizeof err), 0);
	assert_true(wait_exit(&t, 5000));
	snprintf(path, sizeof path, "%s/stdin", dir);
	assert_true(read_file(path, got, sizeof got));
	assert_string_equal(got, "/dev/null\n");
	tg_target_stop(&t, SIGTERM, SEC);
	unlink(path);
	rmdir(dir);
}

/* ---- progress ---- */

static void test_progress_line(void **state)
{
	struct tg_progress_opts o = { .nsteps = 3, .total_ns = 30 * SEC, .tty = 0,
				      .interval_ns = 3600 * SEC };
	struct tg_spec spec;
	struct tg_step steps[3], kids[2];
	char line[512];

	assert_int_equal(tg_progress_start(&o), 0);
	tg_progress_step(1, "warmup");
	tg_progress_add_requests(1234, 0);
	tg_progress_add_requests(2, 1);
	tg_progress_format(line, sizeof line);
	tg_progress_stop();
	assert_non_null(strstr(line, "tokio-guard: [0."));
	assert_non_null(strstr(line, "s/30.0s] step 2/3 'warmup' requests 1236 errors 1"));

	/* the next step's line counts its own requests, not the previous step's */
	assert_int_equal(tg_progress_start(&o), 0);
	tg_progress_step(0, "warmup");
	tg_progress_add_requests(500, 20);
	tg_progress_step(1, "traffic");
	tg_progress_add_requests(7, 1);
	tg_progress_format(line, sizeof line);
	tg_progress_stop();
	assert_non_null(strstr(line, "step 2/3 'traffic' requests 7 errors 1"));

	memset(&spec, 0, sizeof spec);
	memset(steps, 0, sizeof steps);
	memset(kids, 0, sizeof kids);
	steps[0].kind = TG_STEP_SLEEP;
	steps[0].sleep_ns = 2 * SEC;
	steps[1].kind = TG_STEP_HTTP;
	steps[1].traffic.duration_ns = 10 * SEC;
	steps[2].kind = TG_STEP_PARALLEL;
	steps[2].children = kids;
	steps[2].nchildren = 2;
	kids[0].kind = TG_STEP_SLEEP;
	kids[0].sleep_ns = 1 * SEC;
	kids[1].kind = TG_STEP_TCP;
	kids[1].traffic.duration_ns = 5 * SEC;
	spec.steps = steps;
	spec.nsteps = 3;
	assert_int_equal(tg_progress_total_ns(&spec), 17 * SEC);
	kids[1].traffic.duration_ns = 0; /* by request count: unknown */
	assert_int_equal(tg_progress_total_ns(&spec), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_path_search),
		cmocka_unit_test(test_resolve_relative_to_cwd),
		cmocka_unit_test(test_resolve_errors),
		cmocka_unit_test(test_gate_holds_until_release),
		cmocka_unit_test(test_signals_reset_in_child),
		cmocka_unit_test(test_exec_errors_through_release),
		cmocka_unit_test(test_bad_cwd_fails_spawn),
		cmocka_unit_test(test_ready_tcp),
		cmocka_unit_test(test_ready_tcp_timeout),
		cmocka_unit_test(test_ready_fails_fast_on_exit),
		cmocka_unit_test(test_ready_stop_flag_delay_none),
		cmocka_unit_test(test_stop_sigterm),
		cmocka_unit_test(test_stop_kills_after_grace_with_children),
		cmocka_unit_test(test_orphans_killed_when_leader_exits),
		cmocka_unit_test(test_stop_at_gate),
		cmocka_unit_test(test_stop_on_zeroed_target),
		cmocka_unit_test(test_describe_status),
		cmocka_unit_test(test_step_exit_codes),
		cmocka_unit_test(test_step_not_found),
		cmocka_unit_test(test_step_stdout_goes_to_stderr),
		cmocka_unit_test(test_step_timeout_kills_group),
		cmocka_unit_test(test_step_stop_flag),
		cmocka_unit_test(test_step_alive_false),
		cmocka_unit_test(test_sleep_step),
		cmocka_unit_test(test_ready_http),
		cmocka_unit_test(test_ready_http_not_2xx_times_out),
		cmocka_unit_test(test_ready_log),
		cmocka_unit_test(test_ready_log_timeout_and_exit),
		cmocka_unit_test(test_capture_long_lines_and_closed_output),
		cmocka_unit_test(test_resolve_identity),
		cmocka_unit_test(test_privileges_dropped),
		cmocka_unit_test(test_env_for_user),
		cmocka_unit_test(test_stdin_is_dev_null),
		cmocka_unit_test(test_progress_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
