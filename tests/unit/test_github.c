/* GitHub Actions output read back: workflow-command escaping on hostile
 * strings, annotations parsed line by line (order, cap, properties), and the
 * Markdown step summary parsed as tables (rows, cells, escaping, size cap). */
#define _GNU_SOURCE
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

#include "checks.h"
#include "github.h"
#include "workers.h"
#include "record.h"
#include "results_json.h"
#include "spec.h"

#define MS 1000000ull
#define SPEC_DIR "/home/ci/proj"
#define HOSTILE "a|b `c` <d> & e\\|f\nline2\r%0A 50%:x,y *g* _h_ [i] snake_case"

/* ---- escaping */

static void test_escape_data(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(tg_github_escape_data("50% done\r\nnext: a,b", buf, sizeof(buf)),
			    "50%25 done%0D%0Anext: a,b");
	/* % first: an escape already in the text is not taken as one */
	assert_string_equal(tg_github_escape_data("%0A%25", buf, sizeof(buf)), "%250A%2525");
	assert_string_equal(tg_github_escape_data("", buf, sizeof(buf)), "");
	assert_string_equal(tg_github_escape_data(NULL, buf, sizeof(buf)), "");
	/* truncation never cuts an escape in two */
	assert_string_equal(tg_github_escape_data("ab%cd", buf, 5), "ab");
	assert_string_equal(tg_github_escape_data("%%%", buf, 7), "%25%25");
	assert_null(tg_github_escape_data("x", NULL, 0));
}

static void test_escape_property(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(tg_github_escape_property("src/a,b:c.rs", buf, sizeof(buf)), "src/a%2Cb%3Ac.rs");
	assert_string_equal(tg_github_escape_property("%\r\n:,", buf, sizeof(buf)), "%25%0D%0A%3A%2C");
	assert_string_equal(tg_github_escape_property("max_poll < 5ms [task=a::b]", buf, sizeof(buf)),
			    "max_poll < 5ms [task=a%3A%3Ab]");
	assert_string_equal(tg_github_escape_property("a:b", buf, 4), "a");
}

/* Reverses both escapings into a malloc'd string. */
static char *unescape(const char *s, size_t n)
{
	char *out = calloc(1, n + 1), *o = out;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (s[i] == '%') {
			assert_true(i + 2 < n); /* a whole escape */
			assert_int_equal(sscanf(s + i + 1, "%2x", &v), 1);
			*o++ = (char)v;
			i += 2;
		} else {
			/* an unescaped byte that is special must not appear */
			assert_true(s[i] != '\n' && s[i] != '\r');
			*o++ = s[i];
		}
	}
	return out;
}

/* ---- fixture */

struct fixture {
	struct tg_spec spec;
	struct tg_assertion entry;
	struct tg_check checks[16];
	struct tg_span span[3];
	const struct tg_span *spans[3];
	struct tg_frame frames[3];
	struct tg_task_summary tasks[4];
	struct tg_results r;
};

static void build(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->spec.name = "demo|server";
	x->spec.dir = SPEC_DIR;
	x->spec.path = "ci/guard.yaml";
	x->entry.line = 17;
	/* 0..12: failed (even) or warned (odd), severity i+1; 13..15 passed */
	for (int i = 0; i < 16; i++) {
		struct tg_check *c = &x->checks[i];

		c->status = i >= 13 ? TG_CHECK_PASSED : i % 2 ? TG_CHECK_WARNED : TG_CHECK_FAILED;
		c->severity = 1 + i;
		c->entry = &x->entry;
		snprintf(c->name, sizeof(c->name), "max_poll <= %dms [task=demo::t%d]", i + 1, i);
		snprintf(c->message, sizeof(c->message), "max poll %dms > %dms, 100%%\nnext", 2 * i + 2, i + 1);
		snprintf(c->observed, sizeof(c->observed), "%dms", 2 * i + 2);
		snprintf(c->limit_text, sizeof(c->limit_text), "%dms", i + 1);
	}
	snprintf(x->checks[12].name, sizeof(x->checks[12].name), "%s", HOSTILE);
	for (int i = 0; i < 3; i++) {
		x->frames[i].function = i == 1 ? HOSTILE : "demo::handler";
		x->frames[i].file = i == 1 ? SPEC_DIR "/src/we|ird,na:me.rs" : SPEC_DIR "/src/main.rs";
		x->frames[i].line = 40 + i;
		x->span[i].frames = &x->frames[i];
		x->span[i].nframes = 1;
		x->span[i].culprit = 0;
		x->span[i].kind = i == 0 ? TG_BLOCK_SLEEP : TG_BLOCK_CPU;
		x->span[i].task = i == 2 ? HOSTILE : "demo::handler";
		x->span[i].poll.duration_ns = (uint64_t)(50 - i) * MS;
		x->spans[i] = &x->span[i];
	}
	x->span[2].allowed = true;
	x->span[2].allow_reason = "bounded | by design";
	x->checks[12].culprit = &x->frames[1];
	x->checks[10].culprit = &x->frames[0];
	for (int i = 0; i < 4; i++) {
		x->tasks[i].name = i == 1 ? HOSTILE : "demo::handler";
		x->tasks[i].polls = 1000 - i;
		x->tasks[i].max_ns = 50 * MS;
		x->tasks[i].blocking_pool = i == 3;
	}
	x->r.spec = &x->spec;
	x->r.checks = x->checks;
	x->r.nchecks = 16;
	x->r.spans = x->spans;
	x->r.nspans = 3;
	x->r.tasks = x->tasks;
	x->r.ntasks = 4;
	x->r.status = 1;
	x->r.junit_path = "tokio-guard-out/junit.xml";
	x->r.trace_path = "tokio-guard-out/trace.json";
	x->r.results_path = "tokio-guard-out/results.json";
	x->r.html_path = "tokio-guard-out/report.html";
}

/* ---- annotations */

struct annotation {
	bool error;
	char *file, *title, *message;
	int line;
};

/* "::error file=F,line=L,title=T::MSG" back into its fields. */
static void parse_annotation(const char *l, struct annotation *a)
{
	const char *p, *sep;

	memset(a, 0, sizeof(*a));
	if (strncmp(l, "::error ", 8) == 0) {
		a->error = true;
		p = l + 8;
	} else {
		assert_true(strncmp(l, "::warning ", 10) == 0);
		p = l + 10;
	}
	sep = strstr(p, "::");
	assert_non_null(sep);
	a->message = unescape(sep + 2, strlen(sep + 2));
	while (p < sep) {
		const char *end = memchr(p, ',', (size_t)(sep - p)), *eq = memchr(p, '=', (size_t)(sep - p));
		char *v;

		if (!end)
			end = sep;
		assert_non_null(eq);
		assert_true(eq < end);
		v = unescape(eq + 1, (size_t)(end - eq - 1));
		if (strncmp(p, "file=", 5) == 0)
			a->file = v;
		else if (strncmp(p, "title=", 6) == 0)
			a->title = v;
		else if (strncmp(p, "line=", 5) == 0)
			a->line = atoi(v), free(v);
		else
			fail_msg("unknown property in %s", l);
		p = end + 1;
	}
}

static void free_annotation(struct annotation *a)
{
	free(a->file);
	free(a->title);
	free(a->message);
}

static char *annotate(const struct tg_results *r, size_t *nlines, char ***lines)
{
	char *buf = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	tg_github_annotate(f, r);
	assert_int_equal(fclose(f), 0);
	*lines = calloc(64, sizeof(char *));
	*nlines = 0;
	for (char *l = strtok_r(buf, "\n", &save); l && *nlines < 64; l = strtok_r(NULL, "\n", &save))
		(*lines)[(*nlines)++] = l;
	return buf;
}

/* GitHub places annotations by paths from the repository's root: every
 * path from the source root, not the spec's folder. */
static void test_annotations_in_workspace(void **state)
{
	struct fixture x;
	struct annotation a;
	char **lines, *buf;
	size_t n, culprit = 0, spec = 0;

	(void)state;
	build(&x);
	x.spec.root = "/home/ci"; /* tg_source_root() of GITHUB_WORKSPACE=/home/ci/ */
	buf = annotate(&x.r, &n, &lines);
	assert_true(n > 1);
	for (size_t i = 0; i + 1 < n; i++) {
		parse_annotation(lines[i], &a);
		if (a.line == 40) {
			assert_string_equal(a.file, "proj/src/main.rs");
			culprit++;
		} else if (a.line == 17) {
			assert_string_equal(a.file, "proj/guard.yaml");
			spec++;
		}
		free_annotation(&a);
	}
	assert_true(culprit >= 1 && spec >= 1);
	free(lines);
	free(buf);
}

/* A failed exec step's annotation carries its last output lines (one
 * annotation: the line breaks escaped, as GitHub reads them). */
static void test_annotation_exec_output(void **state)
{
	struct fixture x;
	struct annotation a;
	char **lines, *buf;
	size_t n;

	(void)state;
	build(&x);
	x.r.nchecks = 1;
	x.checks[0].entry = NULL;
	x.checks[0].group = TG_GROUP_LOAD;
	snprintf(x.checks[0].name, sizeof(x.checks[0].name), "load: bench");
	snprintf(x.checks[0].message, sizeof(x.checks[0].message),
		 "exec step 'bench' exited with code 2: error: 100%% refused");
	x.checks[0].output = "connecting\nerror: 100% refused\n";
	buf = annotate(&x.r, &n, &lines);
	assert_int_equal(n, 1);
	parse_annotation(lines[0], &a);
	assert_true(a.error);
	assert_string_equal(a.title, "load: bench");
	assert_string_equal(a.message, "exec step 'bench' exited with code 2: error: 100% refused\n\n"
				       "last output:\nconnecting\nerror: 100% refused\n");
	free_annotation(&a);
	free(lines);
	free(buf);
}

static void test_annotations(void **state)
{
	struct fixture x;
	struct annotation a;
	char **lines, *buf;
	size_t n;
	double last = 1e9;

	(void)state;
	build(&x);
	buf = annotate(&x.r, &n, &lines);
	/* 13 failed or warned: 10 annotations and one line about the other 3 */
	assert_int_equal(n, TG_GITHUB_MAX_ANNOTATIONS + 1);
	for (size_t i = 0; i < TG_GITHUB_MAX_ANNOTATIONS; i++) {
		const struct tg_check *c = NULL;

		parse_annotation(lines[i], &a);
		for (int k = 0; k < 16; k++)
			if (strcmp(x.checks[k].name, a.title) == 0)
				c = &x.checks[k];
		assert_non_null(c);
		/* the 7 errors first, then warnings; by severity within each */
		assert_int_equal(a.error, i < 7);
		assert_int_equal(a.error, c->status == TG_CHECK_FAILED);
		if (i == 7)
			last = 1e9;
		assert_true(c->severity < last);
		last = c->severity;
		assert_int_equal(strncmp(a.message, c->message, strlen(c->message)), 0);
		if (c == &x.checks[12]) {
			/* hostile title and culprit file come back intact, relative to the spec */
			assert_string_equal(a.file, "src/we|ird,na:me.rs");
			assert_int_equal(a.line, 41);
			assert_non_null(strstr(a.message, "(culprit: " HOSTILE " (src/we|ird,na:me.rs:41))"));
		} else if (c == &x.checks[10]) {
			assert_string_equal(a.file, "src/main.rs");
			assert_int_equal(a.line, 40);
		} else {
			/* no culprit: the spec file, at the entry's line, from the spec's
			 * folder when it is in no repository */
			assert_string_equal(a.file, "guard.yaml");
			assert_int_equal(a.line, 17);
			assert_null(strstr(a.message, "culprit"));
		}
		free_annotation(&a);
	}
	parse_annotation(lines[10], &a);
	assert_false(a.error);
	assert_true(strncmp(a.message, "3 more", 6) == 0);
	free_annotation(&a);
	free(lines);
	free(buf);

	/* nothing failed: nothing written */
	x.r.nchecks = 0;
	buf = annotate(&x.r, &n, &lines);
	assert_int_equal(n, 0);
	free(lines);
	free(buf);
}

/* ---- the step summary */

static char *read_all(const char *path, size_t *len)
{
	char *text = tg_test_read(path, len);

	assert_non_null(text);
	return text;
}

/* Cells of a table row: the pipes that are not escaped. -1 when not a row. */
static int cells(const char *l)
{
	int pipes = 0;

	if (l[0] != '|')
		return -1;
	for (const char *p = l; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		pipes += *p == '|';
	}
	return pipes - 1;
}

struct table {
	int rows;     /* data rows (not header or delimiter) */
	int columns;  /* of the header */
	bool more;    /* a "... N more rows" line follows */
};

/* The table under the "### TITLE..." heading in the COPY-th summary of TEXT. */
static struct table table_after(const char *text, const char *title, int copy)
{
	struct table t = { 0, -1, false };
	const char *p = text;
	char *buf, *save = NULL;
	int line = 0;

	for (int i = 0; i <= copy; i++) {
		p = strstr(p, "## tokio-guard:");
		assert_non_null(p);
		p++;
	}
	p = strstr(p, title);
	assert_non_null(p);
	buf = strdup(p);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
		if (line == 0)
			continue;
		if (strncmp(l, "##", 2) == 0 || strncmp(l, "Reports", 7) == 0)
			break;
		if (strncmp(l, "... ", 4) == 0) {
			t.more = true;
			continue;
		}
		if (t.columns < 0) {
			t.columns = cells(l);
			continue;
		}
		if (strncmp(l, "|---", 4) == 0 || strncmp(l, "|--", 3) == 0)
			continue;
		/* every row has exactly the header's cells: no pipe leaked */
		assert_int_equal(cells(l), t.columns);
		t.rows++;
	}
	free(buf);
	return t;
}

static void temp_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/tg-gh-summary-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static void test_summary_tables(void **state)
{
	struct fixture x;
	char path[64], err[256] = "", *text;
	size_t len;
	struct table t;

	static const struct tg_worker_util w[] = {
		{ .tid = 41, .name = "tokio-rt-worker", .busy_pct = 60.25, .blocked_pct = 20, .idle_pct = 39.75 },
		{ .tid = 42, .name = "a|b", .busy_pct = 10, .idle_pct = 90 },
	};

	(void)state;
	build(&x);
	x.r.workers = w;
	x.r.nworkers = 2;
	temp_path(path, sizeof(path));
	assert_int_equal(tg_github_summary(path, &x.r, err, sizeof(err)), 0);
	x.spec.name = "second";
	x.r.status = 0;
	for (int i = 0; i < 13; i++)
		x.checks[i].status = TG_CHECK_PASSED;
	assert_int_equal(tg_github_summary(path, &x.r, err, sizeof(err)), 0);
	text = read_all(path, &len);

	/* both appended, in order, each with its verdict; the name's pipe escaped */
	assert_non_null(strstr(text, "## tokio-guard: demo\\|server - failed\n"));
	assert_non_null(strstr(text, "## tokio-guard: second - passed\n"));
	assert_true(strstr(text, "demo\\|server") < strstr(text, "## tokio-guard: second"));
	assert_non_null(strstr(text, "3 passed, 7 failed, 6 warned, 0 skipped"));
	for (int copy = 0; copy < 2; copy++) {
		t = table_after(text, "### Assertions", copy);
		assert_int_equal(t.columns, 5);
		assert_int_equal(t.rows, 16);
		assert_false(t.more);
		t = table_after(text, "### Worst blocking spans", copy);
		assert_int_equal(t.columns, 6);
		assert_int_equal(t.rows, 3);
		t = table_after(text, "### Task polls", copy);
		assert_int_equal(t.columns, 6);
		assert_int_equal(t.rows, 3); /* the blocking-pool task is left out */
		t = table_after(text, "### Workers", copy);
		assert_int_equal(t.columns, 5);
		assert_int_equal(t.rows, 2);
	}
	assert_non_null(strstr(text, "| tokio-rt-worker | 41 | 60.2% | 20.0% | 39.8% |"));
	assert_non_null(strstr(text, "| a\\|b | 42 | 10.0% | 0.0% | 90.0% |"));
	/* hostile text: escaped, on one line, no raw HTML */
	/* (an underscore inside a word cannot make emphasis: left as it is) */
	assert_non_null(strstr(text, "a\\|b \\`c\\` &lt;d&gt; &amp; e\\\\\\|f line2 %0A 50%:x,y \\*g\\* \\_h\\_ \\[i\\] snake_case"));
	assert_null(strstr(text, "<d>"));
	assert_non_null(strstr(text, "| **failed** |"));
	/* culprit locations relative to the spec, in code spans */
	assert_non_null(strstr(text, "| `src/main.rs:40` |"));
	assert_non_null(strstr(text, "| `src/we\\|ird,na:me.rs:41` |"));
	assert_null(strstr(text, SPEC_DIR));
	assert_non_null(strstr(text, "yes: bounded \\| by design"));
	assert_non_null(strstr(text, "`tokio-guard-out/junit.xml`, `tokio-guard-out/trace.json`, "
				     "`tokio-guard-out/results.json`"));
	free(text);
	unlink(path);
}

static void test_summary_size_cap(void **state)
{
	enum { N = 5000 };
	struct fixture x;
	struct tg_check *checks = calloc(N, sizeof(*checks));
	struct tg_task_summary *tasks = calloc(N, sizeof(*tasks));
	char *name = malloc(4000), path[64], err[256] = "", *text;
	size_t len;
	struct table t;

	(void)state;
	assert_non_null(checks);
	assert_non_null(tasks);
	assert_non_null(name);
	memset(name, '|', 3999);
	name[3999] = '\0';
	build(&x);
	for (int i = 0; i < N; i++) {
		checks[i].status = TG_CHECK_FAILED;
		memset(checks[i].name, '<', sizeof(checks[i].name) - 1);
		memset(checks[i].message, '|', sizeof(checks[i].message) - 1);
		tasks[i].name = name;
		tasks[i].polls = 1;
	}
	x.r.checks = checks;
	x.r.nchecks = N;
	x.r.tasks = tasks;
	x.r.ntasks = N;
	temp_path(path, sizeof(path));
	assert_int_equal(tg_github_summary(path, &x.r, err, sizeof(err)), 0);
	text = read_all(path, &len);
	assert_true(len < TG_GITHUB_SUMMARY_MAX);
	assert_true(len > TG_GITHUB_SUMMARY_MAX / 2);
	t = table_after(text, "### Assertions", 0);
	assert_true(t.more);
	assert_true(t.rows > 100 && t.rows < N);
	assert_non_null(strstr(text, "... "));
	/* the artifacts line survives the cut */
	assert_non_null(strstr(text, "`tokio-guard-out/results.json`"));
	assert_non_null(strstr(text, "`tokio-guard-out/report.html`"));
	assert_non_null(strstr(text, "Open report.html from the run's artifact"));
	free(text);

	/* the file is already near the limit: nothing appended, one line why */
	assert_int_equal(tg_github_summary(path, &x.r, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, path));
	assert_null(strchr(err, '\n'));
	free(read_all(path, &len));
	assert_true(len < TG_GITHUB_SUMMARY_MAX);
	unlink(path);

	/* 5000 small tasks: 50 rows and a line for the rest */
	x.r.checks = x.checks;
	x.r.nchecks = 16;
	for (int i = 0; i < N; i++)
		tasks[i].name = "demo::t";
	temp_path(path, sizeof(path));
	assert_int_equal(tg_github_summary(path, &x.r, err, sizeof(err)), 0);
	text = read_all(path, &len);
	t = table_after(text, "### Task polls", 0);
	assert_int_equal(t.rows, 50);
	assert_true(t.more);
	assert_non_null(strstr(text, "... 4950 more rows"));
	free(text);
	unlink(path);

	/* a folder that does not exist: -ENOENT and one line naming the file */
	assert_int_equal(tg_github_summary("/nonexistent-tg/summary.md", &x.r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-tg/summary.md"));
	free(checks);
	free(tasks);
	free(name);
}

static void test_active(void **state)
{
	(void)state;
	setenv("GITHUB_ACTIONS", "true", 1);
	assert_true(tg_github_active());
	setenv("GITHUB_ACTIONS", "false", 1);
	assert_false(tg_github_active());
	unsetenv("GITHUB_ACTIONS");
	assert_false(tg_github_active());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_data),
		cmocka_unit_test(test_escape_property),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_annotation_exec_output),
		cmocka_unit_test(test_annotations_in_workspace),
		cmocka_unit_test(test_summary_tables),
		cmocka_unit_test(test_summary_size_cap),
		cmocka_unit_test(test_active),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
