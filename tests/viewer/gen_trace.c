/* Writes the trace of a small synthetic run (no probes, no root) for the
 * viewer test: two workers with plain, nested and blocking polls, a span
 * with off-CPU intervals, a hostile task name, a non-worker thread, load
 * steps with a parallel step, and counter samples.
 * Usage: gen_trace OUT.json [SPEC_NAME] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "trace.h"

#define US 1000ull
#define MS 1000000ull
#define T0 5000000000ull
#define PID 4242

static struct tg_poll_site site_v[] = {
	{ .task_name = "demo_server::process_request", .kind = TG_SITE_RUNTIME },
	{ .task_name = "demo::\"odd\" <task> & 100%: a,b\n\x01 \xff", .kind = TG_SITE_RUNTIME },
	{ .task_name = "tokio::task::LocalSet", .kind = TG_SITE_RUNTIME },
	{ .task_name = "demo::blocking_job", .kind = TG_SITE_BLOCKING },
};
static const struct tg_poll_sites sites = { .v = site_v, .n = sizeof(site_v) / sizeof(site_v[0]) };

static int poll_ev(struct tg_record *r, uint32_t tid, uint32_t seq, uint32_t site, uint64_t id,
		   uint64_t start, uint64_t dur, uint64_t off)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = site },
		.task_id = id, .start_ns = T0 + start, .duration_ns = dur, .off_cpu_ns = off,
	};
	return tg_record_on_event(r, &e, sizeof(e));
}

static int offcpu_ev(struct tg_record *r, uint32_t tid, uint32_t seq, uint64_t ts, uint64_t dur)
{
	static struct tg_stack_event e;

	memset(&e, 0, sizeof(e));
	e.hdr = (struct tg_event_hdr){ .type = TG_EV_OFFCPU, .tid = tid, .seq = seq };
	e.ts_ns = T0 + ts;
	e.duration_ns = dur;
	e.nr = 2;
	e.ips[0] = 0x1000;
	e.ips[1] = 0x2000;
	return tg_record_on_event(r, &e, offsetof(struct tg_stack_event, ips) + 2 * sizeof(uint64_t));
}

static int feed(struct tg_record *r)
{
	int e = 0;

	for (uint32_t i = 0; i < 20 && !e; i++) /* worker 1: plain polls */
		e = poll_ev(r, 1001, i + 1, 0, 10 + i, i * MS, 200 * US + i * 10 * US, 0);
	/* worker 1: a LocalSet poll around a nested poll */
	e = e ?: poll_ev(r, 1001, 31, 1, 99, 30 * MS + 100 * US, 300 * US, 0);
	e = e ?: poll_ev(r, 1001, 30, 2, 98, 30 * MS, 600 * US, 0);
	/* worker 2: a blocking span, off-CPU twice */
	e = e ?: offcpu_ev(r, 1002, 5, 41 * MS, 5 * MS);
	e = e ?: offcpu_ev(r, 1002, 5, 47 * MS, 4 * MS);
	e = e ?: poll_ev(r, 1002, 5, 0, 7, 40 * MS, 15 * MS, 9 * MS);
	/* the blocking pool: a thread of its own, never a span */
	e = e ?: poll_ev(r, 1003, 1, 3, 500, 10 * MS, 30 * MS, 0);
	for (uint64_t t = 0; t <= 60 && !e; t += 10)
		tg_record_add_sample(r, T0 + t * MS, t * 100);
	return e;
}

int main(int argc, char **argv)
{
	struct tg_step_result kids[2] = {
		{ .name = "clients <a&b>", .kind = TG_STEP_HTTP, .start_ns = T0 + 20 * MS,
		  .end_ns = T0 + 50 * MS, .ok = true, .requests = 300, .throughput_per_s = 10000 },
		{ .name = "slow \"exec\"", .kind = TG_STEP_EXEC, .start_ns = T0 + 20 * MS,
		  .end_ns = T0 + 45 * MS, .ok = false, .exit_code = 3, .error = "exited with 3" },
	};
	struct tg_step_result steps[2] = {
		{ .name = "warmup", .kind = TG_STEP_HTTP, .start_ns = T0, .end_ns = T0 + 19 * MS,
		  .ok = true, .requests = 100, .throughput_per_s = 5263.2 },
		{ .name = "burst", .kind = TG_STEP_PARALLEL, .start_ns = T0 + 20 * MS,
		  .end_ns = T0 + 50 * MS, .ok = false, .children = kids, .nchildren = 2 },
	};
	struct tg_spec spec = { .path = "viewer.yaml", .dir = "/nonexistent",
				.name = argc > 2 ? argv[2] : "viewer-demo" };
	struct tg_results res = { .spec = &spec, .exe = "/usr/bin/demo-server", .pid = PID,
				  .t0_ns = T0, .steps = steps, .nsteps = 2 };
	struct tg_trace_stats st;
	char err[512];
	int e;

	if (argc < 2) {
		fprintf(stderr, "usage: gen_trace OUT.json [SPEC_NAME]\n");
		return 2;
	}
	spec.report.trace_min_poll_ns = 100 * US;
	res.record = tg_record_new(&sites, 10 * MS, 999);
	if (!res.record || feed(res.record)) {
		fprintf(stderr, "gen_trace: cannot build the record: out of memory\n");
		return 1;
	}
	e = tg_trace_write(argv[1], &res, &st, err, sizeof(err));
	if (e)
		fprintf(stderr, "gen_trace: %s\n", err);
	else
		printf("%s: %llu slices, %llu bytes\n", argv[1], (unsigned long long)st.slices,
		       (unsigned long long)st.bytes);
	tg_record_free(res.record);
	return e ? 1 : 0;
}
