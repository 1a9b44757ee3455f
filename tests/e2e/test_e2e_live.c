/* The live view for real: tokio-guard --live in a tmux pane on the
 * blocking-tasks example. The pane (capture-pane) shows each kind the example
 * logged under its task, at its `// guard:<kind>` line, and the workers; q
 * quits as Ctrl-C does, reports written, the terminal given back. Without a
 * terminal: one line per new culprit. Needs root and tmux. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "e2e_truth.h"
#include "e2e_util.h"

#define TASKS TG_SOURCE_DIR "/examples/target/release/blocking-tasks"
#define KINDS_SRC TG_SOURCE_DIR "/examples/blocking-kinds/src/lib.rs"

static const char *const kinds[] = { "cpu", "sleep", "mutex" };
static const char *const culprits[] = { "blocking_kinds::burn_cpu", "blocking_kinds::sleepy",
					"blocking_kinds::lock_shared" };
#define NKINDS 3

static char tmp[64];
static char session[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/tg-e2e-live-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(session, sizeof session, "tg-live-%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "tmux kill-session -t %s 2>/dev/null", session);
	if (system(cmd)) {
		/* already gone: the test ended it */
	}
	tg_test_rm_rf(tmp);
	return 0;
}

static void spec(const char *dir, int seconds, int sleep_ms)
{
	char *text, path[160];

	assert_true(asprintf(&text,
			     "version: 1\n"
			     "name: live\n"
			     "target:\n"
			     "  command: [\"%s\", \"--seconds\", \"%d\", \"--block-ms\", \"25\"]\n"
			     "  env: { GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
			     "  ready: { delay: 100ms }\n"
			     "probe:\n"
			     "  blocking_threshold: 10ms\n"
			     "load:\n"
			     "  - sleep: %dms\n",
			     TASKS, seconds, dir, sleep_ms) > 0);
	snprintf(path, sizeof path, "%s/guard.yaml", dir);
	assert_true(tg_test_write(path, text));
	free(text);
}

static char *capture(void)
{
	char cmd[160], *out = NULL;
	size_t len = 0;
	FILE *p;

	snprintf(cmd, sizeof cmd, "tmux capture-pane -p -t %s", session);
	p = popen(cmd, "r");
	assert_non_null(p);
	FILE *m = open_memstream(&out, &len);
	char buf[4096];
	size_t k;

	while ((k = fread(buf, 1, sizeof buf, p)) > 0)
		fwrite(buf, 1, k, m);
	pclose(p);
	fclose(m);
	return out;
}

/* The pane's row for TASK: "<worst> <count> <kind> [*] <task> → <culprit> (<file:line>)". */
static const char *row(const char *screen, const char *task)
{
	const char *p = strstr(screen, task);

	while (p && p > screen && p[-1] != ' ')
		p = strstr(p + 1, task);
	return p;
}

static bool all_rows(const char *screen)
{
	char task[64];

	for (size_t k = 0; k < NKINDS; k++) {
		snprintf(task, sizeof task, "blocking_tasks::%s_task →", kinds[k]);
		if (!strstr(screen, task))
			return false;
	}
	return true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_screen_in_tmux(void **state)
{
	char cmd[1024], path[160], want[256], *screen = NULL, *log, *after, *rc;
	struct e2e_section sec[256];
	int tries;

	(void)state;
	E2E_SKIP_UNLESS(geteuid() == 0, "needs root (eBPF)");
	E2E_SKIP_UNLESS(access(TASKS, X_OK) == 0, "examples not built");
	E2E_SKIP_UNLESS(system("command -v tmux >/dev/null") == 0, "tmux not installed");
	spec(tmp, 30, 25000);
	snprintf(cmd, sizeof cmd,
		 "tmux new-session -d -s %s -x 160 -y 40 \"%s run --live --out-dir %s/out %s/guard.yaml;"
		 " echo \\$? > %s/rc; sleep 60\"",
		 session, TG_EXE, tmp, tmp, tmp);
	assert_int_equal(system(cmd), 0);
	for (tries = 0; tries < 60; tries++) {
		sleep_ms(500);
		free(screen);
		screen = capture();
		if (all_rows(screen) && strstr(screen, "#2 "))
			break;
	}
	fprintf(stderr, "pane:\n%s\n", screen);
	assert_true(all_rows(screen));
	/* the screen fits the pane: 40 lines, none wrapped */
	assert_non_null(strstr(screen, "tokio-guard live  blocking-tasks (pid "));
	assert_non_null(strstr(screen, "#1 "));
	assert_non_null(strstr(screen, "#2 "));
	/* each kind the example logged: its task, its culprit at its marker line,
	 * counted no more often than the example blocked */
	snprintf(path, sizeof path, "%s/example.log", tmp);
	log = tg_test_read(path, NULL);
	assert_non_null(log);
	for (size_t k = 0; k < NKINDS; k++) {
		char task[64];
		const char *r;
		unsigned long long count = 0;

		snprintf(task, sizeof task, "blocking_tasks::%s_task", kinds[k]);
		r = row(screen, task);
		assert_non_null(r);
		/* the file as the reports show it: from the spec's folder here (no repository) */
		snprintf(want, sizeof want, "%s → %s (", task, culprits[k]);
		assert_true(strncmp(r, want, strlen(want)) == 0);
		snprintf(want, sizeof want, "examples/blocking-kinds/src/lib.rs:%d)\n",
			 e2e_marker_line(KINDS_SRC, kinds[k]));
		assert_non_null(strstr(r, want));
		assert_true(strstr(r, want) < strchr(r, '\n') + 1);
		/* back from the task name to the count column: "<worst> <count> <kind>" */
		const char *line = r;
		while (line > screen && line[-1] != '\n')
			line--;
		assert_int_equal(sscanf(line, "%*s %llu", &count), 1);
		assert_true(count >= 1);
		assert_true(count <= e2e_sections(log, kinds[k], sec, 256));
	}
	free(log);
	free(screen);

	/* q: as Ctrl-C, the reports are written and the terminal is back */
	snprintf(cmd, sizeof cmd, "tmux send-keys -t %s q", session);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/rc", tmp);
	for (tries = 0; tries < 40 && access(path, R_OK); tries++)
		sleep_ms(250);
	rc = tg_test_read(path, NULL);
	assert_non_null(rc);
	assert_int_equal(atoi(rc), 130);
	free(rc);
	snprintf(path, sizeof path, "%s/out/results.json", tmp);
	assert_int_equal(access(path, R_OK), 0);
	after = capture();
	fprintf(stderr, "pane after q:\n%s\n", after);
	assert_null(strstr(after, "tokio-guard live")); /* the alternate screen is gone */
	assert_non_null(strstr(after, "Blocking spans, worst first"));
	free(after);
}

/* Not a terminal (a CI log): each culprit once, when first seen. */
static void test_plain_lines(void **state)
{
	char dir[128], err[160], *text, *log;
	struct e2e_section sec[16];
	int rc;

	(void)state;
	E2E_SKIP_UNLESS(geteuid() == 0, "needs root (eBPF)");
	E2E_SKIP_UNLESS(access(TASKS, X_OK) == 0, "examples not built");
	snprintf(dir, sizeof dir, "%s/plain", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	spec(dir, 4, 2500);
	snprintf(err, sizeof err, "%s/stderr.txt", dir);
	char path[160], out[160];
	snprintf(path, sizeof path, "%s/guard.yaml", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	const char *args[] = { "run", "--live", "--out-dir", out, path, NULL };
	struct e2e_io io = { .err_path = err };

	rc = e2e_run(TG_EXE, args, &io);
	assert_int_equal(rc, 1); /* the default check: blocking spans fail it */
	text = tg_test_read(err, NULL);
	assert_non_null(text);
	snprintf(path, sizeof path, "%s/example.log", dir);
	log = tg_test_read(path, NULL);
	assert_non_null(log);
	for (size_t k = 0; k < NKINDS; k++) {
		if (!e2e_sections(log, kinds[k], sec, 16))
			continue;
		char line_of[256], at[96];
		size_t lines = 0;

		snprintf(line_of, sizeof line_of, " in blocking_tasks::%s_task at %s (", kinds[k], culprits[k]);
		snprintf(at, sizeof at, "examples/blocking-kinds/src/lib.rs:%d)",
			 e2e_marker_line(KINDS_SRC, kinds[k]));
		/* one "new culprit" line for it, at its marker line; the summary's lines do not count */
		for (char *l = text, *e; *l; l = e + 1) {
			if (!(e = strchr(l, '\n')))
				e = l + strlen(l) - 1;
			if (strncmp(l, "tokio-guard: new culprit: ", 26) || !memmem(l, (size_t)(e - l), line_of,
										  strlen(line_of)))
				continue;
			lines++;
			assert_non_null(memmem(l, (size_t)(e - l + 1), at, strlen(at)));
		}
		if (lines != 1)
			fprintf(stderr, "stderr:\n%s\n", text);
		assert_int_equal(lines, 1);
	}
	assert_null(strstr(text, "\033[")); /* no terminal control in a log */
	free(log);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_screen_in_tmux),
		cmocka_unit_test(test_plain_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
