/* The target process: spawned held at a gate, released once probes are
 * attached, waited for readiness, stopped with signal and grace. */
#ifndef TG_LAUNCH_H
#define TG_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tg_spec;

struct tg_target {
	pid_t pid;        /* also its process group: the target leads a group of its own */
	int gate_fd;      /* write end of the gate pipe; -1 once released */
	int exec_err_fd;  /* read end of a CLOEXEC pipe: EOF means exec succeeded */
	bool exited;      /* reaped */
	int status;       /* waitpid status once exited */
	char exe[4096];   /* what was exec'd, for messages */
};

/* Resolves argv0 the way execvp would, relative to CWD for paths with a '/'.
 * Returns a malloc'd absolute path, or NULL with errno set. */
char *tg_resolve_exe(const char *argv0, const char *cwd);

/* Forks the target: the child joins its own process group, asks for SIGKILL
 * if tokio-guard dies, changes to the spec's cwd, adds its env, then waits at
 * the gate. Returns 0 or -errno, with one line in ERR. T is always initialised,
 * so tg_target_stop is safe on it even after a failure.
 * The death signal follows the calling *thread*: call this from a thread that
 * lives as long as the target (the main thread). */
int tg_target_spawn(const struct tg_spec *spec, const char *exe, struct tg_target *t,
		    char *err, size_t errlen);

/* Opens the gate and waits for exec: 0, or -errno of the failed exec. */
int tg_target_release(struct tg_target *t, char *err, size_t errlen);

/* Waits until the spec's ready condition holds. 0 when ready, -ETIMEDOUT,
 * -ECHILD when the target exited first, -EINTR when *STOP became non-zero. */
int tg_target_wait_ready(struct tg_target *t, const struct tg_spec *spec,
			 volatile sig_atomic_t *stop, char *err, size_t errlen);

/* Reaps the target if it has exited (non-blocking). True when it has. Whatever
 * is left in its process group is SIGKILLed first: nothing may be orphaned, and
 * the group id cannot be reused before the leader is reaped. */
bool tg_target_check_exit(struct tg_target *t);

/* Sends SIG to the target's process group, waits up to GRACE_NS, then SIGKILLs
 * the group. Safe to call more than once and on a target still at its gate. */
void tg_target_stop(struct tg_target *t, int sig, uint64_t grace_ns);

/* CLOCK_MONOTONIC in nanoseconds: the clock of every deadline and of the BPF side. */
uint64_t tg_now_ns(void);

/* One short sleep; a signal just ends it early: callers loop on a deadline. */
void tg_nap(uint64_t ns);

/* "exited with code 3", "killed by SIGSEGV": for messages. */
void tg_describe_status(int status, char *buf, size_t len);

/* Shared with load.c: any child tokio-guard runs (exec load steps) is spawned
 * the same way as the target (own group, death signal, gate, exec error pipe)
 * and handled with the functions above. ENVP NULL: inherit the environment.
 * STDOUT_TO_STDERR keeps tokio-guard's own stdout clean. */
int tg_child_spawn(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		   bool stdout_to_stderr, struct tg_target *t, char *err, size_t errlen);

/* "10s", "1.5s", "250ms": for messages, without depending on spec.c. */
void tg_fmt_secs(uint64_t ns, char *buf, size_t len);

#endif
