// SPDX-License-Identifier: MIT
/* Turns the probe's event stream into spans, slices and task statistics.
 *
 * Samples and off-CPU intervals arrive before the poll they belong to has
 * ended, tagged (tid, seq); they wait in a pending list until that poll's
 * event says whether it was a blocking span (keep them) or not (drop them).
 *
 * This file: the event stream, the threads and the tasks; culprit.c resolves
 * each span's stack to a culprit frame. */
#include "record_parts.h"
#include "grow.h"
#include "hist.h"
#include "poll_sites.h"
#include "unwind.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tg_record *tg_record_new(const struct tg_poll_sites *sites, uint64_t blocking_ns,
				uint32_t sample_rate)
{
	struct tg_record *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sites = sites;
	r->blocking_ns = blocking_ns;
	r->keep_slices = TG_KEEP_SLICES;
	r->sample_period_ns = sample_rate ? 1000000000ull / sample_rate : 0;
	r->site_stats = calloc(sites->n ? sites->n : 1, sizeof(*r->site_stats));
	r->sched_stats = calloc(sites->n ? sites->n : 1, sizeof(*r->sched_stats));
	if (!r->site_stats || !r->sched_stats) {
		free(r->site_stats);
		free(r->sched_stats);
		free(r);
		return NULL;
	}
	return r;
}

static void free_stack(struct tg_stack *st)
{
	free(st->ips);
	free(st->top);
	free(st->copy);
}

static void free_span(struct tg_span *s)
{
	for (size_t i = 0; i < s->nstacks; i++)
		free_stack(&s->stacks[i]);
	free(s->stacks);
	free(s->frames);
	free(s->functions);
	free(s->delayed);
}

void tg_record_free(struct tg_record *r)
{
	if (!r)
		return;
	tg_workers_free(r->workers);
	for (size_t i = 0; i < r->npend; i++)
		free_stack(&r->pend[i].st);
	for (size_t i = 0; i < r->nspans; i++)
		free_span(&r->spans[i]);
	for (size_t i = 0; i < r->sites->n; i++) {
		free(r->site_stats[i]);
		free(r->sched_stats[i]);
	}
	free(r->site_stats);
	free(r->sched_stats);
	free(r->task_hist);
	free(r->fn_hist);
	free(r->threads);
	free(r->pub_threads);
	free(r->samples);
	free(r->pend);
	free(r->spans);
	free(r->slices);
	free(r->tasks);
	tg_span_heap_free(&r->stacked);
	free(r);
}

/* A pending stack of the poll (H's tid, seq), or NULL when it is dropped
 * (counted). The caller fills the stack and then counts it in with add_pending. */
static struct pending *new_pending(struct tg_record *r, const struct tg_event_hdr *h, uint64_t ts_ns,
				   uint64_t duration_ns, bool offcpu)
{
	struct pending *p;

	if (r->npend >= MAX_PENDING ||
	    tg_grow((void **)&r->pend, &r->cappend, r->npend + 1, sizeof(*r->pend))) {
		r->dropped++;
		return NULL;
	}
	p = &r->pend[r->npend];
	memset(p, 0, sizeof(*p));
	p->tid = h->tid;
	p->seq = h->seq;
	p->st.ts_ns = ts_ns;
	p->st.offcpu = offcpu;
	p->st.weight_ns = offcpu ? duration_ns : r->sample_period_ns;
	return p;
}

static void add_pending(struct tg_record *r, struct pending *p)
{
	r->npend++;
	r->pend_by_tid[p->tid % PEND_BUCKETS]++;
}

static int on_stack(struct tg_record *r, const struct tg_stack_event *e, size_t size)
{
	size_t room = (size - offsetof(struct tg_stack_event, ips)) / sizeof(uint64_t);
	uint32_t nr = e->nr < room ? e->nr : (uint32_t)room;
	struct pending *p = new_pending(r, &e->hdr, e->ts_ns, e->duration_ns, e->hdr.type == TG_EV_OFFCPU);

	if (!p)
		return 0;
	if (nr > TG_MAX_STACK_DEPTH)
		nr = TG_MAX_STACK_DEPTH;
	p->st.nr = nr;
	p->st.ips = malloc((nr ? nr : 1) * sizeof(uint64_t));
	if (!p->st.ips) {
		r->dropped++;
		return 0;
	}
	memcpy(p->st.ips, e->ips, nr * sizeof(uint64_t));
	/* Without the top of the stack the skipped leaf caller stays skipped:
	 * that is a worse stack, not a lost one. */
	if (e->sp && (p->st.top = malloc(TG_STACK_TOP))) {
		p->st.sp = e->sp;
		memcpy(p->st.top, e->top, TG_STACK_TOP);
	}
	add_pending(r, p);
	return 0;
}

/* DWARF mode: the copy waits, like the addresses above, for its poll's end;
 * only a span's copies are unwound (tg_record_resolve). */
static int on_copy(struct tg_record *r, const struct tg_copy_event *e, size_t size)
{
	struct pending *p = new_pending(r, &e->hdr, e->ts_ns, e->duration_ns,
					e->hdr.type == TG_EV_OFFCPU_COPY);

	if (!p)
		return 0;
	p->st.copy = tg_stack_copy_new(e, size);
	if (!p->st.copy) {
		r->dropped++; /* cut short, or out of memory (an unreadable stack is not sent) */
		return 0;
	}
	add_pending(r, p);
	return 0;
}

static size_t count_pending(const struct tg_record *r, uint32_t tid, uint32_t seq)
{
	size_t n = 0;

	for (size_t i = 0; i < r->npend; i++)
		n += r->pend[i].tid == tid && r->pend[i].seq == seq;
	return n;
}

/* A thread has at most TG_MAX_NEST - 1 polls open around the one ending:
 * stacks of more older polls than that are of polls whose event was lost (ring
 * buffer full) and would wait forever, slowing every poll's take_pending.
 * Returns the oldest seq that can still be open. */
static uint32_t oldest_open(const struct tg_record *r, uint32_t tid, uint32_t seq)
{
	uint32_t open[TG_MAX_NEST - 1], low = 0;
	size_t n = 0;

	for (size_t i = 0; i < r->npend; i++) {
		const struct pending *p = &r->pend[i];
		size_t j, min = 0;

		if (p->tid != tid || p->seq >= seq)
			continue;
		for (j = 0; j < n && open[j] != p->seq; j++)
			min = open[j] < open[min] ? j : min;
		if (j < n)
			continue;
		if (n < TG_MAX_NEST - 1)
			open[n++] = p->seq;
		else if (p->seq > open[min])
			open[min] = p->seq;
	}
	for (size_t j = 0; n == TG_MAX_NEST - 1 && j < n; j++)
		low = !j || open[j] < low ? open[j] : low;
	return low;
}

/* Moves the stacks of poll (tid, seq) into SPAN (when given) and drops the
 * thread's stacks of polls opened after it: nested polls that have ended. */
static void take_pending(struct tg_record *r, uint32_t tid, uint32_t seq, struct tg_span *span)
{
	uint32_t *left = &r->pend_by_tid[tid % PEND_BUCKETS], open;
	size_t i, kept = 0, n;

	if (!*left)
		return;
	n = span ? count_pending(r, tid, seq) : 0;
	open = oldest_open(r, tid, seq);
	if (n) {
		span->stacks = calloc(n, sizeof(*span->stacks));
		if (!span->stacks)
			r->dropped += n;
	}
	for (i = 0; i < r->npend; i++) {
		struct pending *p = &r->pend[i];

		if (p->tid != tid || (p->seq < seq && p->seq >= open)) {
			r->pend[kept++] = *p;
			continue;
		}
		if (p->seq == seq && span && span->stacks)
			span->stacks[span->nstacks++] = p->st;
		else
			free_stack(&p->st);
		--*left;
	}
	r->npend = kept;
}

void tg_record_set_keep_slices(struct tg_record *r, size_t n)
{
	r->keep_slices = n >= 2 ? n : 2;
}

void tg_record_set_pid(struct tg_record *r, int pid)
{
	r->pid = pid;
}

void tg_thread_comm(int pid, uint32_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = 0;
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%u/comm", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void note_thread(struct tg_record *r, const struct tg_slice *s, bool runtime)
{
	struct thread *t = NULL;

	for (size_t i = r->nthreads; i-- > 0;)
		if (r->threads[i].tid == s->tid) {
			t = &r->threads[i];
			break;
		}
	if (!t) {
		if (r->nthreads >= MAX_THREADS ||
		    tg_grow((void **)&r->threads, &r->capthreads, r->nthreads + 1, sizeof(*t)))
			return;
		t = &r->threads[r->nthreads++];
		memset(t, 0, sizeof(*t));
		t->tid = s->tid;
		tg_thread_comm(r->pid, t->tid, t->comm, sizeof(t->comm)); /* at first sight: it may be gone by the end */
	}
	t->slices++;
	if (runtime && (!t->worker || s->start_ns < t->first_runtime_ns)) {
		t->worker = true;
		t->first_runtime_ns = s->start_ns;
	}
}

/* Polls for the trace, the longest TG_KEEP_SLICES: when full, the shorter
 * half goes and the floor rises (the trace writer's own rule, applied early). */
static void keep_slice(struct tg_record *r, const struct tg_slice *s)
{
	if (s->duration_ns < r->caps.slice_floor_ns) {
		r->caps.slices_dropped++;
		return;
	}
	if (r->nslices >= r->keep_slices) {
		size_t n = tg_slices_raise_floor(r->slices, r->nslices, &r->caps.slice_floor_ns);

		r->caps.slices_dropped += r->nslices - n;
		r->nslices = n;
		if (s->duration_ns < r->caps.slice_floor_ns) {
			r->caps.slices_dropped++;
			return;
		}
	}
	if (tg_grow((void **)&r->slices, &r->capslices, r->nslices + 1, sizeof(*s)))
		r->dropped++;
	else
		r->slices[r->nslices++] = *s;
}

size_t span_stack_bytes(const struct tg_span *sp)
{
	size_t b = 0;

	for (size_t i = 0; i < sp->nstacks; i++)
		b += tg_stack_bytes(&sp->stacks[i]);
	return b;
}

static void drop_stacks(struct tg_record *r, struct tg_span *sp)
{
	for (size_t i = 0; i < sp->nstacks; i++)
		free_stack(&sp->stacks[i]);
	free(sp->stacks);
	sp->stacks = NULL;
	sp->nstacks = 0;
	sp->stacks_dropped = true;
	r->caps.spans_stackless++;
}

/* Stacks for the longest spans, TG_KEEP_STACK_BYTES in all: a new span's
 * take the place of shorter spans' (which keep their times, not their
 * culprit), or go when every span holding stacks is longer. */
static void budget_stacks(struct tg_record *r, uint32_t idx)
{
	struct tg_span *sp = &r->spans[idx];
	uint64_t key = tg_slice_own_ns(&sp->poll), k;
	size_t need = span_stack_bytes(sp);
	uint32_t victim;

	sp->stacks_seen = sp->nstacks;
	if (!sp->nstacks)
		return;
	while (r->stack_bytes + need > TG_KEEP_STACK_BYTES && r->stacked.n && r->stacked.v[0].key < key &&
	       tg_span_heap_pop(&r->stacked, &k, &victim)) {
		if (victim < r->resolved)
			continue; /* resolved since: holds no raw stacks */
		r->stack_bytes -= span_stack_bytes(&r->spans[victim]);
		drop_stacks(r, &r->spans[victim]);
	}
	if (r->stack_bytes + need > TG_KEEP_STACK_BYTES || tg_span_heap_push(&r->stacked, key, idx)) {
		drop_stacks(r, sp);
		return;
	}
	r->stack_bytes += need;
}

static int on_poll(struct tg_record *r, const struct tg_poll_event *e)
{
	struct tg_slice s = {
		.tid = e->hdr.tid, .site = e->hdr.site, .task_id = e->task_id,
		.start_ns = e->start_ns, .duration_ns = e->duration_ns,
		.off_cpu_ns = e->off_cpu_ns, .runq_ns = e->runq_ns,
	};
	struct tg_span *span;
	bool runtime = e->hdr.site < r->sites->n && r->sites->v[e->hdr.site].kind != TG_SITE_BLOCKING;

	/* a block_on body's thread (main) is no worker, unless it also runs tasks */
	note_thread(r, &s, runtime && r->sites->v[e->hdr.site].kind == TG_SITE_RUNTIME);
	keep_slice(r, &s);
	atomic_fetch_add(&r->progress_slices, 1);
	/* The same rule as the BPF side's is_span(): run-queue waits and nested
	 * spans do not make a span. */
	if (e->duration_ns < r->blocking_ns + e->child_span_ns + e->runq_ns || !runtime) {
		take_pending(r, s.tid, e->hdr.seq, NULL);
		return 0;
	}
	if (r->nspans >= TG_KEEP_SPANS) {
		r->caps.spans_dropped++;
		take_pending(r, s.tid, e->hdr.seq, NULL);
		return 0;
	}
	if (tg_grow((void **)&r->spans, &r->capspans, r->nspans + 1, sizeof(*r->spans)))
		return -ENOMEM;
	span = &r->spans[r->nspans++];
	memset(span, 0, sizeof(*span));
	span->poll = s;
	span->samples = e->samples;
	span->culprit = -1;
	span->task = tg_record_site_name(r, s.site);
	span->fn_mask = e->fn_mask;
	span->seq = e->hdr.seq;
	span->on_cpu_ns = e->duration_ns - (e->off_cpu_ns + e->runq_ns < e->duration_ns ?
					    e->off_cpu_ns + e->runq_ns : e->duration_ns);
	take_pending(r, s.tid, e->hdr.seq, span);
	budget_stacks(r, (uint32_t)(r->nspans - 1));
	atomic_fetch_add(&r->progress_spans, 1);
	return 0;
}

/* How far back a wait event's span is looked for: it ended just before the
 * waiting task's poll, on the same thread, so it is among the last few. */
#define WAIT_SPAN_LOOKBACK 4096

/* A task polled after waiting behind span (tid, seq): counted in its cascade. */
static int on_wait(struct tg_record *r, const struct tg_wait_event *e)
{
	struct tg_delayed_task t = {
		.task = tg_record_site_name(r, e->hdr.site), .task_id = e->task_id, .tid = e->hdr.tid,
		.wait_ns = e->start_ns > e->wake_ns ? e->start_ns - e->wake_ns : 0,
		.start_ns = e->start_ns, .duration_ns = e->duration_ns,
	};
	size_t lo = r->nspans > WAIT_SPAN_LOOKBACK ? r->nspans - WAIT_SPAN_LOOKBACK : 0;

	for (size_t i = r->nspans; i-- > lo;) {
		struct tg_span *sp = &r->spans[i];

		if (sp->poll.tid != e->hdr.tid || sp->seq != e->hdr.seq)
			continue;
		if (!sp->delayed && !(sp->delayed = calloc(1, sizeof(*sp->delayed))))
			return -ENOMEM;
		tg_delayed_add(sp->delayed, &t);
		return 0;
	}
	return 0; /* a span not kept (caps.h): its cascade goes with it */
}

static int on_worker(struct tg_record *r, const struct tg_worker_event *e)
{
	if (!r->workers && !(r->workers = tg_workers_new(r->pid)))
		return -ENOMEM;
	return tg_workers_add(r->workers, e->hdr.tid, &e->acc);
}

const struct tg_worker_util *tg_record_workers(struct tg_record *r, uint64_t t0, uint64_t t1, size_t *n)
{
	*n = 0;
	return r->workers ? tg_workers_compute(r->workers, t0, t1, n) : NULL;
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
	case TG_EV_WAIT:
		return size >= sizeof(struct tg_wait_event) ? on_wait(r, data) : 0;
	case TG_EV_SAMPLE:
	case TG_EV_OFFCPU:
		return size >= offsetof(struct tg_stack_event, ips) ? on_stack(r, data, size) : 0;
	case TG_EV_SAMPLE_COPY:
	case TG_EV_OFFCPU_COPY:
		return size >= offsetof(struct tg_copy_event, data) ? on_copy(r, data, size) : 0;
	case TG_EV_WORKER:
		return size >= sizeof(struct tg_worker_event) ? on_worker(r, data) : 0;
	}
	return 0;
}

void tg_record_progress(const struct tg_record *r, uint64_t *slices, uint64_t *spans)
{
	*slices = atomic_load(&r->progress_slices);
	*spans = atomic_load(&r->progress_spans);
}

/* Copies S into *SLOT, allocating it the first time. */
static int keep_copy(void **slot, const void *s, size_t size)
{
	if (!*slot && !(*slot = malloc(size)))
		return -ENOMEM;
	memcpy(*slot, s, size);
	return 0;
}

int tg_record_set_sched_stats(struct tg_record *r, uint32_t site, const struct tg_sched_stats *s)
{
	if (site >= r->sites->n)
		return -EINVAL;
	return keep_copy((void **)&r->sched_stats[site], s, sizeof(*s));
}

int tg_record_set_fn_stats(struct tg_record *r, uint32_t idx, const char *pattern, size_t symbols,
			   const struct tg_site_stats *s)
{
	struct tg_fn_summary *f;

	if (idx >= TG_MAX_FN_SELECTORS)
		return -EINVAL;
	if (!r->fn_hist && !(r->fn_hist = calloc(TG_MAX_FN_SELECTORS, sizeof(*r->fn_hist))))
		return -ENOMEM;
	f = &r->fns[idx];
	*f = (struct tg_fn_summary){ .pattern = pattern, .symbols = symbols };
	if (s && symbols) {
		f->polls = s->polls;
		f->busy_ns = s->busy_ns;
		f->max_ns = s->max_ns;
		f->max_wall_ns = s->max_wall_ns;
		f->max_own_wall_ns = s->max_own_wall_ns;
		memcpy(r->fn_hist[idx], s->hist, sizeof(r->fn_hist[idx]));
		f->hist = r->fn_hist[idx];
		f->p50_ns = tg_hist_quantile(s->hist, s->polls, 0.50, s->max_ns);
		f->p90_ns = tg_hist_quantile(s->hist, s->polls, 0.90, s->max_ns);
		f->p99_ns = tg_hist_quantile(s->hist, s->polls, 0.99, s->max_ns);
		f->p999_ns = tg_hist_quantile(s->hist, s->polls, 0.999, s->max_ns);
	}
	if (idx >= r->nfns)
		r->nfns = idx + 1;
	return 0;
}

const struct tg_fn_summary *tg_record_fns(const struct tg_record *r, size_t *n)
{
	*n = r->nfns;
	return r->fns;
}

void tg_record_add_sample(struct tg_record *r, uint64_t ts_ns, uint64_t total_polls)
{
	if (r->nsamples >= MAX_SAMPLES ||
	    tg_grow((void **)&r->samples, &r->capsamples, r->nsamples + 1, sizeof(*r->samples)))
		return;
	r->samples[r->nsamples++] = (struct tg_counter_sample){
		.ts_ns = ts_ns, .polls = total_polls, .spans = atomic_load(&r->progress_spans),
	};
}

const struct tg_counter_sample *tg_record_samples(const struct tg_record *r, size_t *n)
{
	*n = r->nsamples;
	return r->samples;
}

static int thread_cmp(const void *a, const void *b)
{
	const struct tg_thread *x = a, *y = b;

	if (x->worker != y->worker)
		return x->worker ? -1 : 1;
	if (x->worker)
		return x->worker_no < y->worker_no ? -1 : x->worker_no > y->worker_no;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* Workers are numbered by their first runtime poll: the order Tokio started them in. */
static uint32_t worker_rank(const struct tg_record *r, const struct thread *t)
{
	uint32_t rank = 1;

	for (size_t i = 0; i < r->nthreads; i++) {
		const struct thread *o = &r->threads[i];

		rank += o->worker && (o->first_runtime_ns < t->first_runtime_ns ||
				      (o->first_runtime_ns == t->first_runtime_ns && o->tid < t->tid));
	}
	return rank;
}

const struct tg_thread *tg_record_threads(struct tg_record *r, size_t *n)
{
	*n = 0;
	free(r->pub_threads);
	r->pub_threads = calloc(r->nthreads ? r->nthreads : 1, sizeof(*r->pub_threads));
	if (!r->pub_threads)
		return NULL;
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct thread *t = &r->threads[i];

		r->pub_threads[i] = (struct tg_thread){
			.tid = t->tid, .comm = t->comm, .worker = t->worker, .slices = t->slices,
			.worker_no = t->worker ? worker_rank(r, t) : 0,
		};
	}
	qsort(r->pub_threads, r->nthreads, sizeof(*r->pub_threads), thread_cmp);
	*n = r->nthreads;
	return r->pub_threads;
}

int tg_record_set_site_stats(struct tg_record *r, uint32_t site, const struct tg_site_stats *s)
{
	if (site >= r->sites->n)
		return -EINVAL;
	return keep_copy((void **)&r->site_stats[site], s, sizeof(*s));
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
	if (s->max_ns > t->max_ns) {
		t->max_ns = s->max_ns;
		t->max_own_wall_ns = s->max_own_wall_ns;
	}
	if (s->max_wall_ns > t->max_wall_ns)
		t->max_wall_ns = s->max_wall_ns;
	acc->polls += s->polls;
	acc->max_ns = t->max_ns;
	for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
		acc->hist[b] += s->hist[b];
}

/* Scheduling delay: counts and maxima here; quantiles once every site is in. */
static void merge_sched(struct tg_record *r, struct tg_task_summary *t, size_t site)
{
	const struct tg_sched_stats *s = r->sched_stats[site];

	if (!s)
		return;
	t->sched_count += s->count;
	if (s->max_ns > t->sched_max_ns)
		t->sched_max_ns = s->max_ns;
}

static void sched_quantiles(struct tg_record *r)
{
	__u64 *h = malloc(TG_HIST_BUCKETS * sizeof(*h));

	for (size_t i = 0; h && i < r->ntasks; i++) {
		struct tg_task_summary *t = &r->tasks[i];

		if (!t->sched_count)
			continue;
		memset(h, 0, TG_HIST_BUCKETS * sizeof(*h));
		for (size_t j = 0; j < r->sites->n; j++) {
			const struct tg_poll_site *o = &r->sites->v[j];

			if (!r->sched_stats[j] || (o->kind == TG_SITE_BLOCKING) != t->blocking_pool ||
			    strcmp(o->task_name, t->name) != 0)
				continue;
			for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
				h[b] += r->sched_stats[j]->hist[b];
		}
		t->sched_p50_ns = tg_hist_quantile(h, t->sched_count, 0.50, t->sched_max_ns);
		t->sched_p99_ns = tg_hist_quantile(h, t->sched_count, 0.99, t->sched_max_ns);
	}
	free(h);
}

const struct tg_task_summary *tg_record_tasks(struct tg_record *r, size_t *n)
{
	struct tg_site_stats *acc;

	*n = 0;
	free(r->tasks);
	free(r->task_hist);
	r->ntasks = 0;
	r->tasks = calloc(r->sites->n ? r->sites->n : 1, sizeof(*r->tasks));
	r->task_hist = calloc(r->sites->n ? r->sites->n : 1, sizeof(*r->task_hist));
	acc = malloc(sizeof(*acc));
	if (!r->tasks || !r->task_hist || !acc) {
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
		t->block_on = site->kind == TG_SITE_BLOCK_ON;
		memset(acc, 0, sizeof(*acc));
		for (size_t j = i; j < r->sites->n; j++) {
			const struct tg_poll_site *o = &r->sites->v[j];

			if (r->site_stats[j] && (o->kind == TG_SITE_BLOCKING) == bp &&
			    strcmp(o->task_name, site->task_name) == 0) {
				merge_site(t, acc, r->site_stats[j]);
				merge_sched(r, t, j);
			}
		}
		summarize(t, acc);
		/* the histogram moves with its task when the summaries are sorted */
		memcpy(r->task_hist[r->ntasks - 1], acc->hist, sizeof(acc->hist));
		t->hist = r->task_hist[r->ntasks - 1];
	}
	sched_quantiles(r);
	free(acc);
	qsort(r->tasks, r->ntasks, sizeof(*r->tasks), task_cmp);
	*n = r->ntasks;
	return r->tasks;
}

uint64_t tg_record_total_polls(const struct tg_record *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->sites->n; i++)
		if (r->site_stats[i] && r->sites->v[i].kind != TG_SITE_BLOCKING)
			n += r->site_stats[i]->polls;
	return n;
}

const struct tg_span *tg_record_spans(const struct tg_record *r, size_t *n)
{
	*n = r->nspans;
	return r->spans;
}

size_t tg_record_resolved(const struct tg_record *r)
{
	return r->resolved;
}

const struct tg_frame *tg_span_culprit(const struct tg_span *s)
{
	if (!s || !s->frames || s->culprit < 0 || s->culprit >= s->nframes)
		return NULL;
	return &s->frames[s->culprit];
}

struct tg_span *tg_record_spans_mut(struct tg_record *r, size_t *n)
{
	*n = r->nspans;
	return r->spans;
}

const struct tg_slice *tg_record_slices(const struct tg_record *r, size_t *n)
{
	*n = r->nslices;
	return r->slices;
}

const struct tg_record_caps *tg_record_caps(const struct tg_record *r)
{
	return &r->caps;
}

uint64_t tg_record_dropped(const struct tg_record *r)
{
	return r->dropped;
}

const char *tg_record_site_name(const struct tg_record *r, uint32_t site)
{
	return site < r->sites->n ? r->sites->v[site].task_name : "unknown";
}
