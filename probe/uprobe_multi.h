/* uprobe_multi links (kernels since 6.6): one BPF link carries every offset
 * of one program in one binary, each with its cookie, so attaching and
 * detaching cost the same for 10 poll sites or 5000. Made with the raw
 * bpf(BPF_LINK_CREATE) call: Debian 12's libbpf (1.1) has no helper for it. */
#ifndef TG_UPROBE_MULTI_H
#define TG_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The attach type the programs must be loaded with to be attached this way. */
#define TG_BPF_TRACE_UPROBE_MULTI 48

/* Attaches PROG_FD at N OFFSETS of PATH (file offsets), in process PID only,
 * as return probes when RET. Returns the link's fd (closing it detaches them
 * all), or -errno: -EINVAL/-EOPNOTSUPP/-ENOSYS where the kernel lacks them. */
int tg_uprobe_multi_attach(int prog_fd, const char *path, pid_t pid, const uint64_t *offsets,
			   const uint64_t *cookies, size_t n, bool ret);

#endif
