// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Turns the probe's event stream into spans, slices and task statistics.
 *
 * Samples and off-CPU intervals arrive before the poll they belong to has
 * ended, tagged (tid, seq); they wait in a pending list until that poll's
 * event says whether it was a blocking span (keep them) or not (drop them). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "hist.h"
#include "names.h"
#include "poll_probe.h"
#include "poll_sites.h"

#define MAX_PENDING 65536
#define MAX_SLICES (2u << 20)
#define MAX_FRAMES 512

struct pending {
	uint32_t tid, seq;
	struct tg_stack st;
};

struct tg_record {
	const struct tg_poll_sites *sites;
	uint64_t blocking_ns;
	uint64_t sample_period_ns;
	struct pending *pend;
	size_t npend, cappend;
	struct tg_span *spans;
	size_t nspans, capspans;
	struct tg_slice *slices;
	size_t nslices, capslices;
	struct tg_site_stats **site_stats;
	struct tg_task_summary *tasks;
	size_t ntasks;
	uint64_t dropped;
	_Atomic uint64_t progress_slices, progress_spans;
};

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

struct tg_record *tg_record_new(const struct tg_poll_sites *sites, uint64_t blocking_ns,
				uint32_t sample_rate)
{
	struct tg_record *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sites = sites;
	r->blocking_ns = blocking_ns;
	r->sample_period_ns = sample_rate ? 1000000000ull / sample_rate : 0;
	r->site_stats = calloc(sites->n ? sites->n : 1, sizeof(*r->site_stats));
	if (!r->site_stats) {
		free(r);
		return NULL;
	}
	return r;
}

static void free_stack(struct tg_stack *st)
{
	free(st->ips);
	free(st->top);
}

static void free_span(struct tg_span *s)
{
	for (size_t i = 0; i < s->nstacks; i++)
		free_stack(&s->stacks[i]);
	free(s->stacks);
	free(s->frames);
}

void tg_record_free(struct tg_record *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->npend; i++)
		free_stack(&r->pend[i].st);
	for (size_t i = 0; i < r->nspans; i++)
		free_span(&r->spans[i]);
	for (size_t i = 0; i < r->sites->n; i++)
		free(r->site_stats[i]);
	free(r->site_stats);
	free(r->pend);
	free(r->spans);
	free(r->slices);
	free(r->tasks);
	free(r);
}

static int on_stack(struct tg_record *r, const struct tg_stack_event *e, size_t size)
{
	size_t room = (size - offsetof(struct tg_stack_event, ips)) / sizeof(uint64_t);
	uint32_t nr = e->nr < room ? e->nr : (uint32_t)room;
	struct pending *p;

	if (nr > TG_MAX_STACK_DEPTH)
		nr = TG_MAX_STACK_DEPTH;
	if (r->npend >= MAX_PENDING ||
	    grow((void **)&r->pend, &r->cappend, r->npend + 1, sizeof(*r->pend))) {
		r->dropped++;
		return 0;
	}
	p = &r->pend[r->npend];
	p->tid = e->hdr.tid;
	p->seq = e->hdr.seq;
	p->st.ts_ns = e->ts_ns;
	p->st.offcpu = e->hdr.type == TG_EV_OFFCPU;
	p->st.weight_ns = p->st.offcpu ? e->duration_ns : r->sample_period_ns;
	p->st.nr = nr;
	p->st.ips = malloc((nr ? nr : 1) * sizeof(uint64_t));
	if (!p->st.ips) {
		r->dropped++;
		return 0;
	}
	memcpy(p->st.ips, e->ips, nr * sizeof(uint64_t));
	p->st.sp = 0;
	p->st.top = NULL;
	/* Without the top of the stack the skipped leaf caller stays skipped:
	 * that is a worse stack, not a lost one. */
	if (e->sp && (p->st.top = malloc(TG_STACK_TOP))) {
		p->st.sp = e->sp;
		memcpy(p->st.top, e->top, TG_STACK_TOP);
	}
	r->npend++;
	return 0;
}

static size_t count_pending(const struct tg_record *r, uint32_t tid, uint32_t seq)
{
	size_t n = 0;

	for (size_t i = 0; i < r->npend; i++)
		n += r->pend[i].tid == tid && r->pend[i].seq == seq;
	return n;
}

/* Moves the stacks of poll (tid, seq) into SPAN (when given) and drops the
 * thread's stacks of polls opened after it: nested polls that have ended. */
static void take_pending(struct tg_record *r, uint32_t tid, uint32_t seq, struct tg_span *span)
{
	size_t i, kept = 0, n = span ? count_pending(r, tid, seq) : 0;

	if (n) {
		span->stacks = calloc(n, sizeof(*span->stacks));
		if (!span->stacks)
			r->dropped += n;
	}
	for (i = 0; i < r->npend; i++) {
		struct pending *p = &r->pend[i];

		if (p->tid != tid || p->seq < seq)
			r->pend[kept++] = *p;
		else if (p->seq == seq && span && span->stacks)
			span->stacks[span->nstacks++] = p->st;
		else
			free_stack(&p->st);
	}
	r->npend = kept;
}

static int on_poll(struct tg_record *r, const struct tg_poll_event *e)
{
	struct tg_slice s = {
		.tid = e->hdr.tid, .site = e->hdr.site, .task_id = e->task_id,
		.start_ns = e->start_ns, .duration_ns = e->duration_ns,
		.off_cpu_ns = e->off_cpu_ns, .runq_ns = e->runq_ns,
	};
	struct tg_span *span;

	if (r->nslices < MAX_SLICES &&
	    !grow((void **)&r->slices, &r->capslices, r->nslices + 1, sizeof(s)))
		r->slices[r->nslices++] = s;
	else
		r->dropped++;
	atomic_fetch_add(&r->progress_slices, 1);
	/* The same rule as the BPF side's is_span(): run-queue waits and nested
	 * spans do not make a span. */
	if (e->duration_ns < r->blocking_ns + e->child_span_ns + e->runq_ns ||
	    e->hdr.site >= r->sites->n || r->sites->v[e->hdr.site].kind != TG_SITE_RUNTIME) {
		take_pending(r, s.tid, e->hdr.seq, NULL);
		return 0;
	}
	if (grow((void **)&r->spans, &r->capspans, r->nspans + 1, sizeof(*r->spans)))
		return -ENOMEM;
	span = &r->spans[r->nspans++];
	memset(span, 0, sizeof(*span));
	span->poll = s;
	span->samples = e->samples;
	span->culprit = -1;
	span->on_cpu_ns = e->duration_ns - (e->off_cpu_ns + e->runq_ns < e->duration_ns ?
					    e->off_cpu_ns + e->runq_ns : e->duration_ns);
	take_pending(r, s.tid, e->hdr.seq, span);
	atomic_fetch_add(&r->progress_spans, 1);
	return 0;
}

int tg_record_on_event(void *ctx, void *data, size_t size)
{
	struct tg_record *r = ctx;
	const struct tg_event_hdr *h = data;

	if (size < sizeof(*h))
		return 0;
	switch (h->type) {
	case TG_EV_POLL:
		return size >= sizeof(struct tg_poll_event) ? on_poll(r, data) : 0;
	case TG_EV_SAMPLE:
	case TG_EV_OFFCPU:
		return size >= offsetof(struct tg_stack_event, ips) ? on_stack(r, data, size) : 0;
	}
	return 0;
}

void tg_record_progress(const struct tg_record *r, uint64_t *slices, uint64_t *spans)
{
	*slices = atomic_load(&r->progress_slices);
	*spans = atomic_load(&r->progress_spans);
}

int tg_record_set_site_stats(struct tg_record *r, uint32_t site, const struct tg_site_stats *s)
{
	if (site >= r->sites->n)
		return -EINVAL;
	if (!r->site_stats[site] && !(r->site_stats[site] = malloc(sizeof(*s))))
		return -ENOMEM;
	memcpy(r->site_stats[site], s, sizeof(*s));
	return 0;
}

/* ---- culprits */

/* Where a task's poll enters Tokio: raw::poll is often a tail-jump thunk that
 * never shows in a stack, so Harness::poll and poll_future count too. */
static bool is_poll_entry(const char *fn)
{
	static const char *const entries[] = {
		"tokio::runtime::task::raw::poll",
		"tokio::runtime::task::harness::Harness<T,S>::poll",
		"tokio::runtime::task::harness::Harness<T, S>::poll",
		"tokio::runtime::task::harness::poll_future",
	};

	for (size_t i = 0; fn && i < sizeof(entries) / sizeof(entries[0]); i++) {
		size_t n = strlen(entries[i]);

		if (strncmp(fn, entries[i], n) == 0 && (fn[n] == 0 || fn[n] == '<'))
			return true;
	}
	return false;
}

/* The stack's return addresses, with the caller of a leaf that keeps no
 * frame pointer (a libc syscall wrapper called from inlined std code) put
 * back: the frame-pointer walk skips it, the leaf's CFI finds its return
 * address in the copied top of the stack. */
static uint32_t stack_addresses(struct tg_symbolizer *sz, const struct tg_stack *st,
				uint64_t *out)
{
	uint64_t ra;
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->nr; i++) {
		out[n++] = st->ips[i];
		if (i == 0 && st->top &&
		    tg_leaf_return_address(sz, st->ips[0], st->sp, st->top, TG_STACK_TOP, &ra) == 0 &&
		    (st->nr < 2 || st->ips[1] != ra))
			out[n++] = ra;
	}
	return n;
}

/* Symbolizes a stack, innermost first, cut after the frame where the poll
 * entered Tokio: what lies below is the worker loop, the same for every span. */
static int symbolize_stack(struct tg_symbolizer *sz, const struct tg_stack *st,
			   struct tg_frame *out, int max)
{
	uint64_t addrs[TG_MAX_STACK_DEPTH + 1];
	uint32_t na = stack_addresses(sz, st, addrs);
	int n = 0;

	for (uint32_t i = 0; i < na && n < max; i++) {
		int k = tg_symbolize(sz, addrs[i], i > 0, out + n, max - n);

		for (int j = n; j < n + k; j++) {
			if (is_poll_entry(out[j].function))
				return j + 1;
		}
		n += k;
	}
	return n;
}

/* The culprit is the innermost frame of the target's own code; failing
 * that, the innermost frame with a name. */
static int pick_culprit(const struct tg_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		if (f[i].own)
			return i;
	for (int i = 0; i < n; i++)
		if (f[i].function && f[i].function[0] != '[')
			return i;
	return n ? 0 : -1;
}

static bool same_frame(const struct tg_frame *a, const struct tg_frame *b)
{
	return a->line == b->line && a->function && b->function &&
	       strcmp(a->function, b->function) == 0 &&
	       (a->file == b->file || (a->file && b->file && strcmp(a->file, b->file) == 0));
}

struct candidate {
	struct tg_frame *frames; /* of the heaviest stack naming this culprit */
	int nframes, culprit;
	uint64_t best_weight;    /* that stack's weight */
	uint64_t total;          /* all stacks naming this culprit */
};

static void add_candidate(struct candidate *c, size_t *nc, struct tg_frame *f, int n, int k,
			  uint64_t w)
{
	size_t i;

	for (i = 0; i < *nc; i++)
		if (same_frame(&c[i].frames[c[i].culprit], &f[k]))
			break;
	if (i == *nc) {
		c[i] = (struct candidate){ .frames = NULL, .culprit = k };
		(*nc)++;
	}
	c[i].total += w;
	if (!c[i].frames || w > c[i].best_weight) {
		struct tg_frame *copy = malloc((size_t)n * sizeof(*f));

		/* out of memory: an existing candidate keeps its stack */
		if (copy) {
			memcpy(copy, f, (size_t)n * sizeof(*f));
			free(c[i].frames);
			c[i].frames = copy;
			c[i].nframes = n;
			c[i].culprit = k;
			c[i].best_weight = w;
		}
	}
	if (!c[i].frames) /* only a new candidate, the last one, has none */
		(*nc)--;
}

/* Each stack votes for its culprit with its weight (off-CPU time or a sample
 * period); the span keeps the winner and its heaviest stack. */
static void resolve_span(struct tg_span *s, struct tg_symbolizer *sz)
{
	struct tg_frame *buf = calloc(MAX_FRAMES, sizeof(*buf));
	struct candidate *c = calloc(s->nstacks ? s->nstacks : 1, sizeof(*c));
	size_t nc = 0, best = 0;

	for (size_t i = 0; buf && c && i < s->nstacks; i++) {
		int n = symbolize_stack(sz, &s->stacks[i], buf, MAX_FRAMES);
		int k = pick_culprit(buf, n);

		if (k >= 0)
			add_candidate(c, &nc, buf, n, k, s->stacks[i].weight_ns ? s->stacks[i].weight_ns : 1);
	}
	for (size_t i = 1; i < nc; i++)
		if (c[i].total > c[best].total)
			best = i;
	if (nc) {
		s->frames = c[best].frames;
		s->nframes = c[best].nframes;
		s->culprit = c[best].culprit;
		c[best].frames = NULL;
	}
	for (size_t i = 0; c && i < nc; i++)
		free(c[i].frames);
	free(c);
	free(buf);
}

void tg_record_resolve(struct tg_record *r, struct tg_symbolizer *sz)
{
	for (size_t i = 0; i < r->nspans; i++)
		if (!r->spans[i].frames)
			resolve_span(&r->spans[i], sz);
}

/* ---- tasks */

static struct tg_task_summary *find_task(struct tg_task_summary *t, size_t n, const char *name,
					 bool blocking_pool)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].blocking_pool == blocking_pool && strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static void summarize(struct tg_task_summary *t, const struct tg_site_stats *h)
{
	t->p50_ns = tg_hist_quantile(h->hist, h->polls, 0.50, h->max_ns);
	t->p90_ns = tg_hist_quantile(h->hist, h->polls, 0.90, h->max_ns);
	t->p99_ns = tg_hist_quantile(h->hist, h->polls, 0.99, h->max_ns);
	t->p999_ns = tg_hist_quantile(h->hist, h->polls, 0.999, h->max_ns);
}

static int task_cmp(const void *a, const void *b)
{
	const struct tg_task_summary *x = a, *y = b;

	if (x->blocking_pool != y->blocking_pool)
		return x->blocking_pool - y->blocking_pool;
	return x->busy_ns < y->busy_ns ? 1 : x->busy_ns > y->busy_ns ? -1 : strcmp(x->name, y->name);
}

/* Sites sharing a task name (one future type on two schedulers) are merged;
 * the merged histogram lives only while the summary is computed. */
static void merge_site(struct tg_task_summary *t, struct tg_site_stats *acc,
		       const struct tg_site_stats *s)
{
	t->sites++;
	t->polls += s->polls;
	t->busy_ns += s->busy_ns;
	t->blocking_spans += s->blocking_spans;
	if (s->max_ns > t->max_ns)
		t->max_ns = s->max_ns;
	acc->polls += s->polls;
	acc->max_ns = t->max_ns;
	for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
		acc->hist[b] += s->hist[b];
}

const struct tg_task_summary *tg_record_tasks(struct tg_record *r, size_t *n)
{
	struct tg_site_stats *acc;

	*n = 0;
	free(r->tasks);
	r->ntasks = 0;
	r->tasks = calloc(r->sites->n ? r->sites->n : 1, sizeof(*r->tasks));
	acc = malloc(sizeof(*acc));
	if (!r->tasks || !acc) {
		free(acc);
		return NULL;
	}
	for (size_t i = 0; i < r->sites->n; i++) {
		const struct tg_poll_site *site = &r->sites->v[i];
		bool bp = site->kind == TG_SITE_BLOCKING;
		struct tg_task_summary *t;

		if (!r->site_stats[i] || find_task(r->tasks, r->ntasks, site->task_name, bp))
			continue;
		t = &r->tasks[r->ntasks++];
		t->name = site->task_name;
		t->blocking_pool = bp;
		memset(acc, 0, sizeof(*acc));
		for (size_t j = i; j < r->sites->n; j++) {
			const struct tg_poll_site *o = &r->sites->v[j];

			if (r->site_stats[j] && (o->kind == TG_SITE_BLOCKING) == bp &&
			    strcmp(o->task_name, site->task_name) == 0)
				merge_site(t, acc, r->site_stats[j]);
		}
		summarize(t, acc);
	}
	free(acc);
	qsort(r->tasks, r->ntasks, sizeof(*r->tasks), task_cmp);
	*n = r->ntasks;
	return r->tasks;
}

uint64_t tg_record_total_polls(const struct tg_record *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->sites->n; i++)
		if (r->site_stats[i] && r->sites->v[i].kind == TG_SITE_RUNTIME)
			n += r->site_stats[i]->polls;
	return n;
}

const struct tg_span *tg_record_spans(const struct tg_record *r, size_t *n)
{
	*n = r->nspans;
	return r->spans;
}

const struct tg_slice *tg_record_slices(const struct tg_record *r, size_t *n)
{
	*n = r->nslices;
	return r->slices;
}

uint64_t tg_record_dropped(const struct tg_record *r)
{
	return r->dropped;
}

const char *tg_record_site_name(const struct tg_record *r, uint32_t site)
{
	return site < r->sites->n ? r->sites->v[site].task_name : "unknown";
}
