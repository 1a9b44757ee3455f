// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report_file.h"

int tg_report_open(const char *path, char *tmp, size_t tmplen)
{
	/* O_EXCL|O_NOFOLLOW: never write through a planted link as root */
	for (int i = 0; i < 100; i++) {
		int fd, n = snprintf(tmp, tmplen, "%s.tmp.%ld.%d", path, (long)getpid(), i);

		if (n < 0 || (size_t)n >= tmplen)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

int tg_report_commit(const char *tmp, const char *path, int rc)
{
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}
