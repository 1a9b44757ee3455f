/* The live view's terminal side. The record belongs to the event thread, so
 * that thread feeds the view (tg_live_feed) and a drawing thread only copies
 * it under a lock: nothing here reads the record concurrently. A redraw goes
 * home and overwrites each line, clearing only its tail, in one write: no
 * blank frame, no flicker. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "frame_text.h"
#include "launch.h"
#include "live.h"
#include "live_view.h"
#include "record.h"

static struct {
	struct tg_live_opts o;
	pthread_mutex_t lock;
	struct tg_live_view view; /* under lock */
	size_t seen;              /* spans fed so far (the event thread's) */
	pthread_t thread;
	bool running, drawing, raw;
	int stop_pipe[2];
	struct termios saved;
} L = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop_pipe = { -1, -1 } };

static uint64_t thread_cpu_ns(int pid, uint32_t tid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%u/schedstat", pid, tid);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static void feed_spans(struct tg_record *rec)
{
	size_t n, resolved = tg_record_resolved(rec);
	const struct tg_span *spans = tg_record_spans(rec, &n);

	for (; L.seen < resolved && L.seen < n; L.seen++) {
		const struct tg_span *sp = &spans[L.seen];
		const struct tg_frame *f = tg_span_culprit(sp);
		char where[4096], line[1024];
		const struct tg_live_row *r;
		bool fresh;

		if (f)
			tg_frame_location(f, L.o.root, where, sizeof where);
		r = tg_live_add_span(&L.view, sp->task, f ? f->function : NULL, f ? where : "",
				     sp->kind, sp->poll.duration_ns,
				     sp->poll.start_ns + sp->poll.duration_ns, sp->poll.tid,
				     sp->poll.off_cpu_ns, &fresh);
		if (r && fresh && !L.o.tty) {
			tg_live_line(r, line, sizeof line);
			fprintf(stderr, "%s\n", line);
		}
	}
}

void tg_live_feed(struct tg_record *rec, uint64_t total_polls)
{
	const struct tg_thread *t;
	uint64_t now = tg_now_ns();
	size_t n;

	if (!rec)
		return;
	pthread_mutex_lock(&L.lock);
	if (!L.running) {
		pthread_mutex_unlock(&L.lock);
		return;
	}
	/* workers first: a span's blocked time goes to a worker already known */
	t = tg_record_threads(rec, &n);
	for (size_t i = 0; i < n; i++)
		if (t[i].worker)
			tg_live_worker_point(&L.view, t[i].tid, t[i].worker_no, t[i].comm, now,
					     thread_cpu_ns(L.o.pid, t[i].tid));
	feed_spans(rec);
	tg_live_polls(&L.view, now, total_polls);
	L.view.now_ns = now;
	pthread_mutex_unlock(&L.lock);
	if (!L.o.tty)
		fflush(stderr);
}

static void draw(char *buf, size_t len)
{
	struct winsize ws = { 0 };
	int w = 100, h = 30;
	size_t n;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		w = ws.ws_col;
		h = ws.ws_row;
	}
	memcpy(buf, "\033[H", 3);
	pthread_mutex_lock(&L.lock);
	L.view.now_ns = tg_now_ns();
	n = 3 + tg_live_render(&L.view, w - 1, h - 1, buf + 3, len - 8);
	pthread_mutex_unlock(&L.lock);
	memcpy(buf + n, "\033[J", 3);
	n += 3;
	for (size_t off = 0; off < n;) {
		ssize_t k = write(2, buf + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
}

/* q on the terminal: as Ctrl-C, so that the session stops the same way. */
static bool quit_key(void)
{
	char c[16];
	ssize_t k = L.raw ? read(0, c, sizeof c) : 0;

	for (ssize_t i = 0; i < k; i++)
		if (c[i] == 'q' || c[i] == 'Q')
			return true;
	return false;
}

static void *drawer(void *arg)
{
	static char buf[64 << 10];

	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { L.stop_pipe[0], POLLIN, 0 }, { 0, POLLIN, 0 } };

		draw(buf, sizeof buf);
		if (poll(p, L.raw ? 2 : 1, 250) > 0) {
			if (p[0].revents)
				break;
			if ((p[1].revents & POLLIN) && quit_key())
				kill(getpid(), SIGINT);
		}
	}
	return NULL;
}

/* Keys without Enter and without echo, while the view is up. */
static void raw_keys(void)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &L.saved))
		return;
	t = L.saved;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	L.raw = tcsetattr(0, TCSANOW, &t) == 0;
}

static void give_back_terminal(void)
{
	if (L.stop_pipe[0] >= 0) {
		close(L.stop_pipe[0]);
		close(L.stop_pipe[1]);
		L.stop_pipe[0] = L.stop_pipe[1] = -1;
		fputs("\033[?25h\033[?1049l", stderr);
		fflush(stderr);
	}
	if (L.raw)
		tcsetattr(0, TCSANOW, &L.saved);
	L.raw = false;
}

int tg_live_start(const struct tg_live_opts *o)
{
	sigset_t all, old;
	int r;

	if (L.running)
		return -EBUSY;
	L.o = *o;
	if (L.o.tty < 0)
		L.o.tty = isatty(2);
	memset(&L.view, 0, sizeof(L.view));
	snprintf(L.view.title, sizeof(L.view.title), "%s", o->title ? o->title : "");
	L.view.t0_ns = o->t0_ns ? o->t0_ns : tg_now_ns();
	L.seen = 0;
	L.running = true;
	if (!L.o.tty)
		return 0;
	if (pipe2(L.stop_pipe, O_CLOEXEC)) {
		L.o.tty = 0; /* plain lines still work */
		return 0;
	}
	raw_keys();
	fputs("\033[?1049h\033[?25l", stderr); /* the alternate screen, no cursor */
	fflush(stderr);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&L.thread, NULL, drawer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		give_back_terminal();
		L.running = false;
		return -r;
	}
	L.drawing = true;
	return 0;
}

void tg_live_stop(void)
{
	if (!L.running)
		return;
	if (L.drawing && write(L.stop_pipe[1], "x", 1) == 1)
		pthread_join(L.thread, NULL);
	L.drawing = false;
	give_back_terminal();
	pthread_mutex_lock(&L.lock); /* a feed in progress finishes first */
	L.running = false;
	pthread_mutex_unlock(&L.lock);
}
