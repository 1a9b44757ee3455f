/* The target process: spawned held at a gate, released once probes are
 * attached, waited for readiness, stopped with signal and grace.
 *
 * This file: resolving the executable, fork/exec behind the gate, the release,
 * exit and stop; identity.c, logs.c and ready.c hold the rest (target_parts.h). */
#define _GNU_SOURCE
#include "target_parts.h"
#include "proc_tree.h"
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

uint64_t tg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

void tg_nap(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / SEC), .tv_nsec = (long)(ns % SEC) };

	nanosleep(&ts, NULL);
}

uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void tg_fmt_secs(uint64_t ns, char *buf, size_t len)
{
	if (ns >= SEC && ns % SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / SEC));
	else if (ns >= SEC)
		snprintf(buf, len, "%.3gs", (double)ns / SEC);
	else if (ns % MS == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / MS));
	else
		snprintf(buf, len, "%.3gms", (double)ns / MS);
}

/* ---- resolving the executable ---- */

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), n;
	char *p;

	while (name[0] == '.' && name[1] == '/')
		for (name += 2; *name == '/'; name++)
			;
	n = dl + strlen(name) + 2;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
	return p;
}

/* DIR made absolute against CWD (itself against the process's cwd). */
static char *absolute_dir(const char *dir, const char *cwd)
{
	char here[4096], *base, *r;

	if (dir && dir[0] == '/')
		return strdup(dir);
	if (cwd && cwd[0] == '/')
		base = strdup(cwd);
	else if (!getcwd(here, sizeof here))
		return NULL;
	else
		base = cwd && *cwd ? join_path(here, cwd) : strdup(here);
	if (!base || !dir || !*dir)
		return base;
	r = join_path(base, dir);
	free(base);
	return r;
}

static int check_exe(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno;
	/* execve says EACCES for directories and other non-regular files */
	if (!S_ISREG(st.st_mode))
		return EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return errno;
	return 0;
}

/* Like execvp: a candidate that exists but can't run makes the final error
 * EACCES rather than ENOENT. */
static char *try_exe(const char *dir, const char *cwd, const char *name, int *err)
{
	char *d = absolute_dir(dir, cwd), *p;
	int e;

	if (!d)
		return NULL;
	p = join_path(d, name);
	free(d);
	if (!p)
		return NULL;
	e = check_exe(p);
	if (e == 0)
		return p;
	if (e == EACCES || *err != EACCES)
		*err = e;
	free(p);
	return NULL;
}

static char *search_path(const char *name, const char *cwd)
{
	const char *path = getenv("PATH"), *s, *colon;
	char dir[4096];
	char *found = NULL;
	int err = ENOENT;

	if (!path)
		path = "/bin:/usr/bin"; /* glibc's execvp default */
	for (s = path; !found; s = colon + 1) {
		size_t n;

		colon = strchr(s, ':');
		n = colon ? (size_t)(colon - s) : strlen(s);
		if (n < sizeof dir) {
			memcpy(dir, s, n);
			dir[n] = '\0';
			found = try_exe(dir, cwd, name, &err);
		}
		if (!colon)
			break;
	}
	if (!found)
		errno = err;
	return found;
}

char *tg_resolve_exe(const char *argv0, const char *cwd)
{
	int err = ENOENT;
	char *p;

	if (!argv0 || !*argv0) {
		errno = ENOENT;
		return NULL;
	}
	if (argv0[0] == '/') {
		err = check_exe(argv0);
		if (err == 0)
			return strdup(argv0);
		errno = err;
		return NULL;
	}
	if (!strchr(argv0, '/'))
		return search_path(argv0, cwd);
	p = try_exe("", cwd, argv0, &err);
	if (!p)
		errno = err;
	return p;
}

/* ---- spawning ---- */

struct child_plan {
	const char *exe;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	bool stdout_to_stderr;
	pid_t parent;
	int gate_fd, err_fd;
	const struct tg_identity *id;
	int out_fd, errout_fd; /* write ends of the capture pipes, -1: inherited */
};

static void close_fd_range(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned fd, max = 65536;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < max)
		max = (unsigned)rl.rlim_cur;
	for (fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
}

static void close_other_fds(int a, int b)
{
	unsigned keep[2] = { (unsigned)(a < b ? a : b), (unsigned)(a < b ? b : a) };
	unsigned lo = 3;

	for (int i = 0; i < 2; i++) {
		if (keep[i] > lo)
			close_fd_range(lo, keep[i] - 1);
		if (keep[i] + 1 > lo)
			lo = keep[i] + 1;
	}
	close_fd_range(lo, ~0u);
}

/* Handlers die with exec, but ignored signals (SIGPIPE) and the mask the
 * parent set up would be inherited by the target. */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void child_fail(int fd, int stage)
{
	int msg[2] = { errno, stage };

	(void)!write(fd, msg, sizeof msg);
	_exit(127);
}

/* Only async-signal-safe calls from here on: the parent may have threads. */
static _Noreturn void child_main(const struct child_plan *p)
{
	ssize_t n;
	char c;

	setpgid(0, 0);
	/* before the death signal: a credential change clears it */
	if (p->id && p->id->set) {
		int r = tg_drop_privileges(p->id);

		if (r < 0) {
			errno = -r;
			child_fail(p->err_fd, STAGE_USER);
		}
	}
	/* the parent may have died before prctl took effect */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != p->parent)
		_exit(127);
	reset_signals();
	/* a target or load tool reading stdin must not take the terminal's input */
	n = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (n > 0) {
		dup2((int)n, 0);
		close((int)n);
	} else if (n == 0) {
		fcntl(0, F_SETFD, 0); /* stdin was closed: this is it now */
	}
	if (p->out_fd >= 0)
		dup2(p->out_fd, 1);
	if (p->errout_fd >= 0)
		dup2(p->errout_fd, 2);
	close_other_fds(p->gate_fd, p->err_fd);
	if (p->stdout_to_stderr)
		dup2(2, 1);
	if (p->cwd && chdir(p->cwd) < 0)
		child_fail(p->err_fd, STAGE_CHDIR);
	do
		n = read(p->gate_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up on us */
	execve(p->exe, p->argv, p->envp ? p->envp : environ);
	child_fail(p->err_fd, STAGE_EXEC);
}

static void init_target(struct tg_target *t, const char *exe)
{
	memset(t, 0, sizeof *t);
	t->pid = -1;
	t->gate_fd = -1;
	t->exec_err_fd = -1;
	snprintf(t->exe, sizeof t->exe, "%s", exe ? exe : "");
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static pid_t fork_child(const struct child_plan *p)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	/* no handler of ours may run in the child before it resets them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_main(p);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}

static const struct tg_identity *g_child_id;

void tg_set_child_identity(const struct tg_identity *id)
{
	g_child_id = id;
}

const struct tg_identity *tg_child_identity(void)
{
	return g_child_id && g_child_id->set ? g_child_id : NULL;
}

static int child_spawn(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		       bool stdout_to_stderr, const struct tg_identity *id, int out_fd,
		       int errout_fd, struct tg_target *t, char *err, size_t errlen)
{
	struct child_plan p = { exe, argv, envp, cwd, stdout_to_stderr, getpid(), -1, -1,
				id, out_fd, errout_fd };
	int gate[2], ep[2], e;
	pid_t pid;

	init_target(t, exe);
	/* a socket, not a pipe: send(MSG_NOSIGNAL) to a dead child raises no SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) < 0)
		goto fail;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		e = errno;
		close(gate[0]);
		close(gate[1]);
		errno = e;
		goto fail;
	}
	p.gate_fd = gate[1];
	p.err_fd = ep[1];
	pid = fork_child(&p);
	e = errno;
	close(gate[1]);
	close(ep[1]);
	if (pid < 0) {
		close(gate[0]);
		close(ep[0]);
		errno = e;
		goto fail;
	}
	setpgid(pid, pid); /* also here: signals may be sent before the child runs */
	t->pid = pid;
	t->gate_fd = gate[0];
	t->exec_err_fd = ep[0];
	if (id && id->set)
		snprintf(t->user, sizeof t->user, "%s", id->name);
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "cannot start %s: %s", exe, strerror(e));
	return -e;
}

int tg_child_spawn_as(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		      bool stdout_to_stderr, const struct tg_identity *id, struct tg_target *t,
		      char *err, size_t errlen)
{
	return child_spawn(exe, argv, envp, cwd, stdout_to_stderr, id, -1, -1, t, err, errlen);
}

int tg_child_spawn_output(const char *exe, char *const argv[], char *const envp[],
			  const char *cwd, int out_fd, struct tg_target *t, char *err, size_t errlen)
{
	int r = child_spawn(exe, argv, envp, cwd, false, g_child_id, out_fd, out_fd, t, err, errlen);

	return r ? r : tg_target_release(t, err, errlen);
}

int tg_child_spawn(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		   bool stdout_to_stderr, struct tg_target *t, char *err, size_t errlen)
{
	return child_spawn(exe, argv, envp, cwd, stdout_to_stderr, g_child_id, -1, -1, t, err,
			   errlen);
}

int tg_target_spawn_opts(const struct tg_spec *spec, const char *exe,
			 const struct tg_target_opts *opts, struct tg_target *t,
			 char *err, size_t errlen)
{
	const char *regex = spec->target.ready.kind == TG_READY_LOG ? spec->target.ready.log_regex : NULL;
	struct tg_capture *cap = NULL;
	char **envp;
	int rc;

	init_target(t, exe);
	if (!spec->target.argv || !spec->target.argv[0]) {
		snprintf(err, errlen, "target command is empty");
		return -EINVAL;
	}
	if (spec->target.ready.kind == TG_READY_LOG && (!regex || !*regex)) {
		snprintf(err, errlen, "target.ready.log: no regex");
		return -EINVAL;
	}
	rc = check_cwd(spec->target.cwd, err, errlen);
	if (rc < 0)
		return rc;
	if (regex || (opts && (opts->stdout_log || opts->stderr_log || opts->echo))) {
		rc = capture_new(opts, regex, &cap, err, errlen);
		if (rc < 0)
			return rc;
	}
	envp = tg_build_env(spec->target.env);
	if (!envp) {
		capture_free(cap);
		snprintf(err, errlen, "cannot start %s: %s", exe, strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = child_spawn(exe, spec->target.argv, envp, spec->target.cwd, false, opts ? opts->id : NULL,
			 cap ? cap->wfd[0] : -1, cap ? cap->wfd[1] : -1, t, err, errlen);
	free(envp);
	if (rc < 0) {
		capture_free(cap);
		return rc;
	}
	if (cap) {
		t->cap = cap;
		rc = capture_start(cap, err, errlen);
		if (rc < 0) {
			tg_target_stop(t, SIGKILL, 0);
			return rc;
		}
	}
	return 0;
}

int tg_target_spawn(const struct tg_spec *spec, const char *exe, struct tg_target *t,
		    char *err, size_t errlen)
{
	return tg_target_spawn_opts(spec, exe, NULL, t, err, errlen);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int tg_target_release(struct tg_target *t, char *err, size_t errlen)
{
	int msg[2] = { 0, 0 };
	bool sent = true;
	ssize_t n;

	if (t->exec_err_fd < 0)
		return t->pid > 0 ? 0 : -ESRCH;
	if (t->gate_fd >= 0) {
		sent = send(t->gate_fd, "g", 1, MSG_NOSIGNAL) == 1;
		close_fd(&t->gate_fd);
	}
	n = read_full(t->exec_err_fd, msg, sizeof msg);
	close_fd(&t->exec_err_fd);
	if (n == (ssize_t)sizeof msg && msg[1] == STAGE_USER) {
		snprintf(err, errlen, "cannot run %s as user %s: %s", t->exe,
			 t->user[0] ? t->user : "?", strerror(msg[0]));
		return -msg[0];
	}
	if (n == (ssize_t)sizeof msg && msg[1] == STAGE_CHDIR) {
		snprintf(err, errlen, "cannot change to the target's cwd: %s", strerror(msg[0]));
		return -msg[0];
	}
	if (n == (ssize_t)sizeof msg) {
		snprintf(err, errlen, "cannot execute %s: %s", t->exe, strerror(msg[0]));
		return -msg[0];
	}
	if (!sent) {
		snprintf(err, errlen, "%s exited before it was released", t->exe);
		return -ECHILD;
	}
	return 0;
}

/* ---- exit, stop ---- */

/* Until no process of group PGID is left (at most KILL_WAIT): the leader's
 * death alone does not mean its children, SIGKILLed with it, are gone, and a
 * step that ended must leave nothing running. They were reparented to us (the
 * subreaper) when their parents died, so we reap them. The group id cannot be
 * reused while any member is alive. */
static void reap_group(pid_t pgid)
{
	uint64_t deadline = tg_now_ns() + KILL_WAIT;

	for (;;) {
		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		if (kill(-pgid, 0) < 0 && errno == ESRCH)
			return;
		if (tg_now_ns() >= deadline)
			return;
		tg_nap(MS);
	}
}

bool tg_target_check_exit(struct tg_target *t)
{
	siginfo_t si;
	int r, st = 0;

	if (t->exited || t->pid <= 0)
		return true;
	memset(&si, 0, sizeof si);
	/* WNOWAIT: while the leader is a zombie its pid, hence the group id, is
	 * still ours, so killing the group cannot hit a stranger */
	do
		r = waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		t->exited = true; /* reaped elsewhere: nothing left we may signal */
		return true;
	}
	if (si.si_pid != t->pid)
		return false;
	kill(-t->pid, SIGKILL);
	do
		r = waitpid(t->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	t->exited = true;
	t->status = st;
	reap_group(t->pid);
	return true;
}

static bool wait_exit(struct tg_target *t, uint64_t ns)
{
	uint64_t deadline = tg_now_ns() + ns;

	while (!tg_target_check_exit(t)) {
		uint64_t now = tg_now_ns();

		if (now >= deadline)
			return false;
		tg_nap(min_u64(POLL_STEP, deadline - now));
	}
	return true;
}

static void signal_group(const struct tg_target *t, int sig)
{
	/* the group is gone or the target left it (setsid): reach the leader */
	if (kill(-t->pid, sig) < 0 || getpgid(t->pid) != t->pid)
		kill(t->pid, sig);
}

void tg_target_stop(struct tg_target *t, int sig, uint64_t grace_ns)
{
	if (t->pid <= 0)
		return; /* never spawned; a zeroed struct's fds are not ours to close */
	if (t->gate_fd >= 0) {
		close_fd(&t->gate_fd); /* the child exits on EOF at the gate */
		grace_ns = GATE_GRACE;
	} else if (!tg_target_check_exit(t)) {
		signal_group(t, sig > 0 ? sig : SIGTERM);
	}
	if (!wait_exit(t, grace_ns)) {
		signal_group(t, SIGKILL);
		wait_exit(t, KILL_WAIT);
	}
	capture_end(t);
	close_fd(&t->gate_fd);
	close_fd(&t->exec_err_fd);
}

void tg_adopt_orphans(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* One pass over /proc: every process whose parent we are, killed and reaped. */
static size_t kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0 || tg_proc_parent(pid, NULL) != getpid())
			continue;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

size_t tg_kill_strays(void)
{
	size_t total = 0, n;

	/* a killed stray's own children come to us next: until none are left */
	for (int round = 0; round < 64 && (n = kill_children()) > 0; round++)
		total += n;
	return total;
}

static void signal_name(int sig, char *buf, size_t len)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev) {
		snprintf(buf, len, "SIG%s", abbrev);
		return;
	}
#endif
	snprintf(buf, len, "signal %d (%s)", sig, strsignal(sig));
}

void tg_describe_status(int status, char *buf, size_t len)
{
	char name[64];

	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		signal_name(WTERMSIG(status), name, sizeof name);
		snprintf(buf, len, "killed by %s%s", name, WCOREDUMP(status) ? " (core dumped)" : "");
	} else {
		snprintf(buf, len, "stopped (status 0x%x)", (unsigned)status);
	}
}
