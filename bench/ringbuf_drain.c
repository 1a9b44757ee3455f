// SPDX-License-Identifier: MIT
/* The record path end to end through a real BPF ring buffer: a BPF program
 * (ringbuf_drain.bpf.c, run with BPF_PROG_TEST_RUN from a producer thread)
 * writes poll events at a paced rate while the reader does what tokio-guard's
 * does (ring_buffer__poll, then tg_record_on_event per event). For each rate:
 * events produced, consumed and lost (reserve failures in the BPF program),
 * and the reader's CPU per event. Needs root (loads BPF).
 *
 *   ringbuf_drain [SECONDS] [SPAN_EVERY] [RING_MB]   (defaults 1, 0 = no spans, 16)
 *   (bench/record.sh runs it after record_bench when run as root) */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"
#include "bpf_object.h"

#define BATCH 1000
#define NSITES 50

TG_BPF_EMBEDDED(ringbuf_drain);

struct drain {
	struct bpf_object *obj;
	struct bpf_map *events;
	struct bpf_program *emit_batch;
	struct tg_record *rec;
	double rate;              /* events/s asked; 0: as fast as the program runs */
	double seconds;
	atomic_bool done;
	uint64_t consumed;
	uint64_t reader_cpu_ns;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;

	d->consumed++;
	return tg_record_on_event(d->rec, data, size);
}

/* The reader: tg_probe_poll's loop. */
static void *reader(void *arg)
{
	struct drain *d = arg;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(d->events), on_event, d, NULL);
	uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);

	if (!rb)
		return NULL;
	while (!atomic_load(&d->done)) {
		if (ring_buffer__poll(rb, 100) >= 0)
			ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	d->reader_cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	ring_buffer__free(rb);
	return NULL;
}

/* Batches of BATCH events on a schedule; returns the seconds it ran. */
static double produce(struct drain *d)
{
	int fd = bpf_program__fd(d->emit_batch);
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(d->seconds * 1e9);
	uint64_t n = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	for (;;) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		if (now >= end)
			break;
		if (d->rate > 0) {
			uint64_t due = t0 + (uint64_t)((double)n * BATCH / d->rate * 1e9);

			if (now < due) {
				if (due - now > 200000) /* sleep long waits, spin short ones */
					usleep((useconds_t)((due - now) / 2000));
				continue;
			}
		}
		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "ringbuf_drain: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			break;
		}
		n++;
	}
	return (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
}

/* The embedded producer, its constants set (as probe.c sets poll_probe's). */
static int open_drain(struct drain *d, unsigned span_every, unsigned ring_mb)
{
	uint32_t *batch, *every;
	uint64_t *wakeup;

	d->obj = tg_bpf_open(tg_bpf_ringbuf_drain, TG_BPF_EMBEDDED_SIZE(ringbuf_drain), "ringbuf_drain");
	if (!d->obj)
		return -1;
	d->events = bpf_object__find_map_by_name(d->obj, "events");
	d->emit_batch = bpf_object__find_program_by_name(d->obj, "emit_batch");
	batch = tg_bpf_var_init(d->obj, ".rodata", "batch", sizeof(*batch));
	every = tg_bpf_var_init(d->obj, ".rodata", "span_every", sizeof(*every));
	wakeup = tg_bpf_var_init(d->obj, ".rodata", "wakeup_bytes", sizeof(*wakeup));
	if (!d->events || !d->emit_batch || !batch || !every || !wakeup) {
		bpf_object__close(d->obj);
		errno = ENOENT;
		return -1;
	}
	*batch = BATCH;
	*every = span_every;
	*wakeup = ((uint64_t)ring_mb << 20) / 8; /* as probe.c */
	bpf_map__set_max_entries(d->events, ring_mb << 20);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	unsigned span_every = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	unsigned ring_mb = argc > 3 ? (unsigned)atoi(argv[3]) : 16;
	static const double rates[] = { 250e3, 500e3, 1e6, 2e6, 4e6, 0 };
	struct tg_poll_sites sites = { 0 };
	int bad = 0;

	sites.v = calloc(NSITES, sizeof(*sites.v));
	sites.n = NSITES;
	for (size_t i = 0; sites.v && i < NSITES; i++) {
		sites.v[i].addr = 0x1000 + i;
		sites.v[i].kind = TG_SITE_RUNTIME;
		if (asprintf(&sites.v[i].task_name, "bench::handler_%zu::{{closure}}", i) < 0)
			sites.v[i].task_name = NULL;
	}
	if (!sites.v || seconds <= 0 || !ring_mb || (ring_mb & (ring_mb - 1))) {
		fprintf(stderr, "usage: ringbuf_drain [SECONDS] [SPAN_EVERY] [RING_MB: a power of two]\n");
		return 2;
	}
	printf("ring %u MB, %s; %.1f s per rate\n", ring_mb,
	       span_every ? "1 poll in SPAN_EVERY a span with 4 stacks" : "every event a slice", seconds);
	printf("%10s %12s %12s %10s %8s %12s %12s\n", "asked/s", "produced/s", "consumed/s", "lost",
	       "lost%", "reader_ns/ev", "user_drop");
	for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		struct drain d = { .rate = rates[k], .seconds = seconds };
		pthread_t th;
		double ran;

		if (open_drain(&d, span_every, ring_mb)) {
			fprintf(stderr, "ringbuf_drain: opening the BPF object: %s\n", strerror(errno));
			return 2;
		}
		if (bpf_object__load(d.obj)) {
			fprintf(stderr, "ringbuf_drain: loading the BPF program: %s (run as root)\n",
				strerror(errno));
			return 2;
		}
		d.rec = tg_record_new(&sites, 10000000, 999);
		if (!d.rec || pthread_create(&th, NULL, reader, &d)) {
			fprintf(stderr, "ringbuf_drain: out of memory\n");
			return 2;
		}
		ran = produce(&d);
		atomic_store(&d.done, true);
		pthread_join(th, NULL);
		uint64_t made = 0, lost = 0;

		tg_bpf_var_read(d.obj, ".bss", "emitted", &made, sizeof(made));
		tg_bpf_var_read(d.obj, ".bss", "lost", &lost, sizeof(lost));
		char asked[32];

		snprintf(asked, sizeof asked, rates[k] > 0 ? "%.0f" : "max", rates[k]);
		printf("%10s %12.0f %12.0f %10llu %7.3f%% %12.1f %12llu\n", asked, (double)(made + lost) / ran,
		       (double)d.consumed / ran, (unsigned long long)lost,
		       100.0 * (double)lost / (double)(made + lost ? made + lost : 1),
		       d.consumed ? (double)d.reader_cpu_ns / (double)d.consumed : 0,
		       (unsigned long long)tg_record_dropped(d.rec));
		if (rates[k] > 0 && rates[k] <= 1e6 && lost)
			bad = 1;
		tg_record_free(d.rec);
		bpf_object__close(d.obj);
	}
	tg_poll_sites_free(&sites);
	/* exit 1: events lost at or below 1M events/s */
	return bad;
}
