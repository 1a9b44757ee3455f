/* End-to-end: `tokio-guard report` and `tokio-guard diff` on real runs. The
 * blocking-server example runs once under a failing spec; `report` on its
 * results.json gives the run's exit code and the same statuses, observed
 * values and messages; an edited spec (thresholds loosened, failing
 * assertions removed) changes the verdict as it should; `report` works as
 * nobody (no root, no capabilities) on a copy; and `diff` against a run with
 * fewer blocking requests lists the gone culprit and counts the spans as the
 * server's own log does. Real eBPF, real HTTP. Needs root for the runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"

#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"
#define NOBODY 65534

static char dir[] = "/tmp/tg-e2e-report-cmd-XXXXXX";
static bool ready;
static int run_a_status, run_b_status;

/* The same server and assertions; the load differs: B sends fewer blocking requests. */
static void write_spec(const char *name, int port, int sleeps, int mutexes, const char *assertions)
{
	char path[256], *text;
	char mutex[256] = "";

	if (mutexes)
		snprintf(mutex, sizeof(mutex),
			 "  - name: mutex\n    http: { url: \"http://127.0.0.1:%d/mutex?ms=20\" }\n"
			 "    requests: %d\n", port, mutexes);
	assert_true(asprintf(&text,
		"version: 1\nname: report-cmd\n"
		"target:\n"
		"  command: [\"%s\", \"--port\", \"%d\", \"--workers\", \"2\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/%s.log\" }\n"
		"  ready: { tcp: \"127.0.0.1:%d\", timeout: 10s }\n"
		"probe: { blocking_threshold: 10ms }\n"
		"load:\n"
		"  - name: warmup\n    http: { url: \"http://127.0.0.1:%d/hello\" }\n    requests: 50\n"
		"  - name: cpu\n    http: { url: \"http://127.0.0.1:%d/cpu?ms=20\" }\n    requests: 2\n"
		"  - name: sleep\n    http: { url: \"http://127.0.0.1:%d/sleep?ms=20\" }\n    requests: %d\n"
		"%s"
		"assertions:\n%s",
		SERVER, port, dir, name, port, port, port, port, sleeps, mutex, assertions) > 0);
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	assert_true(tg_test_write(path, text));
	free(text);
}

static const char failing[] =
	"  - max_poll: 10ms\n"
	"  - task: \"blocking_server::cpu_task\"\n    max_poll: 10ms\n"
	"  - function: \"blocking_kinds::sleepy\"\n    max_blocking_spans: 0\n"
	"  - max_blocking_spans: 0\n"
	"  - load: warmup\n    max_error_rate: 0%\n";

/* The same assertions, loosened: the same checks' names change only in their limits. */
static const char loosened[] =
	"  - max_poll: 10s\n"
	"  - task: \"blocking_server::cpu_task\"\n    max_poll: 10s\n"
	"  - max_blocking_spans: 1000\n"
	"  - load: warmup\n    max_error_rate: 0%\n";

/* Only the blocking spans still fail. */
static const char partly[] =
	"  - max_poll: 10s\n"
	"  - max_blocking_spans: 0\n";

static int tg(const char *const *args, const char *err_name)
{
	char err[256];
	struct e2e_io io = { .err_path = err };

	snprintf(err, sizeof(err), "%s/%s", dir, err_name);
	return e2e_run(TG_EXE, args, &io);
}

static int run_spec(const char *name)
{
	char spec[256], out[256];
	const char *args[] = { "run", spec, "--out-dir", out, "--quiet", NULL };

	snprintf(spec, sizeof(spec), "%s/%s.yaml", dir, name);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	return tg(args, "run.err");
}

static cJSON *read_json(const char *fmt, const char *a)
{
	char path[256], *text;
	cJSON *j;

	snprintf(path, sizeof(path), fmt, dir, a);
	text = tg_test_read(path, NULL);
	if (!text)
		fail_msg("cannot read %s", path);
	j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(s) ? s->valuestring : "";
}

static const cJSON *check(const cJSON *results, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(results, "assertions"))
		if (!strcmp(str(c, "name"), name))
			return c;
	return NULL;
}

/* Every check of A is in B with the same status, observed value and message. */
static void same_checks(const cJSON *a, const cJSON *b)
{
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a, "assertions"), *c;

	assert_int_equal(cJSON_GetArraySize(ca),
			 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "assertions")));
	assert_true(cJSON_GetArraySize(ca) >= 5);
	cJSON_ArrayForEach(c, ca) {
		const cJSON *d = check(b, str(c, "name"));

		if (!d)
			fail_msg("check %s is missing", str(c, "name"));
		assert_string_equal(str(c, "status"), str(d, "status"));
		assert_string_equal(str(c, "observed"), str(d, "observed"));
		assert_string_equal(str(c, "message"), str(d, "message"));
	}
}

/* Lines "kind=KIND ..." in the server's own log NAME.log: its blocking sections. */
static int logged(const char *name, const char *kind)
{
	char path[256], key[64], *text, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	snprintf(key, sizeof(key), "kind=%s ", kind);
	text = tg_test_read(path, NULL);
	for (p = text; p && (p = strstr(p, key)); p++)
		n++;
	free(text);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || access(SERVER, X_OK))
		return 0;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	write_spec("a", e2e_free_port(), 3, 2, failing);
	run_a_status = run_spec("a");
	write_spec("b", e2e_free_port(), 1, 0, failing);
	run_b_status = run_spec("b");
	ready = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (ready)
		tg_test_rm_rf(dir);
	return 0;
}

#define NEED_RUNS() E2E_SKIP_UNLESS(ready, "needs root and the built blocking-server example")

static void test_report_gives_the_runs_verdict(void **state)
{
	char results[256], out[256];
	const char *args[] = { "report", results, "--out-dir", out, NULL };
	cJSON *run, *again;

	(void)state;
	NEED_RUNS();
	assert_int_equal(run_a_status, 1);
	snprintf(results, sizeof(results), "%s/a/results.json", dir);
	snprintf(out, sizeof(out), "%s/a-again", dir);
	assert_int_equal(tg(args, "report.err"), 1);
	run = read_json("%s/a/%s", "results.json");
	again = read_json("%s/a-again/%s", "results.json");
	same_checks(run, again);
	assert_string_equal(str(check(again, "max_blocking_spans <= 0 [all]"), "status"), "failed");
	/* the other reports are there, the trace as the run drew it */
	snprintf(out, sizeof(out), "%s/a-again/junit.xml", dir);
	assert_int_equal(access(out, R_OK), 0);
	snprintf(out, sizeof(out), "cmp -s '%s/a/trace.json' '%s/a-again/trace.json'", dir, dir);
	assert_int_equal(system(out), 0);
	cJSON_Delete(run);
	cJSON_Delete(again);

	/* in place (the default out dir): the same file again */
	args[2] = NULL;
	snprintf(out, sizeof(out), "cp -r '%s/a' '%s/a-inplace'", dir, dir);
	assert_int_equal(system(out), 0);
	snprintf(results, sizeof(results), "%s/a-inplace/results.json", dir);
	assert_int_equal(tg(args, "report.err"), 1);
	run = read_json("%s/a/%s", "results.json");
	again = read_json("%s/a-inplace/%s", "results.json");
	same_checks(run, again);
	cJSON_Delete(run);
	cJSON_Delete(again);
}

static void test_report_with_an_edited_spec(void **state)
{
	char results[256], spec[256], out[256];
	const char *args[] = { "report", results, "--spec", spec, "--out-dir", out, NULL };
	cJSON *run, *loose;

	(void)state;
	NEED_RUNS();
	snprintf(results, sizeof(results), "%s/a/results.json", dir);
	write_spec("loose", 1, 3, 2, loosened);
	snprintf(spec, sizeof(spec), "%s/loose.yaml", dir);
	snprintf(out, sizeof(out), "%s/loose", dir);
	assert_int_equal(tg(args, "loose.err"), 0);
	run = read_json("%s/a/%s", "results.json");
	loose = read_json("%s/loose/%s", "results.json");
	/* what was observed stays; the limits moved */
	assert_string_equal(str(check(loose, "max_poll <= 10s [all]"), "status"), "passed");
	assert_string_equal(str(check(loose, "max_poll <= 10s [all]"), "observed"),
			    str(check(run, "max_poll <= 10ms [all]"), "observed"));
	assert_string_equal(str(check(loose, "max_blocking_spans <= 1000 [all]"), "observed"),
			    str(check(run, "max_blocking_spans <= 0 [all]"), "observed"));
	assert_null(check(loose, "max_blocking_spans <= 0 [function=blocking_kinds::sleepy]"));
	cJSON_Delete(loose);

	write_spec("partly", 1, 3, 2, partly);
	snprintf(spec, sizeof(spec), "%s/partly.yaml", dir);
	snprintf(out, sizeof(out), "%s/partly", dir);
	assert_int_equal(tg(args, "partly.err"), 1);
	loose = read_json("%s/partly/%s", "results.json");
	assert_string_equal(str(check(loose, "max_poll <= 10s [all]"), "status"), "passed");
	assert_string_equal(str(check(loose, "max_blocking_spans <= 0 [all]"), "status"), "failed");
	assert_string_equal(str(check(loose, "max_blocking_spans <= 0 [all]"), "message"),
			    str(check(run, "max_blocking_spans <= 0 [all]"), "message"));
	cJSON_Delete(loose);
	cJSON_Delete(run);

	/* a spec with a mistake: exit 2, at file:line:column */
	assert_true(tg_test_write(spec, "version: 1\nname: x\ntarget:\n  command: [\"/bin/true\"]\n"
				  "assertions:\n  - max_pol: 5ms\n"));
	assert_int_equal(tg(args, "bad.err"), 2);
	snprintf(out, sizeof(out), "grep -q 'partly.yaml:6:' '%s/bad.err'", dir);
	assert_int_equal(system(out), 0);
}

static void test_report_as_nobody(void **state)
{
	char cmd[512], guard[256], results[256], err[256];
	cJSON *run, *again;
	struct stat st;
	pid_t pid;
	int status;

	(void)state;
	NEED_RUNS();
	snprintf(guard, sizeof(guard), "%s/tokio-guard", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp -r '%s/a' '%s/copy' && chown -R %d:%d '%s/copy' && "
		 "chmod 644 '%s/a.yaml'", TG_EXE, guard, dir, dir, NOBODY, NOBODY, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(results, sizeof(results), "%s/copy/results.json", dir);
	snprintf(err, sizeof(err), "%s/copy/report.err", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		execl(guard, guard, "report", results, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	run = read_json("%s/a/%s", "results.json");
	again = read_json("%s/copy/%s", "results.json");
	same_checks(run, again);
	assert_int_equal(stat(results, &st), 0);
	assert_int_equal(st.st_uid, NOBODY); /* rewritten by nobody */
	cJSON_Delete(run);
	cJSON_Delete(again);
}

/* The table's row for TASK, or NULL. */
static char *row(const char *md, const char *task, char *buf, size_t len)
{
	char key[160];
	const char *p, *e;

	snprintf(key, sizeof(key), "| `%s` |", task);
	if (!(p = strstr(md, key)))
		return NULL;
	e = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return buf;
}

static void test_diff_fewer_blocking_spans(void **state)
{
	char a[256], b[256], md[256], line[1024], want[64];
	const char *args[] = { "diff", a, b, "--markdown", md, "--limit", "300%", NULL };
	int sa = 0, sb = 0;
	char *text;

	(void)state;
	NEED_RUNS();
	assert_int_equal(run_b_status, 1);
	snprintf(a, sizeof(a), "%s/a/results.json", dir);
	snprintf(b, sizeof(b), "%s/b/results.json", dir);
	snprintf(md, sizeof(md), "%s/diff.md", dir);
	/* fewer sleeps, no mutex requests: nothing got worse past noise */
	assert_int_equal(tg(args, "diff.err"), 0);
	text = tg_test_read(md, NULL);
	assert_non_null(text);
	print_message("%s", text);
	assert_non_null(strstr(text, "**Gone culprits**"));
	assert_non_null(strstr(strstr(text, "**Gone culprits**"), "blocking_kinds::lock_shared ("));
	assert_non_null(row(text, "blocking_server::mutex_task", line, sizeof(line)));
	assert_non_null(strstr(line, "| gone |"));
	/* the sleep task's spans, as many as the server logged sleeping in each run */
	sa = logged("a", "sleep");
	sb = logged("b", "sleep");
	assert_int_equal(sa, 3);
	assert_int_equal(sb, 1);
	assert_non_null(row(text, "blocking_server::sleep_task", line, sizeof(line)));
	snprintf(want, sizeof(want), "| %d → %d |", sa, sb);
	assert_non_null(strstr(line, want));
	free(text);

	/* the other way round, the sleeps tripled: a regression, listed first */
	args[1] = b;
	args[2] = a;
	args[6] = "150%";
	assert_int_equal(tg(args, "diff.err"), 1);
	text = tg_test_read(md, NULL);
	assert_non_null(text);
	assert_non_null(row(text, "blocking_server::sleep_task", line, sizeof(line)));
	assert_non_null(strstr(line, "**regressed**"));
	assert_non_null(strstr(strstr(text, "**New culprits**"), "blocking_kinds::lock_shared ("));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_gives_the_runs_verdict),
		cmocka_unit_test(test_report_with_an_edited_spec),
		cmocka_unit_test(test_report_as_nobody),
		cmocka_unit_test(test_diff_fewer_blocking_spans),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
