/* The processes below tokio-guard, read from /proc: what the target and
 * load steps left or forked. Used once a run ends, so a scan of /proc is
 * cheap enough. */
#ifndef TG_PROC_TREE_H
#define TG_PROC_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* PID's parent, and its state letter in *STATE when STATE is given; -1 when
 * PID is gone. */
pid_t tg_proc_parent(pid_t pid, char *state);

/* Live processes other than SKIP that descend from this process and run the
 * executable file EXE (the same inode: a fork, or a daemon the target
 * became), at most MAX of them into OUT. How many there are. */
size_t tg_same_program(const char *exe, pid_t skip, pid_t *out, size_t max);

#endif
