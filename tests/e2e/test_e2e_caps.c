/* End-to-end: tokio-guard without root. A copy of the binary run as nobody
 * fails with the capabilities it lacks and the setcap line that grants them
 * (exit 3); the same copy given exactly CAP_BPF and CAP_PERFMON (setcap
 * ...+ep) probes the blocking-tasks example as nobody: every blocking
 * section the example measured is a span, and the reports and the
 * target's own log belong to nobody. Needs root (to setcap and to become
 * nobody) and setcap (libcap2-bin). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_truth.h"
#include "e2e_util.h"

#define TASKS TG_SOURCE_DIR "/examples/target/release/blocking-tasks"
#define NOBODY 65534

static char dir[64], guard[128], err[128];

static bool sh(const char *fmt, const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, fmt, a, b);
	return system(cmd) == 0;
}

/* The copy of tokio-guard run as nobody on DIR/guard.yaml; its exit code. */
static int run_as_nobody(void)
{
	char spec[128], out[128];
	pid_t pid;
	int st;

	snprintf(spec, sizeof spec, "%s/guard.yaml", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		execl(guard, guard, "run", spec, "--out-dir", out, "--quiet", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uid_t owner(const char *name)
{
	char path[160];
	struct stat s;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(stat(path, &s), 0);
	return s.st_uid;
}

static void test_without_root(void **state)
{
	static struct e2e_section sec[256];
	char path[160], *text, *log;
	cJSON *r;
	size_t spans = 0, sections = 0;

	(void)state;
	E2E_SKIP_UNLESS(geteuid() == 0 && access(TASKS, X_OK) == 0 && system("command -v setcap >/dev/null") == 0,
			"needs root, setcap and the built example");
	/* the copy and the target where nobody may run them */
	assert_true(sh("cp '%s' '%s' && chmod 755 \"$(dirname '%2$s')\"", TG_EXE, guard));
	assert_true(sh("cp '%s' '%s/blocking-tasks'", TASKS, dir));
	assert_true(sh("chown -R 65534:65534 '%s'%s", dir, ""));
	assert_true(asprintf(&text,
		"version: 1\nname: caps\n"
		"target:\n  command: [\"%s/blocking-tasks\", \"--seconds\", \"30\"]\n"
		"  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n  ready: { delay: 300ms }\n"
		"probe: { blocking_threshold: 5ms }\nassertions: []\nload:\n  - sleep: 1500ms\n", dir, dir) > 0);
	snprintf(path, sizeof path, "%s/guard.yaml", dir);
	assert_true(tg_test_write(path, text));
	free(text);
	assert_int_equal(chown(path, NOBODY, NOBODY), 0);

	/* no capabilities: exit 3, what is missing and how to grant it */
	assert_int_equal(run_as_nobody(), 3);
	text = tg_test_read(err, NULL);
	assert_non_null(text);
	print_message("%s", text);
	assert_non_null(strstr(text, "missing CAP_BPF and CAP_PERFMON"));
	assert_true(asprintf(&log, "sudo setcap cap_bpf,cap_perfmon+ep %s", guard) > 0);
	assert_non_null(strstr(text, log));
	free(log);
	free(text);

	/* exactly those two: the run works as nobody */
	assert_true(sh("setcap cap_bpf,cap_perfmon+ep '%s'%s", guard, ""));
	assert_int_equal(run_as_nobody(), 0);
	assert_int_equal(owner("out/results.json"), NOBODY);
	assert_int_equal(owner("out/junit.xml"), NOBODY);
	assert_int_equal(owner("example.log"), NOBODY); /* the target ran as nobody too */
	snprintf(path, sizeof path, "%s/out/results.json", dir);
	r = e2e_load_json(path);
	assert_non_null(r);
	snprintf(path, sizeof path, "%s/example.log", dir);
	log = tg_test_read(path, NULL);
	assert_non_null(log);
	sections = e2e_sections(log, "cpu", sec, 256) + e2e_sections(log, "sleep", sec, 256) +
		   e2e_sections(log, "mutex", sec, 256);
	spans = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "blocking_spans"));
	print_message("as nobody with CAP_BPF and CAP_PERFMON: %zu spans, %zu sections measured\n", spans,
		      sections);
	/* the first and last round may fall outside the probed window */
	assert_true(sections >= 9);
	assert_true(spans + 6 >= sections && spans <= sections);
	free(log);
	cJSON_Delete(r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tg-e2e-caps-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(guard, sizeof guard, "%s/tokio-guard", dir);
	snprintf(err, sizeof err, "%s/stderr.txt", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tg_test_rm_rf(dir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
