/* junit.xml: a hand-built run (checks of every status, hostile names and
 * messages, spans with stacks) written by tg_junit_write and read back with
 * libxml2's parser: the attributes CI tools read, the failure bodies, the
 * properties, XML-safety of every string, and the atomic write's errors. */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_files.h"
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "checks.h"
#include "junit.h"
#include "load.h"
#include "record.h"
#include "results_json.h"
#include "span_kind.h"
#include "spec.h"

#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif

#define MS 1000000ull
#define T0 5000000000ull
#define SPEC_DIR "/work/proj"

/* Every byte XML or a naive writer could get wrong: quotes, markup, a line
 * break, printf and GitHub specials, a control char, invalid UTF-8, and
 * valid UTF-8 that must survive. */
#define HOSTILE "\"q\" <a&b>\n50%:x,y\x01\xff \xc3\xa9"
/* The same string as it must read back from an attribute. */
#define HOSTILE_ATTR "\"q\" <a&b> 50%:x,y \xc3\xa9"

/* ---- the run ---- */

static struct tg_frame frames_a[] = {
	{ .function = "write", .file = NULL },
	{ .function = "demo::compute_hash", .file = SPEC_DIR "/src/main.rs", .line = 42, .own = true },
	{ .function = "std::thread::sleep", .file = "/rustc/abc/library/std/src/thread/mod.rs", .line = 7 },
	{ .function = "demo::handler", .file = SPEC_DIR "/src/we<i>rd&\"q\".rs", .line = 9, .own = true },
};
static struct tg_frame frames_b[25];
static struct tg_frame culprit_noline = { .function = "demo::warned", .file = SPEC_DIR "/src/w.rs" };

static struct tg_span span_a = {
	.poll = { .tid = 1240, .task_id = 7, .start_ns = T0 + 1234 * MS, .duration_ns = 101 * MS,
		  .off_cpu_ns = 100 * MS },
	.on_cpu_ns = 1 * MS, .frames = frames_a, .nframes = 4, .culprit = 1,
	.task = "demo::\"h\" <a&b>", .kind = TG_BLOCK_SLEEP,
};
static struct tg_span span_b = {
	.poll = { .tid = 1241, .task_id = 8, .start_ns = T0 + 2 * MS, .duration_ns = 30 * MS },
	.on_cpu_ns = 30 * MS, .frames = frames_b, .nframes = 25, .culprit = 0,
	.task = "demo::pbkdf2", .kind = TG_BLOCK_CPU, .allowed = true,
	.allow_function = "ring::*", .allow_reason = "hashing is bounded & <fine>",
};
static const struct tg_span *spans[] = { &span_a, &span_b };

static char *argv_[] = { "./demo", "a b", "it's", "--x=1", "", NULL };
static struct tg_spec spec = {
	.path = "specs/guard.yaml", .dir = SPEC_DIR, .name = "demo " HOSTILE,
	.probe = { .blocking_threshold_ns = 10 * MS },
};
static struct tg_limit lim_max = { .kind = TG_LIM_MAX_POLL, .text = "5ms" };
static struct tg_limit lim_p99 = { .kind = TG_LIM_P99_POLL, .text = "1ms" };
static struct tg_limit lim_reg = { .kind = TG_LIM_MAX_POLL_REGRESSION, .text = "25%" };

static struct tg_task_summary tasks[] = {
	{ .name = "demo::handler", .polls = 100 },
	{ .name = "demo::h2", .polls = 20 },
	{ .name = "blocking", .blocking_pool = true, .polls = 1000 },
};

static struct tg_step_result steps[] = {
	{ .name = "warmup", .ok = false, .error = "exec exited with status 3",
	  .output = "line one\nbad <thing> & \x01\n" },
};

enum { C_FAILED, C_PASSED, C_WARNED, C_SKIPPED, C_PROBE, C_LOAD, C_DUP, NCHECKS };
static struct tg_check checks[NCHECKS];

static void build_checks(void)
{
	struct tg_check *c = checks;

	memset(checks, 0, sizeof(checks));
	c[C_FAILED] = (struct tg_check){ .group = TG_GROUP_ASSERTION, .status = TG_CHECK_FAILED,
		.limit = &lim_max, .observed = "101ms", .limit_text = "5ms", .time_s = 0.101,
		.severity = 20, .worst = { &span_a, &span_b }, .nworst = 2, .culprit = &frames_a[1] };
	snprintf(c[C_FAILED].name, sizeof(c->name), "max_poll <= 5ms [task=%s]", HOSTILE);
	snprintf(c[C_FAILED].classname, sizeof(c->classname), "task=%s", HOSTILE);
	snprintf(c[C_FAILED].message, sizeof(c->message), "max poll 101ms > 5ms in %s", HOSTILE);

	c[C_PASSED] = (struct tg_check){ .group = TG_GROUP_ASSERTION, .status = TG_CHECK_PASSED,
		.limit = &lim_max, .observed = "1ms", .limit_text = "5ms", .time_s = 0.001,
		.name = "max_poll <= 5ms [all]", .classname = "all", .message = "ok: 1ms <= 5ms" };
	c[C_WARNED] = (struct tg_check){ .group = TG_GROUP_ASSERTION, .status = TG_CHECK_WARNED,
		.limit = &lim_p99, .observed = "2ms", .limit_text = "1ms", .time_s = 0.002,
		.name = "p99_poll <= 1ms [task=demo::handler]", .classname = "task=demo::handler",
		.message = "p99 poll 2ms > 1ms\nin demo::handler", .worst = { &span_a }, .nworst = 1,
		.culprit = &culprit_noline };
	c[C_SKIPPED] = (struct tg_check){ .group = TG_GROUP_ASSERTION, .status = TG_CHECK_SKIPPED,
		.limit = &lim_reg, .name = "max_poll_regression <= 25% [task=demo::*]",
		.classname = "task=demo::*", .message = "skipped: no --baseline given" };
	c[C_PROBE] = (struct tg_check){ .group = TG_GROUP_PROBE, .status = TG_CHECK_PASSED,
		.observed = "0", .name = "probe: events lost", .classname = "probe" };
	c[C_LOAD] = (struct tg_check){ .group = TG_GROUP_LOAD, .status = TG_CHECK_FAILED,
		.time_s = 1.5, .name = "load: warmup", .classname = "load",
		.message = "load step warmup could not run" };
	c[C_DUP] = c[C_PASSED];
}

static struct tg_results results;

static void build_results(void)
{
	for (size_t i = 0; i < 25; i++)
		frames_b[i] = (struct tg_frame){ .function = "ring::pbkdf2::derive",
						 .file = SPEC_DIR "/vendor/ring/pbkdf2.rs", .line = (int)i + 1 };
	spec.target.argv = argv_;
	build_checks();
	results = (struct tg_results){
		.spec = &spec, .exe = "/work/proj/target/release/demo", .tokio_version = "1.38.0",
		.t0_ns = T0, .duration_s = 12.5, .steps = steps, .nsteps = 1, .status = 1,
		.kernel = "6.8.0-test", .tasks = tasks, .ntasks = 3, .spans = spans, .nspans = 2,
		.checks = checks, .nchecks = NCHECKS,
	};
}

/* ---- reading it back ---- */

struct fixture {
	char dir[64];
	char path[128];
	xmlDocPtr doc;
	char *raw; /* the file's bytes */
};

static char *slurp(const char *path)
{
	char *text = tg_test_read(path, NULL);

	assert_non_null(text);
	return text;
}

static void write_and_parse(struct fixture *fx)
{
	char err[512] = "";

	assert_int_equal(tg_junit_write(fx->path, &results, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	fx->doc = xmlReadFile(fx->path, NULL, XML_PARSE_NONET);
	assert_non_null(fx->doc); /* a parse error (bad char, bad escape) fails here */
	fx->raw = slurp(fx->path);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tg-junit-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/junit.xml", fx->dir);
	build_results();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	DIR *d = opendir(fx->dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	if (fx->doc)
		xmlFreeDoc(fx->doc);
	free(fx->raw);
	free(fx);
	return 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name, int idx)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0 && idx-- == 0)
			return c;
	return NULL;
}

static int count_children(xmlNodePtr n, const char *name)
{
	int k = 0;

	while (child(n, name, k))
		k++;
	return k;
}

/* The attribute's value (static buffer, "" when absent) and whether it is there. */
static const char *prop(xmlNodePtr n, const char *name)
{
	static char buf[4][2048];
	static int next;
	char *b = buf[next++ % 4];
	xmlChar *v = xmlGetProp(n, BAD_CAST name);

	snprintf(b, sizeof(buf[0]), "%s", v ? (const char *)v : "");
	xmlFree(v);
	return b;
}

static bool has_prop(xmlNodePtr n, const char *name)
{
	return xmlHasProp(n, BAD_CAST name) != NULL;
}

static char *text(xmlNodePtr n)
{
	static char buf[16384];
	xmlChar *v = xmlNodeGetContent(n);

	assert_non_null(v);
	snprintf(buf, sizeof(buf), "%s", (const char *)v);
	xmlFree(v);
	return buf;
}

static xmlNodePtr suite(struct fixture *fx)
{
	xmlNodePtr root = xmlDocGetRootElement(fx->doc);

	assert_non_null(root);
	assert_string_equal((const char *)root->name, "testsuites");
	assert_int_equal(count_children(root, "testsuite"), 1);
	return child(root, "testsuite", 0);
}

static xmlNodePtr testcase(struct fixture *fx, int idx)
{
	xmlNodePtr tc = child(suite(fx), "testcase", idx);

	assert_non_null(tc);
	return tc;
}

/* ---- tests ---- */

static void test_counts(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr root, s;

	write_and_parse(fx);
	root = xmlDocGetRootElement(fx->doc);
	s = suite(fx);
	assert_string_equal(prop(root, "name"), "tokio-guard");
	for (xmlNodePtr n = root; n; n = n == root ? s : NULL) {
		assert_string_equal(prop(n, "tests"), "7");
		assert_string_equal(prop(n, "failures"), "2");
		assert_string_equal(prop(n, "errors"), "0");
		assert_string_equal(prop(n, "skipped"), "2"); /* warned + skipped */
		assert_float_equal(atof(prop(n, "time")), 12.5, 1e-9);
	}
	assert_string_equal(prop(s, "name"), "demo " HOSTILE_ATTR);
	assert_int_equal(strlen(prop(s, "timestamp")), 19); /* 2026-01-02T03:04:05 */
	assert_int_equal(prop(s, "timestamp")[10], 'T');
	assert_true(prop(s, "hostname")[0] != '\0');
	assert_int_equal(count_children(s, "testcase"), NCHECKS);
}

static void test_testcases(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr tc;
	char names[NCHECKS][512];

	write_and_parse(fx);
	tc = testcase(fx, C_FAILED);
	assert_string_equal(prop(tc, "name"), "max_poll <= 5ms [task=" HOSTILE_ATTR "]");
	assert_string_equal(prop(tc, "classname"), "task=" HOSTILE_ATTR);
	assert_string_equal(prop(tc, "time"), "0.101000");
	assert_string_equal(prop(tc, "file"), "src/main.rs"); /* relative to the spec's folder */
	assert_string_equal(prop(tc, "line"), "42");

	tc = testcase(fx, C_PASSED);
	assert_string_equal(prop(tc, "classname"), "all");
	assert_string_equal(prop(tc, "time"), "0.001000");
	assert_false(has_prop(tc, "file"));
	assert_false(has_prop(tc, "line"));
	assert_null(child(tc, "failure", 0));
	assert_null(child(tc, "skipped", 0));
	assert_string_equal(text(child(tc, "system-out", 0)), "ok: 1ms <= 5ms");

	tc = testcase(fx, C_WARNED); /* a file without a line: file only */
	assert_string_equal(prop(tc, "file"), "src/w.rs");
	assert_false(has_prop(tc, "line"));

	tc = testcase(fx, C_PROBE);
	assert_string_equal(prop(tc, "name"), "probe: events lost");
	assert_string_equal(prop(tc, "classname"), "probe");
	assert_string_equal(prop(tc, "time"), "0.000000");
	assert_null(child(tc, "failure", 0));
	assert_null(child(tc, "system-out", 0)); /* no message, nothing to say */

	tc = testcase(fx, C_LOAD);
	assert_string_equal(prop(tc, "name"), "load: warmup");
	assert_string_equal(prop(tc, "time"), "1.500000");
	assert_false(has_prop(tc, "file"));

	/* Names stay unique even when two checks share one. */
	for (int i = 0; i < NCHECKS; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", prop(testcase(fx, i), "name"));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_non_null(strstr(names[C_DUP], checks[C_DUP].name));
}

static void test_failure_body(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr f;
	const char *body;

	write_and_parse(fx);
	f = child(testcase(fx, C_FAILED), "failure", 0);
	assert_non_null(f);
	assert_string_equal(prop(f, "message"), "max poll 101ms > 5ms in " HOSTILE_ATTR);
	assert_string_equal(prop(f, "type"), "tokio-guard.max_poll");
	body = text(f);
	assert_non_null(strstr(body, "observed 101ms, limit 5ms\n"));
	assert_non_null(strstr(body, "#1 101ms off-CPU (sleep) in demo::\"h\" <a&b>, tid 1240, at +1.234s\n"));
	assert_non_null(strstr(body, "   culprit: demo::compute_hash (src/main.rs:42)\n"));
	/* the stack, innermost first; a frame without a file is its function alone */
	assert_non_null(strstr(body, "   write\n   src/main.rs:42 demo::compute_hash\n"
				     "   /rustc/abc/library/std/src/thread/mod.rs:7 std::thread::sleep\n"
				     "   src/we<i>rd&\"q\".rs:9 demo::handler\n"));
	assert_non_null(strstr(body, "#2 30.0ms on-CPU (cpu) in demo::pbkdf2, tid 1241, at +0.002s\n"));
	assert_non_null(strstr(body, "   allowed: hashing is bounded & <fine>\n"));
	assert_non_null(strstr(body, "   vendor/ring/pbkdf2.rs:20 ring::pbkdf2::derive\n"));
	assert_null(strstr(body, "   vendor/ring/pbkdf2.rs:21 ")); /* at most 20 frames */
	assert_non_null(strstr(body, "... 5 more frames"));
	assert_null(strstr(body, SPEC_DIR "/")); /* every path below the spec is relative */
	assert_null(strchr(body, '\x01'));

	/* A failed load step: its error and the tail of its output. */
	f = child(testcase(fx, C_LOAD), "failure", 0);
	assert_non_null(f);
	assert_string_equal(prop(f, "type"), "tokio-guard.load");
	body = text(f);
	assert_non_null(strstr(body, "load step warmup could not run\n"));
	assert_non_null(strstr(body, "error: exec exited with status 3\n"));
	assert_non_null(strstr(body, "bad <thing> & \n"));
}

/* The real path: a failed exec step's check, as tg_assert_eval makes it, in
 * junit.xml: the last output line in the one-line message, the tail in the body. */
static void test_exec_failure_output(void **state)
{
	struct fixture *fx = *state;
	static struct tg_step_result st[] = {
		{ .name = "bench", .kind = TG_STEP_EXEC, .ok = false, .exit_code = 2,
		  .error = "exec step 'bench' exited with code 2",
		  .output = "connecting to 127.0.0.1:1\nerror: Connection refused (os error 111)\n" },
	};
	struct tg_assert_input in = { .spec = &spec, .steps = st, .nsteps = 1, .probed = true,
				      .polls = 10, .tasks = tasks, .ntasks = 2 };
	struct tg_check *c = NULL;
	size_t n = 0;
	xmlNodePtr f = NULL;
	const char *body;

	assert_int_equal(tg_assert_eval(&in, &c, &n), 0);
	results.checks = c;
	results.nchecks = n;
	results.steps = st;
	write_and_parse(fx);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, "load: bench") == 0)
			f = child(testcase(fx, (int)i), "failure", 0);
	assert_non_null(f);
	assert_string_equal(prop(f, "message"),
			    "exec step 'bench' exited with code 2: error: Connection refused (os error 111)");
	body = text(f);
	assert_non_null(strstr(body, "connecting to 127.0.0.1:1\nerror: Connection refused (os error 111)\n"));
	tg_checks_free(c);
	results.checks = checks;
	results.nchecks = NCHECKS;
	results.steps = steps;
}

static void test_warned_skipped(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr tc, sk;
	const char *out;

	write_and_parse(fx);
	tc = testcase(fx, C_WARNED);
	assert_null(child(tc, "failure", 0));
	sk = child(tc, "skipped", 0);
	assert_non_null(sk);
	assert_string_equal(prop(sk, "message"), "warning: p99 poll 2ms > 1ms in demo::handler");
	out = text(child(tc, "system-out", 0));
	assert_non_null(strstr(out, "observed 2ms, limit 1ms\n"));
	assert_non_null(strstr(out, "   culprit: demo::compute_hash (src/main.rs:42)\n"));

	tc = testcase(fx, C_SKIPPED);
	assert_null(child(tc, "failure", 0));
	sk = child(tc, "skipped", 0);
	assert_non_null(sk);
	assert_string_equal(prop(sk, "message"), "skipped: no --baseline given");
}

static void test_properties(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr props;
	static const struct { const char *name, *value; } want[] = {
		{ "tokio-guard.version", TG_VERSION },
		{ "kernel", "6.8.0-test" },
		{ "target.command", "./demo 'a b' 'it'\\''s' --x=1 ''" },
		{ "target.executable", "/work/proj/target/release/demo" },
		{ "tokio.version", "1.38.0" },
		{ "spec", "specs/guard.yaml" },
		{ "exit_code", "1" },
		{ "blocking_threshold", "10.0ms" },
		{ "polls", "120" }, /* runtime polls only */
		{ "blocking_spans", "2" },
	};

	write_and_parse(fx);
	props = child(suite(fx), "properties", 0);
	assert_non_null(props);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;

		for (int k = 0; child(props, "property", k); k++) {
			xmlNodePtr p = child(props, "property", k);

			if (strcmp(prop(p, "name"), want[i].name) == 0) {
				assert_string_equal(prop(p, "value"), want[i].value);
				found = true;
			}
		}
		if (!found)
			fail_msg("property %s missing", want[i].name);
	}
}

static void test_tokio_version_unknown(void **state)
{
	struct fixture *fx = *state;
	xmlNodePtr props;

	results.tokio_version = "";
	write_and_parse(fx);
	props = child(suite(fx), "properties", 0);
	for (int k = 0; child(props, "property", k); k++)
		assert_string_not_equal(prop(child(props, "property", k), "name"), "tokio.version");
}

/* Checks every attribute of every element below N. */
static void no_newline_attrs(xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (xmlAttrPtr a = n->properties; a; a = a->next) {
			const char *v = prop(n, (const char *)a->name);

			if (strpbrk(v, "\n\r\x01"))
				fail_msg("<%s %s=\"%s\"> has a line break", n->name, a->name, v);
		}
		no_newline_attrs(n->children);
	}
}

static void test_xml_safety(void **state)
{
	struct fixture *fx = *state;
	bool in_tag = false;

	write_and_parse(fx);
	no_newline_attrs(xmlDocGetRootElement(fx->doc));
	/* The raw bytes too: text escapes '<', so every '<' opens a tag, and no
	 * tag spans lines; no control character or invalid byte anywhere. */
	for (const unsigned char *p = (const unsigned char *)fx->raw; *p; p++) {
		if (*p == '<')
			in_tag = true;
		else if (*p == '>')
			in_tag = false;
		else if (in_tag && (*p == '\n' || *p == '\r'))
			fail_msg("a tag spans lines at offset %td", (const char *)p - fx->raw);
		assert_false(*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t');
		assert_int_not_equal(*p, 0xff);
	}
	assert_non_null(strstr(fx->raw, "\xc3\xa9")); /* valid UTF-8 is kept */
}

static void test_no_checks(void **state)
{
	struct fixture *fx = *state;

	results.checks = NULL;
	results.nchecks = 0;
	write_and_parse(fx);
	assert_string_equal(prop(suite(fx), "tests"), "0");
	assert_string_equal(prop(suite(fx), "failures"), "0");
	assert_int_equal(count_children(suite(fx), "testcase"), 0);
}

/* Overwrites in place, leaves no temporary file behind. */
static void test_atomic_replace(void **state)
{
	struct fixture *fx = *state;
	char err[256] = "";
	DIR *d;
	struct dirent *e;
	int files = 0;
	struct stat st;

	assert_int_equal(tg_junit_write(fx->path, &results, err, sizeof(err)), 0);
	results.nchecks = 1;
	write_and_parse(fx);
	assert_string_equal(prop(suite(fx), "tests"), "1");
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			files++, assert_string_equal(e->d_name, "junit.xml");
	closedir(d);
	assert_int_equal(files, 1);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(st.st_mode & S_IRUSR);
}

static void test_unwritable(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "", path[256];
	int rc;

	(void)fx;
	rc = tg_junit_write("/nonexistent-tg-dir/sub/junit.xml", &results, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-tg-dir/sub/junit.xml"));
	assert_null(strchr(err, '\n'));

	/* the folder is a regular file */
	snprintf(path, sizeof(path), "%s/file", fx->dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/file/junit.xml", fx->dir);
	err[0] = '\0';
	assert_int_equal(tg_junit_write(path, &results, err, sizeof(err)), -ENOTDIR);
	assert_true(err[0] != '\0');

	err[0] = '\0';
	assert_true(tg_junit_write("", &results, err, sizeof(err)) < 0);
	assert_true(err[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_testcases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warned_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokio_version_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xml_safety, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};
	int rc = cmocka_run_group_tests(t, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
