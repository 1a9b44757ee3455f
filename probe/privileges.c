// SPDX-License-Identifier: MIT
/* Measured on 6.18 with `setcap …+ep` on the binary and a normal user:
 * CAP_BPF and CAP_PERFMON together load and attach everything (uprobe_multi,
 * tp_btf, task storage, the ring buffer, the perf-event sampler); either
 * alone fails at load; single perf-event uprobes (the uprobe PMU) fail
 * without CAP_SYS_ADMIN too. The target, our child of the same uid, needs
 * no CAP_SYS_PTRACE for its /proc files. */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileges.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

void tg_missing_caps(bool single, char *buf, size_t len)
{
	static const struct { int cap; const char *name; bool single_only; } need[] = {
		{ CAP_BPF, "CAP_BPF", false },
		{ CAP_PERFMON, "CAP_PERFMON", false },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN", true },
	};
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	size_t o = 0, n = 0, k = 0;

	buf[0] = 0;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		n += (single || !need[i].single_only) && !has_cap(d, need[i].cap);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]) && o < len; i++) {
		if ((!single && need[i].single_only) || has_cap(d, need[i].cap))
			continue;
		k++;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", k == 1 ? "" : k == n ? " and " : ", ",
				      need[i].name);
	}
}

void tg_permission_error(const char *what, bool single, char *err, size_t errlen)
{
	char missing[96], exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	tg_missing_caps(single, missing, sizeof(missing));
	snprintf(err, errlen,
		 "%s: permission denied%s%s: run tokio-guard as root (sudo), or give the binary the "
		 "capabilities once: sudo setcap %s+ep %s", what, missing[0] ? ", missing " : "", missing,
		 single ? "cap_bpf,cap_perfmon,cap_sys_admin" : "cap_bpf,cap_perfmon",
		 exe[0] ? exe : "tokio-guard");
}
