/* Unit tests of the spec parser (runner/spec.c): values, defaults, durations,
 * command splitting, and the exact position and field path of every class of error. */
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

static const char full_spec[] =
	"version: 1\n"
	"name: demo\n"
	"target:\n"
	"  command: [\"./target/release/demo-server\", \"--port\", \"3000\"]\n"
	"  cwd: sub/dir/\n"
	"  env: { RUST_LOG: warn, THREADS: 4, EMPTY: \"\" }\n"
	"  ready:\n"
	"    tcp: 127.0.0.1:3000\n"
	"    timeout: 10s\n"
	"  stop:\n"
	"    signal: SIGINT\n"
	"    grace: 1.5s\n"
	"probe:\n"
	"  blocking_threshold: 5ms\n"
	"  sample_rate: 0\n"
	"  stack_depth: 127\n"
	"load:\n"
	"  - name: warmup\n"
	"    exec: [\"redis-benchmark\", \"-p\", \"6379\", \"-q\"]\n"
	"    timeout: 60s\n"
	"  - sleep: 250ms\n"
	"  - exec: ./scripts/slow.sh 'two words' --x=\"a b\"\n"
	"report:\n"
	"  dir: out\n"
	"  junit: j.xml\n"
	"  trace: t.json\n"
	"  results: r.json\n"
	"  trace_min_poll: 1ms\n";

static void test_full_valid(void **state)
{
	struct tg_spec s;
	char want[PATH_MAX + 32];
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
	assert_int_equal(s.target.ready.kind, TG_READY_TCP);
	assert_string_equal(s.target.ready.tcp_host, "127.0.0.1");
	assert_string_equal(s.target.ready.tcp_port, "3000");
	assert_int_equal(s.target.ready.timeout_ns, 10 * S);
	assert_int_equal(s.target.stop.signal, SIGINT);
	assert_int_equal(s.target.stop.grace_ns, 1500 * MS);
	assert_int_equal(s.probe.blocking_threshold_ns, 5 * MS);
	assert_int_equal(s.probe.sample_rate, 0);
	assert_int_equal(s.probe.stack_depth, 127);

	assert_int_equal(s.nsteps, 3);
	assert_string_equal(s.steps[0].name, "warmup");
	assert_int_equal(s.steps[0].kind, TG_STEP_EXEC);
	assert_string_equal(s.steps[0].argv[0], "redis-benchmark");
	assert_string_equal(s.steps[0].argv[3], "-q");
	assert_null(s.steps[0].argv[4]);
	assert_int_equal(s.steps[0].timeout_ns, 60 * S);
	assert_int_equal(s.steps[0].line, 18);
	assert_int_equal(s.steps[0].column, 5);
	assert_string_equal(s.steps[1].name, "sleep #2");
	assert_int_equal(s.steps[1].kind, TG_STEP_SLEEP);
	assert_int_equal(s.steps[1].sleep_ns, 250 * MS);
	assert_null(s.steps[1].argv);
	assert_int_equal(s.steps[1].line, 21);
	assert_string_equal(s.steps[2].name, "exec #3");
	assert_string_equal(s.steps[2].argv[0], "./scripts/slow.sh");
	assert_string_equal(s.steps[2].argv[1], "two words");
	assert_string_equal(s.steps[2].argv[2], "--x=a b");
	assert_null(s.steps[2].argv[3]);
	assert_int_equal(s.steps[2].timeout_ns, 5 * 60 * S);

	assert_string_equal(s.report.dir, "out");
	assert_string_equal(s.report.junit, "j.xml");
	assert_string_equal(s.report.trace, "t.json");
	assert_string_equal(s.report.results, "r.json");
	assert_int_equal(s.report.trace_min_poll_ns, 1 * MS);
	tg_spec_free(&s);
	assert_null(s.path);
	tg_spec_free(&s); /* twice is fine */
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
	load_err("target:\n\tcommand: x\n", "2:1: invalid YAML: found character that cannot start any token (while scanning for the next token at line 2, column 1)");
	load_err("target: {command: *nope}\n", "1:19: invalid YAML: found undefined alias");
	load_err("name: a\x01\n", "1:8: invalid YAML: control characters are not allowed (byte 0x01)");
	load_err("name: \xff\n", "1:7: invalid YAML: invalid leading UTF-8 octet (byte 0xff)");
	load_err("target: {command: [x]}\n---\nname: two\n",
		 "2:1: a spec is one YAML document, but a second one starts here");
}

static void test_err_unknown_key(void **state)
{
	load_err("target: {command: [x]}\nfoo: 1\n",
		 "2:1: unknown key \"foo\" (expected one of: version, name, target, probe, load, report)");
	load_err("target:\n  command: [x]\n  ready:\n    tcp: a:1\n    timout: 5s\n",
		 "5:5: target.ready: unknown key \"timout\" (expected one of: tcp, delay, timeout)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n    sleeep: 2s\n",
		 "4:5: load[0]: unknown key \"sleeep\" (expected one of: name, exec, sleep, timeout)");
	load_err("target: {command: [x]}\nprobe: {\"bad\\nkey\": 1}\n",
		 "2:9: probe: unknown key \"bad\\nkey\" (expected one of: blocking_threshold, sample_rate, stack_depth)");
	load_err("base: &b {command: [x]}\n",
		 "1:1: unknown key \"base\" (expected one of: version, name, target, probe, load, report)");
	load_err("target:\n  <<: {command: [x]}\n",
		 "2:3: target: unknown key \"<<\" (YAML merge keys are not supported; expected one of: command, cwd, env, ready, stop)");
	load_err("target:\n  [command]: x\n", "2:3: target: expected a key name, got a list");
}

static void test_err_not_supported_yet(void **state)
{
	load_err("target: {command: [x]}\nload:\n  - http: {url: \"http://127.0.0.1/\"}\n    rate: 10/s\n",
		 "3:5: load[0].http: not supported yet by this version of tokio-guard");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - name: a\n    concurrency: 4\n",
		 "5:5: load[1].concurrency: not supported yet by this version of tokio-guard");
	load_err("target:\n  command: [x]\n  user: runner\n",
		 "3:3: target.user: not supported yet by this version of tokio-guard");
	load_err("target:\n  command: [x]\n  ready: {http: \"http://x/\"}\n",
		 "3:11: target.ready.http: not supported yet by this version of tokio-guard");
	load_err("target:\n  command: [x]\n  ready:\n    log: listening\n",
		 "4:5: target.ready.log: not supported yet by this version of tokio-guard");
	load_err("target: {command: [x]}\nassertions:\n  - max_poll: 50ms\n",
		 "2:1: assertions: not supported yet by this version of tokio-guard");
	load_err("allow: []\ntarget: {command: [x]}\n",
		 "1:1: allow: not supported yet by this version of tokio-guard");
	load_err("target: {command: [x]}\nload:\n  - parallel: []\n",
		 "3:5: load[0].parallel: not supported yet by this version of tokio-guard");
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
		 "4:5: target.ready: expected exactly one of: tcp, delay");
	load_err("target:\n  command: [x]\n  ready:\n",
		 "3:9: target.ready: expected exactly one of: tcp, delay");
	load_err("target:\n  command: [x]\n  ready:\n    tcp: 127.0.0.1:3000\n    delay: 1s\n",
		 "5:5: target.ready.delay: only one of tcp, delay can be given (\"tcp\" is on line 4)");
	load_err("target:\n  command: [x]\n  ready:\n    delay: 1s\n    tcp: 127.0.0.1:3000\n",
		 "5:5: target.ready.tcp: only one of tcp, delay can be given (\"delay\" is on line 4)");
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
		 "4:5: load[0].sleep: only one of exec, sleep can be given (\"exec\" is on line 3)");
	load_err("target: {command: [x]}\nload:\n  - sleep: 1s\n  - name: nothing\n",
		 "4:5: load[1]: expected exactly one of: exec, sleep");
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

static void test_robustness(void **state)
{
	static const char extra[] = ":-[]{},&*!|>'\"#%@` \n\t\\?0123456789xsm~";
	size_t len = sizeof full_spec - 1;
	char *buf = malloc(2 * len + 64);
	assert_non_null(buf);

	/* every truncation */
	for (size_t cut = 0; cut <= len; cut += 3)
		load_any(full_spec, cut);

	/* random edits: replace, insert, delete, swap lines */
	for (int iter = 0; iter < 400; iter++) {
		size_t n = len;
		memcpy(buf, full_spec, len);
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
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_not_supported_yet),
		cmocka_unit_test(test_err_wrong_type),
		cmocka_unit_test(test_err_duration),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_ready),
		cmocka_unit_test(test_err_signal),
		cmocka_unit_test(test_err_step),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_command_string),
		cmocka_unit_test(test_err_one_line),
		cmocka_unit_test(test_err_limits),
		cmocka_unit_test(test_err_file),
		cmocka_unit_test(test_robustness),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
