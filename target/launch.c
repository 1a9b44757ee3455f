/* The target process: spawned held at a gate, released once probes are
 * attached, waited for readiness, stopped with signal and grace. */
#define _GNU_SOURCE
#include "launch.h"
#include "proc_tree.h"
#include "spec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_USER = 3 };
#define LINE_MAX_BYTES (64 * 1024)
#define TAIL_BYTES 4096

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

/* ---- users ---- */

/* The variables a program reads to know who and where home is: left as
 * root's, a dropped-privilege target would write into /root and fail. */
static void fill_env(struct tg_identity *id, const struct passwd *pw)
{
	if (pw && pw->pw_dir && pw->pw_dir[0])
		snprintf(id->env[0], sizeof id->env[0], "HOME=%s", pw->pw_dir);
	snprintf(id->env[1], sizeof id->env[1], "USER=%s", id->name);
	snprintf(id->env[2], sizeof id->env[2], "LOGNAME=%s", id->name);
}

static void fill_groups(struct tg_identity *id, const char *name)
{
	int n = (int)(sizeof id->groups / sizeof id->groups[0]);

	if (name && getgrouplist(name, id->gid, id->groups, &n) >= 0) {
		id->ngroups = n;
		return;
	}
	if (name && n > 0) { /* more groups than we keep: the first ones */
		id->ngroups = (int)(sizeof id->groups / sizeof id->groups[0]);
		return;
	}
	id->groups[0] = id->gid;
	id->ngroups = 1;
}

static bool parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v < (unsigned long)(uid_t)-1;
}

int tg_resolve_identity(const char *user, struct tg_identity *id, char *err, size_t errlen)
{
	struct passwd *pw;
	unsigned long u, g;

	memset(id, 0, sizeof *id);
	if (!user || !*user) {
		/* through sudo: the invoking user, not root */
		if (geteuid() != 0 || !parse_id(getenv("SUDO_UID"), &u) ||
		    !parse_id(getenv("SUDO_GID"), &g) || u == 0)
			return 0;
		id->uid = (uid_t)u;
		id->gid = (gid_t)g;
		pw = getpwuid(id->uid);
		if (pw)
			snprintf(id->name, sizeof id->name, "%s", pw->pw_name);
		else
			snprintf(id->name, sizeof id->name, "%lu", u);
		fill_groups(id, pw ? pw->pw_name : NULL);
		fill_env(id, pw);
		id->set = true;
		return 0;
	}
	if (parse_id(user, &u)) {
		pw = getpwuid((uid_t)u);
		id->uid = (uid_t)u;
		/* no passwd entry: a group of the same number, as user-private groups go */
		id->gid = pw ? pw->pw_gid : (gid_t)u;
	} else {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "target.user: no such user '%s'", user);
			return -ENOENT;
		}
		id->uid = pw->pw_uid;
		id->gid = pw->pw_gid;
	}
	if (geteuid() != 0 && geteuid() != id->uid) {
		snprintf(err, errlen, "target.user: running the target as '%s' needs root "
			 "(tokio-guard runs as uid %u): use sudo", user, (unsigned)geteuid());
		return -EPERM;
	}
	snprintf(id->name, sizeof id->name, "%s", pw ? pw->pw_name : user);
	fill_groups(id, pw ? pw->pw_name : NULL);
	fill_env(id, pw);
	id->set = geteuid() == 0;
	return 0;
}

int tg_drop_privileges(const struct tg_identity *id)
{
	if (!id || !id->set)
		return 0;
	if (setgroups((size_t)id->ngroups, id->groups) < 0)
		return -errno;
	if (setgid(id->gid) < 0)
		return -errno;
	if (setuid(id->uid) < 0)
		return -errno;
	/* no way back: a saved set-user-ID of 0 would allow one */
	if (id->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	if (id->uid != 0 && id->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
		return -EPERM;
	return 0;
}

static bool same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");

	return la == lb && memcmp(a, b, la) == 0;
}

static bool has_key(char *const *v, size_t n, const char *entry)
{
	for (size_t i = 0; i < n; i++)
		if (v[i][0] && same_key(v[i], entry))
			return true;
	return false;
}

char **tg_build_env(char *const *extra)
{
	const struct tg_identity *id = tg_child_identity();
	char *mine[3];
	size_t n = 0, m = 0, nm = 0, k = 0;
	char **env;

	/* the user's own variables, unless the spec sets them */
	for (int i = 0; id && id->set && i < 3; i++)
		if (id->env[i][0])
			mine[nm++] = (char *)id->env[i];
	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + nm + m + 1, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!has_key(extra, m, environ[i]) && !has_key(mine, nm, environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < nm; i++)
		if (!has_key(extra, m, mine[i]))
			env[k++] = mine[i];
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

/* ---- the target's output: pipes read by a thread of ours ---- */

struct tg_capture {
	pthread_t thread;
	bool running;
	int fd[2];           /* read ends: stdout, stderr; -1 at EOF */
	int wake[2];         /* written to end the thread */
	int wfd[2];          /* write ends, the child's until it is spawned */
	FILE *log[2];
	bool echo, echo_tty;
	bool have_re;
	regex_t re;
	atomic_bool ready;
	char *line[2];       /* the partial line of each stream */
	size_t len[2];
	char tail[TAIL_BYTES]; /* the end of stderr, whole lines */
	size_t tail_len;
	pthread_mutex_t lock; /* tail */
};

static void write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[4];

	memcpy(v, iov, sizeof(*iov) * (size_t)n);
	while (n > 0) {
		ssize_t w = writev(fd, v, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		while (n > 0 && (size_t)w >= v[0].iov_len) {
			w -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, sizeof(*v) * (size_t)--n);
		}
		if (n > 0) {
			v[0].iov_base = (char *)v[0].iov_base + w;
			v[0].iov_len -= (size_t)w;
		}
	}
}

static void keep_tail(struct tg_capture *c, const char *line, size_t len)
{
	size_t need = len + 1;

	pthread_mutex_lock(&c->lock);
	if (need >= TAIL_BYTES) { /* one huge line: its end */
		line += need - (TAIL_BYTES - 1);
		len = TAIL_BYTES - 2;
		need = len + 1;
	}
	if (c->tail_len + need > TAIL_BYTES) {
		size_t drop = c->tail_len + need - TAIL_BYTES;

		memmove(c->tail, c->tail + drop, c->tail_len - drop);
		c->tail_len -= drop;
	}
	memcpy(c->tail + c->tail_len, line, len);
	c->tail[c->tail_len + len] = '\n';
	c->tail_len += need;
	pthread_mutex_unlock(&c->lock);
}

/* One line of stream I (0 stdout, 1 stderr), without its newline; LINE has
 * room for a terminating NUL at LEN. */
static void on_line(struct tg_capture *c, int i, char *line, size_t len)
{
	if (c->log[i]) {
		fwrite(line, 1, len, c->log[i]);
		fputc('\n', c->log[i]);
	}
	if (c->echo) {
		struct iovec v[4] = {
			{ (void *)"\r\033[K", c->echo_tty ? 4 : 0 },
			{ (void *)"target| ", 8 },
			{ line, len },
			{ (void *)"\n", 1 },
		};

		write_all(2, v, 4);
	}
	if (i == 1)
		keep_tail(c, line, len);
	if (c->have_re && !atomic_load(&c->ready)) {
		line[len] = '\0';
		if (regexec(&c->re, line, 0, NULL, 0) == 0)
			atomic_store(&c->ready, true);
	}
}

static void feed(struct tg_capture *c, int i, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n, room = LINE_MAX_BYTES - c->len[i];

		if (take > room)
			take = room;
		memcpy(c->line[i] + c->len[i], data, take);
		c->len[i] += take;
		data += take;
		n -= take;
		if (n > 0 && *data == '\n') {
			data++;
			n--;
		} else if (c->len[i] < LINE_MAX_BYTES) {
			break; /* a partial line: more to come */
		}
		on_line(c, i, c->line[i], c->len[i]); /* a whole line, or 64 KiB of one */
		c->len[i] = 0;
	}
}

/* Reads what FD I has; false at EOF or error (the fd is closed then). */
static bool read_some(struct tg_capture *c, int i)
{
	char buf[16384];
	ssize_t n = read(c->fd[i], buf, sizeof buf);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return errno == EINTR;
	if (n <= 0) {
		if (c->len[i]) /* a last line without its newline */
			on_line(c, i, c->line[i], c->len[i]);
		c->len[i] = 0;
		close_fd(&c->fd[i]);
		return false;
	}
	feed(c, i, buf, (size_t)n);
	return true;
}

static void *capture_main(void *arg)
{
	struct tg_capture *c = arg;

	while (c->fd[0] >= 0 || c->fd[1] >= 0) {
		struct pollfd pf[3] = {
			{ .fd = c->fd[0], .events = POLLIN },
			{ .fd = c->fd[1], .events = POLLIN },
			{ .fd = c->wake[0], .events = POLLIN },
		};

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents) {
			/* the target is gone: what its pipes still hold, then stop */
			for (int i = 0; i < 2; i++)
				while (c->fd[i] >= 0 && read_some(c, i))
					;
			break;
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].revents && c->fd[i] >= 0)
				read_some(c, i);
		for (int i = 0; i < 2; i++)
			if (c->log[i])
				fflush(c->log[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (c->len[i])
			on_line(c, i, c->line[i], c->len[i]);
		c->len[i] = 0;
		if (c->log[i])
			fflush(c->log[i]);
	}
	return NULL;
}

static void capture_free(struct tg_capture *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		close_fd(&c->fd[i]);
		close_fd(&c->wfd[i]);
		close_fd(&c->wake[i]);
		if (c->log[i])
			fclose(c->log[i]);
		free(c->line[i]);
	}
	if (c->have_re)
		regfree(&c->re);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int capture_new(const struct tg_target_opts *o, const char *regex, struct tg_capture **out,
		       char *err, size_t errlen)
{
	struct tg_capture *c = calloc(1, sizeof *c);
	const char *paths[2] = { o ? o->stdout_log : NULL, o ? o->stderr_log : NULL };
	int e;

	*out = NULL;
	if (!c)
		goto nomem;
	pthread_mutex_init(&c->lock, NULL);
	for (int i = 0; i < 2; i++)
		c->fd[i] = c->wfd[i] = c->wake[i] = -1;
	c->echo = o ? o->echo : true;
	c->echo_tty = c->echo && isatty(2);
	if (regex) {
		e = regcomp(&c->re, regex, REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[256];

			regerror(e, &c->re, why, sizeof why);
			snprintf(err, errlen, "target.ready.log: invalid regex \"%s\": %s", regex, why);
			capture_free(c);
			return -EINVAL;
		}
		c->have_re = true;
	}
	for (int i = 0; i < 2; i++) {
		int p[2];

		c->line[i] = malloc(LINE_MAX_BYTES + 1);
		if (!c->line[i])
			goto nomem;
		if (paths[i]) {
			c->log[i] = fopen(paths[i], "we");
			if (!c->log[i]) {
				e = errno;
				snprintf(err, errlen, "cannot create %s: %s", paths[i], strerror(e));
				capture_free(c);
				return -e;
			}
		}
		if (pipe2(p, O_CLOEXEC) < 0)
			goto sys;
		c->fd[i] = p[0];
		c->wfd[i] = p[1];
		fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	}
	if (pipe2(c->wake, O_CLOEXEC) < 0)
		goto sys;
	*out = c;
	return 0;
nomem:
	errno = ENOMEM;
sys:
	e = errno;
	snprintf(err, errlen, "cannot capture the target's output: %s", strerror(e));
	capture_free(c);
	return -e;
}

static int capture_start(struct tg_capture *c, char *err, size_t errlen)
{
	sigset_t all, old;
	int r;

	/* the child has its copies of the write ends: ours would hide EOF */
	close_fd(&c->wfd[0]);
	close_fd(&c->wfd[1]);
	/* signals are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&c->thread, NULL, capture_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "cannot start the output reader: %s", strerror(r));
		return -r;
	}
	c->running = true;
	return 0;
}

/* Once the target's group is dead: the last lines, then the thread ends. */
static void capture_end(struct tg_target *t)
{
	struct tg_capture *c = t->cap;
	size_t n, skip = 0;

	if (!c)
		return;
	if (c->running) {
		(void)!write(c->wake[1], "x", 1);
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	n = c->tail_len;
	if (n >= sizeof t->err_tail) { /* keep whole lines */
		skip = n - (sizeof t->err_tail - 1);
		while (skip < n && c->tail[skip - 1] != '\n')
			skip++;
	}
	memcpy(t->err_tail, c->tail + skip, n - skip);
	t->err_tail[n - skip] = '\0';
	capture_free(c);
	t->cap = NULL;
}

void tg_target_stderr_tail(const struct tg_target *t, char *buf, size_t len, int maxlines)
{
	char tmp[TAIL_BYTES + 1];
	const char *src = t->err_tail, *p;
	size_t n;
	int lines = 0;

	if (!len)
		return;
	if (t->cap) {
		pthread_mutex_lock(&t->cap->lock);
		memcpy(tmp, t->cap->tail, t->cap->tail_len);
		tmp[t->cap->tail_len] = '\0';
		pthread_mutex_unlock(&t->cap->lock);
		src = tmp;
	}
	n = strlen(src);
	while (n > 0 && src[n - 1] == '\n')
		n--;
	/* back over MAXLINES lines, within LEN */
	p = src + n;
	while (p > src) {
		if (p[-1] == '\n' && ++lines >= maxlines)
			break;
		if ((size_t)(src + n - p) + 1 >= len)
			break;
		p--;
	}
	snprintf(buf, len, "%.*s", (int)(src + n - p), p);
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

static uint64_t ready_timeout(const struct tg_spec *spec)
{
	return spec->target.ready.timeout_ns ? spec->target.ready.timeout_ns : READY_TIMEOUT_DEFAULT;
}

/* One readiness attempt, allowed to take up to BUDGET ns: true when ready. */
typedef bool (*ready_probe_fn)(void *ctx, uint64_t budget);

/* Tries PROBE every READY_RETRY (each try at most ATTEMPT ns) until it says
 * ready, the target exits, *STOP is set or TIMEOUT passes: -ETIMEDOUT then,
 * and the caller says what it was waiting for. */
static int retry_until_ready(struct tg_target *t, volatile sig_atomic_t *stop, uint64_t timeout,
			     uint64_t attempt, ready_probe_fn probe, void *ctx, char *err, size_t errlen)
{
	uint64_t deadline = tg_now_ns() + timeout;

	for (;;) {
		uint64_t now;
		int rc = ready_check(t, stop, err, errlen);

		if (rc)
			return rc;
		now = tg_now_ns();
		if (probe(ctx, min_u64(attempt, deadline > now ? deadline - now : 0)))
			return 0;
		now = tg_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		tg_nap(min_u64(READY_RETRY, deadline - now));
	}
}

static bool tcp_probe(void *ctx, uint64_t budget)
{
	return tcp_accepts(ctx, budget);
}

static int wait_tcp(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	const char *host = spec->target.ready.tcp_host, *port = spec->target.ready.tcp_port;
	uint64_t timeout = ready_timeout(spec);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char where[300], secs[32];
	int g, rc;

	fmt_hostport(where, sizeof where, host ? host : "", port ? port : "");
	g = getaddrinfo(host, port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", where, gai_strerror(g));
		return -EINVAL;
	}
	rc = retry_until_ready(t, stop, timeout, CONNECT_ATTEMPT, tcp_probe, ai, err, errlen);
	if (rc == -ETIMEDOUT) {
		tg_fmt_secs(timeout, secs, sizeof secs);
		snprintf(err, errlen, "target not ready after %s: nothing accepted on %s", secs, where);
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

/* ---- ready by http: a minimal HTTP/1.0 GET, any 2xx ---- */

struct http_url {
	char host[256], port[16], path[2048], hostport[300];
};

static int parse_http_url(const char *url, struct http_url *u)
{
	const char *p, *end, *hp;
	size_t hl;

	memset(u, 0, sizeof *u);
	if (!url || strncasecmp(url, "http://", 7) != 0)
		return -EINVAL;
	hp = url + 7;
	end = hp + strcspn(hp, "/?#");
	if (end == hp)
		return -EINVAL;
	if (*hp == '[') {
		p = memchr(hp, ']', (size_t)(end - hp));
		if (!p)
			return -EINVAL;
		hl = (size_t)(p - hp - 1);
		if (hl >= sizeof u->host)
			return -EINVAL;
		memcpy(u->host, hp + 1, hl);
		p++;
	} else {
		p = memchr(hp, ':', (size_t)(end - hp));
		if (!p)
			p = end;
		hl = (size_t)(p - hp);
		if (hl >= sizeof u->host)
			return -EINVAL;
		memcpy(u->host, hp, hl);
	}
	if (p < end && *p == ':') {
		size_t pl = (size_t)(end - p - 1);

		if (pl == 0 || pl >= sizeof u->port)
			return -EINVAL;
		memcpy(u->port, p + 1, pl);
	} else if (p != end) {
		return -EINVAL;
	} else {
		strcpy(u->port, "80");
	}
	snprintf(u->hostport, sizeof u->hostport, "%.*s", (int)(end - hp), hp);
	if (*end == '/' || *end == '?')
		snprintf(u->path, sizeof u->path, "%s%.*s", *end == '?' ? "/" : "",
			 (int)strcspn(end, "#"), end);
	else
		strcpy(u->path, "/");
	return u->host[0] ? 0 : -EINVAL;
}

/* One GET: the status code, 0 when nothing answered within NS. */
static int http_status(const struct addrinfo *ai, const struct http_url *u, uint64_t ns)
{
	uint64_t deadline = tg_now_ns() + ns;
	char req[2600], resp[256];
	int status = 0;

	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: tokio-guard/%s\r\n"
		 "Accept: */*\r\nConnection: close\r\n\r\n", u->path, u->hostport, TG_VERSION);
	for (const struct addrinfo *p = ai; p && !status; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				p->ai_protocol);
		size_t got = 0, sent = 0, rl = strlen(req);
		uint64_t now;
		bool ok;

		if (fd < 0)
			continue;
		ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
		now = tg_now_ns();
		if (!ok && errno == EINPROGRESS && now < deadline)
			ok = connected_within(fd, deadline - now);
		while (ok && sent < rl) {
			ssize_t w = send(fd, req + sent, rl - sent, MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && (errno == EAGAIN || errno == EINTR))
				tg_nap(MS);
			else
				ok = false;
			if (tg_now_ns() >= deadline)
				ok = false;
		}
		while (ok && got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t r;

			now = tg_now_ns();
			if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / MS) + 1) < 0)
				break;
			r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (r > 0)
				got += (size_t)r;
		}
		resp[got] = '\0';
		if (ok && !strncmp(resp, "HTTP/", 5)) {
			const char *sp = strchr(resp, ' ');

			if (sp && isdigit((unsigned char)sp[1]))
				status = atoi(sp + 1);
		}
		close(fd);
	}
	return status;
}

struct http_probe {
	const struct addrinfo *ai;
	const struct http_url *u;
	int last; /* the last status answered, 0: none yet */
};

static bool http_probe(void *ctx, uint64_t budget)
{
	struct http_probe *hp = ctx;
	int st = http_status(hp->ai, hp->u, budget);

	if (st)
		hp->last = st;
	return st >= 200 && st < 300;
}

static int wait_http(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		     char *err, size_t errlen)
{
	const char *url = spec->target.ready.http_url;
	uint64_t timeout = ready_timeout(spec);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct http_url u;
	struct http_probe hp = { .u = &u };
	char secs[32];
	int g, rc;

	if (parse_http_url(url, &u)) {
		snprintf(err, errlen, "target.ready.http: cannot use \"%s\" (http://host[:port]/path; "
			 "https is not supported)", url ? url : "");
		return -EINVAL;
	}
	g = getaddrinfo(u.host, u.port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", u.hostport, gai_strerror(g));
		return -EINVAL;
	}
	hp.ai = ai;
	rc = retry_until_ready(t, stop, timeout, SEC, http_probe, &hp, err, errlen);
	if (rc == -ETIMEDOUT) {
		tg_fmt_secs(timeout, secs, sizeof secs);
		if (hp.last)
			snprintf(err, errlen, "target not ready after %s: %s answered %d, not 2xx",
				 secs, url, hp.last);
		else
			snprintf(err, errlen, "target not ready after %s: no HTTP answer from %s",
				 secs, url);
	}
	freeaddrinfo(ai);
	return rc;
}

/* ---- ready by log: the capture thread matches the lines ---- */

static int wait_log(struct tg_target *t, const struct tg_spec *spec, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	uint64_t timeout = ready_timeout(spec), deadline = tg_now_ns() + timeout;
	char secs[32];

	if (!t->cap || !t->cap->have_re) {
		snprintf(err, errlen, "target.ready.log: the target's output is not captured");
		return -EINVAL;
	}
	for (;;) {
		int rc;
		uint64_t now;

		if (atomic_load(&t->cap->ready))
			return 0;
		rc = ready_check(t, stop, err, errlen);
		if (rc)
			return rc;
		now = tg_now_ns();
		if (now >= deadline) {
			tg_fmt_secs(timeout, secs, sizeof secs);
			snprintf(err, errlen, "target not ready after %s: no output line matched /%s/",
				 secs, spec->target.ready.log_regex);
			return -ETIMEDOUT;
		}
		tg_nap(min_u64(POLL_STEP, deadline - now));
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
	case TG_READY_HTTP:
		return wait_http(t, spec, stop, err, errlen);
	case TG_READY_LOG:
		return wait_log(t, spec, stop, err, errlen);
	case TG_READY_NONE:
		return 0;
	}
	snprintf(err, errlen, "unknown ready condition %d", (int)spec->target.ready.kind);
	return -EINVAL;
}
