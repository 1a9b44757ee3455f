/* The target's output: its stdout and stderr pipes read by a thread of ours,
 * echoed, kept as a tail for messages, and matched against ready.log. */
#define _GNU_SOURCE
#include "target_parts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the target's output: pipes read by a thread of ours ---- */

static void write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[4];

	memcpy(v, iov, sizeof(*iov) * (size_t)n);
	while (n > 0) {
		ssize_t w = writev(fd, v, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		while (n > 0 && (size_t)w >= v[0].iov_len) {
			w -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, sizeof(*v) * (size_t)--n);
		}
		if (n > 0) {
			v[0].iov_base = (char *)v[0].iov_base + w;
			v[0].iov_len -= (size_t)w;
		}
	}
}

static void keep_tail(struct tg_capture *c, const char *line, size_t len)
{
	size_t need = len + 1;

	pthread_mutex_lock(&c->lock);
	if (need >= TAIL_BYTES) { /* one huge line: its end */
		line += need - (TAIL_BYTES - 1);
		len = TAIL_BYTES - 2;
		need = len + 1;
	}
	if (c->tail_len + need > TAIL_BYTES) {
		size_t drop = c->tail_len + need - TAIL_BYTES;

		memmove(c->tail, c->tail + drop, c->tail_len - drop);
		c->tail_len -= drop;
	}
	memcpy(c->tail + c->tail_len, line, len);
	c->tail[c->tail_len + len] = '\n';
	c->tail_len += need;
	pthread_mutex_unlock(&c->lock);
}

/* One line of stream I (0 stdout, 1 stderr), without its newline; LINE has
 * room for a terminating NUL at LEN. */
static void on_line(struct tg_capture *c, int i, char *line, size_t len)
{
	if (c->log[i]) {
		fwrite(line, 1, len, c->log[i]);
		fputc('\n', c->log[i]);
	}
	if (c->echo) {
		struct iovec v[4] = {
			{ (void *)"\r\033[K", c->echo_tty ? 4 : 0 },
			{ (void *)"target| ", 8 },
			{ line, len },
			{ (void *)"\n", 1 },
		};

		write_all(2, v, 4);
	}
	if (i == 1)
		keep_tail(c, line, len);
	if (c->have_re && !atomic_load(&c->ready)) {
		line[len] = '\0';
		if (regexec(&c->re, line, 0, NULL, 0) == 0)
			atomic_store(&c->ready, true);
	}
}

static void feed(struct tg_capture *c, int i, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n, room = LINE_MAX_BYTES - c->len[i];

		if (take > room)
			take = room;
		memcpy(c->line[i] + c->len[i], data, take);
		c->len[i] += take;
		data += take;
		n -= take;
		if (n > 0 && *data == '\n') {
			data++;
			n--;
		} else if (c->len[i] < LINE_MAX_BYTES) {
			break; /* a partial line: more to come */
		}
		on_line(c, i, c->line[i], c->len[i]); /* a whole line, or 64 KiB of one */
		c->len[i] = 0;
	}
}

/* Reads what FD I has; false at EOF or error (the fd is closed then). */
static bool read_some(struct tg_capture *c, int i)
{
	char buf[16384];
	ssize_t n = read(c->fd[i], buf, sizeof buf);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return errno == EINTR;
	if (n <= 0) {
		if (c->len[i]) /* a last line without its newline */
			on_line(c, i, c->line[i], c->len[i]);
		c->len[i] = 0;
		close_fd(&c->fd[i]);
		return false;
	}
	feed(c, i, buf, (size_t)n);
	return true;
}

static void *capture_main(void *arg)
{
	struct tg_capture *c = arg;

	while (c->fd[0] >= 0 || c->fd[1] >= 0) {
		struct pollfd pf[3] = {
			{ .fd = c->fd[0], .events = POLLIN },
			{ .fd = c->fd[1], .events = POLLIN },
			{ .fd = c->wake[0], .events = POLLIN },
		};

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents) {
			/* the target is gone: what its pipes still hold, then stop */
			for (int i = 0; i < 2; i++)
				while (c->fd[i] >= 0 && read_some(c, i))
					;
			break;
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].revents && c->fd[i] >= 0)
				read_some(c, i);
		for (int i = 0; i < 2; i++)
			if (c->log[i])
				fflush(c->log[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (c->len[i])
			on_line(c, i, c->line[i], c->len[i]);
		c->len[i] = 0;
		if (c->log[i])
			fflush(c->log[i]);
	}
	return NULL;
}

void capture_free(struct tg_capture *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		close_fd(&c->fd[i]);
		close_fd(&c->wfd[i]);
		close_fd(&c->wake[i]);
		if (c->log[i])
			fclose(c->log[i]);
		free(c->line[i]);
	}
	if (c->have_re)
		regfree(&c->re);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int capture_new(const struct tg_target_opts *o, const char *regex, struct tg_capture **out,
		char *err, size_t errlen)
{
	struct tg_capture *c = calloc(1, sizeof *c);
	const char *paths[2] = { o ? o->stdout_log : NULL, o ? o->stderr_log : NULL };
	int e;

	*out = NULL;
	if (!c)
		goto nomem;
	pthread_mutex_init(&c->lock, NULL);
	for (int i = 0; i < 2; i++)
		c->fd[i] = c->wfd[i] = c->wake[i] = -1;
	c->echo = o ? o->echo : true;
	c->echo_tty = c->echo && isatty(2);
	if (regex) {
		e = regcomp(&c->re, regex, REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[256];

			regerror(e, &c->re, why, sizeof why);
			snprintf(err, errlen, "target.ready.log: invalid regex \"%s\": %s", regex, why);
			capture_free(c);
			return -EINVAL;
		}
		c->have_re = true;
	}
	for (int i = 0; i < 2; i++) {
		int p[2];

		c->line[i] = malloc(LINE_MAX_BYTES + 1);
		if (!c->line[i])
			goto nomem;
		if (paths[i]) {
			c->log[i] = fopen(paths[i], "we");
			if (!c->log[i]) {
				e = errno;
				snprintf(err, errlen, "cannot create %s: %s", paths[i], strerror(e));
				capture_free(c);
				return -e;
			}
		}
		if (pipe2(p, O_CLOEXEC) < 0)
			goto sys;
		c->fd[i] = p[0];
		c->wfd[i] = p[1];
		fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	}
	if (pipe2(c->wake, O_CLOEXEC) < 0)
		goto sys;
	*out = c;
	return 0;
nomem:
	errno = ENOMEM;
sys:
	e = errno;
	snprintf(err, errlen, "cannot capture the target's output: %s", strerror(e));
	capture_free(c);
	return -e;
}

int capture_start(struct tg_capture *c, char *err, size_t errlen)
{
	sigset_t all, old;
	int r;

	/* the child has its copies of the write ends: ours would hide EOF */
	close_fd(&c->wfd[0]);
	close_fd(&c->wfd[1]);
	/* signals are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&c->thread, NULL, capture_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		snprintf(err, errlen, "cannot start the output reader: %s", strerror(r));
		return -r;
	}
	c->running = true;
	return 0;
}

/* Once the target's group is dead: the last lines, then the thread ends. */
void capture_end(struct tg_target *t)
{
	struct tg_capture *c = t->cap;
	size_t n, skip = 0;

	if (!c)
		return;
	if (c->running) {
		(void)!write(c->wake[1], "x", 1);
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	n = c->tail_len;
	if (n >= sizeof t->err_tail) { /* keep whole lines */
		skip = n - (sizeof t->err_tail - 1);
		while (skip < n && c->tail[skip - 1] != '\n')
			skip++;
	}
	memcpy(t->err_tail, c->tail + skip, n - skip);
	t->err_tail[n - skip] = '\0';
	capture_free(c);
	t->cap = NULL;
}

void tg_target_stderr_tail(const struct tg_target *t, char *buf, size_t len, int maxlines)
{
	char tmp[TAIL_BYTES + 1];
	const char *src = t->err_tail, *p;
	size_t n;
	int lines = 0;

	if (!len)
		return;
	if (t->cap) {
		pthread_mutex_lock(&t->cap->lock);
		memcpy(tmp, t->cap->tail, t->cap->tail_len);
		tmp[t->cap->tail_len] = '\0';
		pthread_mutex_unlock(&t->cap->lock);
		src = tmp;
	}
	n = strlen(src);
	while (n > 0 && src[n - 1] == '\n')
		n--;
	/* back over MAXLINES lines, within LEN */
	p = src + n;
	while (p > src) {
		if (p[-1] == '\n' && ++lines >= maxlines)
			break;
		if ((size_t)(src + n - p) + 1 >= len)
			break;
		p--;
	}
	snprintf(buf, len, "%.*s", (int)(src + n - p), p);
}
