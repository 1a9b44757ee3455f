// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_file.h"

/* The unnamed files (O_TMPFILE) open now, by their future temporary name: the
 * caller closes its fd before the commit, a dup of it names the file then. */
#define MAX_OPEN 8
static struct {
	char tmp[PATH_MAX];
	int fd;
} g_open[MAX_OPEN];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int keep(const char *tmp, int fd)
{
	int r = -1;

	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_OPEN && r < 0; i++)
		if (!g_open[i].tmp[0]) {
			snprintf(g_open[i].tmp, sizeof g_open[i].tmp, "%s", tmp);
			g_open[i].fd = fd;
			r = 0;
		}
	pthread_mutex_unlock(&g_lock);
	return r;
}

/* The dup kept for TMP, forgotten; -1 when TMP is an ordinary named file. */
static int take(const char *tmp)
{
	int fd = -1;

	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_OPEN && fd < 0; i++)
		if (g_open[i].tmp[0] && strcmp(g_open[i].tmp, tmp) == 0) {
			fd = g_open[i].fd;
			g_open[i].tmp[0] = 0;
		}
	pthread_mutex_unlock(&g_lock);
	return fd;
}

/* An unnamed file in PATH's folder: killed while writing, nothing is left. */
static int open_unnamed(const char *path, const char *tmp)
{
	char dir[PATH_MAX];
	int fd, kept;

	snprintf(dir, sizeof dir, "%s", path);
	fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	kept = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (kept < 0 || keep(tmp, kept)) {
		if (kept >= 0)
			close(kept);
		close(fd);
		return -1;
	}
	return fd;
}

int tg_report_open(const char *path, char *tmp, size_t tmplen)
{
	/* O_EXCL|O_NOFOLLOW: never write through a planted link as root */
	for (int i = 0; i < 100; i++) {
		int fd, n = snprintf(tmp, tmplen, "%s.tmp.%ld.%d", path, (long)getpid(), i);

		if (n < 0 || (size_t)n >= tmplen)
			return -ENAMETOOLONG;
		if (access(tmp, F_OK) == 0)
			continue;
		fd = open_unnamed(path, tmp);
		if (fd >= 0)
			return fd;
		/* no O_TMPFILE here (old kernel, some filesystems): a named temporary */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* The unnamed file FD given the name NAME. */
static int name_it(int fd, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) ? -errno : 0;
}

int tg_report_commit(const char *tmp, const char *path, int rc)
{
	int fd = take(tmp);

	if (fd >= 0) {
		/* A new report is linked in under its final name in one step, so a
		 * kill leaves nothing behind. linkat cannot replace, so an old report
		 * is replaced through the temporary name and a rename: only that
		 * microsecond window can leave a whole `.tmp.` file. */
		if (rc == 0) {
			rc = name_it(fd, path);
			if (rc == -EEXIST)
				rc = name_it(fd, tmp);
			else {
				close(fd);
				return rc;
			}
		}
		close(fd);
		if (rc != 0)
			return rc; /* never named: nothing to remove */
	}
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}
