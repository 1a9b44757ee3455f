/* One uprobe as a perf event with a BPF link on it: the fallback where the
 * kernel has no uprobe_multi (before 6.6). Made by hand rather than through
 * libbpf so that both fds are ours: releasing such a uprobe takes the kernel's
 * event_mutex and waits out an RCU grace period under it (about 100 ms
 * here), one uprobe after another whatever the number of threads, so the
 * release is handed to a background process (tg_links_add_slow). */
#ifndef TG_UPROBE_PERF_H
#define TG_UPROBE_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Attaches PROG_FD at file OFFSET of PATH in process PID (a return probe
 * when RET), COOKIE in the link. Returns the link fd and the perf event fd
 * in *PERF_FD (close both to detach), or -errno. */
int tg_uprobe_perf_attach(int prog_fd, const char *path, pid_t pid, uint64_t offset, uint64_t cookie,
			  bool ret, int *perf_fd);

#endif
