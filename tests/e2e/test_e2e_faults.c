/* End-to-end: the fault matrix. tokio-guard interrupted (SIGINT, SIGTERM,
 * SIGKILL) in each phase of a run, targets that crash at start or mid-run,
 * exec another binary, fork copies of themselves, daemonize or run two
 * runtimes, load tools that hang or leave children behind,
 * report folders that cannot be written or fill up, two runs at once.
 *
 * Every cell asserts the exit code, that the reports are what was seen
 * (results.json parses and says the same exit code, junit.xml is there, no
 * `*.tmp.*` file is left), and that nothing of the run is left: no process
 * carrying the cell's marker in its environment (the target and exec steps
 * get TG_FAULT_MARK=<cell dir>, so their children and daemons carry it too),
 * no child tokio-guard was seen to have, and none of the BPF links and
 * programs tokio-guard was seen to hold (its /proc/PID/fdinfo, sampled every
 * few ms while it runs) still in the kernel (`bpftool link/prog list`), and no
 * perf event of its pid (`bpftool perf list`).
 *
 * Phases are found, not guessed by timing: "attaching" is a child of
 * tokio-guard that is still tokio-guard (the target waits at its gate, before
 * exec, while the probes attach); "waiting for ready" is that child after its
 * exec of a target that never says it is ready; "load" is an exec step's
 * process; "writing reports" is an fd of tokio-guard on a report's unnamed
 * file in the output folder (a 16 MB trace: long enough to be caught). Default probes only (uprobe_multi): the single-uprobe fallback's
 * background detach is not what is tested here. Needs root; skips otherwise.
 *
 * One file over 1000 lines on purpose: the cells share the watchers (fdinfo
 * sampling, children, markers, bpftool) that make each cell's "nothing left"
 * assertion; split, each part would carry them. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"
#include "e2e_truth.h"

#define REL TG_SOURCE_DIR "/examples/target/release/"
#define TASKS REL "blocking-tasks"
#define SERVER REL "blocking-server"
#define IDLE REL "blocking-main" /* --start-delay-ms: no runtime for a while */
#define MAX_IDS 512
#define MAX_KIDS 64

extern char **environ;

/* What one cell saw of its run. */
struct cell {
	char dir[64], spec[96], out[96], err[96], mark[96];
	pid_t guard;
	int status;              /* exit code, or 128+signal */
	unsigned links[MAX_IDS], progs[MAX_IDS];
	size_t nlinks, nprogs;
	pid_t kids[MAX_KIDS];    /* every child of tokio-guard seen */
	size_t nkids;
	cJSON *results;          /* NULL when not written */
	bool stuck;              /* SIGKILLed tokio-guard did not die within 10 s */
	char *stderr_text;
};

enum phase { AT_ATTACH, AT_READY_WAIT, AT_LOAD, AT_REPORTS, NO_SIGNAL };

static bool ready;
static char guard_exe[4096];

#define NEED() E2E_SKIP_UNLESS(ready, "needs root, bpftool and the built examples")

/* ---- the cell's files */

static void cell_new(struct cell *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->dir, sizeof c->dir, "/tmp/tg-e2e-faults-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->spec, sizeof c->spec, "%s/guard.yaml", c->dir);
	snprintf(c->out, sizeof c->out, "%s/out", c->dir);
	snprintf(c->err, sizeof c->err, "%s/stderr.txt", c->dir);
	snprintf(c->mark, sizeof c->mark, "TG_FAULT_MARK=%s", c->dir);
}

/* A spec: COMMAND is the inside of a flow sequence, READY of a flow mapping,
 * LOAD the indented step list (exec steps get the marker from exec_env()). */
static void cell_spec(struct cell *c, const char *command, const char *ready_, const char *load,
		      const char *extra)
{
	char *text;

	assert_true(asprintf(&text,
		"version: 1\n"
		"name: faults\n"
		"target:\n"
		"  command: [%s]\n"
		"  env: { TG_FAULT_MARK: \"%s\", GUARD_EXAMPLE_LOG: \"%s/example.log\" }\n"
		"  ready: { %s }\n"
		"  stop: { signal: SIGTERM, grace: 2s }\n"
		"%s"
		"assertions: []\n"
		"load:\n%s",
		command, c->dir, c->dir, ready_, extra ? extra : "", load) > 0);
	assert_true(tg_test_write(c->spec, text));
	free(text);
}

/* ---- watching tokio-guard */

static bool has_id(const unsigned *v, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static void add_id(unsigned *v, size_t *n, unsigned id)
{
	if (!has_id(v, *n, id) && *n < MAX_IDS)
		v[(*n)++] = id;
}

/* The link and program ids PID holds right now (its fdinfo's link_id: and prog_id: lines). */
static void sample_bpf(struct cell *c, pid_t pid)
{
	char path[64], line[256];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char p[320];
		FILE *f;
		unsigned id;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
		f = fopen(p, "r");
		while (f && fgets(line, sizeof line, f)) {
			if (sscanf(line, "link_id: %u", &id) == 1)
				add_id(c->links, &c->nlinks, id);
			else if (sscanf(line, "prog_id: %u", &id) == 1)
				add_id(c->progs, &c->nprogs, id);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* PID's parent and state from /proc/PID/stat; false when it is gone. */
static bool proc_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *p;
	FILE *f;
	int pp = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return false;
	*ppid = pp;
	return true;
}

static bool exe_is(pid_t pid, const char *want_suffix)
{
	char path[64], exe[4096];
	ssize_t n;
	size_t w = strlen(want_suffix);

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n < 0)
		return false;
	exe[n] = 0;
	return (size_t)n >= w && strcmp(exe + n - w, want_suffix) == 0;
}

/* The children of tokio-guard, remembered in C; true when one runs an
 * executable ending in SUFFIX (NULL: tokio-guard itself, a target at its gate). */
static bool watch_kids(struct cell *c, const char *suffix)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	bool found = false;

	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name), ppid;
		char st;
		size_t i;

		if (pid <= 0 || !proc_stat(pid, &ppid, &st) || ppid != c->guard || st == 'Z')
			continue;
		for (i = 0; i < c->nkids && c->kids[i] != pid; i++)
			;
		if (i == c->nkids && c->nkids < MAX_KIDS)
			c->kids[c->nkids++] = pid;
		if (exe_is(pid, suffix ? suffix : guard_exe))
			found = true;
	}
	if (d)
		closedir(d);
	return found;
}

/* tokio-guard has a report open: an fd into the output folder on an unnamed
 * file (O_TMPFILE: "#123 (deleted)") or a `.tmp.` one. */
static bool report_started(const struct cell *c)
{
	char path[64], link[4096];
	struct dirent *e;
	size_t n = strlen(c->out);
	bool found = false;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)c->guard);
	d = opendir(path);
	while (d && (e = readdir(d)) && !found) {
		char p[320];
		ssize_t k;

		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		k = readlink(p, link, sizeof link - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		found = strncmp(link, c->out, n) == 0 && link[n] == '/' &&
			(strstr(link, " (deleted)") || strstr(link, ".tmp."));
	}
	if (d)
		closedir(d);
	return found;
}

static pid_t leftover_process(const struct cell *c);

static void nap_ms(int ms)
{
	/* 0: a fifth of a millisecond, to catch a short phase */
	struct timespec ts = { ms / 1000, ms ? (long)(ms % 1000) * 1000000L : 200000L };

	nanosleep(&ts, NULL);
}

static pid_t start_guard(struct cell *c, const char *const *extra)
{
	char *argv[16] = { guard_exe, "run", c->spec, "--out-dir", c->out, "--quiet" };
	posix_spawn_file_actions_t fa;
	size_t n = 6;
	pid_t pid;

	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, c->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(posix_spawn(&pid, guard_exe, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Runs tokio-guard on the cell's spec; sends SIG once the run is in phase AT.
 * Samples its BPF fds and children every few ms until it exits. */
static void run_cell(struct cell *c, enum phase at, int sig, const char *load_exe)
{
	int st, r;
	time_t killed_at = 0;
	bool sent = at == NO_SIGNAL;
	char path[160];

	c->guard = start_guard(c, NULL);
	for (;;) {
		bool now = false;

		sample_bpf(c, c->guard);
		switch (at) {
		case AT_ATTACH: now = watch_kids(c, NULL); break;
		case AT_READY_WAIT: now = watch_kids(c, IDLE); break;
		case AT_LOAD: now = watch_kids(c, load_exe); break;
		case AT_REPORTS: watch_kids(c, "/"); now = report_started(c); break;
		case NO_SIGNAL: watch_kids(c, "/"); break;
		}
		if (!sent && now) {
			kill(c->guard, sig);
			sent = true;
			killed_at = time(NULL);
		}
		if (killed_at && sig == SIGKILL && time(NULL) - killed_at > 10 && !c->stuck) {
			/* The hang target/watchdog.c exists for: the dying tokio-guard's
			 * uprobe_multi link release waits in synchronize_srcu for the
			 * target's pending uretprobes, and the target's parent-death signal
			 * comes only after that. Break it (or every uprobe user on the
			 * machine stays blocked), then fail the cell. */
			for (pid_t p; (p = leftover_process(c)) > 0;)
				kill(p, SIGKILL), nap_ms(10);
			c->stuck = true;
		}
		r = waitpid(c->guard, &st, WNOHANG);
		if (r == c->guard)
			break;
		nap_ms(at == AT_ATTACH || at == AT_REPORTS ? 0 : 3);
	}
	if (!sent)
		fail_msg("tokio-guard exited (status %#x) before the phase the signal was for", st);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	snprintf(path, sizeof path, "%s/results.json", c->out);
	c->results = e2e_load_json(path);
	c->stderr_text = tg_test_read(c->err, NULL);
	if (!c->stderr_text)
		c->stderr_text = strdup("");
	fprintf(stderr, "cell %s: exit %d, %zu links, %zu progs, %zu children seen\n", c->dir, c->status,
		c->nlinks, c->nprogs, c->nkids);
}

/* ---- what must hold after every cell */

static bool marked(pid_t pid, const char *mark)
{
	char path[64], buf[65536];
	size_t n, m = strlen(mark);
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = 0; i + m <= n; i += strlen(buf + i) + 1)
		if (memcmp(buf + i, mark, m) == 0 && (i + m == n || buf[i + m] == 0))
			return true;
	return false;
}

/* A live (non-zombie) process carrying the cell's mark, or a live child seen; 0 when none. */
static pid_t leftover_process(const struct cell *c)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	pid_t found = 0, ppid;
	char st;

	while (d && (e = readdir(d)) && !found) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid > 0 && pid != getpid() && proc_stat(pid, &ppid, &st) && st != 'Z' && marked(pid, c->mark))
			found = pid;
	}
	if (d)
		closedir(d);
	for (size_t i = 0; !found && i < c->nkids; i++)
		if (proc_stat(c->kids[i], &ppid, &st) && st != 'Z' && ppid != c->guard)
			found = c->kids[i]; /* pid reuse by a stranger is ruled out by the mark scan */
	if (found && !marked(found, c->mark) && !proc_stat(found, &ppid, &st))
		found = 0;
	return found;
}

/* IDs of `bpftool KIND -j list` (key "id"), into a cJSON array. */
static cJSON *bpftool_list(const char *kind)
{
	char cmd[128], *text;
	size_t len = 0, cap = 1 << 16;
	FILE *p;
	cJSON *doc;

	snprintf(cmd, sizeof cmd, "bpftool %s -j list 2>/dev/null", kind);
	p = popen(cmd, "r");
	assert_non_null(p);
	text = malloc(cap);
	for (size_t n; (n = fread(text + len, 1, cap - len - 1, p)) > 0;) {
		len += n;
		if (len + 1 == cap)
			text = realloc(text, cap *= 2);
	}
	text[len] = 0;
	pclose(p);
	doc = cJSON_Parse(text);
	free(text);
	return doc;
}

/* How many of the run's links / programs the kernel still has, and perf
 * events of tokio-guard's pid. */
static size_t leftover_bpf(const struct cell *c, char *what, size_t len)
{
	cJSON *links = bpftool_list("link"), *progs = bpftool_list("prog"), *perf = bpftool_list("perf");
	const cJSON *x;
	size_t n = 0;

	what[0] = 0;
	cJSON_ArrayForEach(x, links)
		if (has_id(c->links, c->nlinks, (unsigned)e2e_num(x, "id")) && ++n)
			snprintf(what, len, "link %u", (unsigned)e2e_num(x, "id"));
	cJSON_ArrayForEach(x, progs)
		if (has_id(c->progs, c->nprogs, (unsigned)e2e_num(x, "id")) && ++n)
			snprintf(what, len, "prog %u", (unsigned)e2e_num(x, "id"));
	cJSON_ArrayForEach(x, perf)
		if ((pid_t)e2e_num(x, "pid") == c->guard && ++n)
			snprintf(what, len, "perf event of pid %d", (int)c->guard);
	cJSON_Delete(links);
	cJSON_Delete(progs);
	cJSON_Delete(perf);
	return n;
}

/* Processes and probes go away asynchronously (SIGKILL, RCU): up to 5 s. */
static void assert_nothing_left(const struct cell *c)
{
	char what[64] = "";
	pid_t pid = 0;
	size_t nbpf = 0;

	for (int i = 0; i < 100; i++) {
		pid = leftover_process(c);
		nbpf = pid ? 0 : leftover_bpf(c, what, sizeof what);
		if (!pid && !nbpf)
			break;
		nap_ms(50);
	}
	if (pid)
		fail_msg("%s: process %d of the run is still alive", c->dir, (int)pid);
	if (nbpf)
		fail_msg("%s: %zu BPF objects of the run left in the kernel (%s)", c->dir, nbpf, what);
	if (c->results && cJSON_GetObjectItemCaseSensitive(c->results, "target")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->results, "target");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "pid");
		pid_t ppid;
		char st;

		if (cJSON_IsNumber(p) && p->valuedouble > 0 && proc_stat((pid_t)p->valuedouble, &ppid, &st) &&
		    st != 'Z' && marked((pid_t)p->valuedouble, c->mark))
			fail_msg("%s: target pid %d still alive", c->dir, (int)p->valuedouble);
	}
}

/* No half-written report: no `*.tmp.*` file left in the output folder. */
static void assert_no_tmp(const struct cell *c)
{
	DIR *d = opendir(c->out);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			fail_msg("%s: half-written report %s left", c->out, e->d_name);
	if (d)
		closedir(d);
}

/* The reports say what was seen: results.json parses and carries the exit
 * code the process gave, junit.xml is whole. */
static void assert_reports(const struct cell *c)
{
	char path[160], *junit;

	assert_no_tmp(c);
	if (!c->results)
		fail_msg("%s: no results.json (exit %d): %s", c->out, c->status, c->stderr_text);
	assert_int_equal((int)e2e_num(c->results, "exit_code"), c->status);
	snprintf(path, sizeof path, "%s/junit.xml", c->out);
	junit = tg_test_read(path, NULL);
	assert_non_null(junit);
	assert_non_null(strstr(junit, "</testsuites>"));
	free(junit);
}

static void cell_free(struct cell *c)
{
	cJSON_Delete(c->results);
	free(c->stderr_text);
	c->results = NULL;
	c->stderr_text = NULL;
}

static void assert_said(const struct cell *c, const char *text)
{
	if (!strstr(c->stderr_text, text))
		fail_msg("%s: stderr does not say \"%s\":\n%s", c->dir, text, c->stderr_text);
}

/* ---- signals in each phase */

static int code_of(int sig)
{
	return 128 + sig; /* 130 / 143 by contract; 137: killed */
}

/* The interrupted run's outcome: its code, its reports (none promised after SIGKILL). */
static void check_interrupted(struct cell *c, int sig)
{
	if (c->stuck) {
		cell_free(c);
		fail_msg("SIGKILLed tokio-guard hung in bpf_uprobe_multi_link_release until the test "
			 "killed its target: the watchdog did not kill the target first");
	}
	assert_int_equal(c->status, code_of(sig));
	assert_nothing_left(c);
	if (sig == SIGKILL) {
		assert_no_tmp(c);
		if (c->results) /* whatever is there is whole */
			assert_non_null(cJSON_GetObjectItemCaseSensitive(c->results, "exit_code"));
		return;
	}
	assert_reports(c);
	assert_said(c, sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM");
}

static void signal_at_attach(int sig)
{
	struct cell c;

	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"30\"", "delay: 100ms", "  - sleep: 20s\n", NULL);
	run_cell(&c, AT_ATTACH, sig, NULL);
	check_interrupted(&c, sig);
	cell_free(&c);
}

static void signal_at_ready_wait(int sig)
{
	struct cell c;

	cell_new(&c);
	/* never ready: no runtime for 60 s, the log line never comes */
	cell_spec(&c, "\"" IDLE "\", \"--start-delay-ms\", \"60000\"", "log: \"^never$\", timeout: 60s",
		  "  - sleep: 1s\n", NULL);
	run_cell(&c, AT_READY_WAIT, sig, NULL);
	check_interrupted(&c, sig);
	cell_free(&c);
}

static void signal_at_load(int sig)
{
	struct cell c;
	char load[256];

	cell_new(&c);
	snprintf(load, sizeof load,
		 "  - exec: [\"sleep\", \"300\"]\n    env: { TG_FAULT_MARK: \"%s\" }\n", c.dir);
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"300\"", "delay: 300ms", load, NULL);
	run_cell(&c, AT_LOAD, sig, "/sleep");
	check_interrupted(&c, sig);
	cell_free(&c);
}

/* A run whose trace is big enough to take a while to write: every poll of a
 * storm a trace slice. */
static void signal_at_reports(int sig)
{
	struct cell c;

	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--storm\", \"4\", \"--storm-polls\", \"20000\", \"--storm-us\", \"2\", "
		  "\"--seconds\", \"300\"", "log: \"storm of\", timeout: 120s", "  - sleep: 10ms\n",
		  "report: { trace_min_poll: 1us }\n");
	run_cell(&c, AT_REPORTS, sig, NULL);
	if (c.stuck)
		check_interrupted(&c, sig);
	assert_nothing_left(&c);
	assert_no_tmp(&c);
	if (sig == SIGKILL) {
		assert_int_equal(c.status, code_of(sig));
	} else {
		/* the verdict was made: the reports are finished, and say the code given */
		assert_reports(&c);
		assert_true(c.status == 0 || c.status == code_of(sig));
	}
	cell_free(&c);
}

static void test_sigint_at_attach(void **state) { NEED(); signal_at_attach(SIGINT); }
static void test_sigterm_at_attach(void **state) { NEED(); signal_at_attach(SIGTERM); }
static void test_sigkill_at_attach(void **state) { NEED(); signal_at_attach(SIGKILL); }
static void test_sigint_at_ready_wait(void **state) { NEED(); signal_at_ready_wait(SIGINT); }
static void test_sigterm_at_ready_wait(void **state) { NEED(); signal_at_ready_wait(SIGTERM); }
static void test_sigkill_at_ready_wait(void **state) { NEED(); signal_at_ready_wait(SIGKILL); }
static void test_sigint_at_load(void **state) { NEED(); signal_at_load(SIGINT); }
static void test_sigterm_at_load(void **state) { NEED(); signal_at_load(SIGTERM); }
static void test_sigkill_at_load(void **state) { NEED(); signal_at_load(SIGKILL); }
static void test_sigint_at_reports(void **state) { NEED(); signal_at_reports(SIGINT); }
static void test_sigterm_at_reports(void **state) { NEED(); signal_at_reports(SIGTERM); }
static void test_sigkill_at_reports(void **state) { NEED(); signal_at_reports(SIGKILL); }

/* ---- the target */

/* results.json's target.KEY (fails the test when absent). */
static const cJSON *target_field(const struct cell *c, const char *key)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->results, "target");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);

	if (!v)
		fail_msg("%s: no target.%s in results.json", c->dir, key);
	return v;
}

static const cJSON *target_exit(const struct cell *c)
{
	const cJSON *e = target_field(c, "exit");

	assert_true(cJSON_IsObject(e));
	return e;
}

static void test_target_crash_at_start(void **state)
{
	struct cell c;

	NEED();
	cell_new(&c);
	/* its log cannot be opened: it exits 1 before its runtime starts */
	cell_spec(&c, "\"" TASKS "\"", "log: \"^never$\", timeout: 30s", "  - sleep: 1s\n", NULL);
	{
		char *t = tg_test_read(c.spec, NULL), *p = strstr(t, c.dir);

		assert_non_null(p = strstr(p + 1, c.dir)); /* GUARD_EXAMPLE_LOG's */
		memcpy(p, "/nonexist", 9);
		assert_true(tg_test_write(c.spec, t));
		free(t);
	}
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 4);
	assert_reports(&c);
	assert_int_equal((int)e2e_num(target_exit(&c), "code"), 1);
	assert_said(&c, "before it was ready");
	assert_nothing_left(&c);
	cell_free(&c);
}

static void test_target_exits_mid_run(void **state)
{
	struct cell c;

	NEED();
	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"1\"", "delay: 100ms", "  - sleep: 6s\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 4);
	assert_reports(&c);
	assert_int_equal((int)e2e_num(target_exit(&c), "code"), 0);
	assert_said(&c, "during the run");
	assert_nothing_left(&c);
	cell_free(&c);
}

static void test_target_crashes_mid_run(void **state)
{
	struct cell c;
	char load[512];
	int tag = 40000 + (int)(getpid() % 20000);

	NEED();
	cell_new(&c);
	/* an exec step sends the target SIGABRT (Rust's own SIGSEGV handler would let a sent one pass); --seconds TAG names it for pkill */
	snprintf(load, sizeof load,
		 "  - sleep: 300ms\n"
		 "  - exec: [\"pkill\", \"-ABRT\", \"-f\", \"^%s --seconds %d$\"]\n"
		 "  - sleep: 10s\n", TASKS, tag);
	{
		char cmd[256];

		snprintf(cmd, sizeof cmd, "\"%s\", \"--seconds\", \"%d\"", TASKS, tag);
		cell_spec(&c, cmd, "delay: 100ms", load, NULL);
	}
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 4);
	assert_reports(&c);
	assert_int_equal((int)e2e_num(target_exit(&c), "signal"), SIGABRT);
	assert_said(&c, "target killed by SIGABRT during the run");
	assert_nothing_left(&c);
	cell_free(&c);
}

/* `sh -c 'exec real'`: the probes go into the executable tokio-guard
 * launches, so a shell in front is no Tokio binary: said, exit 3. */
static void test_target_execs_another_binary(void **state)
{
	struct cell c;

	NEED();
	cell_new(&c);
	cell_spec(&c, "\"sh\", \"-c\", \"exec " TASKS " --seconds 5\"", "delay: 100ms", "  - sleep: 1s\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 3);
	assert_reports(&c);
	assert_said(&c, "sh");
	assert_nothing_left(&c);
	cell_free(&c);
}

/* ---- load tools */

static void test_exec_step_hangs_past_timeout(void **state)
{
	struct cell c;
	char load[512];

	NEED();
	cell_new(&c);
	/* deaf to SIGTERM, and a child of its own that outlives it */
	snprintf(load, sizeof load,
		 "  - exec: [\"sh\", \"-c\", \"trap '' TERM; sleep 300 & sleep 301; wait\"]\n"
		 "    env: { TG_FAULT_MARK: \"%s\" }\n    timeout: 1s\n", c.dir);
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"300\"", "delay: 200ms", load, NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 4);
	assert_reports(&c);
	assert_said(&c, "load step 'exec #1' failed");
	assert_nothing_left(&c);
	cell_free(&c);
}

/* An exec step that leaves a child behind (in its group) and a daemon (own session). */
static void exec_leaves(const char *script, const char *said)
{
	struct cell c;
	char load[512];

	cell_new(&c);
	snprintf(load, sizeof load,
		 "  - exec: [\"sh\", \"-c\", \"%s\"]\n    env: { TG_FAULT_MARK: \"%s\" }\n"
		 "  - sleep: 300ms\n", script, c.dir);
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"300\"", "delay: 200ms", load, NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 0);
	assert_reports(&c);
	if (said)
		assert_said(&c, said);
	assert_nothing_left(&c);
	cell_free(&c);
}

static void test_exec_step_backgrounds_a_child(void **state)
{
	NEED();
	exec_leaves("sleep 300 >/dev/null 2>&1 & sleep 0.5; exit 0", NULL);
}

static void test_exec_step_daemonizes(void **state)
{
	NEED();
	/* the pause: setsid has left the group before the step ends */
	exec_leaves("setsid sleep 300 >/dev/null 2>&1 < /dev/null & sleep 0.5; exit 0",
		    "killed 1 process the target or load steps left behind");
}

/* ---- where the reports go */

static void mount_tmpfs(const char *dir, const char *opts)
{
	assert_int_equal(mkdir(dir, 0755), 0);
	if (mount("tg-faults", dir, "tmpfs", opts && strstr(opts, "ro") == opts ? MS_RDONLY : 0,
		  opts && strstr(opts, "ro") == opts ? opts + 3 : opts))
		fail_msg("mount tmpfs on %s: %s", dir, strerror(errno));
}

static void test_report_dir_not_writable(void **state)
{
	struct cell c;

	NEED();
	cell_new(&c);
	mount_tmpfs(c.out, "ro,size=64k"); /* read-only: root cannot write there either */
	cell_spec(&c, "\"" TASKS "\", \"--seconds\", \"30\"", "delay: 100ms", "  - sleep: 500ms\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	umount(c.out);
	assert_true(c.status != 0);
	assert_said(&c, c.out);
	assert_said(&c, "Read-only file system");
	assert_nothing_left(&c);
	cell_free(&c);
}

static void test_report_dir_full(void **state)
{
	struct cell c;
	char path[160], *text;

	NEED();
	cell_new(&c);
	mount_tmpfs(c.out, "size=64k");
	/* a trace far over 64K: every poll of a storm a slice */
	cell_spec(&c, "\"" TASKS "\", \"--storm\", \"2\", \"--storm-polls\", \"5000\", \"--storm-us\", \"2\", "
		  "\"--seconds\", \"300\"", "log: \"storm of\", timeout: 120s", "  - sleep: 10ms\n",
		  "report: { trace_min_poll: 1us }\n");
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_said(&c, "No space left on device");
	assert_no_tmp(&c);
	/* what was written is whole; a run whose reports are missing does not pass */
	assert_true(c.status != 0);
	if (c.results)
		assert_int_equal((int)e2e_num(c.results, "exit_code"), c.status);
	snprintf(path, sizeof path, "%s/junit.xml", c.out);
	text = tg_test_read(path, NULL);
	if (text)
		assert_non_null(strstr(text, "</testsuites>"));
	free(text);
	snprintf(path, sizeof path, "%s/trace.json", c.out);
	text = tg_test_read(path, NULL);
	if (text) {
		cJSON *t = cJSON_Parse(text);

		assert_non_null(t);
		cJSON_Delete(t);
	}
	free(text);
	umount(c.out);
	assert_nothing_left(&c);
	cell_free(&c);
}

/* ---- two runs at once */

static void test_two_runs_at_once(void **state)
{
	struct cell c[2];
	int st[2];

	NEED();
	for (int i = 0; i < 2; i++) {
		int port = e2e_free_port();
		char cmd[256], rdy[96], load[512];

		cell_new(&c[i]);
		snprintf(cmd, sizeof cmd, "\"%s\", \"--port\", \"%d\"", SERVER, port);
		snprintf(rdy, sizeof rdy, "tcp: \"127.0.0.1:%d\", timeout: 60s", port);
		snprintf(load, sizeof load,
			 "  - http: { url: \"http://127.0.0.1:%d/sleep?ms=%d\" }\n    requests: 10\n", port,
			 15 + 10 * i);
		cell_spec(&c[i], cmd, rdy, load, "probe: { blocking_threshold: 5ms }\n");
		c[i].guard = start_guard(&c[i], NULL);
	}
	for (int i = 0; i < 2; i++) {
		while (waitpid(c[i].guard, &st[i], WNOHANG) == 0) {
			sample_bpf(&c[0], c[0].guard);
			sample_bpf(&c[1], c[1].guard);
			nap_ms(5);
		}
		c[i].status = WIFEXITED(st[i]) ? WEXITSTATUS(st[i]) : 128 + WTERMSIG(st[i]);
	}
	for (int i = 0; i < 2; i++) {
		char path[160];
		const cJSON *s, *spans;
		int n = 0;

		snprintf(path, sizeof path, "%s/results.json", c[i].out);
		c[i].results = e2e_load_json(path);
		c[i].stderr_text = tg_test_read(c[i].err, NULL);
		assert_int_equal(c[i].status, 0);
		assert_reports(&c[i]);
		/* each saw its own target's sleeps: 10 spans of its own length */
		spans = cJSON_GetObjectItemCaseSensitive(c[i].results, "blocking_spans");
		cJSON_ArrayForEach(s, spans) {
			double ms = e2e_num(s, "duration_ns") / 1e6;

			if (ms >= 14 + 10 * i && ms < 24 + 10 * i)
				n++;
		}
		assert_int_equal(n, 10);
	}
	assert_true(e2e_num(cJSON_GetObjectItemCaseSensitive(c[0].results, "target"), "pid") !=
		    e2e_num(cJSON_GetObjectItemCaseSensitive(c[1].results, "target"), "pid"));
	for (int i = 0; i < 2; i++) {
		assert_nothing_left(&c[i]);
		cell_free(&c[i]);
	}
}

/* ---- the target's shape: forks, a daemon, two runtimes */

/* The cell's ground truth (examples/ground-truth lines in example.log). */
static size_t truth(const struct cell *c, const char *kind, struct e2e_section *out, size_t max)
{
	char path[160], *log;
	size_t n;

	snprintf(path, sizeof path, "%s/example.log", c->dir);
	log = tg_test_read(path, NULL);
	assert_non_null(log);
	n = e2e_sections(log, kind, out, max);
	free(log);
	return n;
}

static bool check_status(const struct cell *c, const char *name, const char *status)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(c->results, "assertions"))
		if (strcmp(e2e_str(a, "name"), name) == 0)
			return strcmp(e2e_str(a, "status"), status) == 0;
	return false;
}

static const cJSON *unprobed_pids(const struct cell *c)
{
	const cJSON *p = target_field(c, "unprobed_pids");

	assert_true(cJSON_IsArray(p));
	return p;
}

/* A pre-fork target: three processes of one program, the one started is
 * measured, the two forks are named, and their sections never become spans
 * of the target. */
static void test_target_forks_children(void **state)
{
	static struct e2e_section sec[1024];
	struct cell c;
	const cJSON *p, *s;
	long target;
	size_t n, own = 0, must = 0, forks = 0, spans = 0;

	NEED();
	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--fork\", \"2\", \"--seconds\", \"300\"", "delay: 300ms",
		  "  - sleep: 1s\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 0);
	assert_reports(&c);
	target = (long)target_field(&c, "pid")->valuedouble;
	p = unprobed_pids(&c);
	assert_int_equal(cJSON_GetArraySize(p), 2);
	assert_true(check_status(&c, "probe: every process of the program probed", "warned"));
	n = truth(&c, "cpu", sec, 1024);
	for (size_t i = 0; i < n; i++) {
		own += sec[i].pid == target;
		/* three processes spin on two CPUs: a spin preempted below the 10 ms
		 * threshold owns too little to be a span (own time); one that got
		 * 15 ms of CPU must be one */
		must += sec[i].pid == target && sec[i].cpu_us >= 15000;
		for (int k = 0; k < 2; k++)
			forks += sec[i].pid == (long)cJSON_GetArrayItem(p, k)->valuedouble;
	}
	assert_true(own >= 3);
	assert_true(forks >= 6); /* the forks ran the same work: the check below is not vacuous */
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c.results, "blocking_spans")) {
		bool mine = false;

		if (strcmp(e2e_str(s, "task"), "blocking_tasks::cpu_task"))
			continue;
		spans++;
		for (size_t i = 0; i < n && !mine; i++)
			mine = sec[i].tid == (long)e2e_num(s, "tid") && sec[i].pid == target;
		if (!mine)
			fail_msg("cpu span on tid %d is no section of the target (pid %ld)",
				 (int)e2e_num(s, "tid"), target);
	}
	if (spans < must)
		fail_msg("%zu cpu spans of the target, but %zu of its spins had 15 ms of CPU", spans, must);
	assert_nothing_left(&c);
	cell_free(&c);
}

/* A daemonizing target: the started process exits 0 at once, its daemon
 * runs the program. Exit 4, the reason named, the daemon killed. */
static void test_target_daemonizes(void **state)
{
	struct cell c;
	char path[160], *out, *at;
	int daemon = 0;

	NEED();
	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--daemonize\", \"--seconds\", \"300\"", "delay: 300ms",
		  "  - sleep: 1s\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 4);
	assert_reports(&c);
	assert_int_equal((int)e2e_num(target_exit(&c), "code"), 0);
	snprintf(path, sizeof path, "%s/target.stdout.log", c.out);
	out = tg_test_read(path, NULL);
	assert_non_null(out);
	assert_non_null(at = strstr(out, "blocking-tasks: daemon "));
	daemon = atoi(at + strlen("blocking-tasks: daemon "));
	free(out);
	assert_int_equal(cJSON_GetArraySize(unprobed_pids(&c)), 1);
	assert_int_equal((int)cJSON_GetArrayItem(unprobed_pids(&c), 0)->valuedouble, daemon);
	assert_non_null(strstr(e2e_str(c.results, "error"), "daemonizes itself"));
	assert_said(&c, "daemonizes itself; run it in the foreground");
	assert_said(&c, "killed 1 process the target or load steps left behind");
	assert_nothing_left(&c);
	cell_free(&c);
}

/* Two runtimes in one process: the 2-worker multi-thread one (sections of
 * 20 ms) and a current-thread one on thread second-rt (30 ms). Both are
 * measured, on their own threads, and the current-thread runtime's idle
 * parks are never blocking. */
static void test_two_runtimes(void **state)
{
	static struct e2e_section sec[1024];
	struct cell c;
	const cJSON *s;
	long second = 0;
	size_t n, spans[2] = { 0 };

	NEED();
	cell_new(&c);
	cell_spec(&c, "\"" TASKS "\", \"--runtimes\", \"2\", \"--seconds\", \"300\"", "delay: 300ms",
		  "  - sleep: 1500ms\n", NULL);
	run_cell(&c, NO_SIGNAL, 0, NULL);
	assert_int_equal(c.status, 0);
	assert_reports(&c);
	assert_int_equal(cJSON_GetArraySize(unprobed_pids(&c)), 0);
	n = truth(&c, "cpu", sec, 1024);
	for (size_t i = 0; i < n; i++)
		if (sec[i].ms == 30) {
			assert_true(!second || second == sec[i].tid); /* one thread */
			second = sec[i].tid;
		}
	assert_true(second > 0);
	for (size_t i = 0; i < n; i++)
		if (sec[i].ms == 20)
			assert_true(sec[i].tid != second);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c.results, "blocking_spans")) {
		const char *task = e2e_str(s, "task");
		bool on_second = (long)e2e_num(s, "tid") == second;

		if (strcmp(task, "blocking_tasks::cpu_task") && strcmp(task, "blocking_tasks::sleep_task") &&
		    strcmp(task, "blocking_tasks::mutex_task"))
			fail_msg("span of %s (%.1f ms on tid %d): only the blocking tasks block", task,
				 e2e_num(s, "duration_ns") / 1e6, (int)e2e_num(s, "tid"));
		if (strcmp(task, "blocking_tasks::cpu_task"))
			continue;
		spans[on_second]++;
		if (on_second)
			assert_true(e2e_num(s, "duration_ns") >= 29.5e6);
	}
	if (spans[0] < 5 || spans[1] < 5)
		fail_msg("cpu spans: %zu of the multi-thread runtime, %zu of the current-thread one",
			 spans[0], spans[1]);
	assert_nothing_left(&c);
	cell_free(&c);
}

static int setup(void **state)
{
	ssize_t n = readlink("/proc/self/exe", guard_exe, sizeof guard_exe);

	(void)n;
	snprintf(guard_exe, sizeof guard_exe, "%s", TG_EXE);
	ready = geteuid() == 0 && access(TASKS, X_OK) == 0 && access(SERVER, X_OK) == 0 &&
		access(IDLE, X_OK) == 0 && system("bpftool version >/dev/null 2>&1") == 0 &&
		!getenv("TG_UPROBE_SINGLE");
	{
		char real[4096];

		if (realpath(TG_EXE, real))
			snprintf(guard_exe, sizeof guard_exe, "%s", real);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigint_at_attach),
		cmocka_unit_test(test_sigterm_at_attach),
		cmocka_unit_test(test_sigkill_at_attach),
		cmocka_unit_test(test_sigint_at_ready_wait),
		cmocka_unit_test(test_sigterm_at_ready_wait),
		cmocka_unit_test(test_sigkill_at_ready_wait),
		cmocka_unit_test(test_sigint_at_load),
		cmocka_unit_test(test_sigterm_at_load),
		cmocka_unit_test(test_sigkill_at_load),
		cmocka_unit_test(test_sigint_at_reports),
		cmocka_unit_test(test_sigterm_at_reports),
		cmocka_unit_test(test_sigkill_at_reports),
		cmocka_unit_test(test_target_crash_at_start),
		cmocka_unit_test(test_target_exits_mid_run),
		cmocka_unit_test(test_target_crashes_mid_run),
		cmocka_unit_test(test_target_execs_another_binary),
		cmocka_unit_test(test_target_forks_children),
		cmocka_unit_test(test_target_daemonizes),
		cmocka_unit_test(test_exec_step_hangs_past_timeout),
		cmocka_unit_test(test_exec_step_backgrounds_a_child),
		cmocka_unit_test(test_exec_step_daemonizes),
		cmocka_unit_test(test_report_dir_not_writable),
		cmocka_unit_test(test_report_dir_full),
		cmocka_unit_test(test_two_runs_at_once),
		cmocka_unit_test(test_two_runtimes),
	};

	if (getenv("TG_FAULTS_ONLY")) /* one cell by name (glob) while debugging */
		cmocka_set_test_filter(getenv("TG_FAULTS_ONLY"));
	return cmocka_run_group_tests(tests, setup, NULL);
}
