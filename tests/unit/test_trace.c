/* trace.json: a record built from synthetic ring-buffer events (nested polls,
 * a span with off-CPU stacks, hostile names, load steps, timeline samples) is
 * written, parsed back with cJSON and checked event by event against the
 * record: names, categories, exact ts/dur, args, proper nesting per track,
 * thread names and order, counters, the budget path and the metadata. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_files.h"
#include <cjson/cJSON.h>

#include "load.h"
#include "poll_probe.h"
#include "poll_sites.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"
#include "trace.h"
#include "workers.h"

#define US 1000ull
#define MS 1000000ull
#define T0 1000000000000ull
#define LOAD_TID (1u << 30) /* trace.c's lane for load steps */

/* Every byte JSON or a naive writer could get wrong, and invalid UTF-8. */
#define HOSTILE_TASK "demo::\"task\" \\ <a&b>\n50%:x,y\t\x01 \xc3\xa9 \xff" " end"
/* ... as it must read back: the invalid byte became U+FFFD */
#define HOSTILE_TASK_READ "demo::\"task\" \\ <a&b>\n50%:x,y\t\x01 \xc3\xa9 \xef\xbf\xbd" " end"
#define HOSTILE_FN "demo::\"handler\"<&>%:,\n"
/* at most 15 bytes, no newline (the record reads one line): a thread's comm */
#define HOSTILE_COMM "w\"<&>%:,\\\x01"
#define HOSTILE_STEP "load \"a\" <&>\n%:,"
#define HOSTILE_REASON "bounded \"by\" design <&>\n%:,"
#define SPEC_DIR "/srv/spec \"dir\""

enum { SITE_HANDLER, SITE_HOSTILE, SITE_LOCAL, SITE_BLOCKING, NSITES };

static struct tg_poll_site site_v[NSITES] = {
	[SITE_HANDLER] = { .task_name = "demo::handler", .kind = TG_SITE_RUNTIME },
	[SITE_HOSTILE] = { .task_name = HOSTILE_TASK, .kind = TG_SITE_RUNTIME },
	[SITE_LOCAL] = { .task_name = "tokio::task::LocalSet", .kind = TG_SITE_RUNTIME },
	[SITE_BLOCKING] = { .task_name = "demo::blocking_job", .kind = TG_SITE_BLOCKING },
};
static const struct tg_poll_sites sites = { .v = site_v, .n = NSITES };

/* Made-up return addresses of the span's stacks. */
#define IP_NANOSLEEP 0x7f0000001000ull
#define IP_SLEEP_CALLER 0x7f0000002000ull /* skipped by the frame-pointer walk */
#define IP_STD_SLEEP 0x555500003000ull
#define IP_HANDLER 0x555500004000ull
#define IP_OTHER 0x555500009000ull

static uint32_t main_tid; /* this thread: its comm is readable */
#define TID_W2 900002u
#define TID_POOL 900003u

/* ---- events ---- */

static void feed(struct tg_record *r, const void *ev, size_t size)
{
	void *copy = malloc(size);

	assert_non_null(copy);
	memcpy(copy, ev, size);
	assert_int_equal(tg_record_on_event(r, copy, size), 0);
	free(copy);
}

static void poll_ev(struct tg_record *r, uint32_t tid, uint32_t seq, uint32_t site, uint64_t id,
		    uint64_t start, uint64_t dur, uint64_t off, uint64_t runq)
{
	struct tg_poll_event e = {
		.hdr = { .type = TG_EV_POLL, .tid = tid, .seq = seq, .site = site },
		.task_id = id, .start_ns = start, .duration_ns = dur, .off_cpu_ns = off, .runq_ns = runq,
	};
	feed(r, &e, sizeof(e));
}

static void stack_ev(struct tg_record *r, uint32_t type, uint32_t tid, uint32_t seq, uint64_t ts,
		     uint64_t dur, const uint64_t *ips, uint32_t nr)
{
	struct tg_stack_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->hdr = (struct tg_event_hdr){ .type = type, .tid = tid, .seq = seq };
	e->ts_ns = ts;
	e->duration_ns = dur;
	e->nr = nr;
	memcpy(e->ips, ips, nr * sizeof(uint64_t));
	feed(r, e, offsetof(struct tg_stack_event, ips) + nr * sizeof(uint64_t));
	free(e);
}

/* Task ids of the polls below. */
enum {
	ID_SPAN = 7,      /* worker 2: 20ms span, three off-CPU intervals */
	ID_LOCAL = 30,    /* LocalSet poll around ID_NESTED */
	ID_NESTED = 31,
	ID_OVER_A = 40,   /* two polls that overlap without nesting: B is clamped */
	ID_OVER_B = 41,
	ID_EARLY = 50,    /* starts before t0: clipped to 0 */
	ID_SHORT = 60,    /* under the trace floor: not drawn */
	ID_POOL = 70,     /* blocking pool thread */
	ID_PLAIN = 100,   /* 100.. : plain polls of worker 1 */
};
#define NPLAIN 10
#define SPAN_START (T0 + 100 * MS)
#define SPAN_DUR (20 * MS)

static const uint64_t stack_full[] = { IP_NANOSLEEP, IP_SLEEP_CALLER, IP_STD_SLEEP, IP_HANDLER };
static const uint64_t stack_walked[] = { IP_NANOSLEEP, IP_STD_SLEEP, IP_HANDLER }; /* caller skipped */
static const uint64_t stack_other[] = { IP_NANOSLEEP, IP_OTHER, IP_HANDLER };

static void feed_events(struct tg_record *r)
{
	/* worker 1 (this thread): plain polls, 200us + 10us * i */
	for (uint32_t i = 0; i < NPLAIN; i++)
		poll_ev(r, main_tid, i + 1, SITE_HANDLER, ID_PLAIN + i, T0 + i * MS, 200 * US + i * 10 * US, 0, 0);
	/* a nested poll ends (and is sent) before the LocalSet poll around it */
	poll_ev(r, main_tid, 31, SITE_HOSTILE, ID_NESTED, T0 + 30 * MS + 100 * US, 300 * US, 0, 0);
	poll_ev(r, main_tid, 30, SITE_LOCAL, ID_LOCAL, T0 + 30 * MS, 600 * US, 0, 0);
	poll_ev(r, main_tid, 40, SITE_HANDLER, ID_OVER_A, T0 + 50 * MS, 1 * MS, 0, 0);
	poll_ev(r, main_tid, 41, SITE_HANDLER, ID_OVER_B, T0 + 50 * MS + 500 * US, 1 * MS, 0, 0);
	poll_ev(r, main_tid, 42, SITE_HANDLER, ID_SHORT, T0 + 60 * MS, 50 * US, 0, 0);

	/* worker 2: the span. Off-CPU ts is the switch-out: the interval is
	 * [ts, ts + duration]; the last one runs past the poll's end. */
	stack_ev(r, TG_EV_SAMPLE, TID_W2, 5, SPAN_START + 1 * MS, 0, stack_other, 3);
	/* clock skew: a switch-out stamped before the poll's start */
	stack_ev(r, TG_EV_OFFCPU, TID_W2, 5, SPAN_START - 1 * MS, 2 * MS, stack_other, 3);
	stack_ev(r, TG_EV_OFFCPU, TID_W2, 5, SPAN_START + 2 * MS, 5 * MS, stack_full, 4);
	stack_ev(r, TG_EV_OFFCPU, TID_W2, 5, SPAN_START + 8 * MS, 3 * MS, stack_walked, 3);
	stack_ev(r, TG_EV_OFFCPU, TID_W2, 5, SPAN_START + 17 * MS, 6 * MS, stack_other, 3);
	poll_ev(r, TID_W2, 5, SITE_HANDLER, ID_SPAN, SPAN_START, SPAN_DUR, 14 * MS, 1 * MS);

	/* the blocking pool: a thread of its own, long but never a span; its
	 * first poll started before the run's origin */
	poll_ev(r, TID_POOL, 1, SITE_BLOCKING, ID_EARLY, T0 - 300 * US, 500 * US, 0, 0);
	poll_ev(r, TID_POOL, 2, SITE_BLOCKING, ID_POOL, T0 + 10 * MS, 30 * MS, 0, 0);

	tg_record_add_sample(r, T0, 0);
	tg_record_add_sample(r, T0 + 250 * MS, 1000);
	tg_record_add_sample(r, T0 + 500 * MS, 1500);
}

/* What session.c and tg_record_resolve would have set on the span. */
static struct tg_frame span_frames[] = {
	{ .addr = IP_NANOSLEEP, .function = "clock_nanosleep", .file = "../sysdeps/unix/clock_nanosleep.c", .line = 78 },
	{ .addr = IP_SLEEP_CALLER, .function = "nanosleep" },
	{ .addr = IP_STD_SLEEP, .function = "std::thread::sleep", .file = "/rustc/abc/library/std/src/thread/mod.rs", .line = 123 },
	{ .addr = IP_HANDLER, .function = HOSTILE_FN, .file = SPEC_DIR "/src/main.rs", .line = 42, .own = true },
};
#define NFRAMES 4

static void resolve_by_hand(struct tg_record *r)
{
	size_t n;
	struct tg_span *s = tg_record_spans_mut(r, &n);

	assert_int_equal(n, 1);
	assert_int_equal(s->poll.task_id, ID_SPAN);
	assert_int_equal(s->nstacks, 5);
	/* each stack's own blocking call: the sleeping stacks name std's sleep,
	 * the other one has no Rust frame the test symbolizes */
	for (size_t k = 0; k < s->nstacks; k++)
		if (s->stacks[k].nr > 1 && s->stacks[k].ips[1] != IP_OTHER)
			s->stacks[k].where = span_frames[2];
	s->frames = malloc(sizeof(span_frames)); /* the record frees it */
	assert_non_null(s->frames);
	memcpy(s->frames, span_frames, sizeof(span_frames));
	s->nframes = NFRAMES;
	s->culprit = 3;
	s->kind = TG_BLOCK_SLEEP;
	s->allowed = true;
	s->allow_function = "demo::*";
	s->allow_reason = HOSTILE_REASON;
}

/* ---- the run around the record ---- */

static struct tg_step_result kids[2];
static struct tg_step_result steps[2];
static struct tg_spec spec;

static void fill_results(struct tg_results *res, struct tg_record *rec)
{
	kids[0] = (struct tg_step_result){ .name = HOSTILE_STEP, .kind = TG_STEP_HTTP,
					   .start_ns = T0 + 20 * MS, .end_ns = T0 + 60 * MS, .ok = true,
					   .requests = 400, .errors = 2, .throughput_per_s = 10000 };
	kids[1] = (struct tg_step_result){ .name = "slow", .kind = TG_STEP_EXEC, .start_ns = T0 + 20 * MS,
					   .end_ns = T0 + 55 * MS, .ok = false, .exit_code = 3 };
	snprintf(kids[1].error, sizeof(kids[1].error), "exited with \"3\"\n");
	steps[0] = (struct tg_step_result){ .name = "warmup", .kind = TG_STEP_HTTP, .start_ns = T0,
					    .end_ns = T0 + 19 * MS, .ok = true, .requests = 100 };
	steps[1] = (struct tg_step_result){ .name = "burst", .kind = TG_STEP_PARALLEL,
					    .start_ns = T0 + 20 * MS, .end_ns = T0 + 60 * MS, .ok = true,
					    .children = kids, .nchildren = 2 };
	spec = (struct tg_spec){ .path = "specs/\"g\" <&>.yaml", .dir = SPEC_DIR, .name = "demo <&>" };
	spec.report.trace_min_poll_ns = 100 * US;
	*res = (struct tg_results){ .spec = &spec, .exe = "/opt/bin/demo-server", .pid = getpid(),
				    .t0_ns = T0, .record = rec, .steps = steps, .nsteps = 2 };
}

static struct tg_record *build_record(void)
{
	struct tg_record *r = tg_record_new(&sites, 10 * MS, 1000);

	assert_non_null(r);
	tg_record_set_pid(r, getpid());
	feed_events(r);
	resolve_by_hand(r);
	return r;
}

/* ---- reading the trace back ---- */

static char dir[] = "/tmp/tg-test-trace-XXXXXX";

static char *slurp(const char *path, size_t *len)
{
	char *text = tg_test_read(path, len);

	assert_non_null(text);
	return text;
}

static cJSON *write_and_parse(const struct tg_results *res, const char *name,
			      struct tg_trace_stats *st, size_t *len)
{
	char path[512], err[512] = "";
	char *text;
	cJSON *doc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (tg_trace_write(path, res, st, err, sizeof(err)) != 0)
		fail_msg("tg_trace_write: %s", err);
	text = slurp(path, len);
	/* Raw control characters never appear inside strings: only the
	 * newlines between events. */
	for (size_t i = 0; i < *len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
			fail_msg("raw control byte 0x%02x at %zu", text[i], i);
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	return doc;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", key);
	return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", key);
	return v->valuedouble;
}

/* Microseconds with three decimals, back to integer nanoseconds. */
static uint64_t ns(const cJSON *o, const char *key)
{
	double us = num(o, key);

	assert_true(us >= 0);
	return (uint64_t)(us * 1000.0 + 0.5);
}

static const cJSON *args(const cJSON *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "args");

	assert_true(cJSON_IsObject(a));
	return a;
}

static bool is_ph(const cJSON *e, const char *ph)
{
	return strcmp(str(e, "ph"), ph) == 0;
}

static const cJSON *find_x(const cJSON *events, const char *cat, uint64_t task_id)
{
	const cJSON *e, *found = NULL;

	cJSON_ArrayForEach(e, events) {
		if (!is_ph(e, "X") || strcmp(str(e, "cat"), cat) != 0 ||
		    strcmp(cat, "load") == 0 || (uint64_t)num(args(e), "task_id") != task_id)
			continue;
		if (found)
			fail_msg("two %s slices of task %llu", cat, (unsigned long long)task_id);
		found = e;
	}
	return found;
}

static const cJSON *find_named(const cJSON *events, const char *ph, const char *name, uint32_t tid)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, events)
		if (is_ph(e, ph) && strcmp(str(e, "name"), name) == 0 &&
		    (tid == 0 || (uint32_t)num(e, "tid") == tid))
			return e;
	return NULL;
}

static const char *thread_name(const cJSON *events, uint32_t tid)
{
	const cJSON *m = find_named(events, "M", "thread_name", tid);

	return m ? str(args(m), "name") : NULL;
}

static double sort_index(const cJSON *events, uint32_t tid)
{
	const cJSON *m = find_named(events, "M", "thread_sort_index", tid);

	assert_non_null(m);
	return num(args(m), "sort_index");
}

/* Per tid, every X slice lies inside the one enclosing its start and no two
 * siblings overlap; events come sorted by (tid, ts, -dur). */
static void assert_nesting(const cJSON *events)
{
	uint64_t ends[64];
	size_t depth = 0, n = 0;
	uint32_t tid = 0;
	uint64_t last_ts = 0, last_dur = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, events) {
		uint32_t t;
		uint64_t ts, dur;

		if (!is_ph(e, "X"))
			continue;
		t = (uint32_t)num(e, "tid");
		ts = ns(e, "ts");
		dur = ns(e, "dur");
		if (n++ && t == tid) {
			assert_true(ts > last_ts || (ts == last_ts && dur <= last_dur));
		} else {
			assert_true(n == 1 || t > tid);
			depth = 0;
		}
		while (depth && ends[depth - 1] <= ts)
			depth--;
		if (depth && ts + dur > ends[depth - 1])
			fail_msg("tid %u: slice at %llu ns ends after its parent", t, (unsigned long long)ts);
		assert_true(depth < 64);
		ends[depth++] = ts + dur;
		tid = t, last_ts = ts, last_dur = dur;
	}
	assert_true(n > 0);
}

/* ---- tests ---- */

static int setup(void **state)
{
	main_tid = (uint32_t)getpid();
	/* the record reads this thread's comm at its first poll */
	prctl(PR_SET_NAME, HOSTILE_COMM, 0, 0, 0);
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[1024];

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void assert_poll_slice(const cJSON *events, const struct tg_slice *s, const char *name)
{
	const cJSON *x = find_x(events, "poll", s->task_id), *a;

	if (!x)
		fail_msg("no slice for task %llu", (unsigned long long)s->task_id);
	a = args(x);
	assert_string_equal(str(x, "name"), name);
	assert_int_equal((uint32_t)num(x, "pid"), getpid());
	assert_int_equal((uint32_t)num(x, "tid"), s->tid);
	assert_int_equal(ns(x, "ts"), s->start_ns - T0);
	assert_int_equal(ns(x, "dur"), s->duration_ns);
	assert_int_equal(ns(a, "on_cpu_us"), s->duration_ns - s->off_cpu_ns - s->runq_ns);
	assert_int_equal(ns(a, "off_cpu_us"), s->off_cpu_ns);
	assert_int_equal(ns(a, "runqueue_us"), s->runq_ns);
}

static void test_events(void **state)
{
	struct tg_record *rec = build_record();
	struct tg_results res;
	struct tg_trace_stats st;
	size_t len, nsl, nx = 0;
	const struct tg_slice *sl = NULL;
	cJSON *doc, *events, *meta;
	const cJSON *e, *x, *a, *stack;

	fill_results(&res, rec);
	doc = write_and_parse(&res, "trace.json", &st, &len);
	assert_string_equal(str(doc, "displayTimeUnit"), "ms");
	events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
	assert_true(cJSON_IsArray(events));

	/* every event: a known phase, the target's pid */
	cJSON_ArrayForEach(e, events) {
		const char *ph = str(e, "ph");

		assert_true(strchr("MXC", ph[0]) && ph[1] == 0);
		assert_int_equal((int)num(e, "pid"), getpid());
		if (ph[0] == 'X') {
			const char *cat = str(e, "cat");

			nx++;
			assert_true(!strcmp(cat, "poll") || !strcmp(cat, "blocking") ||
				    !strcmp(cat, "off_cpu") || !strcmp(cat, "load"));
			(void)args(e);
		}
	}
	assert_nesting(events);

	/* plain polls: each one once, exactly as recorded */
	sl = tg_record_slices(rec, &nsl);
	for (size_t i = 0; i < nsl; i++) {
		const struct tg_slice *s = &sl[i];

		if (s->task_id >= ID_PLAIN && s->task_id < ID_PLAIN + NPLAIN)
			assert_poll_slice(events, s, "demo::handler");
		else if (s->task_id == ID_NESTED)
			assert_poll_slice(events, s, HOSTILE_TASK_READ);
		else if (s->task_id == ID_LOCAL)
			assert_poll_slice(events, s, "tokio::task::LocalSet");
		else if (s->task_id == ID_POOL)
			assert_poll_slice(events, s, "demo::blocking_job");
		else if (s->task_id == ID_OVER_A)
			assert_poll_slice(events, s, "demo::handler");
	}
	/* under the floor: not drawn */
	assert_null(find_x(events, "poll", ID_SHORT));
	/* overlapping without nesting: the later one is cut at the first's end */
	x = find_x(events, "poll", ID_OVER_B);
	assert_non_null(x);
	assert_int_equal(ns(x, "ts"), 50 * MS + 500 * US);
	assert_int_equal(ns(x, "dur"), 500 * US);
	assert_int_equal(ns(args(x), "on_cpu_us"), 1 * MS); /* the measurement itself is kept */
	/* before t0: starts at 0, ends where it ended */
	x = find_x(events, "poll", ID_EARLY);
	assert_non_null(x);
	assert_int_equal(ns(x, "ts"), 0);
	assert_int_equal(ns(x, "dur"), 200 * US);

	/* the span */
	assert_null(find_x(events, "poll", ID_SPAN));
	x = find_x(events, "blocking", ID_SPAN);
	assert_non_null(x);
	a = args(x);
	assert_string_equal(str(x, "name"), "demo::handler");
	assert_int_equal((uint32_t)num(x, "tid"), TID_W2);
	assert_int_equal(ns(x, "ts"), SPAN_START - T0);
	assert_int_equal(ns(x, "dur"), SPAN_DUR);
	assert_int_equal(ns(a, "on_cpu_us"), 5 * MS);
	assert_int_equal(ns(a, "off_cpu_us"), 14 * MS);
	assert_int_equal(ns(a, "runqueue_us"), 1 * MS);
	assert_string_equal(str(a, "kind"), "sleep");
	assert_string_equal(str(a, "culprit"), HOSTILE_FN " (src/main.rs:42)");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "allowed")));
	assert_string_equal(str(a, "allow_reason"), HOSTILE_REASON);
	assert_string_equal(str(a, "allow_function"), "demo::*");
	stack = cJSON_GetObjectItemCaseSensitive(a, "stack");
	assert_int_equal(cJSON_GetArraySize(stack), NFRAMES);
	assert_string_equal(cJSON_GetArrayItem(stack, 0)->valuestring,
			    "clock_nanosleep (../sysdeps/unix/clock_nanosleep.c:78)");
	assert_string_equal(cJSON_GetArrayItem(stack, 1)->valuestring, "nanosleep");
	assert_string_equal(cJSON_GetArrayItem(stack, 2)->valuestring,
			    "std::thread::sleep (/rustc/abc/library/std/src/thread/mod.rs:123)");
	assert_string_equal(cJSON_GetArrayItem(stack, 3)->valuestring, HOSTILE_FN " (src/main.rs:42)");

	/* its off-CPU intervals, from the switch-out on, clipped to the span;
	 * named by their stack's blocking call (tg_stack.where), else "off-CPU" */
	{
		struct { uint64_t ts, dur; const char *name; } want_off[] = {
			{ 0, 1 * MS, "off-CPU" },       /* from -1ms: cut at the span's start */
			{ 2 * MS, 5 * MS, "std::thread::sleep" },
			{ 8 * MS, 3 * MS, "std::thread::sleep" },
			{ 17 * MS, 3 * MS, "off-CPU" }, /* 6ms, cut at the span's end */
		};
		size_t k = 0;

		cJSON_ArrayForEach(e, events) {
			if (!is_ph(e, "X") || strcmp(str(e, "cat"), "off_cpu") != 0)
				continue;
			assert_true(k < 4);
			assert_int_equal((uint32_t)num(e, "tid"), TID_W2);
			assert_int_equal(ns(e, "ts"), SPAN_START - T0 + want_off[k].ts);
			assert_int_equal(ns(e, "dur"), want_off[k].dur);
			assert_string_equal(str(e, "name"), want_off[k].name);
			assert_int_equal((uint64_t)num(args(e), "task_id"), ID_SPAN);
			if (k == 1 || k == 2)
				assert_string_equal(str(args(e), "at"),
						    "std::thread::sleep (/rustc/abc/library/std/src/thread/mod.rs:123)");
			else
				assert_null(cJSON_GetObjectItemCaseSensitive(args(e), "at"));
			k++;
		}
		assert_int_equal(k, 4);
	}

	/* names: the process, workers (this thread's hostile comm), the pool
	 * thread, load lanes; workers sort first, load lanes last */
	e = find_named(events, "M", "process_name", 0);
	assert_non_null(e);
	assert_string_equal(str(args(e), "name"), "demo <&> (demo-server)");
	assert_string_equal(thread_name(events, main_tid), "worker 1 (" HOSTILE_COMM ")");
	assert_string_equal(thread_name(events, TID_W2), "worker 2");
	assert_string_equal(thread_name(events, TID_POOL), "thread 900003");
	assert_string_equal(thread_name(events, LOAD_TID), "load steps");
	assert_true(sort_index(events, main_tid) < sort_index(events, TID_W2));
	assert_true(sort_index(events, TID_W2) < sort_index(events, TID_POOL));
	assert_true(sort_index(events, TID_POOL) < sort_index(events, LOAD_TID));

	/* load steps: the parallel step on the main lane, each child on its own */
	x = find_named(events, "X", "burst", LOAD_TID);
	assert_non_null(x);
	assert_string_equal(str(x, "cat"), "load");
	assert_int_equal(ns(x, "ts"), 20 * MS);
	assert_int_equal(ns(x, "dur"), 40 * MS);
	assert_string_equal(str(args(x), "kind"), "parallel");
	x = find_named(events, "X", "warmup", LOAD_TID);
	assert_non_null(x);
	assert_int_equal(num(args(x), "requests"), 100);
	x = find_named(events, "X", HOSTILE_STEP, 0);
	assert_non_null(x);
	assert_true((uint32_t)num(x, "tid") > LOAD_TID);
	assert_string_equal(thread_name(events, (uint32_t)num(x, "tid")), "load steps: " HOSTILE_STEP);
	assert_int_equal(num(args(x), "errors"), 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args(x), "ok")));
	e = find_named(events, "X", "slow", 0);
	assert_non_null(e);
	assert_true((uint32_t)num(e, "tid") > LOAD_TID && num(e, "tid") != num(x, "tid"));
	assert_string_equal(str(args(e), "error"), "exited with \"3\"\n");
	assert_int_equal(num(args(e), "exit_code"), 3);

	/* counters: the rate between samples, spans so far */
	{
		double rates[2] = { 0 }, spans_seen = -1;
		int nrates = 0;

		cJSON_ArrayForEach(e, events) {
			if (!is_ph(e, "C"))
				continue;
			if (!strcmp(str(e, "name"), "polls/s")) {
				assert_true(nrates < 2);
				assert_int_equal(ns(e, "ts"), nrates * 250 * MS);
				rates[nrates++] = num(args(e), "polls/s");
			} else {
				assert_string_equal(str(e, "name"), "blocking spans");
				spans_seen = num(args(e), "blocking spans");
			}
		}
		assert_int_equal(nrates, 2);
		assert_true(rates[0] == 4000.0 && rates[1] == 2000.0);
		assert_true(spans_seen == 1);
	}

	/* metadata and stats */
	meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	assert_true(cJSON_IsObject(meta));
	assert_string_equal(str(meta, "tokio_guard"), TG_VERSION);
	assert_string_equal(str(meta, "spec"), spec.path);
	assert_int_equal(ns(meta, "trace_min_poll_us"), 100 * US);
	assert_int_equal(ns(meta, "effective_min_poll_us"), 100 * US);
	assert_int_equal(num(meta, "dropped_slices"), 0);
	/* polls drawn: 10 plain + nested + LocalSet + 2 overlapping + early + pool + span */
	assert_int_equal(st.slices, NPLAIN + 7);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.min_poll_ns, 100 * US);
	assert_int_equal(st.bytes, len);
	assert_true(nx == st.slices + 4 + 4); /* + off-CPU + load steps */

	cJSON_Delete(doc);
	tg_record_free(rec);
}

/* Over the budget: the shortest plain polls go, spans stay, the floor and
 * the count of dropped slices are in the stats and the metadata. */
/* Per worker, a "busy %" counter: one point per timeline second. */
static void test_worker_counters(void **state)
{
	static double tl[] = { 12.5, 40 };
	static const struct tg_worker_util w[] = {
		{ .tid = 77, .name = "tokio-rt-worker", .busy_pct = 26, .idle_pct = 74, .timeline = tl,
		  .nseconds = 2 },
	};
	struct tg_record *rec = build_record();
	struct tg_results res;
	size_t len, n = 0;
	cJSON *doc;
	const cJSON *e;

	(void)state;
	fill_results(&res, rec);
	res.workers = w;
	res.nworkers = 1;
	doc = write_and_parse(&res, "trace-workers.json", NULL, &len);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "traceEvents")) {
		if (!is_ph(e, "C") || strcmp(str(e, "name"), "busy % tokio-rt-worker 77"))
			continue;
		assert_int_equal(ns(e, "ts"), n * 1000 * MS);
		assert_true(num(args(e), "busy % tokio-rt-worker 77") == tl[n]);
		n++;
	}
	assert_int_equal(n, 2);
	cJSON_Delete(doc);
	tg_record_free(rec);
}

static void test_budget(void **state)
{
	struct tg_record *rec = tg_record_new(&sites, 10 * MS, 1000);
	struct tg_results res;
	struct tg_trace_stats full, st;
	size_t len, nplain = 0, nspans = 0, kept_plain = 0;
	cJSON *doc, *events, *meta;
	const cJSON *e;

	assert_non_null(rec);
	for (uint32_t i = 0; i < 200; i++) /* durations shuffled over 100..299us */
		poll_ev(rec, 800, i + 1, SITE_HOSTILE, 1000 + i, T0 + i * MS,
			100 * US + ((i * 73) % 200) * US, 0, 0);
	stack_ev(rec, TG_EV_OFFCPU, 801, 1, T0 + 1 * MS, 2 * MS, stack_other, 3);
	poll_ev(rec, 801, 1, SITE_HANDLER, 1, T0, 12 * MS, 2 * MS, 0);
	poll_ev(rec, 801, 2, SITE_HANDLER, 2, T0 + 50 * MS, 15 * MS, 0, 0);
	fill_results(&res, rec);
	res.steps = NULL;
	res.nsteps = 0;

	doc = write_and_parse(&res, "full.json", &full, &len);
	cJSON_Delete(doc);
	assert_int_equal(full.dropped, 0);
	assert_int_equal(full.slices, 202);

	/* room for roughly half of the plain polls */
	tg_trace_set_budget(full.bytes - full.bytes / 3);
	doc = write_and_parse(&res, "budget.json", &st, &len);
	tg_trace_set_budget(0);
	assert_true(len <= full.bytes - full.bytes / 3);
	assert_int_equal(st.bytes, len);
	assert_true(st.dropped > 20 && st.dropped < 200);
	assert_true(st.min_poll_ns > 100 * US && st.min_poll_ns <= 300 * US);
	events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
	cJSON_ArrayForEach(e, events) {
		if (!is_ph(e, "X"))
			continue;
		if (!strcmp(str(e, "cat"), "blocking")) {
			nspans++;
		} else if (!strcmp(str(e, "cat"), "poll")) {
			nplain++;
			assert_true(ns(e, "dur") >= st.min_poll_ns);
		}
	}
	assert_int_equal(nspans, 2);
	/* kept exactly the plain polls at or above the floor */
	for (uint32_t i = 0; i < 200; i++)
		kept_plain += 100 * US + ((i * 73) % 200) * US >= st.min_poll_ns;
	assert_int_equal(nplain, kept_plain);
	assert_int_equal(nplain + st.dropped, 200);
	assert_int_equal(st.slices, nplain + nspans);
	assert_nesting(events);
	meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	assert_int_equal(num(meta, "dropped_slices"), st.dropped);
	assert_int_equal(ns(meta, "effective_min_poll_us"), st.min_poll_ns);
	assert_int_equal(ns(meta, "trace_min_poll_us"), 100 * US);
	cJSON_Delete(doc);

	/* a budget smaller than the spans alone: every plain poll goes, spans stay */
	tg_trace_set_budget(100);
	doc = write_and_parse(&res, "tiny.json", &st, &len);
	tg_trace_set_budget(0);
	assert_int_equal(st.dropped, 200);
	assert_int_equal(st.slices, 2);
	events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
	assert_non_null(find_x(events, "blocking", 1));
	assert_non_null(find_x(events, "blocking", 2));
	assert_non_null(find_x(events, "off_cpu", 1));
	cJSON_Delete(doc);
	tg_record_free(rec);
}

/* Every kind of invalid UTF-8 becomes U+FFFD byte by byte; valid sequences
 * (up to 4 bytes) and DEL pass through. */
static void test_utf8(void **state)
{
	static struct {
		const char *in, *out;
	} cases[] = {
		{ "overlong \xc0\xaf.", "overlong \xef\xbf\xbd\xef\xbf\xbd." },
		{ "surrogate \xed\xa0\x80.", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd." },
		{ "past max \xf4\x90\x80\x80.",
		  "past max \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd." },
		{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
		{ "ok \xf0\x9f\x98\x80 \xe2\x9c\x93 \x7f \xed\x9f\xbf", "ok \xf0\x9f\x98\x80 \xe2\x9c\x93 \x7f \xed\x9f\xbf" },
		{ "ctl \x1f\x02\r\b\f/", "ctl \x1f\x02\r\b\f/" },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct tg_poll_site v[N];
	struct tg_poll_sites s = { .v = v, .n = N };
	struct tg_record *rec;
	struct tg_results res;
	struct tg_trace_stats st;
	size_t len;
	cJSON *doc, *events;

	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < N; i++)
		v[i] = (struct tg_poll_site){ .task_name = (char *)cases[i].in, .kind = TG_SITE_RUNTIME };
	rec = tg_record_new(&s, 10 * MS, 1000);
	assert_non_null(rec);
	for (uint32_t i = 0; i < N; i++)
		poll_ev(rec, 700 + i, 1, i, i, T0 + i * MS, 200 * US, 0, 0);
	fill_results(&res, rec);
	doc = write_and_parse(&res, "utf8.json", &st, &len);
	events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
	for (uint32_t i = 0; i < N; i++) {
		const cJSON *x = find_x(events, "poll", i);

		assert_non_null(x);
		assert_string_equal(str(x, "name"), cases[i].out);
	}
	cJSON_Delete(doc);
	tg_record_free(rec);
}

/* The file appears whole or not at all; failures are one line naming it. */
static void test_errors(void **state)
{
	struct tg_record *rec = build_record();
	struct tg_results res;
	char err[512] = "", path[512];
	DIR *d;
	struct dirent *de;
	size_t len;

	fill_results(&res, rec);
	snprintf(path, sizeof(path), "%s/missing/trace.json", dir);
	assert_int_equal(tg_trace_write(path, &res, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_null(strchr(err, '\n'));

	res.record = NULL;
	snprintf(path, sizeof(path), "%s/none.json", dir);
	assert_int_equal(tg_trace_write(path, &res, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_int_equal(access(path, F_OK), -1);

	/* replaces an existing file, leaves no temporary behind */
	res.record = rec;
	snprintf(path, sizeof(path), "%s/replace.json", dir);
	assert_int_equal(tg_trace_write(path, &res, NULL, err, sizeof(err)), 0);
	assert_int_equal(tg_trace_write(path, &res, NULL, err, sizeof(err)), 0);
	free(slurp(path, &len));
	assert_true(len > 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp"))
			fail_msg("temporary file %s left behind", de->d_name);
	closedir(d);
	tg_record_free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_worker_counters),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
