/* The target process: spawned held at a gate, released once probes are
 * attached, waited for readiness, stopped with signal and grace. */
#define _GNU_SOURCE
#include "launch.h"
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

#define MS (1000ull * 1000)
#define SEC (1000 * MS)
#define READY_TIMEOUT_DEFAULT (30 * SEC)
#define READY_RETRY (50 * MS)
#define CONNECT_ATTEMPT (250 * MS)
#define POLL_STEP (10 * MS)
#define GATE_GRACE (1 * SEC)
/* After SIGKILL only an uninterruptible sleep delays death: don't wait on it forever. */
#define KILL_WAIT (5 * SEC)

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2 };

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

static uint64_t min_u64(uint64_t a, uint64_t b)
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
	/* the parent may have died before prctl took effect */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != p->parent)
		_exit(127);
	reset_signals();
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

static void close_fd(int *fd)
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

int tg_child_spawn(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		   bool stdout_to_stderr, struct tg_target *t, char *err, size_t errlen)
{
	struct child_plan p = { exe, argv, envp, cwd, stdout_to_stderr, getpid(), -1, -1 };
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
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "cannot start %s: %s", exe, strerror(e));
	return -e;
}

static bool same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");

	return la == lb && memcmp(a, b, la) == 0;
}

/* The inherited environment with the spec's entries replacing or adding
 * keys. Strings are borrowed; only the array is allocated. */
static char **build_env(char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + m + 1, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;

		for (size_t j = 0; j < m && !replaced; j++)
			replaced = same_key(environ[i], extra[j]);
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		if (strchr(extra[j], '=')) /* a bare KEY unsets, like putenv */
			env[k++] = extra[j];
	return env;
}

static int check_cwd(const char *cwd, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (!cwd)
		return 0;
	if (stat(cwd, &st) < 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else
		return 0;
	snprintf(err, errlen, "cannot use target cwd %s: %s", cwd, strerror(e));
	return -e;
}

int tg_target_spawn(const struct tg_spec *spec, const char *exe, struct tg_target *t,
		    char *err, size_t errlen)
{
	char **envp;
	int rc;

	init_target(t, exe);
	if (!spec->target.argv || !spec->target.argv[0]) {
		snprintf(err, errlen, "target command is empty");
		return -EINVAL;
	}
	rc = check_cwd(spec->target.cwd, err, errlen);
	if (rc < 0)
		return rc;
	envp = build_env(spec->target.env);
	if (!envp) {
		snprintf(err, errlen, "cannot start %s: %s", exe, strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = tg_child_spawn(exe, spec->target.argv, envp, spec->target.cwd, false, t, err, errlen);
	free(envp);
	return rc;
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
	close_fd(&t->gate_fd);
	close_fd(&t->exec_err_fd);
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

/* ---- readiness ---- */

static int ready_check(struct tg_target *t, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	char how[64];

	if (stop && *stop) {
		snprintf(err, errlen, "interrupted while waiting for the target to be ready");
		return -EINTR;
	}
	if (tg_target_check_exit(t)) {
		tg_describe_status(t->status, how, sizeof how);
		snprintf(err, errlen, "target exited before it was ready: %s", how);
		return -ECHILD;
	}
	return 0;
}

static bool connected_within(int fd, uint64_t ns)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = -1;

	if (poll(&pfd, 1, (int)(ns / MS) + 1) != 1)
		return false; /* EINTR included: the caller retries soon */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return false;
	return soerr == 0;
}

static bool tcp_accepts(const struct addrinfo *ai, uint64_t ns)
{
	for (const struct addrinfo *p = ai; p; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				p->ai_protocol);
		bool ok;

		if (fd < 0)
			continue;
		ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
		if (!ok && errno == EINPROGRESS)
			ok = connected_within(fd, ns);
		close(fd);
		if (ok)
			return true;
	}
	return false;
}

static void fmt_hostport(char *buf, size_t len, const char *host, const char *port)
{
	bool v6 = strchr(host, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static int wait_tcp(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	const char *host = spec->target.ready.tcp_host, *port = spec->target.ready.tcp_port;
	uint64_t timeout = spec->target.ready.timeout_ns ? spec->target.ready.timeout_ns
							: READY_TIMEOUT_DEFAULT;
	uint64_t deadline = tg_now_ns() + timeout;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char where[300], secs[32];
	int g, rc;

	fmt_hostport(where, sizeof where, host ? host : "", port ? port : "");
	g = getaddrinfo(host, port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", where, gai_strerror(g));
		return -EINVAL;
	}
	for (;;) {
		uint64_t now;

		rc = ready_check(t, stop, err, errlen);
		if (rc)
			break;
		now = tg_now_ns();
		if (tcp_accepts(ai, min_u64(CONNECT_ATTEMPT, deadline > now ? deadline - now : 0)))
			break;
		now = tg_now_ns();
		if (now >= deadline) {
			tg_fmt_secs(timeout, secs, sizeof secs);
			snprintf(err, errlen, "target not ready after %s: nothing accepted on %s", secs,
				 where);
			rc = -ETIMEDOUT;
			break;
		}
		tg_nap(min_u64(READY_RETRY, deadline - now));
	}
	freeaddrinfo(ai);
	return rc;
}

/* The delay is the readiness condition itself, so the ready timeout does not cut it short. */
static int wait_delay(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		      char *err, size_t errlen)
{
	uint64_t end = tg_now_ns() + spec->target.ready.delay_ns;

	for (;;) {
		int rc = ready_check(t, stop, err, errlen);
		uint64_t now = tg_now_ns();

		if (rc || now >= end)
			return rc;
		tg_nap(min_u64(READY_RETRY, end - now));
	}
}

int tg_target_wait_ready(struct tg_target *t, const struct tg_spec *spec,
			 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	switch (spec->target.ready.kind) {
	case TG_READY_TCP:
		return wait_tcp(t, spec, stop, err, errlen);
	case TG_READY_DELAY:
		return wait_delay(t, spec, stop, err, errlen);
	case TG_READY_NONE:
		return 0;
	}
	snprintf(err, errlen, "unknown ready condition %d", (int)spec->target.ready.kind);
	return -EINVAL;
}
