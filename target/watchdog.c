// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "watchdog.h"

static int wfd = -1;
static pid_t child = -1;

/* Only async-signal-safe calls: the parent may have threads. */
static _Noreturn void watch(int rfd)
{
	int32_t pgid = 0, v;
	ssize_t n;

	/* Ctrl-C reaches the whole foreground group: tokio-guard handles it */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "tg-watchdog");
	if (rfd > 3 && dup2(rfd, 3) == 3)
		rfd = 3;
	if ((v = open("/dev/null", O_RDWR)) >= 0)
		for (int fd = 0; fd < 3; fd++)
			if (fd != v)
				dup2(v, fd);
	/* no other fd of the run: a pipe held open here would keep a CI step waiting */
	if (syscall(__NR_close_range, 4u, ~0u, 0) != 0)
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	while ((n = read(rfd, &v, sizeof(v))) == (ssize_t)sizeof(v) || (n < 0 && errno == EINTR))
		if (n > 0)
			pgid = v;
	if (n == 0 && pgid > 0)
		kill(-pgid, SIGKILL); /* EOF with a target armed: tokio-guard died */
	_exit(0);
}

int tg_watchdog_start(void)
{
	int p[2];

	if (child > 0)
		return 0;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (child == 0) {
		close(p[1]);
		watch(p[0]);
	}
	close(p[0]);
	wfd = p[1];
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
	if (child > 0)
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	child = -1;
}
