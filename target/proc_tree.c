// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_tree.h"

pid_t tg_proc_parent(pid_t pid, char *state)
{
	char path[64], buf[512], *p, st;
	int ppid;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	/* the command name may hold spaces and parentheses: the last ')' ends it */
	p = f && fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
	if (f)
		fclose(f);
	if (!p || sscanf(p + 1, " %c %d", &st, &ppid) != 2)
		return -1;
	if (state)
		*state = st;
	return (pid_t)ppid;
}

static bool descends_from_us(pid_t pid)
{
	pid_t self = getpid();

	/* a short chain: the target, its forks, their children */
	for (int depth = 0; depth < 16 && pid > 1; depth++) {
		pid = tg_proc_parent(pid, NULL);
		if (pid == self)
			return true;
	}
	return false;
}

static bool same_file(pid_t pid, const struct stat *want)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	return stat(path, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

size_t tg_same_program(const char *exe, pid_t skip, pid_t *out, size_t max)
{
	struct stat want;
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if (!exe || stat(exe, &want) != 0 || !(d = opendir("/proc")))
		return 0;
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		char st = 0;

		if (pid <= 0 || pid == skip || pid == getpid())
			continue;
		if (tg_proc_parent(pid, &st) < 0 || st == 'Z' || !same_file(pid, &want) ||
		    !descends_from_us(pid))
			continue;
		if (n < max)
			out[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}
