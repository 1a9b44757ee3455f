// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "links.h"
#include "grow.h" /* record/: a common helper (issue 12 moves it) */

/* Enough threads that the kernel's grace-period waits of a few thousand
 * single uprobes overlap; each costs a small stack while it lives. */
#define MAX_THREADS 256

int tg_links_add(struct tg_links *s, struct bpf_link *l)
{
	if (tg_grow((void **)&s->links, &s->caplinks, s->nlinks + 1, sizeof(*s->links))) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	s->links[s->nlinks++] = l;
	return 0;
}

static int push_fd(int **v, size_t *n, size_t *cap, int fd)
{
	if (tg_grow((void **)v, cap, *n + 1, sizeof(**v))) {
		close(fd);
		return -ENOMEM;
	}
	(*v)[(*n)++] = fd;
	return 0;
}

int tg_links_add_fd(struct tg_links *s, int fd)
{
	return push_fd(&s->fds, &s->nfds, &s->capfds, fd);
}

int tg_links_add_slow(struct tg_links *s, int fd)
{
	return push_fd(&s->slow, &s->nslow, &s->capslow, fd);
}

size_t tg_links_count(const struct tg_links *s)
{
	return s->nlinks + s->nfds + s->nslow;
}

struct release {
	struct tg_links *s;
	atomic_size_t next;
};

static void release_one(struct tg_links *s, size_t i)
{
	if (i < s->nlinks)
		bpf_link__destroy(s->links[i]);
	else
		close(s->fds[i - s->nlinks]);
}

static void *release_some(void *arg)
{
	struct release *r = arg;
	size_t n = r->s->nlinks + r->s->nfds, i;

	while ((i = atomic_fetch_add(&r->next, 1)) < n)
		release_one(r->s, i);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void close_between(int from, int to)
{
	if (from > to)
		return;
	if (syscall(__NR_close_range, (unsigned)from, (unsigned)to, 0) == 0)
		return;
	for (int fd = from; fd <= to && fd < 65536; fd++) /* kernels before close_range (5.9) */
		close(fd);
}

/* In the reaper: every fd but the N sorted ones in KEEP closed, so that it
 * holds no pipe, socket or terminal of the run (a CI step waits for those). */
static void close_others(const int *keep, size_t n)
{
	int from = 3, devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull >= 0)
		for (int fd = 0; fd < 3; fd++)
			dup2(devnull, fd);
	for (size_t i = 0; i < n; i++) {
		close_between(from, keep[i] - 1);
		from = keep[i] + 1;
	}
	close_between(from, INT32_MAX);
}

/* Closes the slow fds in a grandchild that nobody waits for: this process
 * closes only its copies, which is immediate. Falls back to closing them
 * here when it cannot fork. */
static void release_slow(struct tg_links *s)
{
	pid_t child;

	if (!s->nslow)
		return;
	qsort(s->slow, s->nslow, sizeof(*s->slow), by_value);
	child = fork();
	if (child == 0) {
		if (fork() == 0) {
			setsid();
			prctl(PR_SET_NAME, "tg-detach");
			close_others(s->slow, s->nslow);
			for (size_t i = 0; i < s->nslow; i++)
				close(s->slow[i]);
		}
		_exit(0);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	for (size_t i = 0; i < s->nslow; i++)
		close(s->slow[i]);
	s->nslow = 0;
}

void tg_links_release(struct tg_links *s)
{
	struct release r = { .s = s };
	pthread_t th[MAX_THREADS];
	pthread_attr_t attr;
	size_t n = s->nlinks + s->nfds, nth = 0;

	release_slow(s);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	/* the calling thread works too, so a failed pthread_create only slows it */
	while (n > 1 && nth < MAX_THREADS && nth + 1 < n &&
	       pthread_create(&th[nth], &attr, release_some, &r) == 0)
		nth++;
	pthread_attr_destroy(&attr);
	release_some(&r);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	s->nlinks = s->nfds = 0;
}

void tg_links_free(struct tg_links *s)
{
	tg_links_release(s);
	free(s->links);
	free(s->fds);
	free(s->slow);
	s->links = NULL;
	s->fds = NULL;
	s->slow = NULL;
	s->caplinks = s->capfds = s->capslow = 0;
}
