/* The target stage's insides, shared by launch.c, identity.c, logs.c and ready.c:
 * timing constants, the output capture, and the helpers one file lends another.
 * Not a face: the rest of tokio-guard includes launch.h. */
#ifndef TG_TARGET_PARTS_H
#define TG_TARGET_PARTS_H

#include "launch.h"

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MS (1000ull * 1000)
#define SEC (1000 * MS)
#define READY_TIMEOUT_DEFAULT (30 * SEC)
#define READY_RETRY (50 * MS)
#define CONNECT_ATTEMPT (250 * MS)
#define POLL_STEP (10 * MS)
#define GATE_GRACE (1 * SEC)
/* After SIGKILL only an uninterruptible sleep delays death: don't wait on it forever. */
#define KILL_WAIT (5 * SEC)

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_USER = 3 };
#define LINE_MAX_BYTES (64 * 1024)
#define TAIL_BYTES 4096

struct tg_capture {
	pthread_t thread;
	bool running;
	int fd[2];           /* read ends: stdout, stderr; -1 at EOF */
	int wake[2];         /* written to end the thread */
	int wfd[2];          /* write ends, the child's until it is spawned */
	FILE *log[2];
	bool echo, echo_tty;
	bool have_re;
	regex_t re;
	atomic_bool ready;
	char *line[2];       /* the partial line of each stream */
	size_t len[2];
	char tail[TAIL_BYTES]; /* the end of stderr, whole lines */
	size_t tail_len;
	pthread_mutex_t lock; /* tail */
};

/* launch.c */
void close_fd(int *fd);
uint64_t min_u64(uint64_t a, uint64_t b);

/* identity.c */
int check_cwd(const char *cwd, char *err, size_t errlen);

/* logs.c */
void capture_end(struct tg_target *t);
void capture_free(struct tg_capture *c);
int capture_new(const struct tg_target_opts *o, const char *regex, struct tg_capture **out,
		char *err, size_t errlen);
int capture_start(struct tg_capture *c, char *err, size_t errlen);

#endif
