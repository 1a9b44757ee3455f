// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "uprobe_perf.h"

/* The uprobe PMU's type and its retprobe bit, from sysfs (as perf reads them). */
static int uprobe_pmu(int *type, int *ret_bit)
{
	static int t = -1, bit = -1;
	FILE *f;

	if (t < 0) {
		f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
		if (!f || fscanf(f, "%d", &t) != 1)
			t = -1;
		if (f)
			fclose(f);
		f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "re");
		if (!f || fscanf(f, "config:%d", &bit) != 1)
			bit = 0; /* what every kernel so far has used */
		if (f)
			fclose(f);
		if (t < 0)
			return -ENOENT;
	}
	*type = t;
	*ret_bit = bit;
	return 0;
}

int tg_uprobe_perf_attach(int prog_fd, const char *path, pid_t pid, uint64_t offset, uint64_t cookie,
			  bool ret, int *perf_fd)
{
	struct perf_event_attr attr;
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int type, bit, pfd, lfd, r;

	if ((r = uprobe_pmu(&type, &bit)))
		return r;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (uint32_t)type;
	attr.config = ret ? 1ull << bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)path; /* uprobe_path */
	attr.config2 = offset;                    /* probe_offset */
	pfd = (int)syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	lo.perf_event.bpf_cookie = cookie;
	lfd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, &lo);
	if (lfd < 0) { /* libbpf 1.x returns -errno */
		close(pfd);
		return lfd;
	}
	*perf_fd = pfd;
	return lfd;
}
