/* End-to-end: Tokio servers nobody here wrote, installed unmodified from
 * crates.io at pinned versions (tests/thirdparty/install.sh, the CMake step
 * "thirdparty"), each run under tokio-guard with its spec from
 * tests/thirdparty and driven by real clients: simple-http-server by HTTP
 * requests at a bounded rate, bore by its own `bore local` with wrk through
 * the tunnel. Well-behaved servers built as users build them (no frame
 * pointers, no debug info), so: every assertion of the spec passes (no blocking span, max_poll 5ms, a
 * function selector on the server's own code), tasks carry the server's own
 * names, no event is lost. The load's own counts (the requests made, the
 * connections opened) are the ground truth for the selector.
 *
 * bore's control port is fixed (7835), so the test runs in a network
 * namespace of its own: loopback only, no port shared with anything else on
 * the machine. Needs root; skips otherwise, or when the servers were not
 * installed. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "e2e_util.h"

#define SPEC_DIR TG_SOURCE_DIR "/tests/thirdparty"
#define BIN_DIR TG_BINARY_DIR "/thirdparty/bin"
#define NPORTS 2

struct server {
	const char *spec;          /* in tests/thirdparty */
	const char *bin;           /* in BIN_DIR */
	const char *crate;         /* the prefix of the server's own task names */
	const char *ports[NPORTS]; /* port numbers in the spec, each replaced by a free port */
	const char *files[3];      /* what the spec uses beside it */
	const char *function;      /* the spec's function selector */
	long min_function_polls;   /* polls that selector must see at least */
	long http_requests;        /* the spec's http step makes exactly these; 0: wrk runs */
	/* the run */
	char dir[64];
	int status;
	cJSON *results;
	long wrk_requests;
};

static struct server servers[] = {
	{
		.spec = "simple-http-server.yaml", .bin = "simple-http-server",
		.crate = "simple_http_server::", .ports = { "18080" }, .files = { "www" },
		/* one call per listing; a poll can serve two keep-alive requests (the next
		 * arrived while it ran): half of the 6000 at least */
		.function = "simple_http_server::handlers::list_directory*",
		.min_function_polls = 3000, .http_requests = 6000,
	},
	{
		.spec = "bore.yaml", .bin = "bore", .crate = "bore_cli::",
		.ports = { "18081", "18082" }, .files = { "www", "bore-traffic.sh" },
		/* every control connection reads its first message through recv_timeout: the
		 * tunnel's own, the readiness curl's and wrk's 4 */
		.function = "bore_cli::shared::Delimited*::recv_timeout*", .min_function_polls = 6,
	},
};
#define NSERVERS (sizeof(servers) / sizeof(servers[0]))

/* TG_THIRDPARTY_INSTALLED: this build has the step that installs them, so
 * their absence is a failure, not a reason to skip. */
#ifndef TG_THIRDPARTY_INSTALLED
#define TG_THIRDPARTY_INSTALLED 0
#endif

static bool have_root, have_servers;

#define NEED_ROOT()                                                                          \
	do {                                                                                 \
		if (have_root && !have_servers && TG_THIRDPARTY_INSTALLED)                   \
			fail_msg("the servers are not in " BIN_DIR ": build the target "     \
				 "thirdparty (tests/thirdparty/install.sh)");                \
		E2E_SKIP_UNLESS(have_root && have_servers,                                   \
				"needs root and the servers in " BIN_DIR                     \
				" (the build step thirdparty, which needs cargo)");          \
	} while (0)

/* ---- helpers */

/* A network namespace with only loopback, up: bore's fixed control port can
 * clash with nothing. False when the kernel or our privileges refuse. */
static bool private_network(void)
{
	struct ifreq ifr = { 0 };
	int fd;
	bool ok;

	if (unshare(CLONE_NEWNET))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* TEXT with every FROM replaced by TO (a new string). */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), n = 0;
	const char *p, *q;
	char *out, *o;

	for (p = text; (q = strstr(p, from)); p = q + nf)
		n++;
	out = malloc(strlen(text) + n * nt + 1);
	assert_non_null(out);
	for (p = text, o = out; (q = strstr(p, from)); p = q + nf) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, nt);
		o += nt;
	}
	strcpy(o, p);
	return out;
}

/* The spec's paths are relative to its folder (../../build/thirdparty/bin/...):
 * a copy of that layout under DIR, with the spec's ports replaced, the files
 * beside it and build/ linked to this build tree. */
static char *stage(struct server *s)
{
	char path[256], src[256], port[16], *text, *t;
	int used[NPORTS] = { 0 };

	snprintf(path, sizeof(path), "%s/tests/thirdparty", s->dir);
	snprintf(src, sizeof(src), "%s/tests", s->dir);
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/build", s->dir);
	assert_int_equal(symlink(TG_BINARY_DIR, path), 0);
	for (size_t i = 0; i < 3 && s->files[i]; i++) {
		snprintf(src, sizeof(src), SPEC_DIR "/%s", s->files[i]);
		snprintf(path, sizeof(path), "%s/tests/thirdparty/%s", s->dir, s->files[i]);
		assert_int_equal(symlink(src, path), 0);
	}
	snprintf(src, sizeof(src), SPEC_DIR "/%s", s->spec);
	text = tg_test_read(src, NULL);
	assert_non_null(text);
	for (int i = 0; i < NPORTS && s->ports[i]; i++) {
		assert_non_null(strstr(text, s->ports[i]));
		do
			used[i] = e2e_free_port();
		while (i > 0 && used[i] == used[i - 1]);
		snprintf(port, sizeof(port), "%d", used[i]);
		t = replace_all(text, s->ports[i], port);
		free(text);
		text = t;
	}
	snprintf(path, sizeof(path), "%s/tests/thirdparty/%s", s->dir, s->spec);
	assert_true(tg_test_write(path, text));
	free(text);
	return strdup(path);
}

/* wrk's "N requests in 3.00s" from the run's output: what the client saw.
 * --quiet keeps exec steps' output off the terminal: results.json's load
 * step output (its tail) has it. */
static long wrk_requests(const char *dir)
{
	static const char *const logs[] = { "stdout.log", "stderr.log", "out/results.json" };
	char path[128], *text, *p;
	long n = -1;

	for (size_t i = 0; i < 3 && n < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, logs[i]);
		text = tg_test_read(path, NULL);
		for (p = text; p && (p = strstr(p, " requests in ")); p++) {
			const char *b = p;

			while (b > text && b[-1] >= '0' && b[-1] <= '9')
				b--;
			if (b < p)
				n = strtol(b, NULL, 10);
		}
		free(text);
	}
	return n;
}

static void run_server(struct server *s)
{
	char out[128], log_out[128], log_err[128], path[160], *spec, *text;
	const char *args[] = { "run", NULL, "--out-dir", out, "--quiet", NULL };
	struct e2e_io io = { .out_path = log_out, .err_path = log_err };

	snprintf(s->dir, sizeof(s->dir), "/tmp/tg-e2e-thirdparty-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	spec = stage(s);
	snprintf(out, sizeof(out), "%s/out", s->dir);
	snprintf(log_out, sizeof(log_out), "%s/stdout.log", s->dir);
	snprintf(log_err, sizeof(log_err), "%s/stderr.log", s->dir);
	args[1] = spec;
	s->status = e2e_run(TG_EXE, args, &io);
	free(spec);
	snprintf(path, sizeof(path), "%s/out/results.json", s->dir);
	text = tg_test_read(path, NULL);
	s->results = text ? cJSON_Parse(text) : NULL;
	free(text);
	s->wrk_requests = wrk_requests(s->dir);
}

static const cJSON *item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		fail_msg("results.json: no \"%s\"", key);
	return v;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* The worst poll, own time and wall time, for the log (wall appears once
 * results.json has it): how far a CPU shared with the client stretched it. */
static void describe(const struct server *s)
{
	const cJSON *t, *worst = NULL;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s->results, "tasks"))
		if (!worst || num(t, "max_poll_ns") > num(worst, "max_poll_ns"))
			worst = t;
	fprintf(stderr, "thirdparty: %s: exit %d, ", s->spec, s->status);
	if (s->wrk_requests >= 0)
		fprintf(stderr, "%ld wrk requests, ", s->wrk_requests);
	fprintf(stderr, "worst poll ");
	if (!worst) {
		fprintf(stderr, "none\n");
		return;
	}
	fprintf(stderr, "%.3f ms", num(worst, "max_poll_ns") / 1e6);
	if (cJSON_GetObjectItemCaseSensitive(worst, "max_poll_wall_ns"))
		fprintf(stderr, " own, %.3f ms wall", num(worst, "max_poll_wall_ns") / 1e6);
	fprintf(stderr, " in %s\n", str(worst, "name"));
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s->results, "tasks"))
		fprintf(stderr, "thirdparty: %s:   task %s (%s): %.0f polls\n", s->spec, str(t, "name"),
			str(t, "kind"), num(t, "polls"));
}

static int setup(void **state)
{
	(void)state;
	have_root = geteuid() == 0;
	have_servers = true;
	for (size_t i = 0; i < NSERVERS; i++) {
		char path[256];

		snprintf(path, sizeof(path), BIN_DIR "/%s", servers[i].bin);
		have_servers = have_servers && access(path, X_OK) == 0;
	}
	if (!have_root || !have_servers)
		return 0;
	if (!private_network())
		fprintf(stderr, "thirdparty: no network namespace of our own (unshare: %m); "
				"bore needs port 7835 free on this machine\n");
	for (size_t i = 0; i < NSERVERS; i++) {
		run_server(&servers[i]);
		if (servers[i].results)
			describe(&servers[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSERVERS; i++)
		cJSON_Delete(servers[i].results);
	return 0;
}

static const cJSON *results_of(const struct server *s)
{
	if (!s->results)
		fail_msg("%s: no results.json (exit %d; logs in %s)", s->spec, s->status, s->dir);
	return s->results;
}

/* ---- the tests */

/* Every check of the spec passed, and the spec still asks what it must. */
static void test_spec_passes(void **state)
{
	static const char *const wanted[] = { "max_blocking_spans <= 0 [all]", "max_poll <= 5ms [all]",
					      "[function=" };

	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < NSERVERS; i++) {
		const struct server *s = &servers[i];
		const cJSON *a, *checks = item(results_of(s), "assertions");
		int found[3] = { 0 };

		cJSON_ArrayForEach(a, checks) {
			const char *name = str(a, "name");

			if (strcmp(str(a, "status"), "passed"))
				print_error("%s: %s: %s: %s\n", s->spec, name, str(a, "status"),
					    str(a, "message"));
			for (size_t k = 0; k < 3; k++)
				found[k] += strstr(name, wanted[k]) && !strcmp(str(a, "status"), "passed");
		}
		for (size_t k = 0; k < 3; k++)
			if (!found[k])
				fail_msg("%s: no passing check \"%s\"", s->spec, wanted[k]);
		assert_int_equal(s->status, 0);
	}
}

/* Poll sites found; every task named (no "?"), the server's own among them. */
static void test_named_tasks(void **state)
{
	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < NSERVERS; i++) {
		const struct server *s = &servers[i];
		const cJSON *r = results_of(s), *t;
		int own = 0, n = 0;

		assert_true(num(item(r, "probe"), "poll_sites") >= 1);
		cJSON_ArrayForEach(t, item(r, "tasks")) {
			const char *name = str(t, "name");

			n++;
			if (!*name || strchr(name, '?') || !strstr(name, "::"))
				fail_msg("%s: a task without a real name: \"%s\"", s->spec, name);
			if (strcmp(str(t, "kind"), "runtime") && strcmp(str(t, "kind"), "block_on"))
				fail_msg("%s: task %s of kind %s", s->spec, name, str(t, "kind"));
			own += !strncmp(name, s->crate, strlen(s->crate)) && num(t, "polls") >= 1;
		}
		if (n == 0 || own == 0)
			fail_msg("%s: %d tasks, none of the server's own (%s*)", s->spec, n, s->crate);
	}
}

static void test_no_blocking(void **state)
{
	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < NSERVERS; i++) {
		const cJSON *r = results_of(&servers[i]), *t;

		assert_int_equal(cJSON_GetArraySize(item(r, "blocking_spans")), 0);
		cJSON_ArrayForEach(t, item(r, "tasks"))
			assert_int_equal(num(t, "blocking_spans"), 0);
	}
}

static void test_no_lost_events(void **state)
{
	static const char *const counters[] = { "ringbuf_full_poll", "ringbuf_full_sample",
						"ringbuf_full_offcpu", "user_dropped" };

	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < NSERVERS; i++) {
		const cJSON *probe = item(results_of(&servers[i]), "probe"), *stats = item(probe, "stats");

		assert_int_equal(num(probe, "lost_events"), 0);
		for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
			if (num(stats, counters[k]) != 0)
				fail_msg("%s: probe.stats.%s = %.0f", servers[i].spec, counters[k],
					 num(stats, counters[k]));
		assert_true(num(probe, "polls") >= 1);
	}
}

/* The load got through (wrk counted requests, or the http step made all its
 * requests without an error), and the function selector found the server's
 * function and saw at least the polls that load implies. */
static void test_function_selector(void **state)
{
	(void)state;
	NEED_ROOT();
	for (size_t i = 0; i < NSERVERS; i++) {
		const struct server *s = &servers[i];
		const cJSON *f, *sel = NULL;
		const cJSON *step;

		if (!s->http_requests && s->wrk_requests <= 0)
			fail_msg("%s: wrk reported no requests (logs in %s)", s->spec, s->dir);
		cJSON_ArrayForEach(step, item(results_of(s), "load"))
			if (s->http_requests && !strcmp(str(step, "kind"), "http")) {
				assert_int_equal(num(step, "requests"), s->http_requests);
				assert_int_equal(num(step, "errors"), 0);
			}
		cJSON_ArrayForEach(f, item(results_of(s), "function_selectors"))
			if (!strcmp(str(f, "function"), s->function))
				sel = f;
		if (!sel)
			fail_msg("%s: no function selector %s in results.json", s->spec, s->function);
		assert_true(num(sel, "symbols_probed") >= 1);
		if (num(sel, "polls") < (double)s->min_function_polls)
			fail_msg("%s: %s: %.0f polls, the load implies at least %ld", s->spec, s->function,
				 num(sel, "polls"), s->min_function_polls);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_passes),
		cmocka_unit_test(test_named_tasks),
		cmocka_unit_test(test_no_blocking),
		cmocka_unit_test(test_no_lost_events),
		cmocka_unit_test(test_function_selector),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
