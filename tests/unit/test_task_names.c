/* Task names hold still: one source (tests/targets/names/src/main.rs), built
 * the ways users ship it (tests/targets/names/build.sh), gives the same task
 * names in every build, and they are the names its source says:
 *   names-d0        debug = 0 (symbols only), legacy mangling   -> vtable/drop glue
 *   names-lt        debug = "line-tables-only", legacy          -> vtable/drop glue
 *   names-d1-thin   debug = 1, thin LTO, legacy                 -> DWARF
 *   v0/names-d2-lto debug = 2, fat LTO, v0 mangling             -> DWARF
 * The expected names below are written from the source, one per spawned
 * future. A missing build skips with a message (CMake target names_target
 * builds them). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "poll_sites.h"
#include "poll_probe.h"

#define DIR TG_BINARY_DIR "/names-target"

extern char **environ;

struct variant {
	const char *path;
	bool dwarf, v0;
};

static const struct variant variants[] = {
	{ DIR "/names-d0/names-target", false, false },
	{ DIR "/names-lt/names-target", true, false },
	{ DIR "/names-d1-thin/names-target", true, false },
	{ DIR "/v0/names-d2-lto/names-target", true, true },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* Every future main.rs spawns on the runtime, by the rule of docs/how-it-works.md
 * ("Task names"): the function it was written in, the user's code a library
 * type carries after it. */
static const char *const expected_runtime[] = {
	"names_target::ticker",                      /* tokio::spawn(ticker(3)) */
	"names_target::serve",                       /* the accept loop */
	"names_target::main",                        /* an async block and a closure's future, in main */
	"names_target::make_job",                    /* a plain fn returning an async block */
	"names_target::jobs::worker",                /* a generic async fn in a module */
	"names_target::Counter::run",                /* an async method */
	"names_target::Timed (names_target::ticker)", /* the user's wrapper around an async fn */
	"tokio::time::timeout::Timeout (names_target::ticker)",
	"hyper::server::conn::http1::Connection (names_target::handle)", /* serve_connection(service_fn(handle)) */
	NULL,
};

/* spawn_blocking closures of the user's own */
static const char *const expected_own_blocking[] = { "names_target::main", NULL };

static struct tg_poll_sites found[NVARIANTS];
static bool have[NVARIANTS];

static void need(size_t v)
{
	if (!have[v]) {
		print_message("skipped: %s is missing (build it: cmake --build BUILD --target names_target)\n",
			      variants[v].path);
		skip();
	}
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static bool has_site(const struct tg_poll_sites *s, int kind, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && strcmp(s->v[i].task_name, name) == 0)
			return true;
	return false;
}

static bool own(const char *name)
{
	return strncmp(name, "names_target::", 14) == 0;
}

/* Each variant is the build it claims to be. */
static void test_variants_are_what_they_claim(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		bool v0 = false;

		need(v);
		assert_int_equal(found[v].has_dwarf, variants[v].dwarf);
		for (size_t i = 0; i < found[v].n; i++)
			v0 |= strncmp(found[v].v[i].symbol, "_R", 2) == 0;
		assert_int_equal(v0, variants[v].v0);
	}
}

/* Every runtime site has one name, and it is one the source gives. */
static void test_runtime_names_from_source(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		need(v);
		for (size_t i = 0; i < found[v].n; i++) {
			const struct tg_poll_site *p = &found[v].v[i];

			if (p->kind != TG_SITE_RUNTIME)
				continue;
			if (!in_list(expected_runtime, p->task_name))
				fail_msg("%s: runtime site %#llx named %s (by %s), not a name from the source",
					 variants[v].path, (unsigned long long)p->addr, p->task_name, p->named_by);
		}
		for (const char *const *e = expected_runtime; *e; e++)
			if (!has_site(&found[v], TG_SITE_RUNTIME, *e))
				fail_msg("%s: no runtime site named %s", variants[v].path, *e);
	}
}

/* The user's spawn_blocking closure is named, on the blocking pool, alike. */
static void test_own_blocking_names(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		need(v);
		for (const char *const *e = expected_own_blocking; *e; e++)
			assert_true(has_site(&found[v], TG_SITE_BLOCKING, *e));
		for (size_t i = 0; i < found[v].n; i++)
			if (found[v].v[i].kind == TG_SITE_BLOCKING && own(found[v].v[i].task_name) &&
			    !in_list(expected_own_blocking, found[v].v[i].task_name))
				fail_msg("%s: blocking site named %s", variants[v].path, found[v].v[i].task_name);
	}
}

/* NAME is one of the "a|b" alternatives of JOINED. */
static bool alternative_of(const char *joined, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = joined; p; p = strchr(p, '|'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == 0 || p[n] == '|'))
			return true;
	return false;
}

/* Tokio's own blocking-pool tasks (the worker launcher, DNS lookups): where
 * a build cannot tell two folded types apart, its "a|b" still holds the name
 * a build with DWARF gives. */
static void test_library_blocking_names_agree(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		need(v);
		for (size_t i = 0; i < found[v].n; i++) {
			const char *name = found[v].v[i].task_name;

			if (found[v].v[i].kind != TG_SITE_BLOCKING || own(name))
				continue;
			assert_null(strstr(name, "tokio::task@"));
			for (size_t w = 0; w < NVARIANTS; w++) {
				bool match = false;

				for (size_t j = 0; j < found[w].n && !match; j++) {
					const char *other = found[w].v[j].task_name;

					match = found[w].v[j].kind == TG_SITE_BLOCKING &&
						(alternative_of(name, other) || alternative_of(other, name));
				}
				if (!match)
					fail_msg("%s names a blocking site %s; %s has nothing like it",
						 variants[v].path, name, variants[w].path);
			}
		}
	}
}

/* The list above is what the program really spawns: it runs every task to
 * completion and says so (its own check, not tokio-guard's). */
static void test_target_runs_its_tasks(void **state)
{
	char *argv[] = { (char *)variants[0].path, "0", NULL };
	posix_spawn_file_actions_t fa;
	char line[256];
	int fds[2], st;
	bool done = false;
	pid_t pid;
	FILE *out;

	(void)state;
	need(0);
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	out = fdopen(fds[0], "r");
	assert_non_null(out);
	while (!done && fgets(line, sizeof(line), out)) {
		print_message("target| %s", line);
		done = strcmp(line, "tasks done: ok\n") == 0;
		assert_true(strcmp(line, "tasks done: failed\n") != 0);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	fclose(out);
	assert_true(done);
}

static int load(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++) {
		char err[512] = "";

		if (access(variants[v].path, X_OK) != 0)
			continue;
		if (tg_find_poll_sites(variants[v].path, &found[v], err, sizeof(err)) != 0) {
			print_message("tg_find_poll_sites(%s): %s\n", variants[v].path, err);
			return -1;
		}
		have[v] = true;
	}
	return 0;
}

static int unload(void **state)
{
	(void)state;
	for (size_t v = 0; v < NVARIANTS; v++)
		if (have[v])
			tg_poll_sites_free(&found[v]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants_are_what_they_claim),
		cmocka_unit_test(test_runtime_names_from_source),
		cmocka_unit_test(test_own_blocking_names),
		cmocka_unit_test(test_library_blocking_names_agree),
		cmocka_unit_test(test_target_runs_its_tasks),
	};

	return cmocka_run_group_tests(tests, load, unload);
}
