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
struct tg_capture;

/* Who the target and exec steps run as. */
struct tg_identity {
	bool set;          /* false: stay who we are */
	uid_t uid;
	gid_t gid;
	int ngroups;       /* supplementary groups (initgroups' list for a named user) */
	gid_t groups[64];
	char name[64];     /* user name, or the uid in decimal when it has no passwd entry */
	/* "HOME=...", "USER=...", "LOGNAME=..." for the children: what sudo or a
	 * login would give that user (HOME only with a passwd entry; "" otherwise). */
	char env[3][320];
};

/* Resolves the spec's target.user (a name, or a numeric uid), or, when USER is
 * NULL and tokio-guard runs as root through sudo, SUDO_UID/SUDO_GID. With
 * neither, ID->set is false. Returns 0; -ENOENT for an unknown user; -EPERM
 * when a user is given but tokio-guard is not root. One line in ERR. */
int tg_resolve_identity(const char *user, struct tg_identity *id, char *err, size_t errlen);

/* In a child after fork, before exec: setgroups, setgid, setuid to ID, then
 * checks that root cannot be regained. Only async-signal-safe calls. No-op
 * when ID is NULL or !ID->set. 0, or -errno (the child should _exit then).
 * Note: a credential change clears PR_SET_PDEATHSIG: set it afterwards. */
int tg_drop_privileges(const struct tg_identity *id);

/* The identity every tg_child_spawn child (exec load steps) runs as; the
 * session sets it once the spec's user is resolved. NULL: no change (default). */
void tg_set_child_identity(const struct tg_identity *id);
/* That identity (NULL: none): load.c's exec children call tg_drop_privileges on it. */
const struct tg_identity *tg_child_identity(void);

/* How the target's output is handled. */
struct tg_target_opts {
	const struct tg_identity *id;  /* NULL: no privilege drop */
	const char *stdout_log;        /* files receiving every line; NULL: none */
	const char *stderr_log;
	bool echo;                     /* also copy lines to our stderr as "target| ..." */
};

struct tg_target {
	pid_t pid;        /* also its process group: the target leads a group of its own */
	int gate_fd;      /* write end of the gate pipe; -1 once released */
	int exec_err_fd;  /* read end of a CLOEXEC pipe: EOF means exec succeeded */
	bool exited;      /* reaped */
	int status;       /* waitpid status once exited */
	char exe[4096];   /* what was exec'd, for messages */
	char user[64];    /* who it runs as when switched, for messages */
	struct tg_capture *cap; /* reader of the target's stdout/stderr pipes; NULL: inherited */
	char err_tail[2048]; /* the last stderr lines, kept when the capture ends */
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

/* The same with OPTS (NULL: as tg_target_spawn). The target's stdout and
 * stderr are pipes read by a thread of ours whenever log files, echo or a
 * ready.log regex are asked for: each line (split at 64 KiB) goes to the log
 * files, is echoed, and is matched against ready.log_regex. tg_target_spawn
 * itself captures only for a ready.log condition (and then echoes). */
int tg_target_spawn_opts(const struct tg_spec *spec, const char *exe,
			 const struct tg_target_opts *opts, struct tg_target *t,
			 char *err, size_t errlen);

/* The last lines (at most MAXLINES, within LEN) the target wrote to stderr,
 * newline-separated; "" when none were captured. Complete after tg_target_stop. */
void tg_target_stderr_tail(const struct tg_target *t, char *buf, size_t len, int maxlines);

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
 * the group. Safe to call more than once and on a target still at its gate.
 * Also ends the output capture (its last lines are flushed to the logs). */
void tg_target_stop(struct tg_target *t, int sig, uint64_t grace_ns);

/* Makes this process the one orphaned descendants (a daemon that left its
 * group with setsid, then lost its parent) are given to, not init. */
void tg_adopt_orphans(void);

/* SIGKILLs and reaps every child process left, and what they leave in turn:
 * call it once the target and load are done and before anything is spawned
 * to outlive the run. How many were killed. */
size_t tg_kill_strays(void);

/* The inherited environment with EXTRA's "KEY=VALUE" entries replacing or
 * adding keys (a bare "KEY" unsets it). When children switch user
 * (tg_set_child_identity), HOME, USER and LOGNAME are that user's unless
 * EXTRA sets them. Strings are borrowed: free only the array. NULL when out
 * of memory. */
char **tg_build_env(char *const *extra);

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
/* The same, running the child as ID (NULL: no change; see tg_drop_privileges).
 * tg_child_spawn runs its child as the identity set by tg_set_child_identity. */
int tg_child_spawn_as(const char *exe, char *const argv[], char *const envp[], const char *cwd,
		      bool stdout_to_stderr, const struct tg_identity *id, struct tg_target *t,
		      char *err, size_t errlen);

/* Spawns and releases a child (as the tg_set_child_identity identity) whose
 * stdout and stderr both go to OUT_FD: exec load steps, whose output is kept.
 * 0, or -errno with the reason (exec, chdir, user switch) in ERR. */
int tg_child_spawn_output(const char *exe, char *const argv[], char *const envp[],
			  const char *cwd, int out_fd, struct tg_target *t, char *err, size_t errlen);

/* "10s", "1.5s", "250ms": for messages, without depending on spec.c. */
void tg_fmt_secs(uint64_t ns, char *buf, size_t len);

#endif
