/* End-to-end: verdicts that must not pass silently. A load step aimed at a
 * port nobody listens on, or one whose every response has the wrong status,
 * is a load failure (exit 4) whose message counts the errors by kind; a
 * failed exec step's last output lines reach the summary, junit.xml and the
 * GitHub annotation; a selector typo after an early end is "not evaluated"
 * with the closest observed task name. Real eBPF against the real
 * blocking-server, real HTTP, reports parsed back. Needs root. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "e2e_util.h"

#define SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"

extern char **environ;

static bool have_root;
static char tmp[] = "/tmp/tg-e2e-verdicts-XXXXXX";

#define NEED_ROOT() E2E_SKIP_UNLESS(have_root, "needs root and the built blocking-server")

struct run {
	char dir[160];
	char spec[200];
	char *err;   /* tokio-guard's stderr */
	char *out;   /* its stdout (GitHub annotations) */
	int rc;
};

/* Writes a spec for blocking-server on a free port (EXTRA: more of its
 * argv, as YAML list items) with LOAD and ASSERTIONS (YAML, "%d" in them
 * replaced by the target's port) and runs it into tmp/NAME. ENV: NULL for ours. */
static void run_spec(struct run *r, const char *name, const char *extra, const char *load,
		     const char *assertions, char *const *env)
{
	int port = e2e_free_port();
	char *yaml, *l, *a, path[224];
	struct e2e_io io = { .env = env };
	const char *args[] = { "run", r->spec, "--out-dir", r->dir, NULL };

	assert_true(port > 0);
	snprintf(r->dir, sizeof r->dir, "%s/%s", tmp, name);
	snprintf(r->spec, sizeof r->spec, "%s/%s.yaml", tmp, name);
	assert_true(asprintf(&l, load, port, port, port) > 0);
	assert_true(asprintf(&a, "%s", assertions) > 0);
	assert_true(asprintf(&yaml,
			     "version: 1\n"
			     "name: %s\n"
			     "target:\n"
			     "  command: [\"%s\", \"--port\", \"%d\", \"--workers\", \"2\"%s]\n"
			     "  ready: { tcp: \"127.0.0.1:%d\", timeout: 20s }\n"
			     "load:\n%s"
			     "assertions:\n%s",
			     name, SERVER, port, extra, port, l, a) > 0);
	assert_true(tg_test_write(r->spec, yaml));
	free(yaml);
	free(l);
	free(a);
	snprintf(path, sizeof path, "%s.stderr", r->dir);
	io.err_path = strdup(path);
	snprintf(path, sizeof path, "%s.stdout", r->dir);
	io.out_path = strdup(path);
	r->rc = e2e_run(TG_EXE, args, &io);
	r->err = tg_test_read(io.err_path, NULL);
	r->out = tg_test_read(io.out_path, NULL);
	assert_non_null(r->err);
	assert_non_null(r->out);
	free((char *)io.err_path);
	free((char *)io.out_path);
}

static void free_run(struct run *r)
{
	free(r->err);
	free(r->out);
}

/* The testcase NAME of DIR/junit.xml: whether it failed or was skipped, and
 * that element's message and text (malloc'd; NULL when absent). */
struct outcome {
	bool found, failed, skipped;
	char *message, *body;
};

static void junit_case(const char *dir, const char *name, struct outcome *o)
{
	char path[224];
	xmlDoc *doc;
	xmlNode *root, *suite, *c;

	memset(o, 0, sizeof *o);
	snprintf(path, sizeof path, "%s/junit.xml", dir);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	for (suite = root->children; suite && suite->type != XML_ELEMENT_NODE; suite = suite->next)
		;
	assert_non_null(suite);
	for (c = suite->children; c; c = c->next) {
		xmlChar *n;

		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "testcase"))
			continue;
		n = xmlGetProp(c, BAD_CAST "name");
		o->found = n && strcmp((const char *)n, name) == 0;
		xmlFree(n);
		if (!o->found)
			continue;
		for (xmlNode *k = c->children; k; k = k->next) {
			xmlChar *m, *b;

			if (k->type != XML_ELEMENT_NODE)
				continue;
			o->failed |= !strcmp((const char *)k->name, "failure");
			o->skipped |= !strcmp((const char *)k->name, "skipped");
			if (!o->failed && !o->skipped)
				continue;
			m = xmlGetProp(k, BAD_CAST "message");
			b = xmlNodeGetContent(k);
			o->message = m ? strdup((const char *)m) : NULL;
			o->body = b ? strdup((const char *)b) : NULL;
			xmlFree(m);
			xmlFree(b);
			break;
		}
		break;
	}
	xmlFreeDoc(doc);
}

static void free_outcome(struct outcome *o)
{
	free(o->message);
	free(o->body);
}

/* results.json's load[] entry NAME: requests and errors. */
static void load_entry(const char *dir, const char *name, double *requests, double *errors)
{
	char path[224], *text;
	cJSON *doc, *e;

	snprintf(path, sizeof path, "%s/results.json", dir);
	text = tg_test_read(path, NULL);
	assert_non_null(text);
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	*requests = *errors = -1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "load")) {
		cJSON *n = cJSON_GetObjectItem(e, "name");
		if (!cJSON_IsString(n) || strcmp(n->valuestring, name))
			continue;
		*requests = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "requests"));
		*errors = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "errors"));
	}
	cJSON_Delete(doc);
	free(text);
}

static int setup(void **state)
{
	(void)state;
	have_root = geteuid() == 0 && access(SERVER, X_OK) == 0;
	if (have_root)
		assert_non_null(mkdtemp(tmp));
	return 0;
}

/* The first case: 20 of 20 connect errors used to pass. */
static void test_wrong_port_is_a_load_failure(void **state)
{
	struct run r;
	struct outcome o;
	int nobody = e2e_free_port(); /* free a moment ago: nobody listens there */
	char load[1024], want[128];
	double requests, errors;

	(void)state;
	NEED_ROOT();
	snprintf(load, sizeof load,
		 "  - name: cpu\n"
		 "    http: { url: \"http://127.0.0.1:%%d/cpu?ms=1\" }\n"
		 "    requests: 2\n"
		 "  - name: wrong-port\n"
		 "    http: { url: \"http://127.0.0.1:%d/\" }\n"
		 "    requests: 20\n"
		 "    concurrency: 4\n", nobody);
	/* a typo in a task selector, after the run ended early */
	run_spec(&r, "wrong-port", "", load,
		 "  - max_blocking_spans: 0\n"
		 "  - task: \"blocking_server::cpu_tsak\"\n"
		 "    max_poll: 1s\n", NULL);
	assert_int_equal(r.rc, 4);
	snprintf(want, sizeof want, "got no successful response: 20 connect errors to http://127.0.0.1:%d/",
		 nobody);
	assert_non_null(strstr(r.err, want));
	assert_null(strstr(r.err, "PASS"));
	junit_case(r.dir, "load: wrong-port", &o);
	assert_true(o.found);
	assert_true(o.failed);
	assert_non_null(strstr(o.message, want));
	free_outcome(&o);
	junit_case(r.dir, "load: cpu", &o);
	assert_true(o.found);
	assert_false(o.failed);
	free_outcome(&o);
	/* the selector matched nothing, but the run ended early: skipped, saying
	 * why, and naming the task it was probably meant for */
	junit_case(r.dir, "max_poll <= 1s [task=blocking_server::cpu_tsak]", &o);
	assert_true(o.found);
	assert_true(o.skipped);
	assert_non_null(strstr(o.message, "not evaluated: load step 'wrong-port' failed: "));
	assert_non_null(strstr(o.message, "did you mean `blocking_server::cpu_task`?"));
	free_outcome(&o);
	load_entry(r.dir, "wrong-port", &requests, &errors);
	assert_true(requests == 20);
	assert_true(errors == 20);
	free_run(&r);
}

/* The second case: every response with the wrong status. */
static void test_wrong_status_fails_the_step(void **state)
{
	struct run r;
	struct outcome o;
	double requests, errors;

	(void)state;
	NEED_ROOT();
	run_spec(&r, "wrong-status", "",
		 "  - name: status\n"
		 "    http: { url: \"http://127.0.0.1:%d/hello\", expect_status: 201 }\n"
		 "    requests: 20\n",
		 "  - max_blocking_spans: 0\n", NULL);
	assert_int_equal(r.rc, 4);
	assert_non_null(strstr(r.err, "got no successful response: 20 status errors (expected 201) to "
				      "http://127.0.0.1:"));
	junit_case(r.dir, "load: status", &o);
	assert_true(o.found);
	assert_true(o.failed);
	assert_non_null(strstr(o.message, "20 status errors (expected 201)"));
	free_outcome(&o);
	/* the server answered every one: 200 where 201 was expected */
	load_entry(r.dir, "status", &requests, &errors);
	assert_true(requests == 20);
	assert_true(errors == 20);
	free_run(&r);
}

static char **github_env(void)
{
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	assert_non_null(env);
	memcpy(env, environ, n * sizeof(*env));
	env[n++] = "GITHUB_ACTIONS=true";
	return env;
}

/* A failed exec step's cause, in its own words, everywhere the failure shows. */
static void test_exec_failure_output_in_every_report(void **state)
{
	struct run r;
	struct outcome o;
	char **env = github_env();

	(void)state;
	NEED_ROOT();
	run_spec(&r, "exec-fails", "",
		 "  - name: warm\n"
		 "    http: { url: \"http://127.0.0.1:%d/hello\" }\n"
		 "    requests: 5\n"
		 "  - name: bench\n"
		 "    exec: [\"/bin/sh\", \"-c\", \"echo connecting; echo 'fatal: no route to the db' >&2; exit 3\"]\n",
		 "  - max_blocking_spans: 0\n", env);
	free(env);
	assert_int_equal(r.rc, 4);
	/* the summary: the last line in the message, the lines under it */
	assert_non_null(strstr(r.err, "failed load: bench: exec step 'bench' exited with code 3: "
				      "fatal: no route to the db\n"));
	assert_non_null(strstr(r.err, "    | connecting\n    | fatal: no route to the db\n"));
	junit_case(r.dir, "load: bench", &o);
	assert_true(o.failed);
	assert_string_equal(o.message, "exec step 'bench' exited with code 3: fatal: no route to the db");
	assert_non_null(strstr(o.body, "connecting\nfatal: no route to the db\n"));
	free_outcome(&o);
	/* the annotation: one line, its line breaks escaped */
	assert_non_null(strstr(r.out, "title=load%3A bench::exec step 'bench' exited with code 3: fatal: no "
				      "route to the db%0A%0Alast output:%0Aconnecting%0Afatal: no route to the db"));
	free_run(&r);
}

/* The target exits at start (an unknown flag: exit 2): every check that
 * needed it says so, none fails as if the selection were wrong. */
static void test_target_exit_at_start_is_not_evaluated(void **state)
{
	struct run r;
	struct outcome o;

	(void)state;
	NEED_ROOT();
	run_spec(&r, "exit-at-start", ", \"--no-such-flag\"",
		 "  - name: traffic\n"
		 "    http: { url: \"http://127.0.0.1:%d/hello\" }\n"
		 "    requests: 5\n",
		 "  - task: \"blocking_server::*\"\n"
		 "    max_poll: 10ms\n"
		 "  - load: traffic\n"
		 "    p99_latency: 50ms\n", NULL);
	assert_int_equal(r.rc, 4);
	assert_non_null(strstr(r.err, "target exited before it was ready: exited with code 2"));
	junit_case(r.dir, "max_poll <= 10ms [task=blocking_server::*]", &o);
	assert_true(o.found);
	assert_true(o.skipped);
	assert_false(o.failed);
	assert_non_null(strstr(o.message, "not evaluated: "));
	assert_non_null(strstr(o.message, "target exited before it was ready: exited with code 2"));
	assert_null(strstr(o.message, "blocking-pool"));
	free_outcome(&o);
	junit_case(r.dir, "p99_latency <= 50ms [load=traffic]", &o);
	assert_true(o.found);
	assert_true(o.skipped);
	assert_non_null(strstr(o.message, "not evaluated: load step 'traffic' never ran: "));
	free_outcome(&o);
	free_run(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_port_is_a_load_failure),
		cmocka_unit_test(test_wrong_status_fails_the_step),
		cmocka_unit_test(test_exec_failure_output_in_every_report),
		cmocka_unit_test(test_target_exit_at_start_is_not_evaluated),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, setup, NULL);
}
