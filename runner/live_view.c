/* The live view's content and screen. A row per culprit rather than per span:
 * a server that blocks the same way a thousand times is one line that counts,
 * and the worst lines stay on a screen of any height. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_view.h"
#include "spec.h"

static bool same_row(const struct tg_live_row *r, const char *task, const char *culprit,
		     const char *where, enum tg_block_kind kind)
{
	return r->kind == kind && !strcmp(r->task, task) && !strcmp(r->culprit, culprit) &&
	       !strcmp(r->where, where);
}

static struct tg_live_worker *worker(struct tg_live_view *v, uint32_t tid)
{
	for (size_t i = 0; i < v->nworkers; i++)
		if (v->workers[i].tid == tid)
			return &v->workers[i];
	return NULL;
}

const struct tg_live_row *tg_live_add_span(struct tg_live_view *v, const char *task,
					   const char *culprit, const char *where,
					   enum tg_block_kind kind, uint64_t duration_ns,
					   uint64_t end_ns, uint32_t tid, uint64_t off_cpu_ns,
					   bool *fresh)
{
	struct tg_live_worker *w = worker(v, tid);
	struct tg_live_row *r = NULL;

	task = task ? task : "?";
	culprit = culprit ? culprit : "(no culprit)";
	where = where ? where : "";
	*fresh = false;
	v->spans++;
	if (w && duration_ns && end_ns >= duration_ns) {
		w->blocks[w->block_head] = (struct tg_live_block){ end_ns - duration_ns, end_ns,
								    off_cpu_ns };
		w->block_head = (w->block_head + 1) % TG_LIVE_BLOCKS;
		if (w->nblocks < TG_LIVE_BLOCKS)
			w->nblocks++;
	}
	for (size_t i = 0; i < v->nrows && !r; i++)
		if (same_row(&v->rows[i], task, culprit, where, kind))
			r = &v->rows[i];
	if (!r) {
		if (v->nrows == TG_LIVE_MAX_ROWS) {
			v->other_spans++;
			return NULL;
		}
		r = &v->rows[v->nrows++];
		memset(r, 0, sizeof(*r));
		snprintf(r->task, sizeof(r->task), "%s", task);
		snprintf(r->culprit, sizeof(r->culprit), "%s", culprit);
		snprintf(r->where, sizeof(r->where), "%s", where);
		r->kind = kind;
		*fresh = true;
	}
	r->count++;
	if (duration_ns > r->worst_ns)
		r->worst_ns = duration_ns;
	r->last_ns = end_ns;
	return r;
}

void tg_live_worker_point(struct tg_live_view *v, uint32_t tid, uint32_t no, const char *name,
			  uint64_t now_ns, uint64_t cpu_ns)
{
	struct tg_live_worker *w = worker(v, tid);

	if (!w) {
		if (v->nworkers == TG_LIVE_MAX_WORKERS)
			return;
		w = &v->workers[v->nworkers++];
		memset(w, 0, sizeof(*w));
		w->tid = tid;
	}
	w->no = no;
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
	w->pts[w->head] = (struct tg_live_point){ now_ns, cpu_ns };
	w->head = (w->head + 1) % TG_LIVE_WINDOW;
	if (w->npts < TG_LIVE_WINDOW)
		w->npts++;
}

static double pct(uint64_t part, uint64_t whole)
{
	double p = whole ? 100.0 * (double)part / (double)whole : 0;

	return p > 100 ? 100 : p;
}

/* Off-CPU time of the worker's blocking polls inside [FROM, TO). */
static uint64_t blocked_in(const struct tg_live_worker *w, uint64_t from, uint64_t to)
{
	double sum = 0;

	for (size_t i = 0; i < w->nblocks; i++) {
		const struct tg_live_block *b = &w->blocks[i];
		uint64_t lo = b->start_ns > from ? b->start_ns : from;
		uint64_t hi = b->end_ns < to ? b->end_ns : to;

		if (hi > lo && b->end_ns > b->start_ns)
			sum += (double)b->off_cpu_ns * (double)(hi - lo) / (double)(b->end_ns - b->start_ns);
	}
	return (uint64_t)sum;
}

bool tg_live_worker_shares(const struct tg_live_worker *w, double *cpu_pct, double *blocked_pct)
{
	const struct tg_live_point *newest, *oldest;

	if (w->npts < 2)
		return false;
	newest = &w->pts[(w->head + TG_LIVE_WINDOW - 1) % TG_LIVE_WINDOW];
	oldest = &w->pts[(w->head + TG_LIVE_WINDOW - w->npts) % TG_LIVE_WINDOW];
	if (newest->ts_ns <= oldest->ts_ns)
		return false;
	*cpu_pct = pct(newest->cpu_ns - oldest->cpu_ns, newest->ts_ns - oldest->ts_ns);
	*blocked_pct = pct(blocked_in(w, oldest->ts_ns, newest->ts_ns), newest->ts_ns - oldest->ts_ns);
	return true;
}

void tg_live_polls(struct tg_live_view *v, uint64_t now_ns, uint64_t total_polls)
{
	/* a rate over at least a second, so that it does not jitter */
	if (!v->polls_ts || now_ns - v->polls_ts >= 1000000000ull) {
		v->polls_prev = v->polls;
		v->polls_prev_ts = v->polls_ts;
		v->polls_ts = now_ns;
	}
	v->polls = total_polls;
}

void tg_live_line(const struct tg_live_row *r, char *buf, size_t len)
{
	char d[32];

	tg_format_duration(r->worst_ns, d, sizeof d);
	snprintf(buf, len, "tokio-guard: new culprit: %s %s in %s at %s%s%s%s", d,
		 tg_block_kind_name(r->kind), r->task, r->culprit, r->where[0] ? " (" : "", r->where,
		 r->where[0] ? ")" : "");
}

/* ---- the screen */

struct screen {
	char *buf;
	size_t len, n;
	int width, lines, height;
};

/* One line, cut at WIDTH columns (UTF-8 aware: never half a character). */
static void put_line(struct screen *s, const char *text)
{
	size_t n = 0;
	int cols = 0;

	if (s->lines >= s->height)
		return;
	while (text[n] && cols < s->width) {
		n++;
		while ((text[n] & 0xc0) == 0x80)
			n++;
		cols++;
	}
	if (s->n + n + 5 < s->len) {
		memcpy(s->buf + s->n, text, n);
		s->n += n;
		memcpy(s->buf + s->n, "\033[K\n", 4);
		s->n += 4;
	}
	s->lines++;
}

static void bar(char *buf, size_t len, double cpu, double blocked)
{
	int c = (int)(cpu / 10 + 0.5), b = (int)(blocked / 10 + 0.5), i = 0;
	size_t n = 0;

	if (c + b > 10)
		b = 10 - c;
	for (; i < 10 && n + 4 < len; i++) {
		const char *glyph = i < c ? "\u2588" : i < c + b ? "\u2592" : "\u00b7";

		memcpy(buf + n, glyph, strlen(glyph));
		n += strlen(glyph);
	}
	buf[n] = 0;
}

static void header(struct screen *s, const struct tg_live_view *v)
{
	char line[512], el[32], rate[32] = "-";
	uint64_t dt = v->polls_ts - v->polls_prev_ts;

	tg_format_duration(v->now_ns > v->t0_ns ? v->now_ns - v->t0_ns : 0, el, sizeof el);
	if (v->polls_prev_ts && dt)
		snprintf(rate, sizeof rate, "%.0f/s",
			 (double)(v->polls - v->polls_prev) * 1e9 / (double)dt);
	snprintf(line, sizeof line, "tokio-guard live  %s  %s  polls %s  blocking spans %llu   "
		 "q: quit", v->title, el, rate, (unsigned long long)v->spans);
	put_line(s, line);
}

static void workers(struct screen *s, const struct tg_live_view *v)
{
	char line[512], b[64];

	put_line(s, "");
	put_line(s, "WORKER                        BUSY    CPU  BLOCKED  (last 2s)");
	for (size_t i = 0; i < v->nworkers; i++) {
		const struct tg_live_worker *w = &v->workers[i];
		double cpu = 0, blocked = 0;
		char who[64];

		snprintf(who, sizeof who, "#%u %s %u", w->no, w->name, w->tid);
		if (!tg_live_worker_shares(w, &cpu, &blocked)) {
			snprintf(line, sizeof line, "%-28.28s     -      -        -", who);
		} else {
			bar(b, sizeof b, cpu, blocked);
			snprintf(line, sizeof line, "%-28.28s  %3.0f%%   %3.0f%%     %3.0f%%  %s", who,
				 cpu + blocked > 100 ? 100 : cpu + blocked, cpu, blocked, b);
		}
		put_line(s, line);
	}
}

static int worst_first(const void *a, const void *b)
{
	const struct tg_live_row *x = *(const struct tg_live_row *const *)a;
	const struct tg_live_row *y = *(const struct tg_live_row *const *)b;

	if (x->worst_ns != y->worst_ns)
		return x->worst_ns > y->worst_ns ? -1 : 1;
	return x->count != y->count ? (x->count > y->count ? -1 : 1) : 0;
}

static void rows(struct screen *s, const struct tg_live_view *v)
{
	const struct tg_live_row *order[TG_LIVE_MAX_ROWS];
	char line[1024], d[32];
	size_t shown;

	put_line(s, "");
	put_line(s, "WORST      COUNT  KIND       TASK → CULPRIT (file:line)       * = in the last 2s");
	if (!v->nrows)
		put_line(s, "(no blocking span yet)");
	for (size_t i = 0; i < v->nrows; i++)
		order[i] = &v->rows[i];
	qsort(order, v->nrows, sizeof(order[0]), worst_first);
	/* keep a line for "... more" when the screen is too short for every row */
	shown = v->nrows;
	if (s->lines + (int)shown > s->height)
		shown = s->height - s->lines > 1 ? (size_t)(s->height - s->lines - 1) : 0;
	for (size_t i = 0; i < shown; i++) {
		const struct tg_live_row *r = order[i];
		bool recent = v->now_ns >= r->last_ns && v->now_ns - r->last_ns < 2000000000ull;

		tg_format_duration(r->worst_ns, d, sizeof d);
		snprintf(line, sizeof line, "%-9s %6llu  %-8s %s %s → %s%s%s%s", d,
			 (unsigned long long)r->count, tg_block_kind_name(r->kind), recent ? "*" : " ",
			 r->task, r->culprit, r->where[0] ? " (" : "", r->where, r->where[0] ? ")" : "");
		put_line(s, line);
	}
	if (shown < v->nrows || v->other_spans) {
		snprintf(line, sizeof line, "... %zu more culprits%s", v->nrows - shown,
			 v->other_spans ? " (and spans past the table's size)" : "");
		put_line(s, line);
	}
}

size_t tg_live_render(const struct tg_live_view *v, int width, int height, char *buf, size_t len)
{
	struct screen s = { buf, len, 0, width > 20 ? width : 20, 0, height > 8 ? height : 8 };

	if (!len)
		return 0;
	header(&s, v);
	workers(&s, v);
	rows(&s, v);
	buf[s.n < len ? s.n : len - 1] = 0;
	return s.n;
}
