/* From ring-buffer events to results.json: spans and slices out of synthetic
 * poll/sample/off-CPU events, culprits picked by symbolizing real addresses
 * of this very binary, per-task statistics merged across sites, and the
 * results.json contract (shared/spec.md) read back with cJSON. One file over
 * 1000 lines on purpose: every case reads the same document built from the
 * same synthetic events, the fixture the file is mostly made of. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_files.h"
#include <cjson/cJSON.h>

#include "hist.h"
#include "load.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "symbolize.h"

#define MS 1000000ull
#define US 1000ull
#define T0 1000000000000ull /* CLOCK_MONOTONIC origin of the run */

/* Every byte JSON or a naive writer could get wrong. */
#define HOSTILE_TASK "demo::\"task\" \\ <a&b>\n50%:x,y\t\x01 \xc3\xa9\xe2\x9c\x93"
#define HOSTILE_PATH "/tg-nowhere \"q\" \\ <a&b>\n100%:x,y/\xc3\xa9t\xc3\xa9 \xe2\x9c\x93/src/hostile.rs"
#define HOSTILE_SPEC "specs/\"gu\\ard\" <&>\n%:, \xc3\xa9.yaml"

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else /* noclone: a .constprop clone would not be the address we take */
#define NOINLINE __attribute__((noinline, noclone))
#endif

/* ---- real addresses to symbolize ---- */

static volatile int sink;
static uint64_t ra_in_spin, ra_in_wait, ra_in_hostile; /* inside the culprits, at a call */
static uint64_t ra_in_poll;   /* inside the poll entry, where it called the future */
static uint64_t ra_in_worker; /* below the poll entry: the worker loop */
static uint64_t libc_write;   /* not own code */
static int line_spin, line_wait, line_hostile;

NOINLINE static uint64_t get_ra(void) { sink++; return (uint64_t)(uintptr_t)__builtin_return_address(0); }

/* One line each, so that the call's line is the one __LINE__ names. */
NOINLINE static void tg_test_spin_hash(void) { line_spin = __LINE__; ra_in_spin = get_ra(); ra_in_poll = (uint64_t)(uintptr_t)__builtin_return_address(0); sink++; }
NOINLINE static void tg_test_wait_lock(void) { line_wait = __LINE__; ra_in_wait = get_ra(); ra_in_poll = (uint64_t)(uintptr_t)__builtin_return_address(0); sink++; }
static void tg_test_hostile(void); /* at the end of the file, under a #line */

#if defined(__x86_64__)
/* A stand-in for tokio::runtime::task::raw::poll<T, S>: no DWARF, only its
 * mangled Rust symbol, like a Tokio built without debug info. It calls the
 * "future" in %rdi. Its own section keeps it out of this file's CU ranges. */
#define FAKE_POLL_SYM "_ZN5tokio7runtime4task3raw4poll17h0123456789abcdefE"
__asm__(".pushsection .text.tg_fake_tokio,\"ax\",@progbits\n"
	".p2align 4\n"
	".globl " FAKE_POLL_SYM "\n"
	".hidden " FAKE_POLL_SYM "\n"
	".type " FAKE_POLL_SYM ", @function\n"
	FAKE_POLL_SYM ":\n"
	"\tsubq $8, %rsp\n"
	"\tcall *%rdi\n"
	"\taddq $8, %rsp\n"
	"\tret\n"
	".size " FAKE_POLL_SYM ", .-" FAKE_POLL_SYM "\n"
	".popsection\n");
void fake_raw_poll(void (*fn)(void)) __asm__(FAKE_POLL_SYM);
#define HAVE_FAKE_POLL 1
#else
NOINLINE static void fake_raw_poll(void (*fn)(void)) { fn(); sink++; }
#define HAVE_FAKE_POLL 0
#endif

static void capture_addresses(void)
{
	fake_raw_poll(tg_test_spin_hash);
	fake_raw_poll(tg_test_wait_lock);
	fake_raw_poll(tg_test_hostile);
	ra_in_worker = get_ra();
	libc_write = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "write");
	assert_true(libc_write != 0);
}

/* Innermost first, as bpf_get_stack gives them: a libc frame, the culprit,
 * the poll entry, the worker loop. */
#define STACK(ra) { libc_write, (ra), ra_in_poll, ra_in_worker }

/* ---- sites and events ---- */

enum { SITE_MT, SITE_CT, SITE_HOSTILE, SITE_BLOCKING, NSITES };

static struct tg_poll_site site_v[NSITES] = {
	[SITE_MT] = { .task_name = "demo::handler", .scheduler = "multi_thread::handle::Handle",
		      .kind = TG_SITE_RUNTIME },
	[SITE_CT] = { .task_name = "demo::handler", .scheduler = "current_thread::Handle",
		      .kind = TG_SITE_RUNTIME },
	[SITE_HOSTILE] = { .task_name = HOSTILE_TASK, .scheduler = "multi_thread::handle::Handle",
			   .kind = TG_SITE_RUNTIME },
	/* same name as a runtime task: still a task of its own */
	[SITE_BLOCKING] = { .task_name = "demo::handler", .scheduler = "blocking::schedule::BlockingSchedule",
			    .kind = TG_SITE_BLOCKING },
};
static const struct tg_poll_sites sites = { .v = site_v, .n = NSITES };

/* Hands the record a copy of exactly SIZE bytes: reading past it is a
 * valgrind error, not a silent pass. */
static void feed(struct tg_record *r, const void *ev, size_t size)
{
	void *copy = malloc(size ? size : 1);

	assert_non_null(copy);
	memcpy(copy, ev, size);
	assert_int_equal(tg_record_on_event(r, copy, size), 0);
	free(copy);
}

static void poll_ev(struct tg_record *r, uint32_t tid, uint32_t seq, uint32_t site, uint64_t task_id,
		    uint64_t start, uint64_t dur, uint64_t off, uint64_t runq, uint32_t samples)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = site },
		.task_id = task_id, .start_ns = start, .duration_ns = dur, .off_cpu_ns = off,
		.runq_ns = runq, .samples = samples,
	};
	feed(r, &e, sizeof(e));
}

/* A stack event of NR frames, sent as long as its frames (or SIZE when not 0). */
static void stack_ev_sized(struct tg_record *r, uint32_t type, uint32_t tid, uint32_t seq,
			   uint64_t dur, const uint64_t *ips, uint32_t nr, uint32_t nr_claimed, size_t size)
{
	struct tg_stack_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->hdr = (struct tg_event_hdr){ .type = type, .tid = tid, .seq = seq, .site = 0 };
	e->ts_ns = T0 + 1;
	e->duration_ns = dur;
	e->nr = nr_claimed;
	memcpy(e->ips, ips, nr * sizeof(uint64_t));
	feed(r, e, size ? size : offsetof(struct tg_stack_event, ips) + nr * sizeof(uint64_t));
	free(e);
}

static void sample(struct tg_record *r, uint32_t tid, uint32_t seq, const uint64_t *ips, uint32_t nr)
{
	stack_ev_sized(r, TG_EV_SAMPLE, tid, seq, 0, ips, nr, nr, 0);
}

static void offcpu(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t dur, const uint64_t *ips,
		   uint32_t nr)
{
	stack_ev_sized(r, TG_EV_OFFCPU, tid, seq, dur, ips, nr, nr, 0);
}

/* The spans feed_events() makes, by task id. */
enum {
	ID_SLICE = 1,     /* under the threshold */
	ID_OUTER = 7,     /* off-CPU B (50ms) against 3 samples of A */
	ID_INNER = 70,    /* the nested poll's late event: its stacks are gone */
	ID_SUM = 8,       /* B twice (30 + 20ms) against 40 samples of A */
	ID_SAMPLES = 9,   /* 60 samples of A against B (50ms) */
	ID_BLOCKING = 10, /* blocking pool: never a span */
	ID_HOSTILE = 11,
	ID_EXACT = 12,    /* exactly the threshold: a span */
	ID_NOSITE = 13,   /* a site the record does not know */
	ID_EMPTY = 14,    /* a header-only stack */
	ID_DEEP = 15,     /* a stack claiming more frames than the maximum */
};
#define NSPANS 8
#define NSLICES 13

static const struct tg_span *span_by_id(const struct tg_record *r, uint64_t id)
{
	size_t n;
	const struct tg_span *s = tg_record_spans(r, &n);

	for (size_t i = 0; i < n; i++)
		if (s[i].poll.task_id == id)
			return &s[i];
	return NULL;
}

static void feed_events(struct tg_record *r)
{
	uint64_t a[] = STACK(ra_in_spin), b[] = STACK(ra_in_wait), h[] = STACK(ra_in_hostile);
	uint64_t b_short[] = { libc_write, ra_in_wait };
	uint64_t deep[TG_MAX_STACK_DEPTH];

	/* A poll under the threshold: a slice; its sample is dropped. */
	sample(r, 100, 1, a, 4);
	poll_ev(r, 100, 1, SITE_MT, ID_SLICE, T0 + 1 * MS, 2 * MS, 0, 0, 1);

	/* Thread 200: an outer poll (seq 10) whose stacks interleave with those
	 * of a nested poll (seq 11) that never sent its own event, and with
	 * another thread's stack carrying the same seq. */
	sample(r, 200, 10, a, 4);
	offcpu(r, 200, 11, 500 * MS, h, 4);
	sample(r, 200, 10, a, 4);
	offcpu(r, 201, 10, 30 * MS, b, 4);
	offcpu(r, 200, 10, 50 * MS, b, 4);
	sample(r, 200, 10, a, 4);
	poll_ev(r, 200, 10, SITE_MT, ID_OUTER, T0 + 5 * MS, 80 * MS, 50 * MS, 5 * MS, 3);
	/* Were the nested poll's stacks still pending, this would take them. */
	poll_ev(r, 200, 11, SITE_MT, ID_INNER, T0 + 6 * MS, 600 * MS, 500 * MS, 0, 0);

	/* Thread 201: votes add up, 30 + 20ms of B beat 40 samples (40ms) of A. */
	for (int i = 0; i < 40; i++)
		sample(r, 201, 10, a, 4);
	offcpu(r, 201, 10, 20 * MS, b_short, 2);
	poll_ev(r, 201, 10, SITE_CT, ID_SUM, T0 + 20 * MS, 100 * MS, 50 * MS, 0, 40);

	/* Thread 202: 60 samples (60ms) of A beat 50ms of B. */
	offcpu(r, 202, 3, 50 * MS, b, 4);
	for (int i = 0; i < 60; i++)
		sample(r, 202, 3, a, 4);
	poll_ev(r, 202, 3, SITE_CT, ID_SAMPLES, T0 + 30 * MS, 120 * MS, 50 * MS, 1 * MS, 60);

	/* Blocking pool: far over the threshold, still not a span. */
	offcpu(r, 300, 5, 400 * MS, b, 4);
	poll_ev(r, 300, 5, SITE_BLOCKING, ID_BLOCKING, T0 + 40 * MS, 500 * MS, 400 * MS, 0, 0);

	/* A stack event cut short by its size: only the frames it holds count.
	 * Off-CPU and run-queue time over the duration (clock skew): on-CPU 0.
	 * 25 - 8 ms of run-queue wait is still over the threshold: a span. */
	stack_ev_sized(r, TG_EV_OFFCPU, 400, 1, 9 * MS, h, 4, 50,
		       offsetof(struct tg_stack_event, ips) + 4 * sizeof(uint64_t));
	poll_ev(r, 400, 1, SITE_HOSTILE, ID_HOSTILE, T0 + 50 * MS, 25 * MS, 20 * MS, 8 * MS, 0);
	/* Long only because it waited for a CPU: 30ms, 25 of them preempted. Not
	 * the task's doing, so a slice, never a span. */
	poll_ev(r, 402, 1, SITE_HOSTILE, ID_SLICE, T0 + 75 * MS, 30 * MS, 0, 25 * MS, 0);

	/* Exactly the threshold: "at least this long" is a span. */
	poll_ev(r, 401, 1, SITE_HOSTILE, ID_EXACT, T0 + 60 * MS, 10 * MS, 0, 0, 0);
	/* Just under it: a slice. */
	poll_ev(r, 401, 2, SITE_HOSTILE, ID_SLICE, T0 + 70 * MS, 10 * MS - 1, 0, 0, 0);

	/* A site out of range: a slice, never a span. */
	poll_ev(r, 500, 1, 77, ID_NOSITE, T0 + 80 * MS, 50 * MS, 0, 0, 0);

	/* A header-only stack (no frames) and one claiming 1000 frames. */
	stack_ev_sized(r, TG_EV_SAMPLE, 600, 1, 0, a, 0, 5, offsetof(struct tg_stack_event, ips));
	poll_ev(r, 600, 1, SITE_MT, ID_EMPTY, T0 + 90 * MS, 20 * MS, 0, 0, 1);
	deep[0] = libc_write;
	deep[1] = ra_in_spin;
	for (int i = 2; i < TG_MAX_STACK_DEPTH; i++)
		deep[i] = ra_in_worker;
	stack_ev_sized(r, TG_EV_SAMPLE, 601, 1, 0, deep, TG_MAX_STACK_DEPTH, 1000,
		       sizeof(struct tg_stack_event));
	poll_ev(r, 601, 1, SITE_MT, ID_DEEP, T0 + 95 * MS, 20 * MS, 0, 0, 1);

	/* Short and unknown events: ignored, no crash, nothing counted. */
	{
		struct tg_poll_event pe = { .hdr = { .type = TG_EV_POLL, .tid = 700, .seq = 1 },
					    .task_id = 99, .duration_ns = 900 * MS };
		struct tg_event_hdr unknown = { .type = 42, .tid = 700, .seq = 1 };

		feed(r, &pe, 0);
		feed(r, &pe, sizeof(struct tg_event_hdr) - 1);
		feed(r, &pe, sizeof(struct tg_event_hdr));
		feed(r, &pe, sizeof(pe) - 1);
		stack_ev_sized(r, TG_EV_OFFCPU, 700, 1, 900 * MS, b, 4, 4,
			       offsetof(struct tg_stack_event, ips) - 1);
		feed(r, &unknown, sizeof(unknown));
	}
}

static __u64 *hist_values(struct tg_site_stats *s, const uint64_t *v, size_t n, uint64_t spans)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		s->polls++;
		s->busy_ns += v[i];
		if (v[i] > s->max_ns)
			s->max_ns = v[i];
		s->hist[tg_hist_bucket(v[i])]++;
	}
	s->blocking_spans = spans;
	return s->hist;
}

/* Poll times per site: the two demo::handler sites overlap so that the
 * merged quantiles differ from either site's own. */
#define N_MT 900
#define N_CT 100
#define N_HOSTILE 10
#define N_BLOCKING 5
static uint64_t vals_mt[N_MT], vals_ct[N_CT], vals_hostile[N_HOSTILE], vals_blocking[N_BLOCKING];

static void make_values(void)
{
	for (int i = 0; i < N_MT; i++)
		vals_mt[i] = 20 * US + (uint64_t)((i * 7919) % 1000) * US + (uint64_t)i;
	vals_mt[N_MT / 2] = 30 * MS; /* the handler's longest poll is on the first site */
	for (int i = 0; i < N_CT; i++)
		vals_ct[i] = 1 * MS + (uint64_t)((i * 37) % N_CT) * 117 * US;
	for (int i = 0; i < N_HOSTILE; i++)
		vals_hostile[i] = 500 * MS + (uint64_t)i;
	for (int i = 0; i < N_BLOCKING; i++)
		vals_blocking[i] = 2000 * MS;
}

static void set_stats(struct tg_record *r)
{
	struct tg_site_stats *s = malloc(sizeof(*s));

	assert_non_null(s);
	make_values();
	hist_values(s, vals_mt, N_MT, 2);
	assert_int_equal(tg_record_set_site_stats(r, SITE_MT, s), 0);
	hist_values(s, vals_ct, N_CT, 1);
	assert_int_equal(tg_record_set_site_stats(r, SITE_CT, s), 0);
	hist_values(s, vals_hostile, N_HOSTILE, 1);
	assert_int_equal(tg_record_set_site_stats(r, SITE_HOSTILE, s), 0);
	hist_values(s, vals_blocking, N_BLOCKING, 0);
	assert_int_equal(tg_record_set_site_stats(r, SITE_BLOCKING, s), 0);
	assert_int_equal(tg_record_set_site_stats(r, NSITES, s), -EINVAL);
	free(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact Q-quantile (rank ceil(q*n)) of the handler's runtime polls. */
static uint64_t handler_quantile(double q)
{
	uint64_t all[N_MT + N_CT];
	size_t rank;

	memcpy(all, vals_mt, sizeof(vals_mt));
	memcpy(all + N_MT, vals_ct, sizeof(vals_ct));
	qsort(all, N_MT + N_CT, sizeof(all[0]), cmp_u64);
	rank = (size_t)(q * (N_MT + N_CT) + 0.999999);
	return all[rank ? rank - 1 : 0];
}

static uint64_t sum(const uint64_t *v, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void assert_within(uint64_t got, uint64_t want, double rel)
{
	double d = (double)got - (double)want;

	if ((d < 0 ? -d : d) > rel * (double)want)
		fail_msg("%llu is not within %.1f%% of %llu", (unsigned long long)got, rel * 100,
			 (unsigned long long)want);
}

/* This file as the symbolizer names it, and relative to the source dir. */
static const char *this_file(void)
{
	return __FILE__;
}

static const char *this_file_relative(void)
{
	size_t n = strlen(TG_SOURCE_DIR);

	assert_int_equal(strncmp(__FILE__, TG_SOURCE_DIR "/", n + 1), 0);
	return &__FILE__[n + 1];
}

/* ---- tests: display paths ---- */

static void test_display_path(void **state)
{
	char buf[256];

	assert_string_equal(tg_display_path("/a/b/src/main.rs", "/a/b", buf, sizeof(buf)), "src/main.rs");
	assert_string_equal(tg_display_path("/a/b/src/main.rs", "/a/b/", buf, sizeof(buf)), "src/main.rs");
	assert_string_equal(tg_display_path("/a/b/src/main.rs", "/a/b//", buf, sizeof(buf)), "src/main.rs");
	/* a sibling sharing the prefix is not below: it is next to it */
	assert_string_equal(tg_display_path("/a/bc/main.rs", "/a/b", buf, sizeof(buf)), "../bc/main.rs");
	assert_string_equal(tg_display_path("/w/ex/kinds/src/lib.rs", "/w/ex/server", buf, sizeof(buf)),
			    "../kinds/src/lib.rs");
	assert_string_equal(tg_display_path("/w/src/lib.rs", "/w/ex/server/", buf, sizeof(buf)),
			    "../../src/lib.rs");
	/* more than three folders up, or only the root in common: absolute */
	assert_string_equal(tg_display_path("/w/x.rs", "/w/a/b/c/d", buf, sizeof(buf)), "/w/x.rs");
	assert_string_equal(tg_display_path("/a/b", "/a/b", buf, sizeof(buf)), "/a/b");
	assert_string_equal(tg_display_path("/x/main.rs", "/a/b", buf, sizeof(buf)), "/x/main.rs");
	/* everything lies below the root */
	assert_string_equal(tg_display_path("/src/main.rs", "/", buf, sizeof(buf)), "src/main.rs");
	assert_string_equal(tg_display_path("/a/main.rs", NULL, buf, sizeof(buf)), "/a/main.rs");
	assert_string_equal(tg_display_path("/a/main.rs", "", buf, sizeof(buf)), "/a/main.rs");
	assert_null(tg_display_path(NULL, "/a", buf, sizeof(buf)));
}

/* ---- tests: events to spans ---- */

static struct tg_record *new_record(void)
{
	struct tg_record *r = tg_record_new(&sites, 10 * MS, 1000);

	assert_non_null(r);
	return r;
}

static void test_spans_and_slices(void **state)
{
	struct tg_record *r = new_record();
	const struct tg_span *s;
	const struct tg_slice *sl;
	size_t n, nsl;
	uint64_t pslices, pspans;

	capture_addresses();
	feed_events(r);

	s = tg_record_spans(r, &n);
	assert_int_equal(n, NSPANS);
	sl = tg_record_slices(r, &nsl);
	assert_int_equal(nsl, NSLICES);
	tg_record_progress(r, &pslices, &pspans);
	assert_int_equal(pslices, NSLICES);
	assert_int_equal(pspans, NSPANS);
	assert_int_equal(tg_record_dropped(r), 0);

	/* every accepted poll event is a slice, carrying the event's fields */
	for (size_t i = 0; i < nsl; i++)
		assert_true(sl[i].task_id != 99);
	assert_int_equal(sl[0].tid, 100);
	assert_int_equal(sl[0].task_id, ID_SLICE);
	assert_int_equal(sl[0].start_ns, T0 + 1 * MS);
	assert_int_equal(sl[0].duration_ns, 2 * MS);

	/* no span for the short polls, the blocking pool, the unknown site */
	for (size_t i = 0; i < n; i++) {
		assert_true(s[i].poll.task_id != ID_SLICE);
		assert_true(s[i].poll.task_id != ID_BLOCKING);
		assert_true(s[i].poll.task_id != ID_NOSITE);
		assert_int_equal(s[i].culprit, -1); /* not resolved yet */
		assert_null(s[i].frames);
		assert_false(s[i].allowed);
	}

	/* the outer poll keeps its own 4 stacks, not the nested poll's nor thread 201's */
	s = span_by_id(r, ID_OUTER);
	assert_non_null(s);
	assert_int_equal(s->poll.tid, 200);
	assert_int_equal(s->poll.site, SITE_MT);
	assert_int_equal(s->poll.start_ns, T0 + 5 * MS);
	assert_int_equal(s->poll.duration_ns, 80 * MS);
	assert_int_equal(s->poll.off_cpu_ns, 50 * MS);
	assert_int_equal(s->poll.runq_ns, 5 * MS);
	assert_int_equal(s->on_cpu_ns, 80 * MS - 50 * MS - 5 * MS);
	assert_int_equal(s->samples, 3);
	assert_int_equal(s->nstacks, 4);
	{
		size_t nsamples = 0, noff = 0;

		for (size_t i = 0; i < s->nstacks; i++) {
			assert_int_equal(s->stacks[i].nr, 4);
			assert_int_equal(s->stacks[i].ips[0], libc_write);
			if (s->stacks[i].offcpu) {
				noff++;
				assert_int_equal(s->stacks[i].weight_ns, 50 * MS);
				assert_int_equal(s->stacks[i].ips[1], ra_in_wait);
			} else {
				nsamples++;
				assert_int_equal(s->stacks[i].weight_ns, 1 * MS); /* 1000 Hz */
				assert_int_equal(s->stacks[i].ips[1], ra_in_spin);
			}
		}
		assert_int_equal(nsamples, 3);
		assert_int_equal(noff, 1);
	}

	/* the nested poll's stacks were dropped when the outer poll ended */
	s = span_by_id(r, ID_INNER);
	assert_non_null(s);
	assert_int_equal(s->nstacks, 0);

	/* thread 201's seq 10 got its own stacks, including the early one */
	s = span_by_id(r, ID_SUM);
	assert_non_null(s);
	assert_int_equal(s->poll.tid, 201);
	assert_int_equal(s->nstacks, 40 + 2);

	s = span_by_id(r, ID_SAMPLES);
	assert_non_null(s);
	assert_int_equal(s->nstacks, 60 + 1);
	assert_int_equal(s->on_cpu_ns, 120 * MS - 50 * MS - 1 * MS);

	/* the short stack event: 4 frames, whatever nr claimed; on-CPU clamped at 0 */
	s = span_by_id(r, ID_HOSTILE);
	assert_non_null(s);
	assert_int_equal(s->nstacks, 1);
	assert_int_equal(s->stacks[0].nr, 4);
	assert_true(s->stacks[0].offcpu);
	assert_int_equal(s->stacks[0].weight_ns, 9 * MS);
	assert_int_equal(s->on_cpu_ns, 0);

	s = span_by_id(r, ID_EXACT);
	assert_non_null(s);
	assert_int_equal(s->poll.duration_ns, 10 * MS);
	assert_int_equal(s->on_cpu_ns, 10 * MS);

	s = span_by_id(r, ID_EMPTY);
	assert_non_null(s);
	assert_int_equal(s->nstacks, 1);
	assert_int_equal(s->stacks[0].nr, 0);

	s = span_by_id(r, ID_DEEP);
	assert_non_null(s);
	assert_int_equal(s->nstacks, 1);
	assert_int_equal(s->stacks[0].nr, TG_MAX_STACK_DEPTH);

	tg_record_free(r);
}

/* ---- tests: culprits ---- */

static const struct tg_frame *culprit_of(const struct tg_span *s)
{
	assert_non_null(s);
	assert_true(s->culprit >= 0 && s->culprit < s->nframes);
	return &s->frames[s->culprit];
}

static void assert_cut_at_poll_entry(const struct tg_span *s)
{
	for (int i = 0; i < s->nframes; i++)
		assert_null(strstr(s->frames[i].function, "capture_addresses")); /* the worker loop */
	if (HAVE_FAKE_POLL)
		assert_string_equal(s->frames[s->nframes - 1].function, "tokio::runtime::task::raw::poll");
}

static void test_culprits(void **state)
{
	struct tg_record *r = new_record();
	struct tg_symbolizer *sz;
	const struct tg_frame *c;
	const struct tg_span *s;

	capture_addresses();
	feed_events(r);
	sz = tg_symbolizer_new(getpid());
	assert_non_null(sz);
	tg_record_resolve(r, sz);

	/* 50ms off-CPU in wait_lock outweigh 3 samples (3ms) in spin_hash */
	s = span_by_id(r, ID_OUTER);
	c = culprit_of(s);
	assert_non_null(strstr(c->function, "tg_test_wait_lock"));
	assert_string_equal(c->file, this_file());
	assert_int_equal(c->line, line_wait);
	assert_true(c->own);
	/* innermost first: the libc frame comes before the culprit */
	assert_true(s->culprit >= 1);
	assert_false(s->frames[0].own);
	for (int i = 0; i < s->culprit; i++)
		assert_false(s->frames[i].own);
	assert_cut_at_poll_entry(s);
	assert_false(s->frames[s->nframes - 1].own);

	/* the votes of two stacks add up: 30 + 20ms against 40ms of samples;
	 * the span shows the heavier of the two, which reaches the poll entry */
	s = span_by_id(r, ID_SUM);
	c = culprit_of(s);
	assert_non_null(strstr(c->function, "tg_test_wait_lock"));
	assert_int_equal(c->line, line_wait);
	assert_cut_at_poll_entry(s);
	assert_true(s->nframes > s->culprit + 1);

	/* 60 samples (60ms) in spin_hash outweigh 50ms off-CPU */
	s = span_by_id(r, ID_SAMPLES);
	c = culprit_of(s);
	assert_non_null(strstr(c->function, "tg_test_spin_hash"));
	assert_string_equal(c->file, this_file());
	assert_int_equal(c->line, line_spin);
	assert_cut_at_poll_entry(s);

	/* a source path of its own, however odd */
	c = culprit_of(span_by_id(r, ID_HOSTILE));
	assert_non_null(strstr(c->function, "tg_test_hostile"));
	assert_string_equal(c->file, HOSTILE_PATH);
	assert_int_equal(c->line, line_hostile);
	assert_true(c->own);

	/* no stacks, or no frames: no culprit */
	s = span_by_id(r, ID_INNER);
	assert_int_equal(s->culprit, -1);
	assert_int_equal(s->nframes, 0);
	s = span_by_id(r, ID_EXACT);
	assert_int_equal(s->culprit, -1);
	s = span_by_id(r, ID_EMPTY);
	assert_int_equal(s->culprit, -1);

	/* 127 frames, none a poll entry: not cut, the culprit still found */
	s = span_by_id(r, ID_DEEP);
	c = culprit_of(s);
	assert_non_null(strstr(c->function, "tg_test_spin_hash"));
	assert_true(s->nframes >= TG_MAX_STACK_DEPTH);

	/* resolving again changes nothing */
	c = culprit_of(span_by_id(r, ID_OUTER));
	tg_record_resolve(r, sz);
	assert_ptr_equal(culprit_of(span_by_id(r, ID_OUTER)), c);

	tg_record_free(r);
	tg_symbolizer_free(sz);
}

/* ---- tests: per-task statistics ---- */

static void test_tasks(void **state)
{
	struct tg_record *r = new_record();
	const struct tg_task_summary *t;
	size_t n, again;

	/* no statistics yet: no tasks, no polls */
	t = tg_record_tasks(r, &n);
	assert_int_equal(n, 0);
	assert_int_equal(tg_record_total_polls(r), 0);

	set_stats(r);
	t = tg_record_tasks(r, &n);
	assert_non_null(t);
	assert_int_equal(n, 3);

	/* runtime tasks busiest first, then the blocking pool's */
	for (size_t i = 0; i + 1 < n; i++) {
		if (t[i].blocking_pool == t[i + 1].blocking_pool)
			assert_true(t[i].busy_ns >= t[i + 1].busy_ns);
		else
			assert_false(t[i].blocking_pool);
	}
	assert_string_equal(t[0].name, HOSTILE_TASK);
	assert_false(t[0].blocking_pool);
	assert_int_equal(t[0].sites, 1);
	assert_int_equal(t[0].polls, N_HOSTILE);
	assert_int_equal(t[0].busy_ns, sum(vals_hostile, N_HOSTILE));
	assert_int_equal(t[0].max_ns, vals_hostile[N_HOSTILE - 1]);
	assert_int_equal(t[0].blocking_spans, 1);
	assert_within(t[0].p50_ns, vals_hostile[4], 0.02);

	/* the two runtime sites of demo::handler merged */
	assert_string_equal(t[1].name, "demo::handler");
	assert_false(t[1].blocking_pool);
	assert_int_equal(t[1].sites, 2);
	assert_int_equal(t[1].polls, N_MT + N_CT);
	assert_int_equal(t[1].busy_ns, sum(vals_mt, N_MT) + sum(vals_ct, N_CT));
	assert_int_equal(t[1].max_ns, handler_quantile(1.0));
	assert_int_equal(t[1].blocking_spans, 2 + 1);
	assert_within(t[1].p50_ns, handler_quantile(0.50), 0.02);
	assert_within(t[1].p90_ns, handler_quantile(0.90), 0.02);
	assert_within(t[1].p99_ns, handler_quantile(0.99), 0.02);
	assert_true(t[1].p999_ns <= t[1].max_ns);
	assert_true(t[1].p50_ns <= t[1].p90_ns && t[1].p90_ns <= t[1].p99_ns &&
		    t[1].p99_ns <= t[1].p999_ns);

	/* the blocking pool's demo::handler stays apart */
	assert_string_equal(t[2].name, "demo::handler");
	assert_true(t[2].blocking_pool);
	assert_int_equal(t[2].sites, 1);
	assert_int_equal(t[2].polls, N_BLOCKING);
	assert_int_equal(t[2].max_ns, 2000 * MS);

	/* blocking-pool polls are not task polls */
	assert_int_equal(tg_record_total_polls(r), N_MT + N_CT + N_HOSTILE);

	/* computed again: the same */
	t = tg_record_tasks(r, &again);
	assert_int_equal(again, n);
	assert_int_equal(t[1].polls, N_MT + N_CT);
	assert_within(t[1].p99_ns, handler_quantile(0.99), 0.02);
	tg_record_free(r);
}

/* ---- tests: results.json ---- */

static char *argv_v[] = { "./target/release/demo", "--name", HOSTILE_TASK, NULL };

static struct tg_spec make_spec(const char *dir)
{
	struct tg_spec spec = {
		.path = HOSTILE_SPEC, .dir = (char *)dir, .version = 1, .name = "guard \"x\" \xc3\xa9",
		.target = { .argv = argv_v },
		.probe = { .blocking_threshold_ns = 10 * MS, .sample_rate = 1000, .stack_depth = 64 },
	};
	return spec;
}

static struct tg_step_result steps[2] = {
	{ .name = "warmup", .start_ns = T0 + 1000 * MS, .end_ns = T0 + 3000 * MS, .ok = true },
	{ .name = "load \"<&>\"\n%", .start_ns = T0 + 3000 * MS, .end_ns = T0 + 3500 * MS, .ok = false,
	  .exit_code = 3, .error = "exited with status 3: \"oops\"" },
};

static struct tg_results make_results(const struct tg_spec *spec, struct tg_record *r)
{
	struct tg_results res = {
		.spec = spec, .exe = "/srv/demo/target/release/demo", .pid = 4242,
		.poll_sites = NSITES, .probes_attached = NSITES, .tokio_version = "1.38.0",
		.t0_ns = T0, .duration_s = 12.5, .record = r, .steps = steps, .nsteps = 2,
		.status = 1, .error = "max_poll < 5ms failed: \"x\"\n",
	};
	res.bpf_stats[TG_STAT_RB_FULL_POLL] = 1;
	res.bpf_stats[TG_STAT_RB_FULL_SAMPLE] = 2;
	res.bpf_stats[TG_STAT_RB_FULL_OFFCPU] = 4;
	res.bpf_stats[TG_STAT_NEST_OVERFLOW] = 8;
	res.bpf_stats[TG_STAT_UNMATCHED_EXIT] = 16; /* not lost: a poll that began before attach */
	res.bpf_stats[TG_STAT_NO_STORAGE] = 32;
	res.bpf_stats[TG_STAT_STACK_FAIL] = 64;
	res.bpf_stats[TG_STAT_SAMPLES] = 1000;
	return res;
}

static char *read_all(const char *path)
{
	size_t len = 0;
	char *text = tg_test_read(path, &len);

	assert_non_null(text);
	assert_true(len > 0);
	return text;
}

static cJSON *write_and_parse(const struct tg_results *res)
{
	char dir[] = "/tmp/tg-results-XXXXXX", path[64], err[512] = "";
	char *text;
	cJSON *root;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	if (tg_results_write(path, res, err, sizeof(err)) != 0)
		fail_msg("tg_results_write: %s", err);
	text = read_all(path);
	unlink(path);
	rmdir(dir);
	assert_int_equal(text[strlen(text) - 1], '\n');
	root = cJSON_Parse(text);
	if (!root)
		fail_msg("results.json does not parse near: %.40s", cJSON_GetErrorPtr());
	free(text);
	return root;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		fail_msg("no \"%s\" in results.json", key);
	return v;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", key);
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", key);
	return v->valuestring;
}

static const cJSON *arr(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsArray(v))
		fail_msg("\"%s\" is not an array", key);
	return v;
}

static const cJSON *obj(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsObject(v))
		fail_msg("\"%s\" is not an object", key);
	return v;
}

static const cJSON *json_span(const cJSON *root, uint64_t task_id)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, arr(root, "blocking_spans"))
		if (num(s, "task_id") == (double)task_id)
			return s;
	fail_msg("no blocking span with task_id %llu", (unsigned long long)task_id);
	return NULL;
}

static const cJSON *json_task(const cJSON *root, const char *name, bool blocking_pool)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, arr(root, "tasks")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "kind");
		bool bp = cJSON_IsString(k) && strcmp(k->valuestring, "blocking_pool") == 0;

		if (strcmp(str(t, "name"), name) == 0 && bp == blocking_pool)
			return t;
	}
	fail_msg("no task \"%s\"", name);
	return NULL;
}

/* A frame object says what the symbolized frame says; FILE as displayed. */
static void assert_frame(const cJSON *o, const struct tg_frame *f, const char *file)
{
	assert_string_equal(str(o, "function"), f->function);
	if (file)
		assert_string_equal(str(o, "file"), file);
	else
		assert_true(cJSON_IsNull(get(o, "file")));
	assert_int_equal(num(o, "line"), f->line);
}

static void assert_span_fields(const cJSON *js, const struct tg_span *s, const char *task)
{
	assert_string_equal(str(js, "task"), task);
	assert_int_equal(num(js, "task_id"), s->poll.task_id);
	assert_int_equal(num(js, "tid"), s->poll.tid);
	assert_int_equal(num(js, "start_ns"), s->poll.start_ns - T0);
	assert_int_equal(num(js, "duration_ns"), s->poll.duration_ns);
	assert_int_equal(num(js, "off_cpu_ns"), s->poll.off_cpu_ns);
	assert_true(cJSON_IsFalse(get(js, "allowed")));
}

static struct tg_record *full_record(struct tg_symbolizer **sz)
{
	struct tg_record *r = new_record();

	capture_addresses();
	feed_events(r);
	set_stats(r);
	*sz = tg_symbolizer_new(getpid());
	assert_non_null(*sz);
	tg_record_resolve(r, *sz);
	return r;
}

static void test_results_contract(void **state)
{
	struct tg_symbolizer *sz;
	struct tg_record *r = full_record(&sz);
	struct tg_spec spec = make_spec(TG_SOURCE_DIR);
	struct tg_results res = make_results(&spec, r);
	const cJSON *t, *p, *ex, *a, *js, *o;
	const struct tg_span *s;
	cJSON *root;
	size_t n;
	int i;

	res.exited = true;
	res.exit_code = 0;
	root = write_and_parse(&res);

	assert_int_equal(num(root, "version"), 1);
	assert_string_equal(str(root, "spec"), HOSTILE_SPEC);
	assert_string_equal(str(root, "name"), spec.name);
	assert_string_equal(str(root, "error"), res.error);

	/* target */
	t = obj(root, "target");
	a = arr(t, "command");
	assert_int_equal(cJSON_GetArraySize(a), 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(cJSON_GetArrayItem(a, i)->valuestring, argv_v[i]);
	assert_int_equal(num(t, "pid"), 4242);
	ex = obj(t, "exit");
	assert_int_equal(num(ex, "code"), 0);
	assert_true(cJSON_IsNull(get(ex, "signal")));

	/* probe */
	p = obj(root, "probe");
	assert_int_equal(num(p, "poll_sites"), NSITES);
	assert_int_equal(num(p, "polls"), N_MT + N_CT + N_HOSTILE);
	assert_int_equal(num(p, "lost_events"), 1 + 2 + 4 + 8);
	assert_int_equal(tg_results_lost_events(&res), 1 + 2 + 4 + 8);
	assert_true(num(p, "duration_s") == 12.5);

	/* tasks: merged by name, the blocking pool's apart */
	assert_int_equal(cJSON_GetArraySize(arr(root, "tasks")), 3);
	o = json_task(root, "demo::handler", false);
	assert_int_equal(num(o, "polls"), N_MT + N_CT);
	assert_int_equal(num(o, "busy_ns"), sum(vals_mt, N_MT) + sum(vals_ct, N_CT));
	assert_int_equal(num(o, "max_poll_ns"), handler_quantile(1.0));
	assert_within((uint64_t)num(o, "p50_poll_ns"), handler_quantile(0.50), 0.02);
	assert_within((uint64_t)num(o, "p99_poll_ns"), handler_quantile(0.99), 0.02);
	assert_int_equal(num(o, "blocking_spans"), 3);
	o = json_task(root, "demo::handler", true);
	assert_int_equal(num(o, "polls"), N_BLOCKING);
	assert_int_equal(num(o, "blocking_spans"), 0);
	o = json_task(root, HOSTILE_TASK, false);
	assert_int_equal(num(o, "polls"), N_HOSTILE);
	assert_int_equal(num(o, "max_poll_ns"), vals_hostile[N_HOSTILE - 1]);
	/* busiest first */
	assert_string_equal(str(cJSON_GetArrayItem(arr(root, "tasks"), 0), "name"), HOSTILE_TASK);

	/* blocking spans: one per span, none for the blocking pool */
	tg_record_spans(r, &n);
	assert_int_equal(cJSON_GetArraySize(arr(root, "blocking_spans")), NSPANS);
	assert_int_equal(n, NSPANS);
	cJSON_ArrayForEach(js, arr(root, "blocking_spans"))
		assert_true(num(js, "task_id") != ID_BLOCKING);

	s = span_by_id(r, ID_OUTER);
	js = json_span(root, ID_OUTER);
	assert_span_fields(js, s, "demo::handler");
	assert_int_equal(num(js, "tid"), 200);
	assert_int_equal(num(js, "start_ns"), 5 * MS);
	assert_int_equal(num(js, "duration_ns"), 80 * MS);
	assert_int_equal(num(js, "on_cpu_ns"), 80 * MS - 50 * MS - 5 * MS);
	assert_int_equal(num(js, "off_cpu_ns"), 50 * MS);
	o = obj(js, "culprit");
	assert_non_null(strstr(str(o, "function"), "tg_test_wait_lock"));
	assert_string_equal(str(o, "file"), this_file_relative()); /* below the spec's folder */
	assert_string_equal(str(o, "file"), "tests/unit/test_results_json.c");
	assert_int_equal(num(o, "line"), line_wait);
	/* the stack, innermost first, is the symbolized one */
	a = arr(js, "stack");
	assert_int_equal(cJSON_GetArraySize(a), s->nframes);
	for (i = 0; i < s->nframes; i++) {
		const struct tg_frame *f = &s->frames[i];
		char buf[4096];

		assert_frame(cJSON_GetArrayItem(a, i), f, tg_display_path(f->file, TG_SOURCE_DIR, buf, sizeof(buf)));
	}
	assert_frame(cJSON_GetArrayItem(a, s->culprit), &s->frames[s->culprit], this_file_relative());
	assert_non_null(strstr(str(cJSON_GetArrayItem(a, 0), "function"), "write"));
	if (HAVE_FAKE_POLL)
		assert_string_equal(str(cJSON_GetArrayItem(a, s->nframes - 1), "function"),
				    "tokio::runtime::task::raw::poll");

	js = json_span(root, ID_SAMPLES);
	assert_span_fields(js, span_by_id(r, ID_SAMPLES), "demo::handler");
	assert_int_equal(num(js, "on_cpu_ns"), 120 * MS - 50 * MS - 1 * MS);
	assert_non_null(strstr(str(obj(js, "culprit"), "function"), "tg_test_spin_hash"));
	assert_int_equal(num(obj(js, "culprit"), "line"), line_spin);

	/* the hostile task and source path come back byte for byte; the
	 * path shares only the root with the spec's folder: absolute */
	js = json_span(root, ID_HOSTILE);
	assert_span_fields(js, span_by_id(r, ID_HOSTILE), HOSTILE_TASK);
	assert_int_equal(num(js, "on_cpu_ns"), 0);
	o = obj(js, "culprit");
	assert_string_equal(str(o, "file"), HOSTILE_PATH);
	assert_int_equal(num(o, "line"), line_hostile);

	/* no stack: culprit null, stack empty */
	js = json_span(root, ID_INNER);
	assert_true(cJSON_IsNull(get(js, "culprit")));
	assert_int_equal(cJSON_GetArraySize(arr(js, "stack")), 0);
	assert_int_equal(num(js, "start_ns"), 6 * MS);

	/* load steps relative to t0 */
	a = arr(root, "load");
	assert_int_equal(cJSON_GetArraySize(a), 2);
	o = cJSON_GetArrayItem(a, 0);
	assert_string_equal(str(o, "name"), "warmup");
	assert_true(cJSON_IsTrue(get(o, "ok")));
	assert_int_equal(num(o, "start_ns"), 1000 * MS);
	assert_int_equal(num(o, "duration_ns"), 2000 * MS);
	o = cJSON_GetArrayItem(a, 1);
	assert_string_equal(str(o, "name"), steps[1].name);
	assert_true(cJSON_IsFalse(get(o, "ok")));
	assert_int_equal(num(o, "start_ns"), 3000 * MS);
	assert_int_equal(num(o, "duration_ns"), 500 * MS);
	assert_string_equal(str(o, "error"), steps[1].error);

	assert_int_equal(cJSON_GetArraySize(arr(root, "assertions")), 0);
	cJSON_Delete(root);

	/* a spec elsewhere: the same culprit's file is absolute */
	spec.dir = "/nonexistent/elsewhere";
	root = write_and_parse(&res);
	o = obj(json_span(root, ID_OUTER), "culprit");
	assert_string_equal(str(o, "file"), this_file());
	assert_int_equal(str(o, "file")[0], '/');
	cJSON_Delete(root);

	/* a spec folder given with a trailing slash: still relative */
	spec.dir = TG_SOURCE_DIR "/";
	root = write_and_parse(&res);
	assert_string_equal(str(obj(json_span(root, ID_OUTER), "culprit"), "file"), this_file_relative());
	cJSON_Delete(root);

	tg_record_free(r);
	tg_symbolizer_free(sz);
}

static void check_exit(const struct tg_results *res, const char *code, const char *sig)
{
	cJSON *root = write_and_parse(res);
	const cJSON *ex = obj(obj(root, "target"), "exit");

	if (code)
		assert_int_equal(num(ex, "code"), atoi(code));
	else
		assert_true(cJSON_IsNull(get(ex, "code")));
	if (sig)
		assert_int_equal(num(ex, "signal"), atoi(sig));
	else
		assert_true(cJSON_IsNull(get(ex, "signal")));
	cJSON_Delete(root);
}

static void test_exit_and_no_record(void **state)
{
	struct tg_spec spec = make_spec(TG_SOURCE_DIR);
	struct tg_results res = make_results(&spec, NULL);
	cJSON *root;
	const cJSON *p;

	res.exited = true, res.exit_code = 0, res.exit_signal = 0;
	check_exit(&res, "0", NULL);
	res.exited = true, res.exit_code = 3, res.exit_signal = 0;
	check_exit(&res, "3", NULL);
	res.exited = true, res.exit_code = 0, res.exit_signal = 9;
	check_exit(&res, NULL, "9");
	res.exited = false, res.exit_code = 0, res.exit_signal = 0;
	check_exit(&res, NULL, NULL);

	/* the probes never ran: empty lists, no polls, the BPF side's losses */
	res.error = NULL;
	root = write_and_parse(&res);
	p = obj(root, "probe");
	assert_int_equal(num(p, "polls"), 0);
	assert_int_equal(num(p, "lost_events"), 1 + 2 + 4 + 8);
	assert_int_equal(cJSON_GetArraySize(arr(root, "tasks")), 0);
	assert_int_equal(cJSON_GetArraySize(arr(root, "blocking_spans")), 0);
	assert_int_equal(cJSON_GetArraySize(arr(root, "load")), 2);
	assert_int_equal(cJSON_GetArraySize(arr(root, "assertions")), 0);
	assert_true(cJSON_IsNull(get(root, "error")));
	cJSON_Delete(root);
}

/* A task without polls is left out (and, under ASan, its JSON object is not leaked). */
static void test_task_without_polls_left_out(void **state)
{
	struct tg_spec spec = make_spec(TG_SOURCE_DIR);
	struct tg_results res = make_results(&spec, NULL);
	struct tg_task_summary t[] = { { .name = "demo::idle" }, { .name = "demo::busy", .polls = 3 } };
	cJSON *root;

	res.error = NULL;
	res.tasks = t;
	res.ntasks = 2;
	root = write_and_parse(&res);
	assert_int_equal(cJSON_GetArraySize(arr(root, "tasks")), 1);
	assert_string_equal(str(cJSON_GetArrayItem(arr(root, "tasks"), 0), "name"), "demo::busy");
	cJSON_Delete(root);
}

/* Stacks of a poll that never ends are capped: what is dropped counts as lost. */
static void test_user_drops_are_lost(void **state)
{
	struct tg_record *r = new_record();
	struct tg_spec spec = make_spec(TG_SOURCE_DIR);
	struct tg_results res = make_results(&spec, r);
	uint64_t ips[1] = { 0x1234 }, dropped;
	cJSON *root;

	for (int i = 0; i < 200000; i++)
		sample(r, 900, 1, ips, 1);
	dropped = tg_record_dropped(r);
	assert_true(dropped > 0);
	assert_true(dropped < 200000);
	/* the poll ends under the threshold: its stacks go, nothing more is lost */
	poll_ev(r, 900, 1, SITE_MT, 1, T0, 1 * MS, 0, 0, 0);
	assert_int_equal(tg_record_dropped(r), dropped);
	/* and stacks are taken again */
	sample(r, 901, 1, ips, 1);
	poll_ev(r, 901, 1, SITE_MT, 2, T0, 20 * MS, 0, 0, 1);
	assert_int_equal(span_by_id(r, 2)->nstacks, 1);

	root = write_and_parse(&res);
	assert_int_equal(num(obj(root, "probe"), "lost_events"), 1 + 2 + 4 + 8 + dropped);
	assert_int_equal(num(obj(obj(root, "probe"), "stats"), "user_dropped"), dropped);
	assert_int_equal(tg_results_lost_events(&res), 1 + 2 + 4 + 8 + dropped);
	cJSON_Delete(root);
	tg_record_free(r);
}

static void test_write_errors(void **state)
{
	struct tg_spec spec = make_spec(TG_SOURCE_DIR);
	struct tg_results res = make_results(&spec, NULL);
	char path[128], err[512] = "", small[24];
	char dir[] = "/tmp/tg-results-XXXXXX";

	snprintf(path, sizeof(path), "/nonexistent-tg-%d/out/results.json", (int)getpid());
	assert_int_equal(tg_results_write(path, &res, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, strerror(ENOENT)));

	/* a folder in the way */
	assert_non_null(mkdtemp(dir));
	err[0] = 0;
	assert_int_equal(tg_results_write(dir, &res, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, dir));
	assert_null(strchr(err, '\n'));
	rmdir(dir);

	/* a short buffer is cut, not overrun */
	memset(small, 'x', sizeof(small));
	assert_int_equal(tg_results_write(path, &res, small, sizeof(small)), -ENOENT);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display_path),
		cmocka_unit_test(test_spans_and_slices),
		cmocka_unit_test(test_culprits),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_results_contract),
		cmocka_unit_test(test_exit_and_no_record),
		cmocka_unit_test(test_task_without_polls_left_out),
		cmocka_unit_test(test_user_drops_are_lost),
		cmocka_unit_test(test_write_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Last in the file: from here on, the compiler records this odd source path
 * (escapes included) in the debug info, as a Rust build could. */
#line 9000 HOSTILE_PATH
NOINLINE static void tg_test_hostile(void) { line_hostile = __LINE__; ra_in_hostile = get_ra(); ra_in_poll = (uint64_t)(uintptr_t)__builtin_return_address(0); sink++; }
