/* A tiny process that kills the target if tokio-guard is killed (SIGKILL)
 * while the target runs. The target's death signal (PR_SET_PDEATHSIG) comes
 * only when tokio-guard has finished dying, and dying closes its uprobe_multi
 * links, whose release can wait for the target's pending return probes: a
 * deadlock that stalls every uprobe user of the machine. A dying process's
 * files are released in an order the kernel does not promise: its fds are
 * put lowest first, but the releases run as task work, which recent kernels
 * run last-in first-out (seen on 6.18: the low pipe alone closed after the
 * links in 3 of 9 SIGKILLs mid-load). So the watchdog holds two pipes, one at the
 * lowest fd (made before any probe) and one at the highest fd the limit
 * allows: whichever order, one of them is released before any BPF link, the
 * watchdog sees it close and kills the target, and the release completes. */
#ifndef TG_WATCHDOG_H
#define TG_WATCHDOG_H

#include <sys/types.h>

/* Forks the watchdog. Call before any BPF object is made. 0 or -errno. */
int tg_watchdog_start(void);
/* The target's process group to kill should we die (0: none any more). */
void tg_watchdog_arm(pid_t pgid);
/* Ends the watchdog (nothing is armed after this). */
void tg_watchdog_stop(void);

#endif
