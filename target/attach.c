// SPDX-License-Identifier: MIT
/* Finding and watching a process tokio-guard did not start. It is not our
 * child: its end is seen through a pidfd (or /proc), never waitpid, and
 * nothing here ever sends it a signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach.h"
#include "launch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define PF_KTHREAD_FLAG 0x00200000u /* include/linux/sched.h */
#define WATCH_EVERY_NS (50ull * 1000 * 1000)

/* State, flags and start time from /proc/PID/stat: 0, or -errno. The fields
 * after the command (which may hold spaces and parentheses) are counted from
 * its last ')'. */
static int read_stat(pid_t pid, char *state, unsigned long *flags, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* fields 3 (state) .. 22 (starttime); 9 is flags */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", state, flags, &st) != 3)
		return -EIO;
	*start = st;
	return 0;
}

/* /proc/PID/cmdline as a NULL-terminated vector (at least the one word
 * FALLBACK when it cannot be read). */
static char **read_cmdline(pid_t pid, const char *fallback)
{
	char path[64], buf[8192];
	size_t len = 0, n = 0;
	char **v;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	if (fd >= 0)
		close(fd);
	if (!len)
		len = (size_t)snprintf(buf, sizeof(buf), "%s", fallback) + 1;
	buf[len] = 0;
	for (size_t i = 0; i < len; i++)
		n += !buf[i];
	v = calloc(n + 2, sizeof(*v));
	for (size_t i = 0, k = 0; v && i < len && k <= n; i += strlen(buf + i) + 1)
		if (!(v[k++] = strdup(buf + i)))
			break;
	return v;
}

static int gone(pid_t pid, char *err, size_t errlen)
{
	snprintf(err, errlen, "no process %d (it has exited, or never existed)", (int)pid);
	return -ESRCH;
}

/* The binary behind the process: readable to us, and where it lives. */
static int check_exe(struct tg_attached *a, char *err, size_t errlen)
{
	ssize_t n;
	int fd;

	snprintf(a->exe, sizeof(a->exe), "/proc/%d/exe", (int)a->pid);
	n = readlink(a->exe, a->shown, sizeof(a->shown) - 1);
	if (n >= 0)
		a->shown[n] = 0;
	fd = n >= 0 ? open(a->exe, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EACCES || errno == EPERM) {
		snprintf(err, errlen, "cannot read the binary of pid %d (%s): %s: it is another user's "
			 "process; attach as root, or give tokio-guard CAP_SYS_PTRACE too", (int)a->pid,
			 a->exe, strerror(errno));
		return -EACCES;
	}
	if (errno == ENOENT && tg_attach_alive(a)) {
		snprintf(err, errlen, "pid %d has no executable (a kernel thread?): attach to a Tokio "
			 "program's process", (int)a->pid);
		return -EINVAL;
	}
	return gone(a->pid, err, errlen);
}

int tg_attach_open(pid_t pid, struct tg_attached *a, char *err, size_t errlen)
{
	unsigned long flags = 0;
	char state = 0;
	int r;

	*a = (struct tg_attached){ .pid = pid, .pidfd = -1 };
	if (pid <= 0)
		return gone(pid, err, errlen);
	if (pid == getpid()) {
		snprintf(err, errlen, "pid %d is tokio-guard itself: give the pid of the Tokio program",
			 (int)pid);
		return -EINVAL;
	}
	/* the pidfd first: from here a reused pid cannot pass for the process */
	a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (a->pidfd < 0 && errno == ESRCH)
		return gone(pid, err, errlen);
	r = read_stat(pid, &state, &flags, &a->start);
	if (r || state == 'Z' || state == 'X') {
		tg_attach_close(a);
		return gone(pid, err, errlen);
	}
	if (flags & PF_KTHREAD_FLAG) {
		tg_attach_close(a);
		snprintf(err, errlen, "pid %d is a kernel thread: attach to a Tokio program's process",
			 (int)pid);
		return -EINVAL;
	}
	if ((r = check_exe(a, err, errlen))) {
		tg_attach_close(a);
		return r;
	}
	a->argv = read_cmdline(pid, a->shown);
	if (!a->argv) {
		tg_attach_close(a);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

bool tg_attach_alive(const struct tg_attached *a)
{
	struct pollfd p = { .fd = a->pidfd, .events = POLLIN };
	unsigned long flags;
	uint64_t start;
	char state;

	if (a->pidfd >= 0)
		return poll(&p, 1, 0) == 0;
	return read_stat(a->pid, &state, &flags, &start) == 0 && start == a->start && state != 'Z' &&
	       state != 'X';
}

void tg_attach_close(struct tg_attached *a)
{
	if (a->pidfd >= 0)
		close(a->pidfd);
	a->pidfd = -1;
	for (size_t i = 0; a->argv && a->argv[i]; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
}

int tg_wait_end(uint64_t deadline_ns, volatile sig_atomic_t *stop, bool (*alive)(void *ctx),
		void *ctx)
{
	for (;;) {
		uint64_t now = tg_now_ns(), nap = WATCH_EVERY_NS;

		if ((stop && *stop) || (deadline_ns && now >= deadline_ns))
			return 0;
		if (!alive(ctx))
			return -ECHILD;
		if (deadline_ns && deadline_ns - now < nap)
			nap = deadline_ns - now;
		tg_nap(nap);
	}
}
