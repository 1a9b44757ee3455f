// SPDX-License-Identifier: MIT
/* BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI. The attribute layout is the
 * kernel's (include/uapi/linux/bpf.h since 6.6), spelled out here because
 * the build machine's headers may be older than the kernel it runs on. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "uprobe_multi.h"

#define BPF_LINK_CREATE_CMD 28
#define UPROBE_MULTI_RETURN 1u /* BPF_F_UPROBE_MULTI_RETURN */

struct link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

int tg_uprobe_multi_attach(int prog_fd, const char *path, pid_t pid, const uint64_t *offsets,
			   const uint64_t *cookies, size_t n, bool ret)
{
	union {
		struct link_create_uprobe_multi l;
		unsigned char attr[160]; /* the rest of union bpf_attr: must be zero */
	} a;
	long fd;

	if (n == 0 || n > UINT32_MAX)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.l.prog_fd = (uint32_t)prog_fd;
	a.l.attach_type = TG_BPF_TRACE_UPROBE_MULTI;
	a.l.path = (uint64_t)(uintptr_t)path;
	a.l.offsets = (uint64_t)(uintptr_t)offsets;
	a.l.cookies = (uint64_t)(uintptr_t)cookies;
	a.l.cnt = (uint32_t)n;
	a.l.multi_flags = ret ? UPROBE_MULTI_RETURN : 0;
	a.l.pid = (uint32_t)pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE_CMD, &a, sizeof(a));
	return fd < 0 ? -errno : (int)fd;
}
