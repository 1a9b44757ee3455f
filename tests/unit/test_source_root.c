// SPDX-License-Identifier: MIT
/* Where report paths start: GITHUB_WORKSPACE, else the git top level above
 * the spec, else the spec's folder; and a loaded spec carries it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_root.h"
#include "spec.h"
#include "test_files.h"

struct tree {
	char top[64], crate[128], ci[192];
};

/* top/.git (a folder or a worktree's file), top/crate/ci/ */
static void make_tree(struct tree *t, bool git_dir, bool git_file)
{
	char path[256];

	snprintf(t->top, sizeof(t->top), "/tmp/tg-root-XXXXXX");
	assert_non_null(mkdtemp(t->top));
	snprintf(t->crate, sizeof(t->crate), "%s/crate", t->top);
	snprintf(t->ci, sizeof(t->ci), "%s/ci", t->crate);
	assert_int_equal(mkdir(t->crate, 0755), 0);
	assert_int_equal(mkdir(t->ci, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git", t->top);
	if (git_dir)
		assert_int_equal(mkdir(path, 0755), 0);
	if (git_file)
		assert_true(tg_test_write(path, "gitdir: /elsewhere/.git/worktrees/x\n"));
}

static void expect_root(const char *dir, const char *want)
{
	char *root = tg_source_root(dir);

	assert_non_null(root);
	assert_string_equal(root, want);
	free(root);
}

static void test_git_top_level(void **state)
{
	struct tree t;

	(void)state;
	unsetenv("GITHUB_WORKSPACE");
	make_tree(&t, true, false);
	expect_root(t.ci, t.top);
	expect_root(t.top, t.top);
	tg_test_rm_rf(t.top);

	make_tree(&t, false, true); /* a git worktree: .git is a file */
	expect_root(t.ci, t.top);
	tg_test_rm_rf(t.top);
}

/* A spec in no repository (a /tmp folder): the spec's own folder. */
static void test_no_repository(void **state)
{
	struct tree t;

	(void)state;
	unsetenv("GITHUB_WORKSPACE");
	make_tree(&t, false, false);
	expect_root(t.ci, t.ci);
	tg_test_rm_rf(t.top);
}

/* In Actions the workspace wins, even over a nested repository (a submodule),
 * and loses its trailing slash. */
static void test_workspace(void **state)
{
	struct tree t;
	char ws[256];

	(void)state;
	make_tree(&t, true, false);
	snprintf(ws, sizeof(ws), "%s/crate/", t.top);
	setenv("GITHUB_WORKSPACE", ws, 1);
	expect_root(t.ci, t.crate);
	setenv("GITHUB_WORKSPACE", "", 1); /* set but empty: as if unset */
	expect_root(t.ci, t.top);
	unsetenv("GITHUB_WORKSPACE");
	tg_test_rm_rf(t.top);
}

static void test_loaded_spec(void **state)
{
	struct tree t;
	struct tg_spec spec = { 0 };
	char path[256], err[512];

	(void)state;
	unsetenv("GITHUB_WORKSPACE");
	make_tree(&t, true, false);
	snprintf(path, sizeof(path), "%s/guard.yaml", t.ci);
	assert_true(tg_test_write(path, "target:\n  command: /bin/true\n"));
	assert_int_equal(tg_spec_load(path, &spec, err, sizeof(err)), 0);
	assert_string_equal(spec.root, t.top);
	assert_string_equal(spec.dir, t.ci);
	tg_spec_free(&spec);
	tg_test_rm_rf(t.top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_git_top_level),
		cmocka_unit_test(test_no_repository),
		cmocka_unit_test(test_workspace),
		cmocka_unit_test(test_loaded_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
