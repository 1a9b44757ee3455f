/* End-to-end: `tokio-guard attach PID` on an example server the test started
 * itself, and ad hoc runs (`run -- CMD`). Ground truth is the example's own
 * log of every blocking section (GUARD_EXAMPLE_LOG) and its `// guard:<kind>`
 * marker lines; the server's health is measured by the test's own requests
 * to /hello before, during and after the attach. Needs root; skips otherwise. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"
#include "e2e_truth.h"

#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"
#define TASKS TG_SOURCE_DIR "/examples/target/release/blocking-tasks"
#define KINDS_SRC TG_SOURCE_DIR "/examples/blocking-kinds/src/lib.rs"
#define THRESHOLD_US 10000 /* the default blocking_threshold */
#define ANSWER_TIMEOUT_MS 5000 /* "answers within a few seconds" */

extern char **environ;

static const char *const kinds[] = { "cpu", "sleep", "file", "mutex" };
static const char *const culprit_fn[] = { "blocking_kinds::burn_cpu", "blocking_kinds::sleepy",
					  "blocking_kinds::sync_file_io", "blocking_kinds::lock_shared" };
#define NKINDS 4

static bool have_root;

#define NEED_ROOT() E2E_SKIP_UNLESS(have_root, "needs root and the built examples")

/* ---- processes */

static char **env_with(const char *extra)
{
	size_t n = 0;
	char **v;

	while (environ[n])
		n++;
	v = calloc(n + 2, sizeof(*v));
	assert_non_null(v);
	memcpy(v, environ, n * sizeof(*v));
	v[n] = (char *)extra;
	return v;
}

/* What a test started and the folders it made: the teardown kills and
 * removes what is left, so that a failed assertion leaves no server behind
 * (one holding ctest's output pipe would stall the whole run). */
static pid_t spawned[64];
static size_t nspawned;
static char made[16][64];
static size_t nmade;

static char *made_dir(char *tmpl)
{
	char *d = mkdtemp(tmpl);

	if (d && nmade < 16)
		snprintf(made[nmade++], sizeof(made[0]), "%s", d);
	return d;
}

static int cleanup(void **state)
{
	(void)state;
	for (size_t i = 0; i < nspawned; i++) {
		/* ours and not reaped yet: the pid cannot be another process's */
		kill(-spawned[i], SIGKILL); /* its session: POSIX_SPAWN_SETSID */
		kill(spawned[i], SIGKILL);
		waitpid(spawned[i], NULL, 0);
	}
	nspawned = 0;
	for (size_t i = 0; i < nmade; i++)
		tg_test_rm_rf(made[i]);
	nmade = 0;
	return 0;
}

/* ARGV in a session of its own (no Ctrl-C of ours reaches it), stderr into
 * ERR_PATH (NULL: inherited), EXTRA_ENV added ("K=V" or NULL). */
static pid_t spawn(char *const *argv, const char *extra_env, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char **env = env_with(extra_env);
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (err_path)
		posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawn(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	assert_int_equal(r, 0);
	if (nspawned < 64)
		spawned[nspawned++] = pid;
	return pid;
}

static int reap(pid_t pid)
{
	int st;

	for (size_t i = 0; i < nspawned; i++) /* reaped: no longer the teardown's */
		if (spawned[i] == pid)
			spawned[i] = spawned[--nspawned];

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- HTTP: one GET on a fresh connection, as a client would */

/* The status of GET PATH, or -1 when no answer came within TIMEOUT_MS. */
static int http_get(int port, const char *path, int timeout_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char req[256], buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
		while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = 0;
		if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
			status = -1;
	}
	close(fd);
	return status;
}

static void wait_serving(int port)
{
	for (int i = 0; i < 200; i++) {
		if (http_get(port, "/hello", 1000) == 200)
			return;
		msleep(50);
	}
	fail_msg("the example server on port %d never answered /hello", port);
}

/* /hello every 20 ms from a thread of its own, latency per phase. */
enum { BEFORE, DURING, AFTER, NPHASES };
static const char *const phase_name[] = { "before", "during", "after" };

struct prober {
	int port;
	pthread_t thread;
	atomic_int phase;
	atomic_bool stop;
	long n[NPHASES], failed[NPHASES];
	double max_ms[NPHASES], sum_ms[NPHASES];
};

static void *probe_hello(void *arg)
{
	struct prober *p = arg;

	while (!atomic_load(&p->stop)) {
		int ph = atomic_load(&p->phase);
		double t = now_s(), ms;
		int st = http_get(p->port, "/hello", ANSWER_TIMEOUT_MS);

		ms = (now_s() - t) * 1e3;
		p->n[ph]++;
		if (st != 200)
			p->failed[ph]++;
		else {
			p->sum_ms[ph] += ms;
			if (ms > p->max_ms[ph])
				p->max_ms[ph] = ms;
		}
		msleep(20);
	}
	return NULL;
}

/* ---- BPF links: which uprobe_multi links filter on a pid */

/* struct bpf_link_info's uprobe_multi member (Linux 6.8), which this
 * system's <linux/bpf.h> may predate: type, id, prog_id, then the union. */
struct link_info_um {
	uint32_t type, id, prog_id, pad;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t path_size, count, flags, pid;
	uint8_t rest[64];
};
#define LINK_TYPE_UPROBE_MULTI 12

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/* uprobe_multi links of any process whose filter is PID (what attach leaves, if anything). */
static int uprobe_links_on(pid_t pid)
{
	uint32_t id = 0;
	int n = 0;

	for (;;) {
		union bpf_attr a = { 0 };
		struct link_info_um info = { 0 };
		int fd;

		a.start_id = id;
		if (sys_bpf(BPF_LINK_GET_NEXT_ID, &a))
			break;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.link_id = id;
		fd = (int)sys_bpf(BPF_LINK_GET_FD_BY_ID, &a);
		if (fd < 0)
			continue; /* released meanwhile */
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (uint32_t)fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uint64_t)(uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && info.type == LINK_TYPE_UPROBE_MULTI &&
		    info.pid == (uint32_t)pid)
			n++;
		close(fd);
	}
	return n;
}

/* Links are released as the kernel gets to it: give it a few seconds. */
static int uprobe_links_left(pid_t pid)
{
	int n = uprobe_links_on(pid);

	for (int i = 0; n && i < 100; i++) {
		msleep(50);
		n = uprobe_links_on(pid);
	}
	return n;
}

/* ---- tokio-guard */

/* Waits until ERR_PATH (tokio-guard's stderr) says the probes are on. */
static void wait_attached(const char *err_path, pid_t tg)
{
	for (int i = 0; i < 600; i++) {
		char *text = tg_test_read(err_path, NULL);
		bool on = text && strstr(text, "tokio-guard: attached to pid");

		free(text);
		if (on)
			return;
		if (waitpid(tg, NULL, WNOHANG) == tg)
			fail_msg("tokio-guard ended before it attached (see %s)", err_path);
		msleep(50);
	}
	fail_msg("tokio-guard never said it attached (see %s)", err_path);
}

static cJSON *results_in(const char *out_dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/results.json", out_dir);
	return e2e_load_json(path);
}

/* How long the run took, start to reports. */
static double run_seconds(const cJSON *res)
{
	return e2e_num(cJSON_GetObjectItemCaseSensitive(res, "timing"), "total_ms") / 1e3;
}

static size_t lines_of(const char *text)
{
	size_t n = 0;

	for (const char *p = text; p && *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- spans against the example's own log */

static size_t spans_of(const cJSON *res, const char *task, const cJSON **out, size_t max)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(res, "blocking_spans"))
		if (!strcmp(e2e_str(s, "task"), task) && n < max)
			out[n++] = s;
	return n;
}

/* The span holds the section: its own time (less waits for a CPU) within the
 * tolerance of the section's wall time; kind and culprit line right. */
static void check_span(const cJSON *span, size_t k, const struct e2e_section *sec)
{
	double dur_us = e2e_num(span, "duration_ns") / 1000.0;
	double tol = e2e_tolerance_us((double)sec->wall_us);
	double own_us = dur_us - e2e_num(span, "runqueue_ns") / 1000.0;
	const cJSON *culprit = cJSON_GetObjectItemCaseSensitive(span, "culprit");
	/* by what the section does: a spin is on CPU however long it was preempted
	 * (the wait for a CPU is run-queue time, not off-CPU); sleeps and lock waits
	 * are off CPU; file I/O is both, so its kind is not checked */
	bool file = !strcmp(kinds[k], "file"), on_cpu = !strcmp(kinds[k], "cpu");

	const cJSON *line = cJSON_GetObjectItemCaseSensitive(culprit, "line");

	fprintf(stderr, "  %-5s truth %6ldus (cpu %6ldus)  span %8.0fus  %s:%d %s\n", kinds[k],
		sec->wall_us, sec->cpu_us, dur_us,
		culprit && e2e_str(culprit, "file") ? e2e_str(culprit, "file") : "?",
		cJSON_IsNumber(line) ? (int)line->valuedouble : 0,
		culprit && e2e_str(culprit, "function") ? e2e_str(culprit, "function") : "?");
	if (!cJSON_IsNumber(line)) { /* say which span before the assertions below fail on it */
		char *text = cJSON_Print(span);

		fprintf(stderr, "  span without a culprit line: %.4000s\n", text ? text : "?");
		free(text);
	}
	assert_true(dur_us >= sec->wall_us - tol && own_us <= sec->wall_us + tol);
	if (!file)
		assert_string_equal(e2e_str(span, "kind"), on_cpu ? "on_cpu" : "off_cpu");
	assert_true(cJSON_IsObject(culprit));
	assert_non_null(strstr(e2e_str(culprit, "function"), culprit_fn[k]));
	assert_non_null(strstr(e2e_str(culprit, "file"), "blocking-kinds/src/lib.rs"));
	assert_int_equal((int)e2e_num(culprit, "line"), e2e_marker_line(KINDS_SRC, kinds[k]));
}

/* Every section of LOG (the part logged while probed) at or over the threshold
 * is one span of CRATE::<kind>_task, and there are no other spans of those
 * tasks (nothing from before the attach). How many sections were accounted
 * for: matched, or preempted below the threshold (own time). */
static size_t check_against_log(const cJSON *res, const char *log, const char *crate)
{
	size_t matched = 0;

	for (size_t k = 0; k < NKINDS; k++) {
		struct e2e_section sec[64];
		const cJSON *spans[64];
		bool used[64] = { 0 };
		size_t nt = e2e_sections(log, kinds[k], sec, 64), ns, over = 0;
		char task[96];

		snprintf(task, sizeof(task), "%s::%s_task", crate, kinds[k]);
		ns = spans_of(res, task, spans, 64);
		for (size_t i = 0; i < nt; i++) {
			const cJSON *s;

			if (sec[i].wall_us < THRESHOLD_US)
				continue;
			over++;
			s = e2e_closest_span(spans, used, ns, sec[i].wall_us);
			/* a spin preempted for much of its time may own less than the threshold
			 * (own time, not wall): only one whose own CPU time alone was well over
			 * it must be a span */
			if (!s && !strcmp(kinds[k], "cpu") && sec[i].cpu_us < THRESHOLD_US * 3 / 2) {
				matched++; /* accounted for */
				continue;
			}
			/* file I/O waits for a CPU after each fsync: on a loaded machine what
			 * it owns can stay under the threshold too */
			if (!s && !strcmp(kinds[k], "file") && sec[i].wall_us < THRESHOLD_US * 3) {
				matched++;
				continue;
			}
			if (!s)
				fail_msg("no span for the %s section of %ldus", kinds[k], sec[i].wall_us);
			check_span(s, k, &sec[i]);
			matched++;
		}
		/* a section just under the threshold can make a span just over it */
		for (size_t i = 0; i < ns; i++)
			if (!used[i])
				assert_true(e2e_num(spans[i], "duration_ns") < (THRESHOLD_US + 2000) * 1000.0);
		(void)over;
	}
	return matched;
}

/* "task|culprit function|kind" of every span, sorted, no repeats, in OUT. */
static size_t span_set(const cJSON *res, char out[][256], size_t max)
{
	const cJSON *s;
	size_t n = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(res, "blocking_spans")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "culprit");
		char key[256];
		size_t i;

		const char *task = e2e_str(s, "task");

		/* the blocking endpoints' tasks: a launched run also sees the server's start */
		if (strncmp(task, "blocking_server::", 17) || !strstr(task, "_task"))
			continue;
		snprintf(key, sizeof(key), "%s|%s|%s", task,
			 c && e2e_str(c, "function") ? e2e_str(c, "function") : "?", e2e_str(s, "kind"));
		for (i = 0; i < n && strcmp(out[i], key); i++)
			;
		if (i == n && n < max)
			snprintf(out[n++], 256, "%s", key);
	}
	qsort(out, n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* ---- tests */

static const char *const load_paths[] = {
	"/cpu?ms=20", "/sleep?ms=30", "/mutex?ms=20", "/file?ms=20", "/cpu?ms=40", "/sleep?ms=20",
	"/sleep-ok?ms=20", "/cpu-ok?ms=20",
};

/* The server started by the test, blocking before, during and after an
 * attach: the spans are those of the attached window, the server answers
 * throughout, and no probe is left on it. */
static void test_attach_window_serving_nothing_left(void **state)
{
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", log_env[128], log_path[96], out[96], err[96];
	char port_s[16], pid_s[16], spec[96], *before, *all;
	char *srv_argv[] = { SERVER, "--port", port_s, "--workers", "2", NULL };
	char *tg_argv[] = { TG_EXE, "attach", pid_s, "--duration", "6s", spec, "--out-dir", out,
			    "--no-live", NULL };
	struct prober pr = { 0 };
	const cJSON *target;
	int port = e2e_free_port(), rc, during_links;
	pid_t srv, tg;
	cJSON *res;
	size_t matched;

	NEED_ROOT();
	assert_non_null(made_dir(dir));
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(log_path, sizeof(log_path), "%s/example.log", dir);
	snprintf(log_env, sizeof(log_env), "GUARD_EXAMPLE_LOG=%s", log_path);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	snprintf(spec, sizeof(spec), "%s/attach.yaml", dir);
	/* no target section: attach needs none; a check of our own that passes */
	assert_true(tg_test_write(spec, "version: 1\nname: attached-server\n"
				  "probe: { blocking_threshold: 10ms }\n"
				  "assertions:\n  - task: \"blocking_server::*_ok_task\"\n"
				  "    max_blocking_spans: 0\n"));
	srv = spawn(srv_argv, log_env, NULL);
	wait_serving(port);
	pr.port = port;
	assert_int_equal(pthread_create(&pr.thread, NULL, probe_hello, &pr), 0);
	/* blocking before the attach: in the log, never in the spans */
	assert_int_equal(http_get(port, "/sleep?ms=25", ANSWER_TIMEOUT_MS), 200);
	assert_int_equal(http_get(port, "/cpu?ms=25", ANSWER_TIMEOUT_MS), 200);
	msleep(500);
	before = tg_test_read(log_path, NULL);
	assert_non_null(before);
	assert_int_equal(lines_of(before), 2);

	snprintf(pid_s, sizeof(pid_s), "%d", (int)srv);
	atomic_store(&pr.phase, DURING);
	tg = spawn(tg_argv, NULL, err);
	wait_attached(err, tg);
	during_links = uprobe_links_on(srv);
	for (size_t i = 0; i < sizeof(load_paths) / sizeof(load_paths[0]); i++)
		assert_int_equal(http_get(port, load_paths[i], ANSWER_TIMEOUT_MS), 200);
	rc = reap(tg);
	atomic_store(&pr.phase, AFTER);
	msleep(1000);
	atomic_store(&pr.stop, true);
	pthread_join(pr.thread, NULL);
	for (int ph = 0; ph < NPHASES; ph++)
		fprintf(stderr, "  /hello %-6s: %ld requests, %ld failed, mean %.2f ms, max %.2f ms\n",
			phase_name[ph], pr.n[ph], pr.failed[ph],
			pr.n[ph] > pr.failed[ph] ? pr.sum_ms[ph] / (double)(pr.n[ph] - pr.failed[ph]) : 0,
			pr.max_ms[ph]);

	/* the verdict of the spec's own check; the process lives and answers */
	assert_int_equal(rc, 0);
	assert_int_equal(kill(srv, 0), 0);
	assert_int_equal(waitpid(srv, NULL, WNOHANG), 0);
	assert_int_equal(http_get(port, "/hello", ANSWER_TIMEOUT_MS), 200);
	for (int ph = 0; ph < NPHASES; ph++) {
		assert_true(pr.n[ph] > 0);
		assert_int_equal(pr.failed[ph], 0);
	}
	/* probes on it while attached, none after */
	fprintf(stderr, "  uprobe_multi links on pid %d: %d while attached\n", (int)srv, during_links);
	assert_true(during_links > 0);
	assert_int_equal(uprobe_links_left(srv), 0);

	res = results_in(out);
	assert_non_null(res);
	target = cJSON_GetObjectItemCaseSensitive(res, "target");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(target, "attached")));
	assert_int_equal((int)e2e_num(target, "pid"), (int)srv);
	assert_int_equal((int)e2e_num(cJSON_GetObjectItemCaseSensitive(res, "probe"), "lost_events"), 0);
	all = tg_test_read(log_path, NULL);
	assert_non_null(all);
	matched = check_against_log(res, all + strlen(before), "blocking_server");
	assert_int_equal(matched, 6); /* every blocking request of the window */
	free(all);
	free(before);
	cJSON_Delete(res);
	kill(srv, SIGTERM);
	reap(srv);
}

/* The process ends on its own while attached: the run ends with it, reports
 * written, the verdict its exit code. */
static void test_attach_process_exits_mid_run(void **state)
{
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", log_env[128], log_path[96], out[96], err[96];
	char pid_s[16], *text;
	char *t_argv[] = { TASKS, "--seconds", "3", "--block-ms", "20", NULL };
	char *tg_argv[] = { TG_EXE, "attach", pid_s, "--duration", "120s", "--out-dir", out, NULL };
	const cJSON *target;
	pid_t t, tg;
	cJSON *res;
	int rc;

	NEED_ROOT();
	assert_non_null(made_dir(dir));
	snprintf(log_path, sizeof(log_path), "%s/example.log", dir);
	snprintf(log_env, sizeof(log_env), "GUARD_EXAMPLE_LOG=%s", log_path);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	t = spawn(t_argv, log_env, NULL);
	msleep(300);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)t);
	tg = spawn(tg_argv, NULL, err);
	assert_int_equal(reap(t), 0); /* its parent reaps it, as a shell would */
	rc = reap(tg);
	assert_int_equal(rc, 1); /* the default check: it blocks */
	text = tg_test_read(err, NULL);
	assert_non_null(strstr(text, "exited during the run"));
	free(text);
	res = results_in(out);
	assert_non_null(res);
	target = cJSON_GetObjectItemCaseSensitive(res, "target");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(target, "attached")));
	/* ended by its exit, not by the 120 s */
	assert_true(run_seconds(res) < 60);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "blocking_spans")) > 0);
	assert_int_equal(uprobe_links_left(t), 0);
	cJSON_Delete(res);
}

/* A server in a mount namespace of its own (a container's view), run from a
 * tmpfs mounted only there: its path does not exist for tokio-guard, which
 * reads and probes the binary through /proc/PID/exe. */
static void test_attach_other_mount_namespace(void **state)
{
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", log_env[128], log_path[96], out[96], err[96];
	char port_s[16], pid_s[16], script[768], ns_bin[96];
	char *srv_argv[] = { "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh",
			     "-c", script, NULL };
	char *tg_argv[] = { TG_EXE, "attach", pid_s, "--duration", "3s", "--out-dir", out, NULL };
	int port = e2e_free_port();
	const cJSON *target;
	pid_t srv, tg;
	cJSON *res;
	char *log;

	NEED_ROOT();
	E2E_SKIP_UNLESS(access("/usr/bin/unshare", X_OK) == 0, "needs unshare (util-linux)");
	assert_non_null(made_dir(dir));
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(log_path, sizeof(log_path), "%s/example.log", dir);
	snprintf(log_env, sizeof(log_env), "GUARD_EXAMPLE_LOG=%s", log_path);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	snprintf(ns_bin, sizeof(ns_bin), "%s/ns/blocking-server", dir);
	snprintf(script, sizeof(script),
		 "mkdir -p %s/ns && mount -t tmpfs tg-e2e %s/ns && cp %s %s && exec %s --port %d "
		 "--workers 2", dir, dir, SERVER, ns_bin, ns_bin, port);
	srv = spawn(srv_argv, log_env, NULL);
	wait_serving(port);
	assert_int_not_equal(access(ns_bin, F_OK), 0); /* not in our namespace */
	snprintf(pid_s, sizeof(pid_s), "%d", (int)srv);
	tg = spawn(tg_argv, NULL, err);
	wait_attached(err, tg);
	assert_int_equal(http_get(port, "/sleep?ms=30", ANSWER_TIMEOUT_MS), 200);
	assert_int_equal(http_get(port, "/cpu?ms=20", ANSWER_TIMEOUT_MS), 200);
	assert_int_equal(reap(tg), 1);
	assert_int_equal(http_get(port, "/hello", ANSWER_TIMEOUT_MS), 200);
	res = results_in(out);
	assert_non_null(res);
	target = cJSON_GetObjectItemCaseSensitive(res, "target");
	assert_string_equal(e2e_str(target, "executable"), ns_bin);
	log = tg_test_read(log_path, NULL);
	assert_non_null(log);
	assert_int_equal(check_against_log(res, log, "blocking_server"), 2);
	free(log);
	cJSON_Delete(res);
	kill(srv, SIGTERM);
	reap(srv);
	assert_int_equal(uprobe_links_left(srv), 0);
}

/* tokio-guard's stderr when run with ARGS: one line, containing WANT; its exit code. */
static int one_line_error(char *const *argv, const char *want)
{
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", err[96], *text;
	pid_t tg;
	int rc;

	assert_non_null(made_dir(dir));
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	tg = spawn(argv, NULL, err);
	rc = reap(tg);
	text = tg_test_read(err, NULL);
	assert_non_null(text);
	fprintf(stderr, "  %s", text);
	assert_int_equal(lines_of(text), 1);
	assert_non_null(strstr(text, want));
	assert_true(!strncmp(text, "tokio-guard: ", 13));
	free(text);
	return rc;
}

static void test_attach_errors_one_line(void **state)
{
	char pid_s[16], cmd[256];
	char *sleep_argv[] = { "/bin/sleep", "100", NULL };
	char *true_argv[] = { "/bin/true", NULL };
	char *tg_argv[] = { TG_EXE, "attach", pid_s, "--duration", "2s", NULL };
	char *self_argv[] = { "/bin/sh", "-c", cmd, NULL };
	pid_t p;

	NEED_ROOT();
	/* not a Tokio program: 3, as a binary without poll sites is for run */
	p = spawn(sleep_argv, NULL, NULL);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)p);
	assert_int_equal(one_line_error(tg_argv, "is not a Tokio program"), 3);
	assert_int_equal(kill(p, 0), 0); /* left as it was */
	kill(p, SIGKILL);
	reap(p);
	/* a process that has exited: 4, a target failure */
	p = spawn(true_argv, NULL, NULL);
	reap(p);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)p);
	assert_int_equal(one_line_error(tg_argv, "no process"), 4);
	/* tokio-guard itself: the shell's pid becomes tokio-guard's by exec */
	snprintf(cmd, sizeof(cmd), "exec %s attach $$ --duration 1s", TG_EXE);
	assert_int_equal(one_line_error(self_argv, "tokio-guard itself"), 2);
}

static void test_attach_usage_errors_exit_2(void **state)
{
	char *bad_pid[] = { TG_EXE, "attach", "12x", NULL };
	char *bad_dur[] = { TG_EXE, "attach", "1", "--duration", "10", NULL };
	char *no_cmd[] = { TG_EXE, "run", "--duration", "1s", "--", NULL };
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", err[96], *text;
	char *const *cases[] = { bad_pid, bad_dur, no_cmd };
	const char *want[] = { "bad PID '12x'", "--duration", "no command after '--'" };

	(void)state;
	assert_non_null(made_dir(dir));
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(reap(spawn(cases[i], NULL, err)), 2);
		text = tg_test_read(err, NULL);
		assert_non_null(text);
		assert_non_null(strstr(text, want[i]));
		assert_non_null(strstr(text, "usage: tokio-guard"));
		free(text);
	}
}

/* run -- CMD: no spec; the program's own exit ends the run, the default
 * check decides (it blocks: 1), and every section it logged is a span. */
static void test_adhoc_run_program_exits(void **state)
{
	char dir[] = "/tmp/tg-e2e-adhoc-XXXXXX", log_env[128], log_path[96], out[96], err[96];
	char *argv[] = { TG_EXE, "run", "--duration", "120s", "--out-dir", out, "--quiet", "--",
			 TASKS, "--seconds", "2", "--block-ms", "20", NULL };
	const cJSON *target;
	char *log;
	cJSON *res;

	NEED_ROOT();
	assert_non_null(made_dir(dir));
	snprintf(log_path, sizeof(log_path), "%s/example.log", dir);
	snprintf(log_env, sizeof(log_env), "GUARD_EXAMPLE_LOG=%s", log_path);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/tg.err", dir);
	assert_int_equal(reap(spawn(argv, log_env, err)), 1);
	res = results_in(out);
	assert_non_null(res);
	assert_string_equal(e2e_str(res, "spec"), "(ad hoc)");
	/* the verdict, not a run error */
	assert_true(!e2e_str(res, "error") || !e2e_str(res, "error")[0]);
	target = cJSON_GetObjectItemCaseSensitive(res, "target");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(target, "attached")));
	assert_int_equal((int)e2e_num(cJSON_GetObjectItemCaseSensitive(target, "exit"), "code"), 0);
	assert_true(run_seconds(res) < 60);
	log = tg_test_read(log_path, NULL);
	assert_non_null(log);
	/* cpu, sleep and mutex every round, 20 ms each */
	assert_true(check_against_log(res, log, "blocking_tasks") >= 3 * 5);
	free(log);
	cJSON_Delete(res);
}

/* run --duration D -- CMD: the duration ends it, the program is stopped. */
static void test_adhoc_run_duration_ends_it(void **state)
{
	char dir[] = "/tmp/tg-e2e-adhoc-XXXXXX", out[96];
	char *argv[] = { TG_EXE, "run", "--duration", "2s", "--out-dir", out, "--quiet", "--", TASKS,
			 "--seconds", "300", "--block-ms", "20", NULL };
	cJSON *res;

	NEED_ROOT();
	assert_non_null(made_dir(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(reap(spawn(argv, NULL, NULL)), 1);
	res = results_in(out);
	assert_non_null(res);
	assert_true(run_seconds(res) < 60);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "blocking_spans")) > 0);
	cJSON_Delete(res);
}

/* One spec, run twice under the same load: launched by tokio-guard, and on
 * a server the test started, attached. The same (task, culprit, kind)
 * spans, each matching its own run's log. */
static void test_attached_matches_launched(void **state)
{
	char dir[] = "/tmp/tg-e2e-attach-XXXXXX", spec[96], out_l[96], out_a[96], log_l[96],
	     log_a[128], port_s[16], pid_s[16], *text, *log;
	char *srv_argv[] = { SERVER, "--port", port_s, "--workers", "2", NULL };
	char *run_argv[] = { TG_EXE, "run", spec, "--out-dir", out_l, "--quiet", NULL };
	char *att_argv[] = { TG_EXE, "attach", pid_s, spec, "--out-dir", out_a, "--quiet", NULL };
	static char set_l[32][256], set_a[32][256];
	int port = e2e_free_port();
	size_t nl, na;
	cJSON *rl, *ra;
	pid_t srv;

	NEED_ROOT();
	assert_non_null(made_dir(dir));
	snprintf(spec, sizeof(spec), "%s/guard.yaml", dir);
	snprintf(out_l, sizeof(out_l), "%s/launched", dir);
	snprintf(out_a, sizeof(out_a), "%s/attached", dir);
	snprintf(log_l, sizeof(log_l), "%s/launched.log", dir);
	snprintf(log_a, sizeof(log_a), "GUARD_EXAMPLE_LOG=%s/attached.log", dir);
	snprintf(port_s, sizeof(port_s), "%d", port);
	if (asprintf(&text,
		     "version: 1\nname: same-load\n"
		     "target:\n  command: [\"%s\", \"--port\", \"%d\", \"--workers\", \"2\"]\n"
		     "  env: { GUARD_EXAMPLE_LOG: \"%s\" }\n  ready: { tcp: \"127.0.0.1:%d\" }\n"
		     "load:\n"
		     "  - http: { url: \"http://127.0.0.1:%d/cpu?ms=20\" }\n    requests: 2\n"
		     "  - http: { url: \"http://127.0.0.1:%d/sleep?ms=30\" }\n    requests: 2\n"
		     "  - http: { url: \"http://127.0.0.1:%d/mutex?ms=20\" }\n    requests: 2\n"
		     "  - http: { url: \"http://127.0.0.1:%d/sleep-ok?ms=20\" }\n    requests: 2\n",
		     SERVER, port, log_l, port, port, port, port, port) < 0)
		abort();
	assert_true(tg_test_write(spec, text));
	free(text);
	assert_int_equal(reap(spawn(run_argv, NULL, NULL)), 1);

	srv = spawn(srv_argv, log_a, NULL);
	wait_serving(port);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)srv);
	assert_int_equal(reap(spawn(att_argv, NULL, NULL)), 1);
	assert_int_equal(http_get(port, "/hello", ANSWER_TIMEOUT_MS), 200);
	kill(srv, SIGTERM);
	reap(srv);

	rl = results_in(out_l);
	ra = results_in(out_a);
	assert_non_null(rl);
	assert_non_null(ra);
	fprintf(stderr, "  launched:\n");
	log = tg_test_read(log_l, NULL);
	assert_int_equal(check_against_log(rl, log, "blocking_server"), 6);
	free(log);
	fprintf(stderr, "  attached:\n");
	snprintf(log_l, sizeof(log_l), "%s/attached.log", dir);
	log = tg_test_read(log_l, NULL);
	assert_int_equal(check_against_log(ra, log, "blocking_server"), 6);
	free(log);
	nl = span_set(rl, set_l, 32);
	na = span_set(ra, set_a, 32);
	for (size_t i = 0; i < na; i++)
		fprintf(stderr, "  attached: %s\n", set_a[i]);
	assert_int_equal(nl, na);
	for (size_t i = 0; i < nl; i++)
		assert_string_equal(set_l[i], set_a[i]);
	cJSON_Delete(rl);
	cJSON_Delete(ra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_attach_usage_errors_exit_2, cleanup),
		cmocka_unit_test_teardown(test_attach_errors_one_line, cleanup),
		cmocka_unit_test_teardown(test_attach_window_serving_nothing_left, cleanup),
		cmocka_unit_test_teardown(test_attach_process_exits_mid_run, cleanup),
		cmocka_unit_test_teardown(test_attach_other_mount_namespace, cleanup),
		cmocka_unit_test_teardown(test_adhoc_run_program_exits, cleanup),
		cmocka_unit_test_teardown(test_adhoc_run_duration_ends_it, cleanup),
		cmocka_unit_test_teardown(test_attached_matches_launched, cleanup),
	};

	have_root = geteuid() == 0 && access(SERVER, X_OK) == 0 && access(TASKS, X_OK) == 0;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
