/* CPU cost of the load driver: runs one http step (open model) through
 * tg_run_step and reports the CPU time the driver used (getrusage of this
 * process: the server is another process).
 *
 *   load_bench URL RATE SECONDS
 *
 * Prints: "rate=1000/s duration=10.0s requests=10000 errors=0 cpu=0.85s cpu_pct=8.5 p50_ms=.. p99_ms=.."
 * Run by bench/load_driver.sh. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "hist.h"
#include "launch.h"
#include "load.h"
#include "spec.h"

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static volatile sig_atomic_t stop;
	char *no[] = { NULL };
	struct tg_spec spec = { .dir = "." };
	struct tg_step st = { .name = "bench", .kind = TG_STEP_HTTP, .env = no };
	struct tg_step_result r;
	struct rusage a, b;
	uint64_t n = 0;
	double cpu, wall;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s URL RATE SECONDS\n", argv[0]);
		return 2;
	}
	st.http.url = argv[1];
	st.http.headers = no;
	st.traffic.rate_per_s = atof(argv[2]);
	st.traffic.duration_ns = (uint64_t)(atof(argv[3]) * 1e9);
	signal(SIGPIPE, SIG_IGN);
	getrusage(RUSAGE_SELF, &a);
	rc = tg_run_step(&spec, &st, &r, &stop, NULL, NULL);
	getrusage(RUSAGE_SELF, &b);
	if (rc) {
		fprintf(stderr, "load_bench: %s\n", r.error);
		return 1;
	}
	cpu = tv(b.ru_utime) - tv(a.ru_utime) + tv(b.ru_stime) - tv(a.ru_stime);
	wall = (double)(r.end_ns - r.start_ns) / 1e9;
	for (size_t i = 0; i < TG_HIST_BUCKETS; i++)
		n += r.latency_hist[i];
	printf("rate=%.0f/s duration=%.2fs requests=%llu errors=%llu achieved=%.1f/s cpu=%.3fs "
	       "cpu_pct=%.1f p50_ms=%.3f p99_ms=%.3f\n",
	       st.traffic.rate_per_s, wall, (unsigned long long)r.requests,
	       (unsigned long long)r.errors, r.throughput_per_s, cpu, 100.0 * cpu / wall,
	       tg_hist_quantile((const __u64 *)r.latency_hist, n, 0.5, r.latency_max_ns) / 1e6,
	       tg_hist_quantile((const __u64 *)r.latency_hist, n, 0.99, r.latency_max_ns) / 1e6);
	tg_step_result_free(&r);
	return r.errors ? 1 : 0;
}
