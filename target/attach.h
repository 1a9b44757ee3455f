/* A process tokio-guard did not start (`tokio-guard attach PID`): found,
 * checked and watched, never signalled, stopped or reaped. */
#ifndef TG_ATTACH_H
#define TG_ATTACH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tg_attached {
	pid_t pid;
	int pidfd;          /* readable once the process has exited; -1: watched through /proc */
	uint64_t start;     /* /proc/PID/stat starttime: a reused pid is another process */
	/* "/proc/PID/exe": the binary as the process itself sees it, so ELF reading
	 * and uprobes (which attach by inode) work across mount namespaces
	 * (containers) and on a binary replaced or deleted since it started. */
	char exe[64];
	char shown[4096];   /* where that link points: for messages and reports */
	char **argv;        /* /proc/PID/cmdline, NULL-terminated; owned */
};

/* Finds PID and checks that it can be probed: it exists and has not exited,
 * is not tokio-guard itself nor a kernel thread, and its binary is readable.
 * Returns 0, or -ESRCH (gone), -EINVAL (ourselves, a kernel thread) or
 * -EACCES (another user's process) with one line in ERR. A's pidfd is open on
 * success: tg_attach_close it. */
int tg_attach_open(pid_t pid, struct tg_attached *a, char *err, size_t errlen);

/* True while the process runs (a zombie has exited). */
bool tg_attach_alive(const struct tg_attached *a);

void tg_attach_close(struct tg_attached *a);

/* Waits until DEADLINE_NS (CLOCK_MONOTONIC; 0: none), *STOP becomes
 * non-zero, or ALIVE(CTX) turns false (checked every 50 ms). 0 at the
 * deadline or stop, -ECHILD when the process ended first. */
int tg_wait_end(uint64_t deadline_ns, volatile sig_atomic_t *stop, bool (*alive)(void *ctx),
		void *ctx);

#endif
