// SPDX-License-Identifier: MIT
/* How long writing the reports takes after a big run, and how big the trace
 * gets: a synthetic 60 s run with POLLS polls (default 1,000,000), every one
 * of them at or above the trace floor (the worst case for the trace), one in
 * 2000 a blocking span with a sampled and an off-CPU stack of real addresses
 * (this program's own functions, symbolized through /proc/self like a
 * target's). Budget: everything written in under 2 s, trace under 50 MB.
 *
 *   report_bench [POLLS] [OUT_DIR]     (bench/reports.sh runs it) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "github.h"
#include "junit.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "summary.h"
#include "trace.h"

#define NSITES 50
#define NTHREADS 4
#define SPAN_EVERY 2000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Stand-ins for the target's code: their addresses make real stacks. */
__attribute__((noinline)) static void bench_culprit(void) { __asm__ volatile(""); }
__attribute__((noinline)) static void bench_caller(void) { bench_culprit(); }
__attribute__((noinline)) static void bench_outer(void) { bench_caller(); }

static void make_sites(struct tg_poll_sites *s)
{
	s->v = calloc(NSITES, sizeof(*s->v));
	s->n = NSITES;
	for (size_t i = 0; i < NSITES; i++) {
		s->v[i].addr = 0x1000 + i;
		if (asprintf(&s->v[i].task_name, "bench::handler_%zu::{{closure}} \"<&>\"", i) < 0)
			exit(1);
		s->v[i].kind = TG_SITE_RUNTIME;
	}
}

static void feed_stack(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t ts, bool offcpu)
{
	static struct tg_stack_event e;

	memset(&e.hdr, 0, sizeof(e.hdr));
	e.hdr.type = offcpu ? TG_EV_OFFCPU : TG_EV_SAMPLE;
	e.hdr.tid = tid;
	e.hdr.seq = seq;
	e.ts_ns = ts;
	e.duration_ns = offcpu ? 4000000 : 0;
	e.nr = 3;
	e.ips[0] = (uint64_t)(uintptr_t)bench_culprit + 1;
	e.ips[1] = (uint64_t)(uintptr_t)bench_caller + 5;
	e.ips[2] = (uint64_t)(uintptr_t)bench_outer + 5;
	tg_record_on_event(r, &e, sizeof(e));
}

/* POLLS polls over NTHREADS threads, back to back per thread (100-300 us each,
 * 20 us apart: about 55 s of a 60 s run), every SPAN_EVERY-th a 12 ms span. */
static void feed(struct tg_record *r, uint64_t polls, uint64_t t0)
{
	uint64_t clock[NTHREADS];

	for (int t = 0; t < NTHREADS; t++)
		clock[t] = t0;
	for (uint64_t i = 0; i < polls; i++) {
		uint32_t th = (uint32_t)(i % NTHREADS), seq = (uint32_t)(i / NTHREADS);
		bool span = i % SPAN_EVERY == 0;
		struct tg_poll_event e = {
			.hdr = { .type = TG_EV_POLL, .tid = 1000 + th, .seq = seq, .site = (uint32_t)(i % NSITES) },
			.task_id = i % 5000,
			.start_ns = clock[th],
			.duration_ns = span ? 12000000 : 100000 + (i * 7919) % 200000,
		};

		if (span) {
			e.off_cpu_ns = 4000000;
			feed_stack(r, e.hdr.tid, seq, e.start_ns + 1000000, false);
			feed_stack(r, e.hdr.tid, seq, e.start_ns + 9000000, true);
		}
		tg_record_on_event(r, &e, sizeof(e));
		clock[th] += e.duration_ns + 20000;
		if (i % 4000 == 0)
			tg_record_add_sample(r, e.start_ns, i);
	}
}

static void site_stats(struct tg_record *r, uint64_t polls)
{
	struct tg_site_stats *st = calloc(1, sizeof(*st));

	for (uint32_t s = 0; s < NSITES; s++) {
		memset(st, 0, sizeof(*st));
		st->polls = polls / NSITES;
		st->busy_ns = st->polls * 150000;
		st->max_ns = 12000000;
		st->blocking_spans = st->polls / SPAN_EVERY;
		st->hist[tg_hist_bucket(150000)] = st->polls - st->blocking_spans;
		st->hist[tg_hist_bucket(12000000)] = st->blocking_spans;
		tg_record_set_site_stats(r, s, st);
	}
	free(st);
}

static double ms_since(uint64_t t)
{
	return (double)(now_ns() - t) / 1e6;
}

int main(int argc, char **argv)
{
	uint64_t polls = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp/tg-report-bench";
	char spec_path[512], path[600], err[1024];
	struct tg_poll_sites sites = { 0 };
	struct tg_spec spec;
	struct tg_results res = { 0 };
	struct tg_trace_stats ts = { 0 };
	struct tg_check *checks = NULL;
	size_t nchecks = 0, nspans, ntasks, nfns;
	struct stat sb;
	uint64_t t0 = now_ns(), t, total;
	double ms_resolve, ms_eval, ms_results, ms_junit, ms_trace, ms_github;

	mkdir(dir, 0755);
	snprintf(spec_path, sizeof(spec_path), "%s/bench.yaml", dir);
	FILE *f = fopen(spec_path, "we");
	if (!f)
		return perror(spec_path), 2;
	fputs("version: 1\ntarget: { command: [\"/bin/true\"] }\nassertions:\n"
	      "  - max_poll: 5ms\n  - task: \"bench::*\"\n    p99_poll: 1ms\n    max_blocking_spans: 0\n"
	      "  - max_blocking_time: 1s\n", f);
	fclose(f);
	if (tg_spec_load(spec_path, &spec, err, sizeof(err)))
		return fprintf(stderr, "%s\n", err), 2;
	make_sites(&sites);
	struct tg_record *r = tg_record_new(&sites, 10000000, 999);
	struct tg_symbolizer *sz = tg_symbolizer_new(getpid());

	tg_record_set_pid(r, getpid());
	feed(r, polls, t0);
	site_stats(r, polls);
	fprintf(stderr, "report_bench: %llu polls fed in %.0f ms\n", (unsigned long long)polls, ms_since(t0));

	t = now_ns();
	tg_record_resolve(r, sz);
	ms_resolve = ms_since(t);
	t = now_ns();
	struct tg_span *spans = tg_record_spans_mut(r, &nspans);
	const struct tg_span **by = calloc(nspans + 1, sizeof(*by));
	tg_apply_allow(&spec, spans, nspans);
	for (size_t i = 0; i < nspans; i++)
		by[i] = &spans[i];
	const struct tg_task_summary *tasks = tg_record_tasks(r, &ntasks);
	struct tg_assert_input in = {
		.spec = &spec, .tasks = tasks, .ntasks = ntasks, .spans = spans, .nspans = nspans,
		.fns = tg_record_fns(r, &nfns), .probed = true, .polls = polls,
	};
	in.nfns = nfns;
	tg_assert_eval(&in, &checks, &nchecks);
	ms_eval = ms_since(t);
	res = (struct tg_results){
		.spec = &spec, .exe = "/bin/true", .pid = getpid(), .poll_sites = NSITES, .t0_ns = t0,
		.duration_s = 60, .record = r, .tasks = tasks, .ntasks = ntasks, .spans = by,
		.nspans = nspans, .checks = checks, .nchecks = nchecks, .kernel = "bench",
		.junit_path = "junit.xml", .trace_path = "trace.json", .results_path = "results.json",
	};

	total = now_ns();
	snprintf(path, sizeof(path), "%s/results.json", dir);
	t = now_ns();
	if (tg_results_write(path, &res, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	ms_results = ms_since(t);
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	t = now_ns();
	if (tg_junit_write(path, &res, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	ms_junit = ms_since(t);
	snprintf(path, sizeof(path), "%s/trace.json", dir);
	t = now_ns();
	if (tg_trace_write(path, &res, &ts, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	ms_trace = ms_since(t);
	stat(path, &sb);
	snprintf(path, sizeof(path), "%s/summary.md", dir);
	unlink(path);
	t = now_ns();
	if (tg_github_summary(path, &res, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	ms_github = ms_since(t);
	double ms_total = ms_since(total);

	printf("polls=%llu spans=%zu slices_in_trace=%llu dropped=%llu trace_floor_us=%.0f\n",
	       (unsigned long long)polls, nspans, (unsigned long long)ts.slices,
	       (unsigned long long)ts.dropped, (double)ts.min_poll_ns / 1e3);
	printf("resolve_ms=%.0f assert_ms=%.0f results_ms=%.0f junit_ms=%.0f trace_ms=%.0f github_ms=%.0f "
	       "write_total_ms=%.0f all_ms=%.0f trace_mb=%.1f\n",
	       ms_resolve, ms_eval, ms_results, ms_junit, ms_trace, ms_github, ms_total,
	       ms_total + ms_resolve + ms_eval, (double)sb.st_size / (1 << 20));
	tg_checks_free(checks);
	free(by);
	tg_record_free(r);
	tg_symbolizer_free(sz);
	tg_poll_sites_free(&sites);
	tg_spec_free(&spec);
	return (ms_total + ms_resolve + ms_eval) < 2000 && sb.st_size < 50 << 20 ? 0 : 1;
}
