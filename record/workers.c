/* Worker utilization from the BPF side's running totals. Each record says
 * how much busy and blocked time the thread has had so far, where its last
 * poll lay, and where the poll before it ended: the time added since the
 * thread's previous record lies in [previous record, prev_end] (the polls too
 * short to send one) and [last_start, last_end] (the last poll). Those
 * windows are kept and spread over seconds once the run's bounds are known. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "workers.h"

/* Windows kept per thread before new ones merge into the last (a timeline
 * that coarse only on runs of many hours). */
#define MAX_WINDOWS (1u << 18)
#define TG_WORKERS_MIN_PART 100000000ull

struct window {
	uint64_t a, b;              /* CLOCK_MONOTONIC bounds */
	uint64_t busy_ns, blocked_ns;
};

struct wthread {
	uint32_t tid;
	char comm[16];
	bool worker;
	struct tg_worker_acc last; /* the totals seen so far */
	bool seen;
	struct window *win;
	size_t nwin, capwin;
};

struct tg_workers {
	int pid;
	struct wthread *t;
	size_t n, cap;
	struct tg_worker_util *out;
	size_t nout;
};

struct tg_workers *tg_workers_new(int pid)
{
	struct tg_workers *w = calloc(1, sizeof(*w));

	if (w)
		w->pid = pid;
	return w;
}

static void free_out(struct tg_workers *w)
{
	for (size_t i = 0; i < w->nout; i++)
		free(w->out[i].timeline);
	free(w->out);
	w->out = NULL;
	w->nout = 0;
}

void tg_workers_free(struct tg_workers *w)
{
	if (!w)
		return;
	free_out(w);
	for (size_t i = 0; i < w->n; i++)
		free(w->t[i].win);
	free(w->t);
	free(w);
}


static struct wthread *thread_of(struct tg_workers *w, uint32_t tid)
{
	struct wthread *t;

	for (size_t i = 0; i < w->n; i++)
		if (w->t[i].tid == tid)
			return &w->t[i];
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct wthread *v = realloc(w->t, cap * sizeof(*v));

		if (!v)
			return NULL;
		w->t = v;
		w->cap = cap;
	}
	t = &w->t[w->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	tg_thread_comm(w->pid, t->tid, t->comm, sizeof(t->comm)); /* at first sight: it may be gone by the end */
	return t;
}

static int add_window(struct wthread *t, uint64_t a, uint64_t b, uint64_t busy, uint64_t blocked)
{
	if (!busy)
		return 0;
	if (b < a)
		b = a;
	if (t->nwin >= MAX_WINDOWS) {
		struct window *l = &t->win[t->nwin - 1];

		l->b = b > l->b ? b : l->b;
		l->busy_ns += busy;
		l->blocked_ns += blocked;
		return 0;
	}
	if (t->nwin == t->capwin) {
		size_t cap = t->capwin ? 2 * t->capwin : 64;
		struct window *v = realloc(t->win, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->win = v;
		t->capwin = cap;
	}
	t->win[t->nwin++] = (struct window){ a, b, busy, blocked };
	return 0;
}

int tg_workers_add(struct tg_workers *w, uint32_t tid, const struct tg_worker_acc *acc)
{
	struct wthread *t = thread_of(w, tid);
	uint64_t busy, blocked, last_blocked, from;

	if (!t)
		return -ENOMEM;
	t->worker |= acc->worker != 0;
	if (t->seen && acc->busy_ns <= t->last.busy_ns)
		return 0;
	busy = acc->busy_ns - (t->seen ? t->last.busy_ns : 0);
	blocked = acc->blocked_ns - (t->seen ? t->last.blocked_ns : 0);
	if (blocked > busy)
		blocked = busy;
	last_blocked = acc->last_span ? acc->last_own_ns : 0;
	if (acc->last_own_ns > busy || last_blocked > blocked) /* cannot happen: keep it sane */
		last_blocked = 0;
	/* the polls before the last one: since the previous record (or, for the
	 * first, over the polls before it, ending at prev_end) */
	from = t->seen ? t->last.last_end_ns : acc->prev_end_ns;
	if (acc->last_own_ns <= busy &&
	    add_window(t, from, acc->prev_end_ns, busy - acc->last_own_ns, blocked - last_blocked))
		return -ENOMEM;
	if (acc->last_own_ns <= busy &&
	    add_window(t, acc->last_start_ns, acc->last_end_ns, acc->last_own_ns, last_blocked))
		return -ENOMEM;
	if (acc->last_own_ns > busy && add_window(t, from, acc->last_end_ns, busy, blocked))
		return -ENOMEM;
	t->last = *acc;
	t->seen = true;
	return 0;
}

/* Timeline seconds: whole seconds from T0; a last partial second of at least
 * TG_WORKERS_MIN_PART is a point of its own, a shorter one (an attach's few
 * microseconds past its duration) is part of the second before. */
static size_t seconds_of(uint64_t t0, uint64_t t1)
{
	uint64_t dur = t1 > t0 ? t1 - t0 : 0, n = dur / 1000000000ull;

	return (size_t)(n + (n == 0 || dur % 1000000000ull >= TG_WORKERS_MIN_PART ? 1 : 0));
}

static uint64_t second_end(size_t k, size_t nsec, uint64_t t0, uint64_t t1)
{
	uint64_t hi = t0 + (k + 1) * 1000000000ull;

	return k + 1 == nsec || hi > t1 ? t1 : hi;
}

/* Adds AMOUNT, spread evenly over [a, b], into per-second SEC[] of [T0, T1]:
 * the parts outside it are dropped. */
static void spread(double *sec, size_t nsec, uint64_t t0, uint64_t t1, uint64_t a, uint64_t b,
		   double amount)
{
	uint64_t len = b > a ? b - a : 0;
	size_t k;

	if (!nsec || b < t0 || a > t1)
		return;
	k = a > t0 ? (size_t)((a - t0) / 1000000000ull) : 0;
	if (k >= nsec)
		k = nsec - 1; /* in a short tail merged into the last second */
	if (!len) {
		sec[k] += amount;
		return;
	}
	for (; k < nsec; k++) {
		uint64_t lo = t0 + k * 1000000000ull, hi = second_end(k, nsec, t0, t1);
		uint64_t x = a > lo ? a : lo, y = b < hi ? b : hi;

		if (x >= b)
			return;
		if (y > x)
			sec[k] += amount * (double)(y - x) / (double)len;
	}
}

static double clamp_pct(double v)
{
	return v < 0 ? 0 : v > 100 ? 100 : v;
}

/* The part of window W inside [T0, T1] (polls after the stop, before the
 * probes detach, or before the target's release are outside the run). */
static double inside(const struct window *w, uint64_t t0, uint64_t t1)
{
	uint64_t a = w->a > t0 ? w->a : t0, b = w->b < t1 ? w->b : t1;

	if (w->b == w->a)
		return w->a >= t0 && w->a <= t1 ? 1.0 : 0.0;
	return b > a ? (double)(b - a) / (double)(w->b - w->a) : 0.0;
}

static int fill(struct tg_worker_util *u, const struct wthread *t, uint64_t t0, uint64_t t1)
{
	uint64_t dur = t1 > t0 ? t1 - t0 : 0;
	size_t nsec = dur ? seconds_of(t0, t1) : 0;

	memset(u, 0, sizeof(*u));
	u->tid = t->tid;
	u->name = t->comm;
	u->timeline = calloc(nsec ? nsec : 1, sizeof(*u->timeline));
	if (!u->timeline)
		return -ENOMEM;
	u->nseconds = nsec;
	for (size_t i = 0; i < t->nwin; i++) {
		double f = inside(&t->win[i], t0, t1);

		u->busy_ns += (uint64_t)(f * (double)t->win[i].busy_ns + 0.5);
		u->blocked_ns += (uint64_t)(f * (double)t->win[i].blocked_ns + 0.5);
		spread(u->timeline, nsec, t0, t1, t->win[i].a, t->win[i].b, (double)t->win[i].busy_ns);
	}
	for (size_t s = 0; s < nsec; s++) {
		uint64_t lo = t0 + s * 1000000000ull, hi = second_end(s, nsec, t0, t1);

		u->timeline[s] = clamp_pct(100.0 * u->timeline[s] / (double)(hi - lo));
	}
	u->busy_pct = dur ? clamp_pct(100.0 * (double)u->busy_ns / (double)dur) : 0;
	u->blocked_pct = dur ? clamp_pct(100.0 * (double)u->blocked_ns / (double)dur) : 0;
	if (u->blocked_pct > u->busy_pct)
		u->blocked_pct = u->busy_pct;
	u->idle_pct = 100.0 - u->busy_pct;
	return 0;
}

static int by_tid(const void *a, const void *b)
{
	const struct tg_worker_util *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

const struct tg_worker_util *tg_workers_compute(struct tg_workers *w, uint64_t t0, uint64_t t1,
						 size_t *n)
{
	*n = 0;
	free_out(w);
	w->out = calloc(w->n ? w->n : 1, sizeof(*w->out));
	if (!w->out)
		return NULL;
	for (size_t i = 0; i < w->n; i++) {
		if (!w->t[i].worker)
			continue;
		if (fill(&w->out[w->nout], &w->t[i], t0, t1))
			break;
		w->nout++;
	}
	qsort(w->out, w->nout, sizeof(*w->out), by_tid);
	*n = w->nout;
	return w->out;
}
