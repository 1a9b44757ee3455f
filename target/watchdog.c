// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "watchdog.h"

static int wfd = -1;    /* the low pipe: arming writes here */
static int hfd = -1;    /* the high pipe: only ever closed */
static pid_t child = -1;

/* Only async-signal-safe calls: the parent may have threads. Returns when
 * either pipe's write end is gone, with the last process group armed. */
static int32_t wait_for_close(int lo, int hi)
{
	int32_t pgid = 0, v;

	for (;;) {
		struct pollfd p[2] = { { .fd = lo, .events = POLLIN }, { .fd = hi, .events = POLLIN } };
		ssize_t n;

		if (poll(p, hi >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = read(lo, &v, sizeof(v));
			if (n == (ssize_t)sizeof(v)) {
				pgid = v;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			break; /* EOF */
		}
		if (hi >= 0 && p[1].revents)
			break; /* closed: the high pipe never carries data */
	}
	/* a disarm is written before either pipe is closed: read what is left */
	fcntl(lo, F_SETFL, O_NONBLOCK);
	while (read(lo, &v, sizeof(v)) == (ssize_t)sizeof(v))
		pgid = v;
	return pgid;
}

static _Noreturn void watch(int lo, int hi)
{
	int32_t pgid;
	int v;

	/* Ctrl-C reaches the whole foreground group: tokio-guard handles it */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "tg-watchdog");
	/* the read ends at 3 and 4, nothing else of the run: a pipe held open
	 * here would keep a CI step waiting */
	if (lo != 3 && (hi == 3 || dup2(lo, 3) != 3))
		_exit(1);
	lo = 3;
	if (hi >= 0 && hi != 4)
		hi = dup2(hi, 4) == 4 ? 4 : -1;
	if ((v = open("/dev/null", O_RDWR)) >= 0)
		for (int fd = 0; fd < 3; fd++)
			if (fd != v)
				dup2(v, fd);
	if (syscall(__NR_close_range, 5u, ~0u, 0) != 0)
		for (int fd = 5; fd < 65536; fd++)
			close(fd);
	pgid = wait_for_close(lo, hi);
	if (pgid > 0)
		kill(-pgid, SIGKILL); /* a pipe closed with a target armed: tokio-guard died */
	_exit(0);
}

/* FD moved to the highest descriptor the file limit allows (at most 65535):
 * the new fd, or FD itself where that fails. */
static int move_high(int fd)
{
	struct rlimit rl;
	long top = 65536;
	int h;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < top)
		top = (long)rl.rlim_cur;
	h = top > fd + 1 ? fcntl(fd, F_DUPFD_CLOEXEC, (int)(top - 1)) : -1;
	if (h < 0)
		return fd;
	close(fd);
	return h;
}

int tg_watchdog_start(void)
{
	int p[2], q[2];

	if (child > 0)
		return 0;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	if (pipe2(q, O_CLOEXEC)) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	q[1] = move_high(q[1]);
	child = fork();
	if (child < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		close(q[0]);
		close(q[1]);
		return -e;
	}
	if (child == 0) {
		close(p[1]);
		close(q[1]);
		watch(p[0], q[0]);
	}
	close(p[0]);
	close(q[0]);
	wfd = p[1];
	hfd = q[1];
	return 0;
}

void tg_watchdog_arm(pid_t pgid)
{
	int32_t v = (int32_t)pgid;

	if (wfd >= 0 && write(wfd, &v, sizeof(v)) < 0)
		return; /* the watchdog is gone (tg_kill_strays): nothing to arm */
}

void tg_watchdog_stop(void)
{
	if (wfd < 0)
		return;
	tg_watchdog_arm(0);
	close(wfd);
	wfd = -1;
	if (hfd >= 0)
		close(hfd);
	hfd = -1;
	if (child > 0)
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	child = -1;
}
