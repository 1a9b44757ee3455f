/* report.html's writer (reporters/report_html.h): the run's data lands in one
 * JSON script tag that no name can close, parses back to what was given, and
 * keeps at most TG_HTML_MAX_SLICES trace slices: every blocking span and load
 * step, then the longest polls. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "report_html.h"
#include "test_files.h"

static char dir[64], page[128];

/* A task name that would end the script, open a comment, or break the JSON. */
#define HOSTILE "evil</script><script>alert(1)</script><!-- \\\"q\\\" &amp; \\u2028"

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tg-report-html-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(page, sizeof page, "%s/report.html", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tg_test_rm_rf(dir) ? 0 : -1;
}

/* The page's data tag, parsed. */
static cJSON *page_data(const char *html)
{
	const char *open = strstr(html, "id=\"tg-data\">"), *close;

	assert_non_null(open);
	open += strlen("id=\"tg-data\">");
	close = strstr(open, "</script>");
	assert_non_null(close);
	/* the only '<' inside the data would be one of ours: there is none */
	assert_null(memchr(open, '<', (size_t)(close - open)));
	return cJSON_ParseWithLength(open, (size_t)(close - open));
}

static void test_names_cannot_close_the_script(void **state)
{
	const char *results = "{\"exit_code\": 1, \"tasks\": [{\"name\": \"" HOSTILE "\"}]}";
	const char *trace = "{\"traceEvents\": [{\"ph\": \"X\", \"tid\": 1, \"ts\": 1.5, \"dur\": 200.0,"
			    " \"name\": \"" HOSTILE "\", \"cat\": \"poll\"}], \"metadata\": {\"pid\": 7}}";
	char err[256], *html;
	cJSON *d;
	const char *name;

	(void)state;
	assert_int_equal(tg_report_html_write_text(page, results, strlen(results), trace, strlen(trace),
						   err, sizeof err), 0);
	html = tg_test_read(page, NULL);
	assert_non_null(html);
	d = page_data(html);
	assert_non_null(d);
	name = cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "results"), "tasks"), 0), "name"));
	assert_non_null(name);
	assert_non_null(strstr(name, "evil</script><script>alert(1)</script><!-- \"q\""));
	name = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(d, "trace"), "traceEvents"), 0), "name"));
	assert_non_null(name);
	assert_non_null(strstr(name, "</script>"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "trace"), "metadata"),
					     "pid")->valueint, 7);
	/* the page itself: its script and style are there, nothing to fetch */
	assert_non_null(strstr(html, "JSON.parse(document.getElementById(\"tg-data\")"));
	assert_null(strstr(html, "src=\"http"));
	assert_null(strstr(html, "href=\"http"));
	cJSON_Delete(d);
	free(html);
}

/* TG_HTML_MAX_SLICES + 5000 polls of growing length, 10 blocking spans among
 * the shortest, 2 load steps, M and C events: all but the shortest polls kept. */
static void test_trace_capped_longest_and_spans_kept(void **state)
{
	size_t n = TG_HTML_MAX_SLICES + 5000, cap = n * 110 + 4096, len = 0;
	char *t = malloc(cap), err[256], *html;
	cJSON *d, *e;
	size_t xs = 0, spans = 0, loads = 0, other = 0;
	double shortest = 1e30;

	(void)state;
	assert_non_null(t);
	len += (size_t)snprintf(t + len, cap - len, "{\"traceEvents\":[\n{\"ph\":\"M\",\"tid\":1,\"name\":"
				"\"thread_name\",\"args\":{\"name\":\"worker 1\"}},\n{\"ph\":\"C\",\"ts\":0,"
				"\"name\":\"polls/s\",\"args\":{\"polls/s\":1}}");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, ",\n{\"ph\":\"X\",\"tid\":1,\"ts\":%zu,\"dur\":%zu.5,"
					"\"name\":\"t\",\"cat\":\"%s\",\"args\":{\"s\":[\"a, b]}\"]}}", i * 1000, i + 1,
					i < 10 ? "blocking" : i < 12 ? "load" : "poll");
	len += (size_t)snprintf(t + len, cap - len, "],\n\"metadata\":{}}\n");
	assert_true(len < cap);
	assert_int_equal(tg_report_html_write_text(page, "{}", 2, t, len, err, sizeof err), 0);
	html = tg_test_read(page, NULL);
	assert_non_null(html);
	d = page_data(html);
	assert_non_null(d);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(d, "trace"), "traceEvents")) {
		const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ph"));
		const char *cat = cJSON_GetStringValue(cJSON_GetObjectItem(e, "cat"));

		if (strcmp(ph, "X") != 0) {
			other++;
			continue;
		}
		xs++;
		spans += strcmp(cat, "blocking") == 0;
		loads += strcmp(cat, "load") == 0;
		if (strcmp(cat, "poll") == 0 && cJSON_GetObjectItem(e, "dur")->valuedouble < shortest)
			shortest = cJSON_GetObjectItem(e, "dur")->valuedouble;
	}
	assert_int_equal(xs, TG_HTML_MAX_SLICES);
	assert_int_equal(spans, 10);
	assert_int_equal(loads, 2);
	assert_int_equal(other, 2);
	/* the polls kept are the longest: 5000 + 12 shortest left out */
	assert_true(shortest == 5000.0 + 12 + 1.5);
	e = cJSON_GetObjectItem(d, "embedded");
	assert_int_equal(cJSON_GetObjectItem(e, "trace_slices")->valueint, (int)n);
	assert_int_equal(cJSON_GetObjectItem(e, "slices")->valueint, TG_HTML_MAX_SLICES);
	cJSON_Delete(d);
	free(html);
	free(t);
}

static void test_bad_input_is_one_line_and_no_file(void **state)
{
	char err[256] = "", bad[200];

	(void)state;
	assert_int_not_equal(tg_report_html_write_text(page, "not json", 8, NULL, 0, err, sizeof err), 0);
	assert_non_null(strstr(err, "report.html"));
	assert_null(strchr(err, '\n'));
	assert_int_not_equal(access(page, F_OK), 0);
	assert_int_not_equal(tg_report_html_write_text(page, "{}", 2, "[1,2", 4, err, sizeof err), 0);
	assert_non_null(strstr(err, "Trace Event Format"));
	assert_int_not_equal(access(page, F_OK), 0);
	snprintf(bad, sizeof bad, "%s/missing.json", dir);
	assert_int_not_equal(tg_report_html_write(page, bad, NULL, err, sizeof err), 0);
	assert_non_null(strstr(err, "missing.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_cannot_close_the_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_capped_longest_and_spans_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_is_one_line_and_no_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
