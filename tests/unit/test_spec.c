/* Unit tests of the spec parser (spec/): values, defaults, durations,
 * command splitting, and the exact position and field path of every class of error.
 * One file over 1000 lines on purpose: one cmocka group over one face
 * (tg_spec_load), its ~50 cases sharing load_ok/load_err and a temporary
 * folder; split per section it would repeat those fixtures in each. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"
#include "test_files.h"

#define MS 1000000ull
#define S 1000000000ull

static char tmpdir[PATH_MAX]; /* realpath of a mkdtemp folder, removed at the end */
static char last_path[PATH_MAX + 64];

/* Writes TEXT to a new file in tmpdir: NAME when given, else a mkstemps name. */
static const char *write_spec(const char *name, const char *text)
{
	int fd;
	if (name) {
		snprintf(last_path, sizeof last_path, "%s/%s", tmpdir, name);
		fd = open(last_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		snprintf(last_path, sizeof last_path, "%s/spec-XXXXXX.yaml", tmpdir);
		fd = mkstemps(last_path, 5);
	}
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return last_path;
}

static void remove_spec(const char *path)
{
	unlink(path);
}

/* Loads TEXT; must succeed. */
static void load_ok(const char *name, const char *text, struct tg_spec *s)
{
	char err[512];
	const char *path = write_spec(name, text);
	int rc = tg_spec_load(path, s, err, sizeof err);
	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	remove_spec(path);
}

/* Loads TEXT; must fail with exactly "<path>:" WANT. */
static void load_err(const char *text, const char *want)
{
	char err[512], full[PATH_MAX + 512];
	struct tg_spec s;
	const char *path = write_spec(NULL, text);
	int rc = tg_spec_load(path, &s, err, sizeof err);
	snprintf(full, sizeof full, "%s:%s", path, want);
	if (rc != -EINVAL || strcmp(err, full))
		print_error("text:\n%s\nwant: %s\ngot:  %s (rc %d)\n", text, full, err, rc);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, full);
	assert_null(s.path); /* left empty on error */
	assert_null(s.target.argv);
	assert_int_equal(s.nsteps, 0);
	tg_spec_free(&s); /* still safe */
	remove_spec(path);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/tg-test-spec-XXXXXX";
	if (!mkdtemp(tmpl) || !realpath(tmpl, tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	/* files a failed test left behind */
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[PATH_MAX + 256];
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

/* ------------------------------------------------------------ valid specs */

/* every key of spec.md but allow and assertions */
static const char full_spec[] =
	"version: 1\n"                                                         /* 1 */
	"name: demo\n"
	"target:\n"
	"  command: [\"./target/release/demo-server\", \"--port\", \"3000\"]\n"
	"  cwd: sub/dir/\n"                                                     /* 5 */
	"  env: { RUST_LOG: warn, THREADS: 4, EMPTY: \"\" }\n"
	"  user: runner\n"
	"  ready:\n"
	"    tcp: 127.0.0.1:3000\n"
	"    timeout: 10s\n"                                                    /* 10 */
	"  stop:\n"
	"    signal: SIGINT\n"
	"    grace: 1.5s\n"
	"probe:\n"
	"  blocking_threshold: 5ms\n"                                           /* 15 */
	"  sample_rate: 0\n"
	"  stack_depth: 127\n"
	"load:\n"
	"  - name: warmup\n"
	"    exec: [\"redis-benchmark\", \"-p\", \"6379\", \"-q\"]\n"           /* 20 */
	"    timeout: 60s\n"
	"    env: {A: b}\n"
	"    cwd: scripts\n"
	"  - sleep: 250ms\n"
	"  - exec: ./scripts/slow.sh 'two words' --x=\"a b\"\n"                /* 25 */
	"  - name: api\n"
	"    http:\n"
	"      url: http://127.0.0.1:3000/\n"
	"      method: POST\n"
	"      headers: { Content-Type: application/json, X-Trace: \"1\" }\n" /* 30 */
	"      body: '{\"data\":\"test\"}'\n"
	"      expect_status: 201\n"
	"      timeout: 5s\n"
	"    rate: 100/s\n"
	"    concurrency: 8\n"                                                  /* 35 */
	"    duration: 10s\n"
	"  - tcp:\n"
	"      addr: \"[::1]:6379\"\n"
	"      send: \"PING\\r\\n\"\n"
	"      expect: \"+PONG\"\n"                                             /* 40 */
	"      timeout: 2s\n"
	"    requests: 100\n"
	"    concurrency: 4\n"
	"  - parallel:\n"
	"      - http: { url: \"https://example.com/a\", body_file: payload.json }\n" /* 45 */
	"        rate: 30/m\n"
	"        requests: 5\n"
	"      - name: inner\n"
	"        parallel:\n"
	"          - exec: [\"./scripts/slow-clients.sh\"]\n"                  /* 50 */
	"      - sleep: 1s\n"
	"report:\n"
	"  dir: out\n"
	"  junit: j.xml\n"
	"  trace: t.json\n"                                                     /* 55 */
	"  results: r.json\n"
	"  trace_min_poll: 1ms\n";

static void test_full_valid(void **state)
{
	struct tg_spec s;
	char want[PATH_MAX + 32];
	write_spec("payload.json", "{\"x\":\n1}");
	load_ok("full.yaml", full_spec, &s);

	assert_string_equal(s.dir, tmpdir);
	assert_int_equal(s.version, 1);
	assert_string_equal(s.name, "demo");
	assert_string_equal(s.target.argv[0], "./target/release/demo-server");
	assert_string_equal(s.target.argv[1], "--port");
	assert_string_equal(s.target.argv[2], "3000");
	assert_null(s.target.argv[3]);
	snprintf(want, sizeof want, "%s/sub/dir", tmpdir);
	assert_string_equal(s.target.cwd, want);
	assert_string_equal(s.target.env[0], "RUST_LOG=warn");
	assert_string_equal(s.target.env[1], "THREADS=4");
	assert_string_equal(s.target.env[2], "EMPTY=");
	assert_null(s.target.env[3]);
	assert_string_equal(s.target.user, "runner");
	assert_int_equal(s.target.ready.kind, TG_READY_TCP);
	assert_string_equal(s.target.ready.tcp_host, "127.0.0.1");
	assert_string_equal(s.target.ready.tcp_port, "3000");
	assert_null(s.target.ready.http_url);
	assert_null(s.target.ready.log_regex);
	assert_int_equal(s.target.ready.timeout_ns, 10 * S);
	assert_int_equal(s.target.stop.signal, SIGINT);
	assert_int_equal(s.target.stop.grace_ns, 1500 * MS);
	assert_int_equal(s.probe.blocking_threshold_ns, 5 * MS);
	assert_int_equal(s.probe.sample_rate, 0);
	assert_int_equal(s.probe.stack_depth, 127);

	assert_int_equal(s.nsteps, 6);
	struct tg_step *st = &s.steps[0];
	assert_string_equal(st->name, "warmup");
	assert_int_equal(st->kind, TG_STEP_EXEC);
	assert_string_equal(st->argv[0], "redis-benchmark");
	assert_string_equal(st->argv[3], "-q");
	assert_null(st->argv[4]);
	assert_int_equal(st->timeout_ns, 60 * S);
	assert_string_equal(st->env[0], "A=b");
	assert_null(st->env[1]);
	snprintf(want, sizeof want, "%s/scripts", tmpdir);
	assert_string_equal(st->cwd, want);
	assert_int_equal(st->line, 19);
	assert_int_equal(st->column, 5);
	assert_null(st->children);

	st = &s.steps[1];
	assert_string_equal(st->name, "sleep #2");
	assert_int_equal(st->kind, TG_STEP_SLEEP);
	assert_int_equal(st->sleep_ns, 250 * MS);
	assert_null(st->argv);
	assert_null(st->cwd); /* exec steps only */
	assert_int_equal(st->line, 24);

	st = &s.steps[2];
	assert_string_equal(st->name, "exec #3");
	assert_string_equal(st->argv[0], "./scripts/slow.sh");
	assert_string_equal(st->argv[1], "two words");
	assert_string_equal(st->argv[2], "--x=a b");
	assert_null(st->argv[3]);
	assert_int_equal(st->timeout_ns, 5 * 60 * S);
	assert_non_null(st->env);
	assert_null(st->env[0]);
	assert_string_equal(st->cwd, tmpdir);

	st = &s.steps[3];
	assert_string_equal(st->name, "api");
	assert_int_equal(st->kind, TG_STEP_HTTP);
	assert_string_equal(st->http.url, "http://127.0.0.1:3000/");
	assert_string_equal(st->http.method, "POST");
	assert_string_equal(st->http.headers[0], "Content-Type: application/json");
	assert_string_equal(st->http.headers[1], "X-Trace: 1");
	assert_null(st->http.headers[2]);
	assert_string_equal(st->http.body, "{\"data\":\"test\"}");
	assert_int_equal(st->http.body_len, 15);
	assert_int_equal(st->http.expect_status, 201);
	assert_int_equal(st->http.timeout_ns, 5 * S);
	assert_true(st->traffic.rate_per_s == 100.0);
	assert_int_equal(st->traffic.concurrency, 8);
	assert_int_equal(st->traffic.duration_ns, 10 * S);
	assert_int_equal(st->traffic.requests, 0);
	assert_int_equal(st->line, 26);

	st = &s.steps[4];
	assert_string_equal(st->name, "tcp #5");
	assert_int_equal(st->kind, TG_STEP_TCP);
	assert_string_equal(st->tcp.host, "::1");
	assert_string_equal(st->tcp.port, "6379");
	assert_string_equal(st->tcp.send, "PING\r\n");
	assert_int_equal(st->tcp.send_len, 6);
	assert_string_equal(st->tcp.expect, "+PONG");
	assert_int_equal(st->tcp.timeout_ns, 2 * S);
	assert_true(st->traffic.rate_per_s == 0.0);
	assert_int_equal(st->traffic.concurrency, 4);
	assert_int_equal(st->traffic.duration_ns, 0);
	assert_int_equal(st->traffic.requests, 100);

	/* parallel: children counted in document order for default names */
	st = &s.steps[5];
	assert_string_equal(st->name, "parallel #6");
	assert_int_equal(st->kind, TG_STEP_PARALLEL);
	assert_int_equal(st->line, 44);
	assert_int_equal(st->nchildren, 3);
	struct tg_step *ch = st->children;
	assert_string_equal(ch[0].name, "http #7");
	assert_int_equal(ch[0].kind, TG_STEP_HTTP);
	assert_string_equal(ch[0].http.url, "https://example.com/a");
	assert_string_equal(ch[0].http.method, "GET");
	assert_null(ch[0].http.headers[0]);
	assert_int_equal(ch[0].http.body_len, 8);
	assert_memory_equal(ch[0].http.body, "{\"x\":\n1}", 9);
	assert_int_equal(ch[0].http.expect_status, 0);
	assert_int_equal(ch[0].http.timeout_ns, 10 * S);
	assert_true(ch[0].traffic.rate_per_s == 0.5);
	assert_int_equal(ch[0].traffic.requests, 5);
	assert_int_equal(ch[0].line, 45);
	assert_int_equal(ch[0].column, 9);
	assert_string_equal(ch[1].name, "inner");
	assert_int_equal(ch[1].kind, TG_STEP_PARALLEL);
	assert_int_equal(ch[1].nchildren, 1);
	assert_string_equal(ch[1].children[0].name, "exec #9");
	assert_string_equal(ch[1].children[0].argv[0], "./scripts/slow-clients.sh");
	assert_int_equal(ch[1].children[0].line, 50);
	assert_string_equal(ch[2].name, "sleep #10");
	assert_int_equal(ch[2].sleep_ns, 1 * S);

	assert_string_equal(s.report.dir, "out");
	assert_string_equal(s.report.junit, "j.xml");
	assert_string_equal(s.report.trace, "t.json");
	assert_string_equal(s.report.results, "r.json");
	assert_int_equal(s.report.trace_min_poll_ns, 1 * MS);
	tg_spec_free(&s);
	assert_null(s.path);
	tg_spec_free(&s); /* twice is fine */
	/* payload.json stays: test_robustness's edits of full_spec read it; teardown removes it */
}

/* the other forms: ready http / log, numeric user, tcp without expect, requests only */
static void test_more_forms(void **state)
{
	struct tg_spec s;
	load_ok(NULL,
		"target:\n  command: [srv]\n  user: 1000\n  ready: {http: \"http://127.0.0.1:3000/health\"}\n"
		"load:\n  - tcp: {addr: \"localhost:1\", send: \"\"}\n    requests: 1\n",
		&s);
	assert_string_equal(s.target.user, "1000");
	assert_int_equal(s.target.ready.kind, TG_READY_HTTP);
	assert_string_equal(s.target.ready.http_url, "http://127.0.0.1:3000/health");
	assert_null(s.target.ready.tcp_host);
	assert_int_equal(s.target.ready.timeout_ns, 30 * S);
	assert_string_equal(s.steps[0].tcp.host, "localhost");
	assert_int_equal(s.steps[0].tcp.send_len, 0);
	assert_null(s.steps[0].tcp.expect);
	assert_int_equal(s.steps[0].tcp.timeout_ns, 10 * S);
	assert_int_equal(s.steps[0].traffic.concurrency, 0);
	assert_int_equal(s.steps[0].traffic.requests, 1);
	tg_spec_free(&s);

	load_ok(NULL,
		"target:\n  command: [srv]\n  user: \"0\"\n  ready:\n    log: \"listening on [0-9.]+:[0-9]{2,5}$\"\n"
		"    timeout: 5s\n",
		&s);
	assert_string_equal(s.target.user, "0");
	assert_int_equal(s.target.ready.kind, TG_READY_LOG);
	assert_string_equal(s.target.ready.log_regex, "listening on [0-9.]+:[0-9]{2,5}$");
	assert_int_equal(s.target.ready.timeout_ns, 5 * S);
	tg_spec_free(&s);

	/* a NUL in a tcp send is bytes, not the end */
	load_ok(NULL, "target: {command: [srv]}\nload:\n  - tcp: {addr: \"a:1\", send: \"a\\0b\"}\n    duration: 1m\n", &s);
	assert_int_equal(s.steps[0].tcp.send_len, 3);
	assert_memory_equal(s.steps[0].tcp.send, "a\0b", 4);
	assert_int_equal(s.steps[0].traffic.duration_ns, 60 * S);
	tg_spec_free(&s);
}

/* ------------------------------------------------------------ rates, percentages */

static void test_parse_rate(void **state)
{
	static const struct {
		const char *s;
		double per_s;
	} good[] = {
		{ "100/s", 100 }, { "6000/m", 100 }, { "0.5/s", 0.5 }, { "30/m", 0.5 },
		{ ".25/s", 0.25 }, { "1000000000/s", 1e9 }, { "007/s", 7 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		double v = -1;
		char why[256] = "";
		int rc = tg_parse_rate(good[i].s, &v, why, sizeof why);
		if (rc || v != good[i].per_s)
			print_error("%s: rc %d v %g (%s)\n", good[i].s, rc, v, why);
		assert_int_equal(rc, 0);
		assert_true(v == good[i].per_s);
	}
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "fast", "expected a rate like 100/s, got \"fast\"" },
		{ "100", "a rate needs a unit (/s or /m), got \"100\" (write 100/s)" },
		{ "0/s", "a rate must be more than 0, got \"0/s\"" },
		{ "0.0/m", "a rate must be more than 0, got \"0.0/m\"" },
		{ "-1/s", "a rate cannot be negative, got \"-1/s\"" },
		{ "10/h", "unknown rate unit \"/h\" in \"10/h\" (expected /s or /m)" },
		{ "10/S", "unknown rate unit \"/S\"" },
		{ "10 /s", "expected a rate like 100/s (no spaces), got \"10 /s\"" },
		{ "10/ s", "expected a rate like 100/s (no spaces), got \"10/ s\"" },
		{ "1e3/s", "expected a rate like 100/s or 0.5/s, got \"1e3/s\"" },
		{ "1./s", "expected a rate like 100/s, got \"1./s\"" },
		{ "", "expected a rate like 100/s, got \"\"" },
		{ "/s", "expected a rate like 100/s, got \"/s\"" },
		{ "1000000001/s", "rate \"1000000001/s\" is too large (at most 1000000000/s)" },
		{ "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
		  "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
		  "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
		  "99999999999999999999999999999999999999999999999999999999999999999999999999999999/s",
		  "is too large" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double v = 777;
		char why[256] = "";
		int rc = tg_parse_rate(bad[i].s, &v, why, sizeof why);
		if (rc != -EINVAL || !strstr(why, bad[i].why))
			print_error("[%s]: want [%s], got rc %d [%s]\n", bad[i].s, bad[i].why, rc, why);
		assert_int_equal(rc, -EINVAL);
		assert_true(v == 777);
		assert_non_null(strstr(why, bad[i].why));
	}
	assert_int_equal(tg_parse_rate(NULL, NULL, NULL, 0), -EINVAL);
}

static void test_parse_percent(void **state)
{
	static const struct {
		const char *s;
		double pct;
	} good[] = { { "0%", 0 }, { "25%", 25 }, { "0.5%", 0.5 }, { "100%", 100 }, { "250%", 250 } };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		double v = -1;
		assert_int_equal(tg_parse_percent(good[i].s, &v, NULL, 0), 0);
		assert_true(v == good[i].pct);
	}
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "5", "a percentage needs a % sign, got \"5\" (write 5%)" },
		{ "-5%", "a percentage cannot be negative, got \"-5%\"" },
		{ "lots", "expected a percentage like 5%, got \"lots\"" },
		{ "5 %", "expected a percentage like 5% or 0.5%, got \"5 %\"" },
		{ "5%%", "expected a percentage like 5% or 0.5%, got \"5%%\"" },
		{ "0.05", "a percentage needs a % sign, got \"0.05\" (write 0.05%)" },
		{ "%", "expected a percentage like 5%, got \"%\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double v = 777;
		char why[256] = "";
		int rc = tg_parse_percent(bad[i].s, &v, why, sizeof why);
		if (rc != -EINVAL || strcmp(why, bad[i].why))
			print_error("[%s]: want [%s], got rc %d [%s]\n", bad[i].s, bad[i].why, rc, why);
		assert_int_equal(rc, -EINVAL);
		assert_true(v == 777);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(tg_parse_percent(NULL, NULL, NULL, 0), -EINVAL);
}

static void test_defaults(void **state)
{
	struct tg_spec s;
	char want[PATH_MAX + 32];
	load_ok("demo-server.yml", "target:\n  command: ./demo-server --port 3000\n", &s);
	snprintf(want, sizeof want, "%s/demo-server.yml", tmpdir);
	assert_string_equal(s.path, want);
	assert_string_equal(s.dir, tmpdir);
	assert_int_equal(s.version, 1);
	assert_string_equal(s.name, "demo-server");
	assert_string_equal(s.target.argv[0], "./demo-server");
	assert_string_equal(s.target.argv[2], "3000");
	assert_string_equal(s.target.cwd, tmpdir);
	assert_non_null(s.target.env);
	assert_null(s.target.env[0]);
	assert_int_equal(s.target.ready.kind, TG_READY_NONE);
	assert_int_equal(s.target.ready.timeout_ns, 30 * S);
	assert_int_equal(s.target.stop.signal, SIGTERM);
	assert_int_equal(s.target.stop.grace_ns, 5 * S);
	assert_int_equal(s.probe.blocking_threshold_ns, 10 * MS);
	assert_int_equal(s.probe.sample_rate, 999);
	assert_int_equal(s.probe.stack_depth, 64);
	assert_int_equal(s.probe.ring_buffer_bytes, 16 << 20);
	assert_int_equal(s.probe.unwind, TG_UNWIND_AUTO);
	assert_int_equal(s.probe.stack_copy_bytes, 16 << 10);
	assert_int_equal(s.nsteps, 0);
	assert_null(s.steps);
	assert_string_equal(s.report.dir, "tokio-guard-out");
	assert_string_equal(s.report.junit, "junit.xml");
	assert_string_equal(s.report.trace, "trace.json");
	assert_string_equal(s.report.results, "results.json");
	assert_int_equal(s.report.trace_min_poll_ns, 100000);
	tg_spec_free(&s);

	/* .yaml is stripped too; other extensions are kept; empty sections read as defaults */
	load_ok("guard.yaml", "target: {command: [x]}\nprobe:\nload:\nreport: {}\n", &s);
	assert_string_equal(s.name, "guard");
	assert_int_equal(s.probe.stack_depth, 64);
	tg_spec_free(&s);
	load_ok("guard.spec", "target: {command: [x]}\n", &s);
	assert_string_equal(s.name, "guard.spec");
	tg_spec_free(&s);
}

/* A relative spec path: messages name it as given, the folder is made absolute. */
static void test_relative_path(void **state)
{
	struct tg_spec s;
	char err[512];
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(here >= 0);
	write_spec("guard.yaml", "target:\n  command: [./srv]\nload:\n  - sleep: fast\n");
	assert_int_equal(chdir(tmpdir), 0);
	int rc = tg_spec_load("guard.yaml", &s, err, sizeof err);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "guard.yaml:4:12: load[0].sleep: expected a duration like 250ms, got \"fast\"");

	write_spec("guard.yaml", "target:\n  command: [./srv]\n  cwd: bin\n");
	rc = tg_spec_load("./guard.yaml", &s, err, sizeof err);
	assert_int_equal(fchdir(here), 0);
	close(here);
	assert_int_equal(rc, 0);
	char want[PATH_MAX + 32];
	assert_string_equal(s.path, "./guard.yaml");
	assert_string_equal(s.dir, tmpdir);
	snprintf(want, sizeof want, "%s/bin", tmpdir);
	assert_string_equal(s.target.cwd, want);
	assert_string_equal(s.name, "guard");
	tg_spec_free(&s);
	remove_spec(last_path);
}

static void test_step_names_and_kinds(void **state)
{
	struct tg_spec s;
	load_ok(NULL,
		"target: {command: [srv]}\n"
		"load:\n"
		"  - exec: [\"a\"]\n"
		"  - sleep: 2s\n"
		"  - {name: last, sleep: 1m30s}\n",
		&s);
	assert_int_equal(s.nsteps, 3);
	assert_string_equal(s.steps[0].name, "exec #1");
	assert_int_equal(s.steps[0].timeout_ns, 300 * S);
	assert_string_equal(s.steps[1].name, "sleep #2");
	assert_int_equal(s.steps[1].sleep_ns, 2 * S);
	assert_string_equal(s.steps[2].name, "last");
	assert_int_equal(s.steps[2].sleep_ns, 90 * S);
	assert_int_equal(s.steps[2].line, 5);
	assert_int_equal(s.steps[2].column, 5);
	assert_string_equal(tg_step_kind_name(TG_STEP_EXEC), "exec");
	assert_string_equal(tg_step_kind_name(TG_STEP_SLEEP), "sleep");
	tg_spec_free(&s);
}

static void test_ready_and_stop_forms(void **state)
{
	struct tg_spec s;
	char want[PATH_MAX + 32];
	load_ok(NULL,
		"target:\n  command: [srv]\n  ready: {tcp: \"[::1]:8080\"}\n  stop: {signal: 2, grace: 0s}\n",
		&s);
	assert_int_equal(s.target.ready.kind, TG_READY_TCP);
	assert_string_equal(s.target.ready.tcp_host, "::1");
	assert_string_equal(s.target.ready.tcp_port, "8080");
	assert_int_equal(s.target.stop.signal, SIGINT);
	assert_int_equal(s.target.stop.grace_ns, 0);
	tg_spec_free(&s);

	load_ok(NULL,
		"target:\n  command: [srv]\n  ready: {delay: 500ms, timeout: 1m}\n  stop: {signal: KILL}\n"
		"  cwd: /opt//app/./bin/\n",
		&s);
	assert_int_equal(s.target.ready.kind, TG_READY_DELAY);
	assert_int_equal(s.target.ready.delay_ns, 500 * MS);
	assert_int_equal(s.target.ready.timeout_ns, 60 * S);
	assert_null(s.target.ready.tcp_host);
	assert_int_equal(s.target.stop.signal, SIGKILL);
	assert_string_equal(s.target.cwd, "/opt/app/bin");
	tg_spec_free(&s);

	load_ok(NULL, "target:\n  command: [srv]\n  ready: {tcp: \"localhost:1\"}\n  cwd: ../x/.\n", &s);
	assert_string_equal(s.target.ready.tcp_host, "localhost");
	snprintf(want, sizeof want, "%s/../x", tmpdir);
	assert_string_equal(s.target.cwd, want);
	tg_spec_free(&s);
}

static void test_anchors_and_aliases(void **state)
{
	struct tg_spec s;
	load_ok(NULL,
		"target: {command: &cmd [\"./bench\", \"-q\"]}\n"
		"load:\n"
		"  - &pause {sleep: 1s}\n"
		"  - exec: *cmd\n"
		"  - *pause\n",
		&s);
	assert_int_equal(s.nsteps, 3);
	assert_string_equal(s.steps[1].argv[0], "./bench");
	assert_string_equal(s.steps[2].name, "sleep #3");
	assert_int_equal(s.steps[2].sleep_ns, 1 * S);
	tg_spec_free(&s);
}

/* ------------------------------------------------------- command splitting */

static void check_split(const char *cmd, const char *const *want)
{
	char **argv = NULL, err[256];
	int rc = tg_split_command(cmd, &argv, err, sizeof err);
	if (rc)
		print_error("split [%s]: %s\n", cmd, err);
	assert_int_equal(rc, 0);
	size_t i = 0;
	for (; want[i]; i++) {
		if (!argv[i] || strcmp(argv[i], want[i]))
			print_error("split [%s]: word %zu: want [%s] got [%s]\n", cmd, i, want[i],
				    argv[i] ? argv[i] : "(end)");
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	tg_strv_free(argv);
}

static void test_split_command(void **state)
{
	check_split("./server --port 3000", (const char *[]){ "./server", "--port", "3000", NULL });
	check_split("  lead \t trail\n ", (const char *[]){ "lead", "trail", NULL });
	check_split("'a b' \"c d\" e\\ f", (const char *[]){ "a b", "c d", "e f", NULL });
	check_split("\"x\\\"y\" 'it'\"'\"'s'", (const char *[]){ "x\"y", "it's", NULL });
	check_split("prog \"\" ''", (const char *[]){ "prog", "", "", NULL });
	check_split("a\"b\"c'd'", (const char *[]){ "abcd", NULL });
	check_split("\"a\\\\b\" \"\\$HOME\" '$HOME' \\$x", (const char *[]){ "a\\b", "$HOME", "$HOME", "$x", NULL });
	check_split("\"a\\nb\"", (const char *[]){ "a\\nb", NULL }); /* \n stays inside "" */
	check_split("a\\\nb c", (const char *[]){ "ab", "c", NULL });  /* line continuation */
	check_split("--filter=a* x?y a#b", (const char *[]){ "--filter=a*", "x?y", "a#b", NULL });
	check_split("'a|b' \"c>d\" e\\;f", (const char *[]){ "a|b", "c>d", "e;f", NULL });
	check_split("", (const char *[]){ NULL });
	check_split("   ", (const char *[]){ NULL });

	static const struct {
		const char *cmd, *why;
	} bad[] = {
		{ "\"unterminated", "unterminated double quote (\")" },
		{ "a 'x", "unterminated single quote (')" },
		{ "trailing\\", "a backslash at the end of the command escapes nothing" },
		{ "a | b", "unquoted '|'" },
		{ "srv > out.log", "unquoted '>'" },
		{ "srv < in", "unquoted '<'" },
		{ "a;b", "unquoted ';'" },
		{ "a && b", "unquoted '&'" },
		{ "echo $HOME", "unquoted '$'" },
		{ "echo \"$HOME\"", "'$': a shell would expand this inside double quotes" },
		{ "echo \"`id`\"", "'`': a shell would expand" },
		{ "echo `id`", "unquoted '`'" },
		{ "(sub)", "unquoted '('" },
		{ "srv # comment", "unquoted '#'" },
		{ "~/bin/srv", "unquoted '~'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char **argv = (char **)1, err[512];
		int rc = tg_split_command(bad[i].cmd, &argv, err, sizeof err);
		if (rc != -EINVAL || !strstr(err, bad[i].why))
			print_error("split [%s]: want error containing [%s], got rc %d [%s]\n", bad[i].cmd,
				    bad[i].why, rc, err);
		assert_int_equal(rc, -EINVAL);
		assert_null(argv);
		assert_non_null(strstr(err, bad[i].why));
	}
}

/* -------------------------------------------------------------- durations */

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} good[] = {
		{ "250us", 250000 },
		{ "10ms", 10 * MS },
		{ "1.5s", 1500 * MS },
		{ "2m", 120 * S },
		{ "1h", 3600 * S },
		{ "12ns", 12 },
		{ "0s", 0 },
		{ "0.5ms", 500000 },
		{ ".5s", 500 * MS },
		{ "1.000000001s", 1000000001 },
		{ "1.5ns", 1 }, /* below a nanosecond: truncated */
		{ "7\xc2\xb5s", 7000 },  /* µs, micro sign */
		{ "7\xce\xbcs", 7000 },  /* μs, Greek mu */
		{ "1m30s", 90 * S },
		{ "1h2m3s", 3723 * S },
		{ "1s500ms", 1500 * MS },
		{ "18446744073709551615ns", UINT64_MAX },
		{ "0.1h", 360 * S },
		{ "007ms", 7 * MS },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint64_t ns = 12345;
		char why[256] = "";
		int rc = tg_parse_duration_msg(good[i].s, &ns, why, sizeof why);
		if (rc || ns != good[i].ns)
			print_error("%s: rc %d ns %llu (%s)\n", good[i].s, rc, (unsigned long long)ns, why);
		assert_int_equal(rc, 0);
		assert_int_equal(ns, good[i].ns);
		assert_int_equal(tg_parse_duration(good[i].s, &ns), 0);
	}

	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "10", "a duration needs a unit (ns, us, ms, s, m or h), got \"10\" (write 10ms or 10s)" },
		{ "0", "a duration needs a unit (ns, us, ms, s, m or h), got \"0\" (write 0ms or 0s)" },
		{ "1.5", "a duration needs a unit (ns, us, ms, s, m or h), got \"1.5\" (write 1.5ms or 1.5s)" },
		{ "1m30", "a duration needs a unit after every number (ns, us, ms, s, m or h), got \"1m30\"" },
		{ "-1s", "a duration cannot be negative, got \"-1s\"" },
		{ "-5", "a duration cannot be negative, got \"-5\"" },
		{ "+1s", "expected a duration like 250ms, got \"+1s\"" },
		{ "fast", "expected a duration like 250ms, got \"fast\"" },
		{ "", "expected a duration like 250ms, got \"\"" },
		{ "s", "expected a duration like 250ms, got \"s\"" },
		{ "1.s", "expected a duration like 1.5s, got \"1.s\"" },
		{ "1.5.3s", "expected a duration like 1.5s, got \"1.5.3s\"" },
		{ "10 ms", "expected a duration like 250ms (no space before the unit), got \"10 ms\"" },
		{ "10sec", "unknown duration unit \"sec\" in \"10sec\" (expected ns, us, \xc2\xb5s, ms, s, m or h)" },
		{ "10MS", "unknown duration unit \"MS\" in \"10MS\"" },
		{ "1e3ms", "unknown duration unit \"e\" in \"1e3ms\"" },
		{ "1d", "unknown duration unit \"d\"" },
		{ "18446744073709551616ns", "duration \"18446744073709551616ns\" is too large" },
		{ "99999999999999999999999h", "is too large" },
		{ "5124096h", "duration \"5124096h\" is too large" }, /* 2^64 ns is ~5124095.6h */
		{ "5124095h5124095h", "is too large" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t ns = 777;
		char why[256] = "";
		int rc = tg_parse_duration_msg(bad[i].s, &ns, why, sizeof why);
		if (rc != -EINVAL || !strstr(why, bad[i].why))
			print_error("[%s]: want [%s], got rc %d [%s]\n", bad[i].s, bad[i].why, rc, why);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(ns, 777); /* untouched */
		assert_non_null(strstr(why, bad[i].why));
		assert_int_equal(tg_parse_duration(bad[i].s, &ns), -EINVAL);
	}
	assert_int_equal(tg_parse_duration(NULL, NULL), -EINVAL);
}

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0ns" },
		{ 12, "12ns" },
		{ 999, "999ns" },
		{ 1000, "1.00us" },
		{ 1500, "1.50us" },
		{ 250000, "250us" },
		{ 999499, "999us" },
		{ 999999, "1.00ms" },
		{ 10 * MS, "10.0ms" },
		{ 23400000, "23.4ms" },
		{ 123456789, "123ms" },
		{ 1500 * MS, "1.50s" },
		{ 12345 * MS, "12.3s" },
		{ 59400 * MS, "59.4s" },
		{ 59600 * MS, "1m00s" },
		{ 123 * S, "2m03s" },
		{ 3723 * S, "1h02m03s" },
		{ 100 * 3600 * S, "100h00m00s" },
	};
	char buf[64];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tg_format_duration(cases[i].ns, buf, sizeof buf);
		assert_string_equal(buf, cases[i].s);
	}
	tg_format_duration(UINT64_MAX, buf, sizeof buf);
	assert_true(strlen(buf) > 0);
	tg_format_duration(123 * S, buf, 3); /* truncates, stays terminated */
	assert_string_equal(buf, "2m");

	/* what it writes reads back within its rounding */
	for (uint64_t ns = 1; ns < UINT64_MAX / 8; ns = ns * 3 + 7) {
		uint64_t back;
		tg_format_duration(ns, buf, sizeof buf);
		assert_int_equal(tg_parse_duration(buf, &back), 0);
		uint64_t diff = back > ns ? back - ns : ns - back;
		assert_true(diff <= ns / 100 + 1 || diff <= S / 2);
	}
}

static void test_parse_signal(void **state)
{
	assert_int_equal(tg_parse_signal("SIGTERM"), SIGTERM);
	assert_int_equal(tg_parse_signal("TERM"), SIGTERM);
	assert_int_equal(tg_parse_signal("sigint"), SIGINT);
	assert_int_equal(tg_parse_signal("Kill"), SIGKILL);
	assert_int_equal(tg_parse_signal("15"), 15);
	assert_int_equal(tg_parse_signal("9"), 9);
	assert_int_equal(tg_parse_signal("SIGUSR1"), SIGUSR1);
	assert_int_equal(tg_parse_signal("SIGFOO"), -EINVAL);
	assert_int_equal(tg_parse_signal("SIG"), -EINVAL);
	assert_int_equal(tg_parse_signal("0"), -EINVAL);
	assert_int_equal(tg_parse_signal("-1"), -EINVAL);
	assert_int_equal(tg_parse_signal("99999999999"), -EINVAL);
	assert_int_equal(tg_parse_signal("15x"), -EINVAL);
	assert_int_equal(tg_parse_signal(""), -EINVAL);
	assert_int_equal(tg_parse_signal(NULL), -EINVAL);
}

/* ------------------------------------------------------------------ errors */

static void test_err_yaml_syntax(void **state)
{
	load_err("target:\n  command: [a, b\n  cwd: .\nprobe: {}\n",
		 "3:6: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 12)");
	load_err("target:\n  command: x\n   bad: 1\n",
		 "3:7: invalid YAML: mapping values are not allowed in this context");
	load_err("target: {command: \"x}\n", "2:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 1, column 19)");
	load_err("target:\n\tcommand: x\n", "2:1: tab character in indentation: YAML indents with spaces");
	load_err("target: {command: *nope}\n", "1:19: invalid YAML: found undefined alias");
	load_err("name: a\x01\n", "1:8: invalid YAML: control characters are not allowed (byte 0x01)");
	load_err("name: \xff\n", "1:7: invalid YAML: invalid leading UTF-8 octet (byte 0xff)");
	load_err("target: {command: [x]}\n---\nname: two\n",
		 "2:1: a spec is one YAML document, but a second one starts here");
}

/* Loads TEXT with tg_spec_load_all; must fail with exactly the NWANT errors WANT
 * ("<path>:" each), the first being tg_spec_load's. */
static void load_errs(const char *text, const char *const *want, size_t nwant, bool more)
{
	static struct tg_spec_errors errs;
	char err[512], full[PATH_MAX + 512];
	struct tg_spec s;
	const char *path = write_spec(NULL, text);
	int rc = tg_spec_load_all(path, &s, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("got: %s\n", errs.msg[i]);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(errs.n, nwant);
	assert_int_equal(errs.more, more);
	for (size_t i = 0; i < nwant; i++) {
		snprintf(full, sizeof full, "%s:%s", path, want[i]);
		assert_string_equal(errs.msg[i], full);
	}
	assert_null(s.path); /* left empty on error */
	assert_int_equal(s.nsteps, 0);
	assert_int_equal(tg_spec_load(path, &s, err, sizeof err), -EINVAL);
	assert_string_equal(err, errs.msg[0]);
	tg_spec_free(&s);
	remove_spec(path);
}

/* check reports every mistake in one pass, each at its own place */
static void test_err_many(void **state)
{
	static const char *const four[] = {
		"4:41: target.ready.timeout: a duration needs a unit (ns, us, ms, s, m or h), got \"5\" (write 5ms or 5s)",
		"7:3: probe: unknown key \"sampel_rate\" (expected one of: blocking_threshold, sample_rate, stack_depth, ring_buffer, unwind, stack_copy, scheduling_delay, cpu_profile, heap)",
		"10:5: load[1]: unknown key \"sleeep\" (expected one of: name, exec, sleep, http, tcp, parallel, timeout, env, cwd, rate, concurrency, duration, requests)",
		"12:15: assertions[0].max_poll: expected a duration like 250ms, got \"fast\"",
	};
	/* the spec e2e/cli gives check and run */
	char *four_text = tg_test_read(TG_SOURCE_DIR "/tests/common/specs/four-mistakes.yaml", NULL);

	assert_non_null(four_text);
	load_errs(four_text, four, 4, false);
	free(four_text);

	/* a missing section is one more, after what the walk found */
	static const char *const no_target[] = {
		"1:22: probe.sample_rate: expected an integer from 0 to 100000, got \"lots\"",
		"1:1: target: required field is missing",
	};
	load_errs("probe: {sample_rate: lots}\n", no_target, 2, false);

	/* every load selector that names no step, not just the first */
	static const char *const selectors[] = {
		"4:12: assertions[0].load: no load step is named \"warmpu\" (the steps are \"warmup\")",
		"6:12: assertions[2].load: no load step is named \"cooldown\" (the steps are \"warmup\")",
	};
	load_errs("target: {command: [x]}\nload: [{name: warmup, sleep: 1s}]\nassertions:\n"
		  "  - {load: warmpu, max_errors: 0}\n  - {load: warmup, max_errors: 0}\n  - {load: cooldown, max_errors: 0}\n",
		  selectors, 2, false);

	/* capped: 25 wrong keys give the first 20, and say there were more */
	char text[2048], want_buf[20][256];
	const char *want[20];
	size_t o = snprintf(text, sizeof text, "target: {command: [x]}\nprobe:\n");
	for (int i = 0; i < 25; i++)
		o += snprintf(text + o, sizeof text - o, "  k%02d: 1\n", i);
	for (int i = 0; i < 20; i++) {
		snprintf(want_buf[i], sizeof want_buf[i],
			 "%d:3: probe: unknown key \"k%02d\" (expected one of: blocking_threshold, "
			 "sample_rate, stack_depth, ring_buffer, unwind, stack_copy, scheduling_delay, cpu_profile, heap)", i + 3, i);
		want[i] = want_buf[i];
	}
	load_errs(text, want, 20, true);

	/* exactly 20 is not "more" */
	o = snprintf(text, sizeof text, "target: {command: [x]}\nprobe:\n");
	for (int i = 0; i < 20; i++)
		o += snprintf(text + o, sizeof text - o, "  k%02d: 1\n", i);
	load_errs(text, want, 20, false);
}

/* a file that cannot be read is one error, with no position */
static void test_err_many_file(void **state)
{
	static struct tg_spec_errors errs;
	struct tg_spec s;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
	assert_int_equal(tg_spec_load_all(path, &s, &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "missing.yaml: cannot open: No such file or directory"));
	tg_spec_free(&s);
}

/* a tab in indentation says so, at the tab, wherever libyaml trips on it */
static void test_err_tab(void **state)
{
	static const char *const tab[][2] = {
		{ "target:\n\tcommand: [x]\n", "2:1" },
		{ "target:\n  command: [x]\n  \tcwd: /\n", "3:3" },
		{ "target:\n  command:\n\t- x\n", "3:1" },
		{ "target: {command: [x]}\nload:\n  - sleep: 1s\n\t- sleep: 2s\n", "4:1" },
	};
	char want[128];
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		snprintf(want, sizeof want, "%s: tab character in indentation: YAML indents with spaces",
			 tab[i][1]);
		load_err(tab[i][0], want);
	}
	/* a tab after the indentation is YAML's business, and fine there */
	struct tg_spec s;
	load_ok(NULL, "target:\n  command: [x]\nprobe:\n  blocking_threshold:\t10ms\n", &s);
	assert_int_equal(s.probe.blocking_threshold_ns, 10 * MS);
	tg_spec_free(&s);
}

static void test_err_unknown_key(void **state)
{
	load_err("target: {command: [x]}\nfoo: 1\n",
		 "2:1: unknown key \"foo\" (expected one of: version, name, target, probe, load, allow, assertions, report)");
	load_err("target:\n  command: [x]\n  ready:\n    tcp: a:1\n    timout: 5s\n",
		 "5:5: target.ready: unknown key \"timout\" (expected one of: tcp, http, log, delay, timeout)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n    sleeep: 2s\n",
		 "4:5: load[0]: unknown key \"sleeep\" (expected one of: name, exec, sleep, http, tcp, parallel, timeout, env, cwd, rate, concurrency, duration, requests)");
	load_err("target: {command: [x]}\nprobe: {\"bad\\nkey\": 1}\n",
		 "2:9: probe: unknown key \"bad\\nkey\" (expected one of: blocking_threshold, sample_rate, stack_depth, ring_buffer, unwind, stack_copy, scheduling_delay, cpu_profile, heap)");
	load_err("base: &b {command: [x]}\n",
		 "1:1: unknown key \"base\" (expected one of: version, name, target, probe, load, allow, assertions, report)");
	load_err("target:\n  <<: {command: [x]}\n",
		 "2:3: target: unknown key \"<<\" (YAML merge keys are not supported; expected one of: command, cwd, env, user, ready, stop)");
	load_err("target:\n  [command]: x\n", "2:3: target: expected a key name, got a list");
}

static void test_err_wrong_type(void **state)
{
	load_err("- target\n", "1:1: expected a mapping, got a list");
	load_err("just text\n", "1:1: expected a mapping, got \"just text\"");
	load_err("target: [x]\n", "1:9: target: expected a mapping, got a list");
	load_err("target:\n  command: {a: b}\n",
		 "2:12: target.command: expected a command (a list like [\"./server\", \"--port\", \"3000\"] or a string), got a mapping");
	load_err("target:\n  command: [x, [y]]\n", "2:16: target.command[1]: expected a string, got a list");
	load_err("target:\n  command: [x]\n  env: {A: [1]}\n", "3:12: target.env.A: expected a string, got a list");
	load_err("target:\n  command: [x]\n  env: [A=1]\n",
		 "3:8: target.env: expected a mapping of variable names to values, got a list");
	load_err("target:\n  command: [x]\n  stop: SIGTERM\n",
		 "3:9: target.stop: expected a mapping, got \"SIGTERM\"");
	load_err("target:\n  command: [x]\n  ready:\n    tcp: {host: a}\n",
		 "4:10: target.ready.tcp: expected an address like 127.0.0.1:3000, got a mapping");
	load_err("target: {command: [x]}\nprobe: [1]\n", "2:8: probe: expected a mapping, got a list");
	load_err("target: {command: [x]}\nload: {sleep: 1s}\n",
		 "2:7: load: expected a list of steps, got a mapping");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - nap\n",
		 "4:5: load[1]: expected a step (a mapping like {sleep: 2s}), got \"nap\"");
	load_err("target: {command: [x]}\nload:\n  - exec: [a, {b: c}]\n",
		 "3:15: load[0].exec[1]: expected a string, got a mapping");
	load_err("target: {command: [x]}\nreport:\n  junit: [a.xml]\n",
		 "3:10: report.junit: expected a string, got a list");
	load_err("name:\ntarget: {command: [x]}\n", "1:6: name: expected a string, got nothing");
	load_err("name: \"\"\ntarget: {command: [x]}\n", "1:7: name: must not be empty");
	load_err("target:\n  command: [x]\n  env: {A: }\n",
		 "3:12: target.env.A: expected a value, got nothing (write A: \"\" for an empty value)");
	load_err("target:\n  command: [x]\n  cwd: \"\"\n",
		 "3:8: target.cwd: must not be empty (write . for the spec's folder)");
	load_err("version: 2\ntarget: {command: [x]}\n",
		 "1:10: version: expected 1 (the only spec version this tokio-guard reads), got \"2\"");
	load_err("target: {command: [x]}\nprobe: {sample_rate: 100001}\n",
		 "2:22: probe.sample_rate: expected an integer from 0 to 100000, got \"100001\"");
	load_err("target: {command: [x]}\nprobe: {stack_depth: 0}\n",
		 "2:22: probe.stack_depth: expected an integer from 1 to 127, got \"0\"");
	load_err("target: {command: [x]}\nprobe: {stack_depth: 99999999999999999999999}\n",
		 "2:22: probe.stack_depth: expected an integer from 1 to 127, got \"99999999999999999999999\"");
	load_err("target: {command: [x]}\nprobe: {sample_rate: 1.5}\n",
		 "2:22: probe.sample_rate: expected an integer from 0 to 100000, got \"1.5\"");
	load_err("target: {command: [x]}\nprobe: {cpu_profile: 10001}\n",
		 "2:22: probe.cpu_profile: expected an integer from 0 to 10000, got \"10001\"");
	load_err("target: {command: [x]}\nassertions:\n  - task: a\n    max_cpu_share: 30%\n",
		 "4:5: assertions[0].max_cpu_share: max_cpu_share is the CPU share of functions: put it in an entry with "
		 "function: GLOB (and set probe.cpu_profile)");
}

/* probe.cpu_profile: off unless set; max_cpu_share on a function selector. */
static void test_cpu_profile_keys(void **state)
{
	struct tg_spec s;

	(void)state;
	load_ok("cpu-off", "target: {command: [x]}\n", &s);
	assert_int_equal(s.probe.cpu_profile_hz, 0);
	tg_spec_free(&s);
	load_ok("cpu-on", "target: {command: [x]}\nprobe: {cpu_profile: 99}\nassertions:\n"
		"  - function: \"app::hot*\"\n    max_cpu_share: 30%\n", &s);
	assert_int_equal(s.probe.cpu_profile_hz, 99);
	assert_int_equal(s.assertions[0].limits[0].kind, TG_LIM_MAX_CPU_SHARE);
	assert_true(s.assertions[0].limits[0].value == 30.0);
	tg_spec_free(&s);
}


/* probe.ring_buffer: the BPF ring buffer takes a power of two of pages only. */
static void test_ring_buffer(void **state)
{
	static const struct { const char *v; uint64_t bytes; } ok[] = {
		{ "64KB", 64 << 10 }, { "16MB", 16 << 20 }, { "1GB", 1u << 30 }, { "4096", 4096 },
		{ "256kib", 256 << 10 }, { "2 MB", 2 << 20 }, { "8M", 8 << 20 },
	};
	char text[128];
	struct tg_spec s;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "target: {command: [x]}\nprobe: {ring_buffer: %s}\n", ok[i].v);
		load_ok("guard.yaml", text, &s);
		assert_int_equal(s.probe.ring_buffer_bytes, ok[i].bytes);
		tg_spec_free(&s);
	}
	load_err("target: {command: [x]}\nprobe: {ring_buffer: 100KB}\n",
		 "2:22: probe.ring_buffer: must be a power of two (a BPF ring buffer rule), got \"100KB\": use 64KB or 128KB");
	load_err("target: {command: [x]}\nprobe: {ring_buffer: 2KB}\n",
		 "2:22: probe.ring_buffer: must be from 4KB to 1GB, got \"2KB\"");
	load_err("target: {command: [x]}\nprobe: {ring_buffer: 2GB}\n",
		 "2:22: probe.ring_buffer: must be from 4KB to 1GB, got \"2GB\"");
	load_err("target: {command: [x]}\nprobe: {ring_buffer: 16 megs}\n",
		 "2:22: probe.ring_buffer: expected a size like 64KB or 16MB, got \"16 megs\"");
	load_err("target: {command: [x]}\nprobe: {ring_buffer: 0}\n",
		 "2:22: probe.ring_buffer: expected a size like 64KB or 16MB, got \"0\"");
	load_err("target: {command: [x]}\nprobe: {ring_buffer: [1]}\n",
		 "2:22: probe.ring_buffer: expected a size like 64KB or 16MB, got a list");
}

/* probe.unwind and probe.stack_copy: how stacks are walked, how much is copied for DWARF. */
/* probe.scheduling_delay: on unless a spec turns it off. */
static void test_scheduling_delay_key(void **state)
{
	struct tg_spec s;

	(void)state;
	load_ok("guard.yaml", "target: {command: [x]}\n", &s);
	assert_true(s.probe.scheduling_delay);
	tg_spec_free(&s);
	load_ok("guard.yaml", "target: {command: [x]}\nprobe: {scheduling_delay: off}\n", &s);
	assert_false(s.probe.scheduling_delay);
	tg_spec_free(&s);
	load_ok("guard.yaml", "target: {command: [x]}\nprobe: {scheduling_delay: on}\n", &s);
	assert_true(s.probe.scheduling_delay);
	tg_spec_free(&s);
	load_err("target: {command: [x]}\nprobe: {scheduling_delay: maybe}\n",
		 "2:27: probe.scheduling_delay: expected on or off (wake-to-poll time and the tasks each span delayed), got \"maybe\"");
}

static void test_unwind_keys(void **state)
{
	static const struct { const char *v; enum tg_unwind u; } modes[] = {
		{ "auto", TG_UNWIND_AUTO }, { "fp", TG_UNWIND_FP }, { "dwarf", TG_UNWIND_DWARF },
	};
	char text[160];
	struct tg_spec s;

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		snprintf(text, sizeof text, "target: {command: [x]}\nprobe: {unwind: %s, stack_copy: 32KB}\n",
			 modes[i].v);
		load_ok("guard.yaml", text, &s);
		assert_int_equal(s.probe.unwind, modes[i].u);
		assert_int_equal(s.probe.stack_copy_bytes, 32 << 10);
		tg_spec_free(&s);
	}
	load_ok("guard.yaml", "target: {command: [x]}\nprobe: {stack_copy: 10000}\n", &s);
	assert_int_equal(s.probe.stack_copy_bytes, 10000); /* any size: whole pages are copied */
	tg_spec_free(&s);
	load_err("target: {command: [x]}\nprobe: {unwind: cfi}\n",
		 "2:17: probe.unwind: expected auto, fp or dwarf (how user stacks are walked), got \"cfi\"");
	load_err("target: {command: [x]}\nprobe: {stack_copy: 64KB}\n",
		 "2:21: probe.stack_copy: must be from 4KB to 56KB, got \"64KB\"");
	load_err("target: {command: [x]}\nprobe: {stack_copy: 1KB}\n",
		 "2:21: probe.stack_copy: must be from 4KB to 56KB, got \"1KB\"");
}

static void test_err_duration(void **state)
{
	load_err("target: {command: [x]}\nprobe:\n  blocking_threshold: 10\n",
		 "3:23: probe.blocking_threshold: a duration needs a unit (ns, us, ms, s, m or h), got \"10\" (write 10ms or 10s)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - sleep: 1s\n  - sleep: fast\n",
		 "5:12: load[2].sleep: expected a duration like 250ms, got \"fast\"");
	load_err("target:\n  command: [x]\n  ready: {delay: 1s, timeout: 0s}\n",
		 "3:31: target.ready.timeout: must be more than 0, got \"0s\"");
	load_err("target:\n  command: [x]\n  stop: {grace: -1s}\n",
		 "3:17: target.stop.grace: a duration cannot be negative, got \"-1s\"");
	load_err("target: {command: [x]}\nreport: {trace_min_poll: 100 us}\n",
		 "2:26: report.trace_min_poll: expected a duration like 250ms (no space before the unit), got \"100 us\"");
	load_err("target: {command: [x]}\nload:\n  - exec: [x]\n    timeout: 99999999999h\n",
		 "4:14: load[0].timeout: duration \"99999999999h\" is too large");
	load_err("target: {command: [x]}\nload:\n  - sleep: [1s]\n",
		 "3:12: load[0].sleep: expected a duration like 250ms, got a list");
}

static void test_err_missing(void **state)
{
	load_err("name: x\nprobe: {}\n", "1:1: target: required field is missing");
	load_err("target:\n  cwd: .\n", "2:3: target.command: required field is missing");
	load_err("target:\nname: x\n", "1:8: target.command: required field is missing");
	load_err("", "1:1: the spec is empty (it needs at least a target with a command)");
	load_err("# only a comment\n", "1:1: the spec is empty (it needs at least a target with a command)");
	load_err("~\n", "1:1: the spec is empty (it needs at least a target with a command)");
	load_err("target:\n  command: []\n", "2:12: target.command: the command is empty");
	load_err("target:\n  command: \"  \"\n", "2:12: target.command: the command is empty");
	load_err("target:\n  command: [\"\", x]\n", "2:13: target.command[0]: the program name is empty");
	load_err("target:\n  command: \n", "2:11: target.command: expected a command (a list like [\"./server\", \"--port\", \"3000\"] or a string), got nothing");
}

static void test_err_ready(void **state)
{
	load_err("target:\n  command: [x]\n  ready:\n    timeout: 5s\n",
		 "4:5: target.ready: expected exactly one of: tcp, http, log, delay");
	load_err("target:\n  command: [x]\n  ready:\n",
		 "3:9: target.ready: expected exactly one of: tcp, http, log, delay");
	load_err("target:\n  command: [x]\n  ready:\n    tcp: 127.0.0.1:3000\n    delay: 1s\n",
		 "5:5: target.ready.delay: only one of tcp, http, log, delay can be given (\"tcp\" is on line 4)");
	load_err("target:\n  command: [x]\n  ready:\n    delay: 1s\n    tcp: 127.0.0.1:3000\n",
		 "5:5: target.ready.tcp: only one of tcp, http, log, delay can be given (\"delay\" is on line 4)");
	load_err("target:\n  command: [x]\n  ready: {tcp: 3000}\n",
		 "3:16: target.ready.tcp: expected host:port like 127.0.0.1:3000 or [::1]:3000, got \"3000\"");
	load_err("target:\n  command: [x]\n  ready: {tcp: \"::1:3000\"}\n",
		 "3:16: target.ready.tcp: an IPv6 address needs brackets, like [::1]:3000, got \"::1:3000\"");
	load_err("target:\n  command: [x]\n  ready: {tcp: \"localhost:70000\"}\n",
		 "3:16: target.ready.tcp: expected a port from 1 to 65535 after the host, got \"localhost:70000\"");
	load_err("target:\n  command: [x]\n  ready: {tcp: \"[::1]3000\"}\n",
		 "3:16: target.ready.tcp: expected an address like [::1]:3000, got \"[::1]3000\"");
	load_err("target:\n  command: [x]\n  ready: {tcp: \"host:\"}\n",
		 "3:16: target.ready.tcp: expected a port from 1 to 65535 after the host, got \"host:\"");
	load_err("target:\n  command: [x]\n  ready: {delay: 10}\n",
		 "3:18: target.ready.delay: a duration needs a unit (ns, us, ms, s, m or h), got \"10\" (write 10ms or 10s)");
}

static void test_err_signal(void **state)
{
	load_err("target:\n  command: [x]\n  stop:\n    signal: SIGFOO\n",
		 "4:13: target.stop.signal: unknown signal \"SIGFOO\" (expected a name like SIGTERM, TERM or INT, or a number like 15)");
	load_err("target:\n  command: [x]\n  stop:\n    signal: 0\n",
		 "4:13: target.stop.signal: unknown signal \"0\" (expected a name like SIGTERM, TERM or INT, or a number like 15)");
	load_err("target:\n  command: [x]\n  stop:\n    signal:\n",
		 "4:12: target.stop.signal: expected a signal like SIGTERM, got nothing");
}

static void test_err_step(void **state)
{
	load_err("target: {command: [x]}\nload:\n  - exec: [a]\n    sleep: 1s\n",
		 "4:5: load[0].sleep: only one of exec, sleep, http, tcp, parallel can be given (\"exec\" is on line 3)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - name: nothing\n",
		 "4:5: load[1]: expected exactly one of: exec, sleep, http, tcp, parallel");
	load_err("target: {command: [x]}\nload:\n  - exec: []\n",
		 "3:11: load[0].exec: the command is empty");
	load_err("target: {command: [x]}\nload:\n  - exec: \"\"\n",
		 "3:11: load[0].exec: the command is empty");
	load_err("target: {command: [x]}\nload:\n  - exec:\n",
		 "3:10: load[0].exec: expected a command (a list like [\"./server\", \"--port\", \"3000\"] or a string), got nothing");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n    timeout: 5s\n",
		 "4:5: load[0].timeout: only exec steps take a timeout");
	load_err("target: {command: [x]}\nload:\n  - {name: a, sleep: 1s}\n  - {name: a, sleep: 2s}\n",
		 "4:12: load[1]: duplicate step name \"a\" (also the name of load[0] on line 3)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - name: \"sleep #1\"\n    sleep: 2s\n",
		 "4:11: load[1]: duplicate step name \"sleep #1\" (also the name of load[0] on line 3)");
	load_err("target: {command: [x]}\nload:\n  -\n", "3:4: load[0]: expected a step (a mapping like {sleep: 2s}), got nothing");
	load_err("target: {command: [x]}\nload:\n  - exec: [x]\n    timeout: 0ms\n",
		 "4:14: load[0].timeout: must be more than 0, got \"0ms\"");
}

static void test_err_duplicate_key(void **state)
{
	load_err("target:\n  command: [x]\n  cwd: .\n  cwd: ..\n",
		 "4:3: target.cwd: duplicate key (first given on line 3)");
	load_err("target:\n  command: [x]\n  env:\n    A: 1\n    B: 2\n    A: 3\n",
		 "6:5: target.env.A: duplicate key (first given on line 4)");
	load_err("target: {command: [x]}\ntarget: {command: [y]}\n",
		 "2:1: target: duplicate key (first given on line 1)");
}

static void test_err_command_string(void **state)
{
	/* plain and quoted one-line scalars: the column of the offending character */
	load_err("target:\n  command: ./srv | tee log\n",
		 "2:18: target.command: unquoted '|': the command is not run through a shell: quote this character, or use a list like [\"sh\", \"-c\", \"...\"]");
	load_err("target:\n  command: \"./srv 'oops\"\n",
		 "2:19: target.command: unterminated single quote (')");
	load_err("target: {command: [x]}\nload:\n  - exec: 'echo $HOME'\n",
		 "3:17: load[0].exec: unquoted '$': the command is not run through a shell: quote this character, or use a list like [\"sh\", \"-c\", \"...\"]");
	/* multi-line: the scalar's own position */
	load_err("target:\n  command: >\n    ./srv\n    a > b\n",
		 "2:12: target.command: unquoted '>': the command is not run through a shell: quote this character, or use a list like [\"sh\", \"-c\", \"...\"]");
}

static void test_err_one_line(void **state)
{
	/* values are quoted with escapes; messages never span lines */
	load_err("target: {command: [x]}\nprobe: {blocking_threshold: \"1\\n2\\tms\\u0001\"}\n",
		 "2:29: probe.blocking_threshold: expected a duration like 250ms (no space before the unit), got \"1\\n2\\tms\\x01\"");
	load_err("target: {command: [x]}\nname: \"a\\0b\"\n",
		 "2:7: name: expected a string, got a string holding a NUL character");
	load_err("target: {command: [x]}\nprobe: {sample_rate: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
		 "2:22: probe.sample_rate: expected an integer from 0 to 100000, got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
}

static void test_err_limits(void **state)
{
	char *p = malloc(64 + 70000);
	size_t o = (size_t)sprintf(p, "target:\n  command: [x]\nload:\n  - exec: ");
	for (int i = 0; i < 100; i++)
		p[o++] = '[';
	p[o++] = '\n';
	p[o] = '\0';
	load_err(p, "4:72: nested more than 64 levels deep");

	/* an alias bomb: 400 copies of a 1000-word command */
	o = (size_t)sprintf(p, "target: {command: [x]}\nload:\n  - &s {exec: [a");
	for (int i = 1; i < 1000; i++)
		o += (size_t)sprintf(p + o, ",a");
	o += (size_t)sprintf(p + o, "]}\n");
	for (int i = 1; i < 400; i++)
		o += (size_t)sprintf(p + o, "  - *s\n");
	load_err(p, "3:1208: load[199].exec[596]: too many values (more than 200000, counting what aliases repeat)");
	free(p);

	/* a text bomb, found by fuzz_spec: few values, each a 4000-byte string (270 MB for 5 KB) */
	assert_non_null(p = malloc(16 << 10));
	o = (size_t)sprintf(p, "target: {command: [x]}\nload:\n  - &e {exec: [&s \"");
	memset(p + o, 'x', 4000);
	o += 4000;
	o += (size_t)sprintf(p + o, "\"");
	for (int i = 1; i < 40; i++)
		o += (size_t)sprintf(p + o, ", *s");
	o += (size_t)sprintf(p + o, "]}\n  - &p {parallel: [*e");
	for (int i = 1; i < 40; i++)
		o += (size_t)sprintf(p + o, ", *e");
	o += (size_t)sprintf(p + o, "]}\n  - {parallel: [*p");
	for (int i = 1; i < 40; i++)
		o += (size_t)sprintf(p + o, ", *p");
	sprintf(p + o, "]}\n");
	load_err(p, "3:16: load[2].parallel[9].parallel[18].exec[17]: too much text (more than 64 MB, counting what aliases repeat)");
	free(p);

	/* larger than any spec: refused before parsing */
	struct tg_spec s;
	char err[512], path[PATH_MAX + 32], want[PATH_MAX + 128];
	snprintf(path, sizeof path, "%s/huge.yaml", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < (5 << 20) / 16; i++)
		fputs("# padding......\n", f);
	fclose(f);
	assert_int_equal(tg_spec_load(path, &s, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "%s: too large for a spec (more than 4 MiB)", path);
	assert_string_equal(err, want);
	unlink(path);
}

/* ------------------------------------------------- traffic steps: errors */

#define T "target: {command: [x]}\nload:\n"
#define HTTP "  - http: {url: \"http://127.0.0.1/\"}\n"

static void test_err_rate(void **state)
{
	load_err(T HTTP "    rate: fast\n    duration: 1s\n",
		 "4:11: load[0].rate: expected a rate like 100/s, got \"fast\"");
	load_err(T HTTP "    rate: 100\n    duration: 1s\n",
		 "4:11: load[0].rate: a rate needs a unit (/s or /m), got \"100\" (write 100/s)");
	load_err(T HTTP "    rate: 0/s\n    duration: 1s\n",
		 "4:11: load[0].rate: a rate must be more than 0, got \"0/s\"");
	load_err(T HTTP "    rate: 5/h\n    duration: 1s\n",
		 "4:11: load[0].rate: unknown rate unit \"/h\" in \"5/h\" (expected /s or /m)");
	load_err(T HTTP "    rate: [1/s]\n    duration: 1s\n",
		 "4:11: load[0].rate: expected a rate like 100/s, got a list");
}

static void test_err_duration_or_requests(void **state)
{
	load_err(T HTTP "    duration: 1s\n    requests: 10\n",
		 "5:5: load[0].requests: only one of duration, requests can be given (\"duration\" is on line 4)");
	load_err(T "  - tcp: {addr: \"a:1\", send: x}\n    rate: 1/s\n",
		 "3:5: load[0]: expected exactly one of: duration, requests");
	load_err(T HTTP "    requests: 0\n",
		 "4:15: load[0].requests: expected an integer from 1 to 1000000000000, got \"0\"");
	load_err(T HTTP "    requests: 1.5\n",
		 "4:15: load[0].requests: expected an integer from 1 to 1000000000000, got \"1.5\"");
	load_err(T HTTP "    duration: 10\n",
		 "4:15: load[0].duration: a duration needs a unit (ns, us, ms, s, m or h), got \"10\" (write 10ms or 10s)");
	load_err(T HTTP "    duration: 0s\n", "4:15: load[0].duration: must be more than 0, got \"0s\"");
}

static void test_err_concurrency(void **state)
{
	load_err(T HTTP "    concurrency: 0\n    requests: 1\n",
		 "4:18: load[0].concurrency: expected an integer from 1 to 10000, got \"0\"");
	load_err(T HTTP "    concurrency: 10001\n    requests: 1\n",
		 "4:18: load[0].concurrency: expected an integer from 1 to 10000, got \"10001\"");
	load_err(T HTTP "    concurrency: -1\n    requests: 1\n",
		 "4:18: load[0].concurrency: expected an integer from 1 to 10000, got \"-1\"");
}

static void test_err_key_of_other_kind(void **state)
{
	load_err(T "  - exec: [x]\n    rate: 10/s\n", "4:5: load[0].rate: only http and tcp steps take a rate");
	load_err(T "  - sleep: 1s\n    duration: 1s\n",
		 "4:5: load[0].duration: only http and tcp steps take a duration");
	load_err(T "  - requests: 3\n    parallel: [{sleep: 1s}]\n",
		 "3:5: load[0].requests: only http and tcp steps take a count of requests");
	load_err(T "  - exec: [x]\n    concurrency: 2\n",
		 "4:5: load[0].concurrency: only http and tcp steps take a concurrency");
	load_err(T "  - sleep: 1s\n    env: {A: b}\n", "4:5: load[0].env: only exec steps take an env");
	load_err(T HTTP "    requests: 1\n    cwd: .\n", "5:5: load[0].cwd: only exec steps take a cwd");
	load_err(T HTTP "    requests: 1\n    timeout: 1s\n",
		 "5:5: load[0].timeout: only exec steps take a timeout");
	/* the first misplaced key in the document */
	load_err(T "  - cwd: .\n    rate: 1/s\n    sleep: 1s\n", "3:5: load[0].cwd: only exec steps take a cwd");
	load_err(T "  - exec: [x]\n    env: {A: [b]}\n", "4:14: load[0].env.A: expected a string, got a list");
}

static void test_err_url(void **state)
{
	load_err(T "  - http: {url: \"ftp://x/\"}\n    requests: 1\n",
		 "3:17: load[0].http.url: expected a URL starting with http:// or https://, got \"ftp://x/\"");
	load_err(T "  - http: {url: \"http:///path\"}\n    requests: 1\n",
		 "3:17: load[0].http.url: the URL has no host, got \"http:///path\"");
	load_err(T "  - http: {url: \"http://a/b c\"}\n    requests: 1\n",
		 "3:17: load[0].http.url: a URL cannot hold blanks or control characters (write %20), got \"http://a/b c\"");
	load_err(T "  - http: {url: 8080}\n    requests: 1\n",
		 "3:17: load[0].http.url: expected a URL starting with http:// or https://, got \"8080\"");
	load_err("target:\n  command: [x]\n  ready: {http: \"localhost:3000\"}\n",
		 "3:17: target.ready.http: expected a URL starting with http:// or https://, got \"localhost:3000\"");
	load_err("target:\n  command: [x]\n  ready: {http: [a]}\n",
		 "3:17: target.ready.http: expected a URL like http://127.0.0.1:3000/, got a list");
}

static void test_err_regex(void **state)
{
	load_err("target:\n  command: [x]\n  ready:\n    log: \"listening (on\"\n",
		 "4:10: target.ready.log: invalid regular expression \"listening (on\": Unmatched ( or \\(");
	load_err("target:\n  command: [x]\n  ready:\n    log: \"a{2,1}\"\n",
		 "4:10: target.ready.log: invalid regular expression \"a{2,1}\": Invalid content of \\{\\}");
	load_err("target:\n  command: [x]\n  ready: {log: \"\"}\n",
		 "3:16: target.ready.log: must not be empty (it would match any line)");
	load_err("target:\n  command: [x]\n  ready: {log: \"(x{200}){200}\"}\n",
		 "3:16: target.ready.log: regular expression \"(x{200}){200}\" is too complex "
		 "(its repetitions, + and {n,m}, expand to more than 20000 parts)");
	/* found by fuzzing: stacked and nested repetitions make glibc's regcomp take
	 * minutes and gigabytes */
	load_err("target:\n  command: [x]\n  ready: {log: \"lis B*++++++++ on\"}\n",
		 "3:16: target.ready.log: regular expression \"lis B*++++++++ on\" has repetition operators one "
		 "after another, like *+ or *? (POSIX regular expressions have no lazy or possessive forms: write one)");
	load_err("target:\n  command: [x]\n  ready: {log: \"GET .*? HTTP\"}\n",
		 "3:16: target.ready.log: regular expression \"GET .*? HTTP\" has repetition operators one "
		 "after another, like *+ or *? (POSIX regular expressions have no lazy or possessive forms: write one)");
	load_err("target:\n  command: [x]\n  ready: {log: \"(((a*)+)?)(((a*)+)?)\"}\n",
		 "3:16: target.ready.log: regular expression \"(((a*)+)?)(((a*)+)?)\" nests repetitions more than 2 "
		 "deep, like ((a*)+)+ (too slow to compile)");
	char *long_re = malloc(600);
	assert_non_null(long_re);
	strcpy(long_re, "target:\n  command: [x]\n  ready: {log: \"");
	size_t at = strlen(long_re);
	memset(long_re + at, 'a', 513);
	strcpy(long_re + at + 513, "\"}\n");
	load_err(long_re, "3:16: target.ready.log: regular expression too long (more than 512 bytes)");
	free(long_re);
	load_err("target:\n  command: [x]\n  ready: {log: \"x\", tcp: \"a:1\"}\n",
		 "3:21: target.ready.tcp: only one of tcp, http, log, delay can be given (\"log\" is on line 3)");
}

static void test_err_body(void **state)
{
	char want[PATH_MAX + 256], dirwant[2 * PATH_MAX + 256];
	load_err(T "  - http: {url: \"http://x/\", body: a, body_file: b.json}\n    requests: 1\n",
		 "3:39: load[0].http.body_file: only one of body, body_file can be given (\"body\" is on line 3)");
	load_err(T "  - http:\n      body_file: b.json\n      body: a\n      url: \"http://x/\"\n    requests: 1\n",
		 "5:7: load[0].http.body: only one of body, body_file can be given (\"body_file\" is on line 4)");
	load_err(T "  - http: {url: \"http://x/\", body: [a]}\n    requests: 1\n",
		 "3:36: load[0].http.body: expected a string (the request body), got a list");

	/* unreadable body_file: the absolute path and why */
	snprintf(want, sizeof want,
		 "3:41: load[0].http.body_file: cannot open \"%s/missing.json\": No such file or directory", tmpdir);
	load_err(T "  - http: {url: \"http://x/\", body_file: missing.json}\n    requests: 1\n", want);
	assert_int_equal(mkdir(strcat(strcpy(want, tmpdir), "/adir"), 0755), 0);
	snprintf(dirwant, sizeof dirwant, "3:41: load[0].http.body_file: cannot read \"%s\": Is a directory", want);
	load_err(T "  - http: {url: \"http://x/\", body_file: adir}\n    requests: 1\n", dirwant);
	rmdir(want);
	/* larger than 16 MiB (sparse) */
	snprintf(want, sizeof want, "%s/big.bin", tmpdir);
	int fd = open(want, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	close(fd);
	snprintf(dirwant, sizeof dirwant,
		 "3:41: load[0].http.body_file: \"%s\" is too large for a request body (more than 16 MiB)", want);
	load_err(T "  - http: {url: \"http://x/\", body_file: big.bin}\n    requests: 1\n", dirwant);
	unlink(want);
}

static void test_err_expect_status(void **state)
{
	load_err(T "  - http: {url: \"http://x/\", expect_status: 99}\n    requests: 1\n",
		 "3:45: load[0].http.expect_status: expected an integer from 100 to 599, got \"99\"");
	load_err(T "  - http: {url: \"http://x/\", expect_status: 600}\n    requests: 1\n",
		 "3:45: load[0].http.expect_status: expected an integer from 100 to 599, got \"600\"");
	load_err(T "  - http: {url: \"http://x/\", expect_status: OK}\n    requests: 1\n",
		 "3:45: load[0].http.expect_status: expected an integer from 100 to 599, got \"OK\"");
}

static void test_err_http_fields(void **state)
{
	load_err(T "  - http: {method: GET}\n    requests: 1\n",
		 "3:11: load[0].http.url: required field is missing");
	load_err(T "  - http:\n    requests: 1\n", "3:10: load[0].http.url: required field is missing");
	load_err(T "  - http: {url: \"http://x/\", method: get}\n    requests: 1\n",
		 "3:38: load[0].http.method: expected an HTTP method in upper case like GET or POST, got \"get\"");
	load_err(T "  - http: {url: \"http://x/\", headers: {\"Bad Name\": x}}\n    requests: 1\n",
		 "3:40: load[0].http.headers.Bad Name: expected a header name like Content-Type, got \"Bad Name\"");
	load_err(T "  - http: {url: \"http://x/\", headers: {A: \"x\\r\\nB: y\"}}\n    requests: 1\n",
		 "3:43: load[0].http.headers.A: a header value must be one line, got \"x\\r\\nB: y\"");
	load_err(T "  - http: {url: \"http://x/\", headers: {Accept: a, accept: b}}\n    requests: 1\n",
		 "3:51: load[0].http.headers.accept: duplicate key (first given on line 3)");
	load_err(T "  - http: {url: \"http://x/\", verb: GET}\n    requests: 1\n",
		 "3:30: load[0].http: unknown key \"verb\" (expected one of: url, method, headers, body, body_file, expect_status, timeout)");
	load_err(T "  - http: \"http://x/\"\n    requests: 1\n",
		 "3:11: load[0].http: expected a mapping, got \"http://x/\"");
	load_err(T "  - http: {url: \"http://x/\", timeout: 5}\n    requests: 1\n",
		 "3:39: load[0].http.timeout: a duration needs a unit (ns, us, ms, s, m or h), got \"5\" (write 5ms or 5s)");
}

static void test_err_tcp(void **state)
{
	load_err(T "  - tcp: {addr: \"a:1\"}\n    requests: 1\n", "3:10: load[0].tcp.send: required field is missing");
	load_err(T "  - tcp: {send: x}\n    requests: 1\n", "3:10: load[0].tcp.addr: required field is missing");
	load_err(T "  - tcp: {addr: \"a:1\", send: [x]}\n    requests: 1\n",
		 "3:30: load[0].tcp.send: expected a string (the bytes to send), got a list");
	load_err(T "  - tcp: {addr: \"a:1\", send: x, expect: \"\"}\n    requests: 1\n",
		 "3:41: load[0].tcp.expect: must not be empty (leave expect out to accept any reply)");
}

static void test_err_addr(void **state)
{
	load_err(T "  - tcp: {addr: nohost, send: x}\n    requests: 1\n",
		 "3:17: load[0].tcp.addr: expected host:port like 127.0.0.1:3000 or [::1]:3000, got \"nohost\"");
	load_err(T "  - tcp: {addr: \"::1:80\", send: x}\n    requests: 1\n",
		 "3:17: load[0].tcp.addr: an IPv6 address needs brackets, like [::1]:3000, got \"::1:80\"");
	load_err(T "  - tcp: {addr: \"a:0\", send: x}\n    requests: 1\n",
		 "3:17: load[0].tcp.addr: expected a port from 1 to 65535 after the host, got \"a:0\"");
	load_err(T "  - tcp: {addr: \"a b:1\", send: x}\n    requests: 1\n",
		 "3:17: load[0].tcp.addr: expected host:port like 127.0.0.1:3000 or [::1]:3000, got \"a b:1\"");
}

static void test_err_parallel(void **state)
{
	load_err(T "  - parallel: []\n", "3:15: load[0].parallel: expected at least one step to run");
	load_err(T "  - parallel:\n", "3:14: load[0].parallel: expected a list of steps to run at the same time, got nothing");
	load_err(T "  - parallel: {sleep: 1s}\n",
		 "3:15: load[0].parallel: expected a list of steps to run at the same time, got a mapping");
	load_err(T "  - parallel:\n      - sleep: 1s\n      - slep: 1s\n",
		 "5:9: load[0].parallel[1]: unknown key \"slep\" (expected one of: name, exec, sleep, http, tcp, parallel, timeout, env, cwd, rate, concurrency, duration, requests)");
	load_err(T "  - parallel:\n      - http: {url: \"http://x/\"}\n",
		 "4:9: load[0].parallel[0]: expected exactly one of: duration, requests");
}

static void test_err_parallel_depth(void **state)
{
	/* four levels are fine; a fifth is not */
	struct tg_spec s;
	load_ok(NULL, T "  - parallel: [{parallel: [{parallel: [{parallel: [{sleep: 1s}]}]}]}]\n", &s);
	assert_string_equal(s.steps[0].children[0].children[0].children[0].children[0].name, "sleep #5");
	tg_spec_free(&s);
	load_err(T "  - parallel: [{parallel: [{parallel: [{parallel: [{parallel: [{sleep: 1s}]}]}]}]}]\n",
		 "3:63: load[0].parallel[0].parallel[0].parallel[0].parallel[0].parallel: parallel steps nested more than 4 deep");
	/* a step holding itself through an alias */
	load_err(T "  - &a {parallel: [*a]}\n",
		 "3:19: load[0].parallel[0].parallel[0].parallel[0].parallel[0].parallel: parallel steps nested more than 4 deep");
}

static void test_err_duplicate_names_children(void **state)
{
	load_err(T "  - name: a\n    sleep: 1s\n  - parallel:\n      - sleep: 1s\n      - {name: a, sleep: 2s}\n",
		 "7:16: load[1].parallel[1]: duplicate step name \"a\" (also the name of load[0] on line 3)");
	load_err(T "  - parallel:\n      - {name: x, sleep: 1s}\n      - parallel: [{name: x, sleep: 2s}]\n",
		 "5:27: load[0].parallel[1].parallel[0]: duplicate step name \"x\" (also the name of load[0].parallel[0] on line 4)");
	/* default names count children: the parallel is #1, its children #2 and #3 */
	load_err(T "  - parallel: [{sleep: 1s}, {sleep: 2s}]\n  - {sleep: 1s, name: \"sleep #3\"}\n",
		 "4:23: load[1]: duplicate step name \"sleep #3\" (also the name of load[0].parallel[1] on line 3)");
}

static void test_err_user(void **state)
{
	load_err("target:\n  command: [x]\n  user: [root]\n",
		 "3:9: target.user: expected a user name or a numeric uid, got a list");
	load_err("target:\n  command: [x]\n  user: {name: root}\n",
		 "3:9: target.user: expected a user name or a numeric uid, got a mapping");
	load_err("target:\n  command: [x]\n  user:\n",
		 "3:8: target.user: expected a user name or a numeric uid, got nothing");
	load_err("target:\n  command: [x]\n  user: 99999999999\n",
		 "3:9: target.user: expected a uid from 0 to 4294967294, got \"99999999999\"");
	load_err("target:\n  command: [x]\n  user: \"a:b\"\n",
		 "3:9: target.user: expected a user name or a numeric uid, got \"a:b\"");
}

#undef T
#undef HTTP

static void test_err_file(void **state)
{
	struct tg_spec s;
	char err[512], path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
	assert_int_equal(tg_spec_load(path, &s, err, sizeof err), -ENOENT);
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(s.path);

	assert_int_equal(tg_spec_load(tmpdir, &s, err, sizeof err), -EISDIR);
	snprintf(want, sizeof want, "%s: cannot read: Is a directory", tmpdir);
	assert_string_equal(err, want);

	assert_int_equal(tg_spec_load("", &s, err, sizeof err), -EINVAL);
	assert_int_equal(tg_spec_load(path, &s, NULL, 0), -ENOENT); /* no error buffer: fine */
}

/* ------------------------------------------------------- allow, assertions */

/* every limit kind, every selector, hostile names where strings reach reports */
static const char assert_spec[] =
	"version: 1\n"                                                          /* 1 */
	"target: {command: [x]}\n"
	"load:\n"
	"  - name: warmup\n"
	"    sleep: 1s\n"                                                        /* 5 */
	"  - http: {url: \"http://127.0.0.1/\"}\n"
	"    requests: 10\n"
	"  - parallel:\n"
	"      - name: \"a<b>&\\\"c\\\", d:e%\"\n"
	"        sleep: 1s\n"                                                    /* 10 */
	"allow:\n"
	"  - function: \"ring::pbkdf2::*\"\n"
	"    reason: \"password hashing is bounded by design\"\n"
	"  - reason: \"quotes \\\" <tag> & 100% a:b, c\\nline two\"\n"
	"    function: \"my<crate>::f\\\"x\\\"?\"\n"                            /* 15 */
	"assertions:\n"
	"  - max_poll: 50ms\n"
	"  - task: \"demo_server::process_request\"\n"
	"    max_poll: 5ms\n"
	"    p50_poll: 250us\n"                                                  /* 20 */
	"    p90_poll: 1.5ms\n"
	"    p99_poll: 1ms\n"
	"    p999_poll: 2ms\n"
	"    max_blocking_spans: 0\n"
	"    max_blocking_time: 1s\n"                                            /* 25 */
	"    min_polls: 100\n"
	"    max_poll_regression: 25%\n"
	"    max_scheduling_delay: 3ms\n"
	"    p99_scheduling_delay: 500us\n"
	"    allow_missing: true\n"                                              /* 30 */
	"    mode: warn\n"
	"  - function: \"demo_server::compute_hash\"\n"
	"    mode: fail\n"
	"    max_poll: 1ms\n"
	"  - max_blocking_spans: 0\n"                                            /* 35 */
	"  - load: warmup\n"
	"    max_errors: 3\n"
	"    max_error_rate: 0.5%\n"
	"    p50_latency: 2ms\n"
	"    p99_latency: 50ms\n"                                                /* 40 */
	"    max_latency: 1m30s\n"
	"    min_throughput: 6000/m\n"
	"  - {min_throughput: 1/s, load: \"http #2\", allow_missing: False}\n"
	"  - load: \"a<b>&\\\"c\\\", d:e%\"\n"
	"    max_errors: 0\n"                                                    /* 45 */
	"  - load: \"par*\"\n"
	"    max_latency: 1s\n"
	"  - {max_poll_regression: 250%, task: \"*<&>\\\"\\n,:%\"}\n"
	"  - {load: \"?arallel #3\", max_error_rate: 100%}\n";

static void check_limit(const struct tg_limit *l, enum tg_limit_kind kind, const char *text,
			int line, int column)
{
	assert_int_equal(l->kind, kind);
	assert_string_equal(l->text, text);
	assert_int_equal(l->line, line);
	assert_int_equal(l->column, column);
}

static void test_assertions_valid(void **state)
{
	struct tg_spec s;
	load_ok(NULL, assert_spec, &s);

	assert_int_equal(s.nallow, 2);
	assert_string_equal(s.allow[0].function, "ring::pbkdf2::*");
	assert_string_equal(s.allow[0].reason, "password hashing is bounded by design");
	assert_int_equal(s.allow[0].line, 12);
	assert_int_equal(s.allow[0].column, 5);
	assert_string_equal(s.allow[1].function, "my<crate>::f\"x\"?");
	assert_string_equal(s.allow[1].reason, "quotes \" <tag> & 100% a:b, c\nline two");
	assert_int_equal(s.allow[1].line, 14);

	assert_true(s.has_assertions);
	assert_int_equal(s.nassertions, 10);
	struct tg_assertion *a = &s.assertions[0];
	assert_int_equal(a->sel, TG_SEL_ALL);
	assert_null(a->pattern);
	assert_false(a->allow_missing);
	assert_false(a->warn);
	assert_int_equal(a->nlimits, 1);
	assert_int_equal(a->line, 17);
	assert_int_equal(a->column, 5);
	check_limit(&a->limits[0], TG_LIM_MAX_POLL, "50ms", 17, 5);
	assert_int_equal(a->limits[0].ns, 50 * MS);

	/* every task limit, in the order written */
	a = &s.assertions[1];
	assert_int_equal(a->sel, TG_SEL_TASK);
	assert_string_equal(a->pattern, "demo_server::process_request");
	assert_true(a->allow_missing);
	assert_true(a->warn);
	assert_int_equal(a->line, 18);
	assert_int_equal(a->nlimits, 11);
	check_limit(&a->limits[0], TG_LIM_MAX_POLL, "5ms", 19, 5);
	assert_int_equal(a->limits[0].ns, 5 * MS);
	check_limit(&a->limits[1], TG_LIM_P50_POLL, "250us", 20, 5);
	assert_int_equal(a->limits[1].ns, 250000);
	check_limit(&a->limits[2], TG_LIM_P90_POLL, "1.5ms", 21, 5);
	assert_int_equal(a->limits[2].ns, 1500000);
	check_limit(&a->limits[3], TG_LIM_P99_POLL, "1ms", 22, 5);
	assert_int_equal(a->limits[3].ns, 1 * MS);
	check_limit(&a->limits[4], TG_LIM_P999_POLL, "2ms", 23, 5);
	assert_int_equal(a->limits[4].ns, 2 * MS);
	check_limit(&a->limits[5], TG_LIM_MAX_BLOCKING_SPANS, "0", 24, 5);
	assert_int_equal(a->limits[5].count, 0);
	check_limit(&a->limits[6], TG_LIM_MAX_BLOCKING_TIME, "1s", 25, 5);
	assert_int_equal(a->limits[6].ns, 1 * S);
	check_limit(&a->limits[7], TG_LIM_MIN_POLLS, "100", 26, 5);
	assert_int_equal(a->limits[7].count, 100);
	check_limit(&a->limits[8], TG_LIM_MAX_POLL_REGRESSION, "25%", 27, 5);
	assert_true(a->limits[8].value == 25.0);
	check_limit(&a->limits[9], TG_LIM_MAX_SCHEDULING_DELAY, "3ms", 28, 5);
	assert_int_equal(a->limits[9].ns, 3 * MS);
	check_limit(&a->limits[10], TG_LIM_P99_SCHEDULING_DELAY, "500us", 29, 5);
	assert_int_equal(a->limits[10].ns, 500000);

	a = &s.assertions[2];
	assert_int_equal(a->sel, TG_SEL_FUNCTION);
	assert_string_equal(a->pattern, "demo_server::compute_hash");
	assert_false(a->warn);
	assert_int_equal(a->nlimits, 1);
	check_limit(&a->limits[0], TG_LIM_MAX_POLL, "1ms", 34, 5);

	a = &s.assertions[3];
	assert_int_equal(a->sel, TG_SEL_ALL);
	check_limit(&a->limits[0], TG_LIM_MAX_BLOCKING_SPANS, "0", 35, 5);

	/* every load limit */
	a = &s.assertions[4];
	assert_int_equal(a->sel, TG_SEL_LOAD);
	assert_string_equal(a->pattern, "warmup");
	assert_int_equal(a->nlimits, 6);
	check_limit(&a->limits[0], TG_LIM_MAX_ERRORS, "3", 37, 5);
	assert_int_equal(a->limits[0].count, 3);
	check_limit(&a->limits[1], TG_LIM_MAX_ERROR_RATE, "0.5%", 38, 5);
	assert_true(a->limits[1].value == 0.5);
	check_limit(&a->limits[2], TG_LIM_P50_LATENCY, "2ms", 39, 5);
	assert_int_equal(a->limits[2].ns, 2 * MS);
	check_limit(&a->limits[3], TG_LIM_P99_LATENCY, "50ms", 40, 5);
	assert_int_equal(a->limits[3].ns, 50 * MS);
	check_limit(&a->limits[4], TG_LIM_MAX_LATENCY, "1m30s", 41, 5);
	assert_int_equal(a->limits[4].ns, 90 * S);
	check_limit(&a->limits[5], TG_LIM_MIN_THROUGHPUT, "6000/m", 42, 5);
	assert_true(a->limits[5].value == 100.0);

	/* flow mappings: the limit before the selector; a default step name */
	a = &s.assertions[5];
	assert_int_equal(a->sel, TG_SEL_LOAD);
	assert_string_equal(a->pattern, "http #2");
	assert_false(a->allow_missing);
	assert_int_equal(a->line, 43);
	assert_int_equal(a->column, 5);
	check_limit(&a->limits[0], TG_LIM_MIN_THROUGHPUT, "1/s", 43, 6);
	assert_true(a->limits[0].value == 1.0);

	/* a parallel child's hostile name; globs over step names */
	assert_string_equal(s.assertions[6].pattern, "a<b>&\"c\", d:e%");
	check_limit(&s.assertions[6].limits[0], TG_LIM_MAX_ERRORS, "0", 45, 5);
	assert_string_equal(s.assertions[7].pattern, "par*");
	a = &s.assertions[8];
	assert_int_equal(a->sel, TG_SEL_TASK);
	assert_string_equal(a->pattern, "*<&>\"\n,:%");
	check_limit(&a->limits[0], TG_LIM_MAX_POLL_REGRESSION, "250%", 48, 6);
	assert_true(a->limits[0].value == 250.0);
	a = &s.assertions[9];
	assert_string_equal(a->pattern, "?arallel #3");
	check_limit(&a->limits[0], TG_LIM_MAX_ERROR_RATE, "100%", 49, 27);
	assert_true(a->limits[0].value == 100.0);
	tg_spec_free(&s);
	assert_null(s.assertions);
	assert_null(s.allow);
	assert_false(s.has_assertions);
}

/* has_assertions tells "assertions: []" from no key (the default check then applies) */
static void test_assertions_absent_or_empty(void **state)
{
	struct tg_spec s;
	load_ok(NULL, "target: {command: [x]}\n", &s);
	assert_false(s.has_assertions);
	assert_int_equal(s.nassertions, 0);
	assert_null(s.assertions);
	assert_int_equal(s.nallow, 0);
	assert_null(s.allow);
	tg_spec_free(&s);

	load_ok(NULL, "target: {command: [x]}\nassertions: []\nallow: []\n", &s);
	assert_true(s.has_assertions);
	assert_int_equal(s.nassertions, 0);
	assert_null(s.assertions);
	assert_int_equal(s.nallow, 0);
	tg_spec_free(&s);

	load_ok(NULL, "target: {command: [x]}\nassertions:\nallow:\n", &s);
	assert_true(s.has_assertions);
	assert_int_equal(s.nassertions, 0);
	tg_spec_free(&s);

	/* assertions before load in the file: names are checked once everything is read */
	load_ok(NULL, "assertions:\n  - {load: late, max_errors: 0}\ntarget: {command: [x]}\n"
		      "load: [{name: late, sleep: 1s}]\n", &s);
	assert_int_equal(s.assertions[0].sel, TG_SEL_LOAD);
	assert_string_equal(s.assertions[0].pattern, "late");
	tg_spec_free(&s);
}

/* every kind has a key, a unit and a selector class, and its key parses back to it */
static void test_limit_kinds(void **state)
{
	static const char *const example[] = {
		[TG_UNIT_DURATION] = "7ms", [TG_UNIT_COUNT] = "7", [TG_UNIT_PERCENT] = "7%",
		[TG_UNIT_RATE] = "7/s", [TG_UNIT_BYTES] = "7MB",
	};
	char text[256];
	for (int k = 1; k < TG_LIM__COUNT; k++) {
		const char *name = tg_limit_name(k);
		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		for (int j = 1; j < k; j++)
			assert_string_not_equal(name, tg_limit_name(j));
		bool load = k >= TG_LIM_MAX_ERRORS;
		assert_int_equal(tg_limit_is_load(k), load);
		assert_int_equal(tg_limit_is_min(k), k == TG_LIM_MIN_POLLS || k == TG_LIM_MIN_THROUGHPUT);
		enum tg_limit_unit unit = tg_limit_unit(k);
		assert_true(unit <= TG_UNIT_BYTES);
		/* heap limits count allocation sites: no task selector */
		bool heap = k == TG_LIM_MAX_HEAP_GROWTH || k == TG_LIM_MAX_ALLOC_RATE;
		snprintf(text, sizeof text,
			 "target: {command: [x]}\nload: [{name: w, sleep: 1s}]\nassertions:\n  - %s\n    %s: %s\n",
			 load ? "load: w" : heap || k == TG_LIM_MAX_CPU_SHARE ? "function: f"
			 : k == TG_LIM_MAX_WORKER_BUSY ? "mode: fail" : "task: t", name,
			 example[unit]);
		struct tg_spec s;
		load_ok(NULL, text, &s);
		assert_int_equal(s.nassertions, 1);
		assert_int_equal(s.assertions[0].nlimits, 1);
		const struct tg_limit *l = &s.assertions[0].limits[0];
		check_limit(l, k, example[unit], 5, 5);
		if (unit == TG_UNIT_DURATION)
			assert_int_equal(l->ns, 7 * MS);
		else if (unit == TG_UNIT_COUNT)
			assert_int_equal(l->count, 7);
		else if (unit == TG_UNIT_BYTES)
			assert_int_equal(l->count, 7u << 20);
		else
			assert_true(l->value == 7.0);
		tg_spec_free(&s);
	}
	assert_string_equal(tg_limit_name(TG_LIM_P99_LATENCY), "p99_latency");
	assert_int_equal(tg_limit_unit(TG_LIM_MAX_POLL_REGRESSION), TG_UNIT_PERCENT);
	assert_int_equal(tg_limit_unit(TG_LIM_MIN_THROUGHPUT), TG_UNIT_RATE);
	assert_int_equal(tg_limit_unit(TG_LIM_MIN_POLLS), TG_UNIT_COUNT);
	assert_string_equal(tg_limit_name(0), "unknown");
	assert_string_equal(tg_limit_name(TG_LIM__COUNT), "unknown");
	assert_false(tg_limit_is_load(TG_LIM__COUNT));
}

#define TASK_LIMITS "max_poll, p50_poll, p90_poll, p99_poll, p999_poll, max_blocking_spans, " \
	"max_blocking_time, min_polls, max_poll_regression, max_scheduling_delay, p99_scheduling_delay, " \
	"max_delayed_tasks, max_heap_growth, max_alloc_rate"
/* the keys: max_cpu_share too, which only function selectors take */
#define TASK_KEYS "max_poll, p50_poll, p90_poll, p99_poll, p999_poll, max_blocking_spans, " \
	"max_blocking_time, min_polls, max_poll_regression, max_cpu_share, max_scheduling_delay, " \
	"p99_scheduling_delay, max_delayed_tasks, max_heap_growth, max_alloc_rate"
/* an entry without a selector takes the worker limit too; the key table has every key */
#define NOSEL_LIMITS TASK_LIMITS ", max_worker_busy"
#define ALL_KEYS TASK_KEYS ", max_worker_busy"
#define LOAD_LIMITS "max_errors, max_error_rate, p50_latency, p99_latency, max_latency, min_throughput"
#define A "target: {command: [x]}\nassertions:\n"
#define W "target: {command: [x]}\nload: [{name: w, sleep: 1s}]\nassertions:\n"

static void test_err_assertion_values(void **state)
{
	load_err(A "  - p99_poll: 5\n",
		 "3:15: assertions[0].p99_poll: a duration needs a unit (ns, us, ms, s, m or h), got \"5\" (write 5ms or 5s)");
	load_err(A "  - max_poll: 1ms\n  - task: a\n    max_poll: fast\n",
		 "5:15: assertions[1].max_poll: expected a duration like 250ms, got \"fast\"");
	load_err(A "  - max_poll:\n", "3:14: assertions[0].max_poll: expected a duration like 5ms, got nothing");
	/* counts */
	load_err(A "  - max_blocking_spans: 1.5\n",
		 "3:25: assertions[0].max_blocking_spans: a count is a whole number like 0 or 10, got \"1.5\"");
	load_err(A "  - max_blocking_spans: -1\n",
		 "3:25: assertions[0].max_blocking_spans: a count cannot be negative, got \"-1\"");
	load_err(A "  - min_polls: 10ms\n",
		 "3:16: assertions[0].min_polls: a count is a plain whole number like 0 or 10 (no unit), got \"10ms\"");
	load_err(A "  - min_polls: ten\n",
		 "3:16: assertions[0].min_polls: expected a count like 0 or 10, got \"ten\"");
	load_err(A "  - min_polls: [1]\n",
		 "3:16: assertions[0].min_polls: expected a count like 0 or 10, got a list");
	load_err(A "  - min_polls: 99999999999999999999999\n",
		 "3:16: assertions[0].min_polls: count \"99999999999999999999999\" is too large");
	load_err(W "  - {load: w, max_errors: 0x10}\n",
		 "4:27: assertions[0].max_errors: a count is a plain whole number like 0 or 10 (no unit), got \"0x10\"");
	/* percentages, rates */
	load_err(W "  - load: w\n    max_error_rate: 150%\n",
		 "5:21: assertions[0].max_error_rate: an error rate cannot be more than 100%, got \"150%\"");
	load_err(W "  - load: w\n    max_error_rate: 5\n",
		 "5:21: assertions[0].max_error_rate: a percentage needs a % sign, got \"5\" (write 5%)");
	load_err(A "  - max_poll_regression: -5%\n",
		 "3:26: assertions[0].max_poll_regression: a percentage cannot be negative, got \"-5%\"");
	load_err(W "  - load: w\n    min_throughput: 100\n",
		 "5:21: assertions[0].min_throughput: a rate needs a unit (/s or /m), got \"100\" (write 100/s)");
	load_err(W "  - load: w\n    min_throughput: 0/s\n",
		 "5:21: assertions[0].min_throughput: a rate must be more than 0, got \"0/s\"");
	/* mode, allow_missing, selectors */
	load_err(A "  - mode: bogus\n    max_poll: 1ms\n",
		 "3:11: assertions[0].mode: expected warn (report failures without failing the run) or fail, got \"bogus\"");
	load_err(A "  - allow_missing: \"maybe\"\n    max_poll: 1ms\n",
		 "3:20: assertions[0].allow_missing: expected true or false, got \"maybe\"");
	load_err(A "  - allow_missing:\n", "3:19: assertions[0].allow_missing: expected true or false, got nothing");
	load_err(A "  - task: \"\"\n    max_poll: 1ms\n", "3:11: assertions[0].task: must not be empty");
	load_err(A "  - function: [a]\n    max_poll: 1ms\n",
		 "3:15: assertions[0].function: expected a function name or glob like \"demo_server::compute_hash\", got a list");
	load_err(A "  - load:\n", "3:10: assertions[0].load: expected a load step name like \"warmup\", got nothing");
}

static void test_err_assertion_shape(void **state)
{
	load_err(A "  - task: a\n    function: b\n    max_poll: 1ms\n",
		 "4:5: assertions[0].function: an entry has at most one selector, but this one has both task (line 3) and function (split it into two entries)");
	load_err(W "  - {max_errors: 1, load: w, task: t}\n",
		 "4:30: assertions[0].task: an entry has at most one selector, but this one has both load (line 4) and task (split it into two entries)");
	load_err(A "  - task: a\n    p99_latency: 5ms\n",
		 "4:5: assertions[0].p99_latency: p99_latency measures a load step: put it in an entry that selects one with load: NAME");
	load_err(A "  - max_errors: 0\n",
		 "3:5: assertions[0].max_errors: max_errors measures a load step: put it in an entry that selects one with load: NAME");
	load_err(W "  - load: w\n    p99_latency: 5ms\n    max_poll: 1ms\n",
		 "6:5: assertions[0].max_poll: max_poll measures task polls, not a load step: put it in an entry with task: or no selector");
	load_err(A "  - function: f\n    max_poll_regression: 10%\n",
		 "4:5: assertions[0].max_poll_regression: max_poll_regression compares tasks with the baseline, not functions: put it in an entry with task: or no selector");
	load_err(A "  - {max_worker_busy: 80%, task: t}\n",
		 "3:6: assertions[0].max_worker_busy: max_worker_busy is a worker thread's busy share, not a task's or a step's: put it in an entry with no selector");
	load_err(A "  - {max_worker_busy: 101%}\n",
		 "3:23: assertions[0].max_worker_busy: a busy share cannot be more than 100%, got \"101%\"");
	load_err(A "  - {p99_scheduling_delay: 1ms, function: f}\n",
		 "3:6: assertions[0].p99_scheduling_delay: p99_scheduling_delay is a task's time from wake to poll, not a function's: put it in an entry with task: or no selector");
	/* the first misplaced limit in the document */
	load_err(A "  - function: f\n    max_poll: 1ms\n    max_errors: 1\n    max_scheduling_delay: 1ms\n",
		 "5:5: assertions[0].max_errors: max_errors measures a load step: put it in an entry that selects one with load: NAME");
	load_err(A "  - max_pol: 5ms\n",
		 "3:5: assertions[0]: unknown key \"max_pol\" (expected one of: task, function, load, allow_missing, mode, " ALL_KEYS ", " LOAD_LIMITS ")");
	load_err(A "  - max_poll: 5ms\n    max_poll: 6ms\n",
		 "4:5: assertions[0].max_poll: duplicate key (first given on line 3)");
	load_err(A "  - {}\n", "3:5: assertions[0]: an assertion needs at least one limit: " NOSEL_LIMITS);
	load_err(A "  - max_poll: 1ms\n  - task: \"a*\"\n    allow_missing: true\n",
		 "4:5: assertions[1]: an assertion needs at least one limit: max_poll, p50_poll, p90_poll, "
		 "p99_poll, p999_poll, max_blocking_spans, max_blocking_time, min_polls, max_poll_regression, "
		 "max_scheduling_delay, p99_scheduling_delay, max_delayed_tasks"); /* the heap limits take no task: selector */
	load_err(A "  - function: f\n",
		 "3:5: assertions[0]: an assertion needs at least one limit: max_poll, p50_poll, p90_poll, p99_poll, p999_poll, max_blocking_spans, max_blocking_time, min_polls, max_cpu_share, max_delayed_tasks, max_heap_growth, max_alloc_rate");
	load_err(W "  - load: w\n    mode: warn\n", "4:5: assertions[0]: an assertion needs at least one limit: " LOAD_LIMITS);
	load_err(A "  -\n", "3:4: assertions[0]: expected an assertion (a mapping like {max_poll: 50ms}), got nothing");
	load_err(A "  - max_poll\n",
		 "3:5: assertions[0]: expected an assertion (a mapping like {max_poll: 50ms}), got \"max_poll\"");
	load_err("target: {command: [x]}\nassertions: {max_poll: 1ms}\n",
		 "2:13: assertions: expected a list of assertions, got a mapping");
}

static void test_err_load_selector(void **state)
{
	load_err("target: {command: [x]}\nload:\n  - {name: warmup, sleep: 1s}\n  - sleep: 2s\n"
		 "assertions:\n  - load: warmpu\n    max_errors: 0\n",
		 "6:11: assertions[0].load: no load step is named \"warmpu\" (the steps are \"warmup\", \"sleep #2\")");
	load_err("target: {command: [x]}\nload:\n  - {name: warmup, sleep: 1s}\n  - parallel: [{sleep: 2s}]\n"
		 "assertions:\n  - {max_errors: 0, load: \"warm*x\"}\n",
		 "6:27: assertions[0].load: no load step name matches \"warm*x\" (the steps are \"warmup\", \"parallel #2\", \"sleep #3\")");
	/* before load in the file; a hostile name, escaped */
	load_err("assertions:\n  - load: \"a\\n\\\"<&>\"\n    max_errors: 0\ntarget: {command: [x]}\n"
		 "load: [{name: \"b,\\\"c\", sleep: 1s}]\n",
		 "2:11: assertions[0].load: no load step is named \"a\\n\\\"<&>\" (the steps are \"b,\\\"c\")");
	load_err("target: {command: [x]}\nassertions:\n  - {load: w, max_errors: 0}\n",
		 "3:12: assertions[0].load: no load step is named \"w\" (the spec has no load steps)");
	/* many steps: the list is cut short */
	char text[4096];
	size_t o = (size_t)sprintf(text, "target: {command: [x]}\nload:\n");
	for (int i = 0; i < 40; i++)
		o += (size_t)sprintf(text + o, "  - {name: step-number-%02d, sleep: 1s}\n", i);
	sprintf(text + o, "assertions:\n  - {load: nope, max_errors: 0}\n");
	load_err(text, "44:12: assertions[0].load: no load step is named \"nope\" (the steps are "
		       "\"step-number-00\", \"step-number-01\", \"step-number-02\", \"step-number-03\", "
		       "\"step-number-04\", \"step-number-05\", \"step-number-06\", \"step-number-07\" and 32 more)");
}

static void test_err_allow(void **state)
{
	load_err("target: {command: [x]}\nallow:\n  - function: \"ring::*\"\n",
		 "3:5: allow[0].reason: required field is missing: say why this blocking is acceptable (it is carried into every report)");
	load_err("target: {command: [x]}\nallow:\n  - function: \"ring::*\"\n    reason: \"\"\n",
		 "4:13: allow[0].reason: must not be empty: say why this blocking is acceptable (it is carried into every report)");
	load_err("target: {command: [x]}\nallow:\n  - {function: a, reason: b}\n  - reason: bounded\n",
		 "4:5: allow[1].function: required field is missing (a glob on function names like \"ring::pbkdf2::*\")");
	load_err("target: {command: [x]}\nallow:\n  - function: \"\"\n    reason: r\n",
		 "3:15: allow[0].function: must not be empty");
	load_err("target: {command: [x]}\nallow:\n  - function: a\n    reason: r\n    why: x\n",
		 "5:5: allow[0]: unknown key \"why\" (expected one of: function, reason)");
	load_err("target: {command: [x]}\nallow:\n  - \"ring::*\"\n",
		 "3:5: allow[0]: expected an allowed function (a mapping like {function: \"ring::*\", reason: \"...\"}), got \"ring::*\"");
	load_err("target: {command: [x]}\nallow: {function: a, reason: b}\n",
		 "2:8: allow: expected a list of allowed functions, got a mapping");
	load_err("target: {command: [x]}\nallow:\n  - {function: a, reason: [b]}\n",
		 "3:27: allow[0].reason: expected a string saying why this blocking is acceptable, got a list");
}

#undef A
#undef W

/* ------------------------------------------------------------- robustness */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void load_any(const char *text, size_t len)
{
	struct tg_spec s;
	char err[512], path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/fuzz.yaml", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	err[0] = '\0';
	int rc = tg_spec_load(path, &s, err, sizeof err);
	if (rc == 0) {
		assert_non_null(s.target.argv);
		assert_non_null(s.target.argv[0]);
		assert_non_null(s.name);
		assert_non_null(s.target.cwd);
		for (size_t i = 0; i < s.nsteps; i++)
			assert_non_null(s.steps[i].name);
		for (size_t i = 0; i < s.nallow; i++) {
			assert_true(s.allow[i].function && *s.allow[i].function);
			assert_true(s.allow[i].reason && *s.allow[i].reason);
		}
		assert_true(s.has_assertions || !s.nassertions);
		for (size_t i = 0; i < s.nassertions; i++) {
			const struct tg_assertion *a = &s.assertions[i];
			assert_true(a->nlimits >= 1);
			assert_int_equal(a->sel == TG_SEL_ALL, a->pattern == NULL);
			for (size_t j = 0; j < a->nlimits; j++) {
				assert_non_null(a->limits[j].text);
				assert_true(a->limits[j].line >= 1 && a->limits[j].column >= 1);
				assert_int_equal(tg_limit_is_load(a->limits[j].kind), a->sel == TG_SEL_LOAD);
			}
		}
		tg_spec_free(&s);
	} else {
		if (rc != -EINVAL)
			print_error("rc %d for:\n%.*s\n", rc, (int)len, text);
		assert_int_equal(rc, -EINVAL);
		assert_true(strncmp(err, path, strlen(path)) == 0);
		assert_non_null(strchr(err, ':'));
		for (const char *p = err; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
		assert_null(s.path);
	}
	unlink(path);
}

/* ITERS random edits of BASE: replace, insert, delete, random bytes, duplicated chunks. */
static void load_mutations(const char *base, size_t len, int iters)
{
	static const char extra[] = ":-[]{},&*!|>'\"#%@` \n\t\\?0123456789xsm~";
	char *buf = malloc(2 * len + 64);
	assert_non_null(buf);

	/* every truncation */
	for (size_t cut = 0; cut <= len; cut += 3)
		load_any(base, cut);

	for (int iter = 0; iter < iters; iter++) {
		size_t n = len;
		memcpy(buf, base, len);
		int edits = 1 + (int)(rng() % 4);
		for (int e = 0; e < edits; e++) {
			size_t at = n ? rng() % n : 0;
			switch (rng() % 5) {
			case 0: /* replace with a YAML-significant character */
				if (n)
					buf[at] = extra[rng() % (sizeof extra - 1)];
				break;
			case 1: /* insert */
				if (n < 2 * len) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = extra[rng() % (sizeof extra - 1)];
					n++;
				}
				break;
			case 2: { /* delete a run */
				size_t k = 1 + rng() % 8;
				if (at + k > n)
					k = n - at;
				memmove(buf + at, buf + at + k, n - at - k);
				n -= k;
				break;
			}
			case 3: /* random byte, including NUL and high bytes */
				if (n)
					buf[at] = (char)(rng() & 0xff);
				break;
			case 4: { /* duplicate a chunk */
				size_t k = 1 + rng() % 24;
				if (at + k > n)
					k = n - at;
				if (n + k <= 2 * len) {
					memmove(buf + at + k, buf + at, n - at);
					n += k;
				}
				break;
			}
			}
		}
		load_any(buf, n);
	}
	free(buf);
}

static void test_robustness(void **state)
{
	load_mutations(full_spec, sizeof full_spec - 1, 400);
	load_mutations(assert_spec, sizeof assert_spec - 1, 300);

	/* pathological shapes: deep nesting, many aliases, long lines, huge numbers */
	size_t big = 200000;
	char *p = malloc(big + 64);
	assert_non_null(p);
	size_t o = (size_t)sprintf(p, "target: {command: ");
	for (size_t i = 0; i < 20000; i++)
		p[o++] = '[';
	load_any(p, o);
	o = (size_t)sprintf(p, "target: {command: [x]}\nload:\n  - &s {sleep: 1s}\n");
	while (o + 16 < big)
		o += (size_t)sprintf(p + o, "  - *s\n");
	load_any(p, o); /* duplicate default names "sleep #n" are distinct: this is valid */
	o = (size_t)sprintf(p, "target: {command: [x]}\nname: ");
	memset(p + o, 'n', big - o);
	load_any(p, big);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_profile_keys),
		cmocka_unit_test(test_full_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_step_names_and_kinds),
		cmocka_unit_test(test_ready_and_stop_forms),
		cmocka_unit_test(test_anchors_and_aliases),
		cmocka_unit_test(test_split_command),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_parse_signal),
		cmocka_unit_test(test_err_yaml_syntax),
		cmocka_unit_test(test_err_many),
		cmocka_unit_test(test_err_many_file),
		cmocka_unit_test(test_err_tab),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_wrong_type),
		cmocka_unit_test(test_ring_buffer),
		cmocka_unit_test(test_scheduling_delay_key),
		cmocka_unit_test(test_unwind_keys),
		cmocka_unit_test(test_err_duration),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_ready),
		cmocka_unit_test(test_err_signal),
		cmocka_unit_test(test_err_step),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_command_string),
		cmocka_unit_test(test_err_one_line),
		cmocka_unit_test(test_err_limits),
		cmocka_unit_test(test_more_forms),
		cmocka_unit_test(test_parse_rate),
		cmocka_unit_test(test_parse_percent),
		cmocka_unit_test(test_err_rate),
		cmocka_unit_test(test_err_duration_or_requests),
		cmocka_unit_test(test_err_concurrency),
		cmocka_unit_test(test_err_key_of_other_kind),
		cmocka_unit_test(test_err_url),
		cmocka_unit_test(test_err_regex),
		cmocka_unit_test(test_err_body),
		cmocka_unit_test(test_err_expect_status),
		cmocka_unit_test(test_err_http_fields),
		cmocka_unit_test(test_err_tcp),
		cmocka_unit_test(test_err_addr),
		cmocka_unit_test(test_err_parallel),
		cmocka_unit_test(test_err_parallel_depth),
		cmocka_unit_test(test_err_duplicate_names_children),
		cmocka_unit_test(test_err_user),
		cmocka_unit_test(test_err_file),
		cmocka_unit_test(test_assertions_valid),
		cmocka_unit_test(test_assertions_absent_or_empty),
		cmocka_unit_test(test_limit_kinds),
		cmocka_unit_test(test_err_assertion_values),
		cmocka_unit_test(test_err_assertion_shape),
		cmocka_unit_test(test_err_load_selector),
		cmocka_unit_test(test_err_allow),
		cmocka_unit_test(test_robustness),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
