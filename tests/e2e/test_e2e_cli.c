/* End-to-end: the real tokio-guard binary's command line. Usage, help and
 * `check` need no root; the --quiet case runs the blocking-server example
 * under real probes (root; skipped otherwise) and reads what stderr said. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e_util.h"

#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"

static char dir[64];
static char out_path[96], err_path[96];

struct cli {
	int status;
	char *out, *err;
};

/* Runs tokio-guard with ARGS (NULL-terminated), stdout and stderr kept. */
static struct cli run(const char *const *args)
{
	struct e2e_io io = { .out_path = out_path, .err_path = err_path };
	struct cli r = { .status = e2e_run(TG_EXE, args, &io) };

	r.out = tg_test_read(out_path, NULL);
	r.err = tg_test_read(err_path, NULL);
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

static void cli_free(struct cli *r)
{
	free(r->out);
	free(r->err);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every line of TEXT that is not the usage synopsis starts with one
 * "tokio-guard: " and never repeats it. Returns how many such lines. */
static size_t error_lines(const char *text)
{
	size_t n = 0;

	for (const char *l = text; *l;) {
		size_t len = strcspn(l, "\n");
		char *line = strndup(l, len);

		assert_non_null(line);
		if (strncmp(line, "usage: ", 7) && strncmp(line, "       ", 7)) {
			if (strncmp(line, "tokio-guard: ", 13))
				fail_msg("line without the prefix: %s", line);
			if (strstr(line + 13, "tokio-guard: "))
				fail_msg("doubled prefix: %s", line);
			n++;
		}
		free(line);
		l += len + (l[len] == '\n');
	}
	return n;
}

static void write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	assert_true(tg_test_write(path, text));
}

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/tg-e2e-cli-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(out_path, sizeof out_path, "%s/stdout", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	return 0;
}

static int teardown(void **state)
{
	return tg_test_rm_rf(dir) ? 0 : -1;
}

/* help, --help and -h, alone or after a command: the usage on stdout, exit 0 */
static void test_help(void **state)
{
	static const char *const forms[][4] = {
		{ "--help" }, { "-h" }, { "help" }, { "help", "run" }, { "help", "check" },
		{ "check", "--help" }, { "check", "spec.yaml", "-h" }, { "run", "--help" },
		{ "run", "spec.yaml", "--help" }, { "run", "--quiet", "-h" },
	};

	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct cli r = run(forms[i]);

		if (r.status != 0 || !strstr(r.out, "usage: tokio-guard run SPEC.yaml"))
			fail_msg("%s %s: exit %d, stdout:\n%s\nstderr:\n%s", forms[i][0],
				 forms[i][1] ? forms[i][1] : "", r.status, r.out, r.err);
		assert_non_null(strstr(r.out, "exit codes:"));
		assert_string_equal(r.err, "");
		cli_free(&r);
	}
}

/* bad usage: exit 2, one prefixed line saying what was wrong, then the synopsis */
static void test_bad_usage(void **state)
{
	static const struct {
		const char *args[4];
		const char *says;
	} bad[] = {
		{ { NULL }, "tokio-guard: no command given" },
		{ { "frob" }, "tokio-guard: unknown command 'frob'" },
		{ { "help", "frob" }, "tokio-guard: help: unknown command 'frob'" },
		{ { "run" }, "tokio-guard: run needs a SPEC.yaml" },
		{ { "run", "a.yaml", "b.yaml" }, "tokio-guard: run takes one SPEC.yaml" },
		{ { "run", "--bogus", "a.yaml" }, "tokio-guard: run: unknown option '--bogus'" },
		{ { "run", "-x", "a.yaml" }, "tokio-guard: run: unknown option '-x'" },
		{ { "run", "a.yaml", "--out-dir" }, "tokio-guard: run: --out-dir needs a value" },
		{ { "check" }, "tokio-guard: check needs a SPEC.yaml" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cli r = run(bad[i].args);

		if (r.status != 2 || strncmp(r.err, bad[i].says, strlen(bad[i].says)))
			fail_msg("want exit 2 and \"%s...\", got exit %d, stderr:\n%s", bad[i].says,
				 r.status, r.err);
		assert_int_equal(error_lines(r.err), 1);
		assert_non_null(strstr(r.err, "\nusage: tokio-guard run SPEC.yaml"));
		assert_string_equal(r.out, "");
		cli_free(&r);
	}
}

/* check and run: four mistakes, four lines at their positions, and a count; exit 2 */
static void test_check_many(void **state)
{
	char spec[1024], want[1280];
	const char *args[] = { "check", spec, NULL };
	static const char *const at[] = {
		":4:41: target.ready.timeout: a duration needs a unit",
		":7:3: probe: unknown key \"sampel_rate\"",
		":10:5: load[1]: unknown key \"sleeep\"",
		":12:15: assertions[0].max_poll: expected a duration like 250ms, got \"fast\"",
	};

	/* the spec test_spec's test_err_many parses (all messages in full there) */
	snprintf(spec, sizeof spec, "%s", TG_SOURCE_DIR "/tests/common/specs/four-mistakes.yaml");
	/* run says them the same way, before it starts anything */
	struct cli r;
	for (int c = 0; c < 2; c++) {
		args[0] = c ? "run" : "check";
		r = run(args);
		assert_int_equal(r.status, 2);
		assert_int_equal(error_lines(r.err), 5);
		for (size_t i = 0; i < 4; i++) {
			snprintf(want, sizeof want, "tokio-guard: %s%s", spec, at[i]);
			if (!strstr(r.err, want))
				fail_msg("%s: no \"%s\" in:\n%s", args[0], want, r.err);
		}
		snprintf(want, sizeof want, "tokio-guard: %s: 4 errors\n", spec);
		assert_non_null(strstr(r.err, want));
		cli_free(&r);
	}
	args[0] = "check";

	/* 30 wrong keys: 20 lines, and a last line saying there were more */
	char text[2048];
	size_t o = (size_t)snprintf(text, sizeof text, "target: {command: [x]}\nprobe:\n");
	for (int i = 0; i < 30; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, "  k%02d: 1\n", i);
	write_file("thirty.yaml", text, spec, sizeof spec);
	r = run(args);
	assert_int_equal(r.status, 2);
	assert_int_equal(error_lines(r.err), 21);
	assert_int_equal(count(r.err, "unknown key"), 20);
	assert_non_null(strstr(r.err, "more than 20 errors"));
	cli_free(&r);

	/* a valid spec: ok on stdout, exit 0 */
	write_file("ok.yaml", "target: {command: [x]}\n", spec, sizeof spec);
	r = run(args);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ": ok ("));
	assert_string_equal(r.err, "");
	cli_free(&r);
}

/* check: a tab in indentation is named as one, at the tab */
static void test_check_tab(void **state)
{
	char spec[128], want[256];
	const char *args[] = { "check", spec, NULL };

	write_file("tab.yaml", "target:\n  command: [x]\n  \tcwd: /\n", spec, sizeof spec);
	struct cli r = run(args);
	assert_int_equal(r.status, 2);
	assert_int_equal(error_lines(r.err), 2);
	snprintf(want, sizeof want,
		 "tokio-guard: %s:3:3: tab character in indentation: YAML indents with spaces\n", spec);
	if (strncmp(r.err, want, strlen(want)))
		fail_msg("want \"%s\", got:\n%s", want, r.err);
	cli_free(&r);
}

/* --quiet: no progress, no target or exec echo; the verdict and the failed
 * check still print. The same run without --quiet shows what was silenced,
 * so the absences below are not vacuous. */
static void test_quiet(void **state)
{
	char spec[128], out[128], *text;
	const char *quiet[] = { "run", spec, "--out-dir", out, "--quiet", NULL };
	const char *loud[] = { "run", spec, "--out-dir", out, NULL };
	int port = e2e_free_port();

	E2E_SKIP_UNLESS(geteuid() == 0 && access(SERVER, X_OK) == 0,
			"needs root and the built blocking-server example");
	/* a 40 ms busy loop in a task: max_blocking_spans: 0 fails (the example's /cpu
	 * handler spins for ms= on the worker thread) */
	assert_true(asprintf(&text,
		"version: 1\n"
		"name: quiet-e2e\n"
		"target:\n"
		"  command: [\"%s\", \"--port\", \"%d\"]\n"
		"  ready: { tcp: \"127.0.0.1:%d\", timeout: 20s }\n"
		"probe:\n"
		"  blocking_threshold: 3ms\n"
		"load:\n"
		"  - name: blocker\n"
		"    exec: [\"curl\", \"-sS\", \"-w\", \"exec-said-%%{http_code}\\n\", \"-o\", \"/dev/null\",\n"
		"           \"http://127.0.0.1:%d/cpu?ms=40\"]\n"
		"    timeout: 60s\n"
		"assertions:\n"
		"  - max_blocking_spans: 0\n",
		SERVER, port, port, port) > 0);
	write_file("quiet.yaml", text, spec, sizeof spec);
	free(text);
	snprintf(out, sizeof out, "%s/out", dir);

	struct cli r = run(loud);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "target| listening on"));
	assert_non_null(strstr(r.err, "exec-said-200"));
	assert_non_null(strstr(r.err, "tokio-guard: load step 1/1: blocker"));
	assert_non_null(strstr(r.err, "probes attached"));
	cli_free(&r);

	r = run(quiet);
	if (r.status != 1)
		fail_msg("exit %d, stderr:\n%s", r.status, r.err);
	assert_non_null(strstr(r.err, "FAIL tokio-guard: quiet-e2e: "));
	assert_non_null(strstr(r.err, " passed, 1 failed, "));
	assert_non_null(strstr(r.err, "  failed max_blocking_spans"));
	assert_non_null(strstr(r.err, "blocking_server::cpu_task"));
	assert_null(strstr(r.err, "target| "));
	assert_null(strstr(r.err, "exec-said-"));
	assert_null(strstr(r.err, "load step"));
	assert_null(strstr(r.err, "probes attached"));
	assert_null(strstr(r.err, "step 1/1"));
	cli_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_check_many),
		cmocka_unit_test(test_check_tab),
		cmocka_unit_test(test_quiet),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
