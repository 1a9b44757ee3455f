// SPDX-License-Identifier: MIT
/* How many events a second the user-space consumer takes: synthetic events
 * fed straight into tg_record_on_event (the callback libbpf's ring buffer
 * calls once per event), as fast as it returns, for a few realistic mixes.
 * The bar (issue 9): the consumer keeps up with 1M events/s, so below that
 * rate the ring buffer, not the consumer, decides whether events are lost.
 *
 *   record_bench [EVENTS] [ROUNDS]     (bench/record.sh runs it)
 *
 * Each round of each mix starts from an empty record and feeds EVENTS events
 * (default 1,000,000: half of the record's slice cap, so every poll is kept);
 * the best round's rate is printed with the median's. Mixes:
 *   slices       every event a poll over the trace floor, 8 threads, 50 sites
 *   spans        1 poll in 100 a blocking span: 3 on-CPU samples and 1 off-CPU
 *                stack (32 frames) arrive before its poll event
 *   span-heavy   1 poll in 10 a span, 5 samples and 1 off-CPU stack each
 *   lossy        as spans, but 1 span poll event in 10 never arrives (the
 *                ring buffer was full for it): its stacks stay pending
 *   long-span    as spans, and another thread sits in one 2 s span the whole
 *                round: its 2000 samples (999 Hz) pend until it ends
 *   orphans-cap  as spans, after a long lossy run: the record's pending list
 *                full (65536) of stacks whose poll events were lost (EVENTS/100) */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"

#define NSITES 50
#define NTHREADS 8
#define FRAMES 32
#define FLOOR_NS 100000ull
#define BLOCKING_NS 10000000ull

struct mix {
	const char *name;
	unsigned span_every;   /* 0: no spans */
	unsigned samples;      /* on-CPU samples before a span's poll event */
	unsigned offcpu;       /* off-CPU stacks before it */
	unsigned lose_every;   /* 0: none; else 1 span poll event in N is not fed */
	unsigned long_samples; /* samples of one long span spread over the round */
	unsigned orphans;      /* stacks of lost polls fed before the round (untimed) */
};

static const struct mix mixes[] = {
	{ "slices", 0, 0, 0, 0, 0, 0 },
	{ "spans", 100, 3, 1, 0, 0, 0 },
	{ "span-heavy", 10, 5, 1, 0, 0, 0 },
	{ "lossy", 100, 3, 1, 10, 0, 0 },
	{ "long-span", 100, 3, 1, 0, 2000, 0 },
	{ "orphans-cap", 100, 3, 1, 0, 0, 65536 },
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_sites(struct tg_poll_sites *s)
{
	s->v = calloc(NSITES, sizeof(*s->v));
	s->n = NSITES;
	for (size_t i = 0; s->v && i < NSITES; i++) {
		s->v[i].addr = 0x1000 + i;
		if (asprintf(&s->v[i].task_name, "bench::handler_%zu::{{closure}}", i) < 0)
			s->v[i].task_name = NULL;
		s->v[i].kind = TG_SITE_RUNTIME;
	}
}

/* What the BPF side writes: samples reserve the whole struct, off-CPU
 * intervals are output cut after their frames. */
static size_t make_stack(struct tg_stack_event *e, uint32_t tid, uint32_t seq, uint64_t ts,
			 bool offcpu)
{
	e->hdr = (struct tg_event_hdr){ .type = offcpu ? TG_EV_OFFCPU : TG_EV_SAMPLE, .tid = tid,
					.seq = seq, .site = seq % NSITES };
	e->ts_ns = ts;
	e->duration_ns = offcpu ? 4000000 : 0;
	e->sp = 0x7ffd0000 + seq;
	e->nr = FRAMES;
	for (uint32_t i = 0; i < FRAMES; i++)
		e->ips[i] = 0x400000 + (uint64_t)i * 0x40 + (seq & 7);
	return offcpu ? offsetof(struct tg_stack_event, ips) + FRAMES * sizeof(uint64_t) : sizeof(*e);
}

struct feeder {
	const struct mix *m;
	struct tg_record *r;
	struct tg_stack_event *stack;
	uint32_t seq[NTHREADS];
	uint64_t clock[NTHREADS];
	uint64_t polls, events, errors;
};

static void feed_event(struct feeder *f, void *data, size_t size)
{
	f->errors += tg_record_on_event(f->r, data, size) != 0;
	f->events++;
}

/* One poll on thread TH, with the stacks of a span before it. */
static void feed_poll(struct feeder *f, uint32_t th)
{
	const struct mix *m = f->m;
	uint64_t i = f->polls++;
	bool span = m->span_every && i % m->span_every == 0;
	uint32_t tid = 1000 + th, seq = ++f->seq[th];
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = (uint32_t)(i % NSITES) },
		.task_id = i % 5000,
		.start_ns = f->clock[th],
		.duration_ns = span ? 12000000 : FLOOR_NS + (i * 7919) % 200000,
	};

	if (span) {
		for (unsigned k = 0; k < m->samples; k++)
			feed_event(f, f->stack, make_stack(f->stack, tid, seq, e.start_ns + k * 1000000, false));
		for (unsigned k = 0; k < m->offcpu; k++)
			feed_event(f, f->stack, make_stack(f->stack, tid, seq, e.start_ns + 9000000, true));
		e.off_cpu_ns = 4000000 * m->offcpu;
		e.samples = m->samples;
		e.offcpu_events = m->offcpu;
		if (m->lose_every && (i / m->span_every) % m->lose_every == 0)
			goto out; /* lost in the ring buffer: its stacks wait for nothing */
	}
	feed_event(f, &e, sizeof(e));
out:
	f->clock[th] += e.duration_ns + 20000;
}

/* Feeds about N events; returns the nanoseconds it took. */
static uint64_t run_mix(const struct mix *m, uint64_t n, struct feeder *f)
{
	uint64_t t0, every = m->long_samples ? n / m->long_samples : 0;
	uint32_t long_tid = 1000 + NTHREADS;

	/* lost polls' stacks on every thread, seq below the round's polls */
	for (unsigned k = 0; k < m->orphans; k++) {
		uint32_t th = k % NTHREADS;

		tg_record_on_event(f->r, f->stack,
				   make_stack(f->stack, 1000 + th, ++f->seq[th], 0, false));
	}
	if (m->orphans)
		n /= 100;
	t0 = now_ns();
	for (uint32_t th = 0; f->events < n; th = (th + 1) % NTHREADS) {
		feed_poll(f, th);
		if (every && f->polls % every == 0)
			feed_event(f, f->stack, make_stack(f->stack, long_tid, 1, f->clock[0], false));
	}
	if (every) {
		struct tg_poll_event e = {
			.hdr = { .type = TG_EV_POLL, .tid = long_tid, .seq = 1, .site = 0 },
			.duration_ns = 2000000000ull, .samples = m->long_samples,
		};

		feed_event(f, &e, sizeof(e));
	}
	return now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct tg_poll_sites sites = { 0 };
	struct tg_stack_event *stack = calloc(1, sizeof(*stack));
	int worst = 0;

	if (!n || rounds < 1 || rounds > 100) {
		fprintf(stderr, "usage: record_bench [EVENTS] [ROUNDS 1-100]\n");
		return 2;
	}
	make_sites(&sites);
	if (!stack || !sites.v) {
		fprintf(stderr, "record_bench: out of memory\n");
		return 2;
	}
	printf("%-11s %10s %10s %9s %9s %8s %8s %7s\n", "mix", "events", "best_ev/s", "best_ns",
	       "med_ns", "spans", "dropped", "errors");
	for (size_t k = 0; k < sizeof(mixes) / sizeof(mixes[0]); k++) {
		const struct mix *m = &mixes[k];
		uint64_t ns[100], events = 0, errors = 0, dropped = 0;
		size_t nspans = 0;

		for (int i = 0; i < rounds; i++) {
			struct feeder f = { .m = m, .stack = stack };

			f.r = tg_record_new(&sites, BLOCKING_NS, 999);
			if (!f.r) {
				fprintf(stderr, "record_bench: out of memory\n");
				return 2;
			}
			ns[i] = run_mix(m, n, &f);
			events = f.events;
			errors += f.errors;
			dropped = tg_record_dropped(f.r);
			tg_record_spans(f.r, &nspans);
			tg_record_free(f.r);
		}
		qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_u64);
		double best = (double)ns[0] / (double)events, med = (double)ns[rounds / 2] / (double)events;

		printf("%-11s %10llu %10.0f %9.1f %9.1f %8zu %8llu %7llu\n", m->name,
		       (unsigned long long)events, 1e9 / best, best, med, nspans,
		       (unsigned long long)dropped, (unsigned long long)errors);
		if (1e9 / med < 1e6 || errors)
			worst = 1;
	}
	free(stack);
	tg_poll_sites_free(&sites);
	/* exit 1: some mix's median round took under 1M events/s */
	return worst;
}
